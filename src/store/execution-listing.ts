/**
 * Listing executions for dashboards and the CLI: the query, the summaries a page holds, the
 * counts by status, and the checks and cursor both stores share.
 *
 * @module
 */
import type { ExecutionStatus, NodeResultStatus, WorkflowExecution } from '../definition/types.js';
import { ExecutionQueryError } from '../errors.js';
import type { ExecutionQueryField } from '../errors.js';
import { kindOf } from '../definition/json-check.js';

/** Every execution status, in lifecycle order. */
export const EXECUTION_STATUSES: readonly ExecutionStatus[] = ['pending', 'running', 'paused', 'completed', 'failed', 'cancelled'];

/** Default page size of {@link ExecutionListQuery.limit}. */
export const DEFAULT_EXECUTION_PAGE_LIMIT = 50;

/** Largest page size {@link ExecutionListQuery.limit} takes. */
export const MAX_EXECUTION_PAGE_LIMIT = 500;

/**
 * Which executions {@link ExecutionStore.countExecutions} counts: every filter of
 * {@link ExecutionListQuery}, without paging. Every filter given must hold (AND).
 */
export interface ExecutionCountQuery {
  /** Only executions of this workflow. */
  workflowId?: string;
  /** Only executions that run this version of the workflow; needs `workflowId`. */
  version?: number;
  /** Only executions in one of these statuses. */
  status?: ExecutionStatus | readonly ExecutionStatus[];
  /** Only executions started at or after this time (epoch ms, inclusive). */
  from?: number;
  /** Only executions started before this time (epoch ms, exclusive). */
  to?: number;
  /** Only executions whose id starts with this text (case-sensitive prefix). */
  executionId?: string;
}

/**
 * What {@link ExecutionStore.listExecutionPage} lists: executions newest first by
 * (`startedAt`, `executionId`), one page at a time. Keyset paging: walking the pages with
 * `nextCursor` returns each matching execution at most once, without gaps, while executions are
 * created or change status meanwhile (one created after the walk began with a newer `startedAt`
 * lands before the first page and is not seen; one whose status changes out of a `status`
 * filter is not listed once it no longer matches).
 *
 * @example
 * ```ts
 * let page = await store.listExecutionPage({ workflowId: 'orders', status: 'failed', limit: 100 });
 * for (;;) {
 *   for (const e of page.executions) console.log(e.executionId, e.nodeCounts.failed);
 *   if (page.nextCursor === undefined) break;
 *   page = await store.listExecutionPage({ workflowId: 'orders', status: 'failed', limit: 100, cursor: page.nextCursor });
 * }
 * ```
 */
export interface ExecutionListQuery extends ExecutionCountQuery {
  /** Where the previous page stopped: its `nextCursor`. Opaque; pass the same filters with it. */
  cursor?: string;
  /**
   * At most this many executions in the page, 1 to {@link MAX_EXECUTION_PAGE_LIMIT} (500).
   * @defaultValue {@link DEFAULT_EXECUTION_PAGE_LIMIT} (50)
   */
  limit?: number;
}

/** How many of an execution's settled nodes ended each way. */
export type NodeStatusCounts = Record<NodeResultStatus, number>;

/**
 * An execution as a listing shows it: every field but `initialData` and `nodeResults`, and how
 * many nodes ended each way instead of the results themselves, so that a page of executions of
 * 500-node workflows stays small.
 */
export interface ExecutionSummary extends Omit<WorkflowExecution, 'initialData' | 'nodeResults'> {
  /** Settled nodes by how they ended; nodes not yet settled are not counted. */
  nodeCounts: NodeStatusCounts;
}

/** One page of {@link ExecutionStore.listExecutionPage}. */
export interface ExecutionSummaryPage {
  /** The executions of this page, newest first. */
  executions: ExecutionSummary[];
  /** Pass it as `cursor` (with the same filters) for the next page; absent on the last page. */
  nextCursor?: string;
}

/** How many executions are in each status; every status is present (0 when none). */
export type ExecutionStatusCounts = Record<ExecutionStatus, number>;

/** A checked {@link ExecutionCountQuery}: statuses as a list, the prefix as given. */
export interface ResolvedExecutionCountQuery {
  workflowId: string | undefined;
  version: number | undefined;
  statuses: readonly ExecutionStatus[] | undefined;
  from: number | undefined;
  to: number | undefined;
  idPrefix: string | undefined;
}

/** A checked {@link ExecutionListQuery}: its filters, the decoded cursor and the limit. */
export interface ResolvedExecutionListQuery extends ResolvedExecutionCountQuery {
  /** The last execution of the previous page: this page starts strictly after (older than) it. */
  before: { startedAt: number; executionId: string } | undefined;
  limit: number;
}

const COUNT_KEYS = new Set(['workflowId', 'version', 'status', 'from', 'to', 'executionId']);
const LIST_KEYS = new Set([...COUNT_KEYS, 'cursor', 'limit']);

/** Tags this module's cursors, so a cursor of another listing (oldest first) is refused. */
const CURSOR_TAG = 'newest';

/** The cursor after `exec` in the newest-first (startedAt, executionId) order; shared by the stores. */
export function executionPageCursor(exec: Pick<WorkflowExecution, 'startedAt' | 'executionId'>): string {
  return Buffer.from(JSON.stringify([CURSOR_TAG, exec.startedAt, exec.executionId])).toString('base64url');
}

function fail(method: string, field: ExecutionQueryField, what: string): never {
  throw new ExecutionQueryError(field, `${method}: ${what}`);
}

const epoch = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);

/**
 * Checks an {@link ExecutionCountQuery}; shared by the stores. Throws an
 * {@link ExecutionQueryError} naming the bad option, before anything is read.
 */
