import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { indexWorkflow } from '../../definition/graph.js';
import type { WorkflowGraph } from '../../definition/graph.js';
import type { ExecutionStatus, WorkflowDefinition, WorkflowDefinitionWithExecutors, WorkflowExecution } from '../../definition/types.js';
import type { TypedWorkflow, WorkflowInput, WorkflowResult } from '../../definition/typed-workflow.js';
import type { WorkflowSignalName, WorkflowSignalPayload } from '../../definition/typed-signals.js';
import { deliverSignal } from '../execution/signals.js';
import { sendEvent } from '../execution/events-wait.js';
import type { SendEventResult } from '../execution/events-wait.js';
import { NODE_EXECUTORS } from '../../definition/types.js';
import { validateWorkflow } from '../../definition/validate.js';
import { openBackend } from '../queues/backends/open-backend.js';
import type { SqlBackend } from '../queues/backends/sql-backend.js';
import { EngineClosedError, ExecutionNotFoundError, InvalidArgumentError, InvalidStateError, RedisUnavailableError, WorkflowNotFoundError } from '../../errors.js';
import type { ExecutionStore, NewExecution, PruneCriteria, WorkflowVersionInfo } from '../../store/store.js';
import type { WaitRecord } from '../../store/waits.js';
import type { ExecutionCountQuery, ExecutionListQuery, ExecutionStatusCounts, ExecutionSummaryPage } from '../../store/execution-listing.js';
import { countExecutions, listExecutionPage } from './execution-queries.js';
import { target } from '../execution/advance.js';
import type { ResolvedEngineConfig, EngineConfig } from './config.js';
import { DLQManager } from '../queues/dlq-manager.js';
import type { DLQItem } from '../queues/dlq-manager.js';
import { assertJson } from '../../definition/json-check.js';
import { checkInputAgainst, inputSchemaOf } from '../../definition/workflow-input.js';
import {
  assertIdList,
  assertRange,
  checkEngineOptions,
  CLUSTER_SETTLE_MS,
  clusterConnected,
  counts,
  isOptionsObject,
  OWNED_RESOURCES,
  positionalOptions,
} from './engine-options.js';
import type { OwningEngineOptions } from './engine-options.js';
import type {
  BulkWorkflowEnqueue,
  EnqueueOptions,
  GetExecutionOptions,
  QueueStats,
  QueueCounts,
  RedisConnectionInput,
  RegisterWorkflowOptions,
  WaitOptions,
  WorkflowEngineOptions,
} from './engine-options.js';
import { EventStreamManager } from '../observe/events.js';
import { Tracing } from '../observe/tracing.js';
import type { EventHandler, SpaneEvent, SubscribeOptions } from '../observe/events.js';
import { nodeJobId, WORKFLOW_JOB } from '../queues/jobs.js';
import { ExecutionLifecycle, newExecution, startJobId } from '../execution/lifecycle.js';
import type { MetricsCollector } from '../observe/metrics.js';
import { NodeProcessor } from '../execution/node-processor.js';
import { createExecutionChecked, defaultPayloadManager, offloadNodeInput, resolved, resolvedValue } from '../execution/payloads.js';
import type { PayloadManager } from '../execution/payloads.js';
import { QueueManager } from '../queues/queue-manager.js';
import { Reconciler } from '../execution/reconciler.js';
import type { ReconcileOptions, ReconcileSummary } from '../execution/reconciler.js';
import type { NodeRegistry } from './registry.js';
import { CircuitBreakerRegistry } from '../resilience/circuit-breaker.js';
import { RateLimiter } from '../resilience/rate-limit.js';
import { consoleLogger, SettleSignals } from './runtime.js';
import type { Runtime } from './runtime.js';
import { findSubWorkflowCycle, MAX_SUB_WORKFLOW_DEPTH } from '../execution/sub-workflows.js';
import { TriggerManager } from '../triggers/trigger-manager.js';
import type { ScheduleInfo, WebhookOptions, WebhookRequest } from '../triggers/trigger-manager.js';
import { WebhookManager } from '../triggers/webhooks.js';
import { WorkerManager } from '../queues/worker-manager.js';
import { ExecutionHandoff, HANDOFF_TTL_MS } from '../execution/handoff.js';
import { WorkflowCache } from './workflow-cache.js';
import { assertDlqJobId, assertString, assertVersion, checkEnqueueOptions, checkEpochMs, checkGetExecutionOptions, checkSubscription, checkWaitOptions } from './input-checks.js';
import type { WorkflowCacheOptions } from './workflow-cache.js';
import { registerEngineInternals } from './test-hooks.js';
import { assertRunsWorkflow, executionResult, workflowIdOf } from './typed-client.js';
import type { InputFor, StartArgs, TypedExecution, TypedForkOptions, WorkflowRef } from './typed-client.js';
import { forkExecution } from '../execution/fork.js';
import type { ForkOptions } from '../execution/fork.js';
import type { SpaneEventType, TypedEventHandler, TypedSubscribeOptions } from './typed-events.js';

/** Id of the job scheduler that prunes finished executions (the `retention` option). */
const RETENTION_SCHEDULER = 'spane-retention';

const WAITABLE: readonly ExecutionStatus[] = ['completed', 'failed', 'cancelled'];

/**
 * Runs DAG workflows on BullMQ: every node is a job in `node-execution`, with parallel
 * branches, data passing, branching, retries, continueOnFail, a dead letter queue, delays, and
 * pause/resume/cancel.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const engine = new WorkflowEngine(registry, new InMemoryExecutionStore(), new Redis());
 * await engine.registerWorkflow(fetchAndTransform);
 * engine.startWorkers(5);
 * const executionId = await engine.enqueueWorkflow('fetch-and-transform', { userId: 123 });
 * const done = await engine.waitForExecution(executionId);
 * await engine.close();
 * ```
 */
