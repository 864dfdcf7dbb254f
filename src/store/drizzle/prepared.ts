/**
 * The statements every node job runs, built once per {@link DrizzleStore} as drizzle prepared
 * queries with placeholders.
 *
 * Why: a query builder call costs more Node CPU than the statement costs PostgreSQL (drizzle
 * walks the builder and renders SQL on every call), and drizzle sends an unprepared query to
 * postgres.js as an unnamed statement, which postgres.js sends in two round trips (parse and
 * describe, then bind and execute) and cannot pipeline. A prepared query renders once; postgres.js
 * parses it once per connection and afterwards runs it in one round trip, pipelined with the
 * other queries waiting for that connection. On PGlite only the rendering is saved.
 *
 * A client made with postgres.js's `prepare: false` (for PgBouncer in transaction mode) still
 * works: postgres.js then sends these as unnamed statements too.
 *
 * @module
 */
import { eq, sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { executionColumns, executionHeadColumns } from './rows.js';
import { executions, nodeResults, workflows } from './schema.js';

type Db = PgDatabase<PgQueryResultHKT, Record<string, unknown>>;

/**
 * One node result as {@link HotPathStatements.saveNodeResults} takes it: execution id, node id,
 * status, data as JSON text (null: no data), error, error details as JSON text, next nodes as JSON text, attempts,
 * startedAt, completedAt. JSON values travel as text inside the JSON array so that SQL `NULL`
 * (no data) and JSON `null` stay different.
 */
export type NodeResultTuple = [string, string, string, string | null, string | null, string | null, string | null, number, number | null, number];

/**
 * One new execution as {@link HotPathStatements.createExecutions} takes it: id, workflow id,
 * workflow version, status, initial data as JSON text (null: none), parent execution id, parent
 * node id, depth, startedAt, the execution and node a fork was forked from, trace id, traceparent.
 */
export type NewExecutionTuple = [
  string,
  string,
  number,
  string,
  string | null,
  string | null,
  string | null,
  number,
  number,
  string | null,
  string | null,
  string | null,
  string | null,
];

/** The hot-path statements of one database; see the module comment. */
export type HotPathStatements = ReturnType<typeof prepareHotPaths>;

/**
 * Builds the hot-path statements for `db`. Statement names only need to be unique per store:
 * postgres.js names its server-side statements itself, and caches them per connection by SQL text.
 */
export function prepareHotPaths(db: Db) {
  return {
    /**
     * Placeholder `ids`: a JSON array of execution ids. One row (as in {@link executionColumns})
     * per id that exists, in no particular order.
     */
    getExecutions: db
      .select(executionColumns)
      .from(executions)
      // An array built from the JSON, not `IN (SELECT ...)`: the planner then looks the ids up in
      // the primary key instead of hashing a scan of the table.
      .where(sql`${executions.executionId} = any(array(select json_array_elements_text(${sql.placeholder('ids')}::json)))`)
      .prepare('spane_get_executions'),

    /**
     * Placeholder `requests`: a JSON array of `[executionId, [nodeId, ...]]`. One row per request
     * whose execution exists, `i` its index from 1, with the execution's fields, the results of
     * those node ids and the number of all its results ({@link executionHeadColumns}).
     */
    getExecutionHeads: db
      .select({ i: sql<number>`q.i::integer`, ...executionHeadColumns(sql`array(select json_array_elements_text(q.value->1))`) })
      .from(sql`json_array_elements(${sql.placeholder('requests')}::json) with ordinality as q(value, i)`)
      .innerJoin(executions, sql`${executions.executionId} = q.value->>0`)
      .prepare('spane_get_execution_heads'),

    /** Placeholder `workflowId`. One row, `version` null when the workflow is unknown. */
    latestWorkflowVersion: db
      .select({ version: sql<number | null>`max(${workflows.version})` })
      .from(workflows)
      .where(eq(workflows.id, sql.placeholder('workflowId')))
      .prepare('spane_latest_workflow_version'),

    /** Placeholders: `executionId`. One row when the execution exists. */
    executionExists: db
      .select({ executionId: executions.executionId })
      .from(executions)
      .where(eq(executions.executionId, sql.placeholder('executionId')))
      .prepare('spane_execution_exists'),

    /**
     * Inserts new executions, any number in one statement, skipping ids that exist. Placeholder
     * `rows`: a JSON array of {@link NewExecutionTuple}s, with no id twice. Returns the ids it
     * inserted. `seq` (an identity column) is drawn from its own sequence, as a plain insert
     * would draw it.
     */
    createExecutions: db
      .insert(executions)
      // drizzle lists every column for INSERT ... SELECT, `seq` included, and its
      // `.overridingSystemValue()` is not carried over to `.select()` (0.45), so the clause leads
      // the SELECT here; it lands where PostgreSQL wants it, after the column list.
      .select(
        sql`overriding system value
          select r->>0, nextval(pg_get_serial_sequence('spane.executions', 'seq')), r->>1, (r->>2)::integer, r->>3, (r->>4)::jsonb,
            r->>5, r->>6, (r->>7)::integer, (r->>8)::bigint, null::bigint, null::text, null::jsonb, null::bigint, r->>9, r->>10, r->>11, r->>12
          from json_array_elements(${sql.placeholder('rows')}::json) as r`,
      )
      .onConflictDoNothing({ target: executions.executionId })
      .returning({ executionId: executions.executionId })
      .prepare('spane_create_executions'),

    /**
     * Upsert of node results keyed by (execution, node): a later write replaces every field. Any
     * number of results in one statement. Placeholder `rows`: a JSON array of
     * {@link NodeResultTuple}s, with no (execution, node) twice.
     */
    saveNodeResults: db
      .insert(nodeResults)
      // Columns in table order, as drizzle lists them for INSERT ... SELECT.
      .select(
        sql`select r->>0, r->>1, r->>2, (r->>3)::jsonb, r->>4, (r->>5)::jsonb, (r->>6)::jsonb, (r->>7)::integer, (r->>8)::bigint, (r->>9)::bigint
          from json_array_elements(${sql.placeholder('rows')}::json) as r`,
      )
      .onConflictDoUpdate({
        target: [nodeResults.executionId, nodeResults.nodeId],
        set: {
          status: sql`excluded.status`,
          data: sql`excluded.data`,
          error: sql`excluded.error`,
          errorDetails: sql`excluded.error_details`,
          nextNodes: sql`excluded.next_nodes`,
          attempts: sql`excluded.attempts`,
          startedAt: sql`excluded.started_at`,
          completedAt: sql`excluded.completed_at`,
        },
      })
      .prepare('spane_save_node_results'),

    /**
     * The compare-and-set on the status: one `UPDATE ... WHERE execution_id = $ AND status = any($)
     * RETURNING`. Placeholders: `executionId`; `from` (the allowed statuses joined by commas,
     * which no status contains); `to`; `completedAt` and `pausedAt` (number or null);
     * `errorMode` (`clear`, `set` or `keep`), `error` and `errorDetails` (JSON text or null), which
     * are written (or cleared) together.
     */
    transitionExecution: db
      .update(executions)
      .set({
        status: sql`${sql.placeholder('to')}::text`,
        completedAt: sql`${sql.placeholder('completedAt')}::bigint`,
        pausedAt: sql`${sql.placeholder('pausedAt')}::bigint`,
        error: sql`case ${sql.placeholder('errorMode')}::text when 'clear' then null when 'set' then ${sql.placeholder('error')}::text else ${executions.error} end`,
        errorDetails: sql`case ${sql.placeholder('errorMode')}::text when 'clear' then null when 'set' then ${sql.placeholder('errorDetails')}::text::jsonb else ${executions.errorDetails} end`,
      })
      .where(sql`${executions.executionId} = ${sql.placeholder('executionId')} and ${executions.status} = any(string_to_array(${sql.placeholder('from')}::text, ','))`)
      .returning({ executionId: executions.executionId })
      .prepare('spane_transition_execution'),
  };
}
