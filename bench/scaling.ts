/**
 * Scaling benchmark (issue 16, "O(n²) per workflow"): the CPU a node costs SPANE, by workflow
 * length, on each store. A node job must cost the same in a 10-node and in a 500-node workflow.
 *
 *   npm run bench:scaling
 *   BENCH_SCALING_NODES=10,50,200,500 BENCH_SCALING_BATCH_NODES=1000 BENCH_SCALING_ROUNDS=3 BENCH_SCALING_STORES=memory,postgres,embedded npm run bench:scaling
 *
 * For each store, one engine in this process (its workers included, concurrency 50) runs linear
 * workflows of each size, about BENCH_SCALING_BATCH_NODES nodes per batch (1000: 100 executions of
 * 10 nodes, 2 of 500). The figure is this process's CPU (`process.cpuUsage`, user + system) per
 * node, in µs, the median over ROUNDS batches after a warm-up batch; sizes take turns within each
 * round. Every size runs with the same number of executions in flight, BENCH_SCALING_PARALLEL
 * (default: what the largest size fits in a batch, 2 for 500 nodes), each lane starting its next
 * execution when the last one completed: with 100 short executions in flight against 2 long ones,
 * the short ones came out cheaper per node only because BullMQ's workers were busier (measured
 * with equal parallelism, 10 and 500 nodes cost the same). The row per store is max/min of those figures across sizes (1.0 is flat), against 1.15.
 *
 * Stores:
 * - memory: InMemoryExecutionStore, BullMQ on Redis (REDIS_URL);
 * - postgres: DrizzleStore on PostgreSQL (a fresh database on BENCH_POSTGRES_URL's server, dropped
 *   afterwards), BullMQ on Redis. PostgreSQL's own CPU is not in the figure (another process);
 * - embedded: the embedded backend: BullMQ's PostgreSQL backend and the DrizzleStore both on one
 *   in-memory PGlite, which runs in this process, so its CPU is in the figure.
 *
 * Redis sides use their own prefixes and delete their keys afterwards.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { DrizzleStore, InMemoryExecutionStore, NodeRegistry, SqlBackend, WorkflowEngine } from '../src/index.js';
import type { ExecutionStore, Logger } from '../src/index.js';
import { createTestDatabase } from '../test/contract/databases.js';
import type { TestDatabase } from '../test/contract/databases.js';
import { deleteKeys } from '../test/helpers.js';
import { envInt, linearWorkflow, loadAvg, observed, stats, withTimeout, writeBenchJson } from './lib.js';
import type { BenchRow, ObservedStore } from './lib.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const POSTGRES_ADMIN_URL = process.env['BENCH_POSTGRES_URL'] ?? process.env['SPANE_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SIZES = (process.env['BENCH_SCALING_NODES'] ?? '10,50,200,500').split(',').map((s) => {
  const n = Number(s.trim());
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_SCALING_NODES: '${s}' is not a positive integer`);
  return n;
});
const BATCH_NODES = envInt('BENCH_SCALING_BATCH_NODES', 1000);
/**
 * Executions in flight at once, the same for every size: by default as many as the largest size
 * fits in one batch (2 for 500 nodes), so that a batch of short workflows is not cheaper per node
 * only because more jobs are in flight (BullMQ's per-job cost falls as its workers get busier).
 */
const PARALLEL = envInt('BENCH_SCALING_PARALLEL', Math.max(1, Math.round(BATCH_NODES / Math.max(...SIZES))));
const ROUNDS = envInt('BENCH_SCALING_ROUNDS', 3);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 50);
const STORES = (process.env['BENCH_SCALING_STORES'] ?? 'memory,postgres,embedded').split(',').map((s) => s.trim());
const PHASE_TIMEOUT_MS = envInt('BENCH_PHASE_TIMEOUT_MS', 600_000);
export const FIGURE = 'per-node CPU, 10/50/200/500-node linear workflows, each store';
const PEER = 1.15;

const LABELS: Record<string, string> = {
  memory: 'InMemoryExecutionStore, Redis queues',
  postgres: 'DrizzleStore on PostgreSQL, Redis queues',
  embedded: 'embedded backend (PGlite queues and store)',
};

function log(message: string): void {
  process.stderr.write(`[scaling] ${message}\n`);
}

/** One engine on one store, with linear workflows of every size registered. */
interface Side {
  store: ObservedStore;
  engine: WorkflowEngine;
  close(): Promise<void>;
}

