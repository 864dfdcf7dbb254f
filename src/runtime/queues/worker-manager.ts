import { createRedisBackend, Worker } from 'bullmq';
import type { ConnectionOptions, Job, Telemetry, WorkerOptions } from 'bullmq';
import { serializeError } from '../../errors.js';
import { BullBinding } from './backends/bull-binding.js';
import { redisThreadAccess } from './backends/thread-access.js';
import { ConnectionErrors } from './connection-errors.js';
import type { EventHandler } from '../observe/events.js';
import { NODE_QUEUE, WORKFLOW_QUEUE } from './jobs.js';
import type { NodeJobData, WorkflowJobData } from './jobs.js';
import type { NodeProcessor } from '../execution/node-processor.js';
import type { Runtime } from '../engine/runtime.js';
import { planSandbox, SandboxHost } from '../sandbox/host.js';

/**
 * Runs the BullMQ workers of one engine: node jobs through the {@link NodeProcessor} (or, with
 * `useWorkerThreads`, through SPANE's sandboxed processor in worker threads), and workflow jobs
 * (scheduled starts) through the engine's starter.
 */
/** BullMQ's stall limit for node jobs: never reached in practice (see `start`). */
const UNLIMITED_STALLS = 1_000_000;

/** What a {@link WorkerManager}'s workers connect with and run. */
export interface WorkerManagerOptions {
  /**
   * A Redis connection for the workers (BullMQ's default backend), or the engine's backend
   * binding (any backend).
   */
  connection: ConnectionOptions | BullBinding;
  /** Runs node jobs. */
  processor: NodeProcessor;
  /** Runs a `workflow-execution` job (a scheduled or delayed start). */
  startWorkflowJob: (job: Job<WorkflowJobData>) => Promise<unknown>;
  /** BullMQ's own instrumentation for the workers (the engine's `bullmqTelemetry`). @defaultValue none */
  telemetry?: Telemetry | undefined;
}

/**
 * Starts and stops an engine's BullMQ workers: the node worker (inline, or sandboxed in worker
 * threads) and the workflow worker for scheduled starts and cron triggers.
 */
export class WorkerManager {
  private nodeWorker: Worker<NodeJobData> | undefined;
  private workflowWorker: Worker<WorkflowJobData> | undefined;
  private sandbox: SandboxHost | undefined;
  /** With worker threads: the checks that run before the workers are created. */
  private starting: Promise<void> | undefined;
  private startError: unknown;
  private readonly threadObservers = new Set<EventHandler>();
  private readonly binding: BullBinding | undefined;
  private readonly connection: ConnectionOptions;
  /** Where the workers' errors go, rate-limited: one per connection retry would flood the log. */
  private readonly errors: ConnectionErrors;
  private readonly processor: NodeProcessor;
  private readonly startWorkflowJob: (job: Job<WorkflowJobData>) => Promise<unknown>;
  private readonly telemetry: Telemetry | undefined;

  constructor(
    private readonly rt: Runtime,
    options: WorkerManagerOptions,
  ) {
    const { connection } = options;
    this.processor = options.processor;
    this.startWorkflowJob = options.startWorkflowJob;
    this.telemetry = options.telemetry;
    this.binding = connection instanceof BullBinding ? connection : undefined;
    this.connection = connection instanceof BullBinding ? connection.workers : connection;
    this.errors = this.binding?.errors ?? new ConnectionErrors(rt.logger);
  }

  /** The node worker while workers run; for the engine's test hook (engine/test-hooks.ts). */
  get currentNodeWorker(): Worker<NodeJobData> | undefined {
    return this.nodeWorker;
  }

  /** Whether workers are running (or, with worker threads, being started). */
  get running(): boolean {
    return this.nodeWorker !== undefined || this.starting !== undefined;
  }

