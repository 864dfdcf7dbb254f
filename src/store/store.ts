import { TERMINAL_STATUSES } from '../definition/types.js';
import type { ExecutionStatus, NodeResult, WorkflowDefinition, WorkflowExecution } from '../definition/types.js';
import { DataTooDeepError, InvalidArgumentError } from '../errors.js';
import type { SerializedError } from '../errors.js';
import { kindOf, MAX_DATA_DEPTH } from '../definition/json-check.js';
import { ownValue, setOwn } from '../definition/own.js';
import type { StoreThreadAccess } from './thread-access.js';
import type { ExecutionCountQuery, ExecutionListQuery, ExecutionStatusCounts, ExecutionSummaryPage } from './execution-listing.js';
import type { CreatedWait, NewWait, WaitMatchQuery, WaitPatch, WaitRecord, WaitRef, WaitState } from './waits.js';

/** An execution as created by the engine, before any node has run. */
export type NewExecution = Omit<WorkflowExecution, 'nodeResults' | 'completedAt' | 'error' | 'errorDetails' | 'pausedAt'>;

/** One line of an execution's log. */
export interface ExecutionLogEntry {
  /** When it was written (epoch ms). */
  at: number;
  /** Severity. */
  level: 'info' | 'warn' | 'error';
  /** What happened. */
  message: string;
  /** The node it concerns, if any. */
  nodeId?: string;
}

/**
 * Which finished executions {@link ExecutionStore.pruneExecutions} deletes. Give `olderThanMs`,
 * `keepLast` or both; an execution is pruned when it satisfies every criterion given.
 */
export interface PruneCriteria {
  /** Only executions that ended more than this many milliseconds ago. */
  olderThanMs?: number;
  /** Keep the newest `keepLast` finished executions (by end time); only older ones are pruned. */
  keepLast?: number;
  /**
   * Terminal statuses to prune.
   * @defaultValue ['completed', 'failed', 'cancelled']
   */
  statuses?: readonly ExecutionStatus[];
}

/** Filters for {@link ExecutionStore.listExecutions}. */
export interface ExecutionFilter {
  /** Only executions of this workflow. */
  workflowId?: string;
  /** Only executions in one of these statuses. */
  status?: ExecutionStatus | readonly ExecutionStatus[];
  /**
   * At most this many, newest first.
   * @defaultValue 100
   */
  limit?: number;
}

/** A status an execution has before it finishes. */
export type UnfinishedStatus = 'pending' | 'running' | 'paused';

/**
 * What {@link ExecutionStore.listUnfinishedExecutions} lists: unfinished executions, oldest first
 * (by `startedAt`, then `executionId`), a page at a time.
 */
export interface UnfinishedExecutionQuery {
  /**
   * Only executions in one of these statuses.
   * @defaultValue ['pending', 'running', 'paused']
   */
  status?: UnfinishedStatus | readonly UnfinishedStatus[];
  /** Only executions created before this time (epoch ms, exclusive). */
  startedBefore?: number;
  /** Where the previous page stopped: its `nextCursor`. Opaque. */
  cursor?: string;
  /**
   * At most this many executions in the page.
   * @defaultValue 100
   */
  limit?: number;
}

