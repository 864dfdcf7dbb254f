/**
 * `spane executions list` and `spane executions inspect <id>`: executions read from the shared
 * store (see docs/cli.md).
 *
 * @module
 */
import type { ExecutionStatus, NodeResult, WorkflowExecution } from '../../definition/types.js';
import { ownValue } from '../../definition/own.js';
import { ExecutionNotFoundError } from '../../errors.js';
import { EXECUTION_STATUSES, resolveExecutionListQuery } from '../../store/execution-listing.js';
import type { ExecutionListQuery, ExecutionStatusCounts, ExecutionSummaryPage } from '../../store/execution-listing.js';
import type { CliIO } from '../io.js';
import { println } from '../io.js';
import { openCliStore } from '../store.js';
import type { CliStoreOptions } from '../store.js';
import { duration, formatTable, isoTime, oneLine } from '../table.js';

/** Options of {@link executionsListCommand}. */
export interface ExecutionsListOptions extends CliStoreOptions {
  workflow?: string | undefined;
  workflowVersion?: number | undefined;
  /** Statuses, comma-separated. */
  status?: string | undefined;
  /** Epoch ms (parsed from ISO 8601 by the program). */
  from?: number | undefined;
  to?: number | undefined;
  /** Id prefix. */
  id?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
  json?: boolean | undefined;
}

/** Options of {@link executionsInspectCommand}. */
export interface ExecutionsInspectOptions extends CliStoreOptions {
  json?: boolean | undefined;
}

/** The store query of the command's options; the store checks it (unknown statuses, ranges, ...). */
function queryOf(options: ExecutionsListOptions): ExecutionListQuery {
  const query: ExecutionListQuery = {};
  if (options.workflow !== undefined) query.workflowId = options.workflow;
  if (options.workflowVersion !== undefined) query.version = options.workflowVersion;
  if (options.status !== undefined) query.status = options.status.split(',').map((s) => s.trim()) as ExecutionStatus[];
  if (options.from !== undefined) query.from = options.from;
  if (options.to !== undefined) query.to = options.to;
  if (options.id !== undefined) query.executionId = options.id;
  if (options.limit !== undefined) query.limit = options.limit;
  if (options.cursor !== undefined) query.cursor = options.cursor;
  return query;
}

/**
 * Prints one page of executions, newest first: a table (and, on stderr, how many match by status
 * and the `--cursor` of the next page), or with `--json` the page as `{ executions, nextCursor? }`.
 */
export async function executionsListCommand(options: ExecutionsListOptions, io: CliIO): Promise<number> {
  const query = queryOf(options);
  // A bad query is refused before a connection is opened.
  resolveExecutionListQuery(query);
  const store = await openCliStore('executions list', options);
  try {
    const page = await store.listExecutionPage(query);
    if (options.json === true) {
      println(io.stdout, JSON.stringify(page, null, 2));
      return 0;
    }
    const { cursor: _cursor, limit: _limit, ...filters } = query;
    printPage(io, page, await store.countExecutions(filters));
    return 0;
  } finally {
    await store.close();
  }
}

function printPage(io: CliIO, page: ExecutionSummaryPage, counts: ExecutionStatusCounts): void {
  const rows = page.executions.map((e) => [
    isoTime(e.startedAt),
    e.status,
    `${e.workflowId} v${e.workflowVersion}`,
    `${e.nodeCounts.completed}/${e.nodeCounts.failed}/${e.nodeCounts.skipped}`,
    duration(e.startedAt, e.completedAt),
    e.executionId,
  ]);
  if (rows.length > 0) for (const line of formatTable(['STARTED', 'STATUS', 'WORKFLOW', 'NODES ok/failed/skipped', 'DURATION', 'EXECUTION'], rows)) println(io.stdout, line);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const byStatus = EXECUTION_STATUSES.filter((s) => counts[s] > 0).map((s) => `${s} ${counts[s]}`);
  println(io.stderr, `${rows.length} shown of ${total} matching${byStatus.length === 0 ? '' : ` (${byStatus.join(', ')})`}`);
  if (page.nextCursor !== undefined) println(io.stderr, `next page: add --cursor ${page.nextCursor}`);
}

