import { applyDecorators, Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Post, Put, Query, UseFilters, UseGuards, UsePipes, ValidationPipe, type Type } from '@nestjs/common';
import type { CancelResult, RetryResult, RunCounts, RunPage, RunView, ScheduleView, TriggerItem, TriggerResult } from '../../engine';
import { ScheduleBodyDoc, ScheduleDto } from './dto/schedule.dto';
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
import { GoTickErrorBody, GoTickFlowList, GoTickRunCounts, GoTickRunStatusResult, GoTickSignalAccepted, GoTickTriggerBatchBody, GoTickTriggerBatchResult, GoTickTriggerResult } from './openapi/results.schema';
import { GoTickRunPage, GoTickRunView } from './openapi/run-view.schema';
import { GoTickScheduleList, GoTickScheduleView, GoTickUnscheduled } from './openapi/schedules.schema';
import { DocBearer, DocBody, DocExtraModels, DocOperation, DocParam, DocResponse, DocTags } from './openapi/swagger';

const ERROR_MEANINGS: Record<number, string> = {
  400: 'A field is wrong: the message names it.',
  401: 'Missing or wrong bearer token (or the guard said no).',
  404: 'Unknown flow or run.',
  409: 'The run is finished (signal) or not failed or cancelled (retry).',
  413: 'The body or input is over the size limit.',
  415: 'The body is not JSON.',
  429: "The run's signal mailbox is full.",
  503: 'Redis is unavailable.',
};

/** An operation's OpenAPI face: summary, success answer and the errors it can give (every route can give 400, 401 and 503). */
function Doc(operationId: string, summary: string, status: number, type: Function, errors: number[] = []): MethodDecorator {
  return applyDecorators(
    DocOperation({ operationId, summary }),
    DocResponse({ status, type }),
    ...[400, 401, ...errors, 503].map((code) => DocResponse({ status: code, type: GoTickErrorBody, description: ERROR_MEANINGS[code] })),
  );
}

const FLOW_ID = DocParam({ name: 'flowId', description: 'The flow id, URL-encoded (orders%2Fclose).', example: 'orders%2Fclose' });
const RUN_ID = DocParam({ name: 'runId', description: 'The run id.' });
const SCHEDULE_ID = DocParam({ name: 'scheduleId', description: 'The schedule id, URL-encoded.' });

/**
 * The REST face of TickService. Flow ids hold slashes ('orders/close'):
 * send them URL-encoded (orders%2Fclose); TickClient does.
 */
@DocTags('gotick')
@DocBearer()
@DocExtraModels(GoTickErrorBody)
@UseGuards(GoTickAuthGuard)
@UseFilters(GoTickExceptionFilter)
@UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }))
export class TickController {
  constructor(private readonly ticks: TickService) {}

  @Post('flows/:flowId/runs')
  @Doc('gotickTrigger', 'Start a run of a flow', 201, GoTickTriggerResult, [404, 413, 415])
  @FLOW_ID
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
  @Doc('gotickTriggerBatch', 'Start up to 1,000 runs of a flow', 201, GoTickTriggerBatchResult, [404, 413, 415])
  @DocBody({ type: GoTickTriggerBatchBody })
  @FLOW_ID
  @UseGuards(TriggerBatchBodyGuard)
  async triggerMany(@Param('flowId') flowId: string, @Body() body: TriggerBatchDto, @TriggerItems() items: TriggerItem[]): Promise<{ runs: TriggerResult[] }> {
    return { runs: await this.ticks.triggerMany(flowId, items, { delay: body.delay, timeout: body.timeout }) };
  }

  @Get('flows')
  @Doc('gotickListFlows', 'The flows this app registered', 200, GoTickFlowList)
  async flows(): Promise<{ flows: Array<{ id: string }> }> {
    return { flows: (await this.ticks.listFlows()).map((id) => ({ id })) };
  }

  /** Runs of the flow by status (among its newest 10,000) and in all; 404 for a flow the app lacks. */
  @Get('flows/:flowId/counts')
  @Doc('gotickCountRuns', "A flow's runs by status", 200, GoTickRunCounts, [404])
  @FLOW_ID
  counts(@Param('flowId') flowId: string): Promise<RunCounts> {
    return this.ticks.countRuns(flowId);
  }

  @Get('runs/:runId')
  @Doc('gotickGetRun', 'A run with every step', 200, GoTickRunView, [404])
  @RUN_ID
  async run(@Param('runId') runId: string): Promise<RunView> {
    const run = await this.ticks.getRun(runId);
    if (!run) throw new NotFoundException(`Run "${runId}" not found (unknown id, or finished and past its retention).`);
    return run;
  }

  @Post('runs/:runId/cancel')
  @Doc('gotickCancel', 'Cancel a run', 200, GoTickRunStatusResult, [404])
  @RUN_ID
  @HttpCode(200)
  cancel(@Param('runId') runId: string, @Body() body: CancelRunDto): Promise<CancelResult> {
    return this.ticks.cancel(runId, { reason: body.reason });
  }

  @Get('runs')
  @Doc('gotickListRuns', 'Runs, newest first, by flow and status, paged', 200, GoTickRunPage)
  runs(@Query() query: ListRunsDto): Promise<RunPage> {
    return this.ticks.listRuns(query);
  }

  /** 202: the signal is stored; the run takes it when its flow reaches the wait. */
  @Post('runs/:runId/signals/:name')
  @Doc('gotickSignal', 'Send a signal to a run', 202, GoTickSignalAccepted, [404, 409, 413, 429])
  @RUN_ID
  @DocParam({ name: 'name', description: 'The signal name a ctx.waitForSignal waits for.' })
  @HttpCode(202)
  async signal(@Param('runId') runId: string, @Param('name') name: string, @Body() body: SignalDto): Promise<{ runId: string; name: string }> {
    await this.ticks.signal(runId, name, body.payload);
    return { runId, name };
  }

  @Post('runs/:runId/retry')
  @Doc('gotickRetry', 'Queue a failed or cancelled run again', 200, GoTickRunStatusResult, [404, 409])
  @RUN_ID
  @HttpCode(200)
  retry(@Param('runId') runId: string): Promise<RetryResult> {
    return this.ticks.retry(runId);
  }

  @Get('schedules')
  @Doc('gotickListSchedules', 'Every schedule with its next slot, last run and skipped slots', 200, GoTickScheduleList)
  async schedules(): Promise<{ schedules: ScheduleView[] }> {
    return { schedules: await this.ticks.listSchedules() };
  }

  /** Creates or replaces a schedule: body { flowId, cron, tz?, input?, overlap? } or { flowId, every, input?, overlap? }. */
  @Put('schedules/:scheduleId')
  @Doc('gotickSchedule', 'Create or replace a schedule', 200, GoTickScheduleView, [404, 413, 415])
  @SCHEDULE_ID
  @DocBody({ type: ScheduleBodyDoc })
  @UseGuards(ScheduleBodyGuard)
  schedule(@Param('scheduleId') scheduleId: string, @Body() body: ScheduleDto, @TriggerInput() input: unknown): Promise<ScheduleView> {
    const { flowId, ...timing } = body;
    const spec = Object.fromEntries(Object.entries({ ...timing, input }).filter(([, value]) => value !== undefined));
    return this.ticks.schedule(scheduleId, flowId, spec as never);
  }

  @Delete('schedules/:scheduleId')
  @Doc('gotickUnschedule', 'Remove a schedule (runs already started go on)', 200, GoTickUnscheduled, [404])
  @SCHEDULE_ID
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
