/**
 * Every error the library raises on purpose extends GoTickError, so callers can
 * tell "the engine refused" from "my own code threw".
 * @public
 */
export class GoTickError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Throw this from a task (or from the flow itself) to fail the run at once,
 * without spending the remaining retries.
 * @public
 */
export class NonRetriableError extends GoTickError {}

/**
 * A trigger or lookup named a flow that no provider registered; or, as a run's
 * error, no node had the run's flow for longer than `unknownFlowGrace`
 * (renamed or removed in a deploy): retry the run once the flow is back.
 * @public
 */
export class UnknownFlowError extends GoTickError {
  constructor(readonly flowId: string, known: string[], message?: string) {
    super(
      message ??
        `Unknown flow "${flowId}". Registered flows: ${known.length ? known.map((f) => `"${f}"`).join(', ') : '(none)'}. ` +
          'Decorate a provider method with @Flow(id) and list the provider in a module.',
    );
  }
}

/** Two @Flow methods claimed one id, or a hook names a flow that does not exist. @public */
export class FlowDefinitionError extends GoTickError {}

/** A run id that is not allowed (empty, too long, or with characters outside [A-Za-z0-9_.-]). @public */
export class InvalidRunIdError extends GoTickError {
  constructor(runId: unknown) {
    super(
      `Invalid runId ${JSON.stringify(runId)}: use 1-200 characters from A-Z a-z 0-9 _ . - ` +
        '(the id is part of Redis keys and queue job ids).',
    );
  }
}

/** A run input or step result could not be stored as JSON. @public */
export class NotSerializableError extends GoTickError {
  constructor(readonly what: string, reason: string) {
    super(`${what} cannot be stored: ${reason}. Return plain data (objects, arrays, strings, numbers, booleans, null, Date).`);
  }
}

/** A payload (run input or step result) is larger than the configured limit. @public */
export class PayloadTooLargeError extends GoTickError {
  constructor(readonly what: string, readonly bytes: number, readonly limit: number) {
    super(`${what} is ${bytes} bytes, over the limit of ${limit} bytes (option limits.maxPayloadBytes).`);
  }
}

/**
 * One run used the same step key twice. Keys identify recorded results on
 * replay, so a repeated key would hand one step another step's result.
 * @public
 */
export class DuplicateStepKeyError extends GoTickError {
  constructor(readonly stepKey: string, flowId: string) {
    super(
      `Step key "${stepKey}" was used twice in one run of flow "${flowId}". ` +
        'Every ctx.task/memo/sleep/... call in a run needs its own key (in a loop, put the index in the key).',
    );
  }
}

/** A step ran out of retries, or threw NonRetriableError. Rethrown on every replay. @public */
export class StepFailedError extends GoTickError {
  constructor(
    readonly stepKey: string,
    readonly attempts: number,
    /** The last attempt's error (with its trimmed stack when it had one). */
    readonly cause: { name: string; message: string; stack?: string },
  ) {
    super(`Step "${stepKey}" failed after ${attempts} attempt(s): ${cause.name}: ${cause.message}`);
  }
}

/** A step attempt ran past its `timeout` option. Retried like any other error. @public */
export class StepTimeoutError extends GoTickError {
  constructor(stepKey: string, timeoutMs: number) {
    super(`Step "${stepKey}" timed out after ${timeoutMs} ms.`);
  }
}

/** waitForRun gave up before the run finished. @public */
export class WaitForRunTimeoutError extends GoTickError {
  constructor(readonly runId: string, timeoutMs: number, status: string) {
    super(`Run "${runId}" did not finish within ${timeoutMs} ms (status: ${status}).`);
  }
}

/** A run id that does not exist (or whose retention has expired). @public */
export class RunNotFoundError extends GoTickError {
  constructor(readonly runId: string) {
    super(`Run "${runId}" not found (unknown id, or finished and past its retention).`);
  }
}

/** Redis could not be reached or refused a command. @public */
export class RedisUnavailableError extends GoTickError {
  /**
   * Set when a trigger failed after choosing its run id: the run may have been
   * written (and may then execute) even though the call failed. Trigger again
   * with this runId to be sure it exists exactly once.
   */
  runId?: string;

  constructor(detail: string) {
    super(`Redis is unavailable: ${detail}. Check the "connection" option and that redis-server is running.`);
  }
}

/**
 * Redis reached its `maxmemory` and, with the `noeviction` policy GoTick needs,
 * refuses writes until memory is freed. @public
 */
export class RedisOutOfMemoryError extends RedisUnavailableError {
  constructor(detail: string) {
    super(detail);
    this.message =
      `Redis is out of memory and refuses writes (${detail}). ` +
      'Raise maxmemory, free memory (shorter retention, fewer sleeping runs), or add capacity; keep maxmemory-policy noeviction.';
  }
}

/**
 * A duration or point in time the engine cannot honour: negative, unreadable,
 * or past the latest time it stores (the end of year 9999, MAX_TIME_MS).
 * @public
 */
export class InvalidDurationError extends GoTickError {}

/**
 * A step key that cannot be stored and matched on replay, or a primitive's
 * option outside what it accepts (e.g. `ctx.wait` concurrency). Fails the run.
 * @public
 */
export class InvalidStepError extends GoTickError {}

/** A bad module option, found at bootstrap. @public */
export class GoTickConfigError extends GoTickError {}

