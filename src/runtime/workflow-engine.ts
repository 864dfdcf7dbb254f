import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { indexWorkflow } from '../definition/graph.js';
import type { WorkflowGraph } from '../definition/graph.js';
import type { ExecutionStatus, WorkflowDefinition, WorkflowDefinitionWithExecutors, WorkflowExecution } from '../definition/types.js';
import { NODE_EXECUTORS, TERMINAL_STATUSES } from '../definition/types.js';
import { subWorkflowIds, validateWorkflow } from '../definition/validate.js';
import { EngineClosedError, ExecutionNotFoundError, InvalidArgumentError, InvalidStateError, WorkflowNotFoundError } from '../errors.js';
import type { ExecutionStore } from '../store/store.js';
import { publishDelays, target, wakeExecution } from './advance.js';
import { MAX_SUB_WORKFLOW_DEPTH, notifyParent } from './sub-workflows.js';
import { resolveEngineConfig } from './config.js';
import type { EngineConfig, EngineConfigInput } from './config.js';
import { DLQManager } from './dlq-manager.js';
import type { DLQItem } from './dlq-manager.js';
import { nodeJobId, WORKFLOW_JOB } from './jobs.js';
import type { WorkflowJobData } from './jobs.js';
import { NodeProcessor } from './node-processor.js';
import { QueueManager } from './queue-manager.js';
import type { NodeRegistry } from './registry.js';
import { EventStreamManager } from './events.js';
import type { MetricsCollector } from './metrics.js';
import { CircuitBreakerRegistry } from './resilience/circuit-breaker.js';
import { RateLimiter } from './resilience/rate-limit.js';
import type { EventHandler, SpaneEvent, SubscribeOptions } from './events.js';
import { consoleLogger, SettleSignals } from './runtime.js';
import type { Logger, Runtime } from './runtime.js';
import { TriggerManager } from './triggers.js';
import type { ScheduleInfo, WebhookOptions, WebhookRequest } from './triggers.js';
import { WorkerManager } from './worker-manager.js';
import { WorkflowCache } from './workflow-cache.js';
import type { WorkflowCacheOptions } from './workflow-cache.js';

/** A Redis connection the engine may copy, or the options/URL to open one. */
export type RedisConnectionInput = Redis | RedisOptions | string;

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
  /** Engine options; see {@link EngineConfig}. */
  config?: EngineConfigInput;
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
}

/** Per-call options of {@link WorkflowEngine.enqueueWorkflow}. */
export interface EnqueueOptions {
  /** Start the entry node after this many milliseconds. */
  delay?: number;
  /** BullMQ priority of the entry job (1 is highest). */
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
}

const WAITABLE: readonly ExecutionStatus[] = ['completed', 'failed', 'cancelled'];

/**
 * Runs DAG workflows on BullMQ: every node is a job in `node-execution`, with parallel
 * branches, data passing, branching, retries, continueOnFail, a dead letter queue, delays, and
 * pause/resume/cancel.
 *
 * @example
 * ```ts
 * const engine = new WorkflowEngine(registry, new InMemoryExecutionStore(), new Redis());
 * await engine.registerWorkflow(workflow);
 * engine.startWorkers(5);
 * const executionId = await engine.enqueueWorkflow('fetch-and-transform', { userId: 123 });
 * const done = await engine.waitForExecution(executionId);
 * await engine.close();
 * ```
 */
export class WorkflowEngine {
  private readonly rt: Runtime;
  private readonly connection: Redis;
  private readonly processor: NodeProcessor;
  private readonly workers: WorkerManager;
  private readonly dlq: DLQManager;
  private readonly triggers: TriggerManager;
  private closing: Promise<void> | undefined;

