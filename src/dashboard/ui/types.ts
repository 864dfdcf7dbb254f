/**
 * What the dashboard's JSON API answers (see src/dashboard/data.ts, the server side). Types the
 * definition has are imported from it (type-only: the bundle holds none of its code).
 */
import type { ExecutionStatus, NodeResult as StoredNodeResult, WorkflowExecution } from '../../definition/types.js';
import type { SerializedError } from '../../errors/serialize.js';

export type { ExecutionStatus, SerializedError };

/** A node's state as drawn: a settled result, or what the live events say. */
export type NodeState = 'pending' | 'running' | 'completed' | 'failed' | 'skipped' | 'waiting' | 'paused';

export const STATUSES: readonly ExecutionStatus[] = ['pending', 'running', 'paused', 'completed', 'failed', 'cancelled'];

export interface GraphNode {
  id: string;
  type: string;
  name?: string;
  inputs: string[];
  outputs: string[];
  maxAttempts?: number;
  signal?: string;
}

export type Trigger = { type: 'webhook'; path: string; method?: string; signed: boolean } | { type: 'schedule'; cron: string; timezone?: string };

export interface Graph {
  workflowId: string;
  version?: number;
  name: string;
  entryNodeId: string;
  nodes: GraphNode[];
  triggers: Trigger[];
}

export interface WorkflowInfo {
  graph: Graph;
  versions: { version: number; createdAt?: number; changeNotes?: string }[];
  schedules: { id: string; pattern?: string; tz?: string; next?: number }[];
}

export interface ExecutionSummary {
  executionId: string;
  workflowId: string;
  workflowVersion: number;
  status: ExecutionStatus;
  startedAt: number;
  completedAt?: number;
  error?: string;
  parentExecutionId?: string;
  parentNodeId?: string;
  nodeCounts: { completed: number; failed: number; skipped: number };
}

export interface ExecutionPage {
  executions: ExecutionSummary[];
  nextCursor?: string;
  total: number;
  counts: Record<ExecutionStatus, number>;
}

/** A node result as sent: a claim-checked output is announced, not loaded (`dataRef`). */
export type NodeResult = Omit<StoredNodeResult, 'data'> & { data?: unknown; dataRef?: boolean };

export interface ExecutionDetail {
  execution: Omit<WorkflowExecution, 'nodeResults' | 'initialData'> & { initialData?: unknown; initialDataRef?: boolean; nodeResults: Record<string, NodeResult> };
  graph?: Graph;
  children: ExecutionSummary[];
  waits: Wait[];
  versions: number[];
}

/**
 * A wait of an execution (see src/store/waits.ts), without its payload. Written out: the store's
 * module is Node code, which this bundle's type check (no Node types) cannot read.
 */
export interface Wait {
  executionId: string;
  kind: 'signal';
  key: string;
  state: 'waiting' | 'delivered' | 'resolved';
  nodeId?: string;
  resolution?: 'signal' | 'timeout';
  createdAt: number;
  updatedAt: number;
}

export interface DLQItem {
  jobId: string;
  executionId: string;
  workflowId: string;
  nodeId: string;
  error: string;
  errorDetails?: SerializedError;
  attempts: number;
  failedAt: number;
}

/** An engine event as the stream sends it. */
export interface SpaneEvent {
  id: string;
  type: string;
  executionId: string;
  workflowId: string;
  nodeId?: string;
  timestamp: number;
  durationMs?: number;
  error?: string;
  errorDetails?: SerializedError;
  attempt?: number;
  data?: unknown;
}
