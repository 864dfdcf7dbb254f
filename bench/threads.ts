/**
 * Worker-thread benchmark: the chain benchmark's workflows run inline and with
 * `useWorkerThreads: true`, side by side in one run, on the same Redis and PostgreSQL.
 *
 *   npx tsx bench/threads.ts
 *   BENCH_CHAINS=100 BENCH_STEPS=10 BENCH_CONCURRENCY=8 BENCH_ROUNDS=5 BENCH_RUNS=20 BENCH_CPU_MS=20 npx tsx bench/threads.ts
 *
 * Both sides are a WorkflowEngine with default options (plus the prefix) on a DrizzleStore on
 * the same, freshly created PostgreSQL database (worker threads need a shared store, so the
 * inline side uses one too, to compare like with like). Each side has its own queue prefix.
 *
 * 1. Throughput: CHAINS executions of a STEPS-node linear workflow whose executor does nothing
 *    (the chain benchmark's `step`), concurrency CONCURRENCY; the sides alternate for ROUNDS
 *    rounds after a warm-up batch (which also starts the threads). Median round per side.
 * 2. Idle latency: RUNS runs each of a 1-node and a STEPS-node workflow, sides interleaved.
 * 3. CPU-bound steps: CPU_CHAINS executions of a CPU_STEPS-node workflow whose every step does a
 *    fixed amount of arithmetic (calibrated to take about CPU_MS ms on the main thread); wall
 *    time, and how late a 10 ms timer in the main thread fired (event-loop lag), which is what
 *    worker threads are for.
 *
 * "Done" is the `workflow:completed` event seen by `observeEvents` in the main thread, the same
 * way for both sides (inline it is published in the main thread; from a worker thread it arrives
 * over the engine's in-process channel), so neither side is polled.
 *
 * Environment: REDIS_URL (default redis://127.0.0.1:6379), BENCH_POSTGRES_URL (a server URL whose
 * role may create databases; default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { DrizzleStore, NodeRegistry, WorkflowEngine } from '../src/index.js';
import type { Logger } from '../src/index.js';
import { envInt, linearWorkflow, stats } from './lib.js';
import type { Stats } from './lib.js';
import { deleteKeys } from '../test/helpers.js';

/** The executors, for both sides; the worker threads import this module to get them. */
export const registry = new NodeRegistry()
  .register('step', async (ctx) => ({ success: true, data: { step: ((ctx.inputData as { step?: number } | undefined)?.step ?? 0) + 1 } }))
  .register('burn', async (ctx) => ({
    success: true,
    data: { step: ((ctx.inputData as { step?: number } | undefined)?.step ?? 0) + 1, checksum: spin(Number(ctx.nodeConfig['iterations'])) },
  }));

/**
 * A fixed amount of CPU work (not a wall-clock loop: a thread that is preempted must still do all
 * of it, or more threads than cores would look faster than they are).
 */
function spin(iterations: number): number {
  let x = 0;
  for (let i = 0; i < iterations; i++) x = (x + Math.sqrt(i * 1.000001)) % 1_000_003;
  return x;
}

/** Iterations of {@link spin} that take about `ms` on this machine's main thread. */
function calibrate(ms: number): number {
  let iterations = 100_000;
  for (;;) {
    const t0 = performance.now();
    spin(iterations);
    const took = performance.now() - t0;
    if (took > 50) return Math.round((iterations / took) * ms);
    iterations *= 4;
  }
}

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const ADMIN_URL = process.env['BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CHAINS = envInt('BENCH_CHAINS', 100);
const STEPS = envInt('BENCH_STEPS', 10);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 8);
const ROUNDS = envInt('BENCH_ROUNDS', 5);
const RUNS = envInt('BENCH_RUNS', 20);
const CPU_MS = envInt('BENCH_CPU_MS', 20);
const CPU_CHAINS = envInt('BENCH_CPU_CHAINS', 20);
const CPU_STEPS = envInt('BENCH_CPU_STEPS', 5);
const TIMEOUT_MS = 120_000;

const fmt = (n: number, digits = 1) => n.toFixed(digits);
const log = (message: string) => process.stderr.write(`[bench:threads] ${message}\n`);

/** Resolves when `workflow:completed` of each id has been observed. */
class Completions {
  private readonly done = new Map<string, number>();
  private readonly waiters = new Map<string, (at: number) => void>();
  mark(id: string): void {
    const at = performance.now();
    if (this.done.has(id)) return;
    this.done.set(id, at);
    this.waiters.get(id)?.(at);
    this.waiters.delete(id);
  }
  wait(id: string): Promise<number> {
    const at = this.done.get(id);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bench: execution ${id} did not complete within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      this.waiters.set(id, (t) => {
        clearTimeout(timer);
        resolve(t);
      });
    });
  }
}

