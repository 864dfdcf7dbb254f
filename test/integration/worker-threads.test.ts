/**
 * useWorkerThreads end to end, on the real Redis and a fresh PostgreSQL database: startup checks
 * (including executors modules that are missing, broken, never finish loading or fail only in
 * threads), a smoke pass over the runtime's behaviours in threads (the full integration suite
 * also runs in thread mode, through test/fixtures/modes.ts), serialisation, and isolation: a
 * thread that throws at top level, exits or runs out of memory fails only its own job (BullMQ
 * retries it), and a CPU-bound node does not block the main thread.
 *
 * Executors live in a module written to a temporary directory, because threads load them by path.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryExecutionStore, InvalidConfigError } from '../../src/index.js';
import type { ExecutionStore, NodeRegistry, SpaneEvent, WorkflowExecution } from '../../src/index.js';
import { deserialize } from '../../src/runtime/sandbox/serialize.js';
import { DrizzleStore } from '../../src/store/drizzle/store.js';
import { createTestDatabase } from '../contract/databases.js';
import type { TestDatabase } from '../contract/databases.js';
import { graph, node, testEngine, until, waitForParked } from '../helpers.js';
import { nodeJobId } from '../../src/index.js';
import { engineInternals } from '../../src/runtime/engine/test-hooks.js';
import type { TestEngine } from '../helpers.js';

const src = (p: string) => pathToFileURL(path.resolve(import.meta.dirname, '../../src', p)).href;
const fast = { maxAttempts: 2, backoff: { type: 'fixed' as const, delay: 10 } };

/** The executors every thread loads. Threads share nothing but Redis, the store and files. */
const EXECUTORS = `
import { writeFileSync, existsSync } from 'node:fs';
import { isMainThread, threadId } from 'node:worker_threads';
import { NodeRegistry } from '${src('runtime/engine/registry.ts')}';

export const registry = new NodeRegistry();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

registry.register('where', async () => ({ success: true, data: { isMainThread, threadId } }));
registry.register('emit', async (ctx) => ({ success: true, data: { n: ctx.nodeConfig.n } }));
registry.register('join', async (ctx) => ({
  success: true,
  data: { total: Object.values(ctx.inputData).reduce((s, v) => s + v.n, 0), parents: Object.keys(ctx.inputData).sort() },
}));
registry.register('router', async (ctx) => ({ success: true, data: 'routed', nextNodes: [ctx.inputData.value > 100 ? 'high' : 'low'] }));
registry.register('mark', async (ctx) => ({ success: true, data: ctx.nodeId + '-out' }));
registry.register('flaky', async (ctx) => (ctx.attempt < 3 ? { success: false, error: 'not yet' } : { success: true, data: { attempt: ctx.attempt } }));
registry.register('gate', async (ctx) => (existsSync(ctx.nodeConfig.flag) ? { success: true, data: { paid: ctx.inputData } } : { success: false, error: 'gateway down' }));
registry.register('pass', async (ctx) => ({ success: true, data: ctx.inputData }));
registry.register('transform', async (ctx) => ({ success: true, data: { ...(ctx.inputData ?? {}), [ctx.workflowId]: ctx.depth } }));
registry.register('charge', async (ctx) => ({ success: true, data: { paymentId: 'pay_' + ctx.inputData.amount } }));
registry.register('types', async () => ({
  success: true,
  data: { big: 2n ** 70n, map: new Map([['k', { at: new Date(0) }]]), set: new Set([1, 2]), buf: Buffer.from('hi'), fn: () => 1, when: new Date(0) },
}));
registry.register('inspect', async (ctx) => ({
  success: true,
  data: {
    map: ctx.inputData.map instanceof Map,
    mapValue: ctx.inputData.map.get('k'),
    big: typeof ctx.inputData.big,
    set: ctx.inputData.set instanceof Set && ctx.inputData.set.has(2),
    buf: Buffer.isBuffer(ctx.inputData.buf) ? ctx.inputData.buf.toString() : null,
  },
}));
registry.register('wait-abort', async (ctx) => {
  await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
  writeFileSync(ctx.nodeConfig.flag, String(ctx.signal.reason?.message ?? ctx.signal.reason));
  return { success: false, error: 'aborted' };
});
registry.register('held', async (ctx) => {
  // Runs until the test creates the flag file.
  while (!existsSync(ctx.nodeConfig.flag)) await sleep(10);
  return { success: true, data: { at: Date.now() } };
});
registry.register('slow', async (ctx) => {
  await sleep(ctx.nodeConfig.ms ?? 100);
  return { success: true, data: { at: Date.now() } };
});
registry.register('cpu', async (ctx) => {
  const start = Date.now();
  while (Date.now() - start < ctx.nodeConfig.ms) { /* busy */ }
  return { success: true, data: { busyMs: Date.now() - start, isMainThread } };
});
registry.register('crash-throw', async (ctx) => {
  if (ctx.attempt > 1) return { success: true, data: 'recovered' };
  setTimeout(() => { throw new Error('top-level boom'); }, 0);
  await new Promise(() => {}); // the uncaught error ends the thread first
  return { success: true, data: 'not reached' };
});
registry.register('crash-exit', async (ctx) => {
  if (ctx.attempt > 1) return { success: true, data: 'recovered' };
  process.exit(7);
});
registry.register('crash-oom', async (ctx) => {
  if (ctx.attempt > 1) return { success: true, data: 'recovered' };
  const hog = [];
  for (;;) hog.push(new Array(1_000_000).fill(Math.random()));
});
registry.register('always-exit', async () => process.exit(1));
registry.register('big', async () => ({ success: true, data: { blob: 'x'.repeat(120_000) } }));
registry.register('measure', async (ctx) => ({ success: true, data: { length: ctx.inputData.blob.length, isMainThread } }));
registry.register('bad-getter', async () => ({ success: true, data: { get boom() { throw new Error('getter exploded'); } } }));
`;

