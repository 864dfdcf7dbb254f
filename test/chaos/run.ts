/**
 * Chaos run: crash safety across processes, on PostgreSQL.
 *
 *   npm run chaos            (Redis on 127.0.0.1:6379, PostgreSQL on 127.0.0.1:5432; see below)
 *
 * 1. Creates a fresh database `spane_chaos_<random>`, migrates it (DrizzleStore) and adds a
 *    `chaos_runs` table in which every executor invocation is recorded (execution, node,
 *    attempt, job id, pid, start time, run id) before it does its 5–50 ms of work.
 * 2. Starts CHAOS_WORKERS worker processes (test/chaos/worker.ts): one engine each, a shared
 *    queue prefix, the chaos database, short stall settings, concurrency CHAOS_CONCURRENCY.
 * 3. This process is the producer: its engine starts no workers. It enqueues CHAOS_EXECUTIONS
 *    executions of a 12-node DAG with three joins and a branch (test/chaos/workflow.ts), in
 *    batches, while it SIGKILLs a random ready worker CHAOS_KILLS times, 1–3 s apart, and starts
 *    a replacement after each kill.
 * 4. Waits (up to CHAOS_TIMEOUT_MS) until every execution is completed, then checks:
 *    - every execution is `completed`, with `completed_at` set;
 *    - `spane.node_results` has exactly executions × 12 rows (one per (execution, node) by its
 *      primary key), the chosen branch completed and the other skipped, and `end` holds the
 *      value the DAG must compute from the execution's input (data passed intact through joins);
 *    - executor runs: a (execution, node) may run more than once only when a kill interrupted
 *      the earlier run: every run but the last must come from a pid that was SIGKILLed after the
 *      run started, the stored result must come from the last run, all runs are attempt 1 (no
 *      retries are configured), and skipped nodes never ran;
 *    - events: at most one `workflow:completed` per execution and at most one `node:completed`
 *      per (execution, node) (delivery is at most once, so fewer is not an error);
 *    - BullMQ: no failed node jobs, nothing left waiting, active or delayed, an empty DLQ;
 *    - recovery: for each kill, the node jobs the killed process held (the `stalled` events of
 *      the node queue, attributed to the kill through the pid of the job's last run), the time
 *      until BullMQ declared them stalled, and the time until another worker picked them up.
 * 5. Prints a Markdown summary on stdout (progress on stderr), drops the database and the Redis
 *    keys (the database is kept when a check fails, or with CHAOS_KEEP=1), and exits 1 when any
 *    check fails.
 *
 * Environment (defaults in brackets): REDIS_URL [redis://127.0.0.1:6379], SPANE_TEST_POSTGRES_URL
 * [postgres://postgres@127.0.0.1:5432/postgres] (admin database used to create the chaos one),
 * CHAOS_EXECUTIONS [500], CHAOS_BATCH [50], CHAOS_ENQUEUE_INTERVAL_MS [800], CHAOS_WORKERS [2],
 * CHAOS_CONCURRENCY [10], CHAOS_KILLS [5], CHAOS_KILL_GAP_MIN_MS [1000], CHAOS_KILL_GAP_MAX_MS
 * [3000], CHAOS_LOCK_MS [4000], CHAOS_STALLED_MS [3000], CHAOS_MAX_STALLED [3],
 * CHAOS_TIMEOUT_MS [300000], CHAOS_KEEP [0], CHAOS_REPAIR [1] (after the checks, try pause + resume
 * on executions that did not complete, and report whether that brought them home; the verdict is
 * unchanged), CHAOS_REDIS_LOSS [1] (then run phase 2, test/chaos/redis-loss.ts: a disposable
 * Redis restarted without persistence under load; its own settings are documented there).
 * Results and the findings so far: docs/reliability.md.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { DLQ_QUEUE, DrizzleStore, NODE_QUEUE, NodeRegistry, nodeJobId, WorkflowEngine } from '../../src/index.js';
import type { SpaneEvent } from '../../src/index.js';
import { POSTGRES_ADMIN_URL } from '../contract/databases.js';
import { CHAOS_RUNS_DDL, chaosWorkflow, expectedBranch, expectedEnd, JOIN_NODES, NODE_IDS, registerChaosExecutors, WORKFLOW_ID } from './workflow.js';
import { deleteKeys } from '../helpers.js';
import { redisLossPhase } from './redis-loss.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const EXECUTIONS = envInt('CHAOS_EXECUTIONS', 500);
const BATCH = envInt('CHAOS_BATCH', 50);
const ENQUEUE_INTERVAL_MS = envInt('CHAOS_ENQUEUE_INTERVAL_MS', 800);
const WORKERS = envInt('CHAOS_WORKERS', 2);
const CONCURRENCY = envInt('CHAOS_CONCURRENCY', 10);
const KILLS = envInt('CHAOS_KILLS', 5, 0);
const KILL_GAP_MIN_MS = envInt('CHAOS_KILL_GAP_MIN_MS', 1000);
const KILL_GAP_MAX_MS = envInt('CHAOS_KILL_GAP_MAX_MS', 3000);
const LOCK_MS = envInt('CHAOS_LOCK_MS', 4000);
const STALLED_MS = envInt('CHAOS_STALLED_MS', 3000);
const MAX_STALLED = envInt('CHAOS_MAX_STALLED', 3, 0);
const TIMEOUT_MS = envInt('CHAOS_TIMEOUT_MS', 300_000);
const KEEP = process.env['CHAOS_KEEP'] === '1';
/** Give up waiting early when nothing completes for this long (a stuck execution will not recover). */
const NO_PROGRESS_MS = Math.max(60_000, 4 * (LOCK_MS + STALLED_MS));

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const WORKER_SCRIPT = path.join(here, 'worker.ts');

