/**
 * Type-check cost of the DSL builder: generates workflows of 50, 100, 200 and 400 nodes (plus a
 * baseline with the imports and node kinds but no workflow), runs `tsc --noEmit
 * --extendedDiagnostics` on each in a fresh process, and prints a Markdown table: wall and CPU
 * time, instantiations, and their growth over the baseline.
 *
 *   npx tsx bench/typecheck/run.ts [sizes...]      (default: 50 100 200 400; BENCH_RUNS=5)
 *
 * Times are the fastest of BENCH_RUNS runs, the sizes taking turns in each round: other work on
 * the machine only ever adds time, so the minimum is the steadiest estimate. Instantiation and
 * type counts are exact and do not vary.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { writeBenchFiles } from './generate.js';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
/** Runs tsc in this child process and prints its CPU time (user + system) on exit. */
const withCpuTime = `const t0 = process.cpuUsage(); process.on('exit', () => { const u = process.cpuUsage(t0); console.log('CPU time:', ((u.user + u.system) / 1e6).toFixed(2) + 's'); }); require(process.argv[1]);`;
const sizes = process.argv.slice(2).map(Number);
const runs = Number(process.env['BENCH_RUNS'] ?? 5);

interface Measure {
  nodes: number;
  checkSeconds: number;
  totalSeconds: number;
  cpuSeconds: number;
  instantiations: number;
  types: number;
}

function measureOnce(nodes: number): Measure {
  const tsconfig = writeBenchFiles(nodes);
  let out: string;
  try {
    out = execFileSync(process.execPath, ['-e', withCpuTime, tsc, '--noEmit', '--extendedDiagnostics', '-p', tsconfig], { encoding: 'utf8' });
  } catch (err) {
    const stdout = (err as { stdout?: string }).stdout ?? '';
    throw new Error(
      `tsc failed for ${nodes} nodes:\n${stdout
        .split('\n')
        .filter((l) => l.includes('error'))
        .join('\n')}`,
      { cause: err },
    );
  }
  const num = (label: string) => Number(new RegExp(`^${label}:\\s+([\\d.]+)`, 'm').exec(out)?.[1] ?? NaN);
  return { nodes, checkSeconds: num('Check time'), totalSeconds: num('Total time'), cpuSeconds: num('CPU time'), instantiations: num('Instantiations'), types: num('Types') };
}

/** Runs every size once per round, rounds interleaved, and keeps each size's fastest run. */
function measureAll(sizes: readonly number[]): Measure[] {
  const best = new Map<number, Measure>();
  for (let round = 0; round < runs; round++) {
    for (const nodes of sizes) {
      const m = measureOnce(nodes);
      const prev = best.get(nodes);
      const min = (k: 'checkSeconds' | 'totalSeconds' | 'cpuSeconds') => Math.min(prev?.[k] ?? Infinity, m[k]);
      best.set(nodes, { ...m, checkSeconds: min('checkSeconds'), totalSeconds: min('totalSeconds'), cpuSeconds: min('cpuSeconds') });
    }
  }
  return sizes.map((n) => best.get(n)!);
}

const [base, ...rows] = measureAll([0, ...(sizes.length > 0 ? sizes : [50, 100, 200, 400])]) as [Measure, ...Measure[]];
console.log(`TypeScript ${createRequire(import.meta.url)('typescript/package.json').version}, Node ${process.version}, fastest of ${runs} runs\n`);
console.log('| Nodes | tsc total (wall) | Check time (wall) | tsc CPU time | Instantiations | Types | CPU time over baseline | Instantiations over baseline, per node |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const m of [base, ...rows]) {
  const first = m.nodes === 0;
  const cells = [
    first ? '0 (baseline: imports + kinds)' : String(m.nodes),
    `${m.totalSeconds.toFixed(2)} s`,
    `${m.checkSeconds.toFixed(2)} s`,
    `${m.cpuSeconds.toFixed(2)} s`,
    m.instantiations.toLocaleString('en'),
    m.types.toLocaleString('en'),
    first ? '—' : `+${(m.cpuSeconds - base.cpuSeconds).toFixed(2)} s`,
    first ? '—' : Math.round((m.instantiations - base.instantiations) / m.nodes).toLocaleString('en'),
  ];
  console.log(`| ${cells.join(' | ')} |`);
}
