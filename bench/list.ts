/**
 * Listing executions on PostgreSQL (issue 18): the first page of `listExecutionPage` and the
 * counts of `countExecutions` on a table of BENCH_LIST_EXECUTIONS executions:
 *
 *   npm run bench:list
 *
 * The executions are inserted in bulk with one `INSERT ... SELECT generate_series` (20
 * workflows, 3 versions, statuses 70% completed, 15% failed, 5% running, 5% pending, 3% paused,
 * 2% cancelled, one every 26 s over 30 days, BENCH_LIST_NODES node results each), then
 * `VACUUM ANALYZE`, as autovacuum would leave the table. For each query shape the bench runs the
 * store's own statement (drizzle's SQL and parameters, from `src/store/drizzle/listing.ts`) under
 * `EXPLAIN (ANALYZE, BUFFERS)`: server time is planning + execution time, median of RUNS; it
 * also times the store call itself from this process (round trip and parsing included). A first
 * page whose plan reads `executions` with a sequential scan fails the run, as does a server
 * time over the 200 ms target.
 *
 * Env: BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/postgres; a database is created on
 * its server and dropped at the end), BENCH_LIST_EXECUTIONS (100000), BENCH_LIST_NODES (5),
 * BENCH_LIST_RUNS (15), BENCH_JSON (the bench protocol). Exits 2 when a target is missed, 1 on
 * error.
 */
import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { DrizzleStore } from '../src/index.js';
import type { ExecutionCountQuery, ExecutionListQuery } from '../src/index.js';
import { resolveExecutionCountQuery, resolveExecutionListQuery } from '../src/store/execution-listing.js';
import { executionPageStatement, statusCountsStatement } from '../src/store/drizzle/listing.js';
import type { PgDb } from '../src/store/drizzle/listing.js';
import { createTestDatabase } from '../test/contract/databases.js';
import { envInt, loadAvg, serverTimeRow, stats, writeBenchJson } from './lib.js';
import type { BenchRow } from './lib.js';
import { insertExecutions } from './fixtures.js';

