import { ConcurrencyKeyError, FlowDefinitionError } from '../common/errors';
import type { FlowOptions } from '../common/types';

/** A flow's concurrency cap as the engine applies it: checked once, at registration. */
export interface ConcurrencyRule {
  readonly limit: number;
  /** The run's group within the flow: '' without a key function. Throws ConcurrencyKeyError. */
  keyOf(input: unknown): string;
}

/** The runs that share a cap: one flow, one key. */
export interface SlotGroup {
  readonly flowId: string;
  readonly key: string;
  /** The group's name in Redis (the registry member, the run's `slotGroup` field): JSON [flowId, key]. */
  readonly id: string;
}

const MAX_KEY_LENGTH = 200;

/**
 * Reads `concurrency` of a flow's options; undefined when the flow has none.
 * @throws FlowDefinitionError naming the flow and what is wrong
 */
export function concurrencyRule(flowId: string, options: FlowOptions | undefined): ConcurrencyRule | undefined {
  const given = options?.concurrency;
  if (given === undefined) return undefined;
  const spec = typeof given === 'number' ? { limit: given } : given;
  if (spec === null || typeof spec !== 'object') {
    throw new FlowDefinitionError(`concurrency of flow "${flowId}" must be a number or { limit, key? }; got ${JSON.stringify(given)}.`);
  }
  const { limit, key } = spec;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new FlowDefinitionError(`concurrency limit of flow "${flowId}" must be an integer from 1; got ${JSON.stringify(limit)}.`);
  }
  if (key !== undefined && typeof key !== 'function') {
    throw new FlowDefinitionError(`concurrency key of flow "${flowId}" must be a function (input) => string; got ${typeof key}.`);
  }
  if (!key) return { limit, keyOf: () => '' };
  return {
    limit,
    keyOf(input) {
      let value: unknown;
      try {
        value = key(input);
      } catch (err) {
        throw new ConcurrencyKeyError(flowId, `threw ${(err as Error)?.message ?? String(err)}`);
      }
      if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY_LENGTH) {
        const shown = typeof value === 'string' ? `a ${value.length}-character string` : JSON.stringify(value) ?? typeof value;
        throw new ConcurrencyKeyError(flowId, `returned ${shown}`);
      }
      return value;
    },
  };
}

export function slotGroup(flowId: string, key: string): SlotGroup {
  return { flowId, key, id: JSON.stringify([flowId, key]) };
}

/** The group a registry member or a run's `slotGroup` field names; undefined when it is not one. */
export function parseSlotGroup(id: string): SlotGroup | undefined {
  try {
    const parsed: unknown = JSON.parse(id);
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') {
      return { flowId: parsed[0], key: parsed[1], id };
    }
  } catch {
    // Not a group: the caller skips it.
  }
  return undefined;
}
