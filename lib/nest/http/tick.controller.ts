import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Post, Put, Query, UseFilters, UseGuards, UsePipes, ValidationPipe, type Type } from '@nestjs/common';
import type { CancelResult, RetryResult, RunCounts, RunPage, RunView, ScheduleView, TriggerItem, TriggerResult } from '../../engine';
import { ScheduleDto } from './dto/schedule.dto';
import { ScheduleBodyGuard } from './schedule-body.guard';
import { CancelRunDto } from './dto/cancel-run.dto';
import { TickService } from '../tick.service';
import { ListRunsDto } from './dto/list-runs.dto';
import { SignalDto } from './dto/signal.dto';
import { TriggerRunDto } from './dto/trigger-run.dto';
import { GoTickAuthGuard } from './gotick-auth.guard';
import { GoTickExceptionFilter } from './gotick-exception.filter';
import { TriggerBatchBodyGuard, TriggerBodyGuard, TriggerInput, TriggerItems } from './trigger-body.guard';
import { TriggerBatchDto } from './dto/trigger-batch.dto';

/**
 * The REST face of TickService. Flow ids hold slashes ('orders/close'):
 * send them URL-encoded (orders%2Fclose); TickClient does.
 */
@UseGuards(GoTickAuthGuard)
@UseFilters(GoTickExceptionFilter)
@UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }))
export class TickController {
  constructor(private readonly ticks: TickService) {}

  @Post('flows/:flowId/runs')
  @UseGuards(TriggerBodyGuard)
  trigger(@Param('flowId') flowId: string, @Body() body: TriggerRunDto, @TriggerInput() input: unknown): Promise<TriggerResult> {
    // The input comes from the guard, as parsed: validation would rebuild it and drop keys such as "__proto__".
    return this.ticks.trigger(flowId, input, { delay: body.delay, runId: body.runId, timeout: body.timeout });
  }

  /**
   * Starts up to 1,000 runs of one flow (413 beyond): body { runs: [{ input?, runId?, delay?, timeout? }], delay?, timeout? }.
   * Answers 201 with { runs: [{ runId, created }] } in the order sent. The colon is escaped: it is part of the path, not a parameter.
   */
  @Post('flows/:flowId/runs\\:batch')
  @UseGuards(TriggerBatchBodyGuard)
  async triggerMany(@Param('flowId') flowId: string, @Body() body: TriggerBatchDto, @TriggerItems() items: TriggerItem[]): Promise<{ runs: TriggerResult[] }> {
    return { runs: await this.ticks.triggerMany(flowId, items, { delay: body.delay, timeout: body.timeout }) };
  }

  @Get('flows')
  async flows(): Promise<{ flows: Array<{ id: string }> }> {
    return { flows: (await this.ticks.listFlows()).map((id) => ({ id })) };
  }

  /** Runs of the flow by status (among its newest 10,000) and in all; 404 for a flow the app lacks. */
  @Get('flows/:flowId/counts')
  counts(@Param('flowId') flowId: string): Promise<RunCounts> {
    return this.ticks.countRuns(flowId);
  }

  @Get('runs/:runId')
  async run(@Param('runId') runId: string): Promise<RunView> {
    const run = await this.ticks.getRun(runId);
    if (!run) throw new NotFoundException(`Run "${runId}" not found (unknown id, or finished and past its retention).`);
    return run;
  }

  @Post('runs/:runId/cancel')
  @HttpCode(200)
  cancel(@Param('runId') runId: string, @Body() body: CancelRunDto): Promise<CancelResult> {
    return this.ticks.cancel(runId, { reason: body.reason });
  }

  @Get('runs')
  runs(@Query() query: ListRunsDto): Promise<RunPage> {
    return this.ticks.listRuns(query);
  }

  /** 202: the signal is stored; the run takes it when its flow reaches the wait. */
  @Post('runs/:runId/signals/:name')
  @HttpCode(202)
  async signal(@Param('runId') runId: string, @Param('name') name: string, @Body() body: SignalDto): Promise<{ runId: string; name: string }> {
    await this.ticks.signal(runId, name, body.payload);
    return { runId, name };
  }

  @Post('runs/:runId/retry')
  @HttpCode(200)
  retry(@Param('runId') runId: string): Promise<RetryResult> {
    return this.ticks.retry(runId);
  }

  @Get('schedules')
  async schedules(): Promise<{ schedules: ScheduleView[] }> {
    return { schedules: await this.ticks.listSchedules() };
  }

  /** Creates or replaces a schedule: body { flowId, cron, tz?, input?, overlap? } or { flowId, every, input?, overlap? }. */
  @Put('schedules/:scheduleId')
  @UseGuards(ScheduleBodyGuard)
  schedule(@Param('scheduleId') scheduleId: string, @Body() body: ScheduleDto, @TriggerInput() input: unknown): Promise<ScheduleView> {
    const { flowId, ...timing } = body;
    const spec = Object.fromEntries(Object.entries({ ...timing, input }).filter(([, value]) => value !== undefined));
    return this.ticks.schedule(scheduleId, flowId, spec as never);
  }

  @Delete('schedules/:scheduleId')
  async unschedule(@Param('scheduleId') scheduleId: string): Promise<{ scheduleId: string; removed: true }> {
    if (!(await this.ticks.unschedule(scheduleId))) throw new NotFoundException(`Schedule "${scheduleId}" not found.`);
    return { scheduleId, removed: true };
  }
}

/** A controller class mounted at `path`; a subclass per module so two apps' paths never clash. */
export function createTickController(path: string): Type<TickController> {
  class MountedTickController extends TickController {}
  Controller(path)(MountedTickController);
  return MountedTickController;
}
