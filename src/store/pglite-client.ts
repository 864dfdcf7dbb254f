/**
 * The PGlite instance SPANE's public API accepts and hands out, described by its shape instead of
 * as `@electric-sql/pglite`'s class, so that SPANE's published declarations never import
 * PGlite's: those reference Emscripten's global types, which a consumer compiling with
 * `skipLibCheck: false` does not have.
 *
 * @module
 */
import type { PGlite } from '@electric-sql/pglite';

/**
 * An open PGlite (`await PGlite.create(...)` from `@electric-sql/pglite`), as
 * `DrizzleStore.pglite({ client })`, `SqlBackend.embedded({ client })`, `migratePglite` and
 * `SqlBackend.pglite` type it. Any `PGlite` instance is one; SPANE uses it as the PGlite it is.
 */
export interface PgliteClient {
  /** The data directory, when the database is not in memory. */
  readonly dataDir?: string | undefined;
  /** Settles once the database has started. */
  readonly waitReady: Promise<void>;
  /** True once the database has started. */
  readonly ready: boolean;
  /** True once `close()` has run. */
  readonly closed: boolean;
  /** Runs one statement, with `$1`-style parameters. */
  query(query: string, params?: unknown[]): Promise<unknown>;
  /** Runs statements without parameters. */
  exec(query: string): Promise<unknown>;
  /** Calls `callback` with the payload of each notification on `channel`. */
  listen(channel: string, callback: (payload: string) => void): Promise<unknown>;
  /** Shuts the database down. */
  close(): Promise<void>;
}

/** The PGlite behind a {@link PgliteClient}: the interface only hides the class from the declarations. */
export function asPglite(client: PgliteClient): PGlite {
  return client as PGlite;
}
