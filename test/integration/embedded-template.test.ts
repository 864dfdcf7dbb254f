/**
 * The migrated template a throwaway embedded database starts from (pglite-template.ts): the
 * first start builds and caches it, each start runs on its own copy (removed on close, at exit, on
 * a signal the process does not handle, or after a crash by a later start), a damaged template is rebuilt, and other migrations are another key. Real PGlite, each test on its own cache folder.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqlBackend } from '../../src/index.js';
import { currentTemplateInputs, migrationHash, STALE_TEMPLATE_MS, templateKey } from '../../src/runtime/queues/backends/pglite-template.js';
import { openTemplate } from '../../src/runtime/queues/backends/sql-backend.js';

const dirs: string[] = [];
function cacheDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spane-template-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** What the cache folder holds: the template folders (no build left over). */
function templates(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.startsWith('pglite-template-'));
}

/** This process's working copies in the temp folder. */
function workCopies(): string[] {
  return readdirSync(os.tmpdir()).filter((f) => f.startsWith(`spane-embedded-${process.pid}-`));
}

async function tablesOf(db: { query: (q: string) => Promise<{ rows: unknown[] }> }): Promise<string[]> {
  const { rows } = await db.query("SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema IN ('bullmq', 'spane') ORDER BY 1");
  return (rows as { t: string }[]).map((r) => r.t);
}

