import type { SerializedError } from '../../errors.js';

/** Names and shapes of the jobs SPANE puts on its queues. */

/** Queue of node jobs. */
export const NODE_QUEUE = 'node-execution';
/** Queue of workflow-level jobs (scheduled starts, triggers). */
export const WORKFLOW_QUEUE = 'workflow-execution';
/** Dead letter queue: node jobs that failed for good. */
export const DLQ_QUEUE = 'dlq-execution';

/** Job name of node jobs. */
export const NODE_JOB = 'process-node';
/** Job name of workflow jobs. */
export const WORKFLOW_JOB = 'workflow-execution';
/** Job name of DLQ items. */
export const DLQ_JOB = 'dlq-item';

/** Data of a job in {@link NODE_QUEUE}. Small on purpose: inputs are read from the store. @internal */
export interface NodeJobData {
  executionId: string;
  workflowId: string;
  workflowVersion: number;
  nodeId: string;
  /** Input given by `enqueueNode`, used instead of the computed one. */
  inputData?: unknown;
  /** For delay nodes: when the delay ends (epoch ms). */
  delayUntil?: number;
  /** Set while the job is parked because its execution is paused or failed. */
  parked?: { remainingMs: number };
  /**
   * Attempts the node already made in an eager chain before it got this job (its first attempt
   * failed there; see execution/eager.ts). Counted in `attempt` and against `maxAttempts`.
   */
  eagerAttempts?: number;
  /** Consecutive infrastructure failures (store or Redis), for rescheduling backoff. */
  infraRetries?: number;
  /**
   * Set by the reconciler on the job it re-creates for a sub-workflow node whose job was lost:
   * the child execution the lost job was waiting on. The job's first attempt adopts that child
   * instead of starting another one.
   */
  childExecutionId?: string;
  /**
   * Set on the delayed job that fires a signal node's timeout (id {@link waitTimeoutJobId}):
   * the job resolves the node's wait as timed out instead of running the node.
   */
  waitTimeout?: true;
  /** W3C `traceparent` of the execution's span, when traced: the parent of the node's span (docs/tracing.md). */
  traceparent?: string;
}

/** Data of a job in {@link WORKFLOW_QUEUE}. @internal */
export interface WorkflowJobData {
  workflowId: string;
  /** Set on the retention job: prune finished executions instead of starting one. */
  prune?: { olderThanMs?: number | undefined; keepLast?: number | undefined };
  initialData?: unknown;
  /** Set when the execution was created up front (scheduleWorkflow). */
  executionId?: string;
}

/** Data of a job in {@link DLQ_QUEUE}. @internal */
export interface DLQJobData {
  executionId: string;
  workflowId: string;
  workflowVersion: number;
  nodeId: string;
  nodeType: string;
  error: string;
  /** The structured error (name, code, retryable, cause); absent on items written before it existed. */
  errorDetails?: SerializedError;
  stack?: string | undefined;
  attempts: number;
  failedAt: number;
}

/** Deterministic id of a node's job: at most one live job per (execution, node). @internal */
export function nodeJobId(executionId: string, nodeId: string): string {
  return `${executionId}__${nodeId}`;
}

/** `context.idempotencyKey` of a node in an execution: stable for every run of it (see ExecutionContext). */
export function idempotencyKey(executionId: string, nodeId: string): string {
  return `${executionId}:${nodeId}`;
}

/** Deterministic id of the delayed job that fires a waiting node's timeout. @internal */
export function waitTimeoutJobId(executionId: string, nodeId: string): string {
  return `timeout__${executionId}__${nodeId}`;
}

/** Deterministic id of a node's DLQ item. */
export function dlqJobId(executionId: string, nodeId: string): string {
  return `dlq__${executionId}__${nodeId}`;
}
