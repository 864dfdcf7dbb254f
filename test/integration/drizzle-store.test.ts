import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { InMemoryExecutionStore } from '../../src/store/memory.js';
import { DrizzleStore } from '../../src/store/drizzle/store.js';
import { runExecutionStoreContract } from '../contract/execution-store.contract.js';
import { createTestDatabase, truncateSpaneTables } from '../contract/databases.js';
import type { TestDatabase } from '../contract/databases.js';

// The in-memory store compares definitions as JSON text, so reordered keys make a new version
// there; the Drizzle store compares canonically.
runExecutionStoreContract('InMemoryExecutionStore', () => new InMemoryExecutionStore(), { peer: (s) => s });

describe('on PostgreSQL', () => {
  let database: TestDatabase;
  let owner: DrizzleStore;
  // A second pool on the same database: what another worker process would have.
  let peerClient: postgres.Sql;
  let peer: DrizzleStore;

  beforeAll(async () => {
    database = await createTestDatabase();
    owner = await DrizzleStore.postgres(database.url, { migrate: true });
    peerClient = postgres(database.url, { onnotice: () => {} });
    peer = new DrizzleStore(drizzle(peerClient));
  });
  afterAll(async () => {
    await owner?.close();
    await peerClient?.end({ timeout: 5 });
    await database?.drop();
  });

  runExecutionStoreContract(
    'DrizzleStore (PostgreSQL)',
    async () => {
      await truncateSpaneTables(owner.db);
      return owner;
    },
    { peer: () => peer },
  );
});

describe('on PGlite', () => {
  let store: DrizzleStore;
  beforeAll(async () => {
    store = await DrizzleStore.pglite();
  }, 60_000);
  afterAll(async () => store?.close());

  runExecutionStoreContract(
    'DrizzleStore (PGlite, in memory)',
    async () => {
      await truncateSpaneTables(store.db);
      return store;
    },
    { peer: (s) => s },
  );
});

describe('new DrizzleStore(db)', () => {
  // The parameter is typed by a few drizzle methods (so the declarations need no drizzle types): the rest is checked here.
  it.each([undefined, null, {}, { execute: async () => [] }, 'postgres://127.0.0.1/app'])('refuses %o, which is no drizzle database', (db) => {
    expect(() => new DrizzleStore(db as never)).toThrow(InvalidArgumentError);
  });
});