interface Side {
  name: 'inline' | 'threads';
  engine: WorkflowEngine;
  completions: Completions;
  warnings: string[];
  prefix: string;
}

async function side(name: Side['name'], store: DrizzleStore, iterations: number): Promise<Side> {
  const prefix = `{bench-${name}-${randomUUID().slice(0, 8)}}`;
  const warnings: string[] = [];
  const logger: Logger = { warn: (m) => void warnings.push(`warn ${m}`), error: (m) => void warnings.push(`error ${m}`) };
  const config = name === 'threads' ? { prefix, useWorkerThreads: true, executorsModule: fileURLToPath(import.meta.url) } : { prefix };
  const engine = new WorkflowEngine({ registry, store, connection: REDIS_URL, config, logger });
  const completions = new Completions();
  engine.observeEvents((e) => {
    if (e.type === 'workflow:completed') completions.mark(e.executionId);
  });
  await engine.registerWorkflow(linearWorkflow('chain', STEPS, 'step'));
  await engine.registerWorkflow(linearWorkflow('single', 1, 'step'));
  await engine.registerWorkflow(linearWorkflow('cpu', CPU_STEPS, 'burn', { iterations }));
  engine.startWorkers(CONCURRENCY);
  await engine.waitUntilReady();
  return { name, engine, completions, warnings, prefix };
}

/** Starts `n` executions at once; resolves with the wall time until all completed. */
async function batch(s: Side, workflowId: string, n: number): Promise<number> {
  const t0 = performance.now();
  const ids = await s.engine.enqueueBulkWorkflows(Array.from({ length: n }, () => ({ workflowId, initialData: { step: 0 } })));
  const ends = await Promise.all(ids.map((id) => s.completions.wait(id)));
  return Math.max(...ends) - t0;
}

async function one(s: Side, workflowId: string): Promise<number> {
  const t0 = performance.now();
  const id = await s.engine.enqueueWorkflow(workflowId, { step: 0 });
  return (await s.completions.wait(id)) - t0;
}

