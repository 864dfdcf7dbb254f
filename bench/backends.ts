/**
 * Backends benchmark: the chain benchmark on Redis, PostgreSQL and an embedded PGlite in one
 * run, SPANE against hand-written BullMQ chains on the same backend each time.
 *
 *   npm run bench:backends
 *   BENCH_CHAINS=100 BENCH_STEPS=10 BENCH_CONCURRENCY=50 BENCH_ROUNDS=3 BENCH_RUNS=10 BENCH_BACKENDS=redis,postgres,embedded npm run bench:backends
 *
 * Per backend:
 * - raw BullMQ: each job's processor adds the next job of its chain (the Queue/Worker built with
 *   that backend's factory: BullMQ's Redis default, or `createPostgresBackend` on the same pool
 *   SPANE uses);
 * - SPANE: a STEPS-node linear workflow on the same backend, CHAINS executions through
 *   enqueueBulkWorkflows, state in an InMemoryExecutionStore so that only the queue backend
 *   differs between backends (`docs/benchmarks.md` has the store comparison).
 * Throughput: after a warm-up batch each, the two sides take turns for ROUNDS rounds (the order
 * flips every round); the median round is reported as steps/s, with the median SPANE/raw ratio.
 * Idle latency: median over RUNS one-chain runs of each side, interleaved.
 * "Done" is taken inside the last job on both sides (the raw processor's last step; the store's
 * move to `completed`), without polling.
 *
 * The postgres backend runs in a fresh database (dropped afterwards) on BENCH_POSTGRES_URL's
 * server (default SPANE_TEST_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/postgres);
 * Redis sides use their own prefixes and delete their keys. A backend whose server does not
 * answer is skipped, and says so.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { createPostgresBackend, createRedisBackend, Queue, Worker } from 'bullmq';
import type { BackendFactory, ConnectionOptions, Job, RedisQueueBackend } from 'bullmq';
import { Redis } from 'ioredis';
import { InMemoryExecutionStore, NodeRegistry, SqlBackend, WorkflowEngine } from '../src/index.js';
import type { BackendKind, ExecutionStatus, Logger, TransitionPatch } from '../src/index.js';
import { createTestDatabase } from '../test/contract/databases.js';
import type { TestDatabase } from '../test/contract/databases.js';
import { postgresAnswers, redisAnswers } from '../test/backends/probe.js';
import { CompletionBoard, envInt, linearWorkflow, stats, withTimeout } from './lib.js';
import { deleteKeys } from '../test/helpers.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const POSTGRES_ADMIN_URL = process.env['BENCH_POSTGRES_URL'] ?? process.env['SPANE_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CHAINS = envInt('BENCH_CHAINS', 100);
const STEPS = envInt('BENCH_STEPS', 10);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 50);
const ROUNDS = envInt('BENCH_ROUNDS', 3);
const RUNS = envInt('BENCH_RUNS', 10);
const BACKENDS = (process.env['BENCH_BACKENDS'] ?? 'redis,postgres,embedded').split(',').map((s) => s.trim()) as BackendKind[];
const TIMEOUT_MS = 300_000;
const REMOVE_ON_COMPLETE = { count: 1000, age: 3600 };
const REMOVE_ON_FAIL = { count: 5000, age: 7 * 24 * 3600 };

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

interface Side {
  name: string;
  runChains(n: number): Promise<number>;
  runOne(): Promise<number>;
  close(): Promise<void>;
}

/** How a side reaches the backend: BullMQ's factory and the connection to give it. */
interface Link {
  kind: BackendKind;
  factory: BackendFactory<RedisQueueBackend>;
  connection(): ConnectionOptions;
  /** The engine option for SPANE. */
  engine: { connection: Redis } | { backend: SqlBackend };
  prefix: string;
  close(): Promise<void>;
}

