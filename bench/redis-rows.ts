/**
 * The Redis rows of the speed table (issue 16), each a ratio against its peer measured in the same
 * run on the same Redis, in paired rounds (the order of the sides rotates every round; the median
 * of the per-round ratios is reported, as bench/chain.ts does):
 *
 *   npm run bench:redis        (or through `npm run bench`, which runs this in-process)
 *
 * - 10-node chain, CHAINS executions, concurrency CONCURRENCY: SPANE jobs/s / raw BullMQ chain
 *   jobs/s, with events on, and with events off (`events: false`).
 * - linear 200 nodes and linear 500 nodes: LONG_JOBS jobs per round in executions of that length
 *   (e.g. 10 × 200), SPANE / raw chains of the same length.
 * - fan-out 1→8→1: FANOUTS executions; the peer is BullMQ's FlowProducer (the root job's processor
 *   adds a flow of a join job whose 8 children run first, so the join runs after all of them).
 * - idle 10-node latency p50: enqueue → done of one 10-node execution on an idle system / one raw
 *   10-job chain (RUNS runs each, interleaved).
 *
 * Env: REDIS_URL, BENCH_CHAINS (200), BENCH_STEPS (10), BENCH_CONCURRENCY (50), BENCH_ROUNDS (5),
 * BENCH_RUNS (30), BENCH_LONG_JOBS (2000), BENCH_FANOUTS (100), BENCH_ROWS (all: chain,off,200,500,
 * fanout,idle), BENCH_EAGER=0 (SPANE without eager chains, see spaneConfigExtras in bench/lib.ts),
 * BENCH_JSON=<file> (rows as JSON, the bench protocol). "Done" is taken inside the last job on
 * both sides (a completion hook, no polling), as in bench/chain.ts.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { FlowProducer, Queue, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { InMemoryExecutionStore, NodeRegistry, WorkflowEngine } from '../src/index.js';
import type { Logger, WorkflowDefinition } from '../src/index.js';
import { CompletionBoard, eagerRequested, envInt, linearWorkflow, loadAvg, observed, ownCpuMs, spaneConfigExtras, stats, withTimeout, writeBenchJson } from './lib.js';
import type { BenchRow, ObservedStore } from './lib.js';
import { deleteKeys } from '../test/helpers.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const CHAINS = envInt('BENCH_CHAINS', 200);
const STEPS = envInt('BENCH_STEPS', 10);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 50);
const ROUNDS = envInt('BENCH_ROUNDS', 5);
const RUNS = envInt('BENCH_RUNS', 30);
const LONG_JOBS = envInt('BENCH_LONG_JOBS', 2000);
const FANOUTS = envInt('BENCH_FANOUTS', 100);
const FAN_WIDTH = 8;
const ALL_ROWS = ['chain', 'off', '200', '500', 'fanout', 'idle'] as const;
type RowKey = (typeof ALL_ROWS)[number];
const PHASE_TIMEOUT_MS = 180_000;
/** SPANE's defaults, given to the raw side too. */
const REMOVE_ON_COMPLETE = { count: 1000, age: 3600 };
const REMOVE_ON_FAIL = { count: 5000, age: 7 * 24 * 3600 };

function log(message: string): void {
  process.stderr.write(`[bench:redis] ${message}\n`);
}

/** What one side can run: `n` linear chains of `length` steps, or `n` fan-outs 1→8→1. */
interface Side {
  name: string;
  /** Starts `n` chains of `length` at once; resolves with the wall time (ms) until all are done. */
  chains(n: number, length: number): Promise<number>;
  /** Starts `n` fan-outs at once; wall time (ms) until all are done. */
  fanouts(n: number): Promise<number>;
  /** One chain of `length` on an idle system: enqueue → done (ms). */
  one(length: number): Promise<number>;
  close(): Promise<void>;
}

interface RawData {
  chain: string;
  step: number;
  length: number;
}

