/**
 * What the Drizzle store does beyond the ExecutionStore contract: migrations (idempotent,
 * concurrent, shipped in sync with schema.ts and into dist), connection ownership, persistence in
 * a PGlite data directory, and how values sit in the tables.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors.js';
import { defaultMigrationsFolder } from '../../src/store/drizzle/migrate.js';
import { DrizzleStore } from '../../src/store/drizzle/store.js';
import { createTestDatabase } from '../contract/databases.js';
import type { TestDatabase } from '../contract/databases.js';
import { executionFixture, resultFixture, workflowFixture } from '../contract/execution-store.contract.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
/** Migrations shipped in src/store/drizzle/migrations, as their journal lists them. */
const shippedMigrations = (JSON.parse(readFileSync(join(defaultMigrationsFolder(), 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length;

describe('migrations on PostgreSQL', () => {
  let database: TestDatabase;
  let sql: postgres.Sql;
  beforeEach(async () => {
    database = await createTestDatabase();
    sql = postgres(database.url, { onnotice: () => {} });
  });
  afterEach(async () => {
    await sql.end({ timeout: 5 });
    await database.drop();
  });

  const journal = async () => sql<{ hash: string }[]>`select hash from spane.__drizzle_migrations`;

  it('creates the schema once, and starting again applies nothing twice', async () => {
    const first = await DrizzleStore.postgres(database.url);
    await first.saveWorkflow(workflowFixture());
    await first.close();
    const second = await DrizzleStore.postgres(database.url);
    expect(await second.getWorkflow('wf')).toMatchObject({ version: 1 });
    await second.close();
    expect(await journal()).toHaveLength(shippedMigrations);
    const tables = await sql<{ table_name: string }[]>`select table_name from information_schema.tables where table_schema = 'spane' order by table_name`;
    expect(tables.map((r) => r.table_name)).toEqual(['__drizzle_migrations', 'execution_logs', 'executions', 'node_results', 'payloads', 'waits', 'workflows']);
  });

  it('lets several processes start on an empty database at once', async () => {
    const stores = await Promise.all(Array.from({ length: 4 }, () => DrizzleStore.postgres(database.url)));
    expect(await journal()).toHaveLength(shippedMigrations);
    await Promise.all(stores.map((s) => s.close()));
  });

  it('with migrate: false touches nothing, and fails on an unmigrated database', async () => {
    const store = await DrizzleStore.postgres(database.url, { migrate: false });
    const schemas = await sql`select 1 from information_schema.schemata where schema_name = 'spane'`;
    expect(schemas).toHaveLength(0);
    // 42P01: undefined_table, reported by the driver as the cause of drizzle's query error.
    await expect(store.getExecution('x')).rejects.toMatchObject({ cause: { code: '42P01' } });
    await store.close();
  });

  it('uses a postgres.js client it is handed and leaves it open', async () => {
    const store = await DrizzleStore.postgres(sql);
    await store.createExecution(executionFixture('e1'));
    await store.close();
    await store.close();
    expect(await sql`select execution_id from spane.executions`).toEqual([{ execution_id: 'e1' }]);
  });

  it('keeps absent and null data apart in the table, and JSON as jsonb (not strings)', async () => {
    const store = await DrizzleStore.postgres(sql);
    await store.saveWorkflow(workflowFixture());
    await store.createExecution(executionFixture('e1', { initialData: null }));
    await store.createExecution(executionFixture('e2', { initialData: undefined }));
    await store.saveNodeResult('e1', 'absent', { status: 'skipped', attempts: 0, completedAt: 1 });
    await store.saveNodeResult('e1', 'null', resultFixture(null));
    await store.saveNodeResult('e1', 'text', resultFixture('123'));
    const rows = await sql<{ node_id: string; sql_null: boolean; type: string | null }[]>`
      select node_id, data is null as sql_null, jsonb_typeof(data) as type from spane.node_results order by node_id`;
    expect(rows).toEqual([
      { node_id: 'absent', sql_null: true, type: null },
      { node_id: 'null', sql_null: false, type: 'null' },
      { node_id: 'text', sql_null: false, type: 'string' },
    ]);
    const initial = await sql`select execution_id, jsonb_typeof(initial_data) as type from spane.executions order by execution_id`;
    expect(initial).toEqual([
      { execution_id: 'e1', type: 'null' },
      { execution_id: 'e2', type: null },
    ]);
    expect(await sql`select jsonb_typeof(definition) as type, definition ? 'version' as has_version from spane.workflows`).toEqual([{ type: 'object', has_version: false }]);
    await store.close();
  });

  it('deletes node results and logs with their execution', async () => {
    const store = await DrizzleStore.postgres(sql);
    await store.createExecution(executionFixture('e1'));
    await store.saveNodeResult('e1', 'a', resultFixture(1));
    await store.addLog('e1', { at: 1, level: 'info', message: 'x' });
    await sql`delete from spane.executions where execution_id = 'e1'`;
    expect(await sql`select 1 from spane.node_results union all select 1 from spane.execution_logs`).toHaveLength(0);
    await store.close();
  });
});

describe('connecting', () => {
  const saved = process.env['DATABASE_URL'];
  afterEach(() => {
    if (saved === undefined) delete process.env['DATABASE_URL'];
    else process.env['DATABASE_URL'] = saved;
  });

  it('DrizzleStore.postgres() without a URL or DATABASE_URL says what is missing', async () => {
    delete process.env['DATABASE_URL'];
    await expect(DrizzleStore.postgres()).rejects.toThrow(InvalidConfigError);
    await expect(DrizzleStore.postgres()).rejects.toThrow(/DATABASE_URL/);
  });

  it('a connection string that is not a URL is an InvalidConfigError that does not echo it (it may hold a password)', async () => {
    const attempt = DrizzleStore.postgres('postgres://user:s3cret@host:notaport/db');
    await expect(attempt).rejects.toThrow(InvalidConfigError);
    await expect(attempt).rejects.toThrow(/the connection string is not a valid URL/);
    await expect(attempt).rejects.not.toThrow(/s3cret/);
  });

  it('DrizzleStore.connect() picks PostgreSQL from DATABASE_URL', async () => {
    const database = await createTestDatabase();
    try {
      process.env['DATABASE_URL'] = database.url;
      const store = await DrizzleStore.connect();
      await store.createExecution(executionFixture('e1'));
      await store.close();
      const check = postgres(database.url, { max: 1 });
      expect(await check`select count(*)::int as n from spane.executions`).toEqual([{ n: 1 }]);
      await check.end({ timeout: 5 });
    } finally {
      await database.drop();
    }
  });

  it('finds the shipped migrations beside the module', () => {
    expect(existsSync(join(defaultMigrationsFolder(), 'meta', '_journal.json'))).toBe(true);
  });

  it('refuses a migrations folder without a journal before connecting', async () => {
    await expect(DrizzleStore.pglite({ migrationsFolder: tmpdir() })).rejects.toThrow(InvalidConfigError);
    await expect(DrizzleStore.postgres('postgres://nobody@127.0.0.1:1/none', { migrationsFolder: tmpdir() })).rejects.toThrow(/_journal\.json/);
  });
});

describe('PGlite', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spane-pglite-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('keeps data in a data directory across close and reopen', async () => {
    const dataDir = join(dir, 'data');
    const first = await DrizzleStore.pglite({ dataDir });
    await first.saveWorkflow(workflowFixture());
    await first.createExecution(executionFixture('e1'));
    await first.saveNodeResult('e1', 'a', resultFixture(0));
    await first.close();
    const second = await DrizzleStore.pglite({ dataDir });
    expect(await second.getWorkflow('wf')).toMatchObject({ version: 1 });
    expect((await second.getExecution('e1'))!.nodeResults['a']!.data).toBe(0);
    await second.close();
  }, 60_000);

  it('uses a PGlite instance it is handed and leaves it open', async () => {
    const client = await PGlite.create();
    const store = await DrizzleStore.pglite({ client });
    await store.createExecution(executionFixture('e1'));
    await store.close();
    expect((await client.query('select execution_id from spane.executions')).rows).toEqual([{ execution_id: 'e1' }]);
    await client.close();
  }, 60_000);
});

describe('shipped migrations', () => {
  it('match schema.ts: drizzle-kit generate finds nothing to add', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spane-kit-'));
    try {
      await cp(join(root, 'src/store/drizzle/migrations'), join(dir, 'migrations'), { recursive: true });
      const config = join(dir, 'drizzle.config.json');
      await writeFile(
        config,
        // drizzle-kit takes paths relative to the working directory.
        JSON.stringify({ dialect: 'postgresql', schema: relative(dir, join(root, 'src/store/drizzle/schema.ts')), out: './migrations', schemaFilter: ['spane'] }),
      );
      const { stdout, stderr } = await run(process.execPath, [join(root, 'node_modules/drizzle-kit/bin.cjs'), 'generate', `--config=${config}`], { cwd: dir });
      expect(stdout + stderr).toMatch(/No schema changes/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it.skipIf(!existsSync(join(root, 'dist/index.js')))(
    'are found by the built package, from ESM and from CommonJS',
    async () => {
      const script = (load: string) => `
      ${load}.then(async ({ DrizzleStore }) => {
        const store = await DrizzleStore.pglite();
        const version = await store.saveWorkflow({ id: 'w', name: 'w', entryNodeId: 'a', nodes: [] });
        await store.close();
        console.log('version', version);
      });`;
      const esm = await run(process.execPath, ['--input-type=module', '-e', script(`import(${JSON.stringify(join(root, 'dist/index.js'))})`)]);
      expect(esm.stdout).toContain('version 1');
      const cjs = await run(process.execPath, ['-e', script(`Promise.resolve(require(${JSON.stringify(join(root, 'dist/index.cjs'))}))`)]);
      expect(cjs.stdout).toContain('version 1');
    },
    120_000,
  );
});