  /** Options-object form. */
  constructor(options: WorkflowEngineOptions);
  /**
   * Positional form, as in the spec. A `metricsCollector` is attached to the engine;
   * `payloadManager` is a reserved position that this version refuses a value for.
   */
  constructor(
    registry: NodeRegistry,
    stateStore: ExecutionStore,
    redis: RedisConnectionInput,
    metricsCollector?: MetricsCollector,
    circuitBreakerRegistry?: CircuitBreakerRegistry,
    cacheOptions?: WorkflowCacheOptions,
    payloadManager?: undefined,
    engineConfig?: EngineConfigInput,
  );
  constructor(
    first: NodeRegistry | WorkflowEngineOptions,
    stateStore?: ExecutionStore,
    redis?: RedisConnectionInput,
    metricsCollector?: MetricsCollector,
    circuitBreakerRegistry?: CircuitBreakerRegistry,
    cacheOptions?: WorkflowCacheOptions,
    payloadManager?: undefined,
    engineConfig?: EngineConfigInput,
  ) {
    const options: WorkflowEngineOptions = isOptionsObject(first)
      ? first
      : {
          registry: first,
          store: stateStore as ExecutionStore,
          connection: redis as RedisConnectionInput,
          config: engineConfig ?? {},
          cacheOptions: cacheOptions ?? {},
          ...(circuitBreakerRegistry === undefined ? {} : { circuitBreakers: circuitBreakerRegistry }),
          ...(metricsCollector === undefined ? {} : { metrics: metricsCollector }),
        };
    if (payloadManager !== undefined && payloadManager !== null) {
      throw new InvalidArgumentError("WorkflowEngine: 'payloadManager' is not supported by this version; pass undefined");
    }
    if (options.registry === undefined || typeof options.registry.get !== 'function') throw new InvalidArgumentError('WorkflowEngine: a NodeRegistry is required');
    if (options.store === undefined || typeof options.store.getExecution !== 'function') throw new InvalidArgumentError('WorkflowEngine: an ExecutionStore is required');
    const config = resolveEngineConfig(options.config ?? {});
    this.connection = openConnection(options.connection ?? 'redis://127.0.0.1:6379');
    const queues = new QueueManager(this.connection, config);
    this.rt = {
      store: options.store,
      registry: options.registry,
      config,
      queues,
      workflows: new WorkflowCache(options.store, options.cacheOptions),
      logger: options.logger ?? consoleLogger,
      settled: new SettleSignals(),
      events: new EventStreamManager(this.connection, config, options.logger ?? consoleLogger),
      breakers: options.circuitBreakers ?? new CircuitBreakerRegistry(),
      rateLimiter: new RateLimiter(this.connection, config.prefix),
    };
    this.processor = new NodeProcessor(this.rt);
    this.workers = new WorkerManager(this.rt, this.connection, this.processor, (job) => this.runWorkflowJob(job));
    this.dlq = new DLQManager(this.rt);
    this.triggers = new TriggerManager(this.rt, (workflowId, data) => this.enqueueWorkflow(workflowId, data));
    options.metrics?.attach(this);
  }

  /** The effective configuration, defaults included. */
  getConfig(): EngineConfig {
    return structuredClone(this.rt.config);
  }

  /**
   * Validates and stores a workflow. Every problem is reported at once in a
   * {@link WorkflowValidationError}, and nothing is stored for a refused definition. Returns the
   * stored version (unchanged definitions keep theirs). Executors carried by a DSL-built
   * workflow are registered in the engine's registry. Schedule triggers become BullMQ job
   * schedulers, and schedulers of the workflow that its triggers no longer list are removed.
   */
  async registerWorkflow(workflow: WorkflowDefinitionWithExecutors): Promise<number> {
    this.assertOpen('register a workflow');
    const registry = this.rt.registry;
    const carried = workflow?.[NODE_EXECUTORS] ?? [];
    const def = validateWorkflow(workflow, { hasNodeType: (t) => registry.has(t) || carried.some((c) => c.type === t) });
    for (const { type, executor } of carried) registry.register(type, executor);
    const version = await this.rt.store.saveWorkflow(def);
    this.rt.workflows.remember(indexWorkflow({ ...def, version }), version);
    await this.triggers.syncSchedules(def);
    const cycle = await this.subWorkflowCycle(def);
    if (cycle !== undefined) {
      this.rt.logger.warn(
        `workflow '${def.id}' starts itself as a sub-workflow (${cycle.join(' -> ')}); each run stops at nesting depth ${MAX_SUB_WORKFLOW_DEPTH} unless a branch ends it sooner`,
      );
    }
    return version;
  }

