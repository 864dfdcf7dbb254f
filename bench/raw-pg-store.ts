/**
 * A bench-only experiment, not a shipped store: DrizzleStore with its three hot-path methods
 * (`getExecution`, `saveNodeResult`, `transitionExecution`, i.e. what every node job calls) written
 * as postgres.js tagged templates instead of drizzle query builders. Same SQL, same tables,
 * same row mapping (`toExecution`), same semantics; everything else is inherited. It exists to
 * measure how much of the PostgreSQL store's cost is query building in drizzle rather than
 * PostgreSQL itself (`BENCH_STORE_SIDES=...,postgres-raw`). See docs/benchmarks.md, "Stores".
 */
import { drizzle } from 'drizzle-orm/postgres-js';
import type { Sql } from 'postgres';
import { DrizzleStore, ExecutionNotFoundError, TERMINAL_STATUSES } from '../src/index.js';
import type { ExecutionStatus, NodeResult, TransitionPatch, WorkflowExecution } from '../src/index.js';
import { toExecution } from '../src/store/drizzle/rows.js';
import type { ExecutionRow } from '../src/store/drizzle/rows.js';

export class RawHotPathPgStore extends DrizzleStore {
  /** `sql` must point at a database the shipped migrations have been applied to. */
  constructor(private readonly sql: Sql) {
    super(drizzle(sql));
  }

  override async getExecution(executionId: string): Promise<WorkflowExecution | null> {
    const [row] = await this.sql<ExecutionRow[]>`
      select e.execution_id as "executionId", e.workflow_id as "workflowId", e.workflow_version as "workflowVersion",
             e.status, e.initial_data::text as "initialData", e.parent_execution_id as "parentExecutionId",
             e.parent_node_id as "parentNodeId", e.depth, e.started_at as "startedAt", e.completed_at as "completedAt",
             e.error, e.paused_at as "pausedAt",
             (select coalesce(jsonb_agg(jsonb_build_array(r.node_id, r.status, r.data is not null, r.data, r.error, r.next_nodes, r.attempts, r.started_at, r.completed_at)
                order by r.completed_at, r.node_id), '[]'::jsonb)::text
              from spane.node_results r where r.execution_id = e.execution_id) as "nodeResults"
      from spane.executions e where e.execution_id = ${executionId}`;
    return row === undefined ? null : toExecution(row);
  }

  override async saveNodeResult(executionId: string, nodeId: string, result: NodeResult): Promise<void> {
    const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
    try {
      await this.sql`
        insert into spane.node_results (execution_id, node_id, status, data, error, next_nodes, attempts, started_at, completed_at)
        values (${executionId}, ${nodeId}, ${result.status}, ${json(result.data)}::text::jsonb, ${result.error ?? null},
                ${json(result.nextNodes)}::text::jsonb, ${result.attempts}, ${result.startedAt ?? null}, ${result.completedAt})
        on conflict (execution_id, node_id) do update set status = excluded.status, data = excluded.data, error = excluded.error,
          next_nodes = excluded.next_nodes, attempts = excluded.attempts, started_at = excluded.started_at, completed_at = excluded.completed_at`;
    } catch (err) {
      if ((err as { code?: string }).code === '23503') throw new ExecutionNotFoundError(executionId);
      throw err;
    }
  }

  override async transitionExecution(executionId: string, from: readonly ExecutionStatus[], to: ExecutionStatus, patch: TransitionPatch = {}): Promise<boolean> {
    const now = Date.now();
    const completedAt = TERMINAL_STATUSES.includes(to) ? now : null;
    const pausedAt = to === 'paused' ? (patch.pausedAt ?? now) : null;
    // running clears the error; otherwise the patch's error, if any, replaces it.
    const clearError = to === 'running';
    const setError = !clearError && patch.error !== undefined;
    const updated = await this.sql`
      update spane.executions set status = ${to}, completed_at = ${completedAt}, paused_at = ${pausedAt},
        error = case when ${clearError}::boolean then null when ${setError}::boolean then ${patch.error ?? null} else error end
      where execution_id = ${executionId} and status = any(${[...from]}::text[])
      returning execution_id`;
    if (updated.length > 0) return true;
    const found = await this.sql`select 1 from spane.executions where execution_id = ${executionId}`;
    if (found.length === 0) throw new ExecutionNotFoundError(executionId);
    return false;
  }
}
