import { Worker } from 'bullmq';
import type { ConnectionOptions, Job, WorkerOptions } from 'bullmq';
import { NODE_QUEUE, WORKFLOW_QUEUE } from './jobs.js';
import type { NodeJobData, WorkflowJobData } from './jobs.js';
import type { NodeProcessor } from './node-processor.js';
import type { Runtime } from './runtime.js';


/**
 * Runs the BullMQ workers of one engine: node jobs through the {@link NodeProcessor}, and
 * workflow jobs (scheduled starts) through the engine's starter.
 */
export class WorkerManager {
  private nodeWorker: Worker<NodeJobData> | undefined;
  private workflowWorker: Worker<WorkflowJobData> | undefined;

  constructor(
    private readonly rt: Runtime,
    private readonly connection: ConnectionOptions,
    private readonly processor: NodeProcessor,
    private readonly startWorkflowJob: (job: Job<WorkflowJobData>) => Promise<unknown>,
  ) {}

  /** Whether workers are running. */
  get running(): boolean {
    return this.nodeWorker !== undefined;
  }

  /** Starts the workers (once; later calls are no-ops). */
  start(concurrency: number): void {
    if (this.nodeWorker !== undefined) return;
    const { config } = this.rt;
    const common: WorkerOptions = {
      connection: this.connection,
      prefix: config.prefix,
      lockDuration: config.lockDuration,
      stalledInterval: config.stalledInterval,
      maxStalledCount: config.maxStalledCount,
      removeOnComplete: config.removeOnComplete,
      removeOnFail: config.removeOnFail,
    };
    const nodeOptions: WorkerOptions = { ...common, concurrency };
    if (config.useNativeRateLimiting && config.rateLimiter !== undefined) nodeOptions.limiter = config.rateLimiter;
    this.nodeWorker = new Worker<NodeJobData>(NODE_QUEUE, (job, token) => this.processor.processNodeJob(job, token), nodeOptions);
    this.workflowWorker = new Worker<WorkflowJobData>(WORKFLOW_QUEUE, (job) => this.startWorkflowJob(job), { ...common, concurrency: Math.min(concurrency, 10) });
    for (const w of [this.nodeWorker, this.workflowWorker] as Worker[]) {
      w.on('error', (err) => this.rt.logger.error(`worker error on ${w.name}`, { error: err.message }));
    }
  }

  /** Resolves when both workers are connected. */
  async waitUntilReady(): Promise<void> {
    await Promise.all([this.nodeWorker?.waitUntilReady(), this.workflowWorker?.waitUntilReady()]);
  }

  /**
   * Stops taking jobs, waits for in-flight ones to finish, and closes the workers. With `force`
   * it does not wait: in-flight jobs are left to BullMQ's stalled-job recovery.
   */
  async close(force = false): Promise<void> {
    const workers = [this.nodeWorker, this.workflowWorker].filter((w) => w !== undefined);
    this.nodeWorker = undefined;
    this.workflowWorker = undefined;
    await Promise.allSettled(workers.map((w) => w.close(force)));
  }
}