  /**
   * Creates or updates a cron schedule (`schedule:{workflowId}:{cron}`) that starts the workflow;
   * idempotent. Refuses an invalid cron or timezone with a {@link WorkflowValidationError}.
   */
  async registerScheduleWithUpsert(workflowId: string, cron: string, timezone?: string): Promise<void> {
    this.assertOpen('register a schedule');
    await this.triggers.upsertSchedule(workflowId, cron, timezone);
  }

  /** Job schedulers from `start` to `end` (inclusive; -1 is the last), by next run. */
  async getJobSchedulers(start = 0, end = -1, asc = true): Promise<ScheduleInfo[]> {
    return this.triggers.getJobSchedulers(start, end, asc);
  }

  /** One job scheduler by id (`schedule:{workflowId}:{cron}`), or null. */
  async getJobScheduler(schedulerId: string): Promise<ScheduleInfo | null> {
    return this.triggers.getJobScheduler(schedulerId);
  }

  /** Removes every schedule of the workflow; returns how many were removed. */
  async removeWorkflowSchedulers(workflowId: string): Promise<number> {
    return this.triggers.removeWorkflowSchedulers(workflowId);
  }

  /**
   * Starts every workflow (registered by any engine sharing the store) with a webhook trigger on
   * `path` and a matching method; returns the execution ids (`[]` when none matches). Signed
   * triggers are refused here: use {@link handleWebhook}.
   */
  async triggerWebhook(path: string, method: string, body: unknown): Promise<string[]> {
    this.assertOpen('trigger a webhook');
    return this.triggers.triggerWebhook(path, method, body);
  }

  /**
   * Handles a raw webhook request: body size limit, HMAC signatures of triggers with a `secret`,
   * JSON parsing, then starts the matching workflows. Throws a `WebhookRequestError` whose
   * `httpStatus` (401, 413, 400) the HTTP layer can answer with; nothing is started then.
   *
   * @example
   * ```ts
   * app.post('/webhooks/*', async (req, res) => {
   *   try {
   *     const ids = await engine.handleWebhook({ path: req.params[0], method: 'POST', rawBody: req.rawBody, headers: req.headers });
   *     res.json({ executionIds: ids });
   *   } catch (err) {
   *     if (err instanceof WebhookRequestError) res.status(err.httpStatus).json({ error: err.message });
   *     else throw err;
   *   }
   * });
   * ```
   */
  async handleWebhook(request: WebhookRequest, options?: WebhookOptions): Promise<string[]> {
    this.assertOpen('handle a webhook');
    return this.triggers.handleWebhook(request, options);
  }

  /**
   * Calls `handler` for every event (of one execution, with `executionId`) published by any
   * engine sharing this Redis from now on. Returns the function that unsubscribes.
   *
   * @example
   * ```ts
   * const stop = engine.subscribe((e) => console.log(e.type, e.nodeId ?? ''), { executionId });
   * ```
   */
  subscribe(handler: EventHandler, options?: SubscribeOptions): () => void {
    this.assertOpen('subscribe to events');
    return this.rt.events.subscribe(handler, options);
  }

  /**
   * Calls `observer` synchronously for every event this engine itself publishes (also with
   * `events: false`), without a Redis round trip; for in-process consumers such as metrics.
   */
  observeEvents(observer: EventHandler): () => void {
    return this.rt.events.observeLocal(observer);
  }

  /** Events as an async iterable; leaving the loop unsubscribes. See {@link subscribe}. */
  events(options?: SubscribeOptions): AsyncIterableIterator<SpaneEvent> {
    this.assertOpen('subscribe to events');
    return this.rt.events.iterate(options);
  }

  /** Resolves once event subscriptions are connected (events published after it are delivered). */
  async eventsReady(): Promise<void> {
    await this.rt.events.ready();
  }

  /** The stored definition (latest version unless `version` is given), or undefined. */
  async getWorkflow(workflowId: string, version?: number): Promise<WorkflowDefinition | undefined> {
    return (await this.rt.store.getWorkflow(workflowId, version)) ?? undefined;
  }

  /** The execution with its node results, or undefined. */
  async getExecution(executionId: string): Promise<WorkflowExecution | undefined> {
    return (await this.rt.store.getExecution(executionId)) ?? undefined;
  }

