import { RedisUnavailableError } from '../../common/errors';

/**
 * A look at Redis that every worker node repeats (the reconciler, the slot
 * reconciler): jittered by a quarter either way so nodes started together do
 * not look in lockstep, never two at once, on a timer that does not keep the
 * process alive. A failed look is retried at the next one; an outage is not
 * logged here, the connection watch logs it once.
 */
export abstract class PeriodicLook {
  private timer?: NodeJS.Timeout;
  private running = false;

  /** What a failed look is called in its warning, e.g. 'Reconciler pass'. */
  protected abstract readonly name: string;
  protected abstract warn(message: string): void;
  /** One look; how many runs it moved on. */
  protected abstract look(): Promise<number>;

  start(everyMs: number): void {
    const tick = () => {
      this.timer = setTimeout(() => void this.pass().finally(tick), everyMs * (0.75 + Math.random() / 2));
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** One look now (none while one is under way); how many runs it moved on, 0 when it failed. */
  async pass(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      return await this.look();
    } catch (err) {
      if (!(err instanceof RedisUnavailableError)) this.warn(`${this.name} failed (will retry): ${(err as Error).message}`);
      return 0;
    } finally {
      this.running = false;
    }
  }
}
