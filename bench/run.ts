/**
 * `npm run bench`: every row of the speed table (issue 16) as a ratio against its peer, measured
 * in this run, printed as one table.
 *
 *   npm run bench                                 all groups
 *   npm run bench -- --only redis,pg              some groups (redis, pg, embedded, scaling, workers)
 *
 * Groups:
 * - redis: bench/redis-rows.ts, in this process (raw BullMQ chains and a FlowProducer on the
 *   same Redis; its env sizes apply: BENCH_CHAINS, BENCH_ROUNDS, BENCH_LONG_JOBS, ...).
 * - pg, embedded, scaling, workers: `npx tsx bench/<group>.ts` as a child process with `BENCH_JSON=<tmp
 *   file>`; it writes its rows there (the bench protocol) and its own output goes to stderr here.
 *   A missing script, a failure or no rows prints the group's rows as "not measured (reason)".
 *
 * BENCH_EAGER=0 is passed on to every group (SPANE sides without eager chains, which are the
 * engine's default; see spaneConfigExtras in bench/lib.ts). BENCH_CHILD_TIMEOUT_MS (default 1800000) bounds each child.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eagerRequested, envInt, loadAvg, writeBenchJson } from './lib.js';
import type { BenchRow } from './lib.js';
import { measureRedisRows } from './redis-rows.js';

const GROUPS = ['redis', 'pg', 'embedded', 'scaling', 'workers'] as const;
type Group = (typeof GROUPS)[number];
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHILD_TIMEOUT_MS = envInt('BENCH_CHILD_TIMEOUT_MS', 1_800_000);

/** A row that was measured, or one of the table's rows that was not, and why. */
type Line = { group: Group; row: BenchRow } | { group: Group; figure: string; target: string; missing: string };

/** The table's rows each group is expected to deliver, for "not measured" lines. */
const EXPECTED: Record<Group, { figure: string; target: string }[]> = {
  redis: [
    { figure: '10-node chain, 200 executions, concurrency 50, SPANE / raw BullMQ chain (events on)', target: '≥ 0.85' },
    { figure: '10-node chain, SPANE / raw BullMQ chain (events off)', target: '(none)' },
    { figure: 'linear 200 nodes / raw', target: '≥ 0.75' },
    { figure: 'linear 500 nodes / raw', target: '≥ 0.70' },
    { figure: 'fan-out 1→8→1 / BullMQ FlowProducer', target: '≥ 1.0' },
    { figure: 'idle 10-node p50 / raw 10-job chain', target: '≤ 1.3×' },
  ],
  pg: [
    { figure: 'SPANE on the PostgreSQL backend / DBOS Transact (10-step workflows)', target: '≥ 0.5×' },
    { figure: 'Redis queues + DrizzleStore on PostgreSQL / DBOS', target: '≥ 3×' },
    { figure: 'idle engine on the PostgreSQL backend (commits/s)', target: '≤ 5 commits/s' },
  ],
  embedded: [
    { figure: 'cold `spane run` of the quick start, embedded: wall time', target: '≤ 1.5 s' },
    { figure: 'cold `spane run` of the quick start, embedded: peak RSS', target: '≤ 250 MB' },
  ],
  scaling: [{ figure: 'per-node CPU, 10/50/200/500-node linear workflows, each store', target: 'flat within 15%' }],
  workers: [
    { figure: 'chain throughput, 2 worker processes / 1 (SPANE)', target: '(report)' },
    { figure: 'chain throughput, 4 worker processes / 1 (SPANE)', target: '(report)' },
  ],
};

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

function parseOnly(argv: readonly string[]): Group[] {
  const i = argv.indexOf('--only');
  const inline = argv.find((a) => a.startsWith('--only='));
  const value = inline?.slice('--only='.length) ?? (i >= 0 ? argv[i + 1] : undefined);
  if (value === undefined) return [...GROUPS];
  const picked = value.split(',').map((s) => s.trim());
  for (const g of picked) if (!(GROUPS as readonly string[]).includes(g)) throw new Error(`--only: unknown group '${g}' (${GROUPS.join(', ')})`);
  return picked as Group[];
}

/** Checks a parsed JSON value against the bench protocol's row shape. */
function isRow(v: unknown): v is BenchRow {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r['figure'] === 'string' && typeof r['spane'] === 'number' && typeof r['peer'] === 'number' && typeof r['ratio'] === 'number' && typeof r['target'] === 'string';
}