/** Runs `fn` while a 10 ms timer measures how late the main thread's event loop gets. */
async function withLag<T>(fn: () => Promise<T>): Promise<{ value: T; maxLagMs: number }> {
  let maxLagMs = 0;
  let expected = performance.now() + 10;
  const timer = setInterval(() => {
    const now = performance.now();
    maxLagMs = Math.max(maxLagMs, now - expected);
    expected = now + 10;
  }, 10);
  try {
    return { value: await fn(), maxLagMs };
  } finally {
    clearInterval(timer);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const dbName = `spane_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  const store = await DrizzleStore.postgres(url.toString());
  const redis = new Redis(REDIS_URL);
  const sides: Side[] = [];
  try {
    const iterations = calibrate(CPU_MS);
    const inline = await side('inline', store, iterations);
    sides.push(inline);
    const threads = await side('threads', store, iterations);
    sides.push(threads);

    log(`warm-up: two batches of ${CHAINS} chains per side (starts up to ${CONCURRENCY} threads)`);
    for (const s of sides) {
      for (let i = 0; i < 2; i++) await batch(s, 'chain', CHAINS);
      await batch(s, 'cpu', 2);
      for (let i = 0; i < 3; i++) await one(s, 'single');
    }

    log(`throughput: ${ROUNDS} alternating rounds of ${CHAINS} × ${STEPS}, concurrency ${CONCURRENCY}`);
    const tput = { inline: [] as number[], threads: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const s of r % 2 === 0 ? sides : [...sides].reverse()) tput[s.name].push((CHAINS * STEPS) / ((await batch(s, 'chain', CHAINS)) / 1000));
    }

    log(`idle latency: ${RUNS} runs each`);
    const lat = { inline1: [] as number[], inlineN: [] as number[], threads1: [] as number[], threadsN: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      for (const s of i % 2 === 0 ? sides : [...sides].reverse()) {
        lat[`${s.name}1`].push(await one(s, 'single'));
        lat[`${s.name}N`].push(await one(s, 'chain'));
      }
    }

    log(`CPU-bound: ${CPU_CHAINS} × ${CPU_STEPS} steps of ${iterations} iterations (~${CPU_MS} ms each on the main thread)`);
    const cpu = { inline: [] as { ms: number; lag: number }[], threads: [] as { ms: number; lag: number }[] };
    for (let r = 0; r < 3; r++) {
      for (const s of r % 2 === 0 ? sides : [...sides].reverse()) {
        const { value, maxLagMs } = await withLag(() => batch(s, 'cpu', CPU_CHAINS));
        cpu[s.name].push({ ms: value, lag: maxLagMs });
      }
    }

    const tI = stats(tput.inline);
    const tT = stats(tput.threads);
    const paired = stats(tput.threads.map((v, i) => v / tput.inline[i]!));
    const row = (name: string, s: Stats) => `| ${name} | ${fmt(s.median, 2)} | ${fmt(s.p95, 2)} | ${fmt(s.min, 2)} | ${fmt(s.max, 2)} |`;
    const l = { i1: stats(lat.inline1), iN: stats(lat.inlineN), t1: stats(lat.threads1), tN: stats(lat.threadsN) };
    const cpuRow = (name: string, runs: { ms: number; lag: number }[]) => {
      const ms = stats(runs.map((x) => x.ms));
      const lag = stats(runs.map((x) => x.lag));
      return `| ${name} | ${fmt(ms.median, 0)} | ${fmt((CPU_CHAINS * CPU_STEPS) / (ms.median / 1000), 0)} | ${fmt(lag.median, 0)} | ${fmt(lag.max, 0)} |`;
    };
    const cpus = os.cpus();
    const out = [
      '## SPANE worker-thread benchmark',
      '',
      `${new Date().toISOString()} · Node ${process.version} · ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown'}) · ${os.platform()} ${os.arch()} · DrizzleStore on PostgreSQL for both sides`,
      '',
      `### Throughput (${CHAINS} chains × ${STEPS} no-op steps, concurrency ${CONCURRENCY}, ${ROUNDS} alternating rounds)`,
      '',
      '| Side | Jobs/s (median) | Range | Rounds |',
      '|---|---:|---:|---|',
      `| inline | ${fmt(tI.median, 0)} | ${fmt(tI.min, 0)}–${fmt(tI.max, 0)} | ${tput.inline.map((v) => fmt(v, 0)).join(', ')} |`,
      `| worker threads | ${fmt(tT.median, 0)} | ${fmt(tT.min, 0)}–${fmt(tT.max, 0)} | ${tput.threads.map((v) => fmt(v, 0)).join(', ')} |`,
      `| **threads / inline** (ratio of medians) | **${fmt((tT.median / tI.median) * 100, 0)}%** | paired by round: ${fmt(paired.median * 100, 0)}% (${fmt(paired.min * 100, 0)}–${fmt(paired.max * 100, 0)}%) | |`,
      '',
      `### Idle latency (ms, enqueue → workflow:completed observed; ${RUNS} interleaved runs)`,
      '',
      '| Case | Median | p95 | Min | Max |',
      '|---|---:|---:|---:|---:|',
      row('inline: 1-node workflow', l.i1),
      row(`inline: ${STEPS}-node workflow`, l.iN),
      row('threads: 1-node workflow', l.t1),
      row(`threads: ${STEPS}-node workflow`, l.tN),
      `| **threads − inline, ${STEPS}-node median** | **${fmt(l.tN.median - l.iN.median, 2)}** | | | |`,
      '',
      `### CPU-bound steps (${CPU_CHAINS} chains × ${CPU_STEPS} steps of ~${CPU_MS} ms CPU work each, 3 rounds)`,
      '',
      '| Side | Wall ms (median) | Steps/s | Main-thread timer lag, median of rounds (ms) | worst (ms) |',
      '|---|---:|---:|---:|---:|',
      cpuRow('inline', cpu.inline),
      cpuRow('worker threads', cpu.threads),
      '',
      `Total bench time ${fmt((performance.now() - started) / 1000, 1)} s.`,
    ];
    for (const s of sides) if (s.warnings.length > 0) out.push('', `${s.name} logged ${s.warnings.length} warning(s); first: ${s.warnings[0]}`);
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    for (const s of sides) {
      await s.engine.close().catch((err: unknown) => log(`closing ${s.name}: ${String(err)}`));
      await deleteKeys(redis, s.prefix);
    }
    redis.disconnect();
    await store.close();
    await admin.unsafe(`drop database if exists "${dbName}" with (force)`);
    await admin.end({ timeout: 5 });
  }
}

// Worker threads import this module for `registry`; only the main thread's entry runs the bench
// (and without a top-level await: startWorkers imports this module to check it).
if (isMainThread && process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
