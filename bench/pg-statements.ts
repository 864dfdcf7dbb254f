/**
 * What SPANE sends PostgreSQL on the PostgreSQL backend, statement by statement
 * (`pg_stat_statements`), to explain the idle-commits row of bench/pg.ts and the cost of a step:
 *
 *   npm run bench:pg-statements
 *
 * The shared server has no `pg_stat_statements` preloaded, so this starts a disposable cluster of
 * its own (initdb into a temporary directory, a free port, `shared_preload_libraries =
 * pg_stat_statements`, stopped by its PID at the end). On it, one database holds BullMQ's queues
 * (`SqlBackend.postgres`) and a DrizzleStore, as `createEngine` sets them up. Then:
 *
 * 1. idle: the engine's workers started, no work, for IDLE_SECONDS; the commits/s of the database
 *    (`pg_stat_database.xact_commit`) and the top statements (calls, rows, shared blocks read);
 * 2. history: HISTORY 10-step executions run first, so that a scan of `spane.executions` shows;
 * 3. one workflow: one more 10-step execution alone; the top statements, statements and rows per
 *    step, and the sequential and index scans per step of SPANE's tables (`pg_stat_user_tables`,
 *    read after the engine's connections closed so their counters are flushed).
 *
 * Env: BENCH_IDLE_SECONDS (10), BENCH_HISTORY (200), BENCH_STEPS (10), BENCH_CONCURRENCY (50),
 * BENCH_TOP (12).
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import postgres from 'postgres';
import { DrizzleStore, NodeRegistry, SqlBackend, WorkflowEngine } from '../src/index.js';
import type { Logger } from '../src/index.js';
import { DisposablePostgres, findPostgresBinaries } from '../test/fixtures/disposable-postgres.js';
import { envInt, linearWorkflow, loadAvg, observed, withTimeout } from './lib.js';

const IDLE_SECONDS = envInt('BENCH_IDLE_SECONDS', 10);
const HISTORY = envInt('BENCH_HISTORY', 200);
const STEPS = envInt('BENCH_STEPS', 10);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 50);
const TOP = envInt('BENCH_TOP', 12);
const DATABASE = 'spane_statements';

function log(message: string): void {
  process.stderr.write(`[bench:pg-statements] ${message}\n`);
}

interface StatementRow {
  calls: number;
  rows: number;
  blks_read: number;
  blks_hit: number;
  query: string;
}

/** pg_stat_statements of the bench database, most called first. */
async function statements(admin: pg.Client): Promise<StatementRow[]> {
  const { rows } = await admin.query<{ calls: string; rows: string; blks_read: string; blks_hit: string; query: string }>(
    `SELECT s.calls::text, s.rows::text, s.shared_blks_read::text AS blks_read, s.shared_blks_hit::text AS blks_hit, s.query
       FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
      WHERE d.datname = $1 ORDER BY s.calls DESC`,
    [DATABASE],
  );
  return rows.map((r) => ({ calls: Number(r.calls), rows: Number(r.rows), blks_read: Number(r.blks_read), blks_hit: Number(r.blks_hit), query: r.query }));
}

function printTop(title: string, rows: readonly StatementRow[], per = 1, unit = ''): void {
  console.log(`\n${title}`);
  console.log(`| calls${unit} | rows${unit} | shared blks read | shared blks hit | statement |`);
  console.log('| ---: | ---: | ---: | ---: | --- |');
  for (const r of rows.slice(0, TOP)) {
    const q = r.query.replace(/\s+/g, ' ').slice(0, 110);
    console.log(
      `| ${(r.calls / per).toFixed(per === 1 ? 0 : 2)} | ${(r.rows / per).toFixed(per === 1 ? 0 : 2)} | ${r.blks_read} | ${r.blks_hit} | \`${q.replaceAll('|', '\\|')}\` |`,
    );
  }
  const calls = rows.reduce((a, r) => a + r.calls, 0);
  const rowsTotal = rows.reduce((a, r) => a + r.rows, 0);
  console.log(`total: ${rows.length} distinct statements, ${calls} calls, ${rowsTotal} rows`);
}

async function commits(admin: pg.Client): Promise<number> {
  const { rows } = await admin.query<{ n: string }>('SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = $1', [DATABASE]);
  return Number(rows[0]?.n);
}

/** Scans of SPANE's tables (pg_stat_all_tables shows the tables of the database it is read in). */
async function tableScans(url: string): Promise<Map<string, { seq: number; idx: number }>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client
    .query<{ name: string; seq: string; idx: string | null }>(
      `SELECT relname AS name, seq_scan::text AS seq, idx_scan::text AS idx FROM pg_stat_all_tables WHERE schemaname = 'spane'`,
    )
    .finally(() => client.end());
  return new Map(rows.map((r) => [r.name, { seq: Number(r.seq), idx: Number(r.idx ?? 0) }]));
}

