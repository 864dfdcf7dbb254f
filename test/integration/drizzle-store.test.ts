import { drizzle } from 'drizzle-orm/postgres-js';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
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

describe('findWaitingByMatch is an index lookup', () => {
  // The query of src/store/drizzle/waits.ts's findWaitingByMatch. Sequential scans are turned off
  // so that the plan shows whether the partial index serves it at all (on a tiny table the planner
  // would scan either way); the plan must use waits_match_idx.
  const plan = async (db: DrizzleStore['db']): Promise<string> =>
    (db as unknown as PgDatabase<PgQueryResultHKT, Record<string, unknown>>).transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL enable_seqscan = off`);
      const result = (await tx.execute(
        sql`EXPLAIN SELECT execution_id FROM spane.waits WHERE kind = 'event' AND key = 'order.paid' AND state = 'waiting' AND match_value IN ('["orderId","o-1"]', '["orderId","o-2"]')`,
      )) as unknown as { rows?: Record<string, string>[] } & Record<string, string>[];
      const rows = result.rows ?? result;
      return rows.map((r) => Object.values(r)[0]).join('\n');
    });

  it('on PGlite', async () => {
    const store = await DrizzleStore.pglite();
    try {
      expect(await plan(store.db)).toContain('waits_match_idx');
    } finally {
      await store.close();
    }
  }, 60_000);

  it('on PostgreSQL', async () => {
    const database = await createTestDatabase();
    const store = await DrizzleStore.postgres(database.url, { migrate: true });
    try {
      expect(await plan(store.db)).toContain('waits_match_idx');
    } finally {
      await store.close();
      await database.drop();
    }
  });
});