async function rawSide(link: Link): Promise<Side> {
  const board = new CompletionBoard();
  const queueName = `raw-chain-${randomUUID().slice(0, 8)}`;
  const queue = new Queue<{ chain: string; step: number }>(
    queueName,
    { connection: link.connection(), prefix: link.prefix, defaultJobOptions: { removeOnComplete: REMOVE_ON_COMPLETE, removeOnFail: REMOVE_ON_FAIL } },
    link.factory,
  );
  let length = STEPS;
  const worker = new Worker<{ chain: string; step: number }>(
    queueName,
    async (job: Job<{ chain: string; step: number }>) => {
      const { chain, step } = job.data;
      if (step + 1 < length) await queue.add('step', { chain, step: step + 1 });
      else board.mark(chain);
      return { step: step + 1 };
    },
    { connection: link.connection(), prefix: link.prefix, concurrency: CONCURRENCY, removeOnComplete: REMOVE_ON_COMPLETE, removeOnFail: REMOVE_ON_FAIL },
    link.factory,
  );
  worker.on('error', (err) => log(`raw worker error: ${err.message}`));
  await worker.waitUntilReady();
  return {
    name: 'raw BullMQ',
    async runChains(n) {
      length = STEPS;
      const all = board.waitForMore(n);
      const t0 = performance.now();
      await queue.addBulk(Array.from({ length: n }, () => ({ name: 'step', data: { chain: randomUUID(), step: 0 } })));
      await withTimeout(all, TIMEOUT_MS, `${n} raw chains on ${link.kind}`);
      return performance.now() - t0;
    },
    async runOne() {
      length = STEPS;
      const chain = randomUUID();
      const done = board.waitFor(chain);
      const t0 = performance.now();
      await queue.add('step', { chain, step: 0 });
      return (await withTimeout(done, TIMEOUT_MS, 'a raw chain')) - t0;
    },
    async close() {
      await worker.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    },
  };
}

async function spaneSide(link: Link): Promise<Side> {
  const board = new CompletionBoard();
  const store = new InMemoryExecutionStore({ maxFinishedExecutions: 100_000 });
  const transition = store.transitionExecution.bind(store);
  store.transitionExecution = async (id: string, from: readonly ExecutionStatus[], to: ExecutionStatus, patch?: TransitionPatch) => {
    const changed = await transition(id, from, to, patch);
    if (changed && to === 'completed') board.mark(id);
    return changed;
  };
  const registry = new NodeRegistry();
  registry.register('step', async (ctx) => ({ success: true, data: { step: ((ctx.inputData as { step?: number } | undefined)?.step ?? 0) + 1 } }));
  const warnings: string[] = [];
  const logger: Logger = { warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) };
  const engine = new WorkflowEngine({ registry, store, ...link.engine, config: { prefix: link.prefix, events: process.env['BENCH_EVENTS'] !== '0' }, logger });
  const wf = `chain-${STEPS}`;
  await engine.registerWorkflow(linearWorkflow(wf, STEPS));
  engine.startWorkers(CONCURRENCY);
  await engine.waitUntilReady();
  return {
    name: 'SPANE',
    async runChains(n) {
      const all = board.waitForMore(n);
      const t0 = performance.now();
      await engine.enqueueBulkWorkflows(Array.from({ length: n }, () => ({ workflowId: wf, initialData: { step: 0 } })));
      await withTimeout(all, TIMEOUT_MS, `${n} SPANE executions on ${link.kind}`);
      return performance.now() - t0;
    },
    async runOne() {
      const t0 = performance.now();
      const id = await engine.enqueueWorkflow(wf, { step: 0 });
      return (await withTimeout(board.waitFor(id), TIMEOUT_MS, 'a SPANE execution')) - t0;
    },
    async close() {
      await engine.close();
      if (warnings.length > 0) log(`SPANE on ${link.kind} logged ${warnings.length} warnings, first: ${warnings[0]}`);
    },
  };
}