export class WorkflowEngine {
  private readonly rt: Runtime;
  /** Workers' connection: waits out Redis outages. Undefined on the PostgreSQL backends. */
  private readonly connection: Redis | undefined;
  /** Queues, events and rate limits: fails after a few retries, so callers see outages. Undefined on the PostgreSQL backends. */
  private readonly commands: Redis | undefined;
  /** The PostgreSQL-family backend, when not on Redis. */
  private readonly sqlBackend: SqlBackend | undefined;
  /** Closed after the engine (what createEngine opened for it). */
  private readonly owned: readonly { close(): Promise<void> }[];
  private readonly processor: NodeProcessor;
  private readonly workers: WorkerManager;
  private readonly dlq: DLQManager;
  private readonly triggers: TriggerManager;
  private readonly webhooks: WebhookManager;
  private readonly lifecycle: ExecutionLifecycle;
  private readonly reconciler: Reconciler;
  private closing: Promise<void> | undefined;

  /** Options-object form. */
  constructor(options: WorkflowEngineOptions);
  /**
   * Positional form, as in the spec. A `metricsCollector` is attached to the engine; a
   * `payloadManager` replaces the default claim check (see {@link WorkflowEngineOptions.payloads}).
   */
  constructor(
    registry: NodeRegistry,
    stateStore: ExecutionStore,
    redis: RedisConnectionInput,
    metricsCollector?: MetricsCollector,
    circuitBreakerRegistry?: CircuitBreakerRegistry,
    cacheOptions?: WorkflowCacheOptions,
    payloadManager?: PayloadManager,
    engineConfig?: EngineConfig,
  );
  constructor(
    first: NodeRegistry | WorkflowEngineOptions,
    stateStore?: ExecutionStore,
    redis?: RedisConnectionInput,
    metricsCollector?: MetricsCollector,
    circuitBreakerRegistry?: CircuitBreakerRegistry,
    cacheOptions?: WorkflowCacheOptions,
    payloadManager?: PayloadManager,
    engineConfig?: EngineConfig,
  ) {
    const options: WorkflowEngineOptions = isOptionsObject(first)
      ? first
      : positionalOptions(first, stateStore, redis, metricsCollector, circuitBreakerRegistry, cacheOptions, payloadManager, engineConfig);
    const { config, payloads } = checkEngineOptions(options);
    const logger = options.logger ?? consoleLogger;
    const { binding, rateLimits, connection, commands, sqlBackend } = openBackend(options, logger, config.prefix);
    this.connection = connection;
    this.commands = commands;
    this.sqlBackend = sqlBackend;
    this.owned = (options as OwningEngineOptions)[OWNED_RESOURCES] ?? [];
    const clock = options.clock ?? (() => Date.now());
    const queues = new QueueManager(binding, config, clock, options.bullmqTelemetry);
    this.rt = {
      clock,
      store: options.store,
      registry: options.registry,
      config,
      queues,
      workflows: new WorkflowCache(options.store, options.cacheOptions),
      logger,
      settled: new SettleSignals(),
      // With an in-process store a read costs what a copy does: nothing to save.
      handoff: new ExecutionHandoff(options.store.inProcess === true ? 0 : HANDOFF_TTL_MS),
      events: new EventStreamManager({ connection: binding, listenerBase: undefined, config, logger, clock }),
      breakers: options.circuitBreakers ?? new CircuitBreakerRegistry(),
      rateLimiter: new RateLimiter(rateLimits, config.prefix),
      payloads: payloads ?? defaultPayloadManager(options.store, config.payloadThresholdBytes),
      tracing: new Tracing(options.tracing, logger),
    };
    // Loaded now, so that the first job finds it ready; a failed load only turns tracing off.
    void this.rt.tracing.load();
    this.processor = new NodeProcessor(this.rt);
    this.workers = new WorkerManager(this.rt, {
      connection: binding,
      processor: this.processor,
      startWorkflowJob: (job) => this.lifecycle.runWorkflowJob(job),
      telemetry: options.bullmqTelemetry,
    });
    this.dlq = new DLQManager(this.rt);
    const start = (items: BulkWorkflowEnqueue[]) => this.enqueueBulkWorkflows(items);
    this.webhooks = new WebhookManager({ store: options.store, backend: rateLimits, prefix: config.prefix, logger, start, resolveSecret: options.resolveWebhookSecret });
    this.triggers = new TriggerManager(this.rt, this.webhooks);
    this.lifecycle = new ExecutionLifecycle(this.rt, this.processor, (workflowId, data) => this.enqueueWorkflow(workflowId, data));
    this.reconciler = new Reconciler(this.rt, () => this.triggers.restoreSchedules());
    // Redis came back after an outage, possibly empty (a restart without persistence).
    this.commands?.on('ready', () => this.reconciler.kick());
    options.metrics?.attach(this);
    registerEngineInternals(this, { rt: this.rt, nodeWorker: () => this.workers.currentNodeWorker, sqlBackend });
  }

  /** The effective configuration, defaults included. */
  getConfig(): ResolvedEngineConfig {
    return structuredClone(this.rt.config);
  }

  /**
   * Validates and stores a workflow. Every problem is reported at once in a
   * {@link WorkflowValidationError}, and nothing is stored for a refused definition. Returns the
   * stored version (unchanged definitions keep theirs). Executors carried by a DSL-built
   * workflow are registered in the engine's registry. Schedule triggers become BullMQ job
   * schedulers, and schedulers of the workflow that its triggers no longer list are removed.
   * `options.changeNotes` are stored with a new version (see {@link getWorkflowVersions}); they
   * are ignored when the definition is unchanged, since no version is created.
   *
   * @example
   * ```ts
   * const v = await engine.registerWorkflow(fetchAndTransform, { changeNotes: 'retry the fetch 3 times' });
   * ```
   */
  async registerWorkflow(workflow: WorkflowDefinitionWithExecutors, options: RegisterWorkflowOptions = {}): Promise<number> {
    await this.ready('register a workflow');
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('registerWorkflow: options must be an object');
    if (options.changeNotes !== undefined && typeof options.changeNotes !== 'string') {
      throw new InvalidArgumentError(`registerWorkflow: changeNotes must be a string, got ${typeof options.changeNotes}`);
    }
    // Depth (and cycles) first: validation and the stores' canonical JSON recurse into configs.
    assertJson(workflow, 'workflow', { strict: false });
    const registry = this.rt.registry;
    const carried = workflow?.[NODE_EXECUTORS] ?? [];
    const def = validateWorkflow(workflow, { hasNodeType: (t) => registry.has(t) || carried.some((c) => c.type === t) });
    for (const { type, executor, rateLimit } of carried) {
      registry.register(type, executor);
      if (rateLimit !== undefined) registry.registerRateLimit(type, rateLimit);
    }
    const version = await this.rt.store.saveWorkflow(def, options.changeNotes === undefined ? undefined : { changeNotes: options.changeNotes });
    this.rt.workflows.remember(indexWorkflow({ ...def, version }), version);
    this.rt.workflows.rememberInputSchema(def.id, inputSchemaOf(workflow));
    this.webhooks.remember(def);
    await this.triggers.syncSchedules(def);
    const cycle = await findSubWorkflowCycle(this.rt.store, def);
    if (cycle !== undefined) {
      this.rt.logger.warn(
        `workflow '${def.id}' starts itself as a sub-workflow (${cycle.join(' -> ')}); each run stops at nesting depth ${MAX_SUB_WORKFLOW_DEPTH} unless a branch ends it sooner`,
      );
    }
    return version;
  }

