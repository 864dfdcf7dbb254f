import { and, asc, desc, eq, inArray, isNotNull, lt, notInArray, or, sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Sql } from 'postgres';
import { TERMINAL_STATUSES } from '../../definition/types.js';
import type { ExecutionStatus, NodeResult, WorkflowDefinition, WorkflowExecution } from '../../definition/types.js';
import { ExecutionNotFoundError, InvalidArgumentError, InvalidConfigError, InvalidStateError } from '../../errors.js';
import type { PayloadStore } from '../payload-store.js';
import { asPglite } from '../pglite-client.js';
import type { PgliteClient } from '../pglite-client.js';
import { THIS_THREAD } from '../thread-access.js';
import type { StoreThreadAccess } from '../thread-access.js';
import {
  assertRecord,
  checkExecutionFilter,
  checkNodeResult,
  checkSaveWorkflowOptions,
  checkWorkflowLookup,
  resolvePruneCriteria,
  resolveUnfinishedQuery,
  unfinishedCursor,
} from '../store.js';
import type {
  ExecutionFilter,
  ExecutionHead,
  ExecutionLogEntry,
  ExecutionPage,
  ExecutionStore,
  NewExecution,
  PruneCriteria,
  SaveWorkflowOptions,
  TransitionPatch,
  UnfinishedExecutionQuery,
  WorkflowVersionInfo,
} from '../store.js';
import { canonicalJson } from '../canonical-json.js';
import { migratePglite, migratePostgres, resolveMigrationsFolder } from './migrate.js';
import type { MigrateOptions } from './migrate.js';
import { guard } from './faults.js';
import { HotPath } from './hot-path.js';
import { clientThreadAccess } from './thread-access.js';
import { executionColumns, jsonText, jsonValue, toExecution } from './rows.js';
import { selectExecutionPage, selectStatusCounts } from './listing.js';
import { resolveExecutionCountQuery, resolveExecutionListQuery } from '../execution-listing.js';
import type { ExecutionCountQuery, ExecutionListQuery, ExecutionStatusCounts, ExecutionSummaryPage } from '../execution-listing.js';
import type { ExecutionRow } from './rows.js';
import { executionLogs, executions, nodeResults, payloads, workflows } from './schema.js';
import * as waitRows from './waits.js';
import type { CreatedWait, NewWait, WaitMatchQuery, WaitPatch, WaitRecord, WaitRef, WaitState } from '../waits.js';

/** drizzle's own type of the database a store runs its queries on. */
type PgDb = PgDatabase<PgQueryResultHKT, Record<string, unknown>>;

/**
 * A drizzle database on any PostgreSQL driver: what `drizzle(client)` returns from
 * `drizzle-orm/postgres-js`, `drizzle-orm/pglite`, `drizzle-orm/node-postgres`, ... Declared by a
 * few of its methods rather than as drizzle's `PgDatabase`, so that SPANE's published
 * declarations import nothing from drizzle-orm (whose own declarations do not compile with
 * `skipLibCheck: false`). Any drizzle PostgreSQL database is one; the store uses it as that.
 */
export interface DrizzlePgDatabase {
  /** Runs raw SQL: a drizzle `sql` template or a string. */
  execute(query: string | { getSQL(): unknown }): PromiseLike<unknown>;
  /** Starts a select. */
  select(...fields: never[]): unknown;
  /** Starts an insert into `table`. */
  insert(table: never): unknown;
  /** Starts an update of `table`. */
  update(table: never): unknown;
  /** Starts a delete from `table`. */
  delete(table: never): unknown;
  /** Runs `transaction` in a transaction. */
  transaction(transaction: never, config?: never): Promise<unknown>;
}

/** The methods the constructor checks `db` has, so that a wrong argument fails there. */
const DRIZZLE_METHODS = ['execute', 'select', 'insert', 'update', 'delete', 'transaction'] as const;

/** Options of the {@link DrizzleStore} factories. */
export interface DrizzleStoreOptions extends MigrateOptions {
  /**
   * Apply the shipped migrations before returning the store. Already-applied migrations are
   * skipped, and concurrent processes take turns, so leaving this on is safe; turn it off when
   * migrations are run by a deploy step ({@link migratePostgres}, or `npx spane migrate`) or the
   * role may not run DDL.
   * @defaultValue true
   */
  migrate?: boolean;
}

