/**
 * Replay records of signed webhook deliveries, kept in the queue backend so every engine on it
 * shares them: a delivery key is claimed once (Redis `SET NX PX`, or an `INSERT ... ON CONFLICT`
 * on the PostgreSQL backends), the claimer starts the executions and records their ids, and any
 * repeat within the window gets those ids back instead of a second start.
 *
 * @module
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { WebhookRequestError } from '../../errors.js';
import { SqlBackend, WEBHOOK_DELIVERY_TABLE } from '../queues/backends/sql-backend.js';
import type { Logger } from '../engine/runtime.js';

/** What a delivery key holds: a claim still starting, or the ids it started. */
type DeliveryRecord = { state: 'pending'; token: string } | { state: 'done'; ids: string[] };

/** Where replay records live. */
export interface DeliveryStore {
  /** Claims `key` for `leaseMs` unless it is held; returns null when claimed, else what it holds. */
  claim(key: string, token: string, leaseMs: number): Promise<DeliveryRecord | null>;
  /** Replaces the claim with the started ids, kept for `ttlMs`. */
  record(key: string, ids: string[], ttlMs: number): Promise<void>;
  /** Drops the claim (when starting failed), unless someone else holds the key by now. */
  release(key: string, token: string): Promise<void>;
  /** What the key holds now, or null. */
  read(key: string): Promise<DeliveryRecord | null>;
}

/** How long a claim stands before a start that never recorded (a crashed engine) is given up. */
export const DELIVERY_LEASE_MS = 30_000;
/** How long a repeat waits for a concurrent first delivery to record its ids before answering 409. */
const WAIT_FOR_FIRST_MS = 5_000;
const POLL_MS = 20;

const PENDING = 'pending:';
const DONE = 'done:';

function encode(record: DeliveryRecord): string {
  return record.state === 'pending' ? PENDING + record.token : DONE + JSON.stringify(record.ids);
}

function decode(value: string | null | undefined): DeliveryRecord | null {
  if (value === null || value === undefined) return null;
  if (value.startsWith(PENDING)) return { state: 'pending', token: value.slice(PENDING.length) };
  return { state: 'done', ids: JSON.parse(value.slice(DONE.length)) as string[] };
}

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** Replay records in Redis, one string key each, under the engine's prefix (its Cluster slot). */
class RedisDeliveries implements DeliveryStore {
  constructor(private readonly redis: Redis) {}

  async claim(key: string, token: string, leaseMs: number): Promise<DeliveryRecord | null> {
    const set = await this.redis.set(key, encode({ state: 'pending', token }), 'PX', leaseMs, 'NX');
    return set === 'OK' ? null : ((await this.read(key)) ?? this.claim(key, token, leaseMs));
  }

  async record(key: string, ids: string[], ttlMs: number): Promise<void> {
    await this.redis.set(key, encode({ state: 'done', ids }), 'PX', ttlMs);
  }

  async release(key: string, token: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, key, encode({ state: 'pending', token }));
  }

  async read(key: string): Promise<DeliveryRecord | null> {
    return decode(await this.redis.get(key));
  }
}

const NOW_MS = 'extract(epoch FROM clock_timestamp()) * 1000';

/**
 * Replay records in a table of BullMQ's PostgreSQL backend. Expiry uses the database's clock, so
 * engines on different machines agree; expired rows are overwritten by a new claim and deleted
 * as claims come in.
 */
class SqlDeliveries implements DeliveryStore {
  constructor(private readonly backend: SqlBackend) {}

  async claim(key: string, token: string, leaseMs: number): Promise<DeliveryRecord | null> {
    const { pool } = this.backend;
    await pool.query(`DELETE FROM ${WEBHOOK_DELIVERY_TABLE} WHERE expires_at <= ${NOW_MS}`);
    const won = await pool.query(
      `INSERT INTO ${WEBHOOK_DELIVERY_TABLE} AS d (key, value, expires_at) VALUES ($1, $2, ${NOW_MS} + $3::float8)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at WHERE d.expires_at <= ${NOW_MS}
       RETURNING 1`,
      [key, encode({ state: 'pending', token }), leaseMs],
    );
    return won.rows.length > 0 ? null : ((await this.read(key)) ?? this.claim(key, token, leaseMs));
  }