  /**
   * Creates or updates a cron schedule (`schedule:{workflowId}:{cron}`) that starts the workflow;
   * idempotent. Refuses an invalid cron or timezone with a {@link WorkflowValidationError}, and a
   * cron, timezone or workflow id that is not a string (or an empty cron) with an
   * `InvalidArgumentError`, before anything reaches Redis.
   */
  async registerScheduleWithUpsert(workflowId: string, cron: string, timezone?: string): Promise<void> {
    assertString('registerScheduleWithUpsert', 'workflowId', workflowId);
    assertString('registerScheduleWithUpsert', 'cron', cron);
    if (timezone !== undefined) assertString('registerScheduleWithUpsert', 'timezone', timezone);
    await this.ready('register a schedule');
    await this.triggers.upsertSchedule(workflowId, { cron, timezone });
  }

  /** Job schedulers from `start` to `end` (inclusive; -1 is the last), by next run. */
  async getJobSchedulers(start = 0, end = -1, asc = true): Promise<ScheduleInfo[]> {
    assertRange('getJobSchedulers', start, end);
    if (typeof asc !== 'boolean') throw new InvalidArgumentError(`getJobSchedulers: asc must be a boolean, got ${typeof asc}`);
    return this.triggers.getJobSchedulers(start, end, asc);
  }

  /** One job scheduler by id (`schedule:{workflowId}:{cron}`), or null. */
  async getJobScheduler(schedulerId: string): Promise<ScheduleInfo | null> {
    assertString('getJobScheduler', 'schedulerId', schedulerId);
    return this.triggers.getJobScheduler(schedulerId);
  }

  /** Removes every schedule of the workflow; returns how many were removed. */
  async removeWorkflowSchedulers(workflowId: string): Promise<number> {
    assertString('removeWorkflowSchedulers', 'workflowId', workflowId);
    return this.triggers.removeWorkflowSchedulers(workflowId);
  }

  /**
   * Starts every workflow (registered by any engine sharing the store) with a webhook trigger on
   * `path` and a matching method; returns the execution ids (`[]` when none matches). Signed
   * triggers are refused here: use {@link handleWebhook}. A path or method that is not a string,
   * a path over 2,048 characters, and a body that is not JSON data (or nests deeper than 128
   * levels) are refused with a `WebhookRequestError` (400, 414) before anything starts.
   */
  async triggerWebhook(path: string, method: string, body: unknown): Promise<string[]> {
    await this.ready('trigger a webhook');
    return this.triggers.triggerWebhook(path, method, body);
  }

  /**
   * Handles a raw webhook request, in this order, starting nothing when a step refuses it: the
   * request's shape (400) and path length (414), the body size (413), the trigger lookup and
   * the signatures of triggers with a `secret` (401, one answer for "no such webhook" and every
   * signature failure), the JSON body (400), then the replay record: a signed delivery seen
   * before (Standard Webhooks `webhook-id`, or the X-Spane-Signature) answers with the ids it
   * started, without starting again. Throws a `WebhookRequestError` whose `httpStatus` the
   * HTTP layer can answer with.
   *
   * @example
   * ```ts
   * import { Hono } from 'hono';
   * const app = new Hono();
   * app.post('/webhooks/*', async (c) => {
   *   try {
   *     const path = c.req.path.slice('/webhooks/'.length);
   *     const ids = await engine.handleWebhook({ path, method: c.req.method, rawBody: await c.req.arrayBuffer(), headers: c.req.header() });
   *     return c.json({ executionIds: ids });
   *   } catch (err) {
   *     if (err instanceof WebhookRequestError) return c.json({ error: err.message }, err.httpStatus);
   *     throw err;
   *   }
   * });
   * ```
   */
  async handleWebhook(request: WebhookRequest, options?: WebhookOptions): Promise<string[]> {
    await this.ready('handle a webhook');
    return this.triggers.handleWebhook(request, options);
  }

  /**
   * Calls `handler` for every event (of one execution, with `executionId`) published by any
   * engine sharing this Redis from now on. Returns the function that unsubscribes. The event is
   * a union discriminated by `type` ({@link TypedSpaneEvent}), narrowed to the `types` listed.
   *
   * @example
   * ```ts
   * const stop = engine.subscribe((e) => console.log(e.type, e.nodeId ?? ''), { executionId });
   * engine.subscribe((e) => console.error(e.nodeId, e.data.continued), { types: ['node:failed'] });
   * ```
   */
  subscribe<const TType extends SpaneEventType = SpaneEventType>(handler: TypedEventHandler<TypedWorkflow, TType>, options?: TypedSubscribeOptions<TType>): () => void;
  /**
   * Calls `handler` for every event of `workflow` (its id; of one execution, with `executionId`)
   * from now on, typed by the workflow: its id, its node ids, and on `node:completed` the output
   * of the node `nodeId` names. Events of every registered version of the id arrive; their node
   * ids are those of the version `workflow` was built as.
   *
   * @example
   * ```ts
   * const stop = engine.subscribe(onboarding, (e) => {
   *   if (e.type === 'node:completed' && e.nodeId === 'fetch') console.log('fetched', e.data);
   * });
   * ```
   */
  subscribe<W extends TypedWorkflow, const TType extends SpaneEventType = SpaneEventType>(
    workflow: W,
    handler: TypedEventHandler<W, TType>,
    options?: TypedSubscribeOptions<TType>,
  ): () => void;
  subscribe(first: unknown, second?: unknown, third?: unknown): () => void {
    this.assertOpen('subscribe to events');
    const typed = typeof first === 'object' && first !== null;
    const handler = typed ? second : first;
    const given = typed ? third : second;
    const options = checkSubscription('subscribe', handler ?? null, given);
    const filter: SubscribeOptions = typed ? { ...options, workflowId: workflowIdOf('subscribe', first) } : options;
    return this.rt.events.subscribe(handler as EventHandler, filter);
  }

