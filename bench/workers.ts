/**
 * Scale-out benchmark (issue 16): the 10-node chain workload with 1, 2 and 4 worker PROCESSES on
 * one Redis, SPANE next to raw BullMQ chains measured in the same run.
 *
 *   npm run bench:workers
 *   BENCH_WORKER_PROCS=1,2 BENCH_WORKER_EXECUTIONS=400 BENCH_ROUNDS=3 npm run bench:workers
 *
 * - SPANE: each worker process (bench/workers-child.ts, started as `node --import tsx`) builds a
 *   WorkflowEngine on the same Redis prefix and a DrizzleStore.postgres on one throwaway
 *   PostgreSQL database shared by all processes, and calls startWorkers(BENCH_CONCURRENCY) —
 *   the same concurrency PER PROCESS (default 50), so 4 processes offer 4 × 50 slots. This
 *   process registers the workflow, waits for every child's `ready` line, enqueues EXECUTIONS
 *   10-node linear executions with enqueueBulkWorkflows (it runs no workers itself) and measures
 *   the wall time until the store has every one of them `completed` (polled every POLL_MS).
 * - raw BullMQ: the same number of processes, each a BullMQ Worker with the same concurrency
 *   whose job for step i adds step i + 1 of its chain (bench/redis-rows.ts's raw chain); the last
 *   step increments a counter in Redis, polled every POLL_MS like the SPANE side.
 * - CPU: user + system time of the child processes over the measured batch (from /proc); the
 *   PostgreSQL and Redis servers' CPU is not in it.
 *
 * A pass starts, for each process count in turn (the order rotates every pass), the SPANE
 * children, runs one warm-up batch (a quarter of EXECUTIONS) and one measured batch, stops them,
 * then does the same with raw children. BENCH_ROUNDS passes (default 3); medians are reported.
 * Children are stopped by PID (SIGTERM, SIGKILL after 10 s) after each configuration, on failure
 * and on exit; they also exit when their stdin closes, i.e. when this process dies.
 *
 * Env: REDIS_URL, BENCH_POSTGRES_URL (admin database, default SPANE_TEST_POSTGRES_URL or
 * postgres://postgres@127.0.0.1:5432/postgres), BENCH_WORKER_PROCS (1,2,4),
 * BENCH_WORKER_EXECUTIONS (200), BENCH_STEPS (10), BENCH_CONCURRENCY (50, per process),
 * BENCH_ROUNDS (3), BENCH_JSON=<file> (rows as JSON, the bench protocol).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import type { Sql } from 'postgres';
import { DrizzleStore, NodeRegistry, WorkflowEngine } from '../src/index.js';
import type { Logger } from '../src/index.js';
import { envInt, linearWorkflow, loadAvg, procCpuMs, spaneConfigExtras, stats, writeBenchJson } from './lib.js';
import type { BenchRow } from './lib.js';
import { createTestDatabase } from '../test/contract/databases.js';
import type { TestDatabase } from '../test/contract/databases.js';
import { deleteKeys } from '../test/helpers.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const POSTGRES_ADMIN_URL = process.env['BENCH_POSTGRES_URL'] ?? process.env['SPANE_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const EXECUTIONS = envInt('BENCH_WORKER_EXECUTIONS', 200);
const STEPS = envInt('BENCH_STEPS', 10);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 50);
const ROUNDS = envInt('BENCH_ROUNDS', 3);
const WARMUP = Math.max(1, Math.floor(EXECUTIONS / 4));
const POLL_MS = 20;
const READY_TIMEOUT_MS = 60_000;
const BATCH_TIMEOUT_MS = 300_000;
const CHILD_SCRIPT = fileURLToPath(new URL('./workers-child.ts', import.meta.url));
const WORKFLOW_ID = `chain-${STEPS}`;

type Mode = 'spane' | 'raw';

function log(message: string): void {
  process.stderr.write(`[bench:workers] ${message}\n`);
}

/** BENCH_WORKER_PROCS: distinct positive integers, in the order given (the first is the baseline). */
function processCounts(): number[] {
  const raw = process.env['BENCH_WORKER_PROCS'] ?? '1,2,4';
  const counts = raw.split(',').map((s) => Number(s.trim()));
  if (counts.length === 0 || counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`BENCH_WORKER_PROCS must be positive integers separated by commas, got '${raw}'`);
  return [...new Set(counts)];
}