/** One page of {@link ExecutionStore.listUnfinishedExecutions}. */
export interface ExecutionPage {
  /** The executions of this page, with their node results. */
  executions: WorkflowExecution[];
  /** Pass it as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

/** The cursor after `exec` in the (startedAt, executionId) order; shared by the stores. */
export function unfinishedCursor(exec: Pick<WorkflowExecution, 'startedAt' | 'executionId'>): string {
  return Buffer.from(JSON.stringify([exec.startedAt, exec.executionId])).toString('base64url');
}

/**
 * Checks an {@link UnfinishedExecutionQuery} and decodes its cursor; shared by the stores.
 * Throws {@link InvalidArgumentError} naming the bad option.
 */
export function resolveUnfinishedQuery(query: UnfinishedExecutionQuery): {
  statuses: readonly ExecutionStatus[];
  startedBefore: number | undefined;
  after: { startedAt: number; executionId: string } | undefined;
  limit: number;
} {
  const statuses: readonly unknown[] = query.status === undefined ? ['pending', 'running', 'paused'] : ([] as unknown[]).concat(query.status);
  const bad = statuses.filter((s) => s !== 'pending' && s !== 'running' && s !== 'paused');
  if (bad.length > 0 || statuses.length === 0)
    throw new InvalidArgumentError(`listUnfinishedExecutions: status may only name pending, running or paused; got ${bad.length === 0 ? 'none' : bad.map(String).join(', ')}`);
  const limit = query.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError(`listUnfinishedExecutions: limit must be a positive integer, got ${String(query.limit)}`);
  const before = query.startedBefore;
  if (before !== undefined && (typeof before !== 'number' || !Number.isFinite(before)))
    throw new InvalidArgumentError('listUnfinishedExecutions: startedBefore must be epoch milliseconds');
  let after: { startedAt: number; executionId: string } | undefined;
  if (query.cursor !== undefined) {
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(String(query.cursor), 'base64url').toString('utf8'));
    } catch {
      decoded = undefined; // refused just below, with the other malformed cursors
    }
    if (!Array.isArray(decoded) || decoded.length !== 2 || typeof decoded[0] !== 'number' || typeof decoded[1] !== 'string') {
      throw new InvalidArgumentError('listUnfinishedExecutions: cursor is not one this store returned');
    }
    after = { startedAt: decoded[0], executionId: decoded[1] };
  }
  return { statuses: statuses as ExecutionStatus[], startedBefore: before, after, limit };
}

/** Options of {@link ExecutionStore.saveWorkflow}. */
export interface SaveWorkflowOptions {
  /**
   * Free text stored with the new version (what changed and why). Ignored when the definition is
   * unchanged, since no version is created then.
   */
  changeNotes?: string;
}

/** One stored version of a workflow definition, as {@link ExecutionStore.getWorkflowVersions} lists it. */
export interface WorkflowVersionInfo {
  /** The version number (1, 2, ...). */
  version: number;
  /** When the version was stored (epoch ms). */
  createdAt: number;
  /** The notes given when it was stored, if any. */
  changeNotes?: string;
}

/** Checks {@link SaveWorkflowOptions}; shared by the stores. */
export function checkSaveWorkflowOptions(options: SaveWorkflowOptions | undefined): void {
  const notes = options?.changeNotes;
  if (notes !== undefined && typeof notes !== 'string') throw new InvalidArgumentError(`changeNotes must be a string, got ${typeof notes}`);
}

/**
 * An execution as {@link ExecutionStore.getExecutionHead} reads it: every field of the execution,
 * but `nodeResults` holds only the results of the node ids asked for.
 */
export interface ExecutionHead extends WorkflowExecution {
  /** How many node results the execution has in all (every stored result is a settled node). */
  settledCount: number;
}

/**
 * Reads an execution's head: {@link ExecutionStore.getExecutionHead} when the store has it, else
 * `getExecution`, keeping only the results of `nodeIds` (and counting all of them).
 */
export async function readExecutionHead(store: ExecutionStore, executionId: string, nodeIds: readonly string[]): Promise<ExecutionHead | null> {
  if (typeof store.getExecutionHead === 'function') return store.getExecutionHead(executionId, nodeIds);
  const exec = await store.getExecution(executionId);
  if (exec === null) return null;
  const all = exec.nodeResults;
  const nodeResults: Record<string, NodeResult> = {};
  for (const id of nodeIds) {
    const r = ownValue(all, id);
    if (r !== undefined) setOwn(nodeResults, id, r);
  }
  return { ...exec, nodeResults, settledCount: Object.keys(all).length };
}

/** Fields written together with a status transition. */
export interface TransitionPatch {
  /** Failure reason, for `failed`. */
  error?: string;
  /** The structured failure, for `failed`; written and cleared together with `error`. */
  errorDetails?: SerializedError;
  /** Pause timestamp, for `paused` (cleared by any other transition). */
  pausedAt?: number;
}

