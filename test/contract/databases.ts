/**
 * Throwaway databases for the Drizzle store tests. The shipped migrations fix the schema name, so
 * isolation is by database: each test file gets a fresh PostgreSQL database (dropped afterwards)
 * or its own in-memory PGlite, and tests inside a file empty the tables between them.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import type { DrizzlePgDatabase } from '../../src/store/drizzle/store.js';

/** The server the PostgreSQL tests run against; its `postgres` database is used to create others. */
export const POSTGRES_ADMIN_URL = process.env['SPANE_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh, empty database on the test server. */
export interface TestDatabase {
  /** Connection URL of the new database. */
  url: string;
  /** Its name. */
  name: string;
  /** Drops it, ending any connection still open on it. */
  drop(): Promise<void>;
}

/** A fresh, empty database on the server behind `adminUrl`; its name starts with `prefix`. */
export async function createTestDatabase(adminUrl = POSTGRES_ADMIN_URL, prefix = 'spane_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const conn = postgres(adminUrl, { max: 1, onnotice: () => {} });
      try {
        await conn.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await conn.end({ timeout: 5 });
      }
    },
  };
}

/** Empties every SPANE table, so the next test starts from a blank store on the same database. */
export async function truncateSpaneTables(db: DrizzlePgDatabase): Promise<void> {
  await db.execute(sql`truncate spane.waits, spane.payloads, spane.node_results, spane.execution_logs, spane.executions, spane.workflows restart identity`);
}