function printScans(title: string, before: Map<string, { seq: number; idx: number }>, after: Map<string, { seq: number; idx: number }>, steps: number): void {
  console.log(`\n${title}:`);
  console.log('| table | seq scans/step | index scans/step |');
  console.log('| --- | ---: | ---: |');
  for (const [name, a] of after) {
    const b = before.get(name) ?? { seq: 0, idx: 0 };
    console.log(`| spane.${name} | ${((a.seq - b.seq) / steps).toFixed(3)} | ${((a.idx - b.idx) / steps).toFixed(3)} |`);
  }
}

/** An engine on the backend with a DrizzleStore on the same database. */
async function openEngine(url: string) {
  const backend = await SqlBackend.postgres({ url, poolSize: 20 });
  const client = postgres(url, { max: 10, onnotice: () => {} });
  const store = observed(await DrizzleStore.postgres(client));
  const registry = new NodeRegistry();
  registry.register('step', async (ctx) => ({ success: true, data: { step: ((ctx.inputData as { step?: number } | undefined)?.step ?? 0) + 1 } }));
  const warnings: string[] = [];
  const logger: Logger = { warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) };
  const engine = new WorkflowEngine({ registry, store, backend, logger });
  await engine.registerWorkflow(linearWorkflow('chain', STEPS));
  engine.startWorkers(CONCURRENCY);
  await engine.waitUntilReady();
  return {
    engine,
    store,
    async close() {
      await engine.close();
      await store.close();
      await client.end({ timeout: 5 });
      await backend.close();
      if (warnings.length > 0) log(`engine logged ${warnings.length} warnings, first: ${warnings[0]}`);
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const bin = findPostgresBinaries();
  if (typeof bin === 'string') throw new Error(bin);
  log(`load ${loadAvg()}; starting a disposable PostgreSQL with pg_stat_statements`);
  const server = await DisposablePostgres.start(bin, { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'top', max_connections: '100' });
  const admin = new pg.Client({ connectionString: server.url });
  try {
    await admin.connect();
    await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await admin.query(`CREATE DATABASE ${DATABASE}`);
    const url = new URL(server.url);
    url.pathname = `/${DATABASE}`;

    // Before the engine: SPANE's tables do not exist yet, so every scan after this counts.
    const scansStart = await tableScans(url.toString());
    // 1. idle
    let side = await openEngine(url.toString());
    // Backends that went idle report their counters to pg_stat_database up to 10 s late
    // (PGSTAT_IDLE_INTERVAL); reading sooner would count start-up commits as idle ones.
    await sleep(12_000);
    await admin.query('SELECT pg_stat_statements_reset()');
    const c0 = await commits(admin);
    const t0 = performance.now();
    await sleep(IDLE_SECONDS * 1000);
    const idle = await statements(admin);
    const c1 = await commits(admin);
    const seconds = (performance.now() - t0) / 1000;
    console.log(`PostgreSQL statements of SPANE on the PostgreSQL backend — ${new Date().toISOString()}, load ${loadAvg()}`);
    console.log(`\nidle engine, workers started (concurrency ${CONCURRENCY}), ${seconds.toFixed(1)} s: ${c1 - c0} commits = ${((c1 - c0) / seconds).toFixed(2)} commits/s`);
    printTop(`top statements while idle (${seconds.toFixed(1)} s)`, idle);

    // 2. history
    log(`history: ${HISTORY} executions`);
    const all = side.store.completions.waitForMore(HISTORY);
    await side.engine.enqueueBulkWorkflows(Array.from({ length: HISTORY }, () => ({ workflowId: 'chain', initialData: { step: 0 } })));
    await withTimeout(all, 600_000, `${HISTORY} executions`);
    await side.close();
    await sleep(500);
    const scans0 = await tableScans(url.toString());
    printScans(
      `scans of SPANE's tables per step over the idle phase and ${HISTORY} executions (${HISTORY * STEPS} steps, with the engine's start and close)`,
      scansStart,
      scans0,
      HISTORY * STEPS,
    );

    // 3. one workflow, on a fresh engine so its connections' table counters flush when it closes
    side = await openEngine(url.toString());
    await sleep(1000);
    await admin.query('SELECT pg_stat_statements_reset()');
    const id = await side.engine.enqueueWorkflow('chain', { step: 0 });
    await withTimeout(side.store.completions.waitFor(id), 60_000, 'one execution');
    const one = await statements(admin);
    await side.close();
    await sleep(500);
    const scans1 = await tableScans(url.toString());
    printTop(`one ${STEPS}-step execution after ${HISTORY} in history (includes the engine's idle statements while it ran), per step`, one, STEPS, '/step');
    const calls = one.reduce((a, r) => a + r.calls, 0);
    const rows = one.reduce((a, r) => a + r.rows, 0);
    console.log(`per step: ${(calls / STEPS).toFixed(2)} statements, ${(rows / STEPS).toFixed(2)} rows`);
    printScans(`scans of SPANE's tables per step, one execution (with the engine's start and close)`, scans0, scans1, STEPS);
  } finally {
    await admin.end().catch(() => undefined);
    await server.destroy();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
