/**
 * The main-thread side of worker threads: checks everything a thread will need before any thread
 * starts, creates the sandboxed BullMQ worker, and handles what threads cannot: jobs whose thread
 * died (uncaught exception, `process.exit`, out of memory) are retried by BullMQ and, once out of
 * attempts, failed in the store like any other node failure; cancellations abort the signal of
 * nodes running in threads; thread log lines and events reach the engine's logger and local
 * observers.
 *
 * @module
 */
import { readExecutionHead } from '../../store/store.js';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { EventEmitter } from 'node:events';
import type { BroadcastChannel } from 'node:worker_threads';
import { Worker } from 'bullmq';
import type { Job, WorkerOptions } from 'bullmq';
import { resultOf } from '../../definition/graph.js';
import type { NodeResult } from '../../definition/types.js';
import { InvalidConfigError, NotSupportedError, serializeError } from '../../errors.js';
import type { SerializedError } from '../../errors.js';
import { isPayloadStore } from '../../store/payload-store.js';
import { threadAccessOf } from '../../store/thread-access.js';
import { settleFailure } from '../execution/advance.js';
import type { EventHandler, SpaneEvent } from '../observe/events.js';
import { NODE_QUEUE, nodeJobId } from '../queues/jobs.js';
import type { NodeJobData } from '../queues/jobs.js';
import type { BackendThreadAccess } from '../queues/backends/thread-access.js';
import type { Runtime } from '../engine/runtime.js';
import { isFinalAttempt, isUnrecoverable } from '../resilience/retry.js';
import { AGGREGATOR_NODE_ID } from '../execution/sub-workflows.js';
import { openChannel } from './channel.js';
import { serveStore, storeChannelName } from './store-bridge.js';
import type { SandboxMessage } from './channel.js';
import { PROCESSED_MARK } from './create-processor.js';
import { readExecutorsTimeout, SANDBOX_ENV } from './env.js';
import { importModule, isFileSpecifier, isTypeScriptFile, registryFromModule, resolveModuleSpecifier, withinTimeout } from './load-module.js';
import { defaultProcessorFile, tsBootstrapFile } from './paths.js';

/** What {@link planSandbox} decided: every path and setting a thread gets. */
export interface SandboxPlan {
  /** The file BullMQ loads in each thread (the jiti bootstrap for a TypeScript processor). */
  file: string;
  /** The processor that runs: SPANE's own or `processorFile`. */
  processor: string;
  /** Whether `processor` is the user's `processorFile`. */
  custom: boolean;
  /** The executors module, resolved (absolute path for files). */
  executorsModule: string | undefined;
  /** The BroadcastChannel threads report on. */
  channel: string;
  /** Where the engine serves its store to the threads; undefined when they open their own. */
  storeChannel: string | undefined;
  /** How long loading the executors module may take (`SPANE_EXECUTORS_TIMEOUT_MS`). */
  executorsTimeoutMs: number;
  /** What BullMQ passes to each `new Worker(...)` of node:worker_threads. */
  threadOptions: { env: Record<string, string>; execArgv?: string[]; resourceLimits?: Record<string, number> };
}

type Env = Record<string, string | undefined>;

/**
 * Checks, synchronously, what `startWorkers` can check without loading anything, and throws a
 * typed error for the first problem: queues threads cannot reach, no Redis URL for the threads,
 * a missing processor file or executors module. How threads reach the store and the queues is
 * what the store and the backend binding declare (`threadAccess`); nothing behind them is read.
 *
 * @param queues - how a thread reaches the engine's queue backend (its binding's `threadAccess`).
 */
