import type { FlowContext, Future } from '../common/flow-context';
import type { MemoOptions, TaskContext } from '../common/types';
import type { FlowDefinition } from '../engine/flow-definition';

/** What a mocked step runs instead of its body: it gets the same TaskContext, and its result is recorded like a real one. */
export type StepMock = (task: TaskContext) => unknown;

type Body = (task: TaskContext) => unknown;

/**
 * Step mocks by flow and step key. Flows are wrapped once, at registration;
 * the wrapper looks its mocks up per run, so a mock set after start() (or
 * cleared) counts from the next step that reaches it, replays included.
 */
export class StepMocks {
  private readonly byFlow = new Map<string, Map<string, StepMock>>();
  /** Child mocks: flow id -> the output (encoded) its child runs end with. */
  private readonly children = new Map<string, { output?: string }>();

  set(flowId: string, key: string, mock: StepMock): void {
    let mocks = this.byFlow.get(flowId);
    if (!mocks) this.byFlow.set(flowId, (mocks = new Map()));
    mocks.set(key, mock);
  }

  clear(): void {
    this.byFlow.clear();
    this.children.clear();
  }

  /** Child runs of `flowId` are created completed with `output` (already encoded), their flow never run. */
  setChild(flowId: string, output: string | undefined): void {
    this.children.set(flowId, output === undefined ? {} : { output });
  }

  /** The mocked ending of a child run of `flowId`, if the flow is mocked. */
  childOf(flowId: string): { output?: string } | undefined {
    return this.children.get(flowId);
  }

  wrap(flow: FlowDefinition): FlowDefinition {
    return { ...flow, handler: (ctx: FlowContext<any>) => flow.handler(this.byFlow.get(flow.id)?.size ? this.mocking(ctx, flow.id) : ctx) };
  }

  /** The flow's context with each mocked step's body swapped for its mock; everything else is the context itself. */
  private mocking(ctx: FlowContext<any>, flowId: string): FlowContext<any> {
    const body = (key: string, fn: Body): Body => this.byFlow.get(flowId)?.get(key) ?? fn;
    const overrides: Partial<FlowContext<any>> = {
      task: (key, fn, options) => ctx.task(key, body(key, fn), options),
      memo: <T>(key: string, fn: (task: TaskContext) => T | Promise<T>, options?: MemoOptions<T>) => ctx.memo(key, body(key, fn) as typeof fn, options),
      array: <T>(key: string, fn: (task: TaskContext) => T[] | Promise<T[]>, options?: MemoOptions<T[]>) => ctx.array(key, body(key, fn) as typeof fn, options),
      async: <T>(key: string, fn: (task: TaskContext) => T | Promise<T>, options?: MemoOptions<T>) => ctx.async(key, body(key, fn) as typeof fn, options),
      // Through the mocking async, so `key:<i>` mocks reach the futures of an asyncArray.
      asyncArray: <I, T>(key: string, items: readonly I[], fn: (task: TaskContext, item: I, index: number) => T | Promise<T>, options?: MemoOptions<T>): Future<T>[] =>
        items.map((item, index) => overrides.async!(`${key}:${index}`, (task: TaskContext) => fn(task, item, index), options)),
    };
    return new Proxy(ctx, {
      get: (target, prop) => {
        if (Object.prototype.hasOwnProperty.call(overrides, prop)) return overrides[prop as keyof FlowContext];
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }
}
