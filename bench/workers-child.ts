/**
 * One worker process of bench/workers.ts (not meant to be run by hand). Started by the parent as
 * `node --import tsx bench/workers-child.ts` with its settings in the environment:
 *
 * - WORKERS_CHILD_MODE: `spane` (a WorkflowEngine on DrizzleStore.postgres calling startWorkers)
 *   or `raw` (a BullMQ Worker whose job for step i adds step i + 1 of its chain, as in
 *   bench/redis-rows.ts; the last step of a chain increments `<prefix>:bench-done`).
 * - WORKERS_CHILD_PREFIX, WORKERS_CHILD_CONCURRENCY, WORKERS_CHILD_PG_URL (spane), REDIS_URL.
 *
 * Prints `ready` on stdout once its workers are connected. Closes and exits on SIGTERM, and when
 * its stdin ends (the parent went away), so it cannot outlive the bench.
 */
import { Queue, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { DrizzleStore, NodeRegistry, WorkflowEngine } from '../src/index.js';
import type { Logger } from '../src/index.js';
import { spaneConfigExtras } from './lib.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const MODE = process.env['WORKERS_CHILD_MODE'];
const PREFIX = process.env['WORKERS_CHILD_PREFIX'] ?? '';
const CONCURRENCY = Number(process.env['WORKERS_CHILD_CONCURRENCY'] ?? '50');
const PG_URL = process.env['WORKERS_CHILD_PG_URL'] ?? '';
/** SPANE's defaults, given to the raw side too. */
const REMOVE_ON_COMPLETE = { count: 1000, age: 3600 };
const REMOVE_ON_FAIL = { count: 5000, age: 7 * 24 * 3600 };

function log(message: string): void {
  process.stderr.write(`[workers-child ${process.pid}] ${message}\n`);
}

interface RawData {
  chain: string;
  step: number;
  length: number;
}

async function startRaw(): Promise<() => Promise<void>> {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue<RawData>('chain', { connection, prefix: PREFIX, defaultJobOptions: { removeOnComplete: REMOVE_ON_COMPLETE, removeOnFail: REMOVE_ON_FAIL } });
  const worker = new Worker<RawData>(
    'chain',
    async (job: Job<RawData>) => {
      const { chain, step, length } = job.data;
      if (step + 1 < length) await queue.add('step', { chain, step: step + 1, length });
      else await connection.incr(`${PREFIX}:bench-done`);
      return { step: step + 1 };
    },
    { connection, prefix: PREFIX, concurrency: CONCURRENCY, removeOnComplete: REMOVE_ON_COMPLETE, removeOnFail: REMOVE_ON_FAIL },
  );
  worker.on('error', (err) => log(`raw worker error: ${err.message}`));
  worker.on('failed', (job, err) => log(`raw job ${job?.id} failed: ${err.message}`));
  await worker.waitUntilReady();
  return async () => {
    await worker.close();
    await queue.close();
    await connection.quit().catch(() => connection.disconnect());
  };
}

async function startSpane(): Promise<() => Promise<void>> {
  const logger: Logger = { warn: (m) => log(`warn ${m}`), error: (m) => log(`error ${m}`) };
  const registry = new NodeRegistry();
  registry.register('step', async (ctx) => ({ success: true, data: { step: ((ctx.inputData as { step?: number } | undefined)?.step ?? 0) + 1 } }));
  // The parent ran the migrations before starting any child.
  const store = await DrizzleStore.postgres(PG_URL, { migrate: false });
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const engine = new WorkflowEngine({ registry, store, connection, config: { prefix: PREFIX, ...spaneConfigExtras() }, logger });
  engine.startWorkers(CONCURRENCY);
  await engine.waitUntilReady();
  return async () => {
    await engine.close();
    await connection.quit().catch(() => connection.disconnect());
    await store.close();
  };
}

async function main(): Promise<void> {
  if (MODE !== 'spane' && MODE !== 'raw') throw new Error(`WORKERS_CHILD_MODE must be spane or raw, got '${String(MODE)}'`);
  if (PREFIX === '') throw new Error('WORKERS_CHILD_PREFIX is required');
  if (MODE === 'spane' && PG_URL === '') throw new Error('WORKERS_CHILD_PG_URL is required in spane mode');
  const close = MODE === 'raw' ? await startRaw() : await startSpane();
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    // A close that hangs must not keep the process alive.
    setTimeout(() => process.exit(1), 10_000).unref();
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`close after ${why} failed: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.stdin.on('end', () => stop('stdin end'));
  process.stdin.resume();
  process.stdout.write('ready\n');
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