  /**
   * Calls `observer` synchronously for every event this engine itself publishes (also with
   * `events: false`), without a Redis round trip; for in-process consumers such as metrics.
   */
  observeEvents(observer: EventHandler): () => void {
    if (typeof observer !== 'function') throw new InvalidArgumentError('observeEvents: the observer must be a function');
    const local = this.rt.events.observeLocal(observer);
    // With useWorkerThreads, node events are published in the threads; they come back here too.
    const threads = this.workers.observeThreadEvents(observer);
    return () => {
      local();
      threads();
    };
  }

  /** Events as an async iterable; leaving the loop unsubscribes. See {@link subscribe}. */
  events(options?: SubscribeOptions): AsyncIterableIterator<SpaneEvent> {
    this.assertOpen('subscribe to events');
    checkSubscription('events', undefined, options);
    return this.rt.events.iterate(options);
  }

  /** Resolves once event subscriptions are connected (events published after it are delivered). */
  async eventsReady(): Promise<void> {
    await this.rt.events.ready();
  }

  /** The stored definition (latest version unless `version` is given), or undefined. */
  async getWorkflow(workflowId: string, version?: number): Promise<WorkflowDefinition | undefined> {
    assertString('getWorkflow', 'workflowId', workflowId);
    assertVersion('getWorkflow', version);
    return (await this.rt.store.getWorkflow(workflowId, version)) ?? undefined;
  }

  /** Every stored version of the workflow, oldest first, with when it was stored and its change notes; `[]` when unknown. */
  async getWorkflowVersions(workflowId: string): Promise<WorkflowVersionInfo[]> {
    if (typeof workflowId !== 'string') throw new InvalidArgumentError('workflowId must be a string');
    return this.rt.store.getWorkflowVersions(workflowId);
  }

  /** Every stored workflow, at its latest version (what a dashboard or a CLI lists). */
  async listWorkflows(): Promise<WorkflowDefinition[]> {
    return this.rt.store.listWorkflows();
  }

  /**
   * The waits of an execution, oldest first: its signal nodes that wait (`state: 'waiting'`),
   * signals kept for a node not reached yet (`delivered`) and those consumed (`resolved`, with
   * `resolution`). `[]` when none, or when the store keeps no waits. See docs/signals.md.
   */
  async getWaits(executionId: string): Promise<WaitRecord[]> {
    assertString('getWaits', 'executionId', executionId);
    return (await this.rt.store.listWaits?.(executionId)) ?? [];
  }

  /** The sub-workflow executions a node of `executionId` started, with their node results; `[]` when none. */
  async getChildExecutions(executionId: string): Promise<WorkflowExecution[]> {
    assertString('getChildExecutions', 'executionId', executionId);
    return this.rt.store.getChildExecutions(executionId);
  }

  /**
   * The execution with its node results, or undefined. Large values kept in the payload table
   * (claim check) are loaded, unless `options.raw` asks for the stored references; a reference
   * whose payload is missing throws `PayloadNotFoundError`.
   */
  async getExecution(executionId: string, options: GetExecutionOptions = {}): Promise<WorkflowExecution | undefined> {
    assertString('getExecution', 'executionId', executionId);
    checkGetExecutionOptions('getExecution', options);
    const exec = await this.rt.store.getExecution(executionId);
    if (exec === null) return undefined;
    return options.raw === true ? exec : resolved(this.rt, exec);
  }

  /**
   * One page of the store's executions, newest first by (`startedAt`, `executionId`), as
   * summaries with node counts by status; pass `nextCursor` back as `cursor` for the next page.
   * A bad query throws an `ExecutionQueryError` naming the option. See
   * {@link ExecutionListQuery} and `ExecutionStore.listExecutionPage`.
   *
   * @example
   * ```ts
   * const { executions, nextCursor } = await engine.listExecutionPage({ workflowId: 'orders', status: 'failed', limit: 20 });
   * ```
   */
  async listExecutionPage(query: ExecutionListQuery = {}): Promise<ExecutionSummaryPage> {
    return listExecutionPage(this.rt.store, query);
  }

  /**
   * How many of the store's executions matching `query` are in each status (every status
   * present). Same filters as {@link listExecutionPage}, without paging.
   */
  async countExecutions(query: ExecutionCountQuery = {}): Promise<ExecutionStatusCounts> {
    return countExecutions(this.rt.store, query);
  }

  /**
   * Starts an execution of the latest version of a workflow, given by its id or as the workflow
   * itself: a DSL-built workflow types `initialData` by its input schema, so a wrong input is a
   * compile error. The workflow must have been registered (with {@link registerWorkflow}), else
   * {@link WorkflowNotFoundError}; the latest registered version of its id runs. Resolves with
   * the execution id once the execution is stored and its entry job is queued; when queueing
   * fails the execution is marked failed and the error is thrown. Options (`delay`, `priority`,
   * nothing else) and data (JSON, at most `MAX_DATA_DEPTH` levels deep) are checked first: a
   * refused call stores nothing.
   *
   * @example
   * ```ts
   * await engine.registerWorkflow(onboarding);
   * const id = await engine.enqueueWorkflow(onboarding, { userId: 1 }); // { userId: '1' } does not compile
   * const same = await engine.enqueueWorkflow('onboarding', { userId: 1 }); // the id form: unchecked input
   * ```
   */
  async enqueueWorkflow<W extends WorkflowRef>(workflow: W, ...args: StartArgs<W>): Promise<string> {
    const [initialData, options = {}] = args as [unknown?, EnqueueOptions?];
    await this.ready('enqueue a workflow');
    const checked = checkEnqueueOptions('enqueueWorkflow', options);
    assertJson(initialData, 'initialData');
    const graph = await this.latestGraph(workflowIdOf('enqueueWorkflow', workflow));
    const [id] = await this.lifecycle.start([{ graph, initialData, options: checked }]);
    return id!;
  }