// ---------------------------------------------------------------------------------------------
// Children

/** Every child started and not yet seen exiting, so that nothing outlives the bench. */
const live = new Set<ChildProcess>();

function killAll(signal: NodeJS.Signals): void {
  for (const child of live) {
    if (child.pid === undefined) continue;
    try {
      process.kill(child.pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Set when the bench must stop early (a signal, a child that died mid-batch); batches check it. */
let aborted: Error | undefined;
/** Children being stopped on purpose, whose exit is not a failure. */
const stopping = new WeakSet<ChildProcess>();

process.on('exit', () => killAll('SIGKILL'));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // A second signal does not wait for the cleanup.
    if (aborted !== undefined) process.exit(130);
    aborted = new Error(`bench: interrupted by ${signal}`);
    killAll('SIGKILL');
  });
}

/** Starts one worker child and resolves once it printed `ready`. */
function startChild(mode: Mode, prefix: string, pgUrl: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD_SCRIPT], {
    env: {
      ...process.env,
      WORKERS_CHILD_MODE: mode,
      WORKERS_CHILD_PREFIX: prefix,
      WORKERS_CHILD_CONCURRENCY: String(CONCURRENCY),
      WORKERS_CHILD_PG_URL: pgUrl,
      REDIS_URL,
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  live.add(child);
  child.once('exit', (code, signal) => {
    live.delete(child);
    if (!stopping.has(child)) aborted ??= new Error(`bench: a ${mode} worker child exited unexpectedly (code ${code}, signal ${signal})`);
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`bench: a ${mode} worker child did not report ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.split('\n').includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`bench: a ${mode} worker child exited before it was ready (code ${code}, signal ${signal})`));
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Stops children by PID: SIGTERM (they close their workers), SIGKILL for any still there after 10 s. */
async function stopChildren(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          stopping.add(child);
          if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return resolve();
          const timer = setTimeout(() => {
            try {
              process.kill(child.pid!, 'SIGKILL');
            } catch {
              // Already gone.
            }
          }, 10_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          try {
            process.kill(child.pid, 'SIGTERM');
          } catch {
            clearTimeout(timer);
            resolve();
          }
        }),
    ),
  );
}

async function startChildren(n: number, mode: Mode, prefix: string, pgUrl: string): Promise<ChildProcess[]> {
  const started = await Promise.allSettled(Array.from({ length: n }, () => startChild(mode, prefix, pgUrl)));
  const children = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    await stopChildren(children);
    throw failed.reason;
  }
  return children;
}

// ---------------------------------------------------------------------------------------------
// Batches

/** Polls `done()` every POLL_MS until it reaches `n`; rejects after BATCH_TIMEOUT_MS. */
async function pollUntil(n: number, done: () => Promise<number>, what: string): Promise<void> {
  const deadline = performance.now() + BATCH_TIMEOUT_MS;
  for (;;) {
    if (aborted !== undefined) throw aborted;
    if ((await done()) >= n) return;
    if (performance.now() > deadline) throw new Error(`bench: timed out after ${BATCH_TIMEOUT_MS} ms waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

interface Batch {
  ms: number;
  cpuMs: number;
}

interface Harness {
  /** Runs `n` chains on whatever children are up; wall time and the children's CPU. */
  batch(mode: Mode, n: number, pids: readonly number[]): Promise<Batch>;
}

function harness(engine: WorkflowEngine, sql: Sql, rawQueue: Queue, admin: Redis, rawPrefix: string): Harness {
  const spane = async (n: number) => {
    const ids = await engine.enqueueBulkWorkflows(Array.from({ length: n }, () => ({ workflowId: WORKFLOW_ID, initialData: { step: 0 } })));
    await pollUntil(
      n,
      async () => {
        const [row] = await sql<{ completed: number; failed: number }[]>`
          select count(*) filter (where status = 'completed')::int as completed,
                 count(*) filter (where status in ('failed', 'cancelled'))::int as failed
          from spane.executions where execution_id = any(${ids})`;
        if ((row?.failed ?? 0) > 0) throw new Error(`bench: ${row!.failed} SPANE executions failed`);
        return row?.completed ?? 0;
      },
      `${n} SPANE executions`,
    );
  };
  const raw = async (n: number) => {
    const counter = `${rawPrefix}:bench-done`;
    await admin.set(counter, '0');
    await rawQueue.addBulk(Array.from({ length: n }, () => ({ name: 'step', data: { chain: randomUUID(), step: 0, length: STEPS } })));
    await pollUntil(n, async () => Number((await admin.get(counter)) ?? '0'), `${n} raw chains`);
  };
  return {
    async batch(mode, n, pids) {
      const cpu0 = procCpuMs(pids);
      const t0 = performance.now();
      await (mode === 'spane' ? spane(n) : raw(n));
      const ms = performance.now() - t0;
      return { ms, cpuMs: procCpuMs(pids) - cpu0 };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Main

interface Samples {
  /** Chains (executions) per second, one per pass. */
  rate: number[];
  /** Children's CPU ms per chain, one per pass. */
  cpuPerChain: number[];
}

function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '—';
}

async function main(): Promise<void> {
  const counts = processCounts();
  const loadBefore = loadAvg();
  log(`processes ${counts.join(', ')} · ${EXECUTIONS} executions × ${STEPS} steps · concurrency ${CONCURRENCY} per process · ${ROUNDS} passes · load ${loadBefore}`);
  const admin = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const id8 = randomUUID().slice(0, 8);
  const spanePrefix = `{bench-workers-${id8}}`;
  const rawPrefix = `{bench-workers-raw-${id8}}`;
  const cleanups: (() => Promise<void>)[] = [];
  let running: ChildProcess[] = [];
  try {
    const database: TestDatabase = await createTestDatabase(POSTGRES_ADMIN_URL, 'spane_bench_workers');
    cleanups.unshift(async () => {
      await database.drop();
      log(`dropped database ${database.name}`);
    });
    log(`PostgreSQL database ${database.name}; prefixes ${spanePrefix}, ${rawPrefix}`);
    // Migrates the new database; the children then open it with migrate: false.
    const store = await DrizzleStore.postgres(database.url);
    cleanups.unshift(() => store.close());
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    cleanups.unshift(() => sql.end({ timeout: 5 }));
    const registry = new NodeRegistry();
    registry.register('step', async () => ({ success: true }));
    const warnings: string[] = [];
    const logger: Logger = { warn: (m) => void warnings.push(`warn ${m}`), error: (m) => void warnings.push(`error ${m}`) };
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    // No workers here: this engine registers the workflow and enqueues.
    const engine = new WorkflowEngine({ registry, store, connection, config: { prefix: spanePrefix, ...spaneConfigExtras() }, logger });
    cleanups.unshift(async () => {
      await engine.close();
      await connection.quit().catch(() => connection.disconnect());
    });
    await engine.registerWorkflow(linearWorkflow(WORKFLOW_ID, STEPS));
    const rawConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const rawQueue = new Queue('chain', {
      connection: rawConnection,
      prefix: rawPrefix,
      defaultJobOptions: { removeOnComplete: { count: 1000, age: 3600 }, removeOnFail: { count: 5000, age: 7 * 24 * 3600 } },
    });
    cleanups.unshift(async () => {
      await rawQueue.close();
      await rawConnection.quit().catch(() => rawConnection.disconnect());
    });
    const h = harness(engine, sql, rawQueue, admin, rawPrefix);

    const samples = new Map<string, Samples>();
    const key = (mode: Mode, n: number) => `${mode}:${n}`;
    const started = performance.now();
    for (let pass = 0; pass < ROUNDS; pass++) {
      for (let i = 0; i < counts.length; i++) {
        const n = counts[(i + pass) % counts.length]!;
        for (const mode of ['spane', 'raw'] as const) {
          if (aborted !== undefined) throw aborted;
          running = await startChildren(n, mode, mode === 'spane' ? spanePrefix : rawPrefix, database.url);
          const pids = running.map((c) => c.pid!);
          await h.batch(mode, WARMUP, pids);
          const b = await h.batch(mode, EXECUTIONS, pids);
          await stopChildren(running);
          running = [];
          const s = samples.get(key(mode, n)) ?? { rate: [], cpuPerChain: [] };
          s.rate.push(EXECUTIONS / (b.ms / 1000));
          s.cpuPerChain.push(b.cpuMs / EXECUTIONS);
          samples.set(key(mode, n), s);
          log(
            `pass ${pass + 1}/${ROUNDS}, ${n} ${mode} process(es): ${fmt(EXECUTIONS / (b.ms / 1000))} chains/s, ${fmt(b.cpuMs / EXECUTIONS, 2)} CPU ms/chain · load ${loadAvg()}`,
          );
        }
      }
    }
    const loadAfter = loadAvg();
    const median = (mode: Mode, n: number, what: keyof Samples) => stats(samples.get(key(mode, n))![what]).median;
    const base = counts[0]!;
    const table = counts.map((n) => {
      const spane = median('spane', n, 'rate');
      const raw = median('raw', n, 'rate');
      return {
        n,
        spane,
        spaneUp: spane / median('spane', base, 'rate'),
        raw: raw * STEPS,
        rawUp: raw / median('raw', base, 'rate'),
        spaneCpu: median('spane', n, 'cpuPerChain'),
        rawCpu: median('raw', n, 'cpuPerChain'),
      };
    });
    const lines = [
      '',
      `Worker processes on one Redis: ${EXECUTIONS} executions × ${STEPS} nodes per batch, concurrency ${CONCURRENCY} per process, SPANE on DrizzleStore.postgres (one database shared by the processes); medians of ${ROUNDS} passes (${fmt((performance.now() - started) / 1000, 0)} s)`,
      `load before ${loadBefore}, after ${loadAfter}`,
      '',
      '| processes | SPANE executions/s | SPANE jobs/s | speed-up vs ' + base + ' | raw BullMQ jobs/s | raw speed-up | SPANE CPU ms / execution | raw CPU ms / chain |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...table.map(
        (r) =>
          `| ${r.n} | ${fmt(r.spane)} | ${fmt(r.spane * STEPS, 0)} | ${fmt(r.spaneUp, 2)}× | ${fmt(r.raw, 0)} | ${fmt(r.rawUp, 2)}× | ${fmt(r.spaneCpu, 2)} | ${fmt(r.rawCpu, 2)} |`,
      ),
      '',
      'CPU: user + system of the worker processes over the measured batch (not the Redis or PostgreSQL servers).',
      '',
    ];
    process.stdout.write(lines.join('\n'));
    if (warnings.length > 0) log(`enqueueing engine logged ${warnings.length} warnings, first: ${warnings[0]}`);
    const rows: BenchRow[] = table
      .filter((r) => r.n !== base)
      .map((r) => ({
        figure: `chain throughput, ${r.n} worker processes / ${base} (SPANE)`,
        spane: r.spane,
        peer: table[0]!.spane,
        unit: 'executions/s',
        ratio: r.spaneUp,
        target: '(report)',
        higherIsBetter: true,
        note: `raw BullMQ chains ${r.n} processes / ${base}: ${fmt(r.rawUp, 2)}×; ${EXECUTIONS} executions × ${STEPS} nodes, concurrency ${CONCURRENCY} per process, DrizzleStore.postgres; medians of ${ROUNDS} passes; load ${loadAfter}`,
      }));
    writeBenchJson(rows);
  } finally {
    await stopChildren(running);
    killAll('SIGKILL');
    for (const cleanup of cleanups) await cleanup().catch((err: unknown) => log(`cleanup failed: ${String(err)}`));
    for (const prefix of [spanePrefix, rawPrefix]) log(`deleted ${await deleteKeys(admin, prefix)} keys under ${prefix}`);
    await admin.quit().catch(() => admin.disconnect());
  }
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
