/**
 * The migrated template an in-memory embedded database starts from (pglite-template.ts): the
 * first start builds and caches it, the next loads it, a damaged tarball is rebuilt, and other
 * migrations are another key. Real PGlite, each test on its own cache folder.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqlBackend } from '../../src/index.js';
import { currentTemplateInputs, migrationHash, templateKey } from '../../src/runtime/queues/backends/pglite-template.js';
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

function tarballs(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.tar'));
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
    await first.db.close();
    expect(tarballs(dir)).toHaveLength(1);
    expect(built).toContain('bullmq.spane_rate_limit');
    expect(built).toContain('spane.executions');

    const second = await openTemplate(dir);
    expect(second.outcome).toBe('cached');
    expect(await tablesOf(second.db)).toEqual(built);
    await second.db.close();
    // No temp file is left beside the tarball.
    expect(readdirSync(dir)).toEqual(tarballs(dir));
  }, 120_000);

  it('backends of two prefixes both start from one template (it holds no prefix claim)', async () => {
    const dir = cacheDir();
    const a = await SqlBackend.embedded({ templateCache: dir, prefix: 'a' });
    await a.close();
    const b = await SqlBackend.embedded({ templateCache: dir, prefix: 'b' });
    expect(b.prefix).toBe('b');
    await b.close();
    expect(tarballs(dir)).toHaveLength(1);
  }, 120_000);

  it('a damaged tarball (garbage, truncated) is rebuilt', async () => {
    const dir = cacheDir();
    await (await openTemplate(dir)).db.close();
    const [name] = tarballs(dir);
    const file = path.join(dir, name!);
    const size = statSync(file).size;

    writeFileSync(file, 'not a tarball');
    const garbage = await openTemplate(dir);
    expect(garbage.outcome).toBe('rebuilt');
    expect(await tablesOf(garbage.db)).toContain('spane.executions');
    await garbage.db.close();
    expect(statSync(file).size).toBe(size);

    truncateSync(file, Math.floor(size / 3));
    const truncated = await openTemplate(dir);
    expect(truncated.outcome).toBe('rebuilt');
    await truncated.db.close();

    const again = await openTemplate(dir);
    expect(again.outcome).toBe('cached');
    await again.db.close();
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
