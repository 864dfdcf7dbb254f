/**
 * The listing queries of {@link DrizzleStore}: a page of execution summaries by keyset on
 * (`started_at`, `execution_id`), and counts by status. The indexes they use are in `schema.ts`
 * (`executions_started_idx`, `executions_workflow_started_idx`, `executions_status_started_idx`,
 * `executions_workflow_status_idx`, `executions_id_prefix_idx`); docs/persistence.md shows their
 * plans.
 *
 * @module
 */
import { and, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { ExecutionStatus } from '../../definition/types.js';
import { emptyStatusCounts, executionPageCursor } from '../execution-listing.js';
import type { ExecutionStatusCounts, ExecutionSummary, ExecutionSummaryPage, ResolvedExecutionCountQuery, ResolvedExecutionListQuery } from '../execution-listing.js';
import { executionFieldColumns, toExecutionFields } from './rows.js';
import type { ExecutionFieldsRow } from './rows.js';
import { executions, nodeResults } from './schema.js';

/** drizzle's own type of the database a store runs its queries on. @internal */
export type PgDb = PgDatabase<PgQueryResultHKT, Record<string, unknown>>;

/** `prefix` as a LIKE pattern that matches it literally at the start. */
function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, '\\$&')}%`;
}

/** The WHERE clause of the filters (the cursor aside). */
function filters(q: ResolvedExecutionCountQuery): SQL | undefined {
  return and(
    q.workflowId === undefined ? undefined : eq(executions.workflowId, q.workflowId),
    q.version === undefined ? undefined : eq(executions.workflowVersion, q.version),
    q.statuses === undefined ? undefined : inArray(executions.status, [...q.statuses]),
    q.from === undefined ? undefined : gte(executions.startedAt, q.from),
    q.to === undefined ? undefined : lt(executions.startedAt, q.to),
    q.idPrefix === undefined ? undefined : sql`${executions.executionId} like ${prefixPattern(q.idPrefix)}`,
  );
}

/**
 * Counts of the execution's node results by status, as a JSON array of three numbers (text):
 * completed, failed, skipped. Read through the (execution_id, node_id) key; no result is sent.
 */
const nodeCountsJson = sql<string>`(
  select json_build_array(count(*) filter (where r.status = 'completed'), count(*) filter (where r.status = 'failed'), count(*) filter (where r.status = 'skipped'))::text
  from ${nodeResults} r
  where r.execution_id = "spane"."executions"."execution_id"
)`;

const summaryColumns = { ...executionFieldColumns, nodeCounts: nodeCountsJson };

function toSummary(row: ExecutionFieldsRow & { nodeCounts: string }): ExecutionSummary {
  const [completed, failed, skipped] = JSON.parse(row.nodeCounts) as [number, number, number];
  return { ...toExecutionFields(row), nodeCounts: { completed: Number(completed), failed: Number(failed), skipped: Number(skipped) } };
}

/**
 * The statement of one page, newest first: a keyset condition on (started_at, execution_id),
 * which the indexes serve in order; it reads `limit + 1` rows to tell whether a next page exists.
 * Built, not run: `bench/list.ts` EXPLAINs it.
 */
export function executionPageStatement(db: PgDb, q: ResolvedExecutionListQuery) {
  const { before } = q;
  const after = before === undefined ? undefined : sql`(${executions.startedAt}, ${executions.executionId}) < (${before.startedAt}::bigint, ${before.executionId}::text)`;
  return db
    .select(summaryColumns)
    .from(executions)
    .where(and(filters(q), after))
    .orderBy(desc(executions.startedAt), desc(executions.executionId))
    .limit(q.limit + 1);
}

/** The statement of the counts by status: one GROUP BY over the filters. Built, not run. */
export function statusCountsStatement(db: PgDb, q: ResolvedExecutionCountQuery) {
  return db
    .select({ status: executions.status, n: sql<number>`count(*)::integer` })
    .from(executions)
    .where(filters(q))
    .groupBy(executions.status);
}

/** One page of summaries and the cursor after it. */
export async function selectExecutionPage(db: PgDb, q: ResolvedExecutionListQuery): Promise<ExecutionSummaryPage> {
  const rows = await executionPageStatement(db, q);
  const page = rows.slice(0, q.limit).map(toSummary);
  return rows.length > q.limit ? { executions: page, nextCursor: executionPageCursor(page.at(-1)!) } : { executions: page };
}

/** Counts by status, every status present. */
export async function selectStatusCounts(db: PgDb, q: ResolvedExecutionCountQuery): Promise<ExecutionStatusCounts> {
  const rows = await statusCountsStatement(db, q);
  const counts = emptyStatusCounts();
  for (const r of rows) if (Object.hasOwn(counts, r.status)) counts[r.status as ExecutionStatus] = Number(r.n);
  return counts;
}