async function openLink(kind: BackendKind): Promise<Link | string> {
  const prefix = `{bench-backends-${randomUUID().slice(0, 8)}}`;
  if (kind === 'redis') {
    if (!(await redisAnswers())) return `nothing answers at ${REDIS_URL}`;
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    return {
      kind,
      factory: createRedisBackend,
      connection: () => redis,
      engine: { connection: redis },
      prefix,
      async close() {
        await deleteKeys(redis, prefix);
        redis.disconnect();
      },
    };
  }
  let database: TestDatabase | undefined;
  let backend: SqlBackend;
  if (kind === 'postgres') {
    if (!(await postgresAnswers())) return `nothing answers at ${POSTGRES_ADMIN_URL}`;
    database = await createTestDatabase(POSTGRES_ADMIN_URL, 'spane_bench');
    backend = await SqlBackend.postgres({ url: database.url, poolSize: 40, prefix });
  } else {
    backend = await SqlBackend.embedded({ prefix });
  }
  const pool = backend.pool as unknown as ConnectionOptions;
  return {
    kind,
    factory: createPostgresBackend as unknown as BackendFactory<RedisQueueBackend>,
    connection: () => pool,
    engine: { backend },
    prefix,
    async close() {
      await backend.close();
      await database?.drop();
    },
  };
}

interface Row {
  kind: BackendKind;
  raw: number;
  spane: number;
  ratio: number;
  rawLatency: number;
  spaneLatency: number;
}

async function measure(link: Link): Promise<Row> {
  const raw = await rawSide(link);
  const spane = await spaneSide(link);
  try {
    log(`${link.kind}: warm-up`);
    await raw.runChains(Math.min(CHAINS, 20));
    await spane.runChains(Math.min(CHAINS, 20));
    const rawMs: number[] = [];
    const spaneMs: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [raw, spane] : [spane, raw];
      const ms = new Map<Side, number>();
      for (const side of order) ms.set(side, await side.runChains(CHAINS));
      rawMs.push(ms.get(raw)!);
      spaneMs.push(ms.get(spane)!);
      ratios.push(ms.get(raw)! / ms.get(spane)!);
      log(`${link.kind} round ${round + 1}/${ROUNDS}: raw ${ms.get(raw)!.toFixed(0)} ms, SPANE ${ms.get(spane)!.toFixed(0)} ms`);
    }
    const rawLatency: number[] = [];
    const spaneLatency: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      rawLatency.push(await raw.runOne());
      spaneLatency.push(await spane.runOne());
    }
    const steps = CHAINS * STEPS;
    return {
      kind: link.kind,
      raw: steps / (stats(rawMs).median / 1000),
      spane: steps / (stats(spaneMs).median / 1000),
      ratio: stats(ratios).median,
      rawLatency: stats(rawLatency).median,
      spaneLatency: stats(spaneLatency).median,
    };
  } finally {
    await spane.close();
    await raw.close();
  }
}

async function main(): Promise<void> {
  log(`${CHAINS} chains × ${STEPS} steps, concurrency ${CONCURRENCY}, ${ROUNDS} rounds, ${RUNS} latency runs; backends ${BACKENDS.join(', ')}`);
  const rows: Row[] = [];
  const skipped: string[] = [];
  for (const kind of BACKENDS) {
    const link = await openLink(kind);
    if (typeof link === 'string') {
      skipped.push(`${kind}: skipped, ${link}`);
      log(skipped.at(-1)!);
      continue;
    }
    try {
      rows.push(await measure(link));
    } finally {
      await link.close();
    }
  }
  const out = [
    `Backends benchmark — ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} CPUs (load ${os.loadavg()[0]!.toFixed(1)})`,
    `${CHAINS} chains × ${STEPS} steps, worker concurrency ${CONCURRENCY}, median of ${ROUNDS} rounds; idle latency median of ${RUNS} runs of one ${STEPS}-step chain`,
    '',
    '| backend | raw BullMQ steps/s | SPANE steps/s | SPANE / raw | raw chain latency (ms) | SPANE chain latency (ms) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.kind} | ${r.raw.toFixed(0)} | ${r.spane.toFixed(0)} | ${(r.ratio * 100).toFixed(0)} % | ${r.rawLatency.toFixed(1)} | ${r.spaneLatency.toFixed(1)} |`),
    ...skipped.map((s) => `\n${s}`),
  ];
  console.log(out.join('\n'));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
