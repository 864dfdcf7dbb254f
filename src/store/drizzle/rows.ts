/**
 * Conversions between the store's JSON values and the rows of `schema.ts`.
 *
 * JSON columns are written as text cast to `jsonb` and read back as text (`::text`), then parsed
 * here. Going through text keeps three things exact on both drivers: an absent value (SQL `NULL`)
 * stays different from `null` (JSON `null`); a JSON string such as `"123"` is not parsed twice
 * into a number; and nothing depends on a driver's own jsonb (de)serialisers.
 *
 * @module
 */
import { sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import { setOwn } from '../../definition/own.js';
import type { ExecutionStatus, NodeResult, NodeResultStatus, WorkflowExecution } from '../../definition/types.js';
import { asSerializedError } from '../../errors.js';
import { storeJson } from '../store.js';
import { executions, nodeResults } from './schema.js';

/** The JSON text of a value for a nullable jsonb column, or `null` (SQL `NULL`) for `undefined`. */
export function jsonText(value: unknown): string | null {
  return value === undefined ? null : (storeJson(value) ?? null);
}

/** A value for a nullable jsonb column: SQL `NULL` for `undefined`, the JSON otherwise. */
export function jsonValue(value: unknown): SQL | null {
  const text = jsonText(value);
  return text === null ? null : sql`${text}::text::jsonb`;
}

/** Parses what a `::text` select of a jsonb column returned; SQL `NULL` becomes `undefined`. */
export function parseJson(text: string | null): unknown {
  return text === null ? undefined : JSON.parse(text);
}

/**
 * A subquery giving an execution's node results as one JSON array (text) of tuples; one
 * statement reads the execution and its results together, from one snapshot. The outer column
 * is spelled out: drizzle renders `${executions.executionId}` unqualified in a single-table select,
 * which inside the subquery would bind to `r.execution_id` itself. Built as `json`, not `jsonb`:
 * the text is all we want, and skipping the binary form made this read about twice as cheap for
 * the server.
 */
const nodeResultsJson = sql<string>`(
  select coalesce(json_agg(json_build_array(r.node_id, r.status, r.data is not null, r.data, r.error, r.error_details, r.next_nodes, r.attempts, r.started_at, r.completed_at)
    order by r.completed_at, r.node_id), '[]'::json)::text
  from ${nodeResults} r
  where r.execution_id = "spane"."executions"."execution_id"
)`;

/**
 * Like the node-results subquery above, limited to the node ids in `ids` (an array of text), for
 * {@link executionHeadColumns}.
 */
function someNodeResultsJson(ids: SQL): SQL<string> {
  return sql<string>`(
  select coalesce(json_agg(json_build_array(r.node_id, r.status, r.data is not null, r.data, r.error, r.error_details, r.next_nodes, r.attempts, r.started_at, r.completed_at)), '[]'::json)::text
  from ${nodeResults} r
  where r.execution_id = "spane"."executions"."execution_id" and r.node_id = any(${ids})
)`;
}

/** How many node results the execution has: an index-only count, no row is read or sent. */
const settledCountSql = sql<number>`(
  select count(*)::integer from ${nodeResults} r where r.execution_id = "spane"."executions"."execution_id"
)`;

/**
 * The columns of an execution's own fields (neither its initial data nor its node results), with
 * JSON as text: what a full read and a listing summary share, mapped by {@link toExecutionFields}.
 */
export const executionFieldColumns = {
  executionId: executions.executionId,
  workflowId: executions.workflowId,
  workflowVersion: executions.workflowVersion,
  status: executions.status,
  parentExecutionId: executions.parentExecutionId,
  parentNodeId: executions.parentNodeId,
  depth: executions.depth,
  startedAt: executions.startedAt,
  completedAt: executions.completedAt,
  error: executions.error,
  errorDetails: sql<string | null>`${executions.errorDetails}::text`,
  pausedAt: executions.pausedAt,
  forkedFromExecutionId: executions.forkedFromExecutionId,
  forkedFromNodeId: executions.forkedFromNodeId,
  traceId: executions.traceId,
  traceParent: executions.traceParent,
};

/** The columns selected for an execution, with JSON as text and its node results inlined. */
export const executionColumns = {
  ...executionFieldColumns,
  initialData: sql<string | null>`${executions.initialData}::text`,
  nodeResults: nodeResultsJson,
};

/**
 * The columns of an execution head: those of {@link executionColumns}, with the results of the
 * node ids in `ids` only, and the count of all of them.
 */
export function executionHeadColumns(ids: SQL) {
  return { ...executionColumns, nodeResults: someNodeResultsJson(ids), settledCount: settledCountSql };
}

/** A row selected with {@link executionFieldColumns}. */
export interface ExecutionFieldsRow {
  executionId: string;
  workflowId: string;
  workflowVersion: number;
  status: string;
  parentExecutionId: string | null;
  parentNodeId: string | null;
  depth: number;
  startedAt: number;
  completedAt: number | null;
  error: string | null;
  errorDetails: string | null;
  pausedAt: number | null;
  forkedFromExecutionId: string | null;
  forkedFromNodeId: string | null;
  traceId: string | null;
  traceParent: string | null;
}

/** A row selected with {@link executionColumns}. */
export interface ExecutionRow extends ExecutionFieldsRow {
  initialData: string | null;
  nodeResults: string;
}

/** A row selected with {@link executionHeadColumns}. */
export interface ExecutionHeadRow extends ExecutionRow {
  settledCount: number;
}

type ResultTuple = [string, NodeResultStatus, boolean, unknown, string | null, unknown, string[] | null, number, number | null, number];

/** The execution's own fields of a row; absent optional fields are left out, not `null`. */
export function toExecutionFields(row: ExecutionFieldsRow): Omit<WorkflowExecution, 'initialData' | 'nodeResults'> {
  const out: Omit<WorkflowExecution, 'initialData' | 'nodeResults'> = {
    executionId: row.executionId,
    workflowId: row.workflowId,
    workflowVersion: row.workflowVersion,
    status: row.status as ExecutionStatus,
    depth: row.depth,
    startedAt: Number(row.startedAt),
  };
  if (row.parentExecutionId !== null) out.parentExecutionId = row.parentExecutionId;
  if (row.parentNodeId !== null) out.parentNodeId = row.parentNodeId;
  if (row.completedAt !== null) out.completedAt = Number(row.completedAt);
  if (row.error !== null) out.error = row.error;
  const errorDetails = asSerializedError(parseJson(row.errorDetails));
  if (errorDetails !== undefined) out.errorDetails = errorDetails;
  if (row.pausedAt !== null) out.pausedAt = Number(row.pausedAt);
  if (row.forkedFromExecutionId !== null && row.forkedFromNodeId !== null) out.forkedFrom = { executionId: row.forkedFromExecutionId, nodeId: row.forkedFromNodeId };
  if (row.traceId !== null) out.traceId = row.traceId;
  if (row.traceParent !== null) out.traceParent = row.traceParent;
  return out;
}

/** Builds the execution the interface returns; absent optional fields are left out, not `null`. */
export function toExecution(row: ExecutionRow): WorkflowExecution {
  const out: WorkflowExecution = { ...toExecutionFields(row), initialData: parseJson(row.initialData), nodeResults: {} };
  // The key is absent, not `undefined`, when the execution had no initial data.
  if (out.initialData === undefined) delete out.initialData;
  for (const tuple of JSON.parse(row.nodeResults) as ResultTuple[]) {
    const [nodeId, status, hasData, data, error, errorDetails, nextNodes, attempts, startedAt, completedAt] = tuple;
    const result: NodeResult = { status, attempts, completedAt: Number(completedAt) };
    if (hasData) result.data = data;
    if (error !== null) result.error = error;
    const details = asSerializedError(errorDetails);
    if (details !== undefined) result.errorDetails = details;
    if (nextNodes !== null) result.nextNodes = nextNodes;
    if (startedAt !== null) result.startedAt = Number(startedAt);
    setOwn(out.nodeResults, nodeId, result);
  }
  return out;
}
