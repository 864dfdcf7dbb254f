/**
 * Type-check cost of the DSL: generates workflows of 50, 100, 200 and 400 nodes (plus a
 * baseline with the imports and node kinds but no workflow), runs `tsc --noEmit
 * --extendedDiagnostics` on each in a fresh process, and prints a Markdown table: the process's
 * wall time, tsc's own times, CPU time, instantiations, and their growth over the baseline.
 * Then it states the two targets: a 200-node workflow checks in at most 1.5 s of wall time, and
 * the baseline (the fixed cost of importing the DSL) stays under 40,000 instantiations.
 *
 *   npm run bench:typecheck [-- sizes...]            (default: 50 100 200 400; BENCH_RUNS=5)
 *   BENCH_TARGET=dist|dsl|src|both|all npm run bench:typecheck
 *
 * The default targets are `dist` and `dsl`. `dist`: `npm run build` first, then files that `import ... from 'spane'`
 * resolved through package.json `exports` to dist/index.d.ts, as in an application (see
 * generate.ts). That is the truthful figure for users: they load the built declarations and
 * everything those import, and tsc does not check SPANE's own source. `dsl` is the same through
 * `spane/dsl` (dist/dsl.d.ts: the DSL's declarations alone). `src` imports
 * src/dsl/index.ts instead (no build; tsc also checks the DSL's source, so it counts more
 * instantiations and loads fewer libraries). BENCH_NO_BUILD=1 skips the build.
 *
 * Times are the fastest of BENCH_RUNS runs, the sizes taking turns in each round: other work on
 * the machine only ever adds time, so the minimum is the steadiest estimate. Instantiation and
 * type counts are exact and do not vary.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { writeBenchFiles } from './generate.js';
import type { BenchTarget } from './generate.js';

/** A 200-node workflow must check within this many seconds of wall time (`tsc --noEmit`, whole process). */
const WALL_TARGET_SECONDS = 1.5;
const WALL_TARGET_NODES = 200;
/** The baseline (imports + node kinds, no workflow) must stay under this many instantiations: half of the 81,140 measured before the constraint change. */
const FIXED_TARGET_INSTANTIATIONS = 40_000;

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
/** Runs tsc in this child process and prints its CPU time (user + system) on exit. */
const withCpuTime = `const t0 = process.cpuUsage(); process.on('exit', () => { const u = process.cpuUsage(t0); console.log('CPU time:', ((u.user + u.system) / 1e6).toFixed(2) + 's'); }); require(process.argv[1]);`;
const requested = process.argv.slice(2).map(Number);
const sizes = requested.length > 0 ? requested : [50, 100, 200, 400];
if (!sizes.includes(WALL_TARGET_NODES)) sizes.push(WALL_TARGET_NODES);
const runs = Number(process.env['BENCH_RUNS'] ?? 5);
const targetEnv = process.env['BENCH_TARGET'] ?? 'dist';
const targets: BenchTarget[] =
  targetEnv === 'all' ? ['dist', 'dsl', 'src'] : targetEnv === 'both' ? ['dist', 'src'] : targetEnv === 'src' ? ['src'] : targetEnv === 'dsl' ? ['dsl'] : ['dist', 'dsl'];

interface Measure {
  nodes: number;
  /** The tsc process from spawn to exit: what `tsc --noEmit` makes you wait. */
  wallSeconds: number;
  checkSeconds: number;
  totalSeconds: number;
  cpuSeconds: number;
  instantiations: number;
  types: number;
  files: number;
}

type TimeKey = 'wallSeconds' | 'checkSeconds' | 'totalSeconds' | 'cpuSeconds';