  /**
   * Starts the workers (once; later calls are no-ops). With `useWorkerThreads`, what can be checked
   * at once is checked here and throws (store not shareable, no Redis or database URL for the
   * threads, missing processor file or executors module); importing the executors module happens
   * next, and a failure there rejects {@link waitUntilReady} and is logged. A later call may then
   * try again.
   */
  start(concurrency: number): void {
    if (this.running) return;
    const { config } = this.rt;
    this.processor.setClosing(false);
    // With worker threads, what cannot work throws here, before any worker exists.
    const sandboxPlan = config.useWorkerThreads ? planSandbox(this.rt, this.binding !== undefined ? this.binding.threadAccess : redisThreadAccess(this.connection)) : undefined;
    const factory = this.binding?.factory ?? createRedisBackend;
    const common: WorkerOptions = {
      connection: this.connection,
      prefix: config.prefix,
      lockDuration: config.lockDuration,
      stalledInterval: config.stalledInterval,
      maxStalledCount: config.maxStalledCount,
      removeOnComplete: config.removeOnComplete,
      removeOnFail: config.removeOnFail,
    };
    if (this.telemetry !== undefined) common.telemetry = this.telemetry;
    // BullMQ fails a job that stalled too often without calling the processor, which would leave
    // its execution running for ever; the node processor applies `maxStalledCount` itself instead,
    // with the bookkeeping (failed result, DLQ item, failed execution) a final failure needs.
    const nodeOptions: WorkerOptions = { ...common, concurrency, maxStalledCount: UNLIMITED_STALLS };
    if (config.useNativeRateLimiting && config.rateLimiter !== undefined) nodeOptions.limiter = config.rateLimiter;
    const createWorkflowWorker = () => {
      this.workflowWorker = new Worker<WorkflowJobData>(WORKFLOW_QUEUE, (job) => this.startWorkflowJob(job), { ...common, concurrency: Math.min(concurrency, 10) }, factory);
      this.logErrors(this.workflowWorker);
    };
    if (sandboxPlan === undefined) {
      this.nodeWorker = new Worker<NodeJobData>(NODE_QUEUE, (job, token) => this.processor.processNodeJob(job, token), nodeOptions, factory);
      this.logErrors(this.nodeWorker);
      createWorkflowWorker();
      return;
    }
    const sandbox = new SandboxHost(this.rt, sandboxPlan);
    for (const observer of this.threadObservers) sandbox.observe(observer);
    this.sandbox = sandbox;
    this.startError = undefined;
    const starting = sandbox.prepare().then(() => {
      if (this.starting !== starting) return; // closed meanwhile
      this.nodeWorker = sandbox.createWorker(nodeOptions);
      this.logErrors(this.nodeWorker);
      createWorkflowWorker();
    });
    this.starting = starting;
    starting.catch((err: unknown) => {
      if (this.starting !== starting) return;
      this.starting = undefined;
      this.sandbox = undefined;
      sandbox.close();
      this.startError = err;
      this.rt.logger.error('worker threads could not start', { error: serializeError(err).message });
    });
  }

  /** Calls `observer` for every event published in this engine's worker threads. */
  observeThreadEvents(observer: EventHandler): () => void {
    this.threadObservers.add(observer);
    const stop = this.sandbox?.observe(observer);
    return () => {
      this.threadObservers.delete(observer);
      stop?.();
    };
  }

  /** Resolves when both workers are connected; rejects when worker threads could not start. */
  async waitUntilReady(): Promise<void> {
    if (this.starting !== undefined) await this.starting;
    else if (this.startError !== undefined) throw this.startError;
    await Promise.all([this.nodeWorker?.waitUntilReady(), this.workflowWorker?.waitUntilReady()]);
  }

  /**
   * Stops taking jobs, waits for in-flight ones to finish, and closes the workers. With `force`
   * it does not wait: in-flight jobs are left to BullMQ's stalled-job recovery.
   */
  async close(force = false): Promise<void> {
    // Chains in flight hand their next node to the queue instead of running it here.
    this.processor.setClosing(true);
    const starting = this.starting;
    this.starting = undefined;
    // A failed start was logged and kept as startError when it failed.
    await starting?.catch(() => undefined);
    const workers = [this.nodeWorker, this.workflowWorker].filter((w) => w !== undefined);
    this.nodeWorker = undefined;
    this.workflowWorker = undefined;
    await Promise.allSettled(workers.map((w) => w.close(force)));
    this.sandbox?.close();
    this.sandbox = undefined;
  }

  private logErrors(worker: Worker): void {
    this.errors.watch(worker, `worker ${worker.name}`, `worker error on ${worker.name}`);
  }
}