  /**
   * Starts several executions. Every item is checked first (workflow exists, data is JSON), so
   * either all start or none does; the entry jobs are queued in one round trip.
   */
  async enqueueBulkWorkflows(items: readonly BulkWorkflowEnqueue[]): Promise<string[]>;
  /**
   * Starts one execution of `workflow` per input, each input typed by the workflow's input schema;
   * returns the ids in input order. As the items form: all start or none does.
   *
   * @example
   * ```ts
   * const ids = await engine.enqueueBulkWorkflows(onboarding, [{ userId: 1 }, { userId: 2 }], { priority: 5 });
   * ```
   */
  async enqueueBulkWorkflows<W extends TypedWorkflow>(workflow: W, inputs: readonly WorkflowInput<W>[], options?: EnqueueOptions): Promise<string[]>;
  async enqueueBulkWorkflows(first: unknown, inputs?: unknown, options?: EnqueueOptions): Promise<string[]> {
    if (typeof first === 'object' && first !== null && !Array.isArray(first)) {
      const workflowId = workflowIdOf('enqueueBulkWorkflows', first);
      if (!Array.isArray(inputs)) throw new InvalidArgumentError('enqueueBulkWorkflows: inputs must be an array');
      return this.enqueueBulkWorkflows(inputs.map((initialData: unknown) => ({ workflowId, initialData, ...(options !== undefined && { options }) })));
    }
    const items = first as readonly BulkWorkflowEnqueue[];
    await this.ready('enqueue workflows');
    if (!Array.isArray(items)) throw new InvalidArgumentError('enqueueBulkWorkflows expects an array');
    for (const [i, item] of items.entries()) {
      if (typeof item !== 'object' || item === null) throw new InvalidArgumentError(`enqueueBulkWorkflows: items[${i}] must be an object { workflowId, initialData?, options? }`);
      assertString('enqueueBulkWorkflows', `items[${i}].workflowId`, item.workflowId);
      checkEnqueueOptions(`enqueueBulkWorkflows: items[${i}]`, item.options);
      assertJson(item.initialData, `items[${i}].initialData`);
    }
    // One version lookup per workflow, not per item, and all of them at once; the first failing
    // workflow (in item order) is the error.
    const ids = [...new Set(items.map((item) => item.workflowId))];
    const looked = await Promise.allSettled(ids.map((id) => this.latestGraph(id)));
    const graphs = new Map<string, WorkflowGraph>();
    for (const [i, r] of looked.entries()) {
      if (r.status === 'rejected') throw r.reason;
      graphs.set(ids[i]!, r.value);
    }
    return this.lifecycle.start(items.map((item) => ({ graph: graphs.get(item.workflowId)!, initialData: item.initialData, options: item.options ?? {} })));
  }

  /**
   * Creates an execution now (status `pending`) that starts at `executeAt`. Returns its id; it can
   * be cancelled before it starts. The workflow is given by its id or as the (registered)
   * workflow itself, which types `initialData` as in {@link enqueueWorkflow}.
   *
   * @example
   * ```ts
   * const id = await engine.scheduleWorkflow(onboarding, { userId: 1 }, Date.now() + 60_000);
   * ```
   */
  async scheduleWorkflow<W extends WorkflowRef>(workflow: W, initialData: InputFor<W>, executeAt: Date | number): Promise<string> {
    await this.ready('schedule a workflow');
    const workflowId = workflowIdOf('scheduleWorkflow', workflow);
    assertString('scheduleWorkflow', 'workflowId', workflowId);
    const at = checkEpochMs('scheduleWorkflow', 'executeAt', executeAt);
    const delay = at - this.rt.clock();
    if (delay < 0) throw new InvalidArgumentError(`scheduleWorkflow: executeAt ${new Date(at).toISOString()} is in the past`);
    assertJson(initialData, 'initialData');
    const graph = await this.latestGraph(workflowId);
    await checkInputAgainst(workflowId, this.rt.workflows.inputSchema(workflowId), initialData);
    const executionId = randomUUID();
    const exec: NewExecution = newExecution({ executionId, graph, initialData, status: 'pending' }, this.rt.clock);
    const span = (await this.rt.tracing.ready())?.traceExecution(exec);
    await createExecutionChecked(this.rt, exec);
    try {
      await this.rt.queues.workflowQueue.add(WORKFLOW_JOB, { workflowId, executionId }, { jobId: startJobId(executionId), delay });
    } catch (err) {
      await this.rt.store.transitionExecution(executionId, ['pending'], 'failed', { error: `could not be scheduled: ${String(err)}` });
      span?.end(err);
      throw err;
    }
    span?.end();
    return executionId;
  }

  /**
   * Queues one node of an existing execution and returns the job id. With `inputData` the node
   * runs on that input instead of its parents' data. A node that already has a result is not run
   * again; its job only finishes advancing the execution. A completed or cancelled execution is
   * refused with {@link InvalidStateError} (nothing would run).
   */
  async enqueueNode(executionId: string, workflowId: string, nodeId: string, inputData?: unknown): Promise<string> {
    await this.ready('enqueue a node');
    assertString('enqueueNode', 'executionId', executionId);
    assertString('enqueueNode', 'workflowId', workflowId);
    assertString('enqueueNode', 'nodeId', nodeId);
    assertJson(inputData, 'inputData');
    const exec = await this.requireExecution(executionId);
    if (exec.workflowId !== workflowId) throw new InvalidArgumentError(`Execution '${executionId}' runs workflow '${exec.workflowId}', not '${workflowId}'`);
    // Its jobs would find the execution finished and do nothing.
    if (exec.status === 'completed' || exec.status === 'cancelled') throw new InvalidStateError(`enqueueNode: execution '${executionId}' is ${exec.status}; nothing can run in it`);
    const graph = await this.rt.workflows.get(exec.workflowId, exec.workflowVersion);
    const node = graph.nodes.get(nodeId);
    if (node === undefined) throw new InvalidArgumentError(`Workflow '${workflowId}' has no node '${nodeId}'`);
    // A large input goes to the payload table; the job carries its reference.
    const input = inputData === undefined ? undefined : await offloadNodeInput(this.rt, { executionId, nodeId, input: inputData });
    await this.rt.queues.enqueueNodes(target(exec), [node], input === undefined ? {} : { inputData: input });
    return nodeJobId(executionId, nodeId);
  }

