/**
 * Chaos phase 2 (run by test/chaos/run.ts after the kill phase): Redis restarts without
 * persistence under load, and the engines' reconcilers must bring every execution home.
 *
 * 1. Starts a disposable redis-server (temp dir, free port, `--save "" --appendonly no`; never the
 *    shared one), a fresh PostgreSQL database for the DrizzleStore, and CHAOS_WORKERS worker
 *    processes (test/chaos/worker.ts) with the reconciler every CHAOS_RECONCILE_MS and a grace of
 *    CHAOS_RECONCILE_GRACE_MS.
 * 2. Enqueues CHAOS_LOSS_EXECUTIONS executions of the 12-node chaos DAG; once a third of them
 *    completed, SIGKILLs the redis-server and starts it again on the same port: every queued,
 *    delayed and active job is gone. No pause, resume or other help is given.
 * 3. Waits until every execution is completed (or nothing completes for 60 s), then checks:
 *    0 stuck (every execution completed), 0 lost (12 node results each, the right value at `end`),
 *    0 joins twice (join1, join2 and end ran once each), and that any other node that ran twice
 *    had its first run start before the restart (it was queued or running when the data went).
 *    Reports the recovery time: restart → every execution completed.
 *
 * Environment: CHAOS_LOSS_EXECUTIONS [300], CHAOS_RECONCILE_MS [5000], CHAOS_RECONCILE_GRACE_MS
 * [3000], and CHAOS_WORKERS, CHAOS_CONCURRENCY, CHAOS_LOCK_MS, CHAOS_STALLED_MS, CHAOS_MAX_STALLED
 * as in run.ts.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { DrizzleStore, NodeRegistry, WorkflowEngine } from '../../src/index.js';
import { POSTGRES_ADMIN_URL } from '../contract/databases.js';
import { startDisposableRedis } from '../fixtures/disposable-redis.js';
import type { DisposableRedis } from '../fixtures/disposable-redis.js';
import { CHAOS_RUNS_DDL, chaosWorkflow, expectedEnd, JOIN_NODES, NODE_IDS, registerChaosExecutors, WORKFLOW_ID } from './workflow.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got '${raw}'`);
  return n;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs the phase; returns its Markdown report and whether every check passed. */