/**
 * The run was cancelled (`cancel(runId, { reason })`): a running task's
 * `signal` aborts with it, and it is the run's recorded error.
 * @public
 */
export class RunCancelledError extends GoTickError {
  constructor(readonly runId: string, readonly reason?: string) {
    super(reason ? reason : `Run "${runId}" was cancelled.`);
  }
}

/** A signal was sent to a run that has already completed, failed or been cancelled. @public */
export class RunFinishedError extends GoTickError {
  constructor(readonly runId: string, readonly status: string) {
    super(`Run "${runId}" has already finished (status: ${status}); it takes no more signals.`);
  }
}

/** `retry(runId)` on a run that is not failed or cancelled. @public */
export class RunNotRetriableError extends GoTickError {
  constructor(readonly runId: string, readonly status: string) {
    super(`Run "${runId}" is ${status}; only a failed or cancelled run can be retried.`);
  }
}

/** The run passed its whole-run `timeout` (from @Flow options or trigger options). @public */
export class FlowTimeoutError extends GoTickError {
  constructor(readonly runId: string, timeoutMs: number) {
    super(`Run "${runId}" did not finish within its timeout of ${timeoutMs} ms.`);
  }
}

/** A run's signal mailbox is full (option limits.maxSignalsPerRun): the signal was not stored. @public */
export class SignalMailboxFullError extends GoTickError {
  constructor(readonly runId: string, limit: number) {
    super(
      `Run "${runId}" already holds ${limit} undelivered signals (limits.maxSignalsPerRun); this one was not stored. ` +
        'The flow is not consuming them: check its waitForSignal names, or raise the limit.',
    );
  }
}

/**
 * An attempt of a step was cut off because its execution lost the lease
 * mid-step: its worker stopped renewing it for longer than `worker.lease`,
 * by blocking the event loop (a long synchronous loop) or by dying in the
 * step. The run's next execution records it as a failed attempt, so the
 * step's retries and backoff apply instead of the step running again and
 * again as its first attempt.
 * @public
 */
export class LeaseExpiredError extends GoTickError {
  constructor(
    readonly stepKey: string,
    /** How many attempts of this step were cut off this way so far. */
    readonly times: number,
    leaseMs: number,
  ) {
    super(
      `Step "${stepKey}" exceeded the lease ${times} time(s): its worker stopped renewing the ${leaseMs} ms lease mid-step ` +
        '(a step blocking the event loop, or a worker dying in it). Raise worker.lease or yield the event loop ' +
        '(a step must not block it longer than the lease).',
    );
  }
}

/**
 * A hook (OnFlowSuccess, OnFlowFail, OnFlowError, OnFlowCancel) called a step
 * method on its context. Hooks run outside the run's execution, where a step
 * could be neither recorded nor replayed.
 * @public
 */
export class StepInHookError extends GoTickError {
  constructor(readonly method: string, readonly hook: string, readonly flowId: string) {
    super(`Step calls are not allowed in hooks (ctx.${method} in ${hook} of flow "${flowId}"); do the work in the flow.`);
  }
}

/** A signal name that is empty, too long, or not a string. @public */
export class InvalidSignalNameError extends GoTickError {
  constructor(name: unknown) {
    const shown = typeof name === 'string' && name.length > 60 ? `a ${name.length}-character string` : JSON.stringify(name);
    super(`Invalid signal name ${shown}: use a string of 1-200 characters (the name ctx.waitForSignal waits for).`);
  }
}

/**
 * A flow's concurrency `key` function threw or returned something other than
 * a string of 1-200 characters for a run's input. The run fails with it (not retried:
 * the same input gives the same key). @public
 */
export class ConcurrencyKeyError extends NonRetriableError {
  constructor(readonly flowId: string, detail: string) {
    super(`The concurrency key of flow "${flowId}" ${detail}; return a string of 1-200 characters computed from the input.`);
  }
}

/**
 * A child flow started with `ctx.child` failed, was cancelled, or passed its
 * timeout. Thrown in the parent where it awaits the child (the same on every
 * replay); catch it like any step failure. Uncaught, it fails the parent.
 * @public
 */
export class ChildFlowFailedError extends GoTickError {
  constructor(
    /** The parent's step that started the child. */
    readonly stepKey: string,
    readonly childRunId: string,
    /** How the child ended: `failed` or `cancelled` (`missing`: its record expired or was deleted before the parent read it). */
    readonly childStatus: string,
    /** The child's own error: name and message (e.g. FlowTimeoutError, RunCancelledError). */
    readonly childError: { name: string; message: string },
  ) {
    super(`Child run "${childRunId}" (step "${stepKey}") ${childStatus === 'missing' ? 'is gone' : `ended ${childStatus}`}: ${childError.name}: ${childError.message}`);
  }
}

/**
 * A schedule that cannot be kept: a cron expression or time zone that does not
 * parse, an interval under a second, a bad schedule id or overlap policy. From
 * a `@Flow` decorator it stops bootstrap; from `schedule()` it rejects the call.
 * @public
 */
export class InvalidScheduleError extends GoTickError {
  constructor(readonly scheduleId: string, detail: string) {
    super(`Invalid schedule "${scheduleId}": ${detail}`);
  }
}

/**
 * An interceptor broke the wrap contract: it called `next()` a second time
 * (which would run the step's body twice). The attempt fails with it.
 * @public
 */
export class InterceptorError extends GoTickError {}