  /** Starts a new execution of the same workflow version with the same initial data; returns its id. */
  async replayWorkflow(executionId: string): Promise<string> {
    await this.ready('replay a workflow');
    assertString('replayWorkflow', 'executionId', executionId);
    const exec = await this.requireExecution(executionId);
    const graph = await this.rt.workflows.get(exec.workflowId, exec.workflowVersion);
    // The new execution gets its own copy of a claim-checked initial data.
    const initialData = await resolvedValue(this.rt, { executionId, value: exec.initialData });
    const [id] = await this.lifecycle.start([{ graph, initialData, options: {}, replay: true }]);
    return id!;
  }

  /**
   * Forks a finished (completed, failed or cancelled) execution: a new execution that keeps the
   * results of every node outside `fromNodeId` and the nodes below it (copied, not run again),
   * and runs `fromNodeId` and everything below it afresh, `fromNodeId` on `input` when given. With
   * `version` the fork runs that registered version of the workflow (fixed code on old data).
   * Returns the new execution's id; it records `forkedFrom`, and the original is not touched.
   * Refused before anything is stored: an unknown execution ({@link ExecutionNotFoundError}), one
   * still pending, running or paused (`ExecutionNotForkableError`), an unknown version
   * ({@link WorkflowNotFoundError}), a node the version lacks (`ForkNodeError`), an input its
   * schema refuses (`ForkInputError`). See docs/fork.md.
   *
   * @example
   * ```ts
   * // The charge node failed; its executor is fixed: run it and what follows again.
   * const forkId = await engine.forkExecution(executionId, { fromNodeId: 'charge' });
   * const done = await engine.waitForExecution(forkId);
   * ```
   */
  async forkExecution(executionId: string, options: ForkOptions): Promise<string>;
  /**
   * `forkExecution` typed by a DSL-built workflow: `fromNodeId` must be one of its node ids
   * and `input` is typed as that node's input. An execution of another workflow is refused with an
   * `InvalidArgumentError`.
   *
   * @example
   * ```ts
   * const forkId = await engine.forkExecution(onboarding, executionId, { fromNodeId: 'welcome', input: { id: 1, email: 'a@b.c' } });
   * ```
   */
  async forkExecution<W extends TypedWorkflow>(workflow: W, executionId: string, options: TypedForkOptions<W>): Promise<string>;
  async forkExecution(first: unknown, second?: unknown, third?: unknown): Promise<string> {
    await this.ready('fork an execution');
    if (typeof first === 'object' && first !== null) {
      const workflowId = workflowIdOf('forkExecution', first);
      assertString('forkExecution', 'executionId', second);
      const exec = await this.requireExecution(second);
      assertRunsWorkflow('forkExecution', exec, workflowId);
      return forkExecution(this.rt, second, third as ForkOptions);
    }
    return forkExecution(this.rt, first as string, second as ForkOptions);
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
    const retention = this.rt.config.retention;
    if (retention !== undefined) {
      const { everyMs, ...prune } = retention;
      this.triggers.scheduleRetention(RETENTION_SCHEDULER, everyMs, prune).catch((err: unknown) => this.rt.logger.error('could not schedule retention', { error: String(err) }));
    }
    this.reconciler.start();
  }

  /**
   * Runs one reconcile pass now: finds running executions whose queued work is gone (Redis
   * restarted empty, a flush, deleted job rows) and enqueues exactly the missing node jobs, finishes
   * advances a crash cut short, and creates again the job schedulers this engine registered. No
   * node that has a result runs again. Workers run these passes by themselves (at start, on a Redis
   * reconnect, and every `reconcileIntervalMs`); this is for tests and operators. Safe to run on
   * every engine at once.
   *
   * @example
   * ```ts
   * const { checked, repaired, nodesEnqueued } = await engine.reconcile();
   * ```
   */
  async reconcile(options: ReconcileOptions = {}): Promise<ReconcileSummary> {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('reconcile: options must be an object');
    await this.ready('reconcile');
    return this.reconciler.reconcile(options);
  }

  /** Resolves when the workers started by {@link startWorkers} are connected. */
  async waitUntilReady(): Promise<void> {
    await this.workers.waitUntilReady();
  }

  /**
   * Pauses an execution: the nodes running now finish, and nothing else runs until
   * {@link resumeWorkflow}. Running sub-workflow children pause too. Returns whether the status
   * changed (false when it was not running).
   */
  async pauseWorkflow(executionId: string): Promise<boolean> {
    this.assertOpen('pause a workflow');
    assertString('pauseWorkflow', 'executionId', executionId);
    return this.lifecycle.pause(executionId);
  }

  /**
   * Resumes a paused execution (and its paused children) where it stopped; delay nodes keep the
   * wait they had left. Returns whether the status changed.
   */
  async resumeWorkflow(executionId: string): Promise<boolean> {
    await this.ready('resume a workflow');
    assertString('resumeWorkflow', 'executionId', executionId);
    return this.lifecycle.resume(executionId);
  }

  /**
   * Cancels an execution and its running children: waiting and delayed jobs are removed, nodes
   * running in this process see their `signal` aborted, and nothing more runs. Returns whether
   * the status changed.
   */
  async cancelWorkflow(executionId: string): Promise<boolean> {
    await this.ready('cancel a workflow');
    assertString('cancelWorkflow', 'executionId', executionId);
    return this.lifecycle.cancel(executionId);
  }