export async function redisLossPhase(log: (m: string) => void): Promise<{ ok: boolean; report: string[] }> {
  const EXECUTIONS = envInt('CHAOS_LOSS_EXECUTIONS', 300);
  const WORKERS = envInt('CHAOS_WORKERS', 2);
  const RECONCILE_MS = envInt('CHAOS_RECONCILE_MS', 5000);
  const GRACE_MS = envInt('CHAOS_RECONCILE_GRACE_MS', 3000);
  const suffix = randomUUID().replaceAll('-', '').slice(0, 10);
  const dbName = `spane_chaos_loss_${suffix}`;
  const prefix = `{chaos-loss-${suffix}}`;
  const admin = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  await admin.end({ timeout: 5 });
  const dbUrl = new URL(POSTGRES_ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  const url = dbUrl.toString();

  const failures: string[] = [];
  const children: ChildProcess[] = [];
  let redis: DisposableRedis | undefined;
  let store: DrizzleStore | undefined;
  let engine: WorkflowEngine | undefined;
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  let keepDb = false;
  try {
    redis = await startDisposableRedis();
    log(`redis-loss phase: disposable redis-server pid ${redis.pid} on port ${redis.port}, database ${dbName}`);
    store = await DrizzleStore.postgres(url);
    await sql.unsafe(CHAOS_RUNS_DDL);
    const registry = new NodeRegistry();
    registerChaosExecutors(registry, async () => {
      throw new Error('the producer runs no nodes');
    });
    engine = new WorkflowEngine({ registry, store, connection: redis.url, config: { prefix, events: false } });
    await engine.registerWorkflow(chaosWorkflow());

    const env = {
      ...process.env,
      CHAOS_DB_URL: url,
      CHAOS_PREFIX: prefix,
      REDIS_URL: redis.url,
      CHAOS_LOCK_MS: process.env['CHAOS_LOCK_MS'] ?? '4000',
      CHAOS_STALLED_MS: process.env['CHAOS_STALLED_MS'] ?? '3000',
      CHAOS_MAX_STALLED: process.env['CHAOS_MAX_STALLED'] ?? '3',
      CHAOS_CONCURRENCY: process.env['CHAOS_CONCURRENCY'] ?? '10',
      CHAOS_RECONCILE_MS: String(RECONCILE_MS),
      CHAOS_RECONCILE_GRACE_MS: String(GRACE_MS),
    };
    let ready = 0;
    for (let i = 0; i < WORKERS; i++) {
      const child = fork(path.join(here, 'worker.ts'), [], { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
      // Connection errors while Redis is away are expected; keep only the first lines.
      let lines = 0;
      child.stderr?.on('data', (chunk: Buffer) => {
        if ((lines += 1) <= 5) process.stderr.write(`  [loss worker ${child.pid}] ${chunk.toString().trim().slice(0, 300)}\n`);
      });
      child.on('message', (m: unknown) => void ((m as { type?: string })?.type === 'ready' && ready++));
      children.push(child);
    }
    for (const deadline = Date.now() + 60_000; ready < WORKERS; await sleep(50)) if (Date.now() > deadline) throw new Error('loss workers did not start');

    const started = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < EXECUTIONS; i += 50) {
      const items = Array.from({ length: Math.min(50, EXECUTIONS - i) }, (_, j) => ({ workflowId: WORKFLOW_ID, initialData: { n: i + j } }));
      ids.push(...(await engine.enqueueBulkWorkflows(items)));
    }
    const completed = async () => Number((await sql<{ n: string }[]>`select count(*) as n from spane.executions where status = 'completed'`)[0]!.n);
    while ((await completed()) < EXECUTIONS / 3) await sleep(50);
    const atLoss = await completed();
    const oldPid = redis.pid;
    await redis.restart();
    const restartedAt = Date.now();
    log(`redis-loss phase: restarted redis-server empty (pid ${oldPid} → ${redis.pid}) with ${atLoss} of ${EXECUTIONS} executions completed`);

    let last = -1;
    let lastChange = Date.now();
    let done = atLoss;
    while (done < EXECUTIONS) {
      await sleep(100);
      done = await completed();
      if (done !== last) {
        last = done;
        lastChange = Date.now();
      }
      if (Date.now() - lastChange > 60_000) {
        failures.push(`no execution completed for 60 s: ${done} of ${EXECUTIONS} completed`);
        break;
      }
    }
    const recoveryMs = Date.now() - restartedAt;
    log(`redis-loss phase: ${done} of ${EXECUTIONS} completed, ${(recoveryMs / 1000).toFixed(1)} s after the restart`);
    await sleep(500); // let the last jobs finish in BullMQ

    // Checks.
    const stuck = EXECUTIONS - done;
    if (stuck > 0) failures.push(`${stuck} executions stuck (not completed)`);
    const ends = await sql<{ execution_id: string; n: number; v: string | null; results: string }[]>`
      select e.execution_id, (e.initial_data->>'n')::int as n,
             (select r.data->>'v' from spane.node_results r where r.execution_id = e.execution_id and r.node_id = 'end') as v,
             (select count(*) from spane.node_results r where r.execution_id = e.execution_id) as results
      from spane.executions e`;
    const lost = ends.filter((e) => Number(e.results) !== NODE_IDS.length || e.v === null || Number(e.v) !== expectedEnd(e.n));
    if (lost.length > 0)
      failures.push(
        `${lost.length} executions lost results or ended with a wrong value, e.g. ${lost
          .slice(0, 3)
          .map((e) => e.execution_id)
          .join(', ')}`,
      );
    const runs = await sql<{ execution_id: string; node_id: string; n: string; first: string }[]>`
      select execution_id, node_id, count(*) as n, min(started_at) as first from chaos_runs group by execution_id, node_id`;
    const twice = runs.filter((r) => Number(r.n) > 1);
    const joinsTwice = twice.filter((r) => (JOIN_NODES as readonly string[]).includes(r.node_id));
    const unexplained = twice.filter((r) => Number(r.first) > restartedAt);
    if (joinsTwice.length > 0)
      failures.push(
        `${joinsTwice.length} joins ran more than once, e.g. ${joinsTwice
          .slice(0, 3)
          .map((r) => `${r.execution_id}/${r.node_id}`)
          .join(', ')}`,
      );
    if (unexplained.length > 0) failures.push(`${unexplained.length} nodes ran twice although their first run started after the restart`);
    if (ids.length !== EXECUTIONS) failures.push(`only ${ids.length} executions were enqueued`);

    const report = [
      '',
      '## Phase 2: Redis restarts without persistence',
      '',
      `Disposable redis-server (\`--save "" --appendonly no\`), SIGKILLed and started again empty once a third of the executions completed; ${WORKERS} worker processes, reconcileIntervalMs ${RECONCILE_MS}, reconcileGraceMs ${GRACE_MS}; PostgreSQL store. No pause/resume or other help.`,
      '',
      '| Figure | Value |',
      '|---|---:|',
      `| executions | ${EXECUTIONS} |`,
      `| completed at the restart | ${atLoss} |`,
      `| stuck (not completed) | ${stuck} |`,
      `| lost (missing results or wrong value at \`end\`) | ${lost.length} |`,
      `| joins that ran twice | ${joinsTwice.length} |`,
      `| other nodes that ran twice (queued or running when the data went) | ${twice.length - joinsTwice.length} |`,
      `| recovery: restart → every execution completed | ${stuck > 0 ? `never (${stuck} stuck; gave up ${(recoveryMs / 1000).toFixed(0)} s after the restart)` : `${(recoveryMs / 1000).toFixed(2)} s`} |`,
      `| wall time, first enqueue → restart | ${((restartedAt - started) / 1000).toFixed(2)} s |`,
      '',
      failures.length === 0 ? 'All checks passed.' : failures.map((f) => `- FAILED: ${f}`).join('\n'),
    ];
    if (failures.length > 0) keepDb = true;
    return { ok: failures.length === 0, report };
  } catch (err) {
    keepDb = true;
    throw err;
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    // Up to 15 s for a polite stop, then SIGKILL (timers cleared, so nothing keeps the process up).
    const exited = (c: ChildProcess) =>
      new Promise<void>((resolve) => {
        if (c.exitCode !== null || c.signalCode !== null) return resolve();
        const timer = setTimeout(resolve, 15_000);
        c.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    await Promise.all(children.map(exited));
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await engine?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    await sql.end({ timeout: 5 });
    await redis?.stop();
    if (keepDb) log(`redis-loss phase: kept database ${dbName} for inspection`);
    else {
      const conn = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => {} });
      await conn.unsafe(`drop database if exists "${dbName}" with (force)`);
      await conn.end({ timeout: 5 });
    }
  }
}

// `tsx test/chaos/redis-loss.ts` runs this phase alone.
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  redisLossPhase((m) => process.stderr.write(`[chaos +${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}\n`)).then(
    ({ ok, report }) => {
      process.stdout.write(`${report.join('\n')}\n`);
      process.exit(ok ? 0 : 1);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
