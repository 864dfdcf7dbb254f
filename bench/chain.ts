/**
 * Chain benchmark: SPANE against hand-written BullMQ chains, in one run on the same Redis.
 *
 *   npm run bench:chain                (REDIS_URL defaults to redis://127.0.0.1:6379)
 *   BENCH_CHAINS=200 BENCH_STEPS=10 BENCH_CONCURRENCY=50 BENCH_RUNS=30 BENCH_ROUNDS=7 npm run bench:chain
 *
 * 1. Throughput: CHAINS chains of STEPS jobs each, worker concurrency CONCURRENCY.
 *    - raw BullMQ: each job's processor adds the next job of its chain; the last step marks the
 *      chain done.
 *    - SPANE: a STEPS-node linear workflow, CHAINS executions via enqueueBulkWorkflows.
 *    Wall time from the first enqueue until every chain/execution is done. After one warm-up
 *    batch per side, the sides take turns for ROUNDS rounds (the order flips every round); the
 *    median round of each side is reported, and the median of the per-round SPANE/raw ratios.
 * 2. Idle latency (nothing else queued): median and p95 over RUNS runs of one raw job, one raw
 *    chain, a 1-node SPANE workflow and a STEPS-node SPANE workflow, the sides interleaved.
 *
 * "Done" is observed without polling on both sides: the raw processor resolves a promise when the
 * last step of a chain has run, and the SPANE store below resolves one when an execution moves to
 * `completed` (which the engine does from inside the last node's job). Both are therefore taken
 * at the same point: inside the last job, before BullMQ marks it completed. For comparison the
 * bench also reports what `waitForExecution` (a polling loop) observes.
 *
 * Each side runs under its own queue prefix, and its keys are deleted afterwards. Both sides'
 * workers stay connected for the whole run, but only one side has work at any time.
 *
 * Stores mode (`npm run bench:stores`, i.e. `--stores`): the same throughput comparison with
 * SPANE on three stores side by side: InMemoryExecutionStore, DrizzleStore on PostgreSQL (a fresh
 * database, dropped afterwards) and DrizzleStore on PGlite (in memory). Raw BullMQ and the three
 * SPANE sides take turns for STORE_ROUNDS rounds (the order rotates every round), then the idle
 * latency of a STEPS-node workflow is measured on each store. See docs/benchmarks.md, "Stores".
 *   BENCH_POSTGRES_URL (default SPANE_TEST_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/postgres)
 *   is the admin database used to create and drop the benchmark database; BENCH_PG_POOL sets the
 *   postgres.js pool size (default: DrizzleStore.postgres's own pool, postgres.js default 10).
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Queue, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import type { Sql } from 'postgres';
import { DrizzleStore, InMemoryExecutionStore, NodeRegistry, WorkflowEngine } from '../src/index.js';
import type { ExecutionStore, Logger } from '../src/index.js';
import { COUNTED_METHODS, CompletionBoard, envInt, linearWorkflow, observed, ownCpuMs, procCpuMs, spaneConfigExtras, stats, withTimeout } from './lib.js';
import type { ObservedStore, Stats } from './lib.js';
import { createTestDatabase } from '../test/contract/databases.js';
import type { TestDatabase } from '../test/contract/databases.js';
import { deleteKeys } from '../test/helpers.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const CHAINS = envInt('BENCH_CHAINS', 200);
const STEPS = envInt('BENCH_STEPS', 10);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 50);
const RUNS = envInt('BENCH_RUNS', 30);
const ROUNDS = envInt('BENCH_ROUNDS', 7);
const STORES_MODE = process.argv.includes('--stores') || process.env['BENCH_STORES'] === '1';
const STORE_ROUNDS = envInt('BENCH_ROUNDS', 5);
const POSTGRES_ADMIN_URL = process.env['BENCH_POSTGRES_URL'] ?? process.env['SPANE_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PG_POOL = process.env['BENCH_PG_POOL'] === undefined ? undefined : envInt('BENCH_PG_POOL', 10);
/** `off` runs the PostgreSQL store's sessions with synchronous_commit=off (no WAL flush wait per commit). */
const PG_SYNC_COMMIT = process.env['BENCH_PG_SYNCHRONOUS_COMMIT'];
/** A Unix socket to reach PostgreSQL through instead of TCP, e.g. /var/run/postgresql/.s.PGSQL.5432. */
const PG_SOCKET = process.env['BENCH_PG_SOCKET'];
/** Which SPANE stores the stores mode runs, in this order. */
const STORE_SIDES = (process.env['BENCH_STORE_SIDES'] ?? 'memory,postgres,pglite').split(',').map((s) => s.trim());
const WARMUP_RUNS = 5;
const PHASE_TIMEOUT_MS = 60_000;
/** SPANE's defaults, given to the raw side too. */
const REMOVE_ON_COMPLETE = { count: 1000, age: 3600 };
const REMOVE_ON_FAIL = { count: 5000, age: 7 * 24 * 3600 };

