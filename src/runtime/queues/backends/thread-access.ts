/**
 * How a worker thread reaches an engine's queue backend: what the backend binding declares, so
 * the sandbox host asks it instead of looking inside the connection.
 *
 * @module
 */

/**
 * How another thread of this process reaches a queue backend:
 *
 * - `redis`: a Redis server at `url`; each worker thread opens its own connections there.
 * - `postgres`: BullMQ's PostgreSQL backend on a server at `url`.
 * - `redis-cluster`: a Redis Cluster, which worker threads do not support (their runtime opens
 *   one server's connections).
 * - `this-thread`: an embedded database (PGlite) in this thread, which no other thread can open.
 *
 * URLs may carry a password: they are passed to threads in their environment, never logged.
 * Undefined means unknown (a Redis Sentinel or unix-socket connection, which no URL
 * describes): threads then need `SPANE_REDIS_URL` or `REDIS_URL`.
 */
export type BackendThreadAccess =
  { readonly kind: 'redis'; readonly url: string } | { readonly kind: 'redis-cluster' } | { readonly kind: 'postgres'; readonly url: string } | { readonly kind: 'this-thread' };

/**
 * The access of an ioredis connection given by host and port: a `redis://` (or `rediss://`) URL
 * with its username, password and db; `redis-cluster` for a Cluster. Undefined for Sentinel or a
 * socket path.
 */
export function redisThreadAccess(connection: unknown): BackendThreadAccess | undefined {
  const c = connection as { isCluster?: boolean; options?: Record<string, unknown> } | null | undefined;
  const o = c?.options;
  if (c?.isCluster === true) return { kind: 'redis-cluster' };
  if (o === undefined) return undefined;
  if (Array.isArray(o['sentinels']) && o['sentinels'].length > 0) return undefined;
  if (typeof o['path'] === 'string' && o['path'] !== '') return undefined;
  const host = typeof o['host'] === 'string' ? o['host'] : 'localhost';
  const port = typeof o['port'] === 'number' ? o['port'] : 6379;
  const user = typeof o['username'] === 'string' ? o['username'] : '';
  const password = typeof o['password'] === 'string' ? o['password'] : '';
  const auth = password !== '' ? `${encodeURIComponent(user)}:${encodeURIComponent(password)}@` : user !== '' ? `${encodeURIComponent(user)}@` : '';
  const db = typeof o['db'] === 'number' ? o['db'] : 0;
  return { kind: 'redis', url: `${o['tls'] ? 'rediss' : 'redis'}://${auth}${host.includes(':') ? `[${host}]` : host}:${port}/${db}` };
}
