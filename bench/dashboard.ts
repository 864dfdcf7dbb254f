/**
 * The dashboard's own HTTP handler on PostgreSQL (the dashboard issue: "a large execution (500
 * nodes) and a list of 100,000 executions stay responsive: first page ≤ 200 ms server time"):
 *
 *   npm run bench:dashboard
 *
 * A `DrizzleStore` on a fresh PostgreSQL database gets BENCH_DASHBOARD_EXECUTIONS executions in
 * bulk (as bench/list.ts: 20 workflows, 3 versions, mixed statuses over 30 days, 5 node results
 * each, then `VACUUM ANALYZE`) and one execution of a registered BENCH_DASHBOARD_NODES-node
 * workflow with a result per node (a ~200-byte JSON output each). The bench then times
 * `createDashboard(engine)` called with `Request` objects, no browser and no socket, from the
 * call until the JSON body is read: what the server spends on a request (its store queries
 * included). Median and p95 of RUNS after 2 warm-ups; a median over 200 ms fails the run.
 *
 * Env: BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/postgres; a database is created on
 * its server and dropped at the end), REDIS_URL (redis://127.0.0.1:6379: the engine's queues,
 * untouched; its keys are removed at the end), BENCH_DASHBOARD_EXECUTIONS (100000),
 * BENCH_DASHBOARD_NODES (500), BENCH_DASHBOARD_RUNS (15), BENCH_JSON (the bench protocol). Exits
 * 2 when a target is missed, 1 on error.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { createDashboard, DrizzleStore, NodeRegistry, WorkflowEngine } from '../src/index.js';
import { createTestDatabase } from '../test/contract/databases.js';
import { deleteKeys } from '../test/helpers.js';
import { envInt, linearWorkflow, loadAvg, serverTimeRow, stats, writeBenchJson } from './lib.js';
import type { BenchRow } from './lib.js';
import { insertExecutions } from './fixtures.js';

const ADMIN_URL = process.env['BENCH_POSTGRES_URL'] ?? process.env['SPANE_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const EXECUTIONS = envInt('BENCH_DASHBOARD_EXECUTIONS', 100_000);
const NODES = envInt('BENCH_DASHBOARD_NODES', 500);
const RUNS = envInt('BENCH_DASHBOARD_RUNS', 15);
const PER_EXECUTION = 5;
const TARGET_MS = 200;

/** Times `path` through the handler: from the call until the body is read. */
async function time(dash: (r: Request) => Promise<Response>, path: string): Promise<{ ms: number[]; bytes: number }> {
  const ms: number[] = [];
  let bytes = 0;
  for (let run = 0; run < RUNS + 2; run++) {
    const started = performance.now();
    const res = await dash(new Request(`http://127.0.0.1:4545${path}`));
    const body = await res.text();
    const elapsed = performance.now() - started;
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.slice(0, 200)}`);
    bytes = body.length;
    if (run >= 2) ms.push(elapsed);
  }
  return { ms, bytes };
}

async function main(): Promise<number> {
  const database = await createTestDatabase(ADMIN_URL, 'spane_bench_dashboard');
  const store = await DrizzleStore.postgres(database.url);
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  const redis = new Redis(REDIS_URL);
  const prefix = `{spane-bench-dash-${randomUUID().slice(0, 8)}}`;
  const registry = new NodeRegistry();
  registry.register('step', async (ctx) => ({ success: true, data: ctx.inputData }));
  const engine = new WorkflowEngine({ registry, store, connection: redis, config: { prefix, events: false } });
  try {
    const now = Date.now();
    const t0 = performance.now();
    await insertExecutions(sql, { executions: EXECUTIONS, nodes: PER_EXECUTION, now });

    // The large execution: a registered NODES-node workflow, a result per node.
    await engine.registerWorkflow(linearWorkflow('big', NODES));
    const bigId = randomUUID();
    await sql.unsafe(
      `insert into spane.executions (execution_id, workflow_id, workflow_version, status, initial_data, depth, started_at, completed_at)
       values ($1, 'big', 1, 'completed', '{"order":1}'::jsonb, 0, $2::bigint, $2::bigint + $3::bigint * 20)`,
      [bigId, now, NODES],
    );
    await sql.unsafe(
      `insert into spane.node_results (execution_id, node_id, status, data, attempts, started_at, completed_at)
       select $1, 's' || n, 'completed', jsonb_build_object('step', n, 'note', repeat('x', 160)), 1, $2::bigint + n * 20, $2::bigint + n * 20 + 15
       from generate_series(0, $3::integer - 1) n`,
      [bigId, now, NODES],
    );
    await sql`vacuum analyze spane.executions`;
    await sql`vacuum analyze spane.node_results`;
    console.log(
      `${EXECUTIONS} executions (${EXECUTIONS * PER_EXECUTION} node results) and one of ${NODES} nodes inserted and vacuumed in ${((performance.now() - t0) / 1000).toFixed(1)} s; load ${loadAvg()}`,
    );

    const dash = createDashboard(engine);
    const first = (await (await dash(new Request('http://127.0.0.1:4545/api/executions?pageSize=25'))).json()) as { nextCursor?: string; total: number };
    if (first.total !== EXECUTIONS + 1) throw new Error(`the list counts ${first.total} executions, not ${EXECUTIONS + 1}`);
    const cases: { name: string; path: string }[] = [
      { name: 'executions list, first page (25), unfiltered', path: '/api/executions?pageSize=25' },
      { name: 'executions list, first page, one workflow', path: '/api/executions?pageSize=25&workflowId=wf-7' },
      { name: 'executions list, first page, status failed', path: '/api/executions?pageSize=25&status=failed' },
      { name: 'executions list, second page (cursor)', path: `/api/executions?pageSize=25&cursor=${encodeURIComponent(first.nextCursor ?? '')}` },
      { name: `execution detail, ${NODES} nodes`, path: `/api/executions/${bigId}` },
    ];
    const rows: BenchRow[] = [];
    let missed = 0;
    console.log('\n| request | handler ms (median) | handler ms (p95) | body bytes |');
    console.log('| --- | ---: | ---: | ---: |');
    for (const c of cases) {
      const { ms, bytes } = await time(dash, c.path);
      const s = stats(ms);
      if (s.median > TARGET_MS) missed++;
      console.log(`| ${c.name} | ${s.median.toFixed(1)} | ${s.p95.toFixed(1)} | ${bytes} |`);
      rows.push(serverTimeRow(`dashboard: ${c.name}`, s.median, TARGET_MS));
    }
    writeBenchJson(rows);
    console.log(missed === 0 ? `\nEvery request within ${TARGET_MS} ms.` : `\n${missed} request${missed === 1 ? ' misses' : 's miss'} the target.`);
    return missed === 0 ? 0 : 2;
  } finally {
    await engine.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
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
