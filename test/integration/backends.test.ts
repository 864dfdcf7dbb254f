/**
 * `createEngine` on each backend (redis, postgres, embedded): a workflow runs end to end with
 * the store the backend picks, what the engine does outside BullMQ (rate limits) works, and bad
 * options or unreachable servers give typed errors. Suites whose server does not answer are
 * skipped (the reason is in their name). spane-test: probes its servers
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendUnavailableError, createEngine, DrizzleStore, InMemoryExecutionStore, InvalidArgumentError, NodeRegistry, NotSupportedError, SqlBackend } from '../../src/index.js';
import type { WorkflowEngine } from '../../src/index.js';
import { createTestDatabase } from '../contract/databases.js';
import type { TestDatabase } from '../contract/databases.js';
import { graph, memoryLogger, node, sleep, until } from '../helpers.js';
import { PglitePool } from '../../src/runtime/queues/backends/pglite-pool.js';
import { engineInternals } from '../../src/runtime/engine/test-hooks.js';
import type { PgNotification } from 'bullmq';
import { PGlite } from '@electric-sql/pglite';
import { POSTGRES_URL, postgresAnswers, REDIS_URL, redisAnswers } from '../backends/probe.js';

const redisUp = await redisAnswers();
const postgresUp = await postgresAnswers();

function registry(): NodeRegistry {
  const r = new NodeRegistry();
  r.register('inc', async (ctx) => ({ success: true, data: { n: ((ctx.inputData as { n?: number })?.n ?? 0) + 1 } }));
  return r;
}

const chain = graph('chain', [node('a', 'inc'), node('b', 'inc'), node('c', 'inc')], ['a->b', 'b->c']);

async function runChain(engine: WorkflowEngine): Promise<string> {
  await engine.registerWorkflow(chain);
  engine.startWorkers(4);
  const id = await engine.enqueueWorkflow('chain', { n: 1 });
  const done = await engine.waitForExecution(id, { timeoutMs: 20_000 });
  expect(done.status).toBe('completed');
  expect(done.nodeResults['c']?.data).toEqual({ n: 4 });
  return id;
}

describe('createEngine: embedded (PGlite in a data directory)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spane-embedded-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs a workflow on one PGlite for queues and state, refuses worker threads, and keeps both across a restart', { timeout: 180_000 }, async () => {
    const first = await createEngine({ registry: registry(), backend: 'embedded', dataDir: dir, logger: memoryLogger() });
    let id: string;
    try {
      id = await runChain(first);
      const threads = await createEngineLike(first);
      expect(() => threads.startWorkers(1)).toThrow(NotSupportedError);
    } finally {
      await first.close();
    }
    // Same directory: the workflow definition and the finished execution are still there, and the queues work.
    const second = await createEngine({ registry: registry(), backend: 'embedded', dataDir: dir, logger: memoryLogger() });
    try {
      expect((await second.getExecution(id))?.status).toBe('completed');
      expect((await second.getWorkflow('chain'))?.version).toBe(1);
      second.startWorkers(2);
      const again = await second.enqueueWorkflow('chain', { n: 10 });
      expect((await second.waitForExecution(again, { timeoutMs: 20_000 })).nodeResults['c']?.data).toEqual({ n: 13 });
    } finally {
      await second.close();
    }
    await expect(second.enqueueWorkflow('chain', {})).rejects.toThrow(/closed/);
  });
});

/** An engine with worker threads on the same backend as `engine` (for the refusal). */
async function createEngineLike(engine: WorkflowEngine): Promise<WorkflowEngine> {
  const { WorkflowEngine: Engine } = await import('../../src/index.js');
  const backend = engineInternals(engine).sqlBackend;
  return new Engine({ registry: registry(), store: new InMemoryExecutionStore(), backend, config: { useWorkerThreads: true }, logger: memoryLogger() });
}

describe('PGlite as a pg.Pool (what wakes BullMQ workers on the embedded backend)', () => {
  it('passes each notification to the clients listening on its channel, and runs multi-statement SQL', { timeout: 120_000 }, async () => {
    const db = await PGlite.create();
    const pool = new PglitePool(db);
    try {
      const a = await pool.connect();
      const b = await pool.connect();
      const got: Record<string, string[]> = { a: [], b: [] };
      a.on('notification', (m: PgNotification) => got['a']!.push(`${m.channel}:${m.payload}`));
      b.on('notification', (m: PgNotification) => got['b']!.push(`${m.channel}:${m.payload}`));
      await a.query('-- as BullMQ sends it\nLISTEN bullmq_jobs;\n');
      await b.query('LISTEN bullmq_events');
      await pool.query("SELECT pg_notify('bullmq_jobs', 'q1')");
      await pool.query('SELECT pg_notify($1, $2)', ['bullmq_events', 'q2']);
      await until(() => got['a']!.length === 1 && got['b']!.length === 1, 5000, 'notifications');
      expect(got).toEqual({ a: ['bullmq_jobs:q1'], b: ['bullmq_events:q2'] });
      // A released client hears nothing more.
      a.release();
      await pool.query("SELECT pg_notify('bullmq_jobs', 'q3'); SELECT pg_notify('bullmq_events', 'q4')");
      await until(() => got['b']!.length === 2, 5000, 'second notification');
      expect(got['a']).toEqual(['bullmq_jobs:q1']);
      // Several statements without parameters, as in BullMQ's migrations: the last result comes back.
      const r = await pool.query('CREATE TEMP TABLE t (n int); INSERT INTO t VALUES (1), (2); SELECT count(*)::int AS n FROM t');
      expect(r.rows).toEqual([{ n: 2 }]);
    } finally {
      await pool.end();
      await db.close();
    }
  });
});

