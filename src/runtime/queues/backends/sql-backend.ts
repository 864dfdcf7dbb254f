/**
 * BullMQ's PostgreSQL queue backend, on a PostgreSQL server (`postgres`) or on an in-process
 * PGlite (`embedded`), opened once and shared by any number of engines of the process.
 *
 * @module
 */
import { createPostgresBackend, DEFAULT_SCHEMA, quoteSchemaName, runMigrations } from 'bullmq';
import type { PgPool, PgQueryable } from 'bullmq';
import type { PGlite } from '@electric-sql/pglite';
import { asPglite } from '../../../store/pglite-client.js';
import type { PgliteClient } from '../../../store/pglite-client.js';
import { BackendUnavailableError, InvalidArgumentError, PrefixConflictError, SpaneError } from '../../../errors.js';
import { DEFAULT_PREFIX } from '../../engine/config.js';
import { migratePglite } from '../../../store/drizzle/migrate.js';
import { MIGRATIONS_TABLE, spaneSchema } from '../../../store/drizzle/schema.js';
import { PglitePool } from './pglite-pool.js';
import { currentTemplateInputs, defaultTemplateCacheDir, EMBEDDED_POSTGRESQL_CONF, migrationHash, openFromTemplate } from './pglite-template.js';
import type { TemplateDatabase } from './pglite-template.js';
import type { BackendThreadAccess } from './thread-access.js';

/** Where a SPANE engine keeps its queues. */
export type BackendKind = 'redis' | 'postgres' | 'embedded';

/**
 * PostgreSQL schema of BullMQ's tables and of SPANE's rate-limit table. BullMQ checks this schema
 * whenever it is handed a pool, so it is fixed: on these backends the queues' namespace is the
 * database (the engine's `prefix` is a Redis key prefix, which BullMQ's PostgreSQL backend
 * ignores). That is why a database belongs to one prefix; see {@link SqlBackend}.
 */
export const SQL_BACKEND_SCHEMA = DEFAULT_SCHEMA;

/** Options of {@link SqlBackend.postgres}. */
export interface PostgresBackendOptions {
  /** PostgreSQL connection string. */
  url: string;
  /**
   * Connections in the pool the engines' queues share. Each worker and each event listener keeps
   * one for LISTEN; the rest serve queries.
   * @defaultValue 20
   */
  poolSize?: number;
  /**
   * The `prefix` of the engines that will use this backend. The first prefix that opens a
   * database claims it; opening it with another throws a {@link PrefixConflictError}.
   * @defaultValue the engine's default prefix, `{spane}`
   */
  prefix?: string;
}

/** Options of {@link SqlBackend.embedded}. */
export interface EmbeddedBackendOptions {
  /** PGlite data directory (kept across restarts). Without it (and without `client`) the database is a throwaway one (see `templateCache`). */
  dataDir?: string;
  /** An open PGlite to use instead; the backend leaves it open on `close()`. */
  client?: PgliteClient;
  /**
   * The `prefix` of the engines that will use this backend; see {@link PostgresBackendOptions.prefix}.
   * @defaultValue `{spane}`
   */
  prefix?: string;
  /**
   * Folder of the migrated template a throwaway database starts from (no `dataDir`, no
   * `client`): the first start builds a migrated data directory there, keyed by SPANE's and
   * PGlite's versions and a hash of the migrations; every start then runs on a fresh copy of it
   * in the OS's temp folder (removed on `close()`, or after a crash by a later start) instead of
   * running initdb and the migrations. A damaged template is rebuilt; an unwritable folder only
   * means no cache. `false`: no template, a database in memory.
   * @defaultValue `SPANE_CACHE_DIR`, else `$XDG_CACHE_HOME/spane`, else `~/.cache/spane`
   */
  templateCache?: string | false;
}

/** Rate-limit table (GCRA: one theoretical arrival time per key). */
const RATE_LIMIT_TABLE = 'spane_rate_limit';