export function planSandbox(rt: Runtime, queues: BackendThreadAccess | undefined, env: Env = process.env): SandboxPlan {
  const { config } = rt;
  const channel = `spane-sandbox-${randomUUID()}`;
  const base: Env = { ...env, ...config.workerThreadsOptions?.env };

  // A thread's runtime opens Redis connections only (thread-runtime.ts).
  if (queues !== undefined && queues.kind !== 'redis') {
    const where = queues.kind === 'this-thread' ? 'embedded in the main thread' : queues.kind === 'redis-cluster' ? 'a Redis Cluster' : "BullMQ's PostgreSQL backend";
    throw new NotSupportedError(`useWorkerThreads: worker threads run on a single Redis server only; this engine's queue backend is ${where}`);
  }
  const redisUrl = nonEmpty(base[SANDBOX_ENV.redisUrl]) ?? queues?.url ?? nonEmpty(base['REDIS_URL']);
  if (redisUrl === undefined) {
    throw new InvalidConfigError(`useWorkerThreads: cannot tell worker threads how to reach Redis (the engine's connection is not host/port based); set ${SANDBOX_ENV.redisUrl}`);
  }

  let processor: string;
  const custom = config.processorFile !== undefined;
  if (config.processorFile !== undefined) {
    processor = resolveModuleSpecifier(config.processorFile.startsWith('file:') || isFileSpecifier(config.processorFile) ? config.processorFile : `./${config.processorFile}`);
    if (!existsSync(processor)) throw new InvalidConfigError(`Engine option 'processorFile': ${processor} does not exist`);
  } else {
    processor = defaultProcessorFile();
  }
  const file = isTypeScriptFile(processor) ? tsBootstrapFile() : processor;

  // Threads open their own DrizzleStore on the engine's PostgreSQL database when they can. A store
  // that lives in this thread (in-memory, PGlite), or one with no URL to open it by, is served to
  // them by the main thread instead (store-bridge.ts). An undeclared store keeps the environment's
  // URL, as before stores declared their access.
  const access = threadAccessOf(rt.store);
  const storeUrl = access?.kind === 'postgres' ? access.url : undefined;
  const databaseUrl = access?.kind === 'this-thread' ? undefined : (nonEmpty(base[SANDBOX_ENV.databaseUrl]) ?? storeUrl ?? nonEmpty(base['DATABASE_URL']));
  const storeChannel = databaseUrl === undefined ? storeChannelName(channel) : undefined;
  if (databaseUrl !== undefined && storeUrl !== undefined && databaseName(databaseUrl) !== databaseName(storeUrl)) {
    rt.logger.warn(
      `useWorkerThreads: worker threads will use database '${databaseName(databaseUrl) ?? '?'}' (${SANDBOX_ENV.databaseUrl}/DATABASE_URL) but the engine's store is on '${databaseName(storeUrl) ?? '?'}'; executions hang unless both are the same database`,
    );
  }

  const moduleSpec = config.executorsModule ?? nonEmpty(base[SANDBOX_ENV.executorsModule]);
  let executorsModule: string | undefined;
  if (moduleSpec !== undefined) {
    executorsModule = resolveModuleSpecifier(moduleSpec);
    if (isFileSpecifier(moduleSpec) && !existsSync(executorsModule)) {
      throw new InvalidConfigError(`Executors module '${moduleSpec}' does not exist (resolved to ${executorsModule})`);
    }
  } else if (!custom) {
    throw new InvalidConfigError(
      "useWorkerThreads: worker threads need the executors: set the engine option 'executorsModule' (or SPANE_EXECUTORS_MODULE) to a module exporting your NodeRegistry",
    );
  }

  const executorsTimeoutMs = readExecutorsTimeout(base);
  const threadEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) threadEnv[k] = v;
  threadEnv[SANDBOX_ENV.redisUrl] = redisUrl;
  if (databaseUrl !== undefined) threadEnv[SANDBOX_ENV.databaseUrl] = databaseUrl;
  if (storeChannel !== undefined) {
    threadEnv[SANDBOX_ENV.storeChannel] = storeChannel;
    threadEnv[SANDBOX_ENV.storePayloads] = isPayloadStore(rt.store) ? '1' : '0';
  } else {
    delete threadEnv[SANDBOX_ENV.storeChannel];
    delete threadEnv[SANDBOX_ENV.storePayloads];
  }
  threadEnv[SANDBOX_ENV.engineConfig] = JSON.stringify(config);
  if (executorsModule !== undefined) threadEnv[SANDBOX_ENV.executorsModule] = executorsModule;
  else delete threadEnv[SANDBOX_ENV.executorsModule];
  threadEnv[SANDBOX_ENV.channel] = channel;
  if (file !== processor) threadEnv[SANDBOX_ENV.tsProcessor] = processor;
  else delete threadEnv[SANDBOX_ENV.tsProcessor];

  const threadOptions: SandboxPlan['threadOptions'] = { env: threadEnv };
  const { execArgv, resourceLimits } = config.workerThreadsOptions ?? {};
  if (execArgv !== undefined) threadOptions.execArgv = execArgv;
  if (resourceLimits !== undefined) threadOptions.resourceLimits = { ...resourceLimits } as Record<string, number>;
  return { file, processor, custom, executorsModule, channel, storeChannel, executorsTimeoutMs, threadOptions };
}

