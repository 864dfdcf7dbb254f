/**
 * `spane migrate`: applies the state store's shipped migrations as a deploy step, for stores
 * opened with `migrate: false`.
 *
 * @module
 */
import { BackendUnavailableError, InvalidArgumentError, SpaneError, StoreUnavailableError } from '../../errors.js';
import { databaseUrlFromEnv } from '../../runtime/engine/create-engine.js';
import { DrizzleStore } from '../../store/drizzle/store.js';
import type { CliIO } from '../io.js';
import { databaseName } from '../store.js';
import { println } from '../io.js';

/** Options of {@link migrateCommand}. */
export interface MigrateOptions {
  /** PostgreSQL to migrate; else SPANE_DATABASE_URL, DATABASE_URL. */
  databaseUrl?: string | undefined;
  /** A PGlite data directory to migrate instead. */
  dataDir?: string | undefined;
}

/**
 * Opens the store with migrations on (they run under an advisory lock, so concurrent deploys
 * wait for each other), closes it, and says which database is now up to date. Returns 0, or
 * throws: the caller prints the error and exits with 1.
 */
export async function migrateCommand(options: MigrateOptions, io: CliIO): Promise<number> {
  if (options.dataDir !== undefined && options.databaseUrl !== undefined) {
    throw new InvalidArgumentError('spane migrate: pass either --database-url or --data-dir, not both');
  }
  if (options.dataDir !== undefined) {
    await (await DrizzleStore.pglite({ dataDir: options.dataDir })).close();
    println(io.stdout, `PGlite database in ${options.dataDir}: migrations applied, schema up to date`);
    return 0;
  }
  const url = options.databaseUrl ?? databaseUrlFromEnv();
  if (url === undefined) {
    throw new InvalidArgumentError('spane migrate: no database: pass --database-url <url> or --data-dir <dir>, or set SPANE_DATABASE_URL or DATABASE_URL');
  }
  let store: DrizzleStore;
  try {
    store = await DrizzleStore.postgres(url);
  } catch (err) {
    // A refused or unknown host, a missing database, bad credentials: say which server (the
    // store's own StoreUnavailableError names only the operation).
    if (err instanceof SpaneError && !(err instanceof StoreUnavailableError)) throw err;
    throw new BackendUnavailableError('postgres', `spane migrate: database ${databaseName(url)}`, err);
  }
  await store.close();
  println(io.stdout, `PostgreSQL database ${databaseName(url)}: migrations applied, schema up to date`);
  return 0;
}