/**
 * Where SPANE keeps workflow definitions, executions and node results. The runtime coordinates
 * through these guarantees, so every implementation must keep them:
 *
 * - {@link ExecutionStore.transitionExecution} is an atomic compare-and-set on the status: of
 *   two concurrent calls for the same transition exactly one returns true. Terminal statuses
 *   (`completed`, `failed`, `cancelled`) only leave through explicit `from` lists that name them.
 * - {@link ExecutionStore.saveNodeResult} is an upsert keyed by (execution, node): writing the
 *   same result twice is harmless, and a later write replaces an earlier one.
 * - A read issued after a write has completed sees that write (read-your-writes across
 *   processes for shared stores), which is what makes joins fire once all parents are written.
 * - {@link ExecutionStore.saveWorkflow} is idempotent for an unchanged definition.
 *
 * Values are stored as JSON: what comes back is a copy, never the object that was written.
 */
export interface ExecutionStore {
  /**
   * True when the state lives in this process's memory, so a read costs no more than a copy.
   * The engine then reads for every node job instead of handing a finished node's view of the
   * execution to its children (see docs/architecture.md, "Handing the view to the children").
   * Absent means false.
   */
  readonly inProcess?: boolean;
  /**
   * How another thread reaches this store: `this-thread` (worker threads send their store calls
   * to the engine, which answers them with this store) or `postgres` with a URL (each worker
   * thread opens its own `DrizzleStore` on it). Declare it for a store to work with
   * `useWorkerThreads` whatever the environment. Absent means unknown: threads use
   * `SPANE_DATABASE_URL` or `DATABASE_URL` when set, else the engine serves the store; a store
   * with `inProcess: true` counts as `this-thread`. See {@link StoreThreadAccess}.
   */
  readonly threadAccess?: StoreThreadAccess | undefined;
  /**
   * Stores a definition and returns its version: the current one when unchanged (canonical JSON
   * comparison, `version` ignored; `changeNotes` are then ignored too), else a new one, N+1,
   * stored with `options.changeNotes`.
   */
  saveWorkflow(definition: WorkflowDefinition, options?: SaveWorkflowOptions): Promise<number>;
  /** A definition by id: the given version, or the latest. */
  getWorkflow(workflowId: string, version?: number): Promise<WorkflowDefinition | null>;
  /**
   * The latest stored version number of a workflow, or null when unknown. Optional: the engine
   * asks it on every enqueue (an execution runs the version that is latest when it starts), and
   * falls back to `getWorkflow(id)` when a store leaves it out.
   */
  getLatestWorkflowVersion?(workflowId: string): Promise<number | null>;
  /** The latest version of every stored definition. */
  listWorkflows(): Promise<WorkflowDefinition[]>;
  /** Every stored version of a workflow, oldest first, with its change notes; `[]` when unknown. */
  getWorkflowVersions(workflowId: string): Promise<WorkflowVersionInfo[]>;

