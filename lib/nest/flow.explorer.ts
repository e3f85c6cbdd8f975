import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { FlowDefinitionError, type FlowDefinition, type FlowHooks, type GoTickEngine } from '../engine';
import type { FlowHookKind } from './decorators/flow-hooks.decorator';
import { FlowMetadataAccessor } from './flow-metadata.accessor';
import { GOTICK_ENGINE } from './gotick.constants';

type Hook = (...args: any[]) => unknown;
type InstanceWrapper = ReturnType<DiscoveryService['getProviders']>[number];
const HOOK_SLOT: Record<FlowHookKind, keyof FlowHooks> = { success: 'onSuccess', fail: 'onFail', error: 'onError', cancel: 'onCancel' };

/**
 * Finds @Flow methods and their hooks on every provider and controller at
 * module init, and registers them with the engine, bound to their instance.
 */
@Injectable()
export class FlowExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly metadata: FlowMetadataAccessor,
    @Inject(GOTICK_ENGINE) private readonly engine: GoTickEngine,
  ) {}

  onModuleInit(): void {
    try {
      this.registerFlows();
    } catch (err) {
      // Bootstrap stops here; connections already open (queues registered with @nestjs/bullmq) must not outlive it.
      void this.engine.close();
      throw err;
    }
  }

  private registerFlows(): void {
    const flows = new Map<string, FlowDefinition & { where: string }>();
    const hooks: Array<{ kind: FlowHookKind; flowId: string; fn: Hook; where: string }> = [];

    for (const wrapper of this.instances()) {
      const instance = wrapper.instance as Record<string, Hook>;
      const prototype = Object.getPrototypeOf(instance);
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const method = prototype[name];
        const where = `${String(wrapper.metatype?.name ?? wrapper.name)}.${name}`;
        const flow = this.metadata.flow(method);
        if (flow) {
          const other = flows.get(flow.id);
          if (other) {
            throw new FlowDefinitionError(`Flow id "${flow.id}" is declared twice: on ${other.where} and on ${where}. Flow ids must be unique.`);
          }
          flows.set(flow.id, { id: flow.id, options: flow.options, handler: (ctx) => method.call(instance, ctx), hooks: {}, where });
        }
        for (const hook of this.metadata.hooks(method)) {
          hooks.push({ ...hook, fn: (...args) => method.apply(instance, args), where });
        }
      }
    }

    for (const hook of hooks) {
      const flow = flows.get(hook.flowId);
      if (!flow) {
        throw new FlowDefinitionError(
          `${hook.where} is a hook for flow "${hook.flowId}", but no @Flow("${hook.flowId}") exists. ` +
            `Known flows: ${[...flows.keys()].map((id) => `"${id}"`).join(', ') || '(none)'}.`,
        );
      }
      const slot = HOOK_SLOT[hook.kind];
      (flow.hooks![slot] ??= []).push(hook.fn as never);
    }

    for (const { where, ...flow } of flows.values()) this.engine.register(flow);
    this.engine.logger.log(`Registered ${flows.size} flow(s): ${[...flows.keys()].join(', ') || '(none)'}`);
  }

  private instances(): InstanceWrapper[] {
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    return wrappers.filter((wrapper) => {
      if (!wrapper.instance || wrapper.isAlias || typeof wrapper.instance !== 'object') return false;
      if (!wrapper.isDependencyTreeStatic()) {
        const prototype = Object.getPrototypeOf(wrapper.instance);
        const hasFlows = this.scanner.getAllMethodNames(prototype).some((name) => this.metadata.flow(prototype[name]));
        if (hasFlows) this.engine.logger.warn(`${String(wrapper.name)} is request-scoped; its @Flow methods are ignored (flows need a singleton provider).`);
        return false;
      }
      return true;
    });
  }
}
