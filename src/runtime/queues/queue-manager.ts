import { createRedisBackend, FlowProducer, Queue } from 'bullmq';
import type { ConnectionOptions, FlowJob, JobsOptions, Telemetry } from 'bullmq';
import type { NodeDefinition } from '../../definition/types.js';
import { delayMs } from '../../definition/validate.js';
import { BUILTIN_NODE_KINDS } from '../../definition/node-kinds.js';
import { jobRetryOptions } from '../resilience/retry.js';
import { BullBinding } from './backends/bull-binding.js';
import type { ResolvedEngineConfig } from '../engine/config.js';
import { DLQ_JOB, DLQ_QUEUE, NODE_JOB, NODE_QUEUE, nodeJobId, WORKFLOW_QUEUE } from './jobs.js';
import type { DLQJobData, NodeJobData, WorkflowJobData } from './jobs.js';

/** Where a node job belongs: the execution and the workflow version it runs. */
export interface NodeTarget {
  executionId: string;
  workflowId: string;
  workflowVersion: number;
  /** The execution's `traceparent` (see {@link NodeJobData.traceparent}). */
  traceparent?: string;
}

/**
 * Owns SPANE's three BullMQ queues (`node-execution`, `workflow-execution`, `dlq-execution`)
 * under the configured prefix, and turns nodes into jobs with deterministic ids.
 */
export class QueueManager {
  /** Node jobs. */
  readonly nodeQueue: Queue<NodeJobData>;
  /** Scheduled and triggered workflow starts. */
  readonly workflowQueue: Queue<WorkflowJobData>;
  /** Node jobs that failed for good. */
  readonly dlqQueue: Queue<DLQJobData>;

  private flowProducer: FlowProducer | undefined;
  /** Node job adds in flight, by job id: see {@link enqueueNodes}. */
  private readonly adding = new Map<string, Promise<unknown>>();
  private readonly binding: BullBinding | undefined;
  private readonly connection: ConnectionOptions;

  /**
   * @param connection - a Redis connection (BullMQ's default backend), or the engine's backend
   * binding (any backend).
   * @param config - the engine's resolved options.
   * @param clock - where timestamps and delays are read from (a test engine's virtual clock).
   * @param telemetry - BullMQ's own instrumentation (the engine's `bullmqTelemetry`), for the
   * queues and the flow producer.
   */
  constructor(
    connection: ConnectionOptions | BullBinding,
    private readonly config: ResolvedEngineConfig,
    private readonly clock: () => number = () => Date.now(),
    private readonly telemetry?: Telemetry,
  ) {
    this.binding = connection instanceof BullBinding ? connection : undefined;
    this.connection = connection instanceof BullBinding ? connection.commands : connection;
    const base = { connection: this.connection, prefix: config.prefix, ...(telemetry !== undefined && { telemetry }) };
    const factory = this.binding?.factory ?? createRedisBackend;
    const defaultJobOptions: JobsOptions = { removeOnComplete: config.removeOnComplete, removeOnFail: config.removeOnFail };
    this.nodeQueue = new Queue<NodeJobData>(NODE_QUEUE, { ...base, defaultJobOptions }, factory);
    this.workflowQueue = new Queue<WorkflowJobData>(WORKFLOW_QUEUE, { ...base, defaultJobOptions }, factory);
    // DLQ items wait for a person: they are kept until retried or removed.
    this.dlqQueue = new Queue<DLQJobData>(DLQ_QUEUE, { ...base, defaultJobOptions: { removeOnComplete: true, removeOnFail: true } }, factory);
    // The engine reports connection errors itself; without a listener BullMQ prints each one.
    for (const q of [this.nodeQueue, this.workflowQueue, this.dlqQueue] as Queue[]) q.on('error', () => undefined);
  }

  /** The job that runs `node` in the execution: attempts and backoff from its retry policy (see retry.ts), delay for delay nodes. */
  nodeJob(target: NodeTarget, node: NodeDefinition, extra: Partial<NodeJobData> = {}): { name: string; data: NodeJobData; opts: JobsOptions } {
    const data: NodeJobData = { ...target, nodeId: node.id, ...extra };
    const opts: JobsOptions = { jobId: nodeJobId(target.executionId, node.id), ...jobRetryOptions(node) };
    if (node.type === BUILTIN_NODE_KINDS.delay && data.delayUntil === undefined) {
      const ms = delayMs(node.config);
      if (ms > 0) {
        data.delayUntil = this.clock() + ms;
        opts.delay = ms;
      }
    }
    return { name: NODE_JOB, data, opts };
  }

  /**
   * Enqueues the nodes' jobs; a node whose job already exists is not enqueued twice. A node whose
   * add this process has in flight (the parents of a join settling together each find it ready)
   * waits for that add instead of sending its own: BullMQ would drop the second add of the id.
   */
  async enqueueNodes(target: NodeTarget, nodes: readonly NodeDefinition[], extra?: Partial<NodeJobData>): Promise<void> {
    if (nodes.length === 0) return;
    const pending: Promise<unknown>[] = [];
    const jobs: ReturnType<QueueManager['nodeJob']>[] = [];
    for (const n of nodes) {
      const job = this.nodeJob(target, n, extra);
      const inFlight = this.adding.get(job.opts.jobId!);
      if (inFlight === undefined) jobs.push(job);
      else pending.push(inFlight);
    }
    if (jobs.length > 0) {
      const sent: Promise<unknown> = jobs.length === 1 ? this.nodeQueue.add(jobs[0]!.name, jobs[0]!.data, jobs[0]!.opts) : this.nodeQueue.addBulk(jobs);
      const ids = jobs.map((j) => j.opts.jobId!);
      for (const id of ids) this.adding.set(id, sent);
      const forget = () => {
        for (const id of ids) if (this.adding.get(id) === sent) this.adding.delete(id);
      };
      sent.then(forget, forget);
      pending.push(sent);
    }
    await Promise.all(pending);
  }

  /** Adds a DLQ item (idempotent per execution and node). */
  async addToDLQ(jobId: string, item: DLQJobData): Promise<void> {
    await this.dlqQueue.add(DLQ_JOB, item, { jobId });
  }

  /** Adds a BullMQ flow (a tree of jobs whose children run before their parent). */
  async addFlow(flow: FlowJob): Promise<void> {
    this.flowProducer ??= new FlowProducer(
      { connection: this.connection, prefix: this.config.prefix, ...(this.telemetry !== undefined && { telemetry: this.telemetry }) },
      this.binding?.factory ?? createRedisBackend,
    );
    await this.flowProducer.add(flow);
  }

  /** Closes the three queues (and the flow producer, if one was opened). */
  async close(): Promise<void> {
    await Promise.allSettled([this.nodeQueue.close(), this.workflowQueue.close(), this.dlqQueue.close(), this.flowProducer?.close()]);
  }
}