  /**
   * Starts an execution of the latest version of `workflowId`. Resolves with its id once the
   * execution is stored and its entry job is queued; when queueing fails the execution is marked
   * failed and the error is thrown.
   */
  async enqueueWorkflow(workflowId: string, initialData?: unknown, options: EnqueueOptions = {}): Promise<string> {
    this.assertOpen('enqueue a workflow');
    const graph = await this.latestGraph(workflowId);
    assertJson(initialData, 'initialData');
    const [id] = await this.startExecutions([{ graph, initialData, options }]);
    return id!;
  }

  /**
   * Starts several executions. Every item is checked first (workflow exists, data is JSON), so
   * either all start or none does; the entry jobs are queued in one round trip.
   */
  async enqueueBulkWorkflows(items: readonly BulkWorkflowEnqueue[]): Promise<string[]> {
    this.assertOpen('enqueue workflows');
    if (!Array.isArray(items)) throw new InvalidArgumentError('enqueueBulkWorkflows expects an array');
    const prepared = [];
    for (const [i, item] of items.entries()) {
      assertJson(item.initialData, `items[${i}].initialData`);
      prepared.push({ graph: await this.latestGraph(item.workflowId), initialData: item.initialData, options: item.options ?? {} });
    }
    return this.startExecutions(prepared);
  }

  /**
   * Creates an execution now (status `pending`) that starts at `executeAt`. Returns its id; it can
   * be cancelled before it starts.
   */
  async scheduleWorkflow(workflowId: string, initialData: unknown, executeAt: Date | number): Promise<string> {
    this.assertOpen('schedule a workflow');
    const at = executeAt instanceof Date ? executeAt.getTime() : executeAt;
    if (typeof at !== 'number' || !Number.isFinite(at)) throw new InvalidArgumentError('scheduleWorkflow: executeAt must be a Date or epoch milliseconds');
    const delay = at - Date.now();
    if (delay < 0) throw new InvalidArgumentError(`scheduleWorkflow: executeAt ${new Date(at).toISOString()} is in the past`);
    const graph = await this.latestGraph(workflowId);
    assertJson(initialData, 'initialData');
    const executionId = randomUUID();
    await this.rt.store.createExecution(newExecution(executionId, graph, initialData, 'pending'));
    try {
      await this.rt.queues.workflowQueue.add(WORKFLOW_JOB, { workflowId, executionId }, { jobId: startJobId(executionId), delay });
    } catch (err) {
      await this.rt.store.transitionExecution(executionId, ['pending'], 'failed', { error: `could not be scheduled: ${String(err)}` });
      throw err;
    }
    return executionId;
  }

  /**
   * Queues one node of an existing execution and returns the job id. With `inputData` the node
   * runs on that input instead of its parents' data. A node that already has a result is not run
   * again; its job only finishes advancing the execution.
   */
  async enqueueNode(executionId: string, workflowId: string, nodeId: string, inputData?: unknown): Promise<string> {
    this.assertOpen('enqueue a node');
    const exec = await this.requireExecution(executionId);
    if (exec.workflowId !== workflowId) throw new InvalidArgumentError(`Execution '${executionId}' runs workflow '${exec.workflowId}', not '${workflowId}'`);
    const graph = await this.rt.workflows.get(exec.workflowId, exec.workflowVersion);
    const node = graph.nodes.get(nodeId);
    if (node === undefined) throw new InvalidArgumentError(`Workflow '${workflowId}' has no node '${nodeId}'`);
    assertJson(inputData, 'inputData');
    await this.rt.queues.enqueueNodes(target(exec), [node], inputData === undefined ? {} : { inputData });
    return nodeJobId(executionId, nodeId);
  }

  /** Starts a new execution of the same workflow version with the same initial data; returns its id. */
  async replayWorkflow(executionId: string): Promise<string> {
    this.assertOpen('replay a workflow');
    const exec = await this.requireExecution(executionId);
    const graph = await this.rt.workflows.get(exec.workflowId, exec.workflowVersion);
    const [id] = await this.startExecutions([{ graph, initialData: exec.initialData, options: {} }]);
    return id!;
  }