/**
 * The main-thread half of one engine's worker threads. {@link prepare} imports the executors
 * module once (so a broken module fails `startWorkers`, not every job), {@link createWorker}
 * makes the sandboxed BullMQ worker.
 */
export class SandboxHost {
  private channel: BroadcastChannel | undefined;
  private readonly observers = new Set<EventHandler>();
  /** Why threads died, by the job they were running (reported by the thread just before it exited). */
  private readonly crashes = new Map<string, { error: string; stack?: string | undefined }>();
  private stopObserving: (() => void) | undefined;
  private stopServing: (() => void) | undefined;

  constructor(
    private readonly rt: Runtime,
    readonly plan: SandboxPlan,
  ) {}

  /** Imports the executors module in this thread and checks it yields a NodeRegistry. */
  async prepare(): Promise<void> {
    const spec = this.plan.executorsModule;
    if (spec === undefined) return;
    const registry = await withinTimeout(
      async () => {
        let ns: Record<string, unknown>;
        try {
          ns = await importModule(spec);
        } catch (err) {
          if (err instanceof InvalidConfigError) throw err;
          throw new InvalidConfigError(`Executors module '${spec}' could not be imported: ${serializeError(err).message}`, { cause: err });
        }
        return registryFromModule(ns, spec);
      },
      this.plan.executorsTimeoutMs,
      spec,
    );
    const theirs = new Set(registry.getRegisteredTypes());
    const missing = this.rt.registry.getRegisteredTypes().filter((t) => !theirs.has(t));
    if (missing.length > 0) {
      this.rt.logger.warn(`useWorkerThreads: node types registered in the engine but not in the executors module '${spec}' fail in worker threads: ${missing.join(', ')}`);
    }
  }

  /** Creates the sandboxed worker of the node queue and starts listening to its threads. */
  createWorker(options: WorkerOptions): Worker<NodeJobData> {
    if (this.plan.storeChannel !== undefined) this.stopServing = serveStore(this.rt.store, this.plan.storeChannel, this.rt.logger);
    const worker = new Worker<NodeJobData>(NODE_QUEUE, this.plan.file, {
      ...options,
      useWorkerThreads: true,
      workerThreadsOptions: this.plan.threadOptions,
    });
    this.guardChildErrors(worker);
    worker.on('completed', (job) => this.rt.settled.notify(job.data.executionId));
    worker.on('failed', (job, err) => {
      if (job === undefined) return;
      this.rt.settled.notify(job.data.executionId);
      if ((err as unknown as Record<string, unknown>)[PROCESSED_MARK] === true) return;
      this.onThreadLost(job, err).catch((e: unknown) => this.rt.logger.error(`could not record the failure of node job ${job.id}`, { error: serializeError(e).message }));
    });
    this.channel = openChannel(this.plan.channel);
    this.channel.onmessage = (message: unknown) => this.onMessage((message as { data: SandboxMessage }).data);
    this.stopObserving = this.rt.events.observeLocal((event) => {
      if (event.type === 'workflow:cancelled') void this.abortInThreads(worker, event.executionId);
    });
    return worker;
  }

  /** Calls `observer` for every event the worker threads publish. */
  observe(observer: EventHandler): () => void {
    this.observers.add(observer);
    return () => void this.observers.delete(observer);
  }

  /** Stops listening (the worker is closed by its owner). */
  close(): void {
    this.stopObserving?.();
    this.stopObserving = undefined;
    this.stopServing?.();
    this.stopServing = undefined;
    this.channel?.close();
    this.channel = undefined;
  }

  private onMessage(message: SandboxMessage | undefined): void {
    if (message === undefined || message === null) return;
    if (message.kind === 'crash') {
      this.rt.logger.error(`worker thread ${message.threadId} crashed${message.jobId === undefined ? '' : ` running node job ${message.jobId}`}: ${message.error}`);
      if (message.jobId !== undefined) {
        this.crashes.set(message.jobId, { error: message.error, stack: message.stack });
        // Kept only until the job's failure is handled (or a minute, if it never is).
        setTimeout(() => this.crashes.delete(message.jobId!), 60_000).unref();
      }
      return;
    }
    if (message.kind === 'log') {
      this.rt.logger[message.level](`[worker thread ${message.threadId}] ${message.message}`, message.details);
      return;
    }
    if (message.kind === 'event') {
      const event: SpaneEvent = message.event;
      if (event.type === 'workflow:completed' || event.type === 'workflow:failed' || event.type === 'workflow:cancelled') this.rt.settled.notify(event.executionId);
      for (const observe of this.observers) {
        try {
          observe(event);
        } catch (err) {
          this.rt.logger.warn('event observer threw', { error: String(err) });
        }
      }
    }
  }