async function openSide(kind: string): Promise<Side> {
  const prefix = `{bench-scaling-${kind}-${randomUUID().slice(0, 8)}}`;
  const cleanups: (() => Promise<void>)[] = [];
  let store: ExecutionStore;
  let queues: { connection: Redis } | { backend: SqlBackend };
  if (kind === 'memory' || kind === 'postgres') {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    cleanups.push(async () => {
      log(`${kind}: deleted ${await deleteKeys(redis, prefix)} keys under ${prefix}`);
      redis.disconnect();
    });
    queues = { connection: redis };
    if (kind === 'memory') store = new InMemoryExecutionStore({ maxFinishedExecutions: 100_000 });
    else {
      const database: TestDatabase = await createTestDatabase(POSTGRES_ADMIN_URL, 'spane_bench');
      cleanups.push(() => database.drop());
      const pg = await DrizzleStore.postgres(database.url);
      cleanups.unshift(() => pg.close());
      store = pg;
    }
  } else if (kind === 'embedded') {
    const backend = await SqlBackend.embedded({ prefix });
    cleanups.push(() => backend.close());
    const lite = await DrizzleStore.pglite({ client: backend.pglite! });
    cleanups.unshift(() => lite.close());
    store = lite;
    queues = { backend };
  } else throw new Error(`BENCH_SCALING_STORES: unknown store '${kind}' (memory, postgres, embedded)`);
  const watched = observed(store);
  const logger: Logger = { warn: (m) => log(`${kind} warn: ${m}`), error: (m) => log(`${kind} error: ${m}`) };
  const registry = new NodeRegistry();
  registry.register('step', async (ctx) => ({ success: true, data: { step: ((ctx.inputData as { step?: number } | undefined)?.step ?? 0) + 1 } }));
  const engine = new WorkflowEngine({ registry, store: watched, ...queues, config: { prefix }, logger });
  for (const size of SIZES) await engine.registerWorkflow(linearWorkflow(`linear-${size}`, size));
  engine.startWorkers(CONCURRENCY);
  await engine.waitUntilReady();
  return {
    store: watched,
    engine,
    async close() {
      await engine.close();
      for (const c of cleanups) await c().catch((err: unknown) => log(`${kind}: cleanup failed: ${String(err)}`));
    },
  };
}

/**
 * Runs one batch of about BATCH_NODES nodes of `size`-node executions, PARALLEL lanes each
 * starting its next execution when its last one completed; returns µs of this process's CPU per
 * node.
 */
async function batch(side: Side, size: number): Promise<number> {
  const executions = Math.max(PARALLEL, Math.round(BATCH_NODES / size));
  side.store.completions.reset();
  let started = 0;
  const lane = async () => {
    while (started < executions) {
      started++;
      const id = await side.engine.enqueueWorkflow(`linear-${size}`, { step: 0 });
      await withTimeout(side.store.completions.waitFor(id), PHASE_TIMEOUT_MS, `an execution of ${size} nodes`);
    }
  };
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: PARALLEL }, lane));
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / (executions * size);
}

async function measure(kind: string): Promise<BenchRow> {
  const side = await openSide(kind);
  try {
    const t0 = performance.now();
    for (const size of SIZES) await batch(side, size); // warm-up: JIT, prepared statements, pools
    const samples = new Map<number, number[]>(SIZES.map((s) => [s, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // Sizes take turns, the order rotating every round, so a load change hits each size alike.
      for (let i = 0; i < SIZES.length; i++) {
        const size = SIZES[(i + round) % SIZES.length]!;
        samples.get(size)!.push(await batch(side, size));
      }
      log(`${kind} round ${round + 1}/${ROUNDS}: ${SIZES.map((s) => `${s}: ${samples.get(s)!.at(-1)!.toFixed(0)} µs`).join(', ')} (load ${loadAvg()})`);
    }
    const perSize = SIZES.map((s) => ({ size: s, us: stats(samples.get(s)!).median }));
    const figures = perSize.map((p) => p.us);
    const spread = Math.max(...figures) / Math.min(...figures);
    log(`${kind}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return {
      figure: FIGURE,
      spane: Number(spread.toFixed(3)),
      peer: PEER,
      unit: '×',
      ratio: Number((spread / PEER).toFixed(3)),
      target: 'flat within 15%',
      higherIsBetter: false,
      note: `${LABELS[kind] ?? kind}: max/min of µs CPU/node; ${perSize.map((p) => `${p.size} nodes ${p.us.toFixed(0)}`).join(', ')}; ~${BATCH_NODES} nodes/batch, ${PARALLEL} in flight, median of ${ROUNDS}; load ${loadAvg()}`,
    };
  } finally {
    await side.close();
  }
}

async function main(): Promise<void> {
  const rows: BenchRow[] = [];
  log(`sizes ${SIZES.join(', ')}; ~${BATCH_NODES} nodes per batch, ${PARALLEL} executions in flight; ${ROUNDS} rounds; concurrency ${CONCURRENCY}; load ${loadAvg()}`);
  for (const kind of STORES) {
    try {
      rows.push(await measure(kind));
    } catch (err) {
      log(`${kind}: not measured: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  writeBenchJson(rows);
  console.log(`\nPer-node CPU by workflow length (load ${loadAvg()})`);
  console.table(rows.map((r) => ({ 'max/min': r.spane, target: `≤ ${PEER}`, note: r.note })));
  process.exitCode = rows.every((r) => r.spane <= PEER) ? 0 : 2;
}

await main();