/** Options of {@link DrizzleStore.pglite}. */
export interface DrizzlePgliteOptions extends DrizzleStoreOptions {
  /**
   * Directory PGlite keeps its database in. Without it (and without `client`) the database lives
   * in memory and is lost on `close()`.
   */
  dataDir?: string;
  /** An existing PGlite instance to use instead; the store will not close it. */
  client?: PgliteClient;
}

/** Options of {@link DrizzleStore.connect}. */
export interface DrizzleConnectOptions extends DrizzleStoreOptions {
  /**
   * PostgreSQL URL.
   * @defaultValue `process.env.DATABASE_URL`
   */
  url?: string;
  /** PGlite data directory, used when there is no URL; in memory when omitted too. */
  dataDir?: string;
}

/** Saving a definition retries this often when other writers keep taking the next version. */
const MAX_VERSION_RACES = 20;

/**
 * An {@link ExecutionStore} in PostgreSQL through drizzle-orm: on a PostgreSQL server through
 * `postgres` (postgres.js), shared by every worker process, or embedded through PGlite
 * (PostgreSQL compiled to WASM) in memory or in a data directory, for one process. Both run the
 * same schema (in the `spane` PostgreSQL schema) and the same migrations.
 *
 * How it keeps the interface's guarantees:
 * - `transitionExecution` is one `UPDATE ... WHERE status = any(from) RETURNING`: the row lock
 *   makes a concurrent second caller re-check the status it just changed, so exactly one wins.
 * - `saveNodeResult` is `INSERT ... ON CONFLICT (execution_id, node_id) DO UPDATE`.
 * - Every method is one autocommitted statement (or a read then a conditional insert), so a read
 *   after a completed write sees it, from any process on the same server.
 *
 * How it stays fast (the node-job path: `getExecutionHead`, `saveNodeResult`,
 * `transitionExecution`, `createExecution`): those run as drizzle prepared statements, and
 * concurrent `saveNodeResult` calls of one store share one multi-row upsert, concurrent
 * `createExecution` calls one insert, and concurrent `getExecution` or `getExecutionHead` calls
 * one query each. A head reads the execution row, the asked-for results (by primary key) and the
 * count of all results (an index-only count) in one statement, so what a node job costs this
 * process does not grow with the workflow.
 * A call that finds nothing in flight is sent at once; calls that arrive while earlier ones run
 * go together in the next statement, so under load many node results cost one WAL flush. Each
 * call still returns only once the statement carrying it has finished (a write has committed),
 * and a batched read is sent after every one of its callers asked, so read-your-writes holds as
 * above. A failed batch is retried call by call, so each caller gets its own error.
 *
 * With postgres.js the prepared statements are named server-side statements, parsed once per
 * connection. Behind PgBouncer in transaction mode, pass a client created with
 * `prepare: false`; the store then works the same, with one more round trip per statement.
 * - `saveWorkflow` compares definitions canonically (sorted keys, `version` ignored) and takes
 *   version N+1 with an insert that fails on the (id, version) key when another writer got there
 *   first, then looks again.
 *
 * Timestamps (`completedAt`, `pausedAt`) come from this process's clock, as in the in-memory
 * store; keep worker clocks in sync (NTP) when their order matters to you.
 *
 * @example
 * ```ts
 * const store = await DrizzleStore.postgres(process.env.DATABASE_URL);   // or DrizzleStore.pglite()
 * const engine = new WorkflowEngine({ registry, store, connection: redis });
 * // ...
 * await engine.close();
 * await store.close();
 * ```
 */
export class DrizzleStore implements ExecutionStore, PayloadStore {
  private closed = false;
  /** Prepared statements and batching of the calls every node job makes. */
  private readonly hot: HotPath;
  /** How a factory opened the store (a `#` field: the URL may hold a password, so it stays out of inspect output). */
  #threadAccess: StoreThreadAccess | undefined;
  /** `db` with drizzle's type, for the queries. */
  readonly #pg: PgDb;