/** Replay records of signed webhook deliveries (see webhook-replay.ts). @internal */
export const WEBHOOK_DELIVERY_TABLE = 'spane_webhook_delivery';
/** One row: the prefix whose engines this database's queues belong to. */
const PREFIX_TABLE = 'spane_prefix';

/** What a {@link SqlBackend} is made of, for its private constructor. */
interface SqlBackendParts {
  /** `postgres` or `embedded`. */
  kind: 'postgres' | 'embedded';
  /** The pool handed to BullMQ. */
  pool: PgPool;
  /** The PGlite of an embedded backend, else undefined. */
  pglite: PgliteClient | undefined;
  /** The prefix the backend's database belongs to. */
  prefix: string;
  /** Closes the pool (and an owned PGlite). */
  release: () => Promise<void>;
}

/**
 * An opened PostgreSQL-family queue backend: BullMQ's migrations applied, a pool the engines'
 * queues, workers and event listeners share, and SPANE's rate-limit table. Pass it to engines
 * as `new WorkflowEngine({ ..., backend })`; {@link createEngine} opens one for you.
 *
 * What differs from Redis: `prefix` does not namespace queues, since BullMQ's PostgreSQL backend
 * keeps all queues in one schema. So a database belongs to one prefix: the first backend opened
 * on it claims it for its `prefix` (a row in `bullmq.spane_prefix`), opening it with another
 * prefix throws a {@link PrefixConflictError}, and so does an engine whose `prefix` is not its
 * backend's. Use another database for another prefix. Worker threads (`useWorkerThreads`) are
 * refused with a `NotSupportedError`.
 *
 * @example
 * ```ts
 * const backend = await SqlBackend.embedded({ dataDir: './.spane' });
 * const store = await DrizzleStore.pglite({ client: backend.pglite });
 * const engine = new WorkflowEngine({ registry, store, backend });
 * // ...
 * await engine.close();
 * await backend.close();
 * ```
 */
export class SqlBackend {
  private closing: Promise<void> | undefined;
  /** Embedded unless {@link SqlBackend.postgres} opened it (a `#` field: the URL may hold a password, so it stays out of inspect output). */
  #threadAccess: BackendThreadAccess = { kind: 'this-thread' };

  /** `postgres` or `embedded`. */
  readonly kind: 'postgres' | 'embedded';
  /** The pool handed to BullMQ. @internal */
  readonly pool: PgPool;
  /** The PGlite of an embedded backend (for a store on the same database), else undefined. */
  readonly pglite: PgliteClient | undefined;
  /** The prefix this backend's database belongs to; engines on it must use it. */
  readonly prefix: string;
  private readonly release: () => Promise<void>;

  private constructor(parts: SqlBackendParts) {
    this.kind = parts.kind;
    this.pool = parts.pool;
    this.pglite = parts.pglite;
    this.prefix = parts.prefix;
    this.release = parts.release;
  }

