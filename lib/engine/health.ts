/**
 * What `GoTickEngine.health()` reports: enough for a readiness probe to decide
 * and for a person to see why.
 * @public
 */
export interface EngineHealth {
  /** `started` once start() has returned; before that, or after close(), the node serves nothing. */
  state: 'new' | 'starting' | 'started' | 'closed';
  /** `off` on a trigger-only node (`worker: false`); `stopped` once closed. */
  worker: 'starting' | 'running' | 'off' | 'stopped';
  /** Runs this node executes at once (absent when the worker is off). */
  concurrency?: number;
  /** Redis as one PING saw it: its round trip, or why it failed. */
  redis: { reachable: true; latencyMs: number } | { reachable: false; reason: string };
}

export interface HealthProbe {
  state: EngineHealth['state'];
  workerEnabled: boolean;
  concurrency: number;
  /** One PING's round trip in ms; absent on the testing kit's memory backend, which has no Redis to ping. */
  ping?: (timeoutMs: number) => Promise<number>;
  /** Where Redis is, for the reason (no password). */
  where?: string;
  timeoutMs: number;
}

/** One PING on the engine's store connection (through the backend), plus the node's own state; never throws. */
export async function probeHealth(probe: HealthProbe): Promise<EngineHealth> {
  const worker = !probe.workerEnabled ? 'off' : probe.state === 'started' ? 'running' : probe.state === 'closed' ? 'stopped' : 'starting';
  const base = { state: probe.state, worker, ...(probe.workerEnabled ? { concurrency: probe.concurrency } : {}) } as const;
  if (probe.state !== 'started') {
    const reason = probe.state === 'closed' ? 'GoTick is closed' : 'GoTick has not started yet (start() connects to Redis)';
    return { ...base, redis: { reachable: false, reason } };
  }
  if (!probe.ping) return { ...base, redis: { reachable: true, latencyMs: 0 } };
  try {
    // Rounded to microseconds: the probe's own overhead makes finer digits noise.
    const latencyMs = Math.round((await probe.ping(probe.timeoutMs)) * 1000) / 1000;
    return { ...base, redis: { reachable: true, latencyMs } };
  } catch (err) {
    return { ...base, redis: { reachable: false, reason: `Redis at ${probe.where} did not answer: ${(err as Error)?.message ?? String(err)}` } };
  }
}
