/**
 * One chaos worker process: an engine with workers on the shared prefix and the chaos database,
 * started by test/chaos/run.ts (`node --import tsx test/chaos/worker.ts`) and SIGKILLed by it at
 * random moments. Configuration comes from the environment the runner sets. Tells the runner
 * `{ type: 'ready' }` over IPC once its workers are connected.
 */
import postgres from 'postgres';
import { DrizzleStore, NodeRegistry, WorkflowEngine } from '../../src/index.js';
import type { Logger } from '../../src/index.js';
import { chaosWorkflow, registerChaosExecutors } from './workflow.js';

function env(name: string): string {
  const v = process.env[name];
  if (v === undefined || v === '') throw new Error(`chaos worker: ${name} is not set`);
  return v;
}

const tag = `[worker ${process.pid}]`;
const logger: Logger = {
  warn: (m, meta) => process.stderr.write(`${tag} warn ${m} ${meta === undefined ? '' : JSON.stringify(meta)}\n`),
  error: (m, meta) => process.stderr.write(`${tag} error ${m} ${meta === undefined ? '' : JSON.stringify(meta)}\n`),
};

async function main(): Promise<void> {
  const url = env('CHAOS_DB_URL');
  const runs = postgres(url, { max: 4, onnotice: () => {} });
  const store = await DrizzleStore.postgres(url, { migrate: false });
  const registry = new NodeRegistry();
  registerChaosExecutors(registry, async (r) => {
    await runs`insert into chaos_runs (run_id, execution_id, node_id, attempt, job_id, pid, started_at)
      values (${r.runId}, ${r.executionId}, ${r.nodeId}, ${r.attempt}, ${r.jobId}, ${r.pid}, ${r.startedAt})`;
  });
  const engine = new WorkflowEngine({
    registry,
    store,
    connection: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    config: {
      prefix: env('CHAOS_PREFIX'),
      lockDuration: Number(env('CHAOS_LOCK_MS')),
      stalledInterval: Number(env('CHAOS_STALLED_MS')),
      maxStalledCount: Number(env('CHAOS_MAX_STALLED')),
      // The Redis-loss phase (test/chaos/redis-loss.ts) sets how often the reconciler looks.
      ...(process.env['CHAOS_RECONCILE_MS'] === undefined ? {} : { reconcileIntervalMs: Number(process.env['CHAOS_RECONCILE_MS']) }),
      ...(process.env['CHAOS_RECONCILE_GRACE_MS'] === undefined ? {} : { reconcileGraceMs: Number(process.env['CHAOS_RECONCILE_GRACE_MS']) }),
    },
    logger,
  });
  await engine.registerWorkflow(chaosWorkflow());
  engine.startWorkers(Number(env('CHAOS_CONCURRENCY')));
  await engine.waitUntilReady();
  process.send?.({ type: 'ready', pid: process.pid });

  // A polite stop (end of the run): drain, close, exit. The kills are SIGKILL and skip all this.
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await engine.close();
    await store.close();
    await runs.end({ timeout: 5 });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('disconnect', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`${tag} failed to start: ${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