describe('embedded template cache', () => {
  it('the first start builds the template, the second starts from it with the same tables', async () => {
    const dir = cacheDir();
    const first = await openTemplate(dir);
    expect(first.outcome).toBe('built');
    const built = await tablesOf(first.db);
    await first.dispose();
    expect(templates(dir)).toHaveLength(1);
    expect(readdirSync(dir)).toEqual(templates(dir));
    expect(built).toContain('bullmq.spane_rate_limit');
    expect(built).toContain('spane.executions');

    const second = await openTemplate(dir);
    expect(second.outcome).toBe('cached');
    expect(await tablesOf(second.db)).toEqual(built);
    await second.dispose();
  }, 120_000);

  it('each start runs on its own copy, removed when it closes: no data of an earlier start', async () => {
    const dir = cacheDir();
    const before = workCopies();
    const first = await openTemplate(dir);
    expect(existsSync(first.dir!)).toBe(true);
    await first.db.exec("INSERT INTO spane.workflows (id, version, definition, created_at) VALUES ('left-behind', 1, '{}'::jsonb, 0)");
    const second = await openTemplate(dir);
    expect(second.dir).not.toBe(first.dir);
    await first.dispose();
    await first.dispose();
    expect(existsSync(first.dir!)).toBe(false);
    const { rows } = await second.db.query("SELECT count(*)::int AS n FROM spane.workflows WHERE id = 'left-behind'");
    expect(rows).toEqual([{ n: 0 }]);
    await second.dispose();
    expect(workCopies()).toEqual(before);
  }, 120_000);

  it("a start removes the copies of processes that are gone, and keeps a live one's", async () => {
    const dir = cacheDir();
    await (await openTemplate(dir)).dispose();
    const gone = spawnSync(process.execPath, ['-e', 'process.pid']).pid!;
    const dead = path.join(os.tmpdir(), `spane-embedded-${gone}-crashed`);
    const live = path.join(os.tmpdir(), `spane-embedded-${process.pid}-open`);
    mkdirSync(dead);
    mkdirSync(live);
    dirs.push(live);
    const next = await openTemplate(dir);
    await next.dispose();
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
  }, 120_000);

  it('a process that exits without closing its database leaves no copy behind', async () => {
    const dir = cacheDir();
    await (await openTemplate(dir)).dispose();
    const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '../fixtures/embedded-exit-child.ts'), dir], { encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    const copy = child.stdout.trim();
    expect(copy).toContain(`spane-embedded-${child.pid}-`);
    expect(existsSync(copy)).toBe(false);
  }, 120_000);

  /** Starts embedded-signal-child.ts, sends `signal` once it has printed its copy, and gives what it printed and how it ended. */
  async function stopChild(dir: string, signal: NodeJS.Signals, mode = ''): Promise<{ lines: string[]; code: number | null; signal: NodeJS.Signals | null; pid: number }> {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '../fixtures/embedded-signal-child.ts'), dir, mode], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const first = out === '';
      out += chunk;
      if (first && out.includes('\n')) child.kill(signal);
    });
    const [code, sig] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    return { lines: out.trim().split('\n'), code, signal: sig, pid: child.pid! };
  }

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)(
    'a process killed by %s that nothing else handles leaves no copy, and still dies of it',
    async (signal) => {
      const dir = cacheDir();
      await (await openTemplate(dir)).dispose();
      const child = await stopChild(dir, signal);
      const copy = child.lines[0]!;
      expect(copy).toContain(`spane-embedded-${child.pid}-`);
      expect(child.signal).toBe(signal);
      expect(existsSync(copy)).toBe(false);
    },
    120_000,
  );

  it('a process that handles SIGTERM itself keeps its copy until it exits', async () => {
    const dir = cacheDir();
    await (await openTemplate(dir)).dispose();
    const child = await stopChild(dir, 'SIGTERM', 'handle');
    expect(child.code).toBe(0);
    expect(child.lines[1]).toBe('kept');
    expect(existsSync(child.lines[0]!)).toBe(false);
  }, 120_000);

  it('SqlBackend.embedded removes its copy on close', async () => {
    const before = workCopies();
    const backend = await SqlBackend.embedded({ templateCache: cacheDir() });
    expect(workCopies()).toHaveLength(before.length + 1);
    await backend.close();
    expect(workCopies()).toEqual(before);
  }, 120_000);

  it('backends of two prefixes both start from one template (it holds no prefix claim)', async () => {
    const dir = cacheDir();
    const a = await SqlBackend.embedded({ templateCache: dir, prefix: 'a' });
    await a.close();
    const b = await SqlBackend.embedded({ templateCache: dir, prefix: 'b' });
    expect(b.prefix).toBe('b');
    await b.close();
    expect(templates(dir)).toHaveLength(1);
  }, 120_000);

  it('a damaged template (a file in its place, a data file missing) is rebuilt', async () => {
    const dir = cacheDir();
    await (await openTemplate(dir)).dispose();
    const [name] = templates(dir);
    const template = path.join(dir, name!);

    rmSync(template, { recursive: true });
    writeFileSync(template, 'not a data directory');
    const garbage = await openTemplate(dir);
    expect(garbage.outcome).toBe('rebuilt');
    expect(await tablesOf(garbage.db)).toContain('spane.executions');
    await garbage.dispose();
    expect(statSync(template).isDirectory()).toBe(true);

    rmSync(path.join(template, 'global', 'pg_control'));
    const missing = await openTemplate(dir);
    expect(missing.outcome).toBe('rebuilt');
    await missing.dispose();

    const again = await openTemplate(dir);
    expect(again.outcome).toBe('cached');
    await again.dispose();
    expect(readdirSync(dir)).toEqual([name]);
  }, 180_000);

  it('a cache folder that cannot be written still opens a migrated database, and the tarballs of earlier versions go', async () => {
    const file = path.join(cacheDir(), 'a-file');
    writeFileSync(file, '');
    const uncached = await openTemplate(path.join(file, 'cache'));
    expect(await tablesOf(uncached.db)).toContain('spane.executions');
    await uncached.dispose();
    expect(existsSync(uncached.dir!)).toBe(false);

    const dir = cacheDir();
    writeFileSync(path.join(dir, 'pglite-template-0123456789abcdef01234567.tar'), 'an old tarball');
    await (await openTemplate(dir)).dispose();
    expect(readdirSync(dir).some((f) => f.endsWith('.tar'))).toBe(false);
  }, 180_000);

  it("a build removes other versions' templates unused for 30 days, and a start marks its own as used", async () => {
    const dir = cacheDir();
    const longAgo = new Date(Date.now() - STALE_TEMPLATE_MS - 24 * 60 * 60 * 1000);
    const old = path.join(dir, 'pglite-template-000000000000000000000000');
    const recent = path.join(dir, 'pglite-template-111111111111111111111111');
    for (const other of [old, recent]) mkdirSync(path.join(other, 'base'), { recursive: true });
    utimesSync(old, longAgo, longAgo);
    await (await openTemplate(dir)).dispose();
    expect(existsSync(old)).toBe(false);
    expect(existsSync(recent)).toBe(true);

    const [own] = templates(dir).filter((f) => path.join(dir, f) !== recent);
    utimesSync(path.join(dir, own!), longAgo, longAgo);
    await (await openTemplate(dir)).dispose();
    expect(statSync(path.join(dir, own!)).mtimeMs).toBeGreaterThan(longAgo.getTime() + STALE_TEMPLATE_MS);
  }, 180_000);

  it('a temp folder that cannot take a copy gives a migrated database in memory', async () => {
    const file = path.join(cacheDir(), 'a-file');
    writeFileSync(file, '');
    const cache = cacheDir();
    const tmp = process.env['TMPDIR'];
    process.env['TMPDIR'] = path.join(file, 'tmp');
    try {
      const inMemory = await openTemplate(cache);
      expect(inMemory.dir).toBeUndefined();
      expect(await tablesOf(inMemory.db)).toContain('spane.executions');
      await inMemory.dispose();
      expect(inMemory.db.closed).toBe(true);
    } finally {
      if (tmp === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = tmp;
    }
  }, 180_000);

  it('other migrations, SPANE or PGlite version are another key', () => {
    const inputs = currentTemplateInputs(migrationHash('CREATE TABLE x (a int)'));
    const key = templateKey(inputs);
    expect(migrationHash('CREATE TABLE x (a int)')).toBe(inputs.migrationHash);
    expect(templateKey(currentTemplateInputs(migrationHash('CREATE TABLE x (a bigint)')))).not.toBe(key);
    expect(templateKey({ ...inputs, spaneVersion: `${inputs.spaneVersion}-next` })).not.toBe(key);
    expect(templateKey({ ...inputs, pgliteVersion: '0.0.0' })).not.toBe(key);
    expect(templateKey({ ...inputs })).toBe(key);
  });

  it('templateCache: false opens without a template; a bad value is refused', async () => {
    const backend = await SqlBackend.embedded({ templateCache: false });
    await backend.close();
    await expect(SqlBackend.embedded({ templateCache: '' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  }, 120_000);
});
