import type { Job } from 'bullmq';
import { asSerializedError, InvalidStateError } from '../../errors.js';
import type { SerializedError } from '../../errors.js';
import { wakeExecution } from '../execution/advance.js';
import { inLiveChain } from '../execution/eager.js';
import type { WorkflowGraph } from '../../definition/graph.js';
import { nodeJobId } from './jobs.js';
import type { DLQJobData } from './jobs.js';
import type { Runtime } from '../engine/runtime.js';

/** A node that failed for good, as {@link DLQManager.getDLQItems} lists it. */
export interface DLQItem {
  /** Id of the DLQ job; pass it to `retryDLQItem`. */
  jobId: string;
  /** The failed execution. */
  executionId: string;
  /** Its workflow. */
  workflowId: string;
  /** The node that failed. */
  nodeId: string;
  /** The last error message. */
  error: string;
  /**
   * The last error, structured: its `name`, `code` and `retryable` tell a `NODE_INPUT_INVALID` from
   * a `CIRCUIT_OPEN` from a thrown `TypeError`. Absent on items stored by a version without it.
   */
  errorDetails?: SerializedError;
  /** Attempts made. */
  attempts: number;
  /** When the last attempt failed (epoch ms). */
  failedAt: number;
  /** Everything stored with the item. */
  data: DLQJobData;
  /** Same as `error`, under BullMQ's name. */
  failedReason: string;
  /** Same as `failedAt`. */
  timestamp: number;
  /** Stack of the last error, when known. */
  stacktrace?: string[];
}

/**
 * The dead letter queue: nodes whose last attempt failed (without `continueOnFail`). Items stay
 * until retried; a retry re-runs the node and, when it succeeds, the execution carries on.
 */
export class DLQManager {
  constructor(private readonly rt: Runtime) {}

  /** Items from `start` to `end` (inclusive), oldest first. */
  async getDLQItems(start = 0, end = 10): Promise<DLQItem[]> {
    const jobs = (await this.rt.queues.dlqQueue.getJobs(['waiting', 'delayed', 'prioritized'], start, end, true)) as Job<DLQJobData>[];
    return jobs.filter((j) => j !== undefined && j !== null).map(toItem);
  }

  /**
   * Re-runs the failed node of a DLQ item with a fresh set of attempts and removes the item.
   * Returns false when no item has this id. Throws {@link InvalidStateError} when the execution
   * is no longer failed (for example cancelled).
   */
  async retryDLQItem(dlqJobId: string): Promise<boolean> {
    const { rt } = this;
    const item = (await rt.queues.dlqQueue.getJob(dlqJobId)) as Job<DLQJobData> | undefined;
    if (item === undefined) return false;
    const { executionId, nodeId } = item.data;
    const exec = await rt.store.getExecution(executionId);
    if (exec === null) {
      await item.remove();
      return false;
    }
    if (exec.status !== 'failed' && exec.status !== 'running') {
      throw new InvalidStateError(`Cannot retry DLQ item '${dlqJobId}': execution '${executionId}' is ${exec.status}`);
    }
    const graph = await rt.workflows.get(exec.workflowId, exec.workflowVersion);
    await this.untilNodeJobSettles(dlqJobId, { graph, executionId, nodeId });
    await rt.store.deleteNodeResult(executionId, nodeId);
    delete exec.nodeResults[nodeId];
    await rt.store.transitionExecution(executionId, ['failed'], 'running');
    await wakeExecution(rt, { graph, exec, pausedForMs: 0 });
    await item.remove();
    return true;
  }

  /**
   * The DLQ item and the failed execution are written by the processor before it throws, so for
   * a moment the node's job is still active; waking the execution then would see a live job and
   * enqueue nothing. Waits until the worker has moved it (to failed). A worker that died holding
   * it loses the lock, and the stall check hands the job on within `lockDuration +
   * stalledInterval`; past that the item is refused rather than silently not retried. A node
   * that failed in an eager chain has no job: then the chain's job is waited for.
   */
  private async untilNodeJobSettles(dlqJobId: string, at: { graph: WorkflowGraph; executionId: string; nodeId: string }): Promise<void> {
    const { graph, executionId, nodeId } = at;
    const { config, queues } = this.rt;
    const deadline = Date.now() + config.lockDuration + config.stalledInterval;
    const node = graph.nodes.get(nodeId);
    for (;;) {
      const job = await queues.nodeQueue.getJob(nodeJobId(executionId, nodeId));
      const idle = job === undefined || !(await job.isActive());
      if (idle && (job !== undefined || node === undefined || !(await inLiveChain(this.rt, graph, executionId, node)))) return;
      if (Date.now() > deadline) {
        throw new InvalidStateError(`Cannot retry DLQ item '${dlqJobId}': node '${nodeId}' of execution '${executionId}' is still being processed`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

function toItem(job: Job<DLQJobData>): DLQItem {
  const d = job.data;
  const item: DLQItem = {
    jobId: job.id!,
    executionId: d.executionId,
    workflowId: d.workflowId,
    nodeId: d.nodeId,
    error: d.error,
    attempts: d.attempts,
    failedAt: d.failedAt,
    data: d,
    failedReason: d.error,
    timestamp: d.failedAt,
  };
  const errorDetails = asSerializedError(d.errorDetails);
  if (errorDetails !== undefined) item.errorDetails = errorDetails;
  if (d.stack !== undefined) item.stacktrace = [d.stack];
  return item;
}