/** Hand-written BullMQ: a chain's job adds the next; a fan-out's root adds a FlowProducer flow. */
async function rawSide(admin: Redis): Promise<Side> {
  const prefix = `{bench-raw-${randomUUID().slice(0, 8)}}`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const defaultJobOptions = { removeOnComplete: REMOVE_ON_COMPLETE, removeOnFail: REMOVE_ON_FAIL };
  const queue = new Queue<RawData>('chain', { connection, prefix, defaultJobOptions });
  const flows = new FlowProducer({ connection, prefix });
  const board = new CompletionBoard();
  let failures = 0;
  const worker = new Worker<RawData>(
    'chain',
    async (job: Job<RawData>) => {
      const { chain, step, length } = job.data;
      if (job.name === 'root') {
        await flows.add({
          name: 'join',
          queueName: 'chain',
          data: { chain, step: 2, length },
          opts: defaultJobOptions,
          children: Array.from({ length: FAN_WIDTH }, () => ({ name: 'branch', queueName: 'chain', data: { chain, step: 1, length }, opts: defaultJobOptions })),
        });
      } else if (job.name === 'join') board.mark(chain);
      else if (job.name === 'step') {
        if (step + 1 < length) await queue.add('step', { chain, step: step + 1, length });
        else board.mark(chain);
      }
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
  const check = () => {
    if (failures > 0) throw new Error(`bench: raw side had ${failures} failed jobs`);
  };
  return {
    name: 'raw',
    async chains(n, length) {
      board.reset();
      const done = board.waitForMore(n);
      const t0 = performance.now();
      await queue.addBulk(Array.from({ length: n }, () => ({ name: 'step', data: { chain: randomUUID(), step: 0, length } })));
      await withTimeout(done, PHASE_TIMEOUT_MS, `${n} raw chains of ${length}`);
      check();
      return performance.now() - t0;
    },
    async fanouts(n) {
      board.reset();
      const done = board.waitForMore(n);
      const t0 = performance.now();
      await queue.addBulk(Array.from({ length: n }, () => ({ name: 'root', data: { chain: randomUUID(), step: 0, length: 3 } })));
      await withTimeout(done, PHASE_TIMEOUT_MS, `${n} raw fan-outs`);
      check();
      return performance.now() - t0;
    },
    async one(length) {
      const chain = randomUUID();
      const done = board.waitFor(chain);
      const t0 = performance.now();
      await queue.add('step', { chain, step: 0, length });
      return (await withTimeout(done, PHASE_TIMEOUT_MS, 'a raw chain')) - t0;
    },
    async close() {
      await worker.close();
      await flows.close();
      await queue.close();
      await connection.quit().catch(() => connection.disconnect());
      log(`raw: deleted ${await deleteKeys(admin, prefix)} keys under ${prefix}`);
    },
  };
}

/** The fan-out 1→8→1 as a SPANE workflow. */
function fanoutWorkflow(id: string): WorkflowDefinition {
  const branches = Array.from({ length: FAN_WIDTH }, (_, i) => `b${i}`);
  return {
    id,
    name: id,
    entryNodeId: 'root',
    nodes: [
      { id: 'root', type: 'step', config: {}, inputs: [], outputs: branches },
      ...branches.map((b) => ({ id: b, type: 'step', config: {}, inputs: ['root'], outputs: ['join'] })),
      { id: 'join', type: 'step', config: {}, inputs: branches, outputs: [] },
    ],
  };
}

/** SPANE on InMemoryExecutionStore, with its workflows for every row. */
async function spaneSide(admin: Redis, name: string, events: boolean, lengths: readonly number[]): Promise<Side & { warnings: string[] }> {
  const prefix = `{bench-${name}-${randomUUID().slice(0, 8)}}`;
  const warnings: string[] = [];
  const logger: Logger = { warn: (m) => void warnings.push(`warn ${m}`), error: (m) => void warnings.push(`error ${m}`) };
  const registry = new NodeRegistry();
  registry.register('step', async (ctx) => ({ success: true, data: { step: ((ctx.inputData as { step?: number } | undefined)?.step ?? 0) + 1 } }));
  const store: ObservedStore = observed(new InMemoryExecutionStore({ maxFinishedExecutions: 100_000 }));
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const engine = new WorkflowEngine({ registry, store, connection, config: { prefix, events, ...spaneConfigExtras() }, logger });
  for (const length of new Set(lengths)) await engine.registerWorkflow(linearWorkflow(`chain-${length}`, length));
  await engine.registerWorkflow(fanoutWorkflow('fanout'));
  engine.startWorkers(CONCURRENCY);
  await engine.waitUntilReady();
  const batch = async (n: number, workflowId: string, what: string) => {
    store.completions.reset();
    const done = store.completions.waitForMore(n);
    const t0 = performance.now();
    await engine.enqueueBulkWorkflows(Array.from({ length: n }, () => ({ workflowId, initialData: { step: 0 } })));
    await withTimeout(done, PHASE_TIMEOUT_MS, `${n} SPANE ${what}`);
    return performance.now() - t0;
  };
  return {
    name,
    warnings,
    chains: (n, length) => batch(n, `chain-${length}`, `chains of ${length}`),
    fanouts: (n) => batch(n, 'fanout', 'fan-outs'),
    async one(length) {
      const t0 = performance.now();
      const id = await engine.enqueueWorkflow(`chain-${length}`, { step: 0 });
      return (await withTimeout(store.completions.waitFor(id), PHASE_TIMEOUT_MS, 'a SPANE execution')) - t0;
    },
    async close() {
      await engine.close();
      await connection.quit().catch(() => connection.disconnect());
      log(`${name}: deleted ${await deleteKeys(admin, prefix)} keys under ${prefix}`);
      store.completions.reset();
    },
  };
}

/** Runs `fn` for each side, rotating the order every round. */
async function rotate(sides: readonly Side[], round: number, fn: (side: Side) => Promise<void>): Promise<void> {
  for (let i = 0; i < sides.length; i++) await fn(sides[(i + round) % sides.length]!);
}

/** Which rows to measure: `BENCH_ROWS` (comma-separated keys), else all. */
function selectedRows(): Set<RowKey> {
  const raw = process.env['BENCH_ROWS'];
  if (raw === undefined || raw === '') return new Set(ALL_ROWS);
  const keys = raw.split(',').map((s) => s.trim());
  for (const k of keys) if (!(ALL_ROWS as readonly string[]).includes(k)) throw new Error(`BENCH_ROWS: unknown row '${k}' (${ALL_ROWS.join(', ')})`);
  return new Set(keys as RowKey[]);
}

/** Paired-rounds throughput of `spane` against `peer`: jobs/s medians and the median per-round ratio. */
interface Paired {
  spane: number[];
  peer: number[];
}

function pairedRow(p: Paired, figure: string, target: string, note: string): BenchRow {
  const ratios = stats(p.spane.map((v, i) => v / p.peer[i]!));
  return {
    figure,
    spane: stats(p.spane).median,
    peer: stats(p.peer).median,
    unit: 'jobs/s',
    ratio: ratios.median,
    target,
    higherIsBetter: true,
    note: `${note}; per-round ratios ${ratios.min.toFixed(2)}–${ratios.max.toFixed(2)} over ${p.spane.length} rounds`,
  };
}

/** Measures the selected Redis rows; returns them (and prints nothing but progress on stderr). */
export async function measureRedisRows(): Promise<BenchRow[]> {
  const rows = selectedRows();
  const admin = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const opened: Side[] = [];
  const longLengths = [200, 500].filter((l) => rows.has(String(l) as RowKey));
  try {
    const raw = await rawSide(admin);
    opened.push(raw);
    const spane = await spaneSide(admin, 'spane', true, [STEPS, ...longLengths]);
    opened.push(spane);
    const spaneOff = rows.has('off') ? await spaneSide(admin, 'spane-off', false, [STEPS]) : undefined;
    if (spaneOff !== undefined) opened.push(spaneOff);
    const chainSides: Side[] = [raw, spane, ...(spaneOff === undefined ? [] : [spaneOff])];

    log(`warm-up (load ${loadAvg()})`);
    for (const side of chainSides) await side.chains(CHAINS, STEPS);
    if (rows.has('fanout')) for (const side of [raw, spane]) await side.fanouts(Math.min(FANOUTS, 20));
    for (const length of longLengths) for (const side of [raw, spane]) await side.chains(1, length);

    const tput = new Map<string, Paired>();
    const record = (key: string, side: Side, jobs: number, ms: number) => {
      const p = tput.get(key) ?? { spane: [], peer: [] };
      tput.set(key, p);
      (side === raw ? p.peer : p.spane).push(jobs / (ms / 1000));
    };
    const offPair: Paired = { spane: [], peer: [] };
    /** CPU of this process per job of the 10-node chain batches, summed over rounds, per side. */
    const chainCpu = new Map<Side, number>();
    for (let r = 0; r < ROUNDS; r++) {
      if (rows.has('chain') || rows.has('off')) {
        const ms = new Map<Side, number>();
        const jobs = CHAINS * STEPS;
        await rotate(chainSides, r, async (side) => {
          const cpu0 = ownCpuMs();
          ms.set(side, await side.chains(CHAINS, STEPS));
          chainCpu.set(side, (chainCpu.get(side) ?? 0) + (ownCpuMs() - cpu0) / jobs);
        });
        record('chain', spane, jobs, ms.get(spane)!);
        record('chain', raw, jobs, ms.get(raw)!);
        if (spaneOff !== undefined) {
          offPair.spane.push(jobs / (ms.get(spaneOff)! / 1000));
          offPair.peer.push(jobs / (ms.get(raw)! / 1000));
        }
        log(`round ${r + 1}: chain ${STEPS}: ${[...ms].map(([s, v]) => `${s.name} ${((jobs / v) * 1000).toFixed(0)}`).join(', ')} jobs/s`);
      }
      for (const length of longLengths) {
        const n = Math.max(1, Math.round(LONG_JOBS / length));
        await rotate([raw, spane], r, async (side) => {
          const ms = await side.chains(n, length);
          record(`linear-${length}`, side, n * length, ms);
          log(`round ${r + 1}: ${n} × ${length}: ${side.name} ${((n * length * 1000) / ms).toFixed(0)} jobs/s`);
        });
      }
      if (rows.has('fanout')) {
        await rotate([raw, spane], r, async (side) => {
          const ms = await side.fanouts(FANOUTS);
          record('fanout', side, FANOUTS * (FAN_WIDTH + 2), ms);
          log(`round ${r + 1}: fan-out: ${side.name} ${((FANOUTS * (FAN_WIDTH + 2) * 1000) / ms).toFixed(0)} jobs/s`);
        });
      }
    }

    const lat = { spane: [] as number[], raw: [] as number[] };
    if (rows.has('idle')) {
      log(`idle latency: ${RUNS} runs of a ${STEPS}-step chain per side, interleaved`);
      for (let i = 0; i < 5; i++) for (const side of [raw, spane]) await side.one(STEPS);
      for (let i = 0; i < RUNS; i++) {
        await rotate([raw, spane], i, async (side) => void (side === raw ? lat.raw : lat.spane).push(await side.one(STEPS)));
      }
    }
    if (spane.warnings.length > 0) log(`SPANE logged ${spane.warnings.length} warning(s); first: ${spane.warnings[0]}`);

    const eager = eagerRequested() ? '' : ' (BENCH_EAGER=0)';
    const out: BenchRow[] = [];
    const cpuPerJob = (side: Side | undefined) => (side === undefined ? 'n/a' : ((chainCpu.get(side) ?? 0) / ROUNDS).toFixed(3));
    const conf = `${CHAINS} executions × ${STEPS} nodes, concurrency ${CONCURRENCY}${eager}; process CPU ms/job: SPANE ${cpuPerJob(spane)}, events off ${cpuPerJob(spaneOff)}, raw ${cpuPerJob(raw)}`;
    if (rows.has('chain'))
      out.push(pairedRow(tput.get('chain')!, `${STEPS}-node chain, ${CHAINS} executions, concurrency ${CONCURRENCY}, SPANE / raw BullMQ chain (events on)`, '≥ 0.85', conf));
    if (rows.has('off')) out.push(pairedRow(offPair, `${STEPS}-node chain, SPANE / raw BullMQ chain (events off)`, '(none; events on ≥ 0.85)', conf));
    for (const length of longLengths) {
      const n = Math.max(1, Math.round(LONG_JOBS / length));
      out.push(
        pairedRow(
          tput.get(`linear-${length}`)!,
          `linear ${length} nodes / raw`,
          length === 200 ? '≥ 0.75' : '≥ 0.70',
          `${n} executions × ${length} nodes, concurrency ${CONCURRENCY}${eager}`,
        ),
      );
    }
    if (rows.has('fanout'))
      out.push(
        pairedRow(
          tput.get('fanout')!,
          `fan-out 1→${FAN_WIDTH}→1 / BullMQ FlowProducer`,
          '≥ 1.0',
          `${FANOUTS} executions of ${FAN_WIDTH + 2} jobs, concurrency ${CONCURRENCY}${eager}`,
        ),
      );
    if (rows.has('idle')) {
      const s = stats(lat.spane);
      const p = stats(lat.raw);
      out.push({
        figure: `idle ${STEPS}-node p50 / raw ${STEPS}-job chain`,
        spane: s.median,
        peer: p.median,
        unit: 'ms',
        ratio: s.median / p.median,
        target: '≤ 1.3×',
        higherIsBetter: false,
        note: `${RUNS} interleaved runs; p95 ${s.p95.toFixed(2)} vs ${p.p95.toFixed(2)} ms${eager}`,
      });
    }
    return out;
  } finally {
    for (const side of opened.reverse()) await side.close().catch((err: unknown) => log(`closing ${side.name} failed: ${String(err)}`));
    await admin.quit().catch(() => admin.disconnect());
  }
}

/** The rows as a markdown table (figure, SPANE, peer, ratio, target). */
export function rowsTable(rows: readonly BenchRow[]): string {
  const n = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));
  return [
    '| Figure | SPANE | Peer | Ratio | Target | Note |',
    '|---|---:|---:|---:|---|---|',
    ...rows.map((r) => `| ${r.figure} | ${n(r.spane)} ${r.unit} | ${n(r.peer)} ${r.unit} | ${r.ratio.toFixed(2)} | ${r.target} | ${r.note ?? ''} |`),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const startLoad = loadAvg();
  process.stdout.write(`load average at start: ${startLoad}\n`);
  measureRedisRows().then(
    (rows) => {
      writeBenchJson(rows);
      process.stdout.write(`\n${rowsTable(rows)}\n\nload average at start: ${startLoad}; at end: ${loadAvg()}\n`);
      setTimeout(() => process.exit(0), 2000).unref();
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