function measureOnce(nodes: number, target: BenchTarget): Measure {
  const tsconfig = writeBenchFiles(nodes, target);
  let out: string;
  const start = performance.now();
  try {
    out = execFileSync(process.execPath, ['-e', withCpuTime, tsc, '--noEmit', '--extendedDiagnostics', '-p', tsconfig], { encoding: 'utf8' });
  } catch (err) {
    const stdout = (err as { stdout?: string }).stdout ?? '';
    throw new Error(
      `tsc failed for ${nodes} nodes (${target}):\n${stdout
        .split('\n')
        .filter((l) => l.includes('error'))
        .join('\n')}`,
      { cause: err },
    );
  }
  const wallSeconds = (performance.now() - start) / 1000;
  const num = (label: string) => Number(new RegExp(`^${label}:\\s+([\\d.]+)`, 'm').exec(out)?.[1] ?? NaN);
  return {
    nodes,
    wallSeconds,
    checkSeconds: num('Check time'),
    totalSeconds: num('Total time'),
    cpuSeconds: num('CPU time'),
    instantiations: num('Instantiations'),
    types: num('Types'),
    files: num('Files'),
  };
}

/** Runs every size once per round, rounds interleaved, and keeps each size's fastest run. */
function measureAll(sizes: readonly number[], target: BenchTarget): Measure[] {
  const best = new Map<number, Measure>();
  for (let round = 0; round < runs; round++) {
    for (const nodes of sizes) {
      const m = measureOnce(nodes, target);
      const prev = best.get(nodes);
      const min = (k: TimeKey) => Math.min(prev?.[k] ?? Infinity, m[k]);
      best.set(nodes, { ...m, wallSeconds: min('wallSeconds'), checkSeconds: min('checkSeconds'), totalSeconds: min('totalSeconds'), cpuSeconds: min('cpuSeconds') });
    }
  }
  return sizes.map((n) => best.get(n)!);
}

function printTable(target: BenchTarget, base: Measure, rows: readonly Measure[]): void {
  const what =
    target === 'dist'
      ? "built package: `import ... from 'spane'` → dist/index.d.ts"
      : target === 'dsl'
        ? "built package, DSL only: `import ... from 'spane/dsl'` → dist/dsl.d.ts"
        : 'source: src/dsl/index.ts, checked too';
  console.log(`\n### Target \`${target}\` (${what}), ${base.files} files loaded\n`);
  console.log('| Nodes | tsc --noEmit (wall) | tsc total | Check time | tsc CPU time | Instantiations | Types | CPU time over baseline | Instantiations over baseline, per node |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const m of [base, ...rows]) {
    const first = m.nodes === 0;
    const cells = [
      first ? '0 (baseline: imports + kinds)' : String(m.nodes),
      `${m.wallSeconds.toFixed(2)} s`,
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
  const at = rows.find((m) => m.nodes === WALL_TARGET_NODES)!;
  // The targets are about what users pay, so only the built package is judged against them.
  const verdict = (ok: boolean) => (target === 'src' ? 'targets apply to dist' : ok ? 'met' : 'NOT met');
  console.log('');
  console.log(
    `- ${WALL_TARGET_NODES} nodes: ${at.wallSeconds.toFixed(2)} s wall for \`tsc --noEmit\` (target ≤ ${WALL_TARGET_SECONDS} s: ${verdict(at.wallSeconds <= WALL_TARGET_SECONDS)})`,
  );
  console.log(
    `- Fixed cost of importing the DSL (baseline): ${base.instantiations.toLocaleString('en')} instantiations (target < ${FIXED_TARGET_INSTANTIATIONS.toLocaleString('en')}: ${verdict(base.instantiations < FIXED_TARGET_INSTANTIATIONS)})`,
  );
}

if (targets.some((t) => t !== 'src') && process.env['BENCH_NO_BUILD'] !== '1') {
  console.error('npm run build (BENCH_NO_BUILD=1 skips it) ...');
  execFileSync('npm', ['run', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
}
console.log(`TypeScript ${require('typescript/package.json').version}, Node ${process.version}, fastest of ${runs} runs`);
for (const target of targets) {
  const [base, ...rows] = measureAll([0, ...sizes], target) as [Measure, ...Measure[]];
  printTable(target, base, rows);
}