/** One node as `inspect` shows it. */
interface NodeLine {
  nodeId: string;
  type?: string;
  /** How it ended, or `not settled` while it has no result. */
  status: NodeResult['status'] | 'not settled';
  attempts?: number;
  startedAt?: number;
  completedAt?: number;
  durationMs?: number;
  error?: string;
}

/**
 * Prints an execution: its status, times and error, and every node of its workflow version with
 * how it ended (or that it has not), its attempts, timings and error. `--json` prints the same as
 * one object. Neither shows initial data or node outputs. An unknown id is an
 * {@link ExecutionNotFoundError} (exit 1).
 */
export async function executionsInspectCommand(executionId: string, options: ExecutionsInspectOptions, io: CliIO): Promise<number> {
  const store = await openCliStore('executions inspect', options);
  try {
    const exec = await store.getExecution(executionId);
    if (exec === null) throw new ExecutionNotFoundError(executionId);
    const definition = await store.getWorkflow(exec.workflowId, exec.workflowVersion);
    const nodes = nodeLines(exec, definition?.nodes ?? []);
    const { initialData: _data, nodeResults: _results, ...fields } = exec;
    if (options.json === true) {
      println(io.stdout, JSON.stringify({ ...fields, durationMs: exec.completedAt === undefined ? undefined : exec.completedAt - exec.startedAt, nodes }, null, 2));
      return 0;
    }
    const out = (label: string, value: string) => println(io.stdout, `${label.padEnd(10)} ${value}`);
    out('execution', exec.executionId);
    out('workflow', `${exec.workflowId} v${exec.workflowVersion}`);
    out('status', exec.status);
    out('started', isoTime(exec.startedAt));
    if (exec.completedAt !== undefined) out('finished', `${isoTime(exec.completedAt)} (${duration(exec.startedAt, exec.completedAt)})`);
    if (exec.pausedAt !== undefined) out('paused', isoTime(exec.pausedAt));
    if (exec.parentExecutionId !== undefined) out('parent', `${exec.parentExecutionId}${exec.parentNodeId === undefined ? '' : ` (node ${exec.parentNodeId})`}`);
    if (exec.error !== undefined) out('error', `${exec.errorDetails?.code === undefined ? '' : `[${exec.errorDetails.code}] `}${oneLine(exec.error, 200)}`);
    println(io.stdout);
    const rows = nodes.map((n) => [
      n.nodeId,
      n.type ?? '-',
      n.status,
      n.attempts === undefined ? '-' : String(n.attempts),
      isoTime(n.startedAt),
      duration(n.startedAt, n.completedAt),
      n.error === undefined ? '' : oneLine(n.error),
    ]);
    for (const line of formatTable(['NODE', 'TYPE', 'STATUS', 'ATTEMPTS', 'STARTED', 'DURATION', 'ERROR'], rows)) println(io.stdout, line);
    return 0;
  } finally {
    await store.close();
  }
}

/** The workflow's nodes in definition order, then any result of a node the definition lacks. */
function nodeLines(exec: WorkflowExecution, nodes: readonly { id: string; type: string }[]): NodeLine[] {
  const lines: NodeLine[] = [];
  const line = (nodeId: string, type: string | undefined): NodeLine => {
    const r = ownValue(exec.nodeResults, nodeId);
    const out: NodeLine = type === undefined ? { nodeId, status: r?.status ?? 'not settled' } : { nodeId, type, status: r?.status ?? 'not settled' };
    if (r === undefined) return out;
    out.attempts = r.attempts;
    if (r.startedAt !== undefined) {
      out.startedAt = r.startedAt;
      out.durationMs = r.completedAt - r.startedAt;
    }
    out.completedAt = r.completedAt;
    if (r.error !== undefined) out.error = r.error;
    return out;
  };
  const known = new Set(nodes.map((n) => n.id));
  for (const n of nodes) lines.push(line(n.id, n.type));
  for (const id of Object.keys(exec.nodeResults)) if (!known.has(id)) lines.push(line(id, undefined));
  return lines;
}