  /** Creates an execution; throws when the id exists. */
  createExecution(execution: NewExecution): Promise<void>;
  /** An execution with its node results, or null. */
  getExecution(executionId: string): Promise<WorkflowExecution | null>;
  /**
   * The execution without its full results: its fields, the results of `nodeIds` only (those
   * that have one) and how many node results it has in all, or null. What a node job reads, so
   * that its cost does not grow with the workflow. Read from one snapshot, with the same
   * read-your-writes guarantee as {@link ExecutionStore.getExecution}. Optional: callers use
   * {@link readExecutionHead}, which falls back to `getExecution` for a store without it.
   */
  getExecutionHead?(executionId: string, nodeIds: readonly string[]): Promise<ExecutionHead | null>;
  /**
   * Executions matching the filter, newest first by creation order, with their node results:
   * whole executions, for scripts and tests. To page through many executions (a dashboard, the
   * CLI), use {@link ExecutionStore.listExecutionPage}, which returns summaries.
   */
  listExecutions(filter?: ExecutionFilter): Promise<WorkflowExecution[]>;
  /**
   * One page of executions matching `query`, newest first by (`startedAt`, `executionId`), as
   * summaries (no initial data, no node results: counts of nodes by status instead), with a
   * cursor for the next page. Keyset paging, so a walk never returns an execution twice while
   * executions are created meanwhile. `limit` defaults to 50 and may be at most 500. A bad query
   * (an unknown status, a cursor the store did not return, a limit out of range, `from` after
   * `to`) is refused with an `ExecutionQueryError` naming the option, before the store is read.
   * See {@link ExecutionListQuery}.
   */
  listExecutionPage(query?: ExecutionListQuery): Promise<ExecutionSummaryPage>;
  /**
   * How many executions matching `query` are in each status (every status present, 0 when
   * none), e.g. for a dashboard's status tabs. Same filters and checks as
   * {@link ExecutionStore.listExecutionPage}, without paging.
   */
  countExecutions(query?: ExecutionCountQuery): Promise<ExecutionStatusCounts>;
  /**
   * Unfinished executions (pending, running, paused), oldest first, one page at a time with a
   * cursor; the engine's reconciler pages through them to find executions whose queue state was
   * lost. Pages stay consistent while executions finish meanwhile (keyset paging: an execution
   * is never returned twice in one walk). Optional: without it the reconciler reads
   * `listExecutions({ status: ['running', 'pending'], limit })`, newest first, one page only.
   */
  listUnfinishedExecutions?(query?: UnfinishedExecutionQuery): Promise<ExecutionPage>;
  /** Executions started as sub-workflows of this one. */
  getChildExecutions(parentExecutionId: string): Promise<WorkflowExecution[]>;
  /**
   * Atomically moves the execution to `to` when its status is one of `from`; returns whether it
   * did. Entering a terminal status sets `completedAt`; `patch` is written in the same step.
   */
  transitionExecution(executionId: string, from: readonly ExecutionStatus[], to: ExecutionStatus, patch?: TransitionPatch): Promise<boolean>;
  /** Upserts the result of one node. */
  saveNodeResult(executionId: string, nodeId: string, result: NodeResult): Promise<void>;
  /** Removes a node's result so the node can run again (DLQ retry, replay). */
  deleteNodeResult(executionId: string, nodeId: string): Promise<void>;
  /**
   * Deletes finished executions matching `criteria`, with their node results and logs; returns
   * how many executions were deleted. Never touches pending, running or paused executions.
   */
  pruneExecutions(criteria: PruneCriteria): Promise<number>;
  /** Appends a line to the execution's log. */
  addLog(executionId: string, entry: ExecutionLogEntry): Promise<void>;
  /** The execution's log, oldest first. */
  getLogs(executionId: string): Promise<ExecutionLogEntry[]>;

  /**
   * Creates a wait (see store/waits.ts) unless one exists for its (execution, kind, key); returns
   * the stored one either way and whether this call created it. Atomic: of concurrent calls for
   * one key exactly one creates it. Throws `ExecutionNotFoundError` for an unknown
   * execution. Optional, with {@link ExecutionStore.getWait}, {@link ExecutionStore.updateWait}
   * and {@link ExecutionStore.listWaits}: a store without them runs no signal nodes.
   */
  createWait?(wait: NewWait): Promise<CreatedWait>;
  /** The wait, or null. */
  getWait?(ref: WaitRef): Promise<WaitRecord | null>;
  /**
   * Atomically moves the wait to `patch.state` (writing the patch's other fields) when its state
   * is one of `from`; returns the updated wait, or null when it is not in one of them (or does
   * not exist). Of two concurrent calls for the same move exactly one gets the wait.
   */
  updateWait?(ref: WaitRef, from: readonly WaitState[], patch: WaitPatch): Promise<WaitRecord | null>;
  /** The execution's waits, oldest first. Pruning an execution deletes them. */
  listWaits?(executionId: string): Promise<WaitRecord[]>;
  /**
   * The `waiting` waits of `query.kind` and `query.key` whose `matchValue` is one of
   * `query.matchValues`, oldest first: how `engine.sendEvent` finds the nodes an event wakes. An
   * index lookup, never a scan of every wait. Optional: a store without it runs no event nodes.
   */
  findWaitingByMatch?(query: WaitMatchQuery): Promise<WaitRecord[]>;
}

