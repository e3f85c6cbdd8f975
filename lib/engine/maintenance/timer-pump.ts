import type { EngineLogger } from '../flow-definition';
import type { WakeQueue, WakeStore } from '../ports';
import { RedisUnavailableError } from '../../common/errors';

/** Wake-ups claimed per round trip; a full batch is followed at once by the next. */
const BATCH = 500;
/**
 * Longest sleep between two looks at the wakes set. This node hears of its
 * own parks (wakeBy) and wakes for them on time; a wake-up parked by another
 * node whose pump is gone is at most this late.
 */
export const PUMP_IDLE_MS = 500;
/** After a failed pass (Redis away): look again this much later. */
const RETRY_MS = 1000;

/**
 * Moves sleeping runs whose wake time has come into the queue's resume lane.
 * A sleeping run holds no delayed queue job, only its entry in the wakes set;
 * this pump, on every worker node, sleeps until the earliest entry is due,
 * claims due entries atomically in bulk (no two pumps get the same one) and
 * adds one immediate job per run. A claimed entry leaves a reconciler timer
 * behind it, so a pump that dies between its claim and its add loses nothing.
 */
export class TimerPump {
  private timer?: NodeJS.Timeout;
  /** When the armed timer fires (Infinity: none armed). */
  private armedAt = Infinity;
  private running = false;
  /** A wake-up heard of during a pass, to arm for once the pass is over. */
  private heard = Infinity;
  private stopped = true;

  constructor(
    private readonly store: WakeStore,
    private readonly queue: WakeQueue,
    private readonly logger: EngineLogger,
    /** Timer given to a claimed run: past it with the run still sleeping, the reconciler re-enqueues it. */
    private readonly claimGraceMs: number,
  ) {}

  start(): void {
    this.stopped = false;
    this.arm(Date.now());
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.armedAt = Infinity;
  }

  /** A run parked on this node until `at`: wake up for it if that is sooner than planned. */
  wakeBy(at: number): void {
    if (this.stopped) return;
    if (this.running) this.heard = Math.min(this.heard, at);
    else if (at < this.armedAt) this.arm(at);
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.armedAt = at;
    this.timer = setTimeout(() => void this.pass(), Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  /** Claims and enqueues every due wake-up, then sleeps until the next one (or PUMP_IDLE_MS). */
  private async pass(): Promise<void> {
    this.armedAt = Infinity;
    this.running = true;
    let next = Date.now() + PUMP_IDLE_MS;
    try {
      for (;;) {
        const now = Date.now();
        const { due, nextAt } = await this.store.claimDueWakes(now, BATCH, now + this.claimGraceMs);
        if (due.length > 0) await this.queue.enqueueWakes(due);
        if (nextAt !== undefined) next = Math.min(next, nextAt);
        if (due.length < BATCH || this.stopped) break;
      }
    } catch (err) {
      next = Date.now() + RETRY_MS;
      // An outage is logged once by the connection watch, and a pass cut short by close() is no news.
      // Whatever was claimed is covered by the reconciler either way.
      if (!(err instanceof RedisUnavailableError) && !this.stopped) this.logger.warn(`Timer pump pass failed (will retry; the reconciler covers the runs it claimed): ${(err as Error).message}`);
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    this.arm(Math.min(next, this.heard));
    this.heard = Infinity;
  }
}