describe.skipIf(!redisUp)(`createEngine: redis${redisUp ? '' : ` (skipped: nothing answers at ${REDIS_URL})`}`, () => {
  it('runs a workflow on Redis with the given store', async () => {
    const engine = await createEngine({
      registry: registry(),
      backend: 'redis',
      redis: REDIS_URL,
      store: new InMemoryExecutionStore(),
      config: { prefix: `{spane-ce-${Date.now()}}` },
      logger: memoryLogger(),
    });
    try {
      await runChain(engine);
    } finally {
      await engine.close();
    }
  });
});

describe.skipIf(!postgresUp)(`createEngine: postgres${postgresUp ? '' : ` (skipped: nothing answers at ${POSTGRES_URL})`}`, () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('runs a workflow with BullMQ and a DrizzleStore in the same database', async () => {
    const engine = await createEngine({ registry: registry(), backend: 'postgres', databaseUrl: database.url, logger: memoryLogger() });
    let id: string;
    try {
      id = await runChain(engine);
    } finally {
      await engine.close();
    }
    const store = await DrizzleStore.postgres(database.url, { migrate: false });
    try {
      expect((await store.getExecution(id))?.status).toBe('completed');
    } finally {
      await store.close();
    }
  });

  it('runs a workflow enqueued on an idle engine, whose workers wait for a NOTIFY', { timeout: 60_000 }, async () => {
    const engine = await createEngine({ registry: registry(), backend: 'postgres', databaseUrl: database.url, logger: memoryLogger() });
    try {
      await engine.registerWorkflow(chain);
      engine.startWorkers(4);
      // `drained`: the node worker found its queue empty and went into its blocking wait. Its
      // loop starts after this tick, so the listener is in place before the first fetch.
      const worker = engineInternals(engine).nodeWorker();
      expect(worker).toBeDefined();
      const drained = new Promise<void>((resolve) => worker!.once('drained', () => resolve()));
      await engine.waitUntilReady();
      await drained;
      const id = await engine.enqueueWorkflow('chain', { n: 1 });
      const done = await engine.waitForExecution(id, { timeoutMs: 30_000 });
      expect(done.status).toBe('completed');
      expect(done.nodeResults['c']?.data).toEqual({ n: 4 });
    } finally {
      await engine.close();
    }
  });

  it('takes GCRA slots atomically in SQL, on the database clock: many simultaneous callers get no more than the burst', async () => {
    const backend = await SqlBackend.postgres({ url: database.url });
    try {
      // Slots 2 s apart. Like the Redis script, an idle key admits one slot ahead (a burst of two when
      // the callers' clock readings differ at all); of 20 simultaneous callers no more get through,
      // and the others are told to wait at most 2 s.
      const waits = await Promise.all(Array.from({ length: 20 }, () => backend.gcra('k', Date.now(), 2000)));
      const granted = waits.filter((w) => w === 0).length;
      expect(granted).toBeGreaterThanOrEqual(1);
      expect(granted).toBeLessThanOrEqual(2);
      for (const w of waits.filter((w) => w > 0)) expect(w).toBeGreaterThan(0);
      for (const w of waits) expect(w).toBeLessThanOrEqual(2001);
      // After the wait it was given, a caller gets the next slot. Kept: the wait is the thing
      // tested, on the database clock, which the test cannot advance.
      await sleep(Math.max(...waits) + 50);
      expect(await backend.gcra('k', Date.now(), 2000)).toBe(0);
    } finally {
      await backend.close();
    }
  });
});

describe('createEngine: options and unreachable backends', () => {
  it('refuses bad options with an InvalidArgumentError naming the option', async () => {
    const r = registry();
    await expect(createEngine({ registry: r, backend: 'mysql' as never })).rejects.toThrow(InvalidArgumentError);
    await expect(createEngine({ registry: r, backend: 'mysql' as never })).rejects.toThrow(/'backend'/);
    await expect(createEngine({ registry: r, backend: 'redis', dataDir: '/tmp/x' })).rejects.toThrow(/'dataDir' applies to the embedded backend/);
    await expect(createEngine({ registry: r, backend: 'embedded', redis: REDIS_URL })).rejects.toThrow(/'redis' applies to the redis backend/);
    await expect(createEngine({ registry: r, backend: 'embedded', colour: 'blue' } as never)).rejects.toThrow(/unknown option 'colour'/);
    const saved = [process.env['SPANE_DATABASE_URL'], process.env['DATABASE_URL']];
    delete process.env['SPANE_DATABASE_URL'];
    delete process.env['DATABASE_URL'];
    try {
      await expect(createEngine({ registry: r, backend: 'postgres' })).rejects.toThrow(/needs 'databaseUrl'/);
    } finally {
      if (saved[0] !== undefined) process.env['SPANE_DATABASE_URL'] = saved[0];
      if (saved[1] !== undefined) process.env['DATABASE_URL'] = saved[1];
    }
  });

  it('names the backend that does not answer', async () => {
    const redis = createEngine({ registry: registry(), backend: 'redis', redis: 'redis://127.0.0.1:1' });
    await expect(redis).rejects.toThrow(BackendUnavailableError);
    await expect(redis).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', backend: 'redis' });
    const pg = createEngine({ registry: registry(), backend: 'postgres', databaseUrl: 'postgres://postgres:secret@127.0.0.1:1/none' });
    await expect(pg).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', backend: 'postgres' });
    await expect(pg).rejects.not.toThrow(/secret/);
  });
});
