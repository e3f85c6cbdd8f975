/**
 * A typed handle on a flow: its id, plus (at compile time only) the types of
 * its input and output. Pass it where a flow id goes (`@Flow(ref)`,
 * `trigger(ref, input)`) and a typo in the id or a wrong input no longer compiles.
 * @public
 */
export interface FlowRef<TInput = unknown, TOutput = unknown> {
  readonly id: string;
  /** Never set: it only carries the types. */
  readonly __types?: { input: TInput; output: TOutput };
}

/**
 * Declares a flow's id with its input and output types, once, for the flow
 * and its callers to share:
 * `export const CloseOrder = defineFlow<{ orderId: string }, { closedAfterMs: number }>('orders/close');`
 * An input type of `void` lets `trigger(ref)` omit the input.
 * @public
 */
export function defineFlow<TInput = void, TOutput = unknown>(id: string): FlowRef<TInput, TOutput> {
  return Object.freeze({ id });
}

/** The id of a flow given by id or by reference. */
export function flowIdOf(flow: string | FlowRef<any, any>): string {
  return typeof flow === 'string' ? flow : flow?.id;
}
