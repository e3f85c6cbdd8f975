import { createHash } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';
import { toMs } from '../../common/duration';
import { GoTickError, InvalidScheduleError } from '../../common/errors';
import type { FlowSchedule, ScheduleOverlap, ScheduleSpec } from '../../common/types';
import type { ScheduleTiming } from '../ports';


/** A schedule checked and ready to store: `spec` is what views show, `input` the encoded input. */
export interface CheckedSchedule {
  scheduleId: string;
  flowId: string;
  spec: ScheduleSpec;
  timing: ScheduleTiming;
  overlap: ScheduleOverlap;
}

// Like flow ids: braces would act as a Cluster hash tag in the keys the id is part of.
const SCHEDULE_ID = /^[^\s{}]{1,200}$/;
const MIN_EVERY_MS = 1000;
const SPEC_FIELDS = new Set(['cron', 'tz', 'every', 'input', 'overlap']);

/** Throws InvalidScheduleError unless `scheduleId` can name a schedule. */
export function checkScheduleId(scheduleId: unknown): string {
  if (typeof scheduleId !== 'string' || !SCHEDULE_ID.test(scheduleId)) {
    throw new InvalidScheduleError(String(scheduleId), 'a schedule id is 1-200 characters, without whitespace or braces.');
  }
  return scheduleId;
}

/**
 * Checks a spec the way BullMQ will read it (cron-parser, the parser BullMQ
 * schedules with), so a bad cron or zone fails here with its name, not later
 * in the queue. Unknown fields are refused: a typo such as `tz` spelled `timezone`
 * would otherwise silently run the schedule in UTC.
 */
export function checkSchedule(scheduleId: string, flowId: string, spec: unknown): CheckedSchedule {
  checkScheduleId(scheduleId);
  const fail = (detail: string): never => {
    throw new InvalidScheduleError(scheduleId, detail);
  };
  if (typeof spec === 'string') spec = { cron: spec };
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    return fail(`expected a cron string, { cron, tz?, input?, overlap? } or { every, input?, overlap? }; got ${JSON.stringify(spec)}.`);
  }
  const given = spec as Record<string, unknown>;
  const unknown = Object.keys(given).filter((key) => !SPEC_FIELDS.has(key));
  if (unknown.length) fail(`unknown field(s) ${unknown.map((k) => `"${k}"`).join(', ')}; a schedule takes cron, tz, every, input and overlap.`);
  const overlap = given.overlap ?? 'skip';
  if (overlap !== 'skip' && overlap !== 'allow') fail(`overlap must be 'skip' or 'allow'; got ${JSON.stringify(given.overlap)}.`);
  const input = given.input === undefined ? {} : { input: given.input };
  const overlapField = given.overlap === undefined ? {} : { overlap: overlap as ScheduleOverlap };
  if ((given.cron === undefined) === (given.every === undefined)) fail('give exactly one of cron and every.');

  if (given.every !== undefined) {
    if (given.tz !== undefined) fail('tz applies to cron only; an interval is counted in UTC milliseconds.');
    let everyMs = 0;
    try {
      everyMs = toMs(given.every as never, 'every');
    } catch (err) {
      fail((err as GoTickError).message);
    }
    if (everyMs < MIN_EVERY_MS) fail(`every must be at least 1s; got ${JSON.stringify(given.every)}.`);
    return { scheduleId, flowId, spec: { every: given.every as never, ...input, ...overlapField }, timing: { everyMs }, overlap: overlap as ScheduleOverlap };
  }

  const cron = given.cron;
  if (typeof cron !== 'string' || cron.trim() === '') return fail(`cron must be a cron expression such as '0 6 * * *'; got ${JSON.stringify(cron)}.`);
  const tz = given.tz;
  if (tz !== undefined) {
    if (typeof tz !== 'string' || !isTimeZone(tz)) fail(`time zone ${JSON.stringify(tz)} is not an IANA zone name (such as 'Europe/Berlin' or 'UTC').`);
  }
  try {
    CronExpressionParser.parse(cron, { tz: tz as string | undefined, currentDate: new Date() }).next();
  } catch (err) {
    fail(`cron ${JSON.stringify(cron)} does not parse: ${(err as Error).message}.`);
  }
  const timing = tz === undefined ? { cron } : { cron, tz: tz as string };
  return { scheduleId, flowId, spec: { ...timing, ...input, ...overlapField }, timing, overlap: overlap as ScheduleOverlap };
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * The schedules a `@Flow` declares, with their ids: the flow id for a single
 * schedule, `<flowId>#<n>` for the n-th of a list, unless the entry names its own.
 */
export function codeSchedules(flowId: string, option: FlowSchedule | FlowSchedule[] | undefined): CheckedSchedule[] {
  if (option === undefined) return [];
  const list = Array.isArray(option) ? option : [option];
  const checked = list.map((entry, n) => {
    const named = entry !== null && typeof entry === 'object' && 'id' in entry ? entry.id : undefined;
    const scheduleId = named ?? (Array.isArray(option) && option.length > 1 ? `${flowId}#${n}` : flowId);
    if (typeof entry === 'object' && entry !== null) {
      const { id: _id, ...spec } = entry;
      return checkSchedule(String(scheduleId), flowId, spec);
    }
    return checkSchedule(String(scheduleId), flowId, entry);
  });
  const ids = checked.map((s) => s.scheduleId);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice !== undefined) throw new InvalidScheduleError(twice, `flow "${flowId}" declares it twice; give each schedule its own id.`);
  return checked;
}

/**
 * The slot a fired job stands for: the latest slot due by `now`. BullMQ keeps
 * one pending job per schedule, so after every node was down for several slots
 * the job of the first missed slot fires once on return, and the next one is
 * planned after `now`: the missed slots collapse into one run, which is named
 * (and deduplicated) by the latest of them.
 */
export function latestSlot(timing: ScheduleTiming, dueAt: number, now: number): number {
  if (now <= dueAt) return dueAt;
  if ('everyMs' in timing) return dueAt + Math.floor((now - dueAt) / timing.everyMs) * timing.everyMs;
  try {
    const previous = CronExpressionParser.parse(timing.cron, { tz: timing.tz, currentDate: new Date(now + 1) }).prev().getTime();
    return Math.max(dueAt, previous);
  } catch {
    return dueAt;
  }
}

/**
 * The run id of a schedule's slot: the same on every node, so a slot fired
 * twice (a job retried after its worker died, or re-run after a stall) starts
 * one run, the idempotent trigger turning the second away.
 */
export function slotRunId(scheduleId: string, slotAt: number): string {
  const readable = scheduleId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100);
  // Ids that differ only in replaced characters (a/b, a.b) must not share runs: a hash tells them apart.
  const tag = readable === scheduleId ? '' : `.${createHash('sha1').update(scheduleId).digest('hex').slice(0, 10)}`;
  return `sched.${readable}${tag}.${slotAt}`;
}

/** The first slot of an interval after `now`: multiples of it since the epoch, so every node plans the same slots. */
export function firstIntervalSlot(everyMs: number, now: number): number {
  return Math.ceil(now / everyMs) * everyMs;
}

/** The timing of a spec as checkSchedule stored it. */
export function timingOfSpec(spec: { cron?: string; tz?: string; every?: unknown }): ScheduleTiming {
  if (spec.every !== undefined) return { everyMs: toMs(spec.every as never, 'every') };
  return spec.tz === undefined ? { cron: spec.cron ?? '' } : { cron: spec.cron ?? '', tz: spec.tz };
}
