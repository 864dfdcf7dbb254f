import { Cluster, Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { InvalidArgumentError, InvalidConfigError } from '../../errors.js';
import type { ExecutionStore } from '../../store/store.js';
import type { SqlBackend } from '../queues/backends/sql-backend.js';
import { resolveEngineConfig } from './config.js';
import type { EngineConfig, ResolvedEngineConfig } from './config.js';
import { withTestEngineDefaults } from './test-hooks.js';
import type { MetricsCollector } from '../observe/metrics.js';
import type { QueueManager } from '../queues/queue-manager.js';
import { isPayloadManager } from '../execution/payloads.js';
import type { PayloadManager } from '../execution/payloads.js';
import type { NodeRegistry } from './registry.js';
import type { CircuitBreakerRegistry } from '../resilience/circuit-breaker.js';
import type { Clock, Logger } from './runtime.js';
import type { Telemetry } from 'bullmq';
import type { TracingOption } from '../observe/tracing.js';
import type { WorkflowCacheOptions } from './workflow-cache.js';
import type { WebhookSecretResolver } from '../triggers/webhooks.js';

/**
 * A Redis connection the engine may copy (an ioredis `Redis`, or a `Cluster` for a Redis
 * Cluster), or the options/URL to open one.
 */
export type RedisConnectionInput = Redis | Cluster | RedisOptions | string;

/** Whether `input` is an ioredis `Cluster` (of this or another installed copy of ioredis). */
export function isRedisCluster(input: unknown): input is Cluster {
  return input instanceof Cluster || (typeof input === 'object' && input !== null && (input as { isCluster?: unknown }).isCluster === true);
}

/**
 * A copy of an ioredis instance with `overrides` on its connections. A `Cluster` copy keeps its
 * startup nodes and passes the overrides to the connection of each node (`redisOptions`), where
 * ioredis reads settings such as `maxRetriesPerRequest`; `Cluster.duplicate` takes nodes first.
 */
export function duplicateConnection(input: Redis | Cluster, overrides: RedisOptions): Redis {
  if (isRedisCluster(input)) {
    const copy = input.duplicate([], { redisOptions: { ...input.options.redisOptions, ...overrides } });
    // The engine uses the commands both classes share (ioredis' Commander); typed as one.
    return copy as unknown as Redis;
  }
  return input.duplicate(overrides);
}

/** Options-object form of the {@link WorkflowEngine} constructor. */
export interface WorkflowEngineOptions {
  /** Executors by node type. */
  registry: NodeRegistry;
  /** Where definitions, executions and results live. */
  store: ExecutionStore;
  /**
   * Redis to use. An ioredis instance is copied (with the settings BullMQ's workers need) and
   * never closed by the engine; options or a URL open connections the engine owns.
   * @defaultValue 'redis://127.0.0.1:6379'
   */
  connection?: RedisConnectionInput;
  /**
   * A PostgreSQL-family queue backend ({@link SqlBackend.postgres} or {@link SqlBackend.embedded})
   * instead of Redis; not together with `connection`. The engine leaves it open on `close()`
   * (engines from {@link createEngine} close theirs).
   * @defaultValue none: the engine runs on Redis
   */
  backend?: SqlBackend;
  /** Engine options; see {@link EngineConfig}. */
  config?: EngineConfig;
  /** Definition cache options. */
  cacheOptions?: WorkflowCacheOptions;
  /**
   * Circuit breakers of external node types; share one registry between engines of a process to
   * share breaker state.
   * @defaultValue a new CircuitBreakerRegistry
   */
  circuitBreakers?: CircuitBreakerRegistry;
  /** Metrics to record this engine's events into (same as `metrics.attach(engine)`). */
  metrics?: MetricsCollector;
  /**
   * Where worker-side faults are reported.
   * @defaultValue console
   */
  logger?: Logger;
  /**
   * Where the engine reads the time it records and schedules from (node and execution
   * timestamps, event timestamps, delay-node due times, `scheduleWorkflow` delays), in epoch ms.
   * BullMQ's own timers stay on real time. `spane/testing` passes a virtual clock it moves with
   * `advanceTime`; production code leaves it out.
   * @defaultValue `Date.now`
   */
  clock?: Clock;
  /**
   * Claim check for large values. By default the engine offloads values over
   * `config.payloadThresholdBytes` to the store's payload table when the store implements
   * `PayloadStore` (the built-in stores do); pass a {@link PayloadManager} to choose the storage
   * or threshold (its threshold then wins over the config's), or `false` to keep every new value
   * inline (references already stored still resolve).
   * @defaultValue a PayloadManager over `store`, when it has payload storage
   */
  payloads?: PayloadManager | false;
  /**
   * Resolves webhook secrets given as `{ ref: 'name' }`, on each request, so the secret is never
   * stored in the definition. Return undefined when there is no such secret: the request is then
   * refused like a bad signature, and the logger is warned (naming the reference, never a value).
   * @defaultValue none: `{ ref }` secrets cannot be resolved
   */
  resolveWebhookSecret?: WebhookSecretResolver;
  /**
   * OpenTelemetry spans of executions and node attempts (docs/tracing.md): `true` through the
   * global tracer provider, `{ tracer }` through that tracer, `false` off (`@opentelemetry/api`
   * is then never loaded). `@opentelemetry/api` is an optional peer dependency; without it
   * tracing is off.
   * @defaultValue on when `@opentelemetry/api` is installed and a tracer provider is registered
   */
  tracing?: TracingOption;
  /**
   * BullMQ's own instrumentation (its `telemetry` option, e.g. `new BullMQOtel('spane')` from
   * `bullmq-otel`), passed to this engine's queues, workers and flow producer. Not carried into
   * worker threads (`useWorkerThreads`).
   * @defaultValue none
   */
  bullmqTelemetry?: Telemetry;
}

/** Options of {@link WorkflowEngine.getExecution}. */
export interface GetExecutionOptions {
  /**
   * Return the execution as stored: large values appear as claim-check references
   * (`{ $spanePayload, bytes }`) instead of being loaded.
   * @defaultValue false
   */
  raw?: boolean;
}

/** Options of {@link WorkflowEngine.registerWorkflow}. */
export interface RegisterWorkflowOptions {
  /**
   * What changed, stored with the new version and listed by `getWorkflowVersions`. Ignored when
   * the definition is unchanged (no version is created).
   */
  changeNotes?: string;
}

/** Per-call options of {@link WorkflowEngine.enqueueWorkflow}. */
export interface EnqueueOptions {
  /**
   * Start the entry node after this many milliseconds (a finite number ≥ 0).
   * @defaultValue 0
   */
  delay?: number;
  /**
   * BullMQ priority of the entry job: an integer from 0 to 2,097,151, 1 the highest, 0 none.
   * @defaultValue 0 (no priority)
   */
  priority?: number;
}

/** One item of {@link WorkflowEngine.enqueueBulkWorkflows}. */
export interface BulkWorkflowEnqueue {
  workflowId: string;
  initialData?: unknown;
  options?: EnqueueOptions;
}

/** Job counts of one queue. */
export interface QueueCounts {
  waiting: number;
  active: number;
  completed: number;
  failed: number;
  delayed: number;
  paused: number;
}

/** What {@link WorkflowEngine.getQueueStats} returns: node and workflow queues summed, plus each queue. */
export interface QueueStats extends QueueCounts {
  queues: { 'node-execution': QueueCounts; 'workflow-execution': QueueCounts; 'dlq-execution': QueueCounts };
}

/** Options of {@link WorkflowEngine.waitForExecution}. */
export interface WaitOptions {
  /**
   * Give up after this many milliseconds.
   * @defaultValue 30000
   */
  timeoutMs?: number;
  /**
   * How often to look at the store for executions that end in other processes (ms).
   * @defaultValue 100
   */
  intervalMs?: number;
  /**
   * Return the execution as stored, with claim-check references instead of large values.
   * @defaultValue false
   */
  raw?: boolean;
}

/** Resources an engine closes after its own (set by `createEngine`). Internal. */
export const OWNED_RESOURCES = Symbol('spane.ownedResources');

/** {@link WorkflowEngineOptions} plus what `createEngine` hands over. Internal. */
export interface OwningEngineOptions extends WorkflowEngineOptions {
  [OWNED_RESOURCES]?: readonly { close(): Promise<void> }[];
}

/** Whether the constructor got the options-object form. */
export function isOptionsObject(value: unknown): value is WorkflowEngineOptions {
  return typeof value === 'object' && value !== null && 'registry' in value && 'store' in value;
}

/** The spec's positional constructor arguments, as the options object. */
export function positionalOptions(
  registry: NodeRegistry,
  store: ExecutionStore | undefined,
  redis: RedisConnectionInput | undefined,
  metrics: MetricsCollector | undefined,
  circuitBreakers: CircuitBreakerRegistry | undefined,
  cacheOptions: WorkflowCacheOptions | undefined,
  payloads: PayloadManager | undefined,
  config: EngineConfig | undefined,
): WorkflowEngineOptions {
  return {
    registry,
    store: store as ExecutionStore,
    connection: redis as RedisConnectionInput,
    config: config ?? {},
    cacheOptions: cacheOptions ?? {},
    ...(circuitBreakers === undefined ? {} : { circuitBreakers }),
    ...(metrics === undefined ? {} : { metrics }),
    ...(payloads === undefined || payloads === null ? {} : { payloads }),
  };
}

/**
 * Checks the registry, store and `payloads` options, and resolves the config. An explicit
 * PayloadManager (returned) decides the claim-check threshold, and `payloads: false` turns the
 * claim check off; either is written into the config, which worker threads read.
 */
export function checkEngineOptions(options: WorkflowEngineOptions): { config: ResolvedEngineConfig; payloads: PayloadManager | undefined } {
  const payloads: unknown = options.payloads;
  if (payloads !== undefined && payloads !== false && !isPayloadManager(payloads)) {
    throw new InvalidArgumentError("WorkflowEngine: 'payloads' (the payloadManager) must be a PayloadManager, false or undefined");
  }
  if (typeof options.registry?.get !== 'function') throw new InvalidArgumentError('WorkflowEngine: a NodeRegistry is required');
  if (typeof options.store?.getExecution !== 'function') throw new InvalidArgumentError('WorkflowEngine: an ExecutionStore is required');
  if (options.clock !== undefined && typeof options.clock !== 'function') throw new InvalidArgumentError("WorkflowEngine: 'clock' must be a function returning epoch ms");
  if (options.resolveWebhookSecret !== undefined && typeof options.resolveWebhookSecret !== 'function') {
    throw new InvalidArgumentError("WorkflowEngine: 'resolveWebhookSecret' must be a function (ref, workflowId) => secret");
  }
  checkTracingOptions(options);
  const config = resolveEngineConfig(withTestEngineDefaults(options.config ?? {}));
  if (isRedisCluster(options.connection) && !hasHashTag(config.prefix)) {
    // BullMQ's scripts touch several keys of a queue at once: on a cluster they must share a slot.
    throw new InvalidConfigError(
      `WorkflowEngine: on a Redis Cluster the 'prefix' must hold a hash tag such as '{spane}' (braces around a non-empty name), so that each queue's keys share a slot; got '${config.prefix}'`,
    );
  }
  if (isPayloadManager(payloads)) return { config: { ...config, payloadThresholdBytes: payloads.thresholdBytes }, payloads };
  return { config: payloads === false ? { ...config, payloadThresholdBytes: false } : config, payloads: undefined };
}

/** Refuses a `tracing` or `bullmqTelemetry` option of the wrong shape, before anything opens. */
function checkTracingOptions(options: WorkflowEngineOptions): void {
  const tracing: unknown = options.tracing;
  if (tracing !== undefined && typeof tracing !== 'boolean') {
    const tracer: unknown = typeof tracing === 'object' && tracing !== null ? (tracing as { tracer?: unknown }).tracer : null;
    if (tracer === null || (tracer !== undefined && typeof (tracer as { startSpan?: unknown } | null)?.startSpan !== 'function')) {
      throw new InvalidArgumentError("WorkflowEngine: 'tracing' must be true, false or { tracer? } with an OpenTelemetry Tracer");
    }
  }
  const telemetry: unknown = options.bullmqTelemetry;
  if (telemetry !== undefined) {
    const t = telemetry as { tracer?: { startSpan?: unknown } | null; contextManager?: { with?: unknown } | null } | null;
    if (typeof telemetry !== 'object' || t === null || typeof t.tracer?.startSpan !== 'function' || typeof t.contextManager?.with !== 'function') {
      throw new InvalidArgumentError("WorkflowEngine: 'bullmqTelemetry' must be a BullMQ Telemetry (for example new BullMQOtel(name) from bullmq-otel)");
    }
  }
}

/** How long {@link clusterConnected} waits for a Cluster that is still connecting. */
export const CLUSTER_SETTLE_MS = 2000;

/**
 * Resolves once a `Cluster` that is still connecting is ready or has given up (at most `ms`);
 * at once for anything else. ioredis adds the nodes it was discovering to a Cluster disconnected
 * meanwhile, and those connections stay open and reconnect for ever: wait before closing one.
 */
export async function clusterConnected(connection: unknown, ms: number): Promise<void> {
  if (!isRedisCluster(connection)) return;
  if (connection.status !== 'connecting' && connection.status !== 'connect' && connection.status !== 'reconnecting') return;
  let timer: NodeJS.Timeout | undefined;
  let done: () => void = () => undefined;
  const settled = new Promise<void>((resolve) => {
    done = resolve;
    timer = setTimeout(resolve, ms);
    connection.once('ready', resolve);
    connection.once('end', resolve);
  });
  try {
    await settled;
  } finally {
    clearTimeout(timer);
    connection.off('ready', done);
    connection.off('end', done);
  }
}

/** Whether Redis Cluster hashes keys starting with `prefix` by a tag of it: a `{...}` with something inside. */
function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  if (open < 0) return false;
  const close = prefix.indexOf('}', open + 1);
  return close > open + 1;
}

