/**
 * A `pg.Pool` look-alike over one in-process PGlite, so BullMQ's PostgreSQL backend can run on
 * PGlite. BullMQ only needs the small surface of `PgPool` (query, connect/release, LISTEN
 * notifications); PGlite has one session, so every "client" shares it.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import type { PGlite } from '@electric-sql/pglite';
import type { PgNotification, PgPool, PgPoolClient, PgQueryResult } from 'bullmq';

const LISTEN = /^\s*(UN)?LISTEN\s+("?)([A-Za-z_][\w$]*)\2\s*;?\s*$/i;

/** Drops `--` line comments (BullMQ's command files start with some). */
function withoutComments(text: string): string {
  return text.replace(/--[^\n]*/g, '').trim();
}

/**
 * Runs SQL on a PGlite the way node-postgres would answer it. Parameterless text goes through
 * `exec` (the simple protocol: it may hold several statements, as BullMQ's migration files do);
 * anything with parameters through `query`. PGlite answers in pg's shapes already (int8 as
 * number rather than string, which BullMQ's decoders accept).
 */
async function run<R>(db: PGlite, text: string, params?: readonly unknown[]): Promise<PgQueryResult<R>> {
  if (params === undefined || params.length === 0) {
    const results = await db.exec(text);
    const last = results.at(-1);
    return { rows: (last?.rows ?? []) as R[], rowCount: last?.affectedRows ?? 0 };
  }
  const result = await db.query<R>(text, params as unknown[]);
  return { rows: result.rows, rowCount: result.affectedRows ?? 0 };
}

/** One checked-out "client": the shared session, plus the channels this client listens on. */
class PgliteClient extends EventEmitter implements PgPoolClient {
  readonly channels = new Set<string>();

  constructor(private readonly pool: PglitePool) {
    super();
  }

  async query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<PgQueryResult<R>> {
    const listen = params === undefined || params.length === 0 ? LISTEN.exec(withoutComments(text)) : null;
    if (listen !== null) {
      const channel = listen[3]!;
      if (listen[1] === undefined) await this.pool.listen(this, channel);
      else this.channels.delete(channel);
      return { rows: [], rowCount: 0 };
    }
    return this.pool.query<R>(text, params);
  }

  release(): void {
    this.channels.clear();
    this.pool.release(this);
  }
}

/**
 * The pool: `query` on the shared session, `connect` hands out {@link PgliteClient}s, and every
 * notification PGlite receives is passed to the clients listening on its channel. PostgreSQL
 * LISTEN is per session, so the session listens on the union of the clients' channels.
 */
export class PglitePool extends EventEmitter implements PgPool {
  private readonly clients = new Set<PgliteClient>();
  private readonly listening = new Set<string>();
  private readonly stopNotifications: () => void;
  private ended = false;

  constructor(private readonly db: PGlite) {
    super();
    // BullMQ adds an 'error' listener per queue, worker and event listener sharing the pool.
    this.setMaxListeners(0);
    this.stopNotifications = db.onNotification((channel, payload) => this.fanOut(channel, payload));
  }

  async query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<PgQueryResult<R>> {
    if (this.ended) throw new Error('Cannot use a pool after calling end on the pool');
    return run<R>(this.db, text, params);
  }

  async connect(): Promise<PgPoolClient> {
    if (this.ended) throw new Error('Cannot use a pool after calling end on the pool');
    const client = new PgliteClient(this);
    this.clients.add(client);
    return client;
  }

  /** Ends the pool (not the PGlite, which its owner closes). */
  async end(): Promise<void> {
    this.ended = true;
    this.stopNotifications();
    this.clients.clear();
  }

  /** @internal */
  async listen(client: PgliteClient, channel: string): Promise<void> {
    client.channels.add(channel);
    if (this.listening.has(channel)) return;
    this.listening.add(channel);
    await this.db.exec(`LISTEN "${channel}"`);
  }

  /** @internal */
  release(client: PgliteClient): void {
    this.clients.delete(client);
  }

  private fanOut(channel: string, payload: string): void {
    const message: PgNotification = { channel, payload, processId: 0 };
    for (const client of this.clients) if (client.channels.has(channel)) client.emit('notification', message);
  }
}
