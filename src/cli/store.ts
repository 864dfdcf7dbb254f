/**
 * How the `spane executions` commands open the state store: a DrizzleStore on the shared
 * PostgreSQL database the workers write to (or a PGlite data directory no process has open).
 *
 * @module
 */
import { BackendUnavailableError, InvalidArgumentError, SpaneError, StoreUnavailableError } from '../errors.js';
import { databaseUrlFromEnv } from '../runtime/engine/create-engine.js';
import { DrizzleStore } from '../store/drizzle/store.js';

/** Where a command reads executions. */
export interface CliStoreOptions {
  /** `--database-url`; else SPANE_DATABASE_URL, DATABASE_URL. */
  databaseUrl?: string | undefined;
  /** `--data-dir`: a PGlite data directory instead. */
  dataDir?: string | undefined;
}

/**
 * Opens the store (migrations applied, as `spane worker` does). Throws an
 * {@link InvalidArgumentError} when there is no shared store to read, and a
 * {@link BackendUnavailableError} naming the database (never its credentials) when it does not answer.
 */
export async function openCliStore(command: string, options: CliStoreOptions): Promise<DrizzleStore> {
  if (options.dataDir !== undefined && options.databaseUrl !== undefined) {
    throw new InvalidArgumentError(`spane ${command}: pass either --database-url or --data-dir, not both`);
  }
  if (options.dataDir !== undefined) return DrizzleStore.pglite({ dataDir: options.dataDir });
  const url = options.databaseUrl ?? databaseUrlFromEnv();
  if (url === undefined) {
    throw new InvalidArgumentError(
      `spane ${command}: no shared store: pass --database-url <url> or set SPANE_DATABASE_URL (or DATABASE_URL) to the PostgreSQL database the workers use; an in-memory store lives inside its own process, so no other process can read it`,
    );
  }
  try {
    return await DrizzleStore.postgres(url);
  } catch (err) {
    // A refused or unknown host, a missing database, bad credentials: say which server.
    if (err instanceof SpaneError && !(err instanceof StoreUnavailableError)) throw err;
    throw new BackendUnavailableError('postgres', `spane ${command}: database ${databaseName(url)}`, err);
  }
}

/** The database part of a URL, without credentials; a placeholder when it cannot be parsed (it may hold a password). */
export function databaseName(url: string): string {
  try {
    const parsed = new URL(url);
    return `'${decodeURIComponent(parsed.pathname.slice(1)) || '(default)'}' on ${parsed.host}`;
  } catch {
    return '(from the connection string)';
  }
}