  /**
   * Opens BullMQ's PostgreSQL backend on a server: creates a pool with `search_path` set to the
   * schema, applies BullMQ's migrations (idempotent; concurrent starters take turns) and creates
   * the rate-limit table. Throws {@link BackendUnavailableError} when the server does not answer.
   */
  static async postgres(options: PostgresBackendOptions): Promise<SqlBackend> {
    if (typeof options?.url !== 'string' || options.url === '') throw new InvalidArgumentError("SqlBackend.postgres: 'url' must be a non-empty connection string");
    const prefix = checkPrefix('SqlBackend.postgres', options.prefix);
    const schema = SQL_BACKEND_SCHEMA;
    const poolSize = options.poolSize ?? 20;
    if (!Number.isInteger(poolSize) || poolSize < 4)
      throw new InvalidArgumentError(`SqlBackend.postgres: 'poolSize' must be an integer of at least 4, got ${String(options.poolSize)}`);
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: options.url, max: poolSize, options: `-c search_path=${schema},public` });
    // An idle client's error (server restart) must not crash the process; queries report it.
    pool.on('error', () => undefined);
    // BullMQ adds an 'error' listener per queue, worker and event listener sharing the pool.
    pool.setMaxListeners(0);
    try {
      await prepare(pool as unknown as PgPool, { schema, prefix, where: redactUrl(options.url) });
    } catch (err) {
      // The preparation's error is the one to report, not the cleanup's.
      await pool.end().catch(() => undefined);
      if (err instanceof SpaneError) throw err;
      throw new BackendUnavailableError('postgres', redactUrl(options.url), err);
    }
    const backend = new SqlBackend({ kind: 'postgres', pool: pool as unknown as PgPool, pglite: undefined, prefix, release: () => pool.end() });
    backend.#threadAccess = { kind: 'postgres', url: options.url };
    return backend;
  }

  /**
   * Opens BullMQ's PostgreSQL backend on an in-process PGlite (in memory, in `dataDir`, or the
   * given `client`), migrated, with the session's `search_path` set to the schema (PGlite
   * ignores the startup option).
   */
  static async embedded(options: EmbeddedBackendOptions = {}): Promise<SqlBackend> {
    const schema = SQL_BACKEND_SCHEMA;
    const prefix = checkPrefix('SqlBackend.embedded', options.prefix);
    if (options.dataDir !== undefined && options.client !== undefined) throw new InvalidArgumentError("SqlBackend.embedded: pass 'dataDir' or 'client', not both");
    if (options.dataDir !== undefined && (typeof options.dataDir !== 'string' || options.dataDir === '')) {
      throw new InvalidArgumentError("SqlBackend.embedded: 'dataDir' must be a non-empty path");
    }
    if (options.templateCache !== undefined && options.templateCache !== false && (typeof options.templateCache !== 'string' || options.templateCache === '')) {
      throw new InvalidArgumentError("SqlBackend.embedded: 'templateCache' must be a non-empty path or false");
    }
    let db: PGlite | undefined = options.client === undefined ? undefined : asPglite(options.client);
    const owned = db === undefined;
    let dispose: (() => Promise<void>) | undefined;
    if (db === undefined) {
      try {
        if (options.dataDir === undefined && options.templateCache !== false) {
          ({ db, dispose } = await openTemplate(options.templateCache ?? defaultTemplateCacheDir(), schema));
        } else {
          const { PGlite } = await import('@electric-sql/pglite');
          db = await PGlite.create({ postgresqlconf: [...EMBEDDED_POSTGRESQL_CONF], ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }) });
        }
      } catch (err) {
        throw new BackendUnavailableError('embedded', options.dataDir ?? 'memory', err);
      }
    }
    const pglite = db;
    const pool = new PglitePool(pglite);
    try {
      await prepare(pool, { schema, prefix, where: options.dataDir ?? 'the embedded database' });
      await pglite.exec(`SET search_path TO ${quoteSchemaName(schema)}, public`);
    } catch (err) {
      await pool.end();
      // The preparation's error is the one to report, not the cleanup's.
      if (owned) await pglite.close().catch(() => undefined);
      await dispose?.().catch(() => undefined);
      throw err;
    }
    return new SqlBackend({
      kind: 'embedded',
      pool,
      pglite,
      prefix,
      release: async () => {
        await pool.end();
        try {
          if (owned && !pglite.closed) await pglite.close();
        } finally {
          await dispose?.();
        }
      },
    });
  }

  /**
   * How another thread reaches this backend: `postgres` with the URL it was opened on, or
   * `this-thread` for an embedded one (its PGlite lives in this thread). Worker threads run on
   * Redis only today, so the engine refuses `useWorkerThreads` on either.
   */
  get threadAccess(): BackendThreadAccess {
    return this.#threadAccess;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * BullMQ's backend factory for this backend (for `withBackend`, or the queue classes' third
   * constructor argument), with the connection it needs. @internal
   */
  get bullmq(): { factory: typeof createPostgresBackend; connection: PgPool } {
    return { factory: createPostgresBackend, connection: this.pool };
  }

  /**
   * Takes one GCRA slot: returns 0 when granted, else the ms until the next slot. One
   * `INSERT ... ON CONFLICT DO UPDATE ... WHERE` grants atomically (the row lock orders
   * concurrent callers); a refused caller reads the current arrival time for its wait.
   *
   * The time is the database's clock when the statement runs, not `_now`: every process shares
   * it (no skew between workers), and a call that waited in the pool's queue (or in PGlite's one
   * session) is timed when it is granted, so grants stay spaced as the runs they admit. @internal
   */
  async gcra(key: string, _now: number, interval: number): Promise<number> {
    const granted = await this.pool.query(
      `INSERT INTO ${RATE_LIMIT_TABLE} AS r (key, tat)
         SELECT $1, extract(epoch FROM clock_timestamp()) * 1000 + $2::float8
       ON CONFLICT (key) DO UPDATE SET tat = GREATEST(r.tat, EXCLUDED.tat - $2::float8) + $2::float8
       WHERE GREATEST(r.tat, EXCLUDED.tat - $2::float8) - (EXCLUDED.tat - $2::float8) < $2::float8
       RETURNING 1`,
      [key, interval],
    );
    if (granted.rows.length > 0) return 0;
    const ahead = await this.pool.query<{ ms: number }>(`SELECT tat - extract(epoch FROM clock_timestamp()) * 1000 AS ms FROM ${RATE_LIMIT_TABLE} WHERE key = $1`, [key]);
    return Math.max(1, Math.ceil(Number(ahead.rows[0]?.ms ?? interval) - interval + 1));
  }

  /** The newest event id of a queue's BullMQ event stream ('0' when it has none). @internal */
  async lastEventId(queue: string): Promise<string> {
    const { rows } = await this.pool.query<{ max: string | number }>('SELECT COALESCE(MAX(id), 0)::bigint AS max FROM event WHERE queue = $1', [queue]);
    return String(rows[0]?.max ?? 0);
  }

  /**
   * Ends the pool (and the PGlite this backend opened). Engines using the backend should be
   * closed first. Safe to call more than once.
   */
  close(): Promise<void> {
    this.closing ??= this.release();
    return this.closing;
  }
}