export function resolveExecutionCountQuery(query: ExecutionCountQuery, method = 'countExecutions', keys: ReadonlySet<string> = COUNT_KEYS): ResolvedExecutionCountQuery {
  if (typeof query !== 'object' || query === null || Array.isArray(query)) fail(method, 'query', `the query must be an object, got ${kindOf(query)}`);
  const unknown = Object.keys(query).filter((k) => !keys.has(k));
  if (unknown.length > 0) fail(method, 'query', `unknown option${unknown.length === 1 ? '' : 's'}; it takes ${[...keys].join(', ')}`);
  const { workflowId, version, status, from, to, executionId } = query;
  if (workflowId !== undefined && (typeof workflowId !== 'string' || workflowId === '')) fail(method, 'workflowId', 'workflowId must be a non-empty string');
  if (version !== undefined) {
    if (!(typeof version === 'number' && Number.isInteger(version) && version >= 1)) fail(method, 'version', 'version must be an integer ≥ 1');
    if (workflowId === undefined) fail(method, 'version', 'version needs workflowId (versions are numbered per workflow)');
  }
  let statuses: ExecutionStatus[] | undefined;
  if (status !== undefined) {
    const given: unknown[] = Array.isArray(status) ? [...(status as unknown[])] : [status];
    const bad = given.filter((s) => !EXECUTION_STATUSES.includes(s as ExecutionStatus));
    if (given.length === 0) fail(method, 'status', 'status must name at least one status');
    if (bad.length > 0) fail(method, 'status', `status must be one of ${EXECUTION_STATUSES.join(', ')}`);
    statuses = [...new Set(given as ExecutionStatus[])];
  }
  if (from !== undefined && !epoch(from)) fail(method, 'from', 'from must be epoch milliseconds (a finite number)');
  if (to !== undefined && !epoch(to)) fail(method, 'to', 'to must be epoch milliseconds (a finite number)');
  if (from !== undefined && to !== undefined && from > to) fail(method, 'range', 'from must not be after to');
  if (executionId !== undefined && (typeof executionId !== 'string' || executionId === '')) fail(method, 'executionId', 'executionId must be a non-empty string (an id prefix)');
  return { workflowId, version, statuses, from, to, idPrefix: executionId };
}

/**
 * Checks an {@link ExecutionListQuery} and decodes its cursor; shared by the stores. Throws an
 * {@link ExecutionQueryError} naming the bad option, before anything is read.
 */
export function resolveExecutionListQuery(query: ExecutionListQuery = {}): ResolvedExecutionListQuery {
  const method = 'listExecutionPage';
  const filters = resolveExecutionCountQuery(query, method, LIST_KEYS);
  const limit = query.limit ?? DEFAULT_EXECUTION_PAGE_LIMIT;
  if (!(typeof limit === 'number' && Number.isInteger(limit) && limit >= 1 && limit <= MAX_EXECUTION_PAGE_LIMIT)) {
    fail(method, 'limit', `limit must be an integer from 1 to ${MAX_EXECUTION_PAGE_LIMIT}`);
  }
  let before: ResolvedExecutionListQuery['before'];
  if (query.cursor !== undefined) {
    let decoded: unknown;
    try {
      decoded = typeof query.cursor === 'string' ? JSON.parse(Buffer.from(query.cursor, 'base64url').toString('utf8')) : undefined;
    } catch {
      decoded = undefined; // refused just below, with the other malformed cursors
    }
    if (!Array.isArray(decoded) || decoded.length !== 3 || decoded[0] !== CURSOR_TAG || !epoch(decoded[1]) || typeof decoded[2] !== 'string') {
      fail(method, 'cursor', 'cursor is not one listExecutionPage returned');
    }
    before = { startedAt: decoded[1] as number, executionId: decoded[2] as string };
  }
  return { ...filters, before, limit };
}

/** Whether `exec` passes the filters (the cursor aside); for stores that filter in memory. */
export function matchesExecutionQuery(exec: WorkflowExecution, q: ResolvedExecutionCountQuery): boolean {
  return (
    (q.workflowId === undefined || exec.workflowId === q.workflowId) &&
    (q.version === undefined || exec.workflowVersion === q.version) &&
    (q.statuses === undefined || q.statuses.includes(exec.status)) &&
    (q.from === undefined || exec.startedAt >= q.from) &&
    (q.to === undefined || exec.startedAt < q.to) &&
    (q.idPrefix === undefined || exec.executionId.startsWith(q.idPrefix))
  );
}

/** Newest first by (startedAt, executionId), ids compared by code unit as PostgreSQL's "C" collation does. */
export function newestFirst(a: Pick<WorkflowExecution, 'startedAt' | 'executionId'>, b: Pick<WorkflowExecution, 'startedAt' | 'executionId'>): number {
  return b.startedAt - a.startedAt || (a.executionId < b.executionId ? 1 : a.executionId > b.executionId ? -1 : 0);
}

/** Every status at 0. */
export function emptyStatusCounts(): ExecutionStatusCounts {
  return { pending: 0, running: 0, paused: 0, completed: 0, failed: 0, cancelled: 0 };
}

/** The summary of an execution: its fields without initial data and results, and its node counts. */
export function summarizeExecution(exec: WorkflowExecution): ExecutionSummary {
  const { initialData: _data, nodeResults, ...fields } = exec;
  const nodeCounts: NodeStatusCounts = { completed: 0, failed: 0, skipped: 0 };
  for (const r of Object.values(nodeResults)) if (Object.hasOwn(nodeCounts, r.status)) nodeCounts[r.status]++;
  return { ...fields, nodeCounts };
}
