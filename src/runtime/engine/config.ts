import { z } from '../../definition/zod.js';
import { InvalidConfigError } from '../../errors.js';

/** The engine's `prefix` when none is configured (a Redis Cluster hash tag). */
export const DEFAULT_PREFIX = '{spane}';

const keepJobs = z.strictObject({
  count: z.number().int().min(0),
  age: z.number().int().min(0),
});

/** Zod schema of {@link ResolvedEngineConfig}; unknown keys are refused. */
export const engineConfigSchema = z.strictObject({
  useFlowProducerForSubWorkflows: z.boolean().default(false),
  useNativeRateLimiting: z.boolean().default(false),
  useJobSchedulers: z.boolean().default(true),
  useWorkerThreads: z.boolean().default(false),
  useSimplifiedEventStream: z.boolean().default(false),
  events: z.boolean().default(true),
  workerConcurrency: z.number().int().min(1).max(10_000).default(5),
  rateLimiter: z.strictObject({ max: z.number().int().min(1), duration: z.number().int().min(1) }).optional(),
  processorFile: z.string().min(1).optional(),
  executorsModule: z.string().min(1).optional(),
  workerThreadsOptions: z
    .strictObject({
      resourceLimits: z
        .strictObject({
          maxOldGenerationSizeMb: z.number().positive().optional(),
          maxYoungGenerationSizeMb: z.number().positive().optional(),
          codeRangeSizeMb: z.number().positive().optional(),
          stackSizeMb: z.number().positive().optional(),
        })
        .optional(),
      execArgv: z.array(z.string()).optional(),
      env: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  prefix: z
    .string()
    .min(1)
    .refine((p) => !p.includes(':'), 'must not contain ":"')
    .default(DEFAULT_PREFIX),
  redisTimeout: z.number().int().min(0).default(5000),
  retention: z
    .strictObject({
      olderThanMs: z.number().int().min(0).optional(),
      keepLast: z.number().int().min(0).optional(),
      everyMs: z.number().int().min(1000),
    })
    .refine((r) => r.olderThanMs !== undefined || r.keepLast !== undefined, 'needs olderThanMs and/or keepLast')
    .optional(),
  lockDuration: z.number().int().min(1000).default(30_000),
  stalledInterval: z.number().int().min(1000).default(30_000),
  maxStalledCount: z.number().int().min(0).default(3),
  payloadThresholdBytes: z.union([z.number().int().min(0), z.literal(false)]).default(50 * 1024),
  removeOnComplete: keepJobs.default({ count: 1000, age: 3600 }),
  removeOnFail: keepJobs.default({ count: 5000, age: 7 * 24 * 3600 }),
  reconcileIntervalMs: z.union([z.number().int().min(0), z.literal(false)]).default(30_000),
  reconcileGraceMs: z.number().int().min(0).default(30_000),
  reconcileBatchSize: z.number().int().min(1).default(1000),
  eagerChains: z.union([z.boolean(), z.strictObject({ maxLength: z.number().int().min(1).max(10_000).optional() })]).default(true),
});

/**
 * Engine options with every default filled in, as {@link WorkflowEngine.getConfig} returns them.
 * What the engine accepts is {@link EngineConfig}: any subset of these.
 */
export interface ResolvedEngineConfig {
  /**
   * Run chain-shaped sub-workflows as BullMQ flows (an aggregator job over the child's node jobs)
   * instead of checkpoint/resume. Other shapes fall back to checkpoint/resume, noted in the
   * parent execution's log.
   * @defaultValue false
   */
  useFlowProducerForSubWorkflows: boolean;
  /**
   * Use BullMQ's worker limiter (configured by `rateLimiter`) for the node worker.
   * @defaultValue false
   */
  useNativeRateLimiting: boolean;
  /**
   * Schedules use BullMQ job schedulers; always on, kept for compatibility.
   * @defaultValue true
   */
  useJobSchedulers: boolean;
  /**
   * Run node jobs in worker threads (BullMQ sandboxed processors): a CPU-bound or crashing
   * executor then cannot block or take down the main thread. Needs a store the threads can share
   * (DrizzleStore on PostgreSQL) and an `executorsModule`; see docs/worker-threads.md.
   * @defaultValue false
   */
  useWorkerThreads: boolean;
  /**
   * Publish events through `job.updateProgress` instead of a dedicated stream.
   * @defaultValue false
   */
  useSimplifiedEventStream: boolean;
  /**
   * Publish node and workflow events for `subscribe()` (in any engine sharing the Redis). Each
   * event is one Redis write; turn it off on engines whose executions nobody watches (the chain
   * benchmark in docs/benchmarks.md shows the cost).
   * @defaultValue true
   */
  events: boolean;
  /**
   * Node jobs processed in parallel by one engine's worker.
   * @defaultValue 5
   */
  workerConcurrency: number;
  /** Global limit of the node worker, when `useNativeRateLimiting` is on: `max` jobs per `duration` ms. */
  rateLimiter?: { max: number; duration: number } | undefined;
  /**
   * A custom sandboxed processor file (absolute, or relative to the working directory), when
   * `useWorkerThreads` is on; by default SPANE's own. Its default export is a BullMQ processor,
   * typically `createSandboxProcessor(...)`. TypeScript files are loaded through jiti.
   */
  processorFile?: string | undefined;
  /**
   * The module worker threads load their executors from, when `useWorkerThreads` is on: a path
   * (absolute or relative to the working directory), file URL or package name, exporting a
   * NodeRegistry as `registry` or as default, or a function returning one. Also read from
   * `SPANE_EXECUTORS_MODULE`. It is imported once in the main thread by `startWorkers` to check it.
   */
  executorsModule?: string | undefined;
  /**
   * Options of the worker threads, when `useWorkerThreads` is on: V8 `resourceLimits` per thread,
   * `execArgv`, and extra `env` variables (added to the main thread's environment).
   */
  workerThreadsOptions?: WorkerThreadsConfig | undefined;
  /**
   * Redis key prefix of every queue. Wrapped in `{}` it is a Redis Cluster hash tag, which keeps
   * all of SPANE's keys in one slot.
   * @defaultValue '\{spane\}'
   */
  prefix: string;
  /**
   * Prune finished executions periodically: every `everyMs`, one worker (a BullMQ job scheduler)
   * deletes those matching `olderThanMs` / `keepLast`, with their results and logs. Off when absent;
   * `engine.pruneExecutions()` prunes on demand.
   */
  retention?: { olderThanMs?: number | undefined; keepLast?: number | undefined; everyMs: number } | undefined;
  /**
   * How long an API call (enqueue, register, cancel, ...) waits for Redis to answer before it
   * fails with `RedisUnavailableError`; nothing is written then. Workers wait out outages.
   * @defaultValue 5000
   */
  redisTimeout: number;
  /**
   * How long a worker's lock on a job lasts (ms) before the job counts as stalled.
   * @defaultValue 30000
   */
  lockDuration: number;
  /**
   * How often workers look for stalled jobs (ms). Lower values recover crashed workers' jobs
   * sooner at the cost of more Redis traffic.
   * @defaultValue 30000
   */
  stalledInterval: number;
  /**
   * Times a node's job may be interrupted (its worker died or lost the lock while running it)
   * and still run again. Past this the node fails like a last failed attempt: a failed result,
   * a DLQ item, the execution failed (or continued with `continueOnFail`). Guards against a node
   * that kills every worker that runs it.
   * @defaultValue 3
   */
  maxStalledCount: number;
  /**
   * Claim check: an initial data, node output or `enqueueNode` input whose JSON is larger than
   * this many bytes is written to the store's payload table, and executions, jobs and events
   * carry a small reference instead; `false` keeps every value inline. Applies when the store
   * implements `PayloadStore` (all built-in stores do). See docs/persistence.md.
   * @defaultValue 51200
   */
  payloadThresholdBytes: number | false;
  /**
   * Completed BullMQ jobs kept, by count and age in seconds (the store keeps the results).
   * @defaultValue \{ count: 1000, age: 3600 \}
   */
  removeOnComplete: { count: number; age: number };
  /**
   * Failed BullMQ jobs kept, by count and age in seconds.
   * @defaultValue \{ count: 5000, age: 604800 \}
   */
  removeOnFail: { count: number; age: number };
  /**
   * How often (ms) the engine's workers look for executions whose queued work was lost (Redis
   * restarted empty, a flush, deleted job rows) and re-enqueue exactly what is missing; also run
   * once when workers start and when Redis reconnects. `0` or `false` turns the periodic pass
   * off (`engine.reconcile()` still runs one). Safe on every engine at once. See
   * docs/reliability.md, "Recovery".
   * @defaultValue 30000
   */
  reconcileIntervalMs: number | false;
  /**
   * How long (ms) a node must have been ready (its last parent settled, or the execution was
   * created) before the reconciler treats its missing job as lost. Covers work in flight: a
   * job that is being enqueued, or one whose worker is still running it.
   * @defaultValue 30000
   */
  reconcileGraceMs: number;
  /**
   * Unfinished executions one reconcile pass checks at most (oldest first); the next pass
   * goes on where this one stopped.
   * @defaultValue 1000
   */
  reconcileBatchSize: number;
  /**
   * Eager chains: when a node settles and its single ready child can run in the same worker, the
   * child runs right away in the parent's BullMQ job instead of a job of its own, saving a queue
   * round trip per node. Each node's result is still written to the store as it settles, with
   * its events, retries, timeouts, rate limit and pause/cancel checks unchanged. A child falls
   * back to a job of its own when it is a delay or sub-workflow node, has no executor in this
   * engine, has other ready siblings, when the chain reaches `maxLength` nodes, the execution is
   * paused or cancelled, the worker is closing, or the child's first attempt fails (its retry goes
   * through the queue with the backoff it would have had). A worker killed mid-chain loses no
   * settled node: the chain's job is redelivered and goes on after the last settled node.
   * `true` means `{ maxLength: 32 }`. Workflows and nodes opt in or out with their own `eager`
   * (node over workflow over this option). Ignored with `useWorkerThreads` and
   * `useNativeRateLimiting` (a chain would bypass the thread pool and the worker's limiter).
   * `false` gives every node a job of its own.
   * See docs/architecture.md, "Eager chains".
   * @defaultValue true
   */
  eagerChains: boolean | { maxLength?: number | undefined };
}

/** Worker thread options of {@link ResolvedEngineConfig.workerThreadsOptions}. */
export interface WorkerThreadsConfig {
  /** V8 limits of each thread; a thread over them is terminated and only its job fails. */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number; codeRangeSizeMb?: number; stackSizeMb?: number } | undefined;
  /** Node options of each thread (default: the main thread's). */
  execArgv?: string[] | undefined;
  /** Variables added to the environment the threads inherit (for example `SPANE_DATABASE_URL`). */
  env?: Record<string, string> | undefined;
}

/**
 * Engine options as the engine accepts them: any subset of {@link ResolvedEngineConfig}, whose
 * fields document each option and its default.
 *
 * @example
 * ```ts
 * const engineConfig: EngineConfig = { useWorkerThreads: true, workerConcurrency: 10 };
 * ```
 */
export type EngineConfig = Partial<ResolvedEngineConfig>;

/** Same as {@link EngineConfig}; the earlier name. */
export type EngineConfigInput = EngineConfig;

/** Fills in defaults and refuses unknown or ill-typed options with an {@link InvalidConfigError}. */
export function resolveEngineConfig(input: unknown = {}): ResolvedEngineConfig {
  const parsed = engineConfigSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) =>
      i.code === 'unrecognized_keys'
        ? `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}unknown option${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${k}'`).join(', ')}`
        : `${i.path.join('.') || '(config)'}: ${i.message}`,
    );
    throw new InvalidConfigError(`Invalid engine config:\n  - ${lines.join('\n  - ')}`, { cause: parsed.error });
  }
  const config = parsed.data;
  if (config.rateLimiter !== undefined && !config.useNativeRateLimiting) {
    throw new InvalidConfigError("Engine option 'rateLimiter' only applies with 'useNativeRateLimiting: true'");
  }
  return config;
}