let database: TestDatabase;
let store: DrizzleStore;
let dir: string;
let executorsModule: string;
let registry: NodeRegistry;

beforeAll(async () => {
  database = await createTestDatabase();
  store = await DrizzleStore.postgres(database.url);
  dir = await mkdtemp(path.join(os.tmpdir(), 'spane-threads-'));
  executorsModule = path.join(dir, 'executors.mts');
  await writeFile(executorsModule, EXECUTORS);
  registry = ((await import(pathToFileURL(executorsModule).href)) as { registry: NodeRegistry }).registry;
}, 60_000);

afterAll(async () => {
  await store?.close();
  await database?.drop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function threaded(config: Record<string, unknown> = {}): TestEngine {
  return testEngine({ store, registry, config: { useWorkerThreads: true, executorsModule, ...config } });
}

describe("useWorkerThreads on a store in the main thread's memory (the engine serves it to the threads)", () => {
  const exercise = async (t: TestEngine) => {
    const e = t.engine;
    await e.registerWorkflow(graph('where', [node('a', 'where')], []));
    await e.registerWorkflow(
      graph(
        'fan',
        [node('start', 'pass'), node('x', 'emit', { config: { n: 1 } }), node('y', 'emit', { config: { n: 2 } }), node('j', 'join')],
        ['start->x', 'start->y', 'x->j', 'y->j'],
      ),
    );
    await e.registerWorkflow(graph('flaky', [node('only', 'flaky', { config: { retryPolicy: { maxAttempts: 3, backoff: { type: 'fixed', delay: 10 } } } })], []));
    await e.registerWorkflow(graph('large', [node('make', 'big'), node('size', 'measure')], ['make->size']));
    e.startWorkers(2);
    await e.waitUntilReady();
    const run = async (id: string, data: unknown = {}) => e.waitForExecution(await e.enqueueWorkflow(id, data), { timeoutMs: 60_000 });

    const where = await run('where');
    expect(where.status).toBe('completed');
    expect(where.nodeResults['a']?.data).toMatchObject({ isMainThread: false });
    const fan = await run('fan', { order: 1 });
    expect(fan.nodeResults['j']?.data).toEqual({ total: 3, parents: ['x', 'y'] });
    const flaky = await run('flaky');
    expect(flaky.nodeResults['only']).toMatchObject({ status: 'completed', attempts: 3, data: { attempt: 3 } });
    // The claim check works through the bridge: the store keeps a reference, the next node the value.
    const large = await run('large');
    expect(large.nodeResults['size']?.data).toEqual({ length: 120_000, isMainThread: false });
    const raw = await t.store.getExecution(large.executionId);
    expect(raw?.nodeResults['make']?.data).toMatchObject({ $spanePayload: expect.any(String) });
  };

  it("InMemoryExecutionStore, as in the spec: nodes run in threads, every result lands in the engine's store", async () => {
    const t = testEngine({ store: new InMemoryExecutionStore(), registry, config: { useWorkerThreads: true, executorsModule } });
    try {
      await exercise(t);
    } finally {
      await t.cleanup();
    }
  }, 120_000);

  it('DrizzleStore on PGlite, the same way', async () => {
    const pglite = await DrizzleStore.pglite();
    const t = testEngine({ store: pglite, registry, config: { useWorkerThreads: true, executorsModule } });
    try {
      await exercise(t);
    } finally {
      await t.cleanup();
      await pglite.close();
    }
  }, 120_000);

  it('a custom store that declares threadAccess this-thread (not an InMemoryExecutionStore) is served to the threads, even with SPANE_DATABASE_URL set', async () => {
    const inner = new InMemoryExecutionStore();
    // Delegates every method, so `instanceof` cannot tell what it is: only its declaration can.
    const custom: Record<string, unknown> = { threadAccess: { kind: 'this-thread' } };
    for (const name of Object.getOwnPropertyNames(InMemoryExecutionStore.prototype)) {
      const method: unknown = (inner as unknown as Record<string, unknown>)[name];
      if (name !== 'constructor' && typeof method === 'function') custom[name] = (...args: unknown[]) => (method as (...a: unknown[]) => unknown).apply(inner, args);
    }
    const t = testEngine({
      store: custom as unknown as ExecutionStore,
      registry,
      // Threads that opened this database instead would write where the engine never reads.
      config: { useWorkerThreads: true, executorsModule, workerThreadsOptions: { env: { SPANE_DATABASE_URL: database.url } } },
    });
    try {
      await exercise(t);
    } finally {
      await t.cleanup();
    }
  }, 120_000);
});

describe('useWorkerThreads: checks at startWorkers', () => {
  it.each([
    ['no executors module', {}, /executorsModule/],
    ['a missing executors module', { executorsModule: '/nonexistent/executors.js' }, /does not exist/],
    ['a missing processor file', { executorsModule: undefined, processorFile: '/nonexistent/processor.js' }, /processorFile.*does not exist/],
  ])('throws InvalidConfigError for %s', async (_, config, message) => {
    const t = testEngine({ store, registry, config: { useWorkerThreads: true, ...config } });
    try {
      expect(() => t.engine.startWorkers(1)).toThrow(InvalidConfigError);
      expect(() => t.engine.startWorkers(1)).toThrow(message);
    } finally {
      await t.cleanup();
    }
  });

  it.each([
    ['throws when imported', 'throw new Error("cannot load executors");', /could not be imported: cannot load executors/],
    ['exports no registry', 'export const somethingElse = 1;', /must export a NodeRegistry/],
  ])('rejects waitUntilReady with InvalidConfigError for a module that %s, and runs nothing', async (name, body, message) => {
    const file = path.join(dir, `broken-${name.replaceAll(' ', '-')}.mjs`);
    await writeFile(file, body);
    const t = threaded({ executorsModule: file });
    try {
      await t.engine.registerWorkflow(graph('never', [node('a', 'emit')], []));
      t.engine.startWorkers(1);
      const ready = t.engine.waitUntilReady();
      await expect(ready).rejects.toBeInstanceOf(InvalidConfigError);
      await expect(ready).rejects.toThrow(message);
      const id = await t.engine.enqueueWorkflow('never', {});
      // No node worker was created, so nothing can take the entry job, which stays waiting.
      expect(engineInternals(t.engine).nodeWorker()).toBeUndefined();
      expect(await engineInternals(t.engine).rt.queues.nodeQueue.getJobState(nodeJobId(id, 'a'))).toBe('waiting');
      expect((await t.engine.getExecution(id))?.nodeResults).toEqual({});
    } finally {
      await t.cleanup();
    }
  });
});

describe('useWorkerThreads: an executors module that loads in the main thread but not in the threads, or never', () => {
  it('rejects waitUntilReady with InvalidConfigError when the module never finishes loading, and close() still returns', async () => {
    const file = path.join(dir, 'never-loads.mjs');
    await writeFile(file, 'await new Promise(() => {});\nexport const registry = null;\n');
    const t = threaded({ executorsModule: file, workerThreadsOptions: { env: { SPANE_EXECUTORS_TIMEOUT_MS: '300' } } });
    try {
      t.engine.startWorkers(1);
      const ready = t.engine.waitUntilReady();
      await expect(ready).rejects.toBeInstanceOf(InvalidConfigError);
      await expect(ready).rejects.toThrow(/did not yield a registry within 300 ms/);
    } finally {
      await t.cleanup();
    }
  });

  it('throws InvalidConfigError at startWorkers for a malformed SPANE_EXECUTORS_TIMEOUT_MS', async () => {
    const t = threaded({ workerThreadsOptions: { env: { SPANE_EXECUTORS_TIMEOUT_MS: 'soon' } } });
    try {
      expect(() => t.engine.startWorkers(1)).toThrow(/SPANE_EXECUTORS_TIMEOUT_MS must be a positive integer/);
    } finally {
      await t.cleanup();
    }
  });

  it('fails the node into the DLQ, naming the cause, when the module throws only in worker threads', async () => {
    const file = path.join(dir, 'main-thread-only.mts');
    await writeFile(
      file,
      [
        `import { isMainThread } from 'node:worker_threads';`,
        `import { registry } from '${pathToFileURL(executorsModule).href}';`,
        `if (!isMainThread) throw new Error('this module refuses to load in a worker thread');`,
        'export { registry };',
      ].join('\n'),
    );
    const t = threaded({ executorsModule: file });
    try {
      await t.engine.registerWorkflow(graph('no-thread', [node('a', 'pass', { config: { retryPolicy: fast } })], []));
      t.engine.startWorkers(1);
      await t.engine.waitUntilReady();
      const id = await t.engine.enqueueWorkflow('no-thread', {});
      const done = await t.engine.waitForExecution(id, { timeoutMs: 60_000 });
      expect(done.status).toBe('failed');
      expect(done.nodeResults['a']).toMatchObject({ status: 'failed', attempts: 2 });
      expect(done.nodeResults['a']?.error).toMatch(/could not start: .*this module refuses to load in a worker thread/);
      const item = (await t.engine.getDLQItems(0, 100)).find((i) => i.executionId === id);
      expect(item).toMatchObject({ nodeId: 'a' });
    } finally {
      await t.cleanup();
    }
  }, 60_000);
});

describe('useWorkerThreads: runtime behaviours in threads', () => {
  let t: TestEngine;
  const seen: SpaneEvent[] = [];

  beforeAll(async () => {
    t = threaded();
    const e = t.engine;
    await e.registerWorkflow(graph('where', [node('a', 'where')], []));
    await e.registerWorkflow(
      graph(
        'fan',
        [node('start', 'pass'), node('x', 'emit', { config: { n: 1 } }), node('y', 'emit', { config: { n: 2 } }), node('z', 'emit', { config: { n: 0 } }), node('j', 'join')],
        ['start->x', 'start->y', 'start->z', 'x->j', 'y->j', 'z->j'],
      ),
    );
    await e.registerWorkflow(
      graph(
        'router',
        [node('route', 'router'), node('high', 'mark'), node('low', 'mark'), node('low2', 'mark'), node('join', 'mark')],
        ['route->high', 'route->low', 'low->low2', 'high->join', 'low2->join'],
      ),
    );
    await e.registerWorkflow(graph('flaky', [node('only', 'flaky', { config: { retryPolicy: { maxAttempts: 3, backoff: { type: 'fixed', delay: 10 } } } })], []));
    await e.registerWorkflow(graph('level2', [node('deep', 'transform'), node('charge', 'charge')], ['deep->charge']));
    await e.registerWorkflow(
      graph(
        'level1',
        [
          node('process', 'transform'),
          node('call-level2', 'sub-workflow', { config: { workflowId: 'level2', inputMapping: { amount: 'main' }, outputMapping: { tx: 'paymentId' } } }),
        ],
        ['process->call-level2'],
      ),
    );
    await e.registerWorkflow(graph('main', [node('start', 'transform'), node('call-level1', 'sub-workflow', { config: { workflowId: 'level1' } })], ['start->call-level1']));
    await e.registerWorkflow(graph('types', [node('make', 'types'), node('check', 'inspect')], ['make->check']));
    e.observeEvents((event) => void seen.push(event));
    e.startWorkers(4);
    await e.waitUntilReady();
  }, 60_000);
  afterAll(async () => t?.cleanup());

  const run = async (workflowId: string, data: unknown = {}): Promise<WorkflowExecution> =>
    t.engine.waitForExecution(await t.engine.enqueueWorkflow(workflowId, data), { timeoutMs: 60_000 });

  it('runs executors in worker threads, not the main thread', async () => {
    const done = await run('where');
    expect(done.status).toBe('completed');
    expect(done.nodeResults['a']?.data).toMatchObject({ isMainThread: false });
    expect((done.nodeResults['a']?.data as { threadId: number }).threadId).toBeGreaterThan(0);
  }, 60_000);

  it('passes data along and joins parents as { parentId: data }, falsy values included', async () => {
    const done = await run('fan', { order: 1 });
    expect(done.status).toBe('completed');
    expect(done.nodeResults['j']?.data).toEqual({ total: 3, parents: ['x', 'y', 'z'] });
    expect(done.nodeResults['z']?.data).toEqual({ n: 0 });
    expect(done.nodeResults['start']?.data).toEqual({ order: 1 });
  }, 60_000);

  it('runs only the chosen branch and skips the other down to the join', async () => {
    const done = await run('router', { value: 500 });
    expect(done.status).toBe('completed');
    expect(done.nodeResults['low']?.status).toBe('skipped');
    expect(done.nodeResults['low2']?.status).toBe('skipped');
    expect(done.nodeResults['route']?.nextNodes).toEqual(['high']);
    expect(done.nodeResults['join']?.data).toBe('join-out');
  }, 60_000);

  it('retries a flaky node with its retry policy', async () => {
    const done = await run('flaky');
    expect(done.status).toBe('completed');
    expect(done.nodeResults['only']).toMatchObject({ status: 'completed', attempts: 3, data: { attempt: 3 } });
    expect(seen.filter((e) => e.executionId === done.executionId && e.type === 'node:retrying')).toHaveLength(2);
  }, 60_000);

  it('fails into the DLQ after the last attempt, and retryDLQItem completes the execution', async () => {
    const flag = path.join(dir, `gate-${Date.now()}`);
    await t.engine.registerWorkflow(
      graph('retry-dlq', [node('a', 'pass'), node('pay', 'gate', { config: { flag, retryPolicy: fast } }), node('ship', 'pass')], ['a->pay', 'pay->ship']),
    );
    const id = await t.engine.enqueueWorkflow('retry-dlq', { order: 9 });
    const failed = await t.engine.waitForExecution(id, { timeoutMs: 60_000 });
    expect(failed).toMatchObject({ status: 'failed', error: "Node 'pay' failed: gateway down" });
    expect(failed.nodeResults['pay']).toMatchObject({ status: 'failed', attempts: 2 });
    const item = (await t.engine.getDLQItems(0, 100)).find((i) => i.executionId === id);
    expect(item).toMatchObject({ nodeId: 'pay', error: 'gateway down' });
    await writeFile(flag, 'open');
    expect(await t.engine.retryDLQItem(item!.jobId)).toBe(true);
    const done = await t.engine.waitForExecution(id, { timeoutMs: 60_000 });
    expect(done.status).toBe('completed');
    expect(done.nodeResults['ship']?.data).toEqual({ paid: { order: 9 } });
  }, 60_000);

  it('runs nested sub-workflows with mappings', async () => {
    const done = await run('main');
    expect(done.status).toBe('completed');
    expect(done.nodeResults['call-level1']?.data).toEqual({ tx: 'pay_0' });
    const [l1] = await store.getChildExecutions(done.executionId);
    expect(l1).toMatchObject({ workflowId: 'level1', depth: 1, status: 'completed' });
    const [l2] = await store.getChildExecutions(l1!.executionId);
    expect(l2!.nodeResults['charge']?.data).toEqual({ paymentId: 'pay_0' });
  }, 60_000);

  it('serialises outputs at the thread boundary as the table says, and children get them back', async () => {
    const done = await run('types');
    expect(done.status).toBe('completed');
    const stored = done.nodeResults['make']?.data as Record<string, unknown>;
    expect(stored['when']).toBe('1970-01-01T00:00:00.000Z');
    expect(stored['big']).toEqual({ __spane_type: 'bigint', value: String(2n ** 70n) });
    expect(stored['buf']).toEqual({ __spane_type: 'Buffer', base64: Buffer.from('hi').toString('base64') });
    expect(stored).not.toHaveProperty('fn');
    const back = deserialize(stored) as { map: Map<string, unknown>; set: Set<number>; big: bigint };
    expect(back.map.get('k')).toEqual({ at: '1970-01-01T00:00:00.000Z' });
    expect([...back.set]).toEqual([1, 2]);
    expect(back.big).toBe(2n ** 70n);
    expect(done.nodeResults['check']?.data).toEqual({ map: true, mapValue: { at: '1970-01-01T00:00:00.000Z' }, big: 'bigint', set: true, buf: 'hi' });
  }, 60_000);

  it('fails a node whose output cannot be serialised, without retrying it', async () => {
    await t.engine.registerWorkflow(graph('unserialisable', [node('bad', 'bad-getter', { config: { retryPolicy: fast } })], []));
    const done = await run('unserialisable');
    expect(done.status).toBe('failed');
    expect(done.nodeResults['bad']).toMatchObject({ status: 'failed', attempts: 1 });
    expect(done.nodeResults['bad']?.error).toMatch(/cannot be serialised: getter exploded/);
  }, 60_000);

  it("delivers the threads' events to observeEvents (metrics) and to subscribers", async () => {
    const subscribed: SpaneEvent[] = [];
    await t.engine.eventsReady();
    const stop = t.engine.subscribe((e) => void subscribed.push(e));
    try {
      const done = await run('fan', {});
      const mine = (list: SpaneEvent[]) => list.filter((e) => e.executionId === done.executionId).map((e) => e.type);
      await until(() => mine(subscribed).includes('workflow:completed'), 10_000, 'workflow:completed on the stream');
      await until(() => mine(seen).includes('workflow:completed'), 10_000, 'workflow:completed locally');
      for (const list of [seen, subscribed]) {
        expect(mine(list).filter((type) => type === 'node:completed')).toHaveLength(5);
        expect(mine(list)).toContain('node:started');
      }
    } finally {
      stop();
    }
  }, 60_000);

  it('pauses (parking the next job in its thread) and resumes where it stopped', async () => {
    const flag = path.join(dir, `release-${Date.now()}`);
    await t.engine.registerWorkflow(graph('pausable', [node('first', 'held', { config: { flag } }), node('second', 'pass')], ['first->second']));
    const id = await t.engine.enqueueWorkflow('pausable', { go: true });
    await until(() => seen.some((e) => e.executionId === id && e.type === 'node:started'), 30_000, 'the first node to start');
    expect(await t.engine.pauseWorkflow(id)).toBe(true);
    await writeFile(flag, '');
    await until(async () => (await t.engine.getExecution(id))?.nodeResults['first'] !== undefined, 10_000, 'the first node to finish');
    // A thread takes the second node's job and parks it instead of running it.
    await waitForParked(t.engine, id, 'second', 10_000);
    const paused = await t.engine.getExecution(id);
    expect(paused?.status).toBe('paused');
    expect(paused?.nodeResults['second']).toBeUndefined();
    expect(await t.engine.resumeWorkflow(id)).toBe(true);
    const done = await t.engine.waitForExecution(id, { timeoutMs: 30_000 });
    expect(done.status).toBe('completed');
    expect(done.nodeResults['second']?.data).toEqual({ at: expect.any(Number) });
  }, 60_000);

  it('aborts the signal of a node running in a thread when its execution is cancelled', async () => {
    const flag = path.join(dir, `aborted-${Date.now()}`);
    await t.engine.registerWorkflow(graph('abortable', [node('wait', 'wait-abort', { config: { flag } })], []));
    const id = await t.engine.enqueueWorkflow('abortable', {});
    await until(() => seen.some((e) => e.executionId === id && e.type === 'node:started'), 30_000, 'the node to start');
    expect(await t.engine.cancelWorkflow(id)).toBe(true);
    await until(() => existsSync(flag), 10_000, 'the executor to see the abort');
    expect((await t.engine.getExecution(id))?.status).toBe('cancelled');
  }, 60_000);
});

describe('useWorkerThreads: a custom processorFile', () => {
  it('runs node jobs through it', async () => {
    const file = path.join(dir, 'custom-processor.mts');
    await writeFile(
      file,
      [
        `import { createSandboxProcessor } from '${src('runtime/sandbox/create-processor.ts')}';`,
        `import { registry } from '${pathToFileURL(executorsModule).href}';`,
        `registry.register('custom', async () => ({ success: true, data: 'from the custom processor' }));`,
        'export default createSandboxProcessor({ registry });',
      ].join('\n'),
    );
    const t = testEngine({ store, registry, config: { useWorkerThreads: true, processorFile: file } });
    try {
      registry.register('custom', async () => ({ success: true, data: 'main thread' }));
      await t.engine.registerWorkflow(graph('custom', [node('a', 'custom'), node('b', 'where')], ['a->b']));
      t.engine.startWorkers(1);
      await t.engine.waitUntilReady();
      const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('custom', {}), { timeoutMs: 60_000 });
      expect(done.status).toBe('completed');
      expect(done.nodeResults['a']?.data).toBe('from the custom processor');
      expect(done.nodeResults['b']?.data).toMatchObject({ isMainThread: false });
    } finally {
      registry.unregister('custom');
      await t.cleanup();
    }
  }, 60_000);
});

describe('useWorkerThreads: isolation', () => {
  let t: TestEngine;
  const events: SpaneEvent[] = [];
  const local: SpaneEvent[] = [];

  beforeAll(async () => {
    // Low limits, so the memory hog dies quickly; every thread of this engine has them.
    t = threaded({ workerThreadsOptions: { resourceLimits: { maxOldGenerationSizeMb: 160, maxYoungGenerationSizeMb: 16 } } });
    const e = t.engine;
    for (const kind of ['crash-throw', 'crash-exit', 'crash-oom']) {
      await e.registerWorkflow(
        graph(kind, [node('before', 'pass'), node('crash', kind, { config: { retryPolicy: fast } }), node('after', 'pass')], ['before->crash', 'crash->after']),
      );
    }
    await e.registerWorkflow(graph('chain', [node('s1', 'slow'), node('s2', 'slow'), node('s3', 'slow')], ['s1->s2', 's2->s3']));
    await e.registerWorkflow(graph('doomed', [node('die', 'always-exit', { config: { retryPolicy: fast } }), node('never', 'pass')], ['die->never']));
    await e.registerWorkflow(graph('cpu', [node('burn', 'cpu', { config: { ms: 2000 } })], []));
    await e.eventsReady();
    e.subscribe((event) => void events.push(event));
    e.observeEvents((event) => void local.push(event));
    e.startWorkers(3);
    await e.waitUntilReady();
  }, 60_000);
  afterAll(async () => t?.cleanup());

  it.each(['crash-throw', 'crash-exit', 'crash-oom'])(
    'a thread that dies (%s) fails only its job: BullMQ retries it, other executions keep running',
    async (kind) => {
      const crashing = await t.engine.enqueueWorkflow(kind, { kind });
      const others = await Promise.all([1, 2, 3].map(() => t.engine.enqueueWorkflow('chain', {})));
      for (const id of others) expect((await t.engine.waitForExecution(id, { timeoutMs: 60_000 })).status).toBe('completed');
      const done = await t.engine.waitForExecution(crashing, { timeoutMs: 60_000 });
      expect(done.status).toBe('completed');
      expect(done.nodeResults['crash']).toMatchObject({ status: 'completed', attempts: 2, data: 'recovered' });
      expect(done.nodeResults['after']?.data).toBe('recovered');
    },
    90_000,
  );

  it('a node whose thread dies on every attempt fails the execution into the DLQ', async () => {
    const id = await t.engine.enqueueWorkflow('doomed', {});
    const done = await t.engine.waitForExecution(id, { timeoutMs: 60_000 });
    expect(done.status).toBe('failed');
    expect(done.nodeResults['die']).toMatchObject({ status: 'failed', attempts: 2 });
    expect(done.nodeResults['die']?.error).toMatch(/worker thread ended without finishing the job/);
    expect(done.nodeResults['never']).toBeUndefined();
    const item = (await t.engine.getDLQItems(0, 100)).find((i) => i.executionId === id);
    expect(item).toMatchObject({ nodeId: 'die', attempts: 2 });
  }, 60_000);

  it('a CPU-bound node (2 s busy loop) does not block the main thread: timers tick, other work and events flow', async () => {
    const ticks: number[] = [];
    // Threads that died in the tests above are replaced on demand; start all three first.
    await Promise.all([1, 2, 3].map(async () => t.engine.waitForExecution(await t.engine.enqueueWorkflow('chain', {}), { timeoutMs: 30_000 })));
    const timer = setInterval(() => ticks.push(Date.now()), 20);
    try {
      const burning = await t.engine.enqueueWorkflow('cpu', {});
      // Its node:started reaches Redis only after the loop (the busy thread cannot flush it); the
      // copy the thread hands to the main thread's observers arrives at once.
      await until(() => local.some((e) => e.executionId === burning && e.type === 'node:started'), 30_000, 'the busy loop to start');
      const startedBusy = Date.now();
      const other = await t.engine.enqueueWorkflow('chain', {});
      const otherDone = await t.engine.waitForExecution(other, { timeoutMs: 30_000 });
      const burnt = await t.engine.waitForExecution(burning, { timeoutMs: 30_000 });
      expect(burnt.nodeResults['burn']?.data).toMatchObject({ isMainThread: false });
      expect((burnt.nodeResults['burn']?.data as { busyMs: number }).busyMs).toBeGreaterThanOrEqual(2000);
      // The other execution finished while the loop was still spinning, and its events arrived then.
      expect(otherDone.status).toBe('completed');
      expect(otherDone.completedAt!).toBeLessThan(burnt.nodeResults['burn']!.completedAt!);
      const otherEvents = events.filter((e) => e.executionId === other);
      expect(otherEvents.map((e) => e.type)).toContain('workflow:completed');
      // The main thread's timer kept ticking during the busy loop, in both of its halves (a blocked
      // main thread runs no timer until the loop is over).
      const endedBusy = burnt.nodeResults['burn']!.completedAt!;
      const middle = (startedBusy + endedBusy) / 2;
      const during = ticks.filter((at) => at >= startedBusy && at <= endedBusy);
      expect(during.some((at) => at < middle)).toBe(true);
      expect(during.some((at) => at >= middle)).toBe(true);
    } finally {
      clearInterval(timer);
    }
  }, 60_000);

  it('the engine still works after all that', async () => {
    expect((await t.engine.waitForExecution(await t.engine.enqueueWorkflow('chain', {}), { timeoutMs: 30_000 })).status).toBe('completed');
  }, 60_000);
});
