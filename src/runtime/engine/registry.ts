import type { ExecutionContext, ExecutionResult, INodeExecutor } from '../../definition/types.js';
import { BUILT_IN_NODE_TYPES } from '../../definition/validate.js';
import { InvalidArgumentError } from '../../errors.js';
import type { RateLimit } from '../resilience/rate-limit.js';

/** Turns a node's config into the key of its circuit breaker, or null for no breaker. */
export type CircuitBreakerKeyExtractor = (config: Record<string, unknown>) => string | null;

function hostOf(url: unknown): string | null {
  if (typeof url !== 'string') return null;
  try {
    return new URL(url).host;
  } catch {
    // No host to key a breaker on: the node's own call reports the bad URL.
    return null;
  }
}

/**
 * The external node types that get a circuit breaker by default, and how each is keyed: `http`
 * and `webhook` per host of `config.url`, `database` per `config.connectionId`, `email` per
 * `config.smtpHost` or `config.host`.
 */
export const DEFAULT_EXTERNAL_NODES: Readonly<Record<string, CircuitBreakerKeyExtractor>> = {
  http: (c) => hostOf(c['url']),
  webhook: (c) => hostOf(c['url']) ?? (typeof c['path'] === 'string' ? c['path'] : null),
  database: (c) => (typeof c['connectionId'] === 'string' ? c['connectionId'] : null),
  email: (c) => (typeof c['smtpHost'] === 'string' ? c['smtpHost'] : typeof c['host'] === 'string' ? c['host'] : null),
};

/** An executor object, or a bare function with the same signature. */
export type NodeExecutorLike = INodeExecutor | ((context: ExecutionContext) => Promise<ExecutionResult>);

/**
 * Maps node types to the executors that run them. One registry serves every workflow of an
 * engine; register executors before starting workers.
 *
 * @example
 * ```ts
 * const registry = new NodeRegistry();
 * registry.register('echo', async (ctx) => ({ success: true, data: ctx.inputData }));
 * registry.register('clock', { execute: async () => ({ success: true, data: { now: Date.now() } }) });
 * ```
 */
export class NodeRegistry {
  private readonly executors = new Map<string, INodeExecutor>();
  private readonly rateLimits = new Map<string, RateLimit>();
  private readonly external = new Map<string, CircuitBreakerKeyExtractor>(Object.entries(DEFAULT_EXTERNAL_NODES));

  /** Registers (or replaces) the executor for `nodeType`. Built-in types cannot be overridden. */
  register(nodeType: string, executor: NodeExecutorLike): this {
    if (typeof nodeType !== 'string' || nodeType.length === 0) {
      throw new InvalidArgumentError('NodeRegistry.register: nodeType must be a non-empty string');
    }
    if (BUILT_IN_NODE_TYPES.has(nodeType)) {
      throw new InvalidArgumentError(`NodeRegistry.register: '${nodeType}' is a built-in node type and cannot be replaced`);
    }
    const normalised: INodeExecutor | undefined = typeof executor === 'function' ? { execute: executor } : typeof executor?.execute === 'function' ? executor : undefined;
    if (normalised === undefined) {
      throw new InvalidArgumentError(`NodeRegistry.register('${nodeType}'): executor must have an execute(context) method or be a function`);
    }
    this.executors.set(nodeType, normalised);
    return this;
  }

  /** The executor for `nodeType`, if any. */
  get(nodeType: string): INodeExecutor | undefined {
    return this.executors.get(nodeType);
  }

  /** Whether `nodeType` can run: it has an executor or is built in. */
  has(nodeType: string): boolean {
    return this.executors.has(nodeType) || BUILT_IN_NODE_TYPES.has(nodeType);
  }

  /** Removes the executor of `nodeType`; returns whether there was one. */
  unregister(nodeType: string): boolean {
    return this.executors.delete(nodeType);
  }

  /** Every type with a registered executor. */
  getRegisteredTypes(): string[] {
    return [...this.executors.keys()];
  }

  /**
   * Limits how often nodes of `nodeType` run, across every worker sharing the Redis: a number is
   * runs per second, or give `{ max, duration }` (runs per `duration` ms). Jobs over the limit wait
   * for the next window; they do not fail.
   */
  registerRateLimit(nodeType: string, limit: number | RateLimit): this {
    assertNodeType('registerRateLimit', nodeType);
    const resolved = typeof limit === 'number' ? { max: limit, duration: 1000 } : limit;
    const ok = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n > 0;
    if (!ok(resolved?.max) || !ok(resolved?.duration)) {
      throw new InvalidArgumentError(`registerRateLimit('${nodeType}'): give a positive integer per second or { max, duration } of positive integers`);
    }
    this.rateLimits.set(nodeType, { max: resolved.max, duration: resolved.duration });
    return this;
  }

  /** The rate limit of `nodeType`, if any. */
  getRateLimit(nodeType: string): RateLimit | undefined {
    return this.rateLimits.get(nodeType);
  }

  /**
   * Marks `nodeType` as calling an external system, so its nodes run behind a circuit breaker
   * keyed by `keyExtractor(config)` (per host, per connection, ...).
   */
  registerExternalNode(nodeType: string, keyExtractor: CircuitBreakerKeyExtractor = () => 'default'): this {
    assertNodeType('registerExternalNode', nodeType);
    if (typeof keyExtractor !== 'function') throw new InvalidArgumentError(`registerExternalNode('${nodeType}'): keyExtractor must be a function of the node's config`);
    this.external.set(nodeType, keyExtractor);
    return this;
  }

  /** Whether `nodeType` runs behind a circuit breaker. */
  isExternalNode(nodeType: string): boolean {
    return this.external.has(nodeType);
  }

  /** The breaker key of a node, `type:key` (`type:default` when the config names nothing), or null. */
  getCircuitBreakerKey(nodeType: string, nodeConfig: Record<string, unknown>): string | null {
    const extract = this.external.get(nodeType);
    if (extract === undefined) return null;
    if (typeof nodeConfig !== 'object' || nodeConfig === null) throw new InvalidArgumentError(`getCircuitBreakerKey('${nodeType}'): nodeConfig must be an object`);
    return `${nodeType}:${extract(nodeConfig) ?? 'default'}`;
  }
}

function assertNodeType(method: string, nodeType: unknown): void {
  if (typeof nodeType !== 'string' || nodeType.length === 0) throw new InvalidArgumentError(`NodeRegistry.${method}: nodeType must be a non-empty string`);
}