  /**
   * Wraps a drizzle database whose schema is already migrated. Prefer the factories, which also
   * migrate and own their connection.
   *
   * @param db - a drizzle PostgreSQL database on any driver.
   * @param onClose - run once by {@link DrizzleStore.close}, to release what the caller wants released.
   */
  constructor(
    readonly db: DrizzlePgDatabase,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    if (typeof db !== 'object' || db === null || DRIZZLE_METHODS.some((m) => typeof (db as unknown as Record<string, unknown>)[m] !== 'function')) {
      throw new InvalidArgumentError(
        'new DrizzleStore(db): db must be a drizzle PostgreSQL database, as drizzle(client) returns it (drizzle-orm/postgres-js, drizzle-orm/pglite, ...)',
      );
    }
    this.#pg = db as unknown as PgDb;
    this.hot = new HotPath(this.#pg);
  }

  /**
   * How worker threads reach this store: `postgres` with the URL the store was opened on (or
   * one its postgres.js client's options describe), `this-thread` on PGlite, undefined for
   * other drivers. See {@link ExecutionStore.threadAccess}.
   */
  get threadAccess(): StoreThreadAccess | undefined {
    return this.#threadAccess ?? clientThreadAccess((this.#pg as { $client?: unknown }).$client);
  }

  /**
   * A store on a PostgreSQL server through postgres.js. Given a URL (or `DATABASE_URL`), the store
   * opens its own pool and ends it on `close()`; given a postgres.js client, it uses it and leaves
   * it open.
   *
   * @example
   * ```ts
   * const store = await DrizzleStore.postgres('postgres://postgres@127.0.0.1:5432/app');
   * ```
   */
  static async postgres(connection: string | Sql | undefined = process.env['DATABASE_URL'], options: DrizzleStoreOptions = {}): Promise<DrizzleStore> {
    if (connection === undefined || connection === '') {
      throw new InvalidConfigError('DrizzleStore.postgres needs a connection URL or a postgres.js client (or DATABASE_URL)');
    }
    const migrate = options.migrate ?? true;
    // A wrong migrations folder should fail before a pool is opened.
    if (migrate) resolveMigrationsFolder(options.migrationsFolder);
    const [{ default: postgres }, { drizzle }] = await Promise.all([import('postgres'), import('drizzle-orm/postgres-js')]);
    const owned = typeof connection === 'string';
    // The migrator's `CREATE SCHEMA IF NOT EXISTS` would otherwise print a NOTICE on every start.
    let client: Sql;
    try {
      client = owned ? postgres(connection, { onnotice: () => {} }) : connection;
    } catch (err) {
      // The string is not echoed: it may hold a password.
      throw new InvalidConfigError('DrizzleStore.postgres: the connection string is not a valid URL (expected postgres://user:password@host:port/database)', { cause: err });
    }
    try {
      if (migrate) await migratePostgres(client, options);
    } catch (err) {
      if (owned) await client.end({ timeout: 5 });
      throw err;
    }
    const store = new DrizzleStore(drizzle(client), owned ? () => client.end({ timeout: 5 }) : undefined);
    // Threads open the URL the caller gave; a client handed in is described by its own options.
    if (typeof connection === 'string') store.#threadAccess = { kind: 'postgres', url: connection };
    return store;
  }

  /**
   * An embedded store on PGlite: in memory by default, or persisted in `dataDir`. One process
   * only: PGlite is a database inside this process.
   *
   * @example
   * ```ts
   * const store = await DrizzleStore.pglite({ dataDir: './.spane-data' });
   * ```
   */
  static async pglite(options: DrizzlePgliteOptions = {}): Promise<DrizzleStore> {
    const migrate = options.migrate ?? true;
    // A wrong migrations folder should fail before PGlite spends seconds starting.
    if (migrate) resolveMigrationsFolder(options.migrationsFolder);
    const [{ PGlite }, { drizzle }] = await Promise.all([import('@electric-sql/pglite'), import('drizzle-orm/pglite')]);
    const owned = options.client === undefined;
    const client = options.client !== undefined ? asPglite(options.client) : options.dataDir === undefined ? await PGlite.create() : await PGlite.create(options.dataDir);
    try {
      if (migrate) await migratePglite(client, options);
    } catch (err) {
      if (owned) await client.close();
      throw err;
    }
    const store = new DrizzleStore(drizzle(client), owned ? () => client.close() : undefined);
    store.#threadAccess = THIS_THREAD;
    return store;
  }

  /**
   * PostgreSQL when a URL is given or `DATABASE_URL` is set, else embedded PGlite (in `dataDir`,
   * or in memory): the default SPANE's own tooling uses.
   */
  static async connect(options: DrizzleConnectOptions = {}): Promise<DrizzleStore> {
    const { url = process.env['DATABASE_URL'], dataDir, ...rest } = options;
    if (url !== undefined && url !== '') return DrizzleStore.postgres(url, rest);
    return DrizzleStore.pglite(dataDir === undefined ? rest : { ...rest, dataDir });
  }

  /** Releases the connection the store opened (none when it was handed one). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.onClose();
  }

  async saveWorkflow(definition: WorkflowDefinition, options?: SaveWorkflowOptions): Promise<number> {
    assertRecord('saveWorkflow', 'definition', definition);
    return guard('saveWorkflow', undefined, async () => {
      checkSaveWorkflowOptions(options);
      const { version: _ignored, ...body } = definition;
      const wanted = canonicalJson(body);
      for (let race = 0; race < MAX_VERSION_RACES; race++) {
        const [latest] = await this.#pg
          .select({ version: workflows.version, definition: sql<string>`${workflows.definition}::text` })
          .from(workflows)
          .where(eq(workflows.id, definition.id))
          .orderBy(desc(workflows.version))
          .limit(1);
        if (latest !== undefined && canonicalJson(JSON.parse(latest.definition)) === wanted) return latest.version;
        const version = (latest?.version ?? 0) + 1;
        const inserted = await this.#pg
          .insert(workflows)
          .values({ id: definition.id, version, definition: jsonValue(body)!, changeNotes: options?.changeNotes ?? null, createdAt: Date.now() })
          .onConflictDoNothing()
          .returning({ version: workflows.version });
        if (inserted.length > 0) return version;
      }
      throw new InvalidStateError(`Could not save workflow '${definition.id}': its version kept changing under concurrent saves`);
    });
  }

  async getWorkflow(workflowId: string, version?: number): Promise<WorkflowDefinition | null> {
    checkWorkflowLookup(workflowId, version);
    return guard('getWorkflow', undefined, async () => {
      const [row] = await this.#pg
        .select({ version: workflows.version, definition: sql<string>`${workflows.definition}::text` })
        .from(workflows)
        .where(version === undefined ? eq(workflows.id, workflowId) : and(eq(workflows.id, workflowId), eq(workflows.version, version)))
        .orderBy(desc(workflows.version))
        .limit(1);
      return row === undefined ? null : { ...(JSON.parse(row.definition) as WorkflowDefinition), version: row.version };
    });
  }

  async getLatestWorkflowVersion(workflowId: string): Promise<number | null> {
    return guard('getLatestWorkflowVersion', undefined, async () => {
      const [row] = await this.hot.statements.latestWorkflowVersion.execute({ workflowId });
      return row?.version ?? null;
    });
  }

  async listWorkflows(): Promise<WorkflowDefinition[]> {
    return guard('listWorkflows', undefined, async () => {
      const rows = await this.#pg
        .selectDistinctOn([workflows.id], { version: workflows.version, definition: sql<string>`${workflows.definition}::text` })
        .from(workflows)
        .orderBy(workflows.id, desc(workflows.version));
      return rows.map((row) => ({ ...(JSON.parse(row.definition) as WorkflowDefinition), version: row.version }));
    });
  }

  async createExecution(execution: NewExecution): Promise<void> {
    assertRecord('createExecution', 'execution', execution);
    return guard('createExecution', execution.executionId, async () => {
      const inserted = await this.hot.createExecution.call([
        execution.executionId,
        execution.workflowId,
        execution.workflowVersion,
        execution.status,
        jsonText(execution.initialData),
        execution.parentExecutionId ?? null,
        execution.parentNodeId ?? null,
        execution.depth,
        execution.startedAt,
        execution.forkedFrom?.executionId ?? null,
        execution.forkedFrom?.nodeId ?? null,
        execution.traceId ?? null,
        execution.traceParent ?? null,
      ]);
      if (!inserted) throw new InvalidArgumentError(`Execution '${execution.executionId}' already exists`);
    });
  }

  async getExecution(executionId: string): Promise<WorkflowExecution | null> {
    return guard('getExecution', executionId, async () => {
      // Each caller parses its own copy: callers may change what they get.
      const row = await this.hot.readExecution.call(executionId);
      return row === undefined ? null : toExecution(row);
    });
  }

  /** One statement (batched with concurrent calls): the execution row, the asked-for results, the count. */
  async getExecutionHead(executionId: string, nodeIds: readonly string[]): Promise<ExecutionHead | null> {
    return guard('getExecutionHead', executionId, async () => {
      const row = await this.hot.readHead.call([executionId, [...nodeIds]]);
      return row === undefined ? null : { ...toExecution(row), settledCount: Number(row.settledCount) };
    });
  }

  async listExecutions(filter: ExecutionFilter = {}): Promise<WorkflowExecution[]> {
    checkExecutionFilter(filter);
    return guard('listExecutions', undefined, async () => {
      const statuses = filter.status === undefined ? undefined : ([] as ExecutionStatus[]).concat(filter.status);
      const where = and(
        filter.workflowId === undefined ? undefined : eq(executions.workflowId, filter.workflowId),
        statuses === undefined ? undefined : inArray(executions.status, statuses),
      );
      return this.selectExecutions(where, 'newest', filter.limit ?? 100);
    });
  }

  /** Keyset paging on (started_at, execution_id), newest first; see src/store/drizzle/listing.ts for the indexes. */
  async listExecutionPage(query: ExecutionListQuery = {}): Promise<ExecutionSummaryPage> {
    const q = resolveExecutionListQuery(query);
    return guard('listExecutionPage', undefined, () => selectExecutionPage(this.#pg, q));
  }

  async countExecutions(query: ExecutionCountQuery = {}): Promise<ExecutionStatusCounts> {
    const q = resolveExecutionCountQuery(query);
    return guard('countExecutions', undefined, () => selectStatusCounts(this.#pg, q));
  }

  async listUnfinishedExecutions(query: UnfinishedExecutionQuery = {}): Promise<ExecutionPage> {
    const { statuses, startedBefore, after, limit } = resolveUnfinishedQuery(query);
    // Keyset paging over the partial index executions_unfinished_idx (started_at, execution_id).
    const where = and(
      inArray(executions.status, [...statuses]),
      startedBefore === undefined ? undefined : lt(executions.startedAt, startedBefore),
      after === undefined
        ? undefined
        : or(sql`${executions.startedAt} > ${after.startedAt}`, and(eq(executions.startedAt, after.startedAt), sql`${executions.executionId} > ${after.executionId}`)),
    );
    const rows: ExecutionRow[] = await this.#pg
      .select(executionColumns)
      .from(executions)
      .where(where)
      .orderBy(asc(executions.startedAt), asc(executions.executionId))
      .limit(limit + 1);
    const page = rows.slice(0, limit).map(toExecution);
    return rows.length > limit ? { executions: page, nextCursor: unfinishedCursor(page.at(-1)!) } : { executions: page };
  }

  async pruneExecutions(criteria: PruneCriteria): Promise<number> {
    return guard('pruneExecutions', undefined, async () => {
      const { olderThanMs, keepLast, statuses } = resolvePruneCriteria(criteria);
      const finished = and(inArray(executions.status, [...statuses]), isNotNull(executions.completedAt));
      const newest = this.#pg
        .select({ id: executions.executionId })
        .from(executions)
        .where(finished)
        .orderBy(desc(executions.completedAt), desc(executions.seq))
        .limit(keepLast ?? 0);
      // Node results, logs and payloads go with their execution (ON DELETE CASCADE).
      const deleted = await this.#pg
        .delete(executions)
        .where(
          and(
            finished,
            olderThanMs === undefined ? undefined : lt(executions.completedAt, Date.now() - olderThanMs),
            keepLast === undefined || keepLast === 0 ? undefined : notInArray(executions.executionId, newest),
          ),
        )
        .returning({ id: executions.executionId });
      return deleted.length;
    });
  }

  async getChildExecutions(parentExecutionId: string): Promise<WorkflowExecution[]> {
    return guard('getChildExecutions', parentExecutionId, async () => {
      return this.selectExecutions(eq(executions.parentExecutionId, parentExecutionId), 'oldest');
    });
  }

  async transitionExecution(executionId: string, from: readonly ExecutionStatus[], to: ExecutionStatus, patch: TransitionPatch = {}): Promise<boolean> {
    return guard('transitionExecution', executionId, async () => {
      const now = Date.now();
      // Same rules as the in-memory store: a terminal status stamps completedAt, anything else
      // clears it; pausedAt lives only while paused; going back to running forgets the old error.
      const updated = await this.hot.statements.transitionExecution.execute({
        executionId,
        from: from.join(','),
        to,
        completedAt: TERMINAL_STATUSES.includes(to) ? now : null,
        pausedAt: to === 'paused' ? (patch.pausedAt ?? now) : null,
        errorMode: to === 'running' ? 'clear' : patch.error !== undefined ? 'set' : 'keep',
        error: patch.error ?? null,
        errorDetails: jsonText(patch.error === undefined ? undefined : patch.errorDetails),
      });
      if (updated.length > 0) return true;
      await this.assertExecutionExists(executionId);
      return false;
    });
  }

  async saveNodeResult(executionId: string, nodeId: string, result: NodeResult): Promise<void> {
    checkNodeResult(nodeId, result);
    return guard('saveNodeResult', executionId, async () => {
      try {
        await this.hot.saveResult.call([
          executionId,
          nodeId,
          result.status,
          jsonText(result.data),
          result.error ?? null,
          jsonText(result.errorDetails),
          jsonText(result.nextNodes),
          result.attempts,
          result.startedAt ?? null,
          result.completedAt,
        ]);
      } catch (err) {
        throw mapForeignKeyViolation(err, executionId);
      }
    });
  }

  async deleteNodeResult(executionId: string, nodeId: string): Promise<void> {
    return guard('deleteNodeResult', executionId, async () => {
      const deleted = await this.#pg
        .delete(nodeResults)
        .where(and(eq(nodeResults.executionId, executionId), eq(nodeResults.nodeId, nodeId)))
        .returning({ nodeId: nodeResults.nodeId });
      if (deleted.length === 0) await this.assertExecutionExists(executionId);
    });
  }

  async addLog(executionId: string, entry: ExecutionLogEntry): Promise<void> {
    return guard('addLog', executionId, async () => {
      try {
        await this.#pg.insert(executionLogs).values({
          executionId,
          at: entry.at,
          level: entry.level,
          message: entry.message,
          nodeId: entry.nodeId ?? null,
        });
      } catch (err) {
        throw mapForeignKeyViolation(err, executionId);
      }
    });
  }

  async createWait(wait: NewWait): Promise<CreatedWait> {
    return guard('createWait', wait?.executionId, async () => {
      try {
        return await waitRows.createWait(this.#pg, wait);
      } catch (err) {
        throw mapForeignKeyViolation(err, wait.executionId);
      }
    });
  }

  async getWait(ref: WaitRef): Promise<WaitRecord | null> {
    return guard('getWait', ref?.executionId, () => waitRows.getWait(this.#pg, ref));
  }

  async updateWait(ref: WaitRef, from: readonly WaitState[], patch: WaitPatch): Promise<WaitRecord | null> {
    return guard('updateWait', ref?.executionId, () => waitRows.updateWait(this.#pg, ref, from, patch));
  }

  async listWaits(executionId: string): Promise<WaitRecord[]> {
    return guard('listWaits', executionId, () => waitRows.listWaits(this.#pg, executionId));
  }

  async findWaitingByMatch(query: WaitMatchQuery): Promise<WaitRecord[]> {
    return guard('findWaitingByMatch', undefined, () => waitRows.findWaitingByMatch(this.#pg, query));
  }

  async getLogs(executionId: string): Promise<ExecutionLogEntry[]> {
    return guard('getLogs', executionId, async () => {
      const rows = await this.#pg
        .select({ at: executionLogs.at, level: executionLogs.level, message: executionLogs.message, nodeId: executionLogs.nodeId })
        .from(executionLogs)
        .where(eq(executionLogs.executionId, executionId))
        .orderBy(asc(executionLogs.id));
      return rows.map((r) => ({
        at: Number(r.at),
        level: r.level as ExecutionLogEntry['level'],
        message: r.message,
        ...(r.nodeId === null ? {} : { nodeId: r.nodeId }),
      }));
    });
  }

  async getWorkflowVersions(workflowId: string): Promise<WorkflowVersionInfo[]> {
    return guard('getWorkflowVersions', undefined, async () => {
      const rows = await this.#pg
        .select({ version: workflows.version, createdAt: workflows.createdAt, changeNotes: workflows.changeNotes })
        .from(workflows)
        .where(eq(workflows.id, workflowId))
        .orderBy(asc(workflows.version));
      return rows.map((r) => ({ version: r.version, createdAt: Number(r.createdAt), ...(r.changeNotes === null ? {} : { changeNotes: r.changeNotes }) }));
    });
  }

  async putPayload(executionId: string, payloadId: string, json: string): Promise<void> {
    return guard('putPayload', executionId, async () => {
      const data = sql`${json}::text::jsonb`;
      const bytes = Buffer.byteLength(json);
      try {
        await this.#pg
          .insert(payloads)
          .values({ executionId, payloadId, data, bytes, createdAt: Date.now() })
          .onConflictDoUpdate({
            target: [payloads.executionId, payloads.payloadId],
            set: { data: sql`excluded.data`, bytes: sql`excluded.bytes`, createdAt: sql`excluded.created_at` },
          });
      } catch (err) {
        throw mapForeignKeyViolation(err, executionId);
      }
    });
  }

  async getPayloads(executionId: string, payloadIds: readonly string[]): Promise<Map<string, unknown>> {
    return guard('getPayloads', executionId, async () => {
      const out = new Map<string, unknown>();
      if (payloadIds.length === 0) return out;
      const rows = await this.#pg
        .select({ payloadId: payloads.payloadId, data: sql<string>`${payloads.data}::text` })
        .from(payloads)
        .where(and(eq(payloads.executionId, executionId), inArray(payloads.payloadId, [...payloadIds])));
      for (const r of rows) out.set(r.payloadId, JSON.parse(r.data));
      return out;
    });
  }

  async deletePayloads(executionId: string): Promise<number> {
    return guard('deletePayloads', executionId, async () => {
      const deleted = await this.#pg.delete(payloads).where(eq(payloads.executionId, executionId)).returning({ id: payloads.payloadId });
      return deleted.length;
    });
  }

  private async selectExecutions(where: SQL | undefined, order: 'newest' | 'oldest' = 'newest', limit?: number): Promise<WorkflowExecution[]> {
    const query = this.#pg
      .select(executionColumns)
      .from(executions)
      .where(where)
      .orderBy(order === 'newest' ? desc(executions.seq) : asc(executions.seq));
    const rows: ExecutionRow[] = limit === undefined ? await query : await query.limit(limit);
    return rows.map(toExecution);
  }

  private async assertExecutionExists(executionId: string): Promise<void> {
    const found = await this.hot.statements.executionExists.execute({ executionId });
    if (found.length === 0) throw new ExecutionNotFoundError(executionId);
  }
}

/** PostgreSQL's SQLSTATE for a foreign-key violation. */
const FOREIGN_KEY_VIOLATION = '23503';

/**
 * Turns "no such execution" reported by the foreign key into {@link ExecutionNotFoundError}.
 * Drivers put the SQLSTATE on their error as `code`; drizzle wraps that error as `cause`.
 */
export function mapForeignKeyViolation(err: unknown, executionId: string): unknown {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if ('code' in e && e.code === FOREIGN_KEY_VIOLATION) return new ExecutionNotFoundError(executionId);
  }
  return err;
}