/** Runs bench/<group>.ts as a child; resolves with its rows, or the reason there are none. */
async function runChild(group: Group): Promise<{ rows: BenchRow[] } | { missing: string }> {
  const script = path.join(ROOT, 'bench', `${group}.ts`);
  if (!existsSync(script)) return { missing: `bench/${group}.ts not on this branch` };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spane-bench-'));
  const file = path.join(dir, 'rows.json');
  try {
    const code = await new Promise<number | string>((resolve) => {
      const child = spawn('npx', ['tsx', `bench/${group}.ts`], { cwd: ROOT, env: { ...process.env, BENCH_JSON: file }, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (chunk: Buffer) => process.stderr.write(chunk));
      child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
      const timer = setTimeout(() => {
        child.kill('SIGTERM');
        resolve(`timed out after ${CHILD_TIMEOUT_MS} ms`);
      }, CHILD_TIMEOUT_MS);
      child.on('error', (err) => (clearTimeout(timer), resolve(`could not start: ${err.message}`)));
      child.on('exit', (c, signal) => (clearTimeout(timer), resolve(c ?? `killed by ${signal ?? 'a signal'}`)));
    });
    let rows: BenchRow[] = [];
    if (existsSync(file)) {
      try {
        const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
        rows = Array.isArray(parsed) ? parsed.filter(isRow) : [];
      } catch (err) {
        return { missing: `bench/${group}.ts wrote unreadable JSON: ${String(err)}` };
      }
    }
    if (rows.length === 0) return { missing: typeof code === 'string' ? `bench/${group}.ts ${code}` : `bench/${group}.ts exited ${code} without rows` };
    // A bench exits 2 when a target is missed, with its rows written: keep them.
    if (typeof code === 'string' || (code !== 0 && code !== 2)) for (const r of rows) r.note = `${r.note ?? ''}${r.note ? '; ' : ''}bench exited ${code}`;
    return { rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Whether a row meets its target: a bare or `×` target bounds the ratio, a target with a unit
 * (`≤ 1.5 s`, `≤ 5 commits/s`) bounds the SPANE figure, `flat within N%` bounds a max/min ratio;
 * anything else is not judged here.
 */
function status(row: BenchRow): string {
  // Scaling rows: the SPANE figure is the max/min ratio of per-node costs across sizes.
  const flat = /^\s*flat within ([\d.]+)%\s*$/.exec(row.target);
  if (flat !== null) return row.spane <= 1 + Number(flat[1]) / 100 ? 'met' : '**not met**';
  const m = /^\s*(≥|>=|≤|<=)\s*([\d.]+)\s*(×|x)?\s*(\S.*)?$/.exec(row.target);
  if (m === null) return '—';
  const bound = Number(m[2]);
  const value = m[4] === undefined ? row.ratio : row.spane;
  const ok = m[1] === '≥' || m[1] === '>=' ? value >= bound : value <= bound;
  return ok ? 'met' : '**not met**';
}

function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2);
}

async function main(): Promise<void> {
  const groups = parseOnly(process.argv.slice(2));
  const startLoad = loadAvg();
  const started = new Date();
  process.stdout.write(`load average at start: ${startLoad}\n`);
  log(`groups: ${groups.join(', ')}${eagerRequested() ? '' : ' · BENCH_EAGER=0'}`);
  const lines: Line[] = [];
  for (const group of groups) {
    log(`${group}: start (load ${loadAvg()})`);
    let result: { rows: BenchRow[] } | { missing: string };
    if (group === 'redis') {
      try {
        result = { rows: await measureRedisRows() };
      } catch (err) {
        result = { missing: `failed: ${err instanceof Error ? err.message : String(err)}` };
      }
    } else result = await runChild(group);
    log(`${group}: done (load ${loadAvg()})`);
    if ('rows' in result) for (const row of result.rows) lines.push({ group, row });
    else for (const e of EXPECTED[group]) lines.push({ group, ...e, missing: result.missing });
  }
  const endLoad = loadAvg();
  const cpu = os.cpus();
  const out = [
    '',
    `## npm run bench (${started.toISOString()}, Node ${process.version}, ${cpu.length} cores ${cpu[0]?.model.trim() ?? ''}${eagerRequested() ? '' : ', BENCH_EAGER=0'})`,
    '',
    '| Group | Figure | SPANE | Peer | Ratio | Target | Status | Note |',
    '|---|---|---:|---:|---:|---|---|---|',
    ...lines.map((l) =>
      'row' in l
        ? `| ${l.group} | ${l.row.figure} | ${num(l.row.spane)} ${l.row.unit} | ${num(l.row.peer)} ${l.row.unit} | ${l.row.ratio.toFixed(2)} | ${l.row.target} | ${status(l.row)} | ${l.row.note ?? ''} |`
        : `| ${l.group} | ${l.figure} | | | | ${l.target} | not measured (${l.missing}) | |`,
    ),
    '',
    `load average at start: ${startLoad}; at end: ${endLoad}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  writeBenchJson(lines.flatMap((l) => ('row' in l ? [l.row] : [])));
}

main().then(
  () => setTimeout(() => process.exit(0), 2000).unref(),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
