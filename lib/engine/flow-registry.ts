import { FlowDefinitionError } from '../common/errors';
import { concurrencyRule, type ConcurrencyRule } from './concurrency';
import type { FlowDefinition } from './flow-definition';
import { checkedTimeout } from './options';
import { codeSchedules, type CheckedSchedule } from './schedules/schedule-spec';
import { declaredSchedules } from './schedules/scheduler';

/**
 * The flows one engine has, each checked as it is added: its id, its
 * default timeout, its concurrency cap and the schedules it declares.
 */
export class FlowRegistry {
  readonly flows = new Map<string, FlowDefinition>();
  /** Flows with a concurrency cap. */
  readonly rules = new Map<string, ConcurrencyRule>();
  /** The schedules each flow declares (@Flow(id, { schedule })). */
  private readonly schedules = new Map<string, CheckedSchedule[]>();

  /** Adds a flow, as `wrap` makes it (the testing kit's step mocks hook in there), once every check passed. */
  add(flow: FlowDefinition, wrap: (flow: FlowDefinition) => FlowDefinition): void {
    // Braces are refused because a flow id is part of an index key, where they would act as a Cluster hash tag.
    if (typeof flow.id !== 'string' || !/^[^\s{}]{1,200}$/.test(flow.id)) {
      throw new FlowDefinitionError(`Invalid flow id ${JSON.stringify(flow.id)}: 1-200 characters, no whitespace or braces.`);
    }
    if (this.flows.has(flow.id)) {
      throw new FlowDefinitionError(`Flow id "${flow.id}" is registered twice. Each @Flow id must be unique in the app.`);
    }
    checkedTimeout(flow.options?.defaults?.timeout, `defaults.timeout of flow "${flow.id}"`);
    const rule = concurrencyRule(flow.id, flow.options);
    if (rule) this.rules.set(flow.id, rule);
    const schedules = codeSchedules(flow.id, flow.options?.schedule);
    declaredSchedules([...[...this.schedules].map(([id, list]) => ({ id, schedules: list })), { id: flow.id, schedules }]);
    this.flows.set(flow.id, wrap(flow));
    this.schedules.set(flow.id, schedules);
  }

  /** Ids of the flows, sorted. */
  ids(): string[] {
    return [...this.flows.keys()].sort();
  }

  /** Every schedule the flows declare. */
  codeSchedules(): CheckedSchedule[] {
    return [...this.schedules.values()].flat();
  }
}
