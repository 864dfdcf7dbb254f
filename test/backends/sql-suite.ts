/**
 * The integration suites on BullMQ's PostgreSQL backend. Loaded as a vitest setup file by the
 * `embedded` and `postgres` projects (vitest.config.ts): each test file gets one backend (one
 * in-memory PGlite, or a throwaway PostgreSQL database) in `beforeAll`, `testEngine()` builds its
 * engines on it, and after each test the queue tables are emptied, so every test starts from
 * empty queues as it does under its own Redis prefix.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { SqlBackend } from '../../src/index.js';
import { createTestDatabase } from '../contract/databases.js';
import type { TestDatabase } from '../contract/databases.js';
import { setTestSqlBackend, TEST_BACKEND } from '../helpers.js';

/** PGlite takes several seconds to start on a busy machine. */
const OPEN_TIMEOUT_MS = 180_000;

let backend: SqlBackend | undefined;
let database: TestDatabase | undefined;

beforeAll(async () => {
  if (TEST_BACKEND === 'embedded') backend = await SqlBackend.embedded();
  else if (TEST_BACKEND === 'postgres') {
    database = await createTestDatabase(undefined, 'spane_bq');
    backend = await SqlBackend.postgres({ url: database.url, poolSize: 30 });
  } else throw new Error(`test/backends/sql-suite.ts loaded with SPANE_TEST_BACKEND=${TEST_BACKEND}`);
  setTestSqlBackend(backend);
}, OPEN_TIMEOUT_MS);

// Registered before the test files' own hooks, so it runs after their cleanup (vitest runs
// after-hooks in reverse order) once the engines are closed.
afterEach(async () => {
  if (backend === undefined) return;
  const { rows } = await backend.pool.query<{ name: string }>(
    "SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname = 'bullmq' AND tablename <> 'migration'",
  );
  if (rows.length > 0) await backend.pool.query(`TRUNCATE ${rows.map((r) => r.name).join(', ')} CASCADE`);
});

afterAll(async () => {
  setTestSqlBackend(undefined);
  await backend?.close();
  await database?.drop();
}, OPEN_TIMEOUT_MS);
