/**
 * What the shipped stores and queue backends declare as their `threadAccess` (how a worker
 * thread reaches them), on real PostgreSQL, PGlite and ioredis connections, and that the URL,
 * which may hold a password, stays out of what `util.inspect` (and so a logged object) shows.
 */
import { inspect } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrizzleStore, SqlBackend } from '../../src/index.js';
import { BullBinding } from '../../src/runtime/queues/backends/bull-binding.js';
import { redisThreadAccess } from '../../src/runtime/queues/backends/thread-access.js';
import { ConnectionErrors } from '../../src/runtime/queues/connection-errors.js';
import { createTestDatabase } from '../contract/databases.js';
import type { TestDatabase } from '../contract/databases.js';
import { memoryLogger } from '../helpers.js';

const SECRET = 's3cr3t-pw';

let database: TestDatabase;
/** The test database's URL with a password (the test server trusts local connections, so any password works). */
let secretUrl: string;

beforeAll(async () => {
  database = await createTestDatabase();
  const url = new URL(database.url);
  url.password = SECRET;
  secretUrl = url.toString();
}, 60_000);

afterAll(async () => {
  await database?.drop();
});

describe('DrizzleStore', () => {
  it('on PGlite (factory, or a drizzle database handed to the constructor) lives in this thread', async () => {
    const store = await DrizzleStore.pglite();
    const client = await PGlite.create();
    try {
      expect(store.threadAccess).toEqual({ kind: 'this-thread' });
      expect(new DrizzleStore(drizzlePglite(client)).threadAccess).toEqual({ kind: 'this-thread' });
    } finally {
      await store.close();
      await client.close();
    }
  }, 60_000);

  it('opened on a URL declares that URL, without showing it to inspect', async () => {
    const store = await DrizzleStore.postgres(secretUrl);
    try {
      expect(store.threadAccess).toEqual({ kind: 'postgres', url: secretUrl });
      expect(inspect(store, { depth: 1 })).not.toContain(SECRET);
    } finally {
      await store.close();
    }
  });

  it("on a postgres.js client declares the URL the client's options describe; unknown when a URL cannot carry them", async () => {
    const client = postgres(secretUrl, { onnotice: () => {} });
    const tls = postgres(secretUrl, { ssl: { rejectUnauthorized: false } });
    try {
      const store = await DrizzleStore.postgres(client, { migrate: false });
      const access = store.threadAccess;
      expect(access?.kind).toBe('postgres');
      const url = new URL(access?.kind === 'postgres' ? access.url : '');
      expect(url.pathname).toBe(`/${database.name}`);
      expect(url.password).toBe(SECRET);
      expect(new DrizzleStore(drizzlePostgres(client)).threadAccess).toEqual(access);
      expect(new DrizzleStore(drizzlePostgres(tls)).threadAccess).toBeUndefined();
    } finally {
      await client.end({ timeout: 5 });
      await tls.end({ timeout: 5 });
    }
  });
});

describe('queue backends', () => {
  it('SqlBackend: embedded lives in this thread, postgres declares its URL without showing it to inspect', async () => {
    const embedded = await SqlBackend.embedded();
    try {
      expect(embedded.threadAccess).toEqual({ kind: 'this-thread' });
      expect(BullBinding.sql(embedded, new ConnectionErrors(memoryLogger())).threadAccess).toEqual({ kind: 'this-thread' });
    } finally {
      await embedded.close();
    }
    const server = await SqlBackend.postgres({ url: secretUrl, poolSize: 4 });
    try {
      expect(server.threadAccess).toEqual({ kind: 'postgres', url: secretUrl });
      expect(inspect(server, { depth: 1 })).not.toContain(SECRET);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('Redis: the binding declares a URL for its host/port connection; none for a socket path or Sentinel', () => {
    const hostPort = new Redis({ host: 'cache.internal', port: 6380, username: 'app', password: SECRET, db: 2, lazyConnect: true });
    const socket = new Redis({ path: '/tmp/redis.sock', lazyConnect: true });
    const sentinel = new Redis({ sentinels: [{ host: 'sentinel.internal', port: 26379 }], name: 'main', lazyConnect: true });
    try {
      const binding = BullBinding.redis(hostPort, hostPort, new ConnectionErrors(memoryLogger()));
      expect(binding.threadAccess).toEqual({ kind: 'redis', url: `redis://app:${SECRET}@cache.internal:6380/2` });
      expect(redisThreadAccess(socket)).toBeUndefined();
      expect(redisThreadAccess(sentinel)).toBeUndefined();
    } finally {
      for (const c of [hostPort, socket, sentinel]) c.disconnect();
    }
  });
});
