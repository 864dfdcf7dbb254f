/**
 * How another thread reaches a {@link DrizzleStore} that was handed its database rather than
 * opened by a factory: told by the store's own driver client.
 *
 * @module
 */
import { THIS_THREAD } from '../thread-access.js';
import type { StoreThreadAccess } from '../thread-access.js';

/**
 * `this-thread` for PGlite, `postgres` with a URL for a postgres.js client whose options a URL
 * can carry, else undefined (another driver, a unix socket, TLS options beyond `sslmode`).
 */
export function clientThreadAccess(client: unknown): StoreThreadAccess | undefined {
  // PGlite (minified, so not by class name): an object with waitReady and exec; postgres.js clients are functions.
  if (typeof client === 'object' && client !== null && 'waitReady' in client && typeof (client as { exec?: unknown }).exec === 'function') return THIS_THREAD;
  if (typeof client !== 'function') return undefined;
  const url = postgresJsUrl((client as { options?: Record<string, unknown> }).options);
  return url === undefined ? undefined : { kind: 'postgres', url };
}

/** A postgres:// URL equivalent to a postgres.js client's parsed options, when one exists. */
function postgresJsUrl(o: Record<string, unknown> | undefined): string | undefined {
  if (o === undefined || !Array.isArray(o['host']) || !Array.isArray(o['port'])) return undefined;
  if (typeof o['path'] === 'string' && o['path'] !== '') return undefined;
  if (o['pass'] !== null && o['pass'] !== undefined && typeof o['pass'] !== 'string') return undefined;
  if (typeof o['ssl'] === 'object' && o['ssl'] !== null) return undefined; // TLS options a URL cannot carry
  const hosts = (o['host'] as unknown[]).map((h, i) => {
    const host = String(h);
    return `${host.includes(':') ? `[${host}]` : host}:${String((o['port'] as unknown[])[i] ?? (o['port'] as unknown[])[0] ?? 5432)}`;
  });
  const user = typeof o['user'] === 'string' ? o['user'] : '';
  const pass = typeof o['pass'] === 'string' ? o['pass'] : '';
  const auth = user === '' ? '' : pass === '' ? `${encodeURIComponent(user)}@` : `${encodeURIComponent(user)}:${encodeURIComponent(pass)}@`;
  const database = typeof o['database'] === 'string' ? o['database'] : '';
  const ssl = o['ssl'];
  const query = ssl === true || ssl === 'require' ? '?sslmode=require' : typeof ssl === 'string' && ssl !== '' && ssl !== 'disable' ? `?sslmode=${ssl}` : '';
  return `postgres://${auth}${hosts.join(',')}/${encodeURIComponent(database)}${query}`;
}