  /**
   * A job failed without SPANE's processor deciding so: its thread died (uncaught exception,
   * `process.exit`, out of memory) or could not start. BullMQ retries it while attempts remain;
   * on the last one the node is failed here as the processor would have (result, DLQ, execution
   * failed, or continue on fail).
   */
  private async onThreadLost(job: Job<NodeJobData>, err: Error): Promise<void> {
    const { rt } = this;
    const data = job.data;
    const final = isFinalAttempt({ attempt: job.attemptsMade, retryable: !isUnrecoverable(err) }, job.opts.attempts);
    // The thread's own report may still be on its way.
    const crash = this.crashes.get(String(job.id)) ?? (await sleep(50), this.crashes.get(String(job.id)));
    this.crashes.delete(String(job.id));
    const error = `worker thread ended without finishing the job: ${crash?.error ?? err.message}`;
    rt.logger.error(`node job ${job.id} (attempt ${job.attemptsMade}) failed: ${error}${final ? '' : '; BullMQ retries it'}`);
    if (data.nodeId === AGGREGATOR_NODE_ID) return;
    const exec = await readExecutionHead(rt.store, data.executionId, [data.nodeId]);
    if (exec === null || exec.status === 'cancelled' || exec.status === 'completed') return;
    const graph = await rt.workflows.get(data.workflowId, data.workflowVersion);
    const node = graph.nodes.get(data.nodeId);
    if (node === undefined || resultOf(exec.nodeResults, node.id) !== undefined) return;
    const ids = { executionId: exec.executionId, workflowId: exec.workflowId, nodeId: node.id, nodeType: node.type, attempt: job.attemptsMade };
    const stack = crash?.stack ?? err.stack;
    const errorDetails: SerializedError = { message: error, name: err.name, retryable: !final, ...(stack !== undefined && { stack }) };
    if (!final) {
      rt.events.publish({ type: 'node:retrying', ...ids, error, errorDetails }, job);
      return;
    }
    const now = Date.now();
    const result: NodeResult & { status: 'failed' } = { status: 'failed', error, errorDetails, attempts: job.attemptsMade, startedAt: job.processedOn ?? now, completedAt: now };
    await settleFailure(rt, { graph, exec, node, result, job, details: { attempt: job.attemptsMade, stack } });
  }

  /** Aborts the signals of the execution's nodes running in this engine's threads. */
  private async abortInThreads(worker: Worker, executionId: string): Promise<void> {
    try {
      const exec = await this.rt.store.getExecution(executionId);
      if (exec === null) return;
      const graph = await this.rt.workflows.get(exec.workflowId, exec.workflowVersion);
      for (const nodeId of graph.nodes.keys()) worker.cancelJob(nodeJobId(executionId, nodeId), `Execution '${executionId}' was cancelled`);
    } catch (err) {
      this.rt.logger.warn(`could not abort the nodes of cancelled execution ${executionId} in worker threads`, { error: serializeError(err).message });
    }
  }

  /**
   * BullMQ re-emits a thread's 'error' event (ERR_WORKER_OUT_OF_MEMORY when a thread reaches its
   * resourceLimits) on its Child object, which has no listener: the main process would die of an
   * unhandled 'error' event. Each child gets a listener as BullMQ hands it out; the job then fails
   * through the thread's exit like any other crash.
   */
  private guardChildErrors(worker: Worker): void {
    const pool = (worker as unknown as { childPool?: { retain?: (file: string) => Promise<EventEmitter> } }).childPool;
    if (pool === undefined || typeof pool.retain !== 'function') {
      this.rt.logger.warn('useWorkerThreads: this BullMQ version has no childPool.retain; a thread running out of memory may end the process');
      return;
    }
    const guarded = new WeakSet<EventEmitter>();
    const retain = pool.retain.bind(pool);
    pool.retain = async (file: string) => {
      const child = await retain(file);
      if (!guarded.has(child)) {
        guarded.add(child);
        child.on('error', (err: Error) => this.rt.logger.error(`worker thread error: ${err.message}`, { code: (err as { code?: unknown }).code }));
      }
      return child;
    };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function databaseName(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || undefined;
  } catch {
    return undefined;
  }
}
