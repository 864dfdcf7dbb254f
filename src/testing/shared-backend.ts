/**
 * The embedded databases test engines run on: one throwaway PGlite (BullMQ's PostgreSQL backend,
 * migrated, on a copy of the template) opened lazily per process and lent to one test engine at a
 * time. BullMQ's PostgreSQL backend keeps every queue in one schema whatever the prefix, so two
 * engines open at once cannot share a database: a second concurrent test engine gets a database
 * of its own, which is kept for reuse afterwards. A database handed back is emptied (every BullMQ
 * and SPANE backend table but the migration ledger and the prefix claim, by DELETE: a TRUNCATE
 * replaces every table's files, which on the database's data directory cost about 100 ms more per
 * test), so the next test engine starts from nothing. Once no test engine has been open for {@link IDLE_CLOSE_MS}, the idle
 * databases are closed: an open PGlite (its WASM timers) would keep the process alive after the
 * last test (`node --test` waits for that).
 *
 * @module
 * @internal
 */
import { SqlBackend } from '../runtime/queues/backends/sql-backend.js';
import { asPglite } from '../store/pglite-client.js';

/** Tables kept on reset: BullMQ's migration ledger and queue metadata, and the prefix claim. */
const KEPT = new Set(['migration', 'meta', 'spane_prefix']);

/** How long idle databases outlive the last open test engine (the next test usually starts well within it). */
const IDLE_CLOSE_MS = 300;

const idle: SqlBackend[] = [];
let leased = 0;
let closer: NodeJS.Timeout | undefined;
const truncate = new WeakMap<SqlBackend, string>();

/** A backend no test engine uses now: an idle one, or a new one (the first of the process is the slow start). */
export async function leaseBackend(): Promise<SqlBackend> {
  leased += 1;
  clearTimeout(closer);
  closer = undefined;
  try {
    return await idleOrNew();
  } catch (err) {
    leased -= 1;
    throw err;
  }
}

async function idleOrNew(): Promise<SqlBackend> {
  for (;;) {
    const backend = idle.pop();
    if (backend === undefined) break;
    if (!backend.closed) return backend;
  }
  return SqlBackend.embedded();
}

/** Empties `backend` and keeps it for the next test engine; a backend that cannot be emptied is closed. */
export async function returnBackend(backend: SqlBackend): Promise<void> {
  try {
    const db = asPglite(backend.pglite!);
    let statement = truncate.get(backend);
    if (statement === undefined) {
      const { rows } = await db.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'bullmq' ORDER BY tablename");
      const names = rows.map((r) => r.name).filter((n) => !KEPT.has(n));
      statement = names.map((n) => `DELETE FROM bullmq."${n}";`).join(' ');
      truncate.set(backend, statement);
    }
    await db.exec(statement);
    idle.push(backend);
  } catch {
    await backend.close().catch(() => undefined);
  } finally {
    leased -= 1;
    if (leased === 0) {
      closer = setTimeout(() => void closeIdle(), IDLE_CLOSE_MS);
      closer.unref();
    }
  }
}

/** Closes every idle database. */
async function closeIdle(): Promise<void> {
  closer = undefined;
  for (const backend of idle.splice(0)) await backend.close().catch(() => undefined);
}