  /**
   * Sends the signal `name` to an execution: the workflow's signal node of that name (a
   * `{ type: 'signal' }` node, `waitForSignal(name)` in the DSL) completes with `payload` as its
   * output, and the execution goes on. A signal sent before the node is reached is kept and
   * consumed when it runs; a paused execution records it and goes on when resumed. The payload is
   * checked against the node's schema before anything is stored. See docs/signals.md.
   *
   * Throws ExecutionNotFoundError, ExecutionFinishedError (completed, failed or cancelled),
   * UnknownSignalError (no signal node of that name), SignalPayloadError (refused by the schema)
   * and SignalAlreadyConsumedError (the signal was already received, or the node timed out).
   *
   * @example
   * ```ts
   * await engine.signal(executionId, 'approval', { approved: true });
   * ```
   */
  async signal(executionId: string, name: string, payload?: unknown): Promise<void>;
  /**
   * {@link signal} for an execution of `workflow`, typed by it: `name` is one of its signal names
   * and `payload` that signal's payload type. Also throws InvalidArgumentError when the execution
   * runs another workflow.
   *
   * @example
   * ```ts
   * const expense = workflow('expense').then('approval', waitForSignal('approval', { schema: z.object({ approved: z.boolean() }) })).build();
   * await engine.signal(expense, executionId, 'approval', { approved: true });
   * ```
   */
  async signal<W extends TypedWorkflow, N extends WorkflowSignalName<W>>(workflow: W, executionId: string, name: N, payload: WorkflowSignalPayload<W, N>): Promise<void>;
  async signal(first: unknown, second: unknown, third?: unknown, fourth?: unknown): Promise<void> {
    await this.ready('send a signal');
    if (typeof first === 'string') return deliverSignal(this.rt, { executionId: first, name: second as string, payload: third });
    const workflowId = workflowIdOf('signal', first);
    return deliverSignal(this.rt, { executionId: second as string, name: third as string, payload: fourth, workflowId });
  }

  /**
   * Sends the event `name`: every event node waiting for it (`waitForEvent(name, { match })` in
   * the DSL, `{ type: 'event' }` in JSON) whose match holds, in any execution, completes with
   * `payload` as its output and its execution goes on. A node's match holds when the payload's
   * value at `match.field` equals (as canonical JSON: `42` is not `"42"`) the value its
   * `match.equals` found when it started waiting, and its schema, if any, accepts the payload.
   * Only nodes waiting when the event is sent are woken: an event is not kept for later ones.
   * Returns how many nodes it woke and their executions. See docs/events-wait.md.
   *
   * Throws InvalidArgumentError (a malformed name, a payload that is not a JSON object) and
   * NotSupportedError (a store without `findWaitingByMatch`), before anything is stored.
   *
   * @example
   * ```ts
   * const { woken } = await engine.sendEvent('order.paid', { orderId: 'o-42', amount: 99 });
   * ```
   */
  async sendEvent(name: string, payload: object): Promise<SendEventResult> {
    await this.ready('send an event');
    return sendEvent(this.rt, name, payload);
  }

  /** {@link pauseWorkflow} for each id; returns each outcome in order. */
  async pauseBulkWorkflows(executionIds: readonly string[]): Promise<boolean[]> {
    assertIdList('pauseBulkWorkflows', executionIds);
    return Promise.all(executionIds.map((id) => this.pauseWorkflow(id)));
  }

  /** {@link resumeWorkflow} for each id; returns each outcome in order. */
  async resumeBulkWorkflows(executionIds: readonly string[]): Promise<boolean[]> {
    assertIdList('resumeBulkWorkflows', executionIds);
    return Promise.all(executionIds.map((id) => this.resumeWorkflow(id)));
  }

  /** {@link cancelWorkflow} for each id; returns each outcome in order. */
  async cancelBulkWorkflows(executionIds: readonly string[]): Promise<boolean[]> {
    assertIdList('cancelBulkWorkflows', executionIds);
    return Promise.all(executionIds.map((id) => this.cancelWorkflow(id)));
  }

  /**
   * Deletes finished executions that match `criteria` (by age and/or keeping the newest N), with
   * their node results and logs; returns how many. Running, paused and pending ones are never
   * touched. The `retention` option runs this periodically.
   */
  async pruneExecutions(criteria: PruneCriteria): Promise<number> {
    this.assertOpen('prune executions');
    if (typeof criteria !== 'object' || criteria === null) throw new InvalidArgumentError('pruneExecutions: criteria must be an object { olderThanMs?, keepLast?, statuses? }');
    return this.rt.store.pruneExecutions(criteria);
  }

  /** DLQ items from `start` to `end` (inclusive, `-1`: to the last), oldest first. */
  async getDLQItems(start = 0, end = 10): Promise<DLQItem[]> {
    assertRange('getDLQItems', start, end);
    await this.ready('read the DLQ');
    return this.dlq.getDLQItems(start, end);
  }

  /**
   * Re-runs the failed node of a DLQ item; when it succeeds the execution continues to the end.
   * Returns false when there is no such item. An id that is not shaped like a DLQ item's
   * (`dlq__{executionId}__{nodeId}`, as {@link getDLQItems} lists them) is refused with an
   * `InvalidArgumentError` before it reaches Redis.
   */
  async retryDLQItem(dlqJobId: string): Promise<boolean> {
    assertDlqJobId(dlqJobId);
    await this.ready('retry a DLQ item');
    return this.dlq.retryDLQItem(dlqJobId);
  }