// ---------------------------------------------------------------------------------------------
// Helpers

function fmt(n: number, digits = 1): string {
  return n.toFixed(digits);
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// The two sides

/** One side of the comparison: set up once, measured in alternation with the other, closed at the end. */
interface Side {
  name: string;
  /** Starts `n` chains at once; resolves with the wall time (ms) until all are done. */
  runChains(n: number): Promise<number>;
  /** One chain of `length` steps on an idle system; resolves with enqueue → done (ms). */
  runOne(length: 1 | typeof STEPS): Promise<number>;
  /** Throws unless the last throughput batch really ran CHAINS × STEPS steps. */
  verify(): Promise<void>;
  close(): Promise<void>;
}

interface ChainData {
  chain: string;
  step: number;
}

async function rawSide(admin: Redis): Promise<Side> {
  const prefix = `{bench-raw-${randomUUID().slice(0, 8)}}`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue<ChainData>('chain', {
    connection,
    prefix,
    defaultJobOptions: { removeOnComplete: REMOVE_ON_COMPLETE, removeOnFail: REMOVE_ON_FAIL },
  });
  const board = new CompletionBoard();
  let chainLength: number = STEPS;
  let processed = 0;
  let failures = 0;
  const worker = new Worker<ChainData>(
    'chain',
    async (job: Job<ChainData>) => {
      const { chain, step } = job.data;
      processed++;
      if (step + 1 < chainLength) await queue.add('step', { chain, step: step + 1 });
      else board.mark(chain);
      return { step: step + 1 };
    },
    { connection, prefix, concurrency: CONCURRENCY, removeOnComplete: REMOVE_ON_COMPLETE, removeOnFail: REMOVE_ON_FAIL },
  );
  worker.on('error', (err) => log(`raw worker error: ${err.message}`));
  worker.on('failed', (job, err) => {
    failures++;
    log(`raw job ${job?.id} failed: ${err.message}`);
  });
  await worker.waitUntilReady();
  let lastBatch = 0;
  return {
    name: 'raw',
    async runChains(n) {
      chainLength = STEPS;
      board.reset();
      const ids = Array.from({ length: n }, () => randomUUID());
      const allDone = board.waitForMore(n);
      const before = processed;
      const t0 = performance.now();
      await queue.addBulk(ids.map((chain) => ({ name: 'step', data: { chain, step: 0 } })));
      await withTimeout(allDone, PHASE_TIMEOUT_MS, `${n} raw chains`);
      const ms = performance.now() - t0;
      lastBatch = processed - before;
      return ms;
    },
    async runOne(length) {
      chainLength = length;
      const chain = randomUUID();
      const done = board.waitFor(chain);
      const t0 = performance.now();
      await queue.add('step', { chain, step: 0 });
      return (await withTimeout(done, PHASE_TIMEOUT_MS, 'a raw chain')) - t0;
    },
    async verify() {
      if (lastBatch !== CHAINS * STEPS || failures > 0) throw new Error(`bench: raw side processed ${lastBatch} jobs (expected ${CHAINS * STEPS}), ${failures} failures`);
    },
    async close() {
      await worker.close();
      await queue.close();
      await connection.quit().catch(() => connection.disconnect());
      log(`raw: deleted ${await deleteKeys(admin, prefix)} keys under ${prefix}`);
    },
  };
}

interface SpaneSide extends Side {
  /**
   * One STEPS-node execution timed twice: by the completion hook, and as `waitForExecution` polling
   * at `intervalMs` (its default when undefined) sees it.
   */
  runViaWait(intervalMs: number | undefined): Promise<{ hook: number; wait: number }>;
  warnings: string[];
}

async function spaneSide(admin: Redis, store: ObservedStore = observed(new InMemoryExecutionStore({ maxFinishedExecutions: 100_000 })), name = 'spane'): Promise<SpaneSide> {
  const prefix = `{bench-${name}-${randomUUID().slice(0, 8)}}`;
  const warnings: string[] = [];
  const logger: Logger = {
    warn: (m) => void warnings.push(`warn ${m}`),
    error: (m) => void warnings.push(`error ${m}`),
  };
  const registry = new NodeRegistry();
  registry.register('step', async (ctx) => ({ success: true, data: { step: ((ctx.inputData as { step?: number } | undefined)?.step ?? 0) + 1 } }));
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const engine = new WorkflowEngine({ registry, store, connection, config: { prefix, events: process.env['BENCH_EVENTS'] !== '0', ...spaneConfigExtras() }, logger });
  const chainWf = `chain-${STEPS}`;
  await engine.registerWorkflow(linearWorkflow(chainWf, STEPS));
  await engine.registerWorkflow(linearWorkflow('single', 1));
  engine.startWorkers(CONCURRENCY);
  await engine.waitUntilReady();
  let lastBatch: string[] = [];
  return {
    name,
    warnings,
    async runChains(n) {
      store.completions.reset();
      const allDone = store.completions.waitForMore(n);
      const t0 = performance.now();
      lastBatch = await engine.enqueueBulkWorkflows(Array.from({ length: n }, () => ({ workflowId: chainWf, initialData: { step: 0 } })));
      await withTimeout(allDone, PHASE_TIMEOUT_MS, `${n} SPANE executions`);
      return performance.now() - t0;
    },
    async runOne(length) {
      const t0 = performance.now();
      const id = await engine.enqueueWorkflow(length === 1 ? 'single' : chainWf, { step: 0 });
      return (await withTimeout(store.completions.waitFor(id), PHASE_TIMEOUT_MS, 'a SPANE execution')) - t0;
    },
    async runViaWait(intervalMs) {
      const t0 = performance.now();
      const id = await engine.enqueueWorkflow(chainWf, { step: 0 });
      const exec = await engine.waitForExecution(id, intervalMs === undefined ? { timeoutMs: PHASE_TIMEOUT_MS } : { timeoutMs: PHASE_TIMEOUT_MS, intervalMs });
      const t1 = performance.now();
      if (exec.status !== 'completed') throw new Error(`bench: execution ${id} ended ${exec.status}: ${exec.error ?? ''}`);
      return { hook: (await store.completions.waitFor(id)) - t0, wait: t1 - t0 };
    },
    async verify() {
      // Cross-check the completion hook against the store, as a user would see it.
      const batch = await Promise.all(lastBatch.map((id) => store.getExecution(id)));
      for (const [i, id] of lastBatch.entries()) {
        const e = batch[i];
        const last = e?.nodeResults[`s${STEPS - 1}`]?.data as { step?: number } | undefined;
        if (e == null || e.status !== 'completed' || Object.keys(e.nodeResults).length !== STEPS || last?.step !== STEPS) {
          throw new Error(`bench: SPANE execution ${id} is not a completed ${STEPS}-step run: ${JSON.stringify(e ?? (await store.getExecution(id)))}`);
        }
      }
      if (lastBatch.length !== CHAINS) throw new Error(`bench: SPANE batch had ${lastBatch.length} executions`);
    },
    async close() {
      await engine.close();
      await connection.quit().catch(() => connection.disconnect());
      log(`${name}: deleted ${await deleteKeys(admin, prefix)} keys under ${prefix}`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Run and report

/** Runs `fn` for each side in turn, swapping the order every round so neither always goes first. */
async function alternate(sides: readonly Side[], round: number, fn: (side: Side) => Promise<void>): Promise<void> {
  const order = round % 2 === 0 ? sides : [...sides].reverse();
  for (const side of order) await fn(side);
}

async function main(): Promise<void> {
  const admin = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const started = performance.now();
  const opened: Side[] = [];
  try {
    const info = await admin.info('server');
    const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    const raw = await rawSide(admin);
    opened.push(raw);
    const spane = await spaneSide(admin);
    opened.push(spane);
    const sides = [raw, spane] as const;

    log(`warm-up: one batch of ${CHAINS} chains and ${WARMUP_RUNS} single runs per side`);
    for (const side of sides) {
      await side.runChains(CHAINS);
      for (let i = 0; i < WARMUP_RUNS; i++) {
        await side.runOne(1);
        await side.runOne(STEPS);
      }
    }

    log(`throughput: ${ROUNDS} rounds of ${CHAINS} chains × ${STEPS} steps per side, concurrency ${CONCURRENCY}`);
    const tput = { raw: [] as number[], spane: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      await alternate(sides, r, async (side) => {
        const ms = await side.runChains(CHAINS);
        await side.verify();
        tput[side.name as 'raw' | 'spane'].push((CHAINS * STEPS) / (ms / 1000));
      });
    }

    log(`idle latency: ${RUNS} runs of each case, interleaved`);
    const lat = { raw1: [] as number[], rawN: [] as number[], spane1: [] as number[], spaneN: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      await alternate(sides, i, async (side) => {
        const one = await side.runOne(1);
        const n = await side.runOne(STEPS);
        if (side === raw) {
          lat.raw1.push(one);
          lat.rawN.push(n);
        } else {
          lat.spane1.push(one);
          lat.spaneN.push(n);
        }
      });
    }
    log('latency as seen by waitForExecution');
    const waitDefault = { hook: [] as number[], wait: [] as number[], added: [] as number[] };
    const waitTight = { hook: [] as number[], wait: [] as number[], added: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      for (const [into, interval] of [
        [waitDefault, undefined],
        [waitTight, 2],
      ] as const) {
        const { hook, wait } = await spane.runViaWait(interval);
        into.hook.push(hook);
        into.wait.push(wait);
        into.added.push(wait - hook);
      }
    }

    const rawT = stats(tput.raw);
    const spaneT = stats(tput.spane);
    const raw1 = stats(lat.raw1);
    const rawN = stats(lat.rawN);
    const spane1 = stats(lat.spane1);
    const spaneN = stats(lat.spaneN);
    const ratioThroughput = spaneT.median / rawT.median;
    const paired = stats(tput.spane.map((v, i) => v / tput.raw[i]!));
    const ratioLatency = spaneN.median / rawN.median;
    const ratioLatencyP95 = spaneN.p95 / rawN.p95;
    const pass = (ok: boolean) => (ok ? 'met' : '**missed**');
    const cpu = os.cpus();
    const latRow = (name: string, s: Stats) => `| ${name} | ${fmt(s.median, 2)} | ${fmt(s.p95, 2)} | ${fmt(s.min, 2)} | ${fmt(s.max, 2)} |`;
    const tputRow = (name: string, s: Stats, all: number[]) =>
      `| ${name} | ${fmt(s.median, 0)} | ${fmt(s.min, 0)}–${fmt(s.max, 0)} | ${fmt((CHAINS * STEPS) / s.median, 3)} | ${all.map((v) => fmt(v, 0)).join(', ')} |`;

    const out = [
      `## SPANE chain benchmark`,
      '',
      `${new Date().toISOString()} · Node ${process.version} · BullMQ ${bullmqVersion()} · Redis ${redisVersion} · ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown'}) · ${os.platform()} ${os.arch()}`,
      '',
      `### Throughput (${CHAINS} chains × ${STEPS} steps, concurrency ${CONCURRENCY}, ${ROUNDS} alternating rounds)`,
      '',
      '| Side | Jobs/s (median) | Range | Wall time at median (s) | Rounds (jobs/s) |',
      '|---|---:|---:|---:|---|',
      tputRow('raw BullMQ chain', rawT, tput.raw),
      tputRow(`SPANE ${STEPS}-node workflow`, spaneT, tput.spane),
      `| **SPANE / raw** (ratio of medians) | **${fmt(ratioThroughput * 100, 0)}%** | | | |`,
      `| SPANE / raw, paired by round (median, range) | ${fmt(paired.median * 100, 0)}% | ${fmt(paired.min * 100, 0)}–${fmt(paired.max * 100, 0)}% | | |`,
      '',
      `### Idle latency (ms, enqueue → done, observed without polling; ${RUNS} interleaved runs each)`,
      '',
      '| Case | Median | p95 | Min | Max |',
      '|---|---:|---:|---:|---:|',
      latRow('raw: 1 job', raw1),
      latRow(`raw: ${STEPS}-job chain`, rawN),
      latRow('SPANE: 1-node workflow', spane1),
      latRow(`SPANE: ${STEPS}-node workflow`, spaneN),
      `| **SPANE ${STEPS}-node / raw ${STEPS}-chain** | **${fmt(ratioLatency, 2)}×** | **${fmt(ratioLatencyP95, 2)}×** | | |`,
      '',
      `### SPANE ${STEPS}-node workflow as seen by \`waitForExecution\` (ms, ${RUNS} runs each)`,
      '',
      'Each execution is timed both ways: by the completion hook and by `waitForExecution` returning.',
      '',
      '| Poll interval | Seen by waitForExecution: median | p95 | Same runs, hook: median | Added by polling: median | p95 |',
      '|---|---:|---:|---:|---:|---:|',
      ...(
        [
          ['25 ms (default)', waitDefault],
          ['2 ms', waitTight],
        ] as const
      ).map(([name, w]) => {
        const seen = stats(w.wait);
        const added = stats(w.added);
        return `| ${name} | ${fmt(seen.median, 2)} | ${fmt(seen.p95, 2)} | ${fmt(stats(w.hook).median, 2)} | ${fmt(added.median, 2)} | ${fmt(added.p95, 2)} |`;
      }),
      '',
      '### Targets',
      '',
      '| Target | Measured | Status |',
      '|---|---:|---|',
      `| SPANE chain throughput ≥ 50% of raw | ${fmt(ratioThroughput * 100, 0)}% | ${pass(ratioThroughput >= 0.5)} |`,
      `| Idle ${STEPS}-node latency ≤ 2× raw chain (median) | ${fmt(ratioLatency, 2)}× | ${pass(ratioLatency <= 2)} |`,
      '',
      `Total bench time ${fmt((performance.now() - started) / 1000, 1)} s.`,
    ];
    if (spane.warnings.length > 0) out.push('', `SPANE logged ${spane.warnings.length} warning(s); first: ${spane.warnings[0]}`);
    process.stdout.write(`${out.join('\n')}\n`);
    if (ratioThroughput < 0.5 || ratioLatency > 2) process.exitCode = 2;
  } finally {
    for (const side of opened.reverse()) await side.close().catch((err: unknown) => log(`closing ${side.name} failed: ${String(err)}`));
    await admin.quit().catch(() => admin.disconnect());
  }
}

// ---------------------------------------------------------------------------------------------
// Stores mode

/** A fresh PostgreSQL database for the bench (the tests' helper), with the server's version. */
async function createBenchDatabase(): Promise<TestDatabase & { serverVersion: string }> {
  const database = await createTestDatabase(POSTGRES_ADMIN_URL, 'spane_bench');
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  try {
    const serverVersion = (await sql<{ server_version: string }[]>`show server_version`)[0]?.server_version ?? 'unknown';
    return { ...database, serverVersion };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Rotates the order every round, so each side takes each position in turn. */
async function rotate(sides: readonly Side[], round: number, fn: (side: Side) => Promise<void>): Promise<void> {
  for (let i = 0; i < sides.length; i++) await fn(sides[(i + round) % sides.length]!);
}

async function mainStores(): Promise<void> {
  const admin = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const started = performance.now();
  const opened: Side[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const info = await admin.info('server');
    const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    let pgVersion = 'not run';
    const makeStore = async (name: string): Promise<ExecutionStore> => {
      if (name === 'memory') return new InMemoryExecutionStore({ maxFinishedExecutions: 100_000 });
      if (name === 'pglite') {
        const lite = await DrizzleStore.pglite();
        cleanups.unshift(() => lite.close());
        return lite;
      }
      if (name !== 'postgres') throw new Error(`BENCH_STORE_SIDES: unknown store '${name}' (memory, postgres, pglite)`);
      const database = await createBenchDatabase();
      pgVersion = database.serverVersion.split(' ')[0] ?? database.serverVersion;
      cleanups.push(() => database.drop());
      log(`PostgreSQL database ${database.name}`);
      const custom = PG_POOL !== undefined || PG_SYNC_COMMIT !== undefined || PG_SOCKET !== undefined;
      const pgClient = custom
        ? postgres(database.url, {
            max: PG_POOL ?? 10,
            onnotice: () => {},
            ...(PG_SOCKET === undefined ? {} : { path: PG_SOCKET }),
            ...(PG_SYNC_COMMIT === undefined ? {} : { connection: { synchronous_commit: PG_SYNC_COMMIT } }),
          })
        : undefined;
      if (pgClient !== undefined) cleanups.unshift(() => pgClient.end({ timeout: 5 }));
      const pg = await DrizzleStore.postgres(pgClient ?? database.url);
      cleanups.unshift(() => pg.close());
      watchPostgres(name, database.name, pgClient ?? (pg.db as unknown as { $client: Sql }).$client);
      return pg;
    };
    // What the PostgreSQL sides cost the server: CPU of the backends serving the bench database,
    // and statements sent (counted by postgres.js's debug hook, set after creation so that it
    // does not turn on postgres.js's per-query stack capture).
    const pgAdmin = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => {} });
    cleanups.push(() => pgAdmin.end({ timeout: 5 }));
    const pgWatch = new Map<string, { cpuMs: () => Promise<number>; statements: number }>();
    const watchPostgres = (side: string, dbName: string, client: Sql) => {
      const watch = {
        statements: 0,
        async cpuMs() {
          const rows = await pgAdmin<{ pid: number }[]>`select pid from pg_stat_activity where datname = ${dbName} and backend_type = 'client backend'`;
          return procCpuMs(rows.map((r) => r.pid));
        },
      };
      client.options.debug = () => void watch.statements++;
      pgWatch.set(side, watch);
    };

    const raw = await rawSide(admin);
    opened.push(raw);
    const spaneSides: SpaneSide[] = [];
    const stores = new Map<string, ObservedStore>();
    for (const name of STORE_SIDES) {
      const store = observed(await makeStore(name));
      stores.set(name, store);
      spaneSides.push(await spaneSide(admin, store, name));
    }
    opened.push(...spaneSides);
    const sides: Side[] = [raw, ...spaneSides];
    const labels: Record<string, string> = {
      raw: 'raw BullMQ chain',
      memory: 'SPANE, InMemoryExecutionStore',
      postgres: 'SPANE, DrizzleStore.postgres',
      pglite: 'SPANE, DrizzleStore.pglite (in memory)',
    };

    log(`warm-up: one batch of ${CHAINS} chains and ${WARMUP_RUNS} single runs per side`);
    for (const side of sides) {
      await side.runChains(CHAINS);
      await side.verify();
      for (let i = 0; i < WARMUP_RUNS; i++) await side.runOne(STEPS);
    }

    log(`throughput: ${STORE_ROUNDS} rounds of ${CHAINS} chains × ${STEPS} steps per side, concurrency ${CONCURRENCY}`);
    const tput = new Map<string, number[]>(sides.map((s) => [s.name, []]));
    const cost = new Map<string, { nodeCpuMs: number; pgCpuMs: number; statements: number; calls: Record<string, number> }>(
      sides.map((s) => [s.name, { nodeCpuMs: 0, pgCpuMs: 0, statements: 0, calls: {} }]),
    );
    for (let r = 0; r < STORE_ROUNDS; r++) {
      await rotate(sides, r, async (side) => {
        const c = cost.get(side.name)!;
        const pg = pgWatch.get(side.name);
        const store = stores.get(side.name);
        const calls0 = { ...store?.calls };
        const statements0 = pg?.statements ?? 0;
        const pgCpu0 = (await pg?.cpuMs()) ?? 0;
        const cpu0 = ownCpuMs();
        const ms = await side.runChains(CHAINS);
        c.nodeCpuMs += ownCpuMs() - cpu0;
        c.pgCpuMs += ((await pg?.cpuMs()) ?? 0) - pgCpu0;
        c.statements += (pg?.statements ?? 0) - statements0;
        for (const m of COUNTED_METHODS) c.calls[m] = (c.calls[m] ?? 0) + (store?.calls[m] ?? 0) - (calls0[m] ?? 0);
        await side.verify();
        tput.get(side.name)!.push((CHAINS * STEPS) / (ms / 1000));
        log(`round ${r + 1}: ${side.name} ${fmt((CHAINS * STEPS) / (ms / 1000), 0)} jobs/s`);
      });
    }

    log(`idle latency: ${RUNS} runs of a ${STEPS}-step chain per side, interleaved`);
    const lat = new Map<string, number[]>(sides.map((s) => [s.name, []]));
    for (let i = 0; i < RUNS; i++) {
      await rotate(sides, i, async (side) => void lat.get(side.name)!.push(await side.runOne(STEPS)));
    }

    const rawT = stats(tput.get('raw')!);
    const rawL = stats(lat.get('raw')!);
    const rows = sides.map((side) => {
      const t = stats(tput.get(side.name)!);
      const l = stats(lat.get(side.name)!);
      const paired = stats(tput.get(side.name)!.map((v, i) => v / tput.get('raw')![i]!));
      const ratio = side === raw ? '100%' : `${fmt((t.median / rawT.median) * 100, 0)}%`;
      const pairedCol = side === raw ? '' : `${fmt(paired.median * 100, 0)}% (${fmt(paired.min * 100, 0)}–${fmt(paired.max * 100, 0)}%)`;
      return {
        name: side.name,
        ratio: t.median / rawT.median,
        paired: paired.median,
        line: `| ${labels[side.name]} | ${fmt(t.median, 0)} | ${fmt(t.min, 0)}–${fmt(t.max, 0)} | ${ratio} | ${pairedCol} | ${fmt(l.median, 2)} | ${fmt(l.p95, 2)} | ${side === raw ? '1.00×' : `${fmt(l.median / rawL.median, 2)}×`} |`,
        rounds: `| ${labels[side.name]} | ${tput
          .get(side.name)!
          .map((v) => fmt(v, 0))
          .join(', ')} |`,
      };
    });
    const pgRow = rows.find((r) => r.name === 'postgres') ?? { ratio: NaN, paired: NaN };
    const cpu = os.cpus();
    const out = [
      `## SPANE chain benchmark: stores`,
      '',
      `${new Date().toISOString()} · Node ${process.version} · BullMQ ${bullmqVersion()} · Redis ${redisVersion} · PostgreSQL ${pgVersion} · ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown'}) · ${os.platform()} ${os.arch()}`,
      '',
      `Throughput: ${CHAINS} chains × ${STEPS} steps per batch, concurrency ${CONCURRENCY}, ${STORE_ROUNDS} rounds in rotating order after one warm-up batch per side. Idle latency: ${RUNS} runs of a ${STEPS}-step chain per side, enqueue → done. PostgreSQL pool: ${PG_POOL ?? 'DrizzleStore.postgres default (postgres.js, 10)'}${PG_SYNC_COMMIT === undefined ? '' : `, synchronous_commit=${PG_SYNC_COMMIT}`}${PG_SOCKET === undefined ? ', TCP' : `, Unix socket ${PG_SOCKET}`}.`,
      '',
      `| Side | Jobs/s (median) | Range | / raw (medians) | / raw, paired by round: median (range) | ${STEPS}-step idle latency median (ms) | p95 (ms) | latency / raw |`,
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...rows.map((r) => r.line),
      '',
      '| Side | Rounds (jobs/s) |',
      '|---|---|',
      ...rows.map((r) => r.rounds),
      '',
      `Cost per node job over the throughput rounds: CPU of this process (every side runs in it, one at a time), CPU of the PostgreSQL backends serving the bench database (from /proc), statements sent to PostgreSQL, and store calls.`,
      '',
      '| Side | Node CPU ms/job | PostgreSQL CPU ms/job | Statements/job | getExecution | saveNodeResult | transitionExecution | createExecution |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...sides.map((side) => {
        const c = cost.get(side.name)!;
        const jobs = CHAINS * STEPS * STORE_ROUNDS;
        const per = (n: number | undefined, digits = 3) => (n === undefined || !stores.has(side.name) ? '' : fmt(n / jobs, digits));
        const pg = pgWatch.has(side.name);
        return `| ${labels[side.name]} | ${fmt(c.nodeCpuMs / jobs, 3)} | ${pg ? fmt(c.pgCpuMs / jobs, 3) : ''} | ${pg ? fmt(c.statements / jobs, 2) : ''} | ${COUNTED_METHODS.map((m) => per(c.calls[m], 2)).join(' | ')} |`;
      }),
      '',
      '| Target | Measured | Status |',
      '|---|---:|---|',
      `| SPANE on PostgreSQL ≥ 30% of raw BullMQ chain throughput | ${fmt(pgRow.ratio * 100, 0)}% (paired ${fmt(pgRow.paired * 100, 0)}%) | ${pgRow.ratio >= 0.3 ? 'met' : '**missed**'} |`,
      '',
      `Total bench time ${fmt((performance.now() - started) / 1000, 1)} s.`,
    ];
    for (const side of spaneSides) if (side.warnings.length > 0) out.push('', `${side.name} logged ${side.warnings.length} warning(s); first: ${side.warnings[0]}`);
    process.stdout.write(`${out.join('\n')}\n`);
    if (pgRow.ratio < 0.3) process.exitCode = 2;
  } finally {
    for (const side of opened.reverse()) await side.close().catch((err: unknown) => log(`closing ${side.name} failed: ${String(err)}`));
    for (const cleanup of cleanups) await cleanup().catch((err: unknown) => log(`cleanup failed: ${String(err)}`));
    await admin.quit().catch(() => admin.disconnect());
  }
}

function bullmqVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    return (require('bullmq/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

(STORES_MODE ? mainStores() : main()).then(
  () => {
    // Everything is closed; if a handle still keeps the process alive, say which and leave anyway.
    setTimeout(() => {
      log(`process still alive 5 s after closing everything; open resources: ${process.getActiveResourcesInfo().join(', ')}`);
      process.exit(0);
    }, 5000).unref();
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