  async record(key: string, ids: string[], ttlMs: number): Promise<void> {
    await this.backend.pool.query(
      `INSERT INTO ${WEBHOOK_DELIVERY_TABLE} (key, value, expires_at) VALUES ($1, $2, ${NOW_MS} + $3::float8)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
      [key, encode({ state: 'done', ids }), ttlMs],
    );
  }

  async release(key: string, token: string): Promise<void> {
    await this.backend.pool.query(`DELETE FROM ${WEBHOOK_DELIVERY_TABLE} WHERE key = $1 AND value = $2`, [key, encode({ state: 'pending', token })]);
  }

  async read(key: string): Promise<DeliveryRecord | null> {
    const { rows } = await this.backend.pool.query<{ value: string }>(`SELECT value FROM ${WEBHOOK_DELIVERY_TABLE} WHERE key = $1 AND expires_at > ${NOW_MS}`, [key]);
    return decode(rows[0]?.value);
  }
}

/** The replay records of an engine's backend. */
export function deliveryStore(backend: Redis | SqlBackend): DeliveryStore {
  return backend instanceof SqlBackend ? new SqlDeliveries(backend) : new RedisDeliveries(backend);
}

/** What identifies one delivery, for {@link deliveryKey}. */
export interface DeliveryIdentity {
  /** Which header identifies it (`webhook-id` or `x-spane-signature`). */
  kind: string;
  /** The webhook's method and path. */
  path: string;
  /** The identifier that header carries. */
  id: string;
}

/**
 * The key of one delivery: `kind` (which header identifies it), the webhook path and that
 * identifier, hashed so attacker-sized headers make fixed-size keys. Under the engine's prefix,
 * which is a Redis Cluster hash tag by default.
 */
export function deliveryKey(prefix: string, delivery: DeliveryIdentity): string {
  const { kind, path, id } = delivery;
  const digest = createHash('sha256').update(`${kind}\0${path}\0${id}`).digest('hex');
  return `${prefix}:webhook-delivery:${digest}`;
}

/** One delivery to start once, for {@link deliverOnce}. */
export interface OnceDelivery {
  /** The delivery's key (see {@link deliveryKey}). */
  key: string;
  /** How long the ids are kept: until the delivery's timestamp leaves the tolerance. */
  ttlMs: number;
  /** Starts the delivery's executions and returns their ids. */
  start: () => Promise<string[]>;
  /** Where a failure to record the delivery is logged. */
  logger: Logger;
}

/**
 * Runs `start` once per delivery key within `ttlMs`: the first caller claims the key and records
 * the ids `start` returns; a repeat returns those ids, waiting briefly when the first is still
 * starting (and answers 409 when it is still not done). When `start` throws, the claim is
 * dropped so the sender's retry can start the delivery.
 */
export async function deliverOnce(store: DeliveryStore, delivery: OnceDelivery): Promise<string[]> {
  const { key, ttlMs, start, logger } = delivery;
  const token = randomUUID();
  const deadline = Date.now() + WAIT_FOR_FIRST_MS;
  for (;;) {
    const held = await store.claim(key, token, DELIVERY_LEASE_MS);
    if (held === null) break;
    if (held.state === 'done') return held.ids;
    // Another request is starting this delivery: wait for its ids (or for it to give up).
    let current: DeliveryRecord | null = held;
    while (current?.state === 'pending' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      current = await store.read(key);
    }
    if (current?.state === 'done') return current.ids;
    if (current !== null) throw new WebhookRequestError('WEBHOOK_IN_PROGRESS', 'this delivery is being started by another request; retry shortly');
  }
  let ids: string[];
  try {
    ids = await start();
  } catch (err) {
    // The start's error is the one to report; a claim not released lapses after its lease.
    await store.release(key, token).catch(() => undefined);
    throw err;
  }
  // The executions exist now: a failed record must not turn into an error (the sender would
  // retry and start them again at once); the claim then lapses after its lease.
  await store.record(key, ids, Math.max(1, Math.ceil(ttlMs))).catch((err: unknown) => {
    logger.warn('could not record a webhook delivery; a repeat after the lease may start it again', { error: err instanceof Error ? err.message : String(err) });
  });
  return ids;
}