/** Checks prune criteria and fills in the default statuses; shared by the stores. */
export function resolvePruneCriteria(criteria: PruneCriteria): Required<Pick<PruneCriteria, 'statuses'>> & PruneCriteria {
  assertRecord('pruneExecutions', 'criteria', criteria);
  const { olderThanMs, keepLast } = criteria;
  const count = (n: unknown) => n === undefined || (typeof n === 'number' && Number.isInteger(n) && n >= 0);
  if ((olderThanMs === undefined && keepLast === undefined) || !count(olderThanMs) || !count(keepLast)) {
    throw new InvalidArgumentError('pruneExecutions needs olderThanMs and/or keepLast, as non-negative integers');
  }
  const statuses = criteria.statuses ?? TERMINAL_STATUSES;
  const live = statuses.filter((s) => !TERMINAL_STATUSES.includes(s));
  if (live.length > 0) throw new InvalidArgumentError(`pruneExecutions only prunes finished executions, not ${live.join(', ')}`);
  return { ...criteria, statuses };
}

/** Throws an {@link InvalidArgumentError} unless `value` is an object (not null, not an array); shared by the stores. */
export function assertRecord(method: string, name: string, value: unknown): void {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return;
  throw new InvalidArgumentError(`${method}: ${name} must be an object, got ${kindOf(value)}`);
}

/** Checks an {@link ExecutionFilter} (`limit` an integer ≥ 0, ids and statuses strings); shared by the stores. */
export function checkExecutionFilter(filter: ExecutionFilter): void {
  assertRecord('listExecutions', 'filter', filter);
  const { workflowId, status, limit } = filter;
  if (workflowId !== undefined && typeof workflowId !== 'string') throw new InvalidArgumentError('listExecutions: workflowId must be a string');
  if (status !== undefined && typeof status !== 'string' && !(Array.isArray(status) && status.every((s) => typeof s === 'string'))) {
    throw new InvalidArgumentError('listExecutions: status must be a status or an array of statuses');
  }
  if (limit !== undefined && !(typeof limit === 'number' && Number.isInteger(limit) && limit >= 0)) throw new InvalidArgumentError('listExecutions: limit must be an integer ≥ 0');
}

/**
 * Checks the arguments of `getWorkflow`: a string id and, when given, an integer version; shared
 * by the stores. A version below 1 is well formed and names no version (null), as the store
 * contract has always said; the engine's own `getWorkflow` refuses it.
 */
export function checkWorkflowLookup(workflowId: string, version: number | undefined): void {
  if (typeof workflowId !== 'string') throw new InvalidArgumentError('getWorkflow: workflowId must be a string');
  if (version !== undefined && !(typeof version === 'number' && Number.isInteger(version))) throw new InvalidArgumentError('getWorkflow: version must be an integer');
}

/**
 * `JSON.stringify(value)` for a store to write. A value nested too deep for it (thousands of
 * levels; the engine refuses more than {@link MAX_DATA_DEPTH} before it gets here) is refused
 * with a {@link DataTooDeepError} instead of a `RangeError`.
 */
export function storeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (err instanceof RangeError) throw new DataTooDeepError(`a value to store nests too deep for JSON (the engine takes at most ${MAX_DATA_DEPTH} levels)`, MAX_DATA_DEPTH);
    throw err;
  }
}

/**
 * Checks a node result before it is written (`status`, `attempts` and `completedAt` present and
 * typed), so one malformed write cannot fail a batch of others; shared by the stores.
 */
export function checkNodeResult(nodeId: string, result: NodeResult): void {
  if (typeof nodeId !== 'string' || nodeId.length === 0) throw new InvalidArgumentError('saveNodeResult: nodeId must be a non-empty string');
  assertRecord('saveNodeResult', 'result', result);
  const { status, attempts, completedAt, startedAt, error } = result;
  const epoch = (n: unknown) => typeof n === 'number' && Number.isFinite(n);
  if (
    typeof status !== 'string' ||
    !Number.isInteger(attempts) ||
    !epoch(completedAt) ||
    (startedAt !== undefined && !epoch(startedAt)) ||
    (error !== undefined && typeof error !== 'string')
  ) {
    throw new InvalidArgumentError(`saveNodeResult: the result of node '${nodeId}' needs a status, integer attempts and epoch-ms completedAt (startedAt and error optional)`);
  }
}
