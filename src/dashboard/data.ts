/**
 * What the dashboard reads from an engine, shaped for the browser: workflows with their graph
 * and triggers (webhook secrets left out), pages of executions with counts per status, one
 * execution with its children, and DLQ items.
 *
 * @module
 */
import type { ExecutionStatus, NodeResult, WorkflowDefinition, WorkflowExecution, WorkflowTrigger } from '../definition/types.js';
import { InvalidArgumentError } from '../errors.js';
import { isPayloadReference } from '../runtime/execution/payloads.js';
import type { WorkflowEngine } from '../runtime/engine/workflow-engine.js';
import type { WaitRecord } from '../store/waits.js';
import { EXECUTION_STATUSES } from '../store/execution-listing.js';

/** A node of a workflow as the dashboard draws it (no config: it may hold credentials). */
export interface DashboardNode {
  id: string;
  type: string;
  name?: string | undefined;
  inputs: string[];
  outputs: string[];
  maxAttempts?: number | undefined;
  /** A signal node's signal name (`config.name`). */
  signal?: string | undefined;
}

/** A trigger as the dashboard shows it: a webhook's secret is replaced by whether it has one. */
export type DashboardTrigger = { type: 'webhook'; path: string; method?: string | undefined; signed: boolean } | { type: 'schedule'; cron: string; timezone?: string | undefined };

/** The graph of one workflow version. */
export interface DashboardGraph {
  workflowId: string;
  version: number | undefined;
  name: string;
  entryNodeId: string;
  nodes: DashboardNode[];
  triggers: DashboardTrigger[];
}

/** Only what the browser may see of a definition. */
export function graphOf(def: WorkflowDefinition): DashboardGraph {
  return {
    workflowId: def.id,
    version: def.version,
    name: def.name,
    entryNodeId: def.entryNodeId,
    nodes: def.nodes.map((n) => ({
      id: n.id,
      type: n.type,
      name: n.name,
      inputs: [...n.inputs],
      outputs: [...n.outputs],
      maxAttempts: (n.retryPolicy ?? n.config.retryPolicy)?.maxAttempts,
      ...(n.type === 'signal' && typeof n.config['name'] === 'string' && { signal: n.config['name'] }),
    })),
    triggers: (def.triggers ?? []).map(triggerOf),
  };
}

function triggerOf(t: WorkflowTrigger): DashboardTrigger {
  if (t.type === 'webhook') return { type: 'webhook', path: t.config.path, method: t.config.method, signed: t.config.secret !== undefined };
  return { type: 'schedule', cron: t.config.cron, timezone: t.config.timezone };
}

/** One line of the executions list. */
export interface ExecutionSummary {
  executionId: string;
  workflowId: string;
  workflowVersion: number;
  status: ExecutionStatus;
  startedAt: number;
  completedAt?: number | undefined;
  error?: string | undefined;
  parentExecutionId?: string | undefined;
  parentNodeId?: string | undefined;
  /** Settled nodes by how they ended. */
  nodeCounts: Record<NodeResult['status'], number>;
}

/** Which executions to list: every field optional but the page size. */
export interface ExecutionQuery {
  workflowId?: string | undefined;
  version?: number | undefined;
  status?: ExecutionStatus | undefined;
  /** Started at or after (epoch ms). */
  from?: number | undefined;
  /** Started before (epoch ms). */
  to?: number | undefined;
  /** The start of an execution id. */
  search?: string | undefined;
  /** Where the previous page stopped (its `nextCursor`). */
  cursor?: string | undefined;
  pageSize: number;
}

/** One page of executions, with how many match per status (the status filter aside) and in all. */
export interface ExecutionPage {
  executions: ExecutionSummary[];
  nextCursor?: string | undefined;
  total: number;
  counts: Record<ExecutionStatus, number>;
}

function summaryOf(
  e: Omit<WorkflowExecution, 'nodeResults' | 'initialData'> & { nodeCounts?: Record<NodeResult['status'], number>; nodeResults?: Record<string, NodeResult> },
): ExecutionSummary {
  const nodeCounts = e.nodeCounts ?? { completed: 0, failed: 0, skipped: 0 };
  if (e.nodeCounts === undefined) for (const r of Object.values(e.nodeResults ?? {})) nodeCounts[r.status] += 1;
  return {
    executionId: e.executionId,
    workflowId: e.workflowId,
    workflowVersion: e.workflowVersion,
    status: e.status,
    startedAt: e.startedAt,
    completedAt: e.completedAt,
    error: e.error,
    parentExecutionId: e.parentExecutionId,
    parentNodeId: e.parentNodeId,
    nodeCounts,
  };
}

/**
 * A page of executions, newest first, through the engine's keyset listing
 * (`listExecutionPage`), with the counts per status of the same filters (`countExecutions`).
 */
export async function listExecutionPage(engine: WorkflowEngine, q: ExecutionQuery): Promise<ExecutionPage> {
  const filters = {
    ...(q.workflowId !== undefined && { workflowId: q.workflowId }),
    ...(q.version !== undefined && { version: q.version }),
    ...(q.from !== undefined && { from: q.from }),
    ...(q.to !== undefined && { to: q.to }),
    ...(q.search !== undefined && { executionId: q.search }),
  };
  const [page, counts] = await Promise.all([
    engine.listExecutionPage({ ...filters, ...(q.status !== undefined && { status: q.status }), ...(q.cursor !== undefined && { cursor: q.cursor }), limit: q.pageSize }),
    engine.countExecutions(filters),
  ]);
  const total = q.status === undefined ? EXECUTION_STATUSES.reduce((n, s) => n + counts[s], 0) : counts[q.status];
  return { executions: page.executions.map(summaryOf), nextCursor: page.nextCursor, total, counts };
}