function envInt(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got '${raw}'`);
  return n;
}

const t0 = Date.now();
function log(message: string): void {
  process.stderr.write(`[chaos +${((Date.now() - t0) / 1000).toFixed(1)}s] ${message}\n`);
}
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const randomBetween = (min: number, max: number) => min + Math.random() * (max - min);

// ---------------------------------------------------------------------------------------------
// Worker processes

interface WorkerProc {
  child: ChildProcess;
  pid: number;
  spawnedAt: number;
  readyAt?: number;
  exitedAt?: number;
  exit?: string;
  killedAt?: number;
  stderrLines: string[];
}

const workers: WorkerProc[] = [];

function spawnWorker(env: Record<string, string>): WorkerProc {
  const child = fork(WORKER_SCRIPT, [], {
    cwd: repoRoot,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  if (child.pid === undefined) throw new Error('could not start a chaos worker');
  const w: WorkerProc = { child, pid: child.pid, spawnedAt: Date.now(), stderrLines: [] };
  child.on('message', (m: unknown) => {
    if ((m as { type?: string })?.type === 'ready') {
      w.readyAt = Date.now();
      log(`worker ${w.pid} ready after ${w.readyAt - w.spawnedAt} ms`);
    }
  });
  child.on('exit', (code, signal) => {
    w.exitedAt = Date.now();
    w.exit = signal ?? `code ${code}`;
    if (w.killedAt === undefined && !stopping) log(`worker ${w.pid} exited unexpectedly (${w.exit})`);
  });
  let partial = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      w.stderrLines.push(line);
      process.stderr.write(`  ${line}\n`);
    }
  });
  workers.push(w);
  return w;
}

let stopping = false;

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

async function stopWorkers(): Promise<void> {
  stopping = true;
  const alive = workers.filter((w) => w.exitedAt === undefined);
  for (const w of alive) w.child.kill('SIGTERM');
  try {
    await waitFor(() => alive.every((w) => w.exitedAt !== undefined), 15_000, 'workers to stop');
  } catch {
    for (const w of alive) if (w.exitedAt === undefined) w.child.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------
// Run

interface Kill {
  n: number;
  pid: number;
  at: number;
  /** Node jobs in the active list right after the process died, with the token of the lock on each. */
  active: { jobId: string; token: string | null }[];
}

/** One job the killed process held, and what became of it. */
interface Orphan {
  jobId: string;
  /** When BullMQ's stalled-job check moved it back to wait. */
  stalledAt?: number;
  /** When a worker picked it up again. */
  pickedUpAt?: number;
}

interface RunRow {
  id: string;
  run_id: string;
  execution_id: string;
  node_id: string;
  attempt: number;
  job_id: string;
  pid: number;
  started_at: string;
}

interface ResultRow {
  execution_id: string;
  n: number | null;
  status: string;
  completed_at: string | null;
  node_id: string | null;
  r_status: string | null;
  v: string | null;
  run_id: string | null;
  attempts: number | null;
}

function streamTime(id: string): number {
  return Number(id.split('-')[0]);
}

function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function secs(ms: number): string {
  return Number.isFinite(ms) ? (ms / 1000).toFixed(2) : '–';
}

async function main(): Promise<number> {
  const suffix = randomUUID().replaceAll('-', '').slice(0, 10);
  const dbName = `spane_chaos_${suffix}`;
  const prefix = `{chaos-${suffix}}`;
  const admin = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  await admin.end({ timeout: 5 });
  const dbUrl = new URL(POSTGRES_ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  const url = dbUrl.toString();
  log(`database ${dbName}, Redis prefix ${prefix}`);

  const failures: string[] = [];
  const notes: string[] = [];
  const sql = postgres(url, { max: 4, onnotice: () => {} });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  let store: DrizzleStore | undefined;
  let engine: WorkflowEngine | undefined;
  let queueEvents: QueueEvents | undefined;
  let nodeQueue: Queue | undefined;
  let dlqQueue: Queue | undefined;
  let keepDb = KEEP;
  try {
    store = await DrizzleStore.postgres(url); // migrates
    await sql.unsafe(CHAOS_RUNS_DDL);

    const registry = new NodeRegistry();
    registerChaosExecutors(registry, async () => {
      throw new Error('the producer runs no nodes');
    });
    engine = new WorkflowEngine({
      registry,
      store,
      connection: REDIS_URL,
      config: { prefix, lockDuration: LOCK_MS, stalledInterval: STALLED_MS, maxStalledCount: MAX_STALLED },
    });
    await engine.registerWorkflow(chaosWorkflow());

    // What BullMQ reports about node jobs: pickups, stalls, failures (times from the stream ids).
    const stalledEvents = new Map<string, number[]>();
    const activeEvents = new Map<string, number[]>();
    let stallCount = 0;
    const jobFailures: { jobId: string; reason: string; at: number }[] = [];
    const push = (m: Map<string, number[]>, k: string, v: number) => void (m.get(k) ?? m.set(k, []).get(k)!).push(v);
    queueEvents = new QueueEvents(NODE_QUEUE, { connection: { url: REDIS_URL }, prefix });
    queueEvents.on('error', (err) => log(`QueueEvents error: ${err.message}`));
    queueEvents.on('stalled', ({ jobId }, id) => {
      stallCount++;
      push(stalledEvents, jobId, streamTime(id));
    });
    queueEvents.on('active', ({ jobId }, id) => push(activeEvents, jobId, streamTime(id)));
    queueEvents.on('failed', ({ jobId, failedReason }, id) => void jobFailures.push({ jobId, reason: failedReason, at: streamTime(id) }));
    await queueEvents.waitUntilReady();
    nodeQueue = new Queue(NODE_QUEUE, { connection: redis, prefix });
    dlqQueue = new Queue(DLQ_QUEUE, { connection: redis, prefix });

    // SPANE's own events: completion and node results must be announced at most once.
    const completedEvents = new Map<string, number>();
    const nodeCompletedEvents = new Map<string, number>();
    engine.subscribe(
      (e: SpaneEvent) => {
        if (e.type === 'workflow:completed') completedEvents.set(e.executionId, (completedEvents.get(e.executionId) ?? 0) + 1);
        else if (e.type === 'node:completed') {
          const k = `${e.executionId}/${e.nodeId}`;
          nodeCompletedEvents.set(k, (nodeCompletedEvents.get(k) ?? 0) + 1);
        }
      },
      { types: ['workflow:completed', 'node:completed'] },
    );
    await engine.eventsReady();

    const workerEnv = {
      CHAOS_DB_URL: url,
      CHAOS_PREFIX: prefix,
      REDIS_URL,
      CHAOS_LOCK_MS: String(LOCK_MS),
      CHAOS_STALLED_MS: String(STALLED_MS),
      CHAOS_MAX_STALLED: String(MAX_STALLED),
      CHAOS_CONCURRENCY: String(CONCURRENCY),
    };
    for (let i = 0; i < WORKERS; i++) spawnWorker(workerEnv);
    await waitFor(() => workers.every((w) => w.readyAt !== undefined), 60_000, 'the workers to start');

    // Producer and killer run side by side, so kills land while work is in flight.
    const started = Date.now();
    const executionIds: string[] = [];
    const inputs = new Map<string, number>();
    const producer = (async () => {
      for (let i = 0; i < EXECUTIONS; i += BATCH) {
        const items = Array.from({ length: Math.min(BATCH, EXECUTIONS - i) }, (_, j) => ({ workflowId: WORKFLOW_ID, initialData: { n: i + j } }));
        const ids = await engine!.enqueueBulkWorkflows(items);
        ids.forEach((id, j) => {
          executionIds.push(id);
          inputs.set(id, i + j);
        });
        if (i + BATCH < EXECUTIONS) await sleep(ENQUEUE_INTERVAL_MS);
      }
      log(`enqueued ${executionIds.length} executions in ${Date.now() - started} ms`);
    })();
    const kills: Kill[] = [];
    const killer = (async () => {
      for (let k = 1; k <= KILLS; k++) {
        await sleep(randomBetween(KILL_GAP_MIN_MS, KILL_GAP_MAX_MS));
        await waitFor(() => workers.some((w) => w.readyAt !== undefined && w.killedAt === undefined && w.exitedAt === undefined), 60_000, 'a ready worker');
        const candidates = workers.filter((w) => w.readyAt !== undefined && w.killedAt === undefined && w.exitedAt === undefined);
        const victim = candidates[Math.floor(Math.random() * candidates.length)]!;
        const at = Date.now();
        victim.killedAt = at;
        victim.child.kill('SIGKILL');
        await waitFor(() => victim.exitedAt !== undefined, 5000, `worker ${victim.pid} to die`);
        // Which jobs the dead process held: its locks outlive it by up to lockDuration, so right
        // after its death the active list still shows them with its BullMQ worker id in the lock
        // token (`${workerId}:${n}`); the survivors' jobs carry their own ids.
        const activeIds = await redis.lrange(`${prefix}:${NODE_QUEUE}:active`, 0, -1);
        const tokens = activeIds.length === 0 ? [] : await redis.mget(activeIds.map((id) => `${prefix}:${NODE_QUEUE}:${id}:lock`));
        kills.push({ n: k, pid: victim.pid, at, active: activeIds.map((jobId, i) => ({ jobId, token: tokens[i] ?? null })) });
        log(`kill ${k}: SIGKILL worker ${victim.pid} (${activeIds.length} node jobs active in the queue, died after ${victim.exitedAt! - at} ms)`);
        spawnWorker(workerEnv);
      }
    })();
    await Promise.all([producer, killer]);

    // Wait for the end.
    log('waiting for every execution to complete');
    let lastCompleted = -1;
    let lastChange = Date.now();
    let lastLog = 0;
    let counts: Record<string, number> = {};
    for (;;) {
      const rows = await sql<{ status: string; n: string }[]>`select status, count(*) as n from spane.executions group by status`;
      counts = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
      const completed = counts['completed'] ?? 0;
      if (completed !== lastCompleted) {
        lastCompleted = completed;
        lastChange = Date.now();
      }
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        log(`executions by status: ${JSON.stringify(counts)}`);
      }
      if (completed === EXECUTIONS) break;
      if (Date.now() - started > TIMEOUT_MS) {
        failures.push(`timed out after ${TIMEOUT_MS} ms: ${JSON.stringify(counts)}`);
        break;
      }
      if (Date.now() - lastChange > NO_PROGRESS_MS) {
        failures.push(`no execution completed for ${NO_PROGRESS_MS / 1000} s: ${JSON.stringify(counts)}`);
        break;
      }
      await sleep(250);
    }
    const wallMs = Date.now() - started;
    log(`done waiting after ${(wallMs / 1000).toFixed(1)} s: ${JSON.stringify(counts)}`);
    // Let the last node jobs finish in BullMQ (the completion is written inside the last job).
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && (await nodeQueue.getActiveCount()) > 0;) await sleep(100);
    await sleep(500);

    // ----------------------------------------------------------------------------------------
    // Checks

    // Executions and results.
    const completedAtMissing = Number((await sql<{ n: string }[]>`select count(*) as n from spane.executions where status = 'completed' and completed_at is null`)[0]!.n);
    if ((counts['completed'] ?? 0) !== EXECUTIONS) failures.push(`${EXECUTIONS - (counts['completed'] ?? 0)} of ${EXECUTIONS} executions are not completed`);
    if (completedAtMissing > 0) failures.push(`${completedAtMissing} completed executions have no completed_at`);
    if (executionIds.length !== EXECUTIONS) failures.push(`only ${executionIds.length} executions were enqueued`);

    const rows = await sql<ResultRow[]>`
      select e.execution_id, (e.initial_data->>'n')::int as n, e.status, e.completed_at,
             r.node_id, r.status as r_status, r.data->>'v' as v, r.data->>'runId' as run_id, r.attempts
      from spane.executions e left join spane.node_results r using (execution_id)`;
    const resultRows = rows.filter((r) => r.node_id !== null).length;
    if (resultRows !== EXECUTIONS * NODE_IDS.length)
      failures.push(`node_results has ${resultRows} rows, expected ${EXECUTIONS} × ${NODE_IDS.length} = ${EXECUTIONS * NODE_IDS.length}`);
    const byExec = new Map<string, ResultRow[]>();
    for (const r of rows) byExec.set(r.execution_id, [...(byExec.get(r.execution_id) ?? []), r]);
    const wrongValue: string[] = [];
    const wrongShape: string[] = [];
    const wrongAttempts: string[] = [];
    for (const [id, rs] of byExec) {
      const n = rs[0]!.n;
      if (n === null) {
        wrongShape.push(`${id}: no initial n`);
        continue;
      }
      const branch = expectedBranch(n);
      const results = new Map(rs.filter((r) => r.node_id !== null).map((r) => [r.node_id!, r]));
      if (rs[0]!.status !== 'completed') continue; // reported above; details below
      for (const nodeId of NODE_IDS) {
        const r = results.get(nodeId);
        const skipped = nodeId === (branch === 'x' ? 'y' : 'x');
        const want = skipped ? 'skipped' : 'completed';
        if (r?.r_status !== want) wrongShape.push(`${id}/${nodeId}: ${r?.r_status ?? 'no result'}, expected ${want}`);
        else if (!skipped && r.attempts !== 1) wrongAttempts.push(`${id}/${nodeId}: attempts ${r.attempts}`);
      }
      const end = results.get('end');
      if (end?.v === undefined || Number(end.v) !== expectedEnd(n)) wrongValue.push(`${id}: end = ${end?.v ?? 'none'}, expected ${expectedEnd(n)}`);
    }
    if (wrongShape.length > 0) failures.push(`${wrongShape.length} node results with the wrong status, e.g. ${wrongShape.slice(0, 3).join('; ')}`);
    if (wrongValue.length > 0) failures.push(`${wrongValue.length} executions end with the wrong value, e.g. ${wrongValue.slice(0, 3).join('; ')}`);
    if (wrongAttempts.length > 0) failures.push(`${wrongAttempts.length} results are not from attempt 1, e.g. ${wrongAttempts.slice(0, 3).join('; ')}`);

    // Executor runs against kills.
    const runs = await sql<RunRow[]>`select * from chaos_runs order by id`;
    const killByPid = new Map(kills.map((k) => [k.pid, k]));
    const runsByKey = new Map<string, RunRow[]>();
    for (const r of runs) {
      const k = `${r.execution_id}/${r.node_id}`;
      runsByKey.set(k, [...(runsByKey.get(k) ?? []), r]);
    }
    const storedRun = new Map(rows.filter((r) => r.node_id !== null).map((r) => [`${r.execution_id}/${r.node_id}`, r]));
    let reRunKeys = 0;
    let interruptedRuns = 0;
    const interruptedByKill = new Map<number, number>();
    const runToKillGaps: number[] = [];
    const unexplained: string[] = [];
    for (const [key, list] of runsByKey) {
      const stored = storedRun.get(key);
      if (stored?.r_status === 'skipped') unexplained.push(`${key}: skipped node ran ${list.length} time(s)`);
      if (list.some((r) => r.attempt !== 1)) unexplained.push(`${key}: run with attempt ${list.map((r) => r.attempt).join(',')}`);
      const last = list.at(-1)!;
      if (stored?.r_status === 'completed' && stored.run_id !== last.run_id) {
        const which = list.findIndex((r) => r.run_id === stored.run_id);
        unexplained.push(`${key}: stored result is from run ${which + 1} of ${list.length} (${stored.run_id}), not the last one`);
      }
      if (list.length === 1) continue;
      reRunKeys++;
      for (const r of list.slice(0, -1)) {
        interruptedRuns++;
        const kill = killByPid.get(r.pid);
        if (kill === undefined || Number(r.started_at) > kill.at) {
          unexplained.push(`${key}: re-run although run ${r.run_id} (pid ${r.pid}, at ${r.started_at}) was not killed${kill === undefined ? '' : ` before ${kill.at}`}`);
          continue;
        }
        interruptedByKill.set(kill.n, (interruptedByKill.get(kill.n) ?? 0) + 1);
        runToKillGaps.push(kill.at - Number(r.started_at));
      }
    }
    let missingRuns = 0;
    for (const [key, r] of storedRun) if (r.r_status === 'completed' && !runsByKey.has(key)) missingRuns++;
    if (missingRuns > 0) unexplained.push(`${missingRuns} completed results without any recorded run`);
    if (unexplained.length > 0) failures.push(`${unexplained.length} run anomalies, e.g. ${unexplained.slice(0, 5).join('; ')}`);

    // Events.
    const doubleCompletions = [...completedEvents].filter(([, n]) => n > 1);
    const doubleNodeEvents = [...nodeCompletedEvents].filter(([, n]) => n > 1);
    if (doubleCompletions.length > 0) failures.push(`${doubleCompletions.length} executions announced workflow:completed more than once, e.g. ${doubleCompletions[0]![0]}`);
    if (doubleNodeEvents.length > 0) failures.push(`${doubleNodeEvents.length} nodes announced node:completed more than once, e.g. ${doubleNodeEvents[0]![0]}`);

    // BullMQ state.
    const jobCounts = await nodeQueue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
    const dlqCount = await dlqQueue.count();
    const failedJobs = await nodeQueue.getFailed(0, 50);
    for (const j of failedJobs) failures.push(`node job ${j.id} failed: ${j.failedReason} (stalledCounter ${j.stalledCounter}, attemptsStarted ${j.attemptsStarted})`);
    if (jobFailures.length > failedJobs.length)
      notes.push(
        `QueueEvents saw ${jobFailures.length} 'failed' events: ${jobFailures
          .slice(0, 5)
          .map((f) => `${f.jobId}: ${f.reason}`)
          .join('; ')}`,
      );
    for (const state of ['waiting', 'active', 'delayed', 'prioritized'] as const) {
      if ((jobCounts[state] ?? 0) > 0) failures.push(`${jobCounts[state]} node jobs left ${state}`);
    }
    if (dlqCount > 0) failures.push(`${dlqCount} DLQ items`);

    // Recovery. The killed process's jobs are the active jobs whose lock token carries its BullMQ
    // worker id; that id is the one whose jobs' latest runs (before the kill) came from its pid.
    const runsByJob = new Map<string, RunRow[]>();
    for (const r of runs) runsByJob.set(r.job_id, [...(runsByJob.get(r.job_id) ?? []), r]);
    const after = (times: readonly number[] | undefined, t: number) => (times ?? []).find((x) => x >= t);
    const explainedStalls = new Set<string>();
    const recoveries: number[] = [];
    const killRows: string[] = [];
    // BullMQ worker id → pid, by majority over every snapshot: a held job's latest run names the pid.
    const votes = new Map<string, Map<number, number>>();
    for (const k of kills) {
      for (const { jobId, token } of k.active) {
        // Only a run of the current delivery (started after the job's latest pickup) names the holder.
        const pickedUp = (activeEvents.get(jobId) ?? []).filter((t) => t <= k.at).at(-1) ?? 0;
        const last = (runsByJob.get(jobId) ?? []).filter((r) => Number(r.started_at) <= k.at).at(-1);
        if (token === null || last === undefined || Number(last.started_at) < pickedUp) continue;
        const wid = token.split(':')[0]!;
        const m = votes.get(wid) ?? votes.set(wid, new Map()).get(wid)!;
        m.set(last.pid, (m.get(last.pid) ?? 0) + 1);
      }
    }
    const pidOfWorker = new Map([...votes].map(([wid, m]) => [wid, [...m].sort((a, b) => b[1] - a[1])[0]![0]]));
    const claimed = new Set<string>();
    const seenBefore = new Set<string>();
    for (const k of kills) {
      const wids = new Set(k.active.flatMap((a) => (a.token === null ? [] : [a.token.split(':')[0]!])));
      let mine = [...wids].filter((w) => pidOfWorker.get(w) === k.pid);
      // A victim that had not started any executor yet: a worker id nobody else owns or had,
      // preferably one no earlier snapshot showed (dead processes' locks linger a few seconds).
      if (mine.length === 0) mine = [...wids].filter((w) => !pidOfWorker.has(w) && !claimed.has(w));
      if (mine.length > 1) mine = mine.filter((w) => !seenBefore.has(w));
      if (mine.length > 1) notes.push(`kill ${k.n}: several BullMQ worker ids could be pid ${k.pid}'s: ${mine.join(', ')}`);
      const workerId = mine.length === 1 ? mine[0] : undefined;
      if (workerId !== undefined) claimed.add(workerId);
      for (const w of wids) seenBefore.add(w);
      const held = workerId === undefined ? [] : k.active.filter((a) => a.token?.startsWith(`${workerId}:`));
      const orphans: Orphan[] = held.map(({ jobId }) => {
        const stalledAt = after(stalledEvents.get(jobId), k.at);
        const pickedUpAt = stalledAt === undefined ? undefined : after(activeEvents.get(jobId), stalledAt);
        if (stalledAt !== undefined) explainedStalls.add(`${jobId}@${stalledAt}`);
        return { jobId, ...(stalledAt === undefined ? {} : { stalledAt }), ...(pickedUpAt === undefined ? {} : { pickedUpAt }) };
      });
      const stalled = orphans.filter((o) => o.stalledAt !== undefined);
      const detect = stalled.map((o) => o.stalledAt! - k.at).sort((a, b) => a - b);
      const picked = stalled
        .filter((o) => o.pickedUpAt !== undefined)
        .map((o) => o.pickedUpAt! - k.at)
        .sort((a, b) => a - b);
      recoveries.push(...picked);
      if (picked.length < orphans.length) {
        notes.push(
          `kill ${k.n}: ${orphans.length - picked.length} of its ${orphans.length} jobs were not seen stalling and being picked up again (an event was missed?): ${orphans
            .filter((o) => o.pickedUpAt === undefined)
            .map((o) => o.jobId)
            .slice(0, 3)
            .join(', ')}`,
        );
      }
      if (workerId === undefined && k.active.length > 0) notes.push(`kill ${k.n}: could not tell which active jobs pid ${k.pid} held (none of them had a run from it yet)`);
      const execs = new Set(orphans.map((o) => o.jobId.split('__')[0]));
      const w = workers.find((x) => x.pid === k.pid);
      const alive = (w?.readyAt ?? Infinity) <= k.at ? `${secs(k.at - w!.readyAt!)} s` : '?';
      killRows.push(
        `| ${k.n} | ${k.pid} | ${new Date(k.at).toISOString().slice(11, 23)} | ${alive} | ${k.active.length} | ${orphans.length} | ${execs.size} | ${interruptedByKill.get(k.n) ?? 0} | ${secs(detect[0] ?? NaN)}–${secs(detect.at(-1) ?? NaN)} | ${secs(picked[0] ?? NaN)}–${secs(picked.at(-1) ?? NaN)} |`,
      );
    }
    const unexplainedStalls = [...stalledEvents].flatMap(([jobId, times]) => times.filter((t) => !explainedStalls.has(`${jobId}@${t}`)).map((t) => `${jobId}@${t}`));
    if (unexplainedStalls.length > 0)
      failures.push(`${unexplainedStalls.length} stalls of jobs no killed process held (false stalls?), e.g. ${unexplainedStalls.slice(0, 3).join(', ')}`);
    const sortedRecoveries = recoveries.sort((a, b) => a - b);
    const sortedGaps = runToKillGaps.sort((a, b) => a - b);
    const restarts = workers
      .filter((w) => w.readyAt !== undefined)
      .map((w) => w.readyAt! - w.spawnedAt)
      .sort((a, b) => a - b);
    const stderrNoise = workers.flatMap((w) => w.stderrLines.map((l) => `${w.pid}: ${l}`));

    // Stuck executions: their node results and job states.
    const stuck = [...byExec].filter(([, rs]) => rs[0]!.status !== 'completed');
    const stuckReport: string[] = [];
    for (const [id, rs] of stuck.slice(0, 10)) {
      stuckReport.push(`- execution ${id} (n = ${rs[0]!.n}, status ${rs[0]!.status})`);
      for (const nodeId of NODE_IDS) {
        const r = rs.find((x) => x.node_id === nodeId);
        const job = await nodeQueue.getJob(nodeJobId(id, nodeId));
        const state = job === undefined ? 'no job' : await job.getState();
        const jobInfo =
          job === undefined
            ? ''
            : ` attemptsMade ${job.attemptsMade}, attemptsStarted ${job.attemptsStarted}, stalledCounter ${job.stalledCounter}${job.failedReason ? `, failedReason '${job.failedReason}'` : ''}`;
        const nodeRuns = runsByKey.get(`${id}/${nodeId}`) ?? [];
        stuckReport.push(
          `  - ${nodeId}: result ${r?.r_status ?? 'none'}${r?.v == null ? '' : ` (v ${r.v})`}; job ${state}${jobInfo}; runs ${nodeRuns.map((x) => `pid ${x.pid}@${x.started_at}`).join(', ') || 'none'}`,
        );
      }
    }
    if (stuck.length > 0) keepDb = true;

    // Not part of the pass/fail verdict: does the operator's workaround (pause + resume, which
    // removes failed jobs of unsettled nodes and enqueues ready nodes that have no job) bring
    // the stuck executions home?
    const repair: string[] = [];
    if (stuck.length > 0 && process.env['CHAOS_REPAIR'] !== '0') {
      log(`trying pause + resume on ${stuck.length} stuck executions`);
      for (const [id] of stuck) {
        const paused = await engine.pauseWorkflow(id);
        const resumed = await engine.resumeWorkflow(id);
        if (!paused || !resumed) repair.push(`${id}: pause ${paused}, resume ${resumed}`);
      }
      const ids = stuck.map(([id]) => id);
      let left = ids;
      for (const deadline = Date.now() + Math.max(30_000, 3 * (LOCK_MS + STALLED_MS)); Date.now() < deadline && left.length > 0;) {
        await sleep(500);
        const done = await sql<{ execution_id: string }[]>`select execution_id from spane.executions where execution_id = any(${ids}) and status = 'completed'`;
        const doneSet = new Set(done.map((d) => d.execution_id));
        left = ids.filter((id) => !doneSet.has(id));
      }
      repair.unshift(`pause + resume completed ${ids.length - left.length} of ${ids.length} stuck executions${left.length > 0 ? `; still not completed: ${left.join(', ')}` : ''}`);
      for (const id of left) {
        const e = await store.getExecution(id);
        repair.push(
          `  - ${id}: ${e?.status}; results ${Object.entries(e?.nodeResults ?? {})
            .map(([n, r]) => `${n}=${r.status}`)
            .join(' ')}`,
        );
      }
    }

    // ----------------------------------------------------------------------------------------
    // Report

    const cpu = os.cpus();
    const out = [
      '## SPANE chaos run',
      '',
      `${new Date().toISOString()} · Node ${process.version} · ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown'}) · PostgreSQL store · prefix ${prefix} · database ${dbName}`,
      '',
      `Settings: ${EXECUTIONS} executions of a ${NODE_IDS.length}-node DAG (joins ${JOIN_NODES.join(', ')}; branch x|y) in batches of ${BATCH} every ${ENQUEUE_INTERVAL_MS} ms; ${WORKERS} worker processes × concurrency ${CONCURRENCY}; ${KILLS} SIGKILLs ${KILL_GAP_MIN_MS / 1000}–${KILL_GAP_MAX_MS / 1000} s apart; lockDuration ${LOCK_MS} ms, stalledInterval ${STALLED_MS} ms, maxStalledCount ${MAX_STALLED}.`,
      '',
      '| Figure | Value |',
      '|---|---:|',
      `| executions enqueued | ${executionIds.length} |`,
      `| completed | ${counts['completed'] ?? 0} |`,
      `| not completed (lost or stuck) | ${EXECUTIONS - (counts['completed'] ?? 0)} ${JSON.stringify(Object.fromEntries(Object.entries(counts).filter(([s]) => s !== 'completed')))} |`,
      `| completed without completed_at | ${completedAtMissing} |`,
      `| node_results rows (expected ${EXECUTIONS * NODE_IDS.length}) | ${resultRows} |`,
      `| wall time, first enqueue → all completed | ${secs(wallMs)} s |`,
      `| worker processes killed / started in all | ${kills.length} / ${workers.length} |`,
      `| executor runs recorded | ${runs.length} (expected without kills: ${EXECUTIONS * (NODE_IDS.length - 1)}) |`,
      `| (execution, node) pairs that ran more than once | ${reRunKeys} |`,
      `| interrupted runs (each from a killed pid, started before its kill) | ${interruptedRuns} |`,
      `| interrupted run started before the kill by (median / max) | ${sortedGaps.length === 0 ? '–' : `${pct(sortedGaps, 50)} ms / ${sortedGaps.at(-1)} ms`} |`,
      `| re-runs not explained by a kill | ${unexplained.length} |`,
      `| workflow:completed events >1 per execution / executions with 1 | ${doubleCompletions.length} / ${[...completedEvents.values()].filter((n) => n === 1).length} |`,
      `| node:completed events >1 per node | ${doubleNodeEvents.length} |`,
      `| node jobs stalled (BullMQ 'stalled' events) / not explained by a kill | ${stallCount} / ${unexplainedStalls.length} |`,
      `| node jobs failed / DLQ items | ${jobCounts['failed'] ?? 0} / ${dlqCount} |`,
      `| kill → stalled job picked up again: median / p95 / max | ${secs(pct(sortedRecoveries, 50))} s / ${secs(pct(sortedRecoveries, 95))} s / ${secs(sortedRecoveries.at(-1) ?? NaN)} s |`,
      `| replacement worker ready after spawn: median / max | ${secs(pct(restarts, 50))} s / ${secs(restarts.at(-1) ?? NaN)} s |`,
      '',
      '### Kills',
      '',
      '| # | pid | at (UTC) | up for | node jobs active (all workers) | jobs it held | executions hit | executor runs interrupted | kill → stalled (s) | kill → picked up again (s) |',
      '|---:|---:|---|---:|---:|---:|---:|---:|---|---|',
      ...killRows,
      '',
      '### Checks',
      '',
      failures.length === 0 ? 'All checks passed.' : failures.map((f) => `- FAILED: ${f}`).join('\n'),
    ];
    if (notes.length > 0) out.push('', ...notes.map((n) => `- note: ${n}`));
    if (stderrNoise.length > 0) out.push('', `Worker stderr (${stderrNoise.length} lines), first ones:`, ...stderrNoise.slice(0, 10).map((l) => `    ${l}`));
    if (stuckReport.length > 0) out.push('', `### Executions not completed (${stuck.length}; first ${Math.min(10, stuck.length)} shown)`, '', ...stuckReport);
    if (repair.length > 0) out.push('', '### Workaround: pause + resume', '', ...repair);
    out.push('', `Total run time ${((Date.now() - t0) / 1000).toFixed(1)} s.`);
    process.stdout.write(`${out.join('\n')}\n`);
    return failures.length === 0 ? 0 : 1;
  } catch (err) {
    keepDb = true;
    throw err;
  } finally {
    await stopWorkers();
    await queueEvents?.close().catch(() => undefined);
    await nodeQueue?.close().catch(() => undefined);
    await dlqQueue?.close().catch(() => undefined);
    await engine?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    await sql.end({ timeout: 5 });
    const deleted = await deleteKeys(redis, prefix);
    await redis.quit().catch(() => redis.disconnect());
    log(`deleted ${deleted} Redis keys under ${prefix}`);
    if (keepDb) log(`kept database ${dbName} for inspection (drop database "${dbName}" when done)`);
    else {
      const conn = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => {} });
      await conn.unsafe(`drop database if exists "${dbName}" with (force)`);
      await conn.end({ timeout: 5 });
      log(`dropped database ${dbName}`);
    }
  }
}

main()
  .then(async (code) => {
    if (process.env['CHAOS_REDIS_LOSS'] === '0') return code;
    const phase = await redisLossPhase(log);
    process.stdout.write(`${phase.report.join('\n')}\n`);
    return phase.ok ? code : 1;
  })
  .then(
    (code) => {
      process.exitCode = code;
      setTimeout(() => {
        log(`still alive 5 s after closing; open resources: ${process.getActiveResourcesInfo().join(', ')}`);
        process.exit(code);
      }, 5000).unref();
    },
    (err: unknown) => {
      console.error(err);
      void stopWorkers().finally(() => process.exit(1));
    },
  );