/** A backend's claim on its database, for {@link prepare} and {@link claimPrefix}. */
interface PrefixClaim {
  /** The schema BullMQ's and SPANE's tables are in. */
  schema: string;
  /** The prefix claiming the database. */
  prefix: string;
  /** The database, as named in a conflict (a redacted URL or a directory). */
  where: string;
}

/** DDL of SPANE's own tables in the backend's schema (also hashed into the template key). */
function spaneTablesDdl(schema: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${quoteSchemaName(schema)}.${RATE_LIMIT_TABLE} (key text PRIMARY KEY, tat double precision NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${quoteSchemaName(schema)}.${WEBHOOK_DELIVERY_TABLE} (key text PRIMARY KEY, value text NOT NULL, expires_at double precision NOT NULL)`,
  ];
}

/**
 * A throwaway PGlite on a copy of the migrated template in `cacheDir`: BullMQ's migrations,
 * SPANE's backend tables and the store's migrations, without a prefix claim (each database claims
 * its own). `dispose` closes it and removes the copy. @internal
 */
export async function openTemplate(cacheDir: string, schema: string = SQL_BACKEND_SCHEMA): Promise<TemplateDatabase> {
  const ddl = spaneTablesDdl(schema);
  return openFromTemplate({
    cacheDir,
    inputs: currentTemplateInputs(migrationHash(ddl.join(';\n'))),
    migrate: async (db) => {
      const pool = new PglitePool(db);
      try {
        const client = await pool.connect();
        try {
          await runMigrations(client, schema);
          for (const statement of ddl) await client.query(statement);
        } finally {
          client.release();
        }
      } finally {
        await pool.end();
      }
      await migratePglite(db);
    },
    check: async (db) => {
      const { rows } = await db.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AND to_regclass($3) IS NOT NULL AS ok`, [
        `${quoteSchemaName(schema)}.${RATE_LIMIT_TABLE}`,
        `${quoteSchemaName(schema)}.${WEBHOOK_DELIVERY_TABLE}`,
        `${spaneSchema.schemaName}.${MIGRATIONS_TABLE}`,
      ]);
      return rows[0]?.ok === true;
    },
  });
}

