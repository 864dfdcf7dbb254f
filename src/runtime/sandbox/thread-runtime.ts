/**
 * The Runtime a worker thread builds for itself: its own Redis connections, queues, event
 * publisher and rate limiter on the engine's Redis and prefix, a store on the engine's
 * PostgreSQL database, and the executors of the executors module. With it the thread runs the
 * ordinary {@link NodeProcessor}.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { threadId } from 'node:worker_threads';
import type { Redis } from 'ioredis';
import type { ExecutionContext, ExecutionResult, INodeExecutor } from '../../definition/types.js';
import { NonRetryableError, serializeError } from '../../errors.js';
import type { ExecutionStore } from '../../store/store.js';
import { ConnectionErrors } from '../queues/connection-errors.js';
import { COMMAND_RETRIES, openConnection } from '../engine/engine-options.js';
import { EventStreamManager } from '../observe/events.js';
import { Tracing } from '../observe/tracing.js';
import { NodeProcessor } from '../execution/node-processor.js';
import { defaultPayloadManager } from '../execution/payloads.js';
import { QueueManager } from '../queues/queue-manager.js';
import type { NodeRegistry } from '../engine/registry.js';
import { CircuitBreakerRegistry } from '../resilience/circuit-breaker.js';
import { RateLimiter } from '../resilience/rate-limit.js';
import { SettleSignals } from '../engine/runtime.js';
import type { Logger, Runtime } from '../engine/runtime.js';
import { ExecutionHandoff } from '../execution/handoff.js';
import { WorkflowCache } from '../engine/workflow-cache.js';
import type { ThreadSettings } from './env.js';
import { deserialize, serialize } from './serialize.js';
import { remoteStore } from './store-bridge.js';

/** A worker thread's runtime and processor. */
export interface ThreadRuntime {
  readonly rt: Runtime;
  readonly processor: NodeProcessor;
  /** Closes what the thread opened (queues, event stream, connections, its store). */
  close(): Promise<void>;
}

/** Options of {@link createThreadRuntime}. */
export interface ThreadRuntimeOptions {
  /** The thread's executors. */
  registry: NodeRegistry;
  /** Where log lines go. */
  logger: Logger;
  /** A store to use instead of opening one on `settings.databaseUrl`; the thread does not close it. */
  store?: ExecutionStore | undefined;
}

/** Builds the runtime of one worker thread. */
export async function createThreadRuntime(settings: ThreadSettings, options: ThreadRuntimeOptions): Promise<ThreadRuntime> {
  const { config } = settings;
  const { logger } = options;
  let store = options.store;
  let closeStore = async () => {};
  if (store === undefined && settings.storeChannel !== undefined) {
    const remote = remoteStore({ channelName: settings.storeChannel, threadKey: `${process.pid}-${threadId}-${randomUUID().slice(0, 8)}`, hasPayloads: settings.storePayloads });
    store = remote;
    closeStore = async () => remote.close();
  } else if (store === undefined) {
    const [{ default: postgres }, { DrizzleStore }] = await Promise.all([import('postgres'), import('../../store/drizzle/store.js')]);
    // One job at a time per thread: a small pool keeps threads × connections within the server's limit.
    const client = postgres(settings.databaseUrl, { max: settings.databasePoolSize, onnotice: () => {} });
    store = await DrizzleStore.postgres(client, { migrate: false });
    closeStore = () => client.end({ timeout: 5 });
  }
  const connection: Redis = openConnection(settings.redisUrl, null);
  const commands: Redis = openConnection(settings.redisUrl, COMMAND_RETRIES);
  const errors = new ConnectionErrors(logger);
  errors.watchRedis(connection, 'workers');
  errors.watchRedis(commands, 'commands');
  const events = new EventStreamManager({ connection: commands, listenerBase: connection, config, logger });
  const queues = new QueueManager(commands, config);
  const rt: Runtime = {
    store,
    registry: serialisingRegistry(options.registry, logger),
    config,
    queues,
    workflows: new WorkflowCache(store),
    logger,
    settled: new SettleSignals(),
    // A thread's engine runs on real time (a virtual clock is for in-process test engines).
    clock: () => Date.now(),
    // Pause and cancel run in the main thread, which cannot drop a thread's views: none are kept.
    handoff: new ExecutionHandoff(0),
    events,
    breakers: new CircuitBreakerRegistry(),
    rateLimiter: new RateLimiter(commands, config.prefix),
    // The engine writes its effective threshold into the config it hands to threads.
    payloads: defaultPayloadManager(store, config.payloadThresholdBytes),
    // A thread traces when its own process-wide provider is registered (docs/tracing.md).
    tracing: new Tracing(undefined, logger),
  };
  const processor = new NodeProcessor(rt);
  let closing: Promise<void> | undefined;
  return {
    rt,
    processor,
    close() {
      closing ??= (async () => {
        await events.close();
        await queues.close();
        // A quit that fails (Redis away) still ends in a dropped socket.
        await Promise.all([connection, commands].map((c) => c.quit().catch(() => c.disconnect())));
        await closeStore();
      })();
      return closing;
    },
  };
}

/**
 * The registry as the thread's NodeProcessor sees it: each executor gets its input back from the
 * thread-boundary format ({@link deserialize}), and what it returns as `data` is turned into it
 * ({@link serialize}): BigInt, Map, Set, Buffer and circular values survive the trip to the store
 * and the main thread instead of failing or being lost.
 */
export function serialisingRegistry(registry: NodeRegistry, logger: Logger): NodeRegistry {
  const wrapped = new WeakMap<INodeExecutor, INodeExecutor>();
  const wrap = (executor: INodeExecutor, nodeType: string): INodeExecutor => {
    let w = wrapped.get(executor);
    if (w === undefined) {
      w = {
        async execute(context: ExecutionContext): Promise<ExecutionResult> {
          const input = context.inputData === undefined ? undefined : deserialize(context.inputData);
          const result: unknown = await executor.execute({ ...context, inputData: input });
          if (typeof result !== 'object' || result === null || !('data' in result)) return result as ExecutionResult;
          const where = `node '${context.nodeId}' (${nodeType}) of execution ${context.executionId}`;
          let data: unknown;
          try {
            data = serialize((result as ExecutionResult).data, { onWarning: (message) => logger.warn(`${where}: ${message}`) });
          } catch (err) {
            // A getter or toJSON that throws: the same output would fail again, so no retry.
            throw new NonRetryableError(`node '${context.nodeId}' returned data that cannot be serialised: ${serializeError(err).message}`, { cause: err });
          }
          return { ...(result as ExecutionResult), data };
        },
      };
      wrapped.set(executor, w);
    }
    return w;
  };
  return new Proxy(registry, {
    get(target, prop) {
      if (prop === 'get') {
        return (nodeType: string) => {
          const executor = target.get(nodeType);
          return executor === undefined ? undefined : wrap(executor, nodeType);
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
