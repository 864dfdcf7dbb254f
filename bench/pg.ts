/**
 * The PostgreSQL rows of the speed table (issue 16), each against its peer measured in the same
 * run on the same PostgreSQL server:
 *
 *   npm run bench:pg           (or `npm run bench -- --only pg`, which runs this as a child)
 *
 * - SPANE on the PostgreSQL backend / DBOS Transact: workflows/s of WORKFLOWS 10-node linear
 *   workflows on BullMQ's PostgreSQL backend (`SqlBackend.postgres`) with a DrizzleStore on the
 *   same database, against DBOS Transact running the same number of 10-step workflows (each step
 *   a `DBOS.runStep`, checkpointed in its system database) with the same concurrency: CONCURRENCY
 *   workflows in flight at once (DBOS: CONCURRENCY in-process lanes each awaiting one workflow at
 *   a time, its fastest path, no queue polling; SPANE: CONCURRENCY workers).
 * - Redis queues + DrizzleStore on PostgreSQL / DBOS: the same, SPANE's queues on Redis.
 * - Idle engine on the PostgreSQL backend: commits/s of an engine with its workers started and
 *   no work, for IDLE_SECONDS, from `pg_stat_database.xact_commit` of its database (read from
 *   another database, so the reads do not count). The peer is the target, 5 commits/s.
 *
 * Each side has its own database (created here, dropped at the end): the DBOS system database,
 * SPANE on the PostgreSQL backend (queues and store in one database), SPANE with Redis queues
 * (store only). Throughput: a warm-up batch per side, then ROUNDS paired rounds, the order of the
 * sides rotating every round; the ratio is of the medians. "Done" is the store's move to
 * `completed` on the SPANE sides (a completion hook, no polling) and the workflow's promise on
 * the DBOS side.
 *
 * Env: BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/postgres, its server is used),
 * REDIS_URL, BENCH_WORKFLOWS (200), BENCH_STEPS (10), BENCH_CONCURRENCY (50), BENCH_ROUNDS (3),
 * BENCH_IDLE_SECONDS (20), BENCH_DBOS_POOL (30: DBOS's system database pool), BENCH_BACKEND_POOL
 * (25: the SqlBackend's pool), BENCH_STORE_POOL (10: each DrizzleStore's postgres.js pool),
 * BENCH_ROWS (all: backend,redis,idle), BENCH_EVENTS=0 (SPANE without events), BENCH_VERBOSE=1
 * (SPANE's warnings as they happen), BENCH_JSON (the bench protocol). Exits 2 when a target is
 * missed, 1 on error.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DBOS } from '@dbos-inc/dbos-sdk';
import { Redis } from 'ioredis';
import pg from 'pg';
import postgres from 'postgres';
import { DrizzleStore, NodeRegistry, SqlBackend, WorkflowEngine } from '../src/index.js';
import type { Logger } from '../src/index.js';
import { envInt, linearWorkflow, loadAvg, observed, spaneConfigExtras, stats, withTimeout, writeBenchJson } from './lib.js';
import type { BenchRow } from './lib.js';
import { deleteKeys } from '../test/helpers.js';

const ADMIN_URL = process.env['BENCH_POSTGRES_URL'] ?? process.env['SPANE_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const WORKFLOWS = envInt('BENCH_WORKFLOWS', 200);
const STEPS = envInt('BENCH_STEPS', 10);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 50);
const ROUNDS = envInt('BENCH_ROUNDS', 3);
const IDLE_SECONDS = envInt('BENCH_IDLE_SECONDS', 20);
const ROWS = new Set((process.env['BENCH_ROWS'] ?? 'backend,redis,idle').split(',').map((s) => s.trim()));
const TIMEOUT_MS = 300_000;
const IDLE_TARGET = 5;
const SETTLE_MS = 12_000;
/** Connections per pool. The server's max_connections (100 by default) is shared by all sides and by other users of the server. */
const DBOS_POOL = envInt('BENCH_DBOS_POOL', 30);
const BACKEND_POOL = envInt('BENCH_BACKEND_POOL', 25);
const STORE_POOL = envInt('BENCH_STORE_POOL', 10);

export const FIGURES = {
  backend: 'SPANE on the PostgreSQL backend / DBOS Transact (10-step workflows)',
  redis: 'Redis queues + DrizzleStore on PostgreSQL / DBOS',
  idle: 'idle engine on the PostgreSQL backend (commits/s)',
} as const;

function log(message: string): void {
  process.stderr.write(`[bench:pg] ${message}\n`);
}

