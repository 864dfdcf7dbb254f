/**
 * `npm run bench:embedded`: the cold `spane run examples/quickstart.ts` on the embedded backend
 * (issue 16): wall time and peak RSS of the built command (`node dist/cli.js`, so run
 * `npm run build` first) as a child process, with Redis and PostgreSQL unreachable the way
 * test/pack/run.ts makes them (every URL on the closed port 9).
 *
 * Each run is a new process on a new in-memory database. The runs share one fresh template
 * cache (SPANE_CACHE_DIR, a temp folder of this bench): the first run builds it and is reported
 * apart as "first run"; the median of the next BENCH_EMBEDDED_RUNS (default 5) runs is the row.
 * A baseline note gives the same figures for a bare PGlite opened in memory (`PGlite.create()`,
 * `SELECT 1`, close). Peak RSS is the child's maximum resident set (`/usr/bin/time`'s %M, else
 * VmHWM polled from /proc).
 *
 * Exits 2 when a target is missed (rows written), 1 on a failed run.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { envInt, loadAvg, stats, writeBenchJson } from './lib.js';
import type { BenchRow } from './lib.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'cli.js');
const RUNS = envInt('BENCH_EMBEDDED_RUNS', 5);
const TIME = '/usr/bin/time';

/** Nothing listens on port 9 (discard): connecting is refused at once (as in test/pack/run.ts). */
const CLOSED = {
  REDIS_URL: 'redis://127.0.0.1:9',
  SPANE_REDIS_URL: 'redis://127.0.0.1:9',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none',
  SPANE_DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none',
};

/** A bare PGlite opened in memory: the floor under any embedded start. */
const BASELINE = "const { PGlite } = await import('@electric-sql/pglite'); const db = await PGlite.create(); await db.query('SELECT 1'); await db.close();";

/** One finished child: wall time (s) and peak RSS (MB). */
interface Sample {
  wallS: number;
  rssMb: number;
}

/** Runs `node <args>` as a child and measures it; rejects when it exits non-zero. */
async function measure(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Sample> {
  const useTime = existsSync(TIME);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spane-bench-embedded-'));
  const timeFile = path.join(dir, 'time.txt');
  const [command, argv] = useTime ? [TIME, ['-f', '%M', '-o', timeFile, process.execPath, ...args]] : [process.execPath, [...args]];
  const started = performance.now();
  let hwmKb = 0;
  try {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(command, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      // Without /usr/bin/time: the child's high-water mark, read until it exits.
      const poll = useTime
        ? undefined
        : setInterval(() => {
            const m = /VmHWM:\s+(\d+) kB/.exec(readStatus(child.pid));
            if (m !== null) hwmKb = Math.max(hwmKb, Number(m[1]));
          }, 10);
      child.on('error', reject);
      child.on('exit', (c) => (clearInterval(poll), resolve({ code: c, output })));
    });
    const wallS = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`bench: node ${args.join(' ')} exited ${String(code)}:\n${output}`);
    if (useTime) hwmKb = Number(readFileSync(timeFile, 'utf8').trim().split('\n').at(-1));
    return { wallS, rssMb: hwmKb / 1024 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readStatus(pid: number | undefined): string {
  try {
    return pid === undefined ? '' : readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return '';
  }
}

const fmt = (s: Sample) => `${s.wallS.toFixed(2)} s, ${s.rssMb.toFixed(0)} MB`;

async function main(): Promise<number> {
  if (!existsSync(CLI)) throw new Error('bench: dist/cli.js is missing: run `npm run build` first');
  const cache = mkdtempSync(path.join(os.tmpdir(), 'spane-bench-cache-'));
  const env = { ...process.env, ...CLOSED, SPANE_CACHE_DIR: cache };
  const runArgs = [CLI, 'run', 'examples/quickstart.ts'];
  try {
    const baseline = await measure(['--input-type=module', '-e', BASELINE], env);
    process.stderr.write(`[embedded] baseline, bare PGlite in memory: ${fmt(baseline)}\n`);
    const first = await measure(runArgs, env);
    process.stderr.write(`[embedded] first run (empty template cache): ${fmt(first)}\n`);
    const samples: Sample[] = [];
    for (let i = 0; i < RUNS; i++) {
      const s = await measure(runArgs, env);
      samples.push(s);
      process.stderr.write(`[embedded] run ${i + 1}/${RUNS}: ${fmt(s)}\n`);
    }
    const wall = stats(samples.map((s) => s.wallS)).median;
    const rss = stats(samples.map((s) => s.rssMb)).median;
    const load = loadAvg();
    const note = `median of ${RUNS} cold processes with the template cache built; first run ${fmt(first)}; bare PGlite open ${fmt(baseline)}; load ${load}`;
    const rows: BenchRow[] = [
      { figure: 'cold `spane run` of the quick start, embedded: wall time', spane: wall, peer: 1.5, unit: 's', ratio: wall / 1.5, target: '≤ 1.5 s', higherIsBetter: false, note },
      { figure: 'cold `spane run` of the quick start, embedded: peak RSS', spane: rss, peer: 250, unit: 'MB', ratio: rss / 250, target: '≤ 250 MB', higherIsBetter: false, note },
    ];
    writeBenchJson(rows);
    console.log(
      [
        '| figure | SPANE | target |',
        '|---|---|---|',
        `| cold \`spane run\`, embedded: wall time | ${wall.toFixed(2)} s | ≤ 1.5 s |`,
        `| cold \`spane run\`, embedded: peak RSS | ${rss.toFixed(0)} MB | ≤ 250 MB |`,
        `| first run (builds the template cache) | ${fmt(first)} | |`,
        `| baseline: bare PGlite open in memory | ${fmt(baseline)} | |`,
        '',
        `load: ${load}`,
      ].join('\n'),
    );
    return wall <= 1.5 && rss <= 250 ? 0 : 2;
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