  /** Job counts: node and workflow queues summed at the top level, and every queue on its own. */
  async getQueueStats(): Promise<QueueStats> {
    await this.ready('read queue stats');
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
  async waitForExecution(executionId: string, options?: WaitOptions): Promise<WorkflowExecution>;
  /**
   * {@link waitForExecution} for an execution of `workflow`, typed by it (its id and input; read
   * node outputs with `nodeOutput(workflow, execution, nodeId)` and the result with
   * {@link result}). An execution of another workflow is refused with an `InvalidArgumentError`.
   *
   * @example
   * ```ts
   * const done = await engine.waitForExecution(onboarding, executionId, { timeoutMs: 10_000 });
   * if (done.status === 'completed') console.log(await engine.result(onboarding, executionId));
   * ```
   */
  async waitForExecution<W extends TypedWorkflow>(workflow: W, executionId: string, options?: WaitOptions): Promise<TypedExecution<W>>;
  async waitForExecution(first: unknown, second?: unknown, third?: WaitOptions): Promise<WorkflowExecution> {
    if (typeof first === 'object' && first !== null) {
      const workflowId = workflowIdOf('waitForExecution', first);
      const exec = await this.waitForExecution(second as string, third);
      assertRunsWorkflow('waitForExecution', exec, workflowId);
      return exec;
    }
    const executionId = first;
    const options = (second ?? {}) as WaitOptions;
    assertString('waitForExecution', 'executionId', executionId);
    checkWaitOptions(options);
    const timeout = options.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeout;
    const interval = options.intervalMs ?? 100;
    for (;;) {
      // Subscribe before reading, so an end between the read and the wait is not missed.
      const woken = this.rt.settled.wait(executionId, Math.max(0, Math.min(interval, deadline - Date.now())));
      const exec = await this.requireExecution(executionId);
      if (WAITABLE.includes(exec.status)) {
        this.rt.settled.notify(executionId);
        return options.raw === true ? exec : resolved(this.rt, exec);
      }
      if (Date.now() >= deadline) throw new InvalidStateError(`Execution '${executionId}' is still ${exec.status} after ${timeout} ms`);
      await woken;
    }
  }

  /**
   * The result of a finished execution of `workflow`, typed by it: what its final node produced,
   * or `{ finalNodeId: output }` when it has several (skipped ones left out), the same value
   * `spane run` prints and a parent's sub-workflow node receives. It does not wait: it throws
   * `ExecutionNotFinishedError` (`EXECUTION_NOT_FINISHED`) while the execution is pending, running
   * or paused, `ExecutionFailedError` (`EXECUTION_FAILED`, with the failed node's id and its error
   * as `cause`) when it failed, `ExecutionCancelledError` (`EXECUTION_CANCELLED`) when it was
   * cancelled, {@link ExecutionNotFoundError} for an unknown id, and `InvalidArgumentError` for an
   * execution of another workflow. Large values kept in the payload table are loaded.
   *
   * @example
   * ```ts
   * const id = await engine.enqueueWorkflow(onboarding, { userId: 1 });
   * await engine.waitForExecution(onboarding, id);
   * const { sent } = await engine.result(onboarding, id); // typed by the workflow's last node
   * ```
   */
  async result<W extends WorkflowRef>(workflow: W, executionId: string): Promise<W extends string ? unknown : WorkflowResult<W>> {
    const workflowId = workflowIdOf('result', workflow);
    assertString('result', 'workflowId', workflowId);
    assertString('result', 'executionId', executionId);
    this.assertOpen('read a result');
    const exec = await this.requireExecution(executionId);
    assertRunsWorkflow('result', exec, workflowId);
    const graph = await this.rt.workflows.get(exec.workflowId, exec.workflowVersion);
    // Only a completed execution's results are loaded from the payload table.
    const loaded = exec.status === 'completed' ? await resolved(this.rt, exec) : exec;
    return executionResult(graph, loaded) as W extends string ? unknown : WorkflowResult<W>;
  }

  /**
   * Stops the workers (in-flight jobs finish first), closes the queues and the connections the
   * engine opened. The caller's own Redis connection stays open. Safe to call more than once.
   * When Redis is unreachable it does not wait for in-flight jobs (they cannot be completed);
   * BullMQ retries them as stalled once Redis is back.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const redis = [this.connection, this.commands].filter((c) => c !== undefined);
      await Promise.all(redis.map((c) => clusterConnected(c, CLUSTER_SETTLE_MS)));
      // Draining needs Redis (to complete the jobs); with Redis away, stop without waiting and
      // leave in-flight jobs to stalled-job recovery.
      const reachable = redis.every((c) => c.status === 'ready') && this.sqlBackend?.closed !== true;
      if (!reachable) for (const c of redis) c.disconnect();
      await this.reconciler.stop();
      await this.workers.close(!reachable);
      await this.rt.events.close();
      await this.rt.queues.close();
      // A quit that fails (the server went away meanwhile) still ends in a dropped socket.
      await Promise.all(redis.map((c) => (reachable ? c.quit().catch(() => c.disconnect()) : c.disconnect())));
      for (const resource of this.owned) await resource.close();
    })();
    return this.closing;
  }

  private async latestGraph(workflowId: string): Promise<WorkflowGraph> {
    if (typeof workflowId !== 'string') throw new InvalidArgumentError('workflowId must be a string');
    const { store } = this.rt;
    const version = store.getLatestWorkflowVersion !== undefined ? await store.getLatestWorkflowVersion(workflowId) : ((await store.getWorkflow(workflowId))?.version ?? null);
    if (version === null) throw new WorkflowNotFoundError(workflowId);
    return this.rt.workflows.get(workflowId, version);
  }

  private async requireExecution(executionId: string): Promise<WorkflowExecution> {
    const exec = await this.rt.store.getExecution(executionId);
    if (exec === null) throw new ExecutionNotFoundError(executionId);
    return exec;
  }

  /** {@link assertOpen}, then waits (up to `redisTimeout`) for Redis, so calls fail instead of hanging. */
  private async ready(operation: string): Promise<void> {
    this.assertOpen(operation);
    if (this.sqlBackend?.closed === true) throw new InvalidStateError(`Cannot ${operation}: the engine's ${this.sqlBackend.kind} backend is closed`);
    // PostgreSQL backends queue nothing client-side: a query to an unreachable server fails by itself.
    if (this.commands === undefined || this.commands.status === 'ready') return;
    const commands = this.commands;
    const timeout = this.rt.config.redisTimeout;
    await new Promise<void>((resolve, reject) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        commands.off('ready', onReady);
        reject(new RedisUnavailableError(operation, timeout));
      }, timeout);
      commands.once('ready', onReady);
    });
  }

  private assertOpen(operation: string): void {
    if (this.closing !== undefined) throw new EngineClosedError(operation);
  }
}
