/**
 * `prefix` on the PostgreSQL-family backends. BullMQ's PostgreSQL backend keeps every queue in
 * one schema whatever the prefix, so two prefixes on one database would share queues and take
 * each other's jobs; instead a database belongs to the first prefix that opens it, and another
 * prefix is refused at start with a PrefixConflictError. Embedded (PGlite) always runs; the
 * postgres cases run on a throwaway database when the test server answers (else they are skipped,
 * the reason in their name). spane-test: probes its servers
 */
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, InMemoryExecutionStore, InvalidConfigError, NodeRegistry, PrefixConflictError, SqlBackend, WorkflowEngine } from '../../src/index.js';
import { postgresAnswers } from '../backends/probe.js';
import { createTestDatabase } from '../contract/databases.js';
import type { TestDatabase } from '../contract/databases.js';
import { memoryLogger } from '../helpers.js';

const postgresUp = await postgresAnswers();

function engineOn(backend: SqlBackend, prefix: string): WorkflowEngine {
  return new WorkflowEngine({ registry: new NodeRegistry(), store: new InMemoryExecutionStore(), backend, config: { prefix }, logger: memoryLogger() });
}

async function refusal(promise: Promise<unknown>): Promise<PrefixConflictError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PrefixConflictError);
  return err as PrefixConflictError;
}

describe('prefix on the embedded backend', () => {
  let pglite: PGlite;
  beforeAll(async () => {
    pglite = await PGlite.create();
  }, 120_000);
  afterAll(async () => {
    await pglite?.close();
  });

  it('refuses an engine whose prefix is not its backend’s, at construction, naming both', async () => {
    const backend = await SqlBackend.embedded({ client: pglite, prefix: '{alpha}' });
    try {
      let thrown: unknown;
      try {
        engineOn(backend, '{beta}');
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(PrefixConflictError);
      expect(thrown).toBeInstanceOf(InvalidConfigError);
      expect((thrown as PrefixConflictError).code).toBe('INVALID_CONFIG');
      expect((thrown as Error).message).toContain('{beta}');
      expect((thrown as Error).message).toContain('{alpha}');
      const same = engineOn(backend, '{alpha}');
      await same.close();
    } finally {
      await backend.close();
    }
  });

  it('lets the first prefix claim the database and refuses another backend with a second prefix on it', async () => {
    const again = await SqlBackend.embedded({ client: pglite, prefix: '{alpha}' });
    await again.close();
    const err = await refusal(SqlBackend.embedded({ client: pglite, prefix: '{beta}' }));
    expect(err).toMatchObject({ prefix: '{beta}', claimedBy: '{alpha}' });
    expect(err.message).toContain('another database');
  });
});

describe.skipIf(!postgresUp)(`prefix on the postgres backend${postgresUp ? '' : ' (skipped: PostgreSQL does not answer)'}`, () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(undefined, 'spane_prefix');
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('claims the database for the first prefix, across backends and createEngine', async () => {
    const first = await SqlBackend.postgres({ url: database.url, prefix: '{alpha}' });
    try {
      const err = await refusal(SqlBackend.postgres({ url: database.url, prefix: '{beta}' }));
      expect(err).toMatchObject({ prefix: '{beta}', claimedBy: '{alpha}' });
      expect(() => engineOn(first, '{beta}')).toThrow(PrefixConflictError);
      await refusal(createEngine({ registry: new NodeRegistry(), backend: 'postgres', databaseUrl: database.url, logger: memoryLogger() }));
      // The same prefix, from another backend (another process, say), is welcome.
      const engine = await createEngine({ registry: new NodeRegistry(), backend: 'postgres', databaseUrl: database.url, config: { prefix: '{alpha}' }, logger: memoryLogger() });
      await engine.close();
    } finally {
      await first.close();
    }
  });

  it('has exactly one winner when two prefixes open an empty database at once', async () => {
    const fresh = await createTestDatabase(undefined, 'spane_prefix_race');
    try {
      const opened = await Promise.allSettled(['{one}', '{two}', '{three}'].map((prefix) => SqlBackend.postgres({ url: fresh.url, prefix })));
      const won = opened.filter((o) => o.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const o of opened) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(PrefixConflictError);
      await Promise.all(won.map((o) => (o as PromiseFulfilledResult<SqlBackend>).value.close()));
    } finally {
      await fresh.drop();
    }
  });
});