/** A database of its own on the bench server, dropped by `drop()`. */
interface Database {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

async function createDatabase(name: string): Promise<Database> {
  // Left over by an interrupted run.
  await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE "${name}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: () => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

/** One side of the throughput rows: runs `n` workflows of STEPS steps, CONCURRENCY at a time. */
interface Side {
  name: string;
  /** Wall time (ms) until all `n` are done. */
  run(n: number): Promise<number>;
  close(): Promise<void>;
}

async function dbosSide(db: Database): Promise<Side> {
  DBOS.setConfig({ name: 'spane-bench', systemDatabaseUrl: db.url, systemDatabasePoolSize: DBOS_POOL, logLevel: 'error' });
  const step = async (n: number): Promise<number> => Promise.resolve(n + 1);
  const workflow = DBOS.registerWorkflow(
    async (steps: number): Promise<number> => {
      let n = 0;
      for (let i = 0; i < steps; i++) n = await DBOS.runStep(() => step(n), { name: `s${i}` });
      return n;
    },
    { name: 'chain' },
  );
  await DBOS.launch();
  return {
    name: 'DBOS',
    async run(n) {
      let next = 0;
      const t0 = performance.now();
      const lane = async (): Promise<void> => {
        while (next < n) {
          next++;
          await workflow(STEPS);
        }
      };
      await withTimeout(Promise.all(Array.from({ length: Math.min(CONCURRENCY, n) }, lane)), TIMEOUT_MS, `${n} DBOS workflows`);
      return performance.now() - t0;
    },
    close: () => DBOS.shutdown(),
  };
}

/** SPANE with a DrizzleStore on `storeUrl`, queues on `queues`. */
async function spaneSide(name: string, storeUrl: string, queues: { backend: SqlBackend } | { connection: Redis }, prefix: string): Promise<Side & { engine: WorkflowEngine }> {
  const client = postgres(storeUrl, { max: STORE_POOL, onnotice: () => {} });
  const store = observed(await DrizzleStore.postgres(client));
  const registry = new NodeRegistry();
  registry.register('step', async (ctx) => ({ success: true, data: { step: ((ctx.inputData as { step?: number } | undefined)?.step ?? 0) + 1 } }));
  const warnings: string[] = [];
  const logger: Logger = { warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) };
  if (process.env['BENCH_VERBOSE'] === '1') logger.warn = logger.error = (m: string, meta?: unknown) => log(`${name}: ${m} ${JSON.stringify(meta)}`);
  const engine = new WorkflowEngine({ registry, store, ...queues, config: { prefix, events: process.env['BENCH_EVENTS'] !== '0', ...spaneConfigExtras() }, logger });
  const wf = `chain-${STEPS}`;
  await engine.registerWorkflow(linearWorkflow(wf, STEPS));
  engine.startWorkers(CONCURRENCY);
  await engine.waitUntilReady();
  return {
    name,
    engine,
    async run(n) {
      const all = store.completions.waitForMore(n);
      const t0 = performance.now();
      await engine.enqueueBulkWorkflows(Array.from({ length: n }, () => ({ workflowId: wf, initialData: { step: 0 } })));
      await withTimeout(all, TIMEOUT_MS, `${n} ${name} executions`);
      store.completions.reset();
      return performance.now() - t0;
    },
    async close() {
      await engine.close();
      await store.close();
      await client.end({ timeout: 5 });
      if (warnings.length > 0) log(`${name} logged ${warnings.length} warnings, first: ${warnings[0]}`);
    },
  };
}

/** Paired rounds of the given sides; the median wall time of each, in workflows/s. */
async function rounds(sides: readonly Side[]): Promise<Map<Side, number>> {
  for (const side of sides) {
    log(`${side.name}: warm-up`);
    await side.run(Math.min(WORKFLOWS, 20));
  }
  const ms = new Map<Side, number[]>(sides.map((s) => [s, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = sides.map((_, i) => sides[(i + round) % sides.length]!);
    const line: string[] = [];
    for (const side of order) {
      const t = await side.run(WORKFLOWS);
      ms.get(side)!.push(t);
      line.push(`${side.name} ${t.toFixed(0)} ms`);
    }
    log(`round ${round + 1}/${ROUNDS}: ${line.join(', ')} (load ${loadAvg()})`);
  }
  return new Map(sides.map((s) => [s, WORKFLOWS / (stats(ms.get(s)!).median / 1000)]));
}

/** `xact_commit` of database `name`, read from the admin database (not counted in it). */
async function commits(admin: pg.Client, name: string): Promise<number> {
  // pg_stat_database is a snapshot per transaction; each query here is its own transaction.
  const { rows } = await admin.query<{ n: string }>('SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = $1', [name]);
  return Number(rows[0]?.n ?? Number.NaN);
}

/** Commits/s of an idle engine (workers started, no work) on the PostgreSQL backend with a DrizzleStore on the same database. */
async function idleCommits(): Promise<number> {
  const db = await createDatabase('spane_bench_idle');
  const prefix = `{bench-pg-idle}`;
  const backend = await SqlBackend.postgres({ url: db.url, poolSize: 20, prefix });
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    const side = await spaneSide('SPANE idle', db.url, { backend }, prefix);
    try {
      // Start-up (migrations, workers' first fetches) is not idling, and a backend that went idle
      // reports its counters to pg_stat_database up to 10 s late (PGSTAT_IDLE_INTERVAL): reading
      // sooner would count start-up commits as idle ones.
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const c0 = await commits(admin, db.name);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
      const c1 = await commits(admin, db.name);
      const perSecond = (c1 - c0) / ((performance.now() - t0) / 1000);
      log(`idle: ${c1 - c0} commits in ${IDLE_SECONDS} s = ${perSecond.toFixed(2)}/s`);
      return perSecond;
    } finally {
      await side.close();
    }
  } finally {
    await admin.end();
    await backend.close();
    await db.drop();
  }
}

/** Measures the rows; resolves with whether a target was missed (exit code 2, as the other benches). */
async function main(): Promise<boolean> {
  const startLoad = loadAvg();
  log(`${WORKFLOWS} workflows × ${STEPS} steps, concurrency ${CONCURRENCY}, ${ROUNDS} rounds; idle ${IDLE_SECONDS} s; rows ${[...ROWS].join(',')}; load ${startLoad}`);
  const rows: BenchRow[] = [];
  if (ROWS.has('backend') || ROWS.has('redis')) {
    const dbs: Database[] = [];
    const closers: (() => Promise<void>)[] = [];
    try {
      const dbosDb = await createDatabase('spane_bench_dbos');
      dbs.push(dbosDb);
      const sides: Side[] = [];
      const dbos = await dbosSide(dbosDb);
      closers.push(() => dbos.close());
      sides.push(dbos);
      let pgSide: Side | undefined;
      let redisSide: Side | undefined;
      if (ROWS.has('backend')) {
        const db = await createDatabase('spane_bench_spane');
        dbs.push(db);
        const prefix = '{bench-pg}';
        const backend = await SqlBackend.postgres({ url: db.url, poolSize: BACKEND_POOL, prefix });
        closers.push(() => backend.close());
        pgSide = await spaneSide('SPANE pg backend', db.url, { backend }, prefix);
        closers.push(() => pgSide!.close());
        sides.push(pgSide);
      }
      if (ROWS.has('redis')) {
        const db = await createDatabase('spane_bench_spane_redis');
        dbs.push(db);
        const prefix = `{bench-pg-redis-${randomUUID().slice(0, 8)}}`;
        const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
        closers.push(async () => {
          await deleteKeys(redis, prefix);
          redis.disconnect();
        });
        redisSide = await spaneSide('SPANE redis+pg store', db.url, { connection: redis }, prefix);
        closers.push(() => redisSide!.close());
        sides.push(redisSide);
      }
      const rates = await rounds(sides);
      const peer = rates.get(dbos)!;
      const note = `${WORKFLOWS} workflows × ${STEPS} steps, concurrency ${CONCURRENCY}, median of ${ROUNDS} rounds; load ${startLoad} → ${loadAvg()}`;
      if (pgSide !== undefined) {
        const spane = rates.get(pgSide)!;
        rows.push({ figure: FIGURES.backend, spane, peer, unit: 'workflows/s', ratio: spane / peer, target: '≥ 0.5×', higherIsBetter: true, note });
      }
      if (redisSide !== undefined) {
        const spane = rates.get(redisSide)!;
        rows.push({ figure: FIGURES.redis, spane, peer, unit: 'workflows/s', ratio: spane / peer, target: '≥ 3×', higherIsBetter: true, note });
      }
    } finally {
      for (const close of closers.reverse()) await close().catch((err: unknown) => log(`close: ${String(err)}`));
      for (const db of dbs) await db.drop().catch((err: unknown) => log(`drop ${db.name}: ${String(err)}`));
    }
  }
  if (ROWS.has('idle')) {
    const spane = await idleCommits();
    rows.push({
      figure: FIGURES.idle,
      spane,
      peer: IDLE_TARGET,
      unit: 'commits/s',
      ratio: spane / IDLE_TARGET,
      target: '≤ 5 commits/s',
      higherIsBetter: false,
      note: `${IDLE_SECONDS} s, workers started (concurrency ${CONCURRENCY}), DrizzleStore on the same database; peer = the target; load ${loadAvg()}`,
    });
  }
  writeBenchJson(rows);
  const table = [
    `PostgreSQL rows — ${new Date().toISOString()}, load ${startLoad} at start, ${loadAvg()} at end`,
    '| figure | SPANE | peer | unit | ratio | target |',
    '| --- | ---: | ---: | --- | ---: | --- |',
    ...rows.map((r) => `| ${r.figure} | ${r.spane.toFixed(2)} | ${r.peer.toFixed(2)} | ${r.unit} | ${r.ratio.toFixed(2)} | ${r.target} |`),
  ];
  console.log(table.join('\n'));
  return rows.some((r) => (r.higherIsBetter ? r.spane < r.peer * targetBound(r.target) : r.spane > targetBound(r.target)));
}

/** The number in a target such as `≥ 0.5×` or `≤ 5 commits/s`. */
function targetBound(target: string): number {
  return Number(/[\d.]+/.exec(target)?.[0] ?? Number.NaN);
}

main().then(
  (missed) => process.exit(missed ? 2 : 0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