/** BullMQ's migrations (on one session, as they require), SPANE's rate-limit and webhook-delivery tables, then the prefix claim. */
async function prepare(pool: PgPool, claim: PrefixClaim): Promise<void> {
  const { schema } = claim;
  const client = await pool.connect();
  try {
    await runMigrations(client, schema);
    // Concurrent `CREATE TABLE IF NOT EXISTS` of one table can fail on a unique index of the
    // catalog: starters take turns, as BullMQ's migrations do on their own lock.
    await client.query('SELECT pg_advisory_lock($1)', [SPANE_TABLES_LOCK]);
    try {
      for (const statement of spaneTablesDdl(schema)) await client.query(statement);
      await claimPrefix(client, claim);
    } finally {
      // An unlock fails only on a broken connection, whose session ending releases the lock.
      await client.query('SELECT pg_advisory_unlock($1)', [SPANE_TABLES_LOCK]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}

/** Advisory lock key serialising the creation of SPANE's tables in the backend's schema. */
const SPANE_TABLES_LOCK = 0x5a_a4_e0_02;

/**
 * Claims the database for `prefix`, or throws {@link PrefixConflictError} naming the prefix that
 * has it. One statement on a one-row table (the key is a constant): concurrent first claims are
 * ordered by the row lock, so exactly one prefix wins, and the claim survives restarts.
 */
async function claimPrefix(client: PgQueryable, claim: PrefixClaim): Promise<void> {
  const { schema, prefix, where } = claim;
  const table = `${quoteSchemaName(schema)}.${PREFIX_TABLE}`;
  await client.query(`CREATE TABLE IF NOT EXISTS ${table} (id boolean PRIMARY KEY DEFAULT true CHECK (id), prefix text NOT NULL, claimed_at bigint NOT NULL)`);
  const { rows } = await client.query<{ prefix: string }>(
    `INSERT INTO ${table} AS c (id, prefix, claimed_at) VALUES (true, $1, $2) ON CONFLICT (id) DO UPDATE SET prefix = c.prefix RETURNING prefix`,
    [prefix, Date.now()],
  );
  const owner = rows[0]?.prefix;
  if (owner !== undefined && owner !== prefix) {
    throw new PrefixConflictError({
      prefix,
      claimedBy: owner,
      where: `the queues in ${where}`,
      remedy: `BullMQ's PostgreSQL backend keeps every queue in the '${schema}' schema whatever the prefix, so engines with two prefixes on one database would take each other's jobs. Use another database for prefix '${prefix}', or open this one with prefix '${owner}'. (To move the database to another prefix once no engine of '${owner}' runs and its queues are empty: DELETE FROM ${table}.)`,
    });
  }
}

function checkPrefix(method: string, prefix: unknown): string {
  if (prefix === undefined) return DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || prefix === '' || prefix.includes(':'))
    throw new InvalidArgumentError(`${method}: 'prefix' must be a non-empty string without ':', got ${JSON.stringify(prefix)}`);
  return prefix;
}

/** The URL without its password, for error messages. @internal */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    // Not a URL: nothing can be cut out of it safely, so none of it is shown.
    return 'the given URL';
  }
}