/**
 * One of the engine's own connections: a copy of the caller's ioredis instance (never closed for
 * them) or a new one. Workers need `maxRetriesPerRequest: null` (they wait out outages); commands
 * issued for callers get a bound, so an outage surfaces as an error instead of a hang.
 */
export function openConnection(input: RedisConnectionInput, maxRetriesPerRequest: number | null): Redis {
  if (input instanceof Redis || isRedisCluster(input)) return duplicateConnection(input, { maxRetriesPerRequest });
  if (typeof input === 'string') return new Redis(input, { maxRetriesPerRequest });
  if (typeof input === 'object' && input !== null && typeof (input as { duplicate?: unknown }).duplicate === 'function') {
    // An ioredis instance from another copy of the package.
    return (input as unknown as Redis).duplicate({ maxRetriesPerRequest });
  }
  return new Redis({ ...input, maxRetriesPerRequest });
}

/** Retries of a command on the commands connection before it fails (ioredis reconnects in between). */
export const COMMAND_RETRIES = 3;

/** Throws an {@link InvalidArgumentError} unless `start`..`end` is a list range: integers, `start ≥ 0`, `end ≥ start` or `-1` (to the last). */
export function assertRange(method: string, start: unknown, end: unknown): void {
  if (Number.isInteger(start) && (start as number) >= 0 && Number.isInteger(end) && ((end as number) >= (start as number) || end === -1)) return;
  throw new InvalidArgumentError(`${method}: start must be an integer ≥ 0 and end an integer ≥ start (or -1 for all), got ${String(start)}, ${String(end)}`);
}

/** Throws an {@link InvalidArgumentError} unless `ids` is an array of strings. */
export function assertIdList(method: string, ids: unknown): void {
  if (Array.isArray(ids) && ids.every((id) => typeof id === 'string')) return;
  throw new InvalidArgumentError(`${method} expects an array of execution ids (strings)`);
}

/** Job counts of one queue (jobs of a paused queue count as paused). */
export async function counts(queue: Pick<QueueManager['nodeQueue'], 'getJobCounts' | 'isPaused'>): Promise<QueueCounts> {
  const [c, paused] = await Promise.all([queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized'), queue.isPaused()]);
  const waiting = (c['waiting'] ?? 0) + (c['prioritized'] ?? 0);
  // BullMQ keeps the jobs of a paused queue in its wait list: report them as paused.
  return {
    waiting: paused ? 0 : waiting,
    active: c['active'] ?? 0,
    completed: c['completed'] ?? 0,
    failed: c['failed'] ?? 0,
    delayed: c['delayed'] ?? 0,
    paused: paused ? waiting : 0,
  };
}