const ADMIN_URL = process.env['BENCH_POSTGRES_URL'] ?? process.env['SPANE_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const EXECUTIONS = envInt('BENCH_LIST_EXECUTIONS', 100_000);
const NODES = envInt('BENCH_LIST_NODES', 5);
const RUNS = envInt('BENCH_LIST_RUNS', 15);
const TARGET_MS = 200;
const DAY = 86_400_000;

interface Shape {
  name: string;
  kind: 'page' | 'count';
  query: ExecutionListQuery;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Scan Direction'?: string;
  Plans?: PlanNode[];
}

/** The scans of `executions` in a plan: "Index Scan Backward on executions_started_idx", ... */
function scansOfExecutions(node: PlanNode, out: string[] = []): string[] {
  const index = node['Index Name'];
  if (node['Relation Name'] === 'executions' || (index?.startsWith('executions_') ?? false)) {
    const backward = node['Scan Direction'] === 'Backward' ? ' Backward' : '';
    out.push(`${node['Node Type']}${backward}${index === undefined ? '' : ` (${index})`}`);
  }
  for (const child of node.Plans ?? []) scansOfExecutions(child, out);
  return out;
}

async function main(): Promise<number> {
  const database = await createTestDatabase(ADMIN_URL, 'spane_bench_list');
  const store = await DrizzleStore.postgres(database.url);
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  try {
    const now = Date.now();
    const t0 = performance.now();
    await insertExecutions(sql, { executions: EXECUTIONS, nodes: NODES, now });
    await sql`vacuum analyze spane.executions`;
    await sql`vacuum analyze spane.node_results`;
    const loadSeconds = (performance.now() - t0) / 1000;
    const [sample] = await sql<{ id: string }[]>`select execution_id as id from spane.executions order by started_at desc offset 1234 limit 1`;
    console.log(`${EXECUTIONS} executions, ${EXECUTIONS * NODES} node results inserted and vacuumed in ${loadSeconds.toFixed(1)} s; load ${loadAvg()}`);

    const db = store.db as unknown as PgDb;
    // The cursor of page 20, to show a deep page costs what the first does.
    let cursor: string | undefined;
    for (let i = 0; i < 19; i++) cursor = (await store.listExecutionPage({ cursor })).nextCursor;
    const day = { from: now - DAY, to: now + 1 };
    const shapes: Shape[] = [
      { name: 'first page, unfiltered', kind: 'page', query: {} },
      { name: 'first page, one workflow', kind: 'page', query: { workflowId: 'wf-7' } },
      { name: 'first page, status failed', kind: 'page', query: { status: 'failed' } },
      { name: 'first page, last 24 h', kind: 'page', query: day },
      { name: 'first page, workflow + 2 statuses', kind: 'page', query: { workflowId: 'wf-7', status: ['failed', 'cancelled'] } },
      { name: 'first page, workflow v2 + last 24 h', kind: 'page', query: { workflowId: 'wf-7', version: 2, ...day } },
      { name: 'first page, id prefix (6 chars)', kind: 'page', query: { executionId: sample!.id.slice(0, 6) } },
      { name: 'page 20, unfiltered (cursor)', kind: 'page', query: { cursor } },
      { name: 'counts, unfiltered', kind: 'count', query: {} },
      { name: 'counts, one workflow', kind: 'count', query: { workflowId: 'wf-7' } },
      { name: 'counts, last 24 h', kind: 'count', query: day },
      { name: 'counts, workflow + last 24 h', kind: 'count', query: { workflowId: 'wf-7', ...day } },
    ];

    const rows: BenchRow[] = [];
    let missed = 0;
    console.log('\n| query | server ms (median) | server ms (p95) | store call ms (median) | rows | plan on executions |');
    console.log('| --- | ---: | ---: | ---: | ---: | --- |');
    for (const shape of shapes) {
      const statement =
        shape.kind === 'page'
          ? executionPageStatement(db, resolveExecutionListQuery(shape.query))
          : statusCountsStatement(db, resolveExecutionCountQuery(shape.query as ExecutionCountQuery));
      const { sql: text, params } = statement.toSQL();
      const server: number[] = [];
      const client: number[] = [];
      let plan: PlanNode | undefined;
      let returned = 0;
      for (let run = 0; run < RUNS + 2; run++) {
        const [explained] = await sql.unsafe(`explain (analyze, buffers, format json) ${text}`, params as never[]);
        const result = (explained as unknown as { 'QUERY PLAN': { Plan: PlanNode; 'Planning Time': number; 'Execution Time': number }[] })['QUERY PLAN'][0]!;
        const started = performance.now();
        if (shape.kind === 'page') returned = (await store.listExecutionPage(shape.query)).executions.length;
        else returned = Object.values(await store.countExecutions(shape.query as ExecutionCountQuery)).reduce((a, b) => a + b, 0);
        if (run < 2) continue; // warm-up
        client.push(performance.now() - started);
        server.push(result['Planning Time'] + result['Execution Time']);
        plan = result.Plan;
      }
      const scans = scansOfExecutions(plan!);
      const s = stats(server);
      const c = stats(client);
      const seq = shape.kind === 'page' && scans.some((x) => x.startsWith('Seq Scan'));
      if (s.median > TARGET_MS || seq) missed++;
      console.log(`| ${shape.name} | ${s.median.toFixed(2)} | ${s.p95.toFixed(2)} | ${c.median.toFixed(2)} | ${returned} | ${scans.join(', ')}${seq ? ' **(seq scan)**' : ''} |`);
      rows.push(serverTimeRow(`listing: ${shape.name}`, s.median, TARGET_MS));
    }
    writeBenchJson(rows);
    console.log(
      missed === 0
        ? `\nEvery query within ${TARGET_MS} ms server time; no first page seq-scans executions.`
        : `\n${missed} quer${missed === 1 ? 'y misses' : 'ies miss'} the target.`,
    );
    return missed === 0 ? 0 : 2;
  } finally {
    await sql.end({ timeout: 5 });
    await store.close();
    await database.drop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