  /**
   * Starts this engine's workers (node and workflow queues). Later calls are no-ops. Workers
   * connect in the background; connection faults go to the logger.
   */
  startWorkers(concurrency?: number): void {
    this.assertOpen('start workers');
    const n = concurrency ?? this.rt.config.workerConcurrency;
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`startWorkers: concurrency must be a positive integer, got ${String(concurrency)}`);
    this.workers.start(n);
  }

  /** Resolves when the workers started by {@link startWorkers} are connected. */
  async waitUntilReady(): Promise<void> {
    await this.workers.waitUntilReady();
  }

  /**
   * Pauses an execution: the nodes running now finish, and nothing else runs until
   * {@link resumeWorkflow}. Returns whether the status changed (false when it was not running).
   */
  async pauseWorkflow(executionId: string): Promise<boolean> {
    this.assertOpen('pause a workflow');
    const exec = await this.requireExecution(executionId);
    const changed = await this.rt.store.transitionExecution(executionId, ['running', 'pending'], 'paused', { pausedAt: Date.now() });
    if (changed) this.rt.events.publish({ type: 'workflow:paused', executionId, workflowId: exec.workflowId });
    await this.forEachLiveChild(executionId, (child) => this.pauseWorkflow(child));
    return changed;
  }

  /**
   * Resumes a paused execution where it stopped; delay nodes keep the wait they had left.
   * Returns whether the status changed.
   */
  async resumeWorkflow(executionId: string): Promise<boolean> {
    this.assertOpen('resume a workflow');
    const exec = await this.requireExecution(executionId);
    if (exec.status !== 'paused') return false;
    if (!(await this.rt.store.transitionExecution(executionId, ['paused'], 'running'))) return false;
    this.rt.events.publish({ type: 'workflow:resumed', executionId, workflowId: exec.workflowId });
    const graph = await this.rt.workflows.get(exec.workflowId, exec.workflowVersion);
    const pausedFor = exec.pausedAt === undefined ? 0 : Date.now() - exec.pausedAt;
    const scheduled = await this.rt.queues.workflowQueue.getJob(startJobId(executionId));
    if (scheduled === undefined) await wakeExecution(this.rt, graph, exec, pausedFor);
    await this.forEachLiveChild(executionId, (child) => this.resumeWorkflow(child));
    return true;
  }

  /**
   * Cancels an execution: its waiting and delayed jobs are removed, nodes running in this process
   * see their `signal` aborted, and nothing more runs. Returns whether the status changed.
   */
  async cancelWorkflow(executionId: string): Promise<boolean> {
    this.assertOpen('cancel a workflow');
    const exec = await this.requireExecution(executionId);
    const changed = await this.rt.store.transitionExecution(executionId, ['pending', 'running', 'paused', 'failed'], 'cancelled');
    if (!changed) return false;
    this.processor.abortExecution(executionId);
    this.rt.settled.notify(executionId);
    this.rt.events.publish({ type: 'workflow:cancelled', executionId, workflowId: exec.workflowId });
    await this.forEachLiveChild(executionId, (child) => this.cancelWorkflow(child));
    const graph = await this.rt.workflows.get(exec.workflowId, exec.workflowVersion);
    const ids = [startJobId(executionId), ...[...graph.nodes.keys()].filter((n) => exec.nodeResults[n] === undefined).map((n) => nodeJobId(executionId, n))];
    await Promise.all(
      ids.map(async (id) => {
        const queue = id === ids[0] ? this.rt.queues.workflowQueue : this.rt.queues.nodeQueue;
        const job = await queue.getJob(id);
        if (job === undefined) return;
        // An active job holds a lock and cannot be removed; it sees `cancelled` when it ends.
        await job.remove().catch(() => undefined);
      }),
    );
    // A sub-workflow's parent decides (continueOnFail) what a cancelled child means for it.
    await notifyParent(this.rt, exec);
    return true;
  }

  /** {@link pauseWorkflow} for each id; returns each outcome in order. */
  async pauseBulkWorkflows(executionIds: readonly string[]): Promise<boolean[]> {
    return Promise.all(executionIds.map((id) => this.pauseWorkflow(id)));
  }

  /** {@link resumeWorkflow} for each id; returns each outcome in order. */
  async resumeBulkWorkflows(executionIds: readonly string[]): Promise<boolean[]> {
    return Promise.all(executionIds.map((id) => this.resumeWorkflow(id)));
  }

  /** {@link cancelWorkflow} for each id; returns each outcome in order. */
  async cancelBulkWorkflows(executionIds: readonly string[]): Promise<boolean[]> {
    return Promise.all(executionIds.map((id) => this.cancelWorkflow(id)));
  }

  /** DLQ items from `start` to `end` (inclusive), oldest first. */
  async getDLQItems(start = 0, end = 10): Promise<DLQItem[]> {
    return this.dlq.getDLQItems(start, end);
  }

  /**
   * Re-runs the failed node of a DLQ item; when it succeeds the execution continues to the end.
   * Returns false when there is no such item.
   */
  async retryDLQItem(dlqJobId: string): Promise<boolean> {
    this.assertOpen('retry a DLQ item');
    return this.dlq.retryDLQItem(dlqJobId);
  }

  /** Job counts: node and workflow queues summed at the top level, and every queue on its own. */
  async getQueueStats(): Promise<QueueStats> {
    this.assertOpen('read queue stats');
    const { nodeQueue, workflowQueue, dlqQueue } = this.rt.queues;
    const [node, workflow, dlq] = await Promise.all([counts(nodeQueue), counts(workflowQueue), counts(dlqQueue)]);
    const sum = {} as QueueCounts;
    for (const k of Object.keys(node) as (keyof QueueCounts)[]) sum[k] = node[k] + workflow[k];
    return { ...sum, queues: { 'node-execution': node, 'workflow-execution': workflow, 'dlq-execution': dlq } };
  }

  /**
   * Resolves with the execution once it is completed, failed or cancelled. An execution that
   * ends in this process wakes the waiter at once; one that ends elsewhere is seen at the next
   * poll. Throws {@link InvalidStateError} when `timeoutMs` passes first.
   */
  async waitForExecution(executionId: string, options: WaitOptions = {}): Promise<WorkflowExecution> {
    const timeout = options.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeout;
    const interval = options.intervalMs ?? 100;
    for (;;) {
      // Subscribe before reading, so an end between the read and the wait is not missed.
      const woken = this.rt.settled.wait(executionId, Math.max(0, Math.min(interval, deadline - Date.now())));
      const exec = await this.requireExecution(executionId);
      if (WAITABLE.includes(exec.status)) {
        this.rt.settled.notify(executionId);
        return exec;
      }
      if (Date.now() >= deadline) throw new InvalidStateError(`Execution '${executionId}' is still ${exec.status} after ${timeout} ms`);
      await woken;
    }
  }

  /**
   * Stops the workers (in-flight jobs finish first), closes the queues and the connections the
   * engine opened. The caller's own Redis connection stays open. Safe to call more than once.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.workers.close();
      await this.rt.events.close();
      await this.rt.queues.close();
      await this.connection.quit().catch(() => this.connection.disconnect());
    })();
    return this.closing;
  }

  private async runWorkflowJob(job: Job<WorkflowJobData>): Promise<string | undefined> {
    const { workflowId, executionId, initialData } = job.data;
    if (executionId === undefined) return this.enqueueWorkflow(workflowId, initialData);
    const exec = await this.rt.store.getExecution(executionId);
    if (exec === null || exec.status === 'cancelled' || TERMINAL_STATUSES.includes(exec.status)) return undefined;
    const graph = await this.rt.workflows.get(exec.workflowId, exec.workflowVersion);
    // A paused scheduled execution still gets its entry job; the job parks until resumed.
    await this.rt.queues.enqueueNodes(target(exec), [entryOf(graph)]);
    return executionId;
  }

  private async startExecutions(items: readonly { graph: WorkflowGraph; initialData: unknown; options: EnqueueOptions }[]): Promise<string[]> {
    const { store, queues } = this.rt;
    const started = items.map((item) => ({ ...item, exec: newExecution(randomUUID(), item.graph, item.initialData, 'running') }));
    await Promise.all(started.map((s) => store.createExecution(s.exec)));
    const entries = started.map(({ graph }) => entryOf(graph));
    try {
      await queues.nodeQueue.addBulk(
        started.map(({ exec, graph, options }) => {
          const job = queues.nodeJob(target(exec as WorkflowExecution), entryOf(graph));
          if (options.delay !== undefined) job.opts.delay = (job.opts.delay ?? 0) + options.delay;
          if (options.priority !== undefined) job.opts.priority = options.priority;
          return job;
        }),
      );
    } catch (err) {
      await Promise.all(started.map((s) => store.transitionExecution(s.exec.executionId, ['running'], 'failed', { error: `could not be queued: ${String(err)}` })));
      throw err;
    }
    started.forEach(({ exec }, i) => {
      this.rt.events.publish({ type: 'workflow:started', executionId: exec.executionId, workflowId: exec.workflowId });
      publishDelays(this.rt, exec, [entries[i]!]);
    });
    return started.map((s) => s.exec.executionId);
  }

  /** A chain of sub-workflow calls from `def` back to itself, through the stored workflows. */
  private async subWorkflowCycle(def: WorkflowDefinition): Promise<string[] | undefined> {
    const seen = new Set<string>();
    const walk = async (id: string, path: string[]): Promise<string[] | undefined> => {
      if (id === def.id) return [...path, id];
      if (seen.has(id)) return undefined;
      seen.add(id);
      const callee = await this.rt.store.getWorkflow(id);
      for (const next of callee === null ? [] : subWorkflowIds(callee)) {
        const found = await walk(next, [...path, id]);
        if (found !== undefined) return found;
      }
      return undefined;
    };
    for (const next of subWorkflowIds(def)) {
      const found = await walk(next, [def.id]);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  private async forEachLiveChild(executionId: string, action: (childId: string) => Promise<unknown>): Promise<void> {
    const children = await this.rt.store.getChildExecutions(executionId);
    await Promise.all(children.filter((c) => !TERMINAL_STATUSES.includes(c.status)).map((c) => action(c.executionId)));
  }

  private async latestGraph(workflowId: string): Promise<WorkflowGraph> {
    if (typeof workflowId !== 'string') throw new InvalidArgumentError('workflowId must be a string');
    const def = await this.rt.store.getWorkflow(workflowId);
    if (def === null) throw new WorkflowNotFoundError(workflowId);
    return this.rt.workflows.get(workflowId, def.version ?? 1);
  }

  private async requireExecution(executionId: string): Promise<WorkflowExecution> {
    const exec = await this.rt.store.getExecution(executionId);
    if (exec === null) throw new ExecutionNotFoundError(executionId);
    return exec;
  }

  private assertOpen(operation: string): void {
    if (this.closing !== undefined) throw new EngineClosedError(operation);
  }
}

function isOptionsObject(value: unknown): value is WorkflowEngineOptions {
  return typeof value === 'object' && value !== null && 'registry' in value && 'store' in value;
}

function openConnection(input: RedisConnectionInput): Redis {
  if (input instanceof Redis) return input.duplicate({ maxRetriesPerRequest: null });
  if (typeof input === 'string') return new Redis(input, { maxRetriesPerRequest: null });
  if (typeof input === 'object' && input !== null && typeof (input as { duplicate?: unknown }).duplicate === 'function') {
    // An ioredis instance from another copy of the package.
    return (input as unknown as Redis).duplicate({ maxRetriesPerRequest: null });
  }
  return new Redis({ ...input, maxRetriesPerRequest: null });
}

function newExecution(executionId: string, graph: WorkflowGraph, initialData: unknown, status: ExecutionStatus) {
  return {
    executionId,
    workflowId: graph.definition.id,
    workflowVersion: graph.definition.version ?? 1,
    status,
    initialData,
    depth: 0,
    startedAt: Date.now(),
  };
}

function entryOf(graph: WorkflowGraph) {
  return graph.nodes.get(graph.definition.entryNodeId)!;
}

function startJobId(executionId: string): string {
  return `start__${executionId}`;
}

function assertJson(value: unknown, what: string): void {
  try {
    JSON.stringify(value);
  } catch (err) {
    throw new InvalidArgumentError(`${what} must be JSON-serialisable: ${(err as Error).message}`, { cause: err });
  }
}

async function counts(queue: Pick<QueueManager['nodeQueue'], 'getJobCounts' | 'isPaused'>): Promise<QueueCounts> {
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

