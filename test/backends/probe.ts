/**
 * Whether the test servers answer. Used by vitest.config.ts (to pick the suites `npm test` can
 * run here and say which it skips) and by tests that need one server among several.
 */
import net from 'node:net';

export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** Database the postgres-backend suites create their throwaway databases next to. */
export const POSTGRES_URL = process.env['SPANE_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Resolves true when something accepts TCP connections at the URL's host and port within `ms`. */
export function answers(url: string, defaultPort: number, ms = 1500): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || defaultPort) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(ms, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export const redisAnswers = (): Promise<boolean> => answers(REDIS_URL, 6379);
export const postgresAnswers = (): Promise<boolean> => answers(POSTGRES_URL, 5432);