/** A node result as sent: a claim-checked output is announced, not loaded (`dataRef`). */
export type DashboardNodeResult = Omit<NodeResult, 'data'> & { data?: unknown; dataRef?: boolean };

/** A wait of the execution (a signal node waiting, or a signal kept for it), without its payload. */
export type DashboardWait = Omit<WaitRecord, 'payload'>;

/** One execution with its graph, the executions it started, its waits and its workflow's versions. */
export interface ExecutionDetail {
  execution: Omit<WorkflowExecution, 'nodeResults' | 'initialData'> & { initialData?: unknown; initialDataRef?: boolean; nodeResults: Record<string, DashboardNodeResult> };
  graph: DashboardGraph | undefined;
  children: ExecutionSummary[];
  /** The store's waits of the execution, oldest first (empty for a store without waits). */
  waits: DashboardWait[];
  /** The registered versions of its workflow, for the fork form. */
  versions: number[];
}

/** The execution, with stored references left in place of claim-checked payloads; undefined when unknown. */
export async function executionDetail(engine: WorkflowEngine, executionId: string): Promise<ExecutionDetail | undefined> {
  const exec = await engine.getExecution(executionId, { raw: true });
  if (exec === undefined) return undefined;
  const [def, children, waits, versions] = await Promise.all([
    engine.getWorkflow(exec.workflowId, exec.workflowVersion),
    engine.getChildExecutions(executionId),
    engine.getWaits(executionId),
    engine.getWorkflowVersions(exec.workflowId),
  ]);
  const nodeResults: Record<string, DashboardNodeResult> = {};
  for (const [id, r] of Object.entries(exec.nodeResults)) {
    const { data, ...rest } = r;
    Object.defineProperty(nodeResults, id, { value: isPayloadReference(data) ? { ...rest, dataRef: true } : r, enumerable: true, writable: true, configurable: true });
  }
  const { initialData, nodeResults: _r, ...fields } = exec;
  return {
    execution: { ...fields, ...(isPayloadReference(initialData) ? { initialDataRef: true } : { initialData }), nodeResults },
    graph: def === undefined ? undefined : graphOf(def),
    children: children.map(summaryOf),
    waits: waits.map(({ payload: _p, ...w }) => w),
    versions: versions.map((v) => v.version),
  };
}

/** A node's output (or, for `nodeId` undefined, the initial data) with claim-checked payloads loaded. */
export async function loadPayload(engine: WorkflowEngine, executionId: string, nodeId: string | undefined): Promise<{ found: boolean; data?: unknown }> {
  const exec = await engine.getExecution(executionId);
  if (exec === undefined) return { found: false };
  if (nodeId === undefined) return { found: true, data: exec.initialData };
  if (!Object.hasOwn(exec.nodeResults, nodeId)) return { found: false };
  return { found: true, data: exec.nodeResults[nodeId]?.data };
}

/** Every workflow (latest version) with its versions, schedules and webhooks. */
export async function listWorkflowsWithTriggers(engine: WorkflowEngine): Promise<
  {
    graph: DashboardGraph;
    versions: { version: number; createdAt?: number | undefined; changeNotes?: string | undefined }[];
    schedules: { id: string; pattern?: string | undefined; tz?: string | undefined; next?: number | undefined }[];
  }[]
> {
  const [defs, schedules] = await Promise.all([engine.listWorkflows(), engine.getJobSchedulers()]);
  const out = [];
  for (const def of defs.sort((a, b) => a.id.localeCompare(b.id))) {
    const versions = await engine.getWorkflowVersions(def.id);
    out.push({
      graph: graphOf(def),
      versions: versions.map((v) => ({ version: v.version, createdAt: v.createdAt, changeNotes: v.changeNotes })),
      schedules: schedules.filter((s) => s.id.startsWith(`schedule:${def.id}:`)).map((s) => ({ id: s.id, pattern: s.pattern, tz: s.tz, next: s.next })),
    });
  }
  return out;
}

/** Parses the query string of the executions list; a bad value throws {@link InvalidArgumentError}. */
export function parseExecutionQuery(params: URLSearchParams): ExecutionQuery {
  const text = (name: string, max = 200): string | undefined => {
    const v = params.get(name);
    if (v === null || v === '') return undefined;
    if (v.length > max) throw new InvalidArgumentError(`${name} is too long`);
    return v;
  };
  const int = (name: string, min: number, max: number): number | undefined => {
    const v = text(name, 20);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };
  const status = text('status', 20);
  if (status !== undefined && !(EXECUTION_STATUSES as readonly string[]).includes(status)) throw new InvalidArgumentError(`status must be one of ${EXECUTION_STATUSES.join(', ')}`);
  return {
    workflowId: text('workflowId'),
    version: int('version', 1, Number.MAX_SAFE_INTEGER),
    status: status as ExecutionStatus | undefined,
    from: int('from', 0, Number.MAX_SAFE_INTEGER),
    to: int('to', 0, Number.MAX_SAFE_INTEGER),
    search: text('search'),
    cursor: text('cursor', 500),
    pageSize: int('pageSize', 1, 200) ?? 25,
  };
}
