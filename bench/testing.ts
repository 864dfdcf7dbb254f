/**
 * `npx tsx bench/testing.ts`: what a test pays with spane/testing. The first test engine of the
 * process (it opens the embedded PGlite from the template cache), then per test: creating a test
 * engine, running a 10-node DSL workflow (linear transforms, eager chains on) and closing it.
 * Medians of BENCH_TESTING_RUNS (default 30) tests. Target: a 10-node run ≤ 50 ms.
 * BENCH_TESTING_EVENTS=1: with the event stream on (test engines default to off).
 */
import { z } from 'zod';
import { transform, workflow } from '../src/index.js';
import { createTestEngine } from '../src/testing/index.js';

const RUNS = Number(process.env['BENCH_TESTING_RUNS'] ?? 30);
const inc = transform('inc', (n: number) => n + 1);
let builder = workflow('bench-ten', { input: z.number() }).node('n0', inc);
for (let i = 1; i < 10; i++) builder = builder.then(`n${i}`, inc) as unknown as typeof builder;
const ten = builder.build();

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

let t0 = performance.now();
const first = await createTestEngine({ workflows: [ten] });
const firstCreate = performance.now() - t0;
await first.run(ten, 0);
await first.close();

const create: number[] = [];
const run: number[] = [];
const second: number[] = [];
const close: number[] = [];
/** CPU ms of this process during the first run (less sensitive than wall time to a loaded machine). */
const runCpu: number[] = [];
for (let i = 0; i < RUNS; i++) {
  t0 = performance.now();
  const t = await createTestEngine({ workflows: [ten], ...(process.env['BENCH_TESTING_EVENTS'] === '1' ? { config: { events: true } } : {}) });
  const t1 = performance.now();
  const cpu = process.cpuUsage();
  const r = await t.run(ten, 0);
  const t2 = performance.now();
  const used = process.cpuUsage(cpu);
  runCpu.push((used.user + used.system) / 1000);
  await t.run(ten, 1);
  const t3 = performance.now();
  await t.close();
  const t4 = performance.now();
  if (r.output !== 10) throw new Error(`bench: unexpected output ${String(r.output)}`);
  create.push(t1 - t0);
  run.push(t2 - t1);
  second.push(t3 - t2);
  close.push(t4 - t3);
}
const fmt = (x: number) => x.toFixed(1);
console.log(`first test engine of the process (opens PGlite): ${fmt(firstCreate)} ms`);
console.log(
  `per test, median of ${RUNS}: create ${fmt(median(create))} ms, first 10-node run ${fmt(median(run))} ms, second run ${fmt(median(second))} ms, close ${fmt(median(close))} ms`,
);
console.log(`CPU of the first run, median: ${fmt(median(runCpu))} ms`);
console.log(`create + run + close: ${fmt(median(create.map((c, i) => c + run[i]! + close[i]!)))} ms (target for the run: <= 50 ms)`);
