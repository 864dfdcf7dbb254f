/**
 * Claim check end to end: large values go to the store's payload table, while Redis (job hashes,
 * completed sets, event streams) only ever holds references; executors and API readers get the
 * values back.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryExecutionStore, InvalidArgumentError, NodeRegistry, PayloadManager, PayloadNotFoundError, WorkflowEngine, isPayloadReference } from '../../src/index.js';
import type { ExecutionContext, NodeRegistry as Registry, SpaneEvent } from '../../src/index.js';
import { DrizzleStore } from '../../src/store/drizzle/store.js';
import { createTestDatabase } from '../contract/databases.js';
import type { TestDatabase } from '../contract/databases.js';
import { graph, memoryLogger, node, testEngine, until } from '../helpers.js';
import type { TestEngine } from '../helpers.js';
import { engineInternals } from '../../src/runtime/engine/test-hooks.js';

const MB5 = 5 * 1024 * 1024;
/** A marker that only the big values contain, so a Redis value holding one is easy to spot. */
const MARK = 'BIG-PAYLOAD-MARK-';

function big(bytes: number, tag: string): { tag: string; blob: string } {
  return { tag, blob: `${MARK}${tag}-`.padEnd(bytes, 'x') };
}

/** Every value under the test's prefix: strings, hash fields, list/set/zset members, stream entries. */
async function redisValues(redis: Redis, prefix: string): Promise<{ key: string; value: string }[]> {
  const out: { key: string; value: string }[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      const add = (v: string) => out.push({ key, value: v });
      if (type === 'string') add((await redis.get(key)) ?? '');
      else if (type === 'hash') for (const [f, v] of Object.entries(await redis.hgetall(key))) add(`${f}=${v}`);
      else if (type === 'list') (await redis.lrange(key, 0, -1)).forEach(add);
      else if (type === 'set') (await redis.smembers(key)).forEach(add);
      else if (type === 'zset') (await redis.zrange(key, 0, -1)).forEach(add);
      else if (type === 'stream') for (const [, fields] of await redis.xrange(key, '-', '+')) add(fields.join('='));
      else add(`(${type})`);
    }
  } while (cursor !== '0');
  return out;
}

/** Waits for the stream of events to hold at least `n` events of `type`, and returns them. */
async function collect(events: SpaneEvent[], type: SpaneEvent['type'], n: number): Promise<SpaneEvent[]> {
  await until(() => events.filter((e) => e.type === type).length >= n, 15_000, `${n} ${type} events`);
  return events.filter((e) => e.type === type);
}

describe.each(['PGlite', 'PostgreSQL'] as const)('claim check on DrizzleStore (%s)', (driver) => {
  let store: DrizzleStore;
  let database: TestDatabase | undefined;
  let t: TestEngine;

  beforeAll(async () => {
    if (driver === 'PGlite') {
      store = await DrizzleStore.pglite();
    } else {
      database = await createTestDatabase();
      store = await DrizzleStore.postgres(database.url);
    }
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });
  afterEach(async () => t?.cleanup());

  it.each([false, true])(
    'passes 5 MB outputs through a 3-node chain without putting them in Redis (useSimplifiedEventStream: %s)',
    async (simplified) => {
      t = testEngine({ store, config: { useSimplifiedEventStream: simplified } });
      const seen: Record<string, { inputBytes: number; tag: unknown; sawReference: boolean }> = {};
      const record = (ctx: ExecutionContext) => {
        const input = ctx.inputData as { tag?: unknown; blob?: string } | undefined;
        seen[ctx.nodeId] = {
          inputBytes: input?.blob?.length ?? 0,
          tag: input?.tag,
          sawReference: JSON.stringify({ i: ctx.inputData, p: ctx.previousResults, d: ctx.initialData }).includes('$spanePayload'),
        };
      };
      t.registry.register('make', async (ctx) => (record(ctx), { success: true, data: big(MB5, 'first') }));
      t.registry.register('grow', async (ctx) => (record(ctx), { success: true, data: big(MB5, 'second') }));
      t.registry.register('sum', async (ctx) => (record(ctx), { success: true, data: { bytes: (ctx.inputData as { blob: string }).blob.length } }));
      await t.engine.registerWorkflow(graph('chain', [node('a', 'make'), node('b', 'grow'), node('c', 'sum')], ['a->b', 'b->c']));
      const events: SpaneEvent[] = [];
      t.engine.subscribe((e) => events.push(e));
      await t.engine.eventsReady();
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow('chain', { small: true });
      const done = await t.engine.waitForExecution(id, { timeoutMs: 60_000 });

      expect(done.status).toBe('completed');
      expect(seen['b']).toEqual({ inputBytes: MB5, tag: 'first', sawReference: false });
      expect(seen['c']).toEqual({ inputBytes: MB5, tag: 'second', sawReference: false });
      expect(done.nodeResults['a']!.data).toEqual(big(MB5, 'first'));
      expect(done.nodeResults['c']!.data).toEqual({ bytes: MB5 });
      expect((await t.engine.getExecution(id))!.nodeResults['b']!.data).toEqual(big(MB5, 'second'));

      const raw = (await t.engine.getExecution(id, { raw: true }))!;
      expect(raw.nodeResults['a']!.data).toEqual({ $spanePayload: 'output:a', bytes: JSON.stringify(big(MB5, 'first')).length });
      expect(isPayloadReference(raw.nodeResults['b']!.data)).toBe(true);
      expect(raw.nodeResults['c']!.data).toEqual({ bytes: MB5 });

      const completed = await collect(events, 'node:completed', 3);
      const byNode = new Map(completed.filter((e) => e.executionId === id).map((e) => [e.nodeId, e.data]));
      expect(isPayloadReference(byNode.get('a'))).toBe(true);
      expect(isPayloadReference(byNode.get('b'))).toBe(true);
      expect(byNode.get('c')).toEqual({ bytes: MB5 });

      const values = await redisValues(t.redis, t.prefix);
      const keys = new Set(values.map((v) => v.key));
      // The scan covered the places data could land: job hashes, the completed set, event streams.
      // The entry node's job hash: with eager chains b and c run in a's job and have none.
      expect([...keys].some((k) => k.endsWith(`:node-execution:${id}__a`))).toBe(true);
      expect([...keys].some((k) => k.endsWith(':node-execution:completed'))).toBe(true);
      expect([...keys].some((k) => k.endsWith(simplified ? ':node-execution:events' : ':spane-events:events'))).toBe(true);
      expect(values.filter((v) => v.value.includes(MARK)).map((v) => v.key)).toEqual([]);
      expect(Math.max(...values.map((v) => v.value.length))).toBeLessThan(10_000);
      expect(values.some((v) => v.value.includes('"$spanePayload":"output:a"'))).toBe(true);
    },
    120_000,
  );

  it('claim-checks initial data over the threshold; the entry node and replays get the value', async () => {
    t = testEngine({ store, config: { payloadThresholdBytes: 1000 } });
    const inputs: unknown[] = [];
    t.registry.register('echo', async (ctx) => {
      inputs.push({ input: ctx.inputData, initial: ctx.initialData });
      return { success: true, data: { ok: true } };
    });
    await t.engine.registerWorkflow(graph('init', [node('a', 'echo')], []));
    t.engine.startWorkers(1);
    const initial = big(5000, 'initial');
    const id = await t.engine.enqueueWorkflow('init', initial);
    expect((await t.engine.waitForExecution(id)).initialData).toEqual(initial);
    expect((await t.engine.getExecution(id, { raw: true }))!.initialData).toEqual({ $spanePayload: 'initial', bytes: JSON.stringify(initial).length });
    const replay = await t.engine.replayWorkflow(id);
    expect((await t.engine.waitForExecution(replay)).status).toBe('completed');
    // The replay has its own payload: pruning the original must not break it.
    expect(await store.getPayloads(replay, ['initial'])).toEqual(new Map([['initial', initial]]));
    expect(inputs).toEqual([
      { input: initial, initial },
      { input: initial, initial },
    ]);
    const values = await redisValues(t.redis, t.prefix);
    expect(values.filter((v) => v.value.includes(MARK))).toEqual([]);
  });

  it('keeps a value of exactly the threshold inline and offloads one byte more', async () => {
    const threshold = 2000;
    t = testEngine({ store, config: { payloadThresholdBytes: threshold } });
    // JSON of a string is its characters plus two quotes.
    t.registry.register('exact', async () => ({ success: true, data: 'x'.repeat(threshold - 2) }));
    t.registry.register('over', async () => ({ success: true, data: 'x'.repeat(threshold - 1) }));
    await t.engine.registerWorkflow(graph('edge', [node('a', 'exact'), node('b', 'over')], ['a->b']));
    t.engine.startWorkers(1);
    const id = await t.engine.enqueueWorkflow('edge');
    await t.engine.waitForExecution(id);
    const raw = (await t.engine.getExecution(id, { raw: true }))!;
    expect(raw.nodeResults['a']!.data).toBe('x'.repeat(threshold - 2));
    expect(raw.nodeResults['b']!.data).toEqual({ $spanePayload: 'output:b', bytes: threshold + 1 });
  });

  it('carries a large enqueueNode input as a reference in the job, and the node gets the value', async () => {
    t = testEngine({ store, config: { payloadThresholdBytes: 1000 } });
    let got: unknown;
    t.registry.register('take', async (ctx) => {
      got = ctx.inputData;
      return { success: true, data: 'done' };
    });
    await t.engine.registerWorkflow(graph('manual', [node('a', 'take')], []));
    const id = await t.engine.scheduleWorkflow('manual', {}, Date.now() + 60_000);
    const input = big(4000, 'input');
    const jobId = await t.engine.enqueueNode(id, 'manual', 'a', input);
    const job = await engineInternals(t.engine).rt.queues.nodeQueue.getJob(jobId);
    expect(isPayloadReference(job!.data.inputData)).toBe(true);
    t.engine.startWorkers(1);
    await until(async () => (await t.engine.getExecution(id))?.nodeResults['a'] !== undefined, 15_000, 'node a');
    expect(got).toEqual(input);
  });

  it('deletes payloads with their execution when pruned', async () => {
    t = testEngine({ store, config: { payloadThresholdBytes: 100 } });
    t.registry.register('make', async () => ({ success: true, data: big(1000, 'prune') }));
    await t.engine.registerWorkflow(graph('prune', [node('a', 'make')], []));
    t.engine.startWorkers(1);
    const id = await t.engine.enqueueWorkflow('prune', big(1000, 'prune-initial'));
    await t.engine.waitForExecution(id);
    expect((await store.getPayloads(id, ['initial', 'output:a'])).size).toBe(2);
    expect(await t.engine.pruneExecutions({ keepLast: 0 })).toBeGreaterThanOrEqual(1);
    expect((await store.getPayloads(id, ['initial', 'output:a'])).size).toBe(0);
  });

  it('fails the node, naming execution and node, when a payload is missing; getExecution throws PayloadNotFoundError', async () => {
    t = testEngine({ store });
    let ran = false;
    t.registry.register('never', async () => {
      ran = true;
      return { success: true };
    });
    await t.engine.registerWorkflow(graph('broken', [node('a', 'never')], []));
    t.engine.startWorkers(1);
    // An execution whose initial data refers to a payload that was never written.
    const wf = await t.engine.getWorkflow('broken');
    const execId = `broken-${randomUUID()}`;
    await store.createExecution({
      executionId: execId,
      workflowId: 'broken',
      workflowVersion: wf!.version!,
      status: 'running',
      initialData: { $spanePayload: 'initial', bytes: 123 },
      depth: 0,
      startedAt: Date.now(),
    });
    await t.engine.enqueueNode(execId, 'broken', 'a');
    const done = await t.engine.waitForExecution(execId, { raw: true, timeoutMs: 15_000 });
    expect(done.status).toBe('failed');
    expect(ran).toBe(false);
    expect(done.nodeResults['a']!.error).toMatch(new RegExp(`Payload 'initial' of execution '${execId}' \\(needed by node 'a'\\) is missing`));
    const err = await t.engine.getExecution(execId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadNotFoundError);
    expect(err).toMatchObject({ code: 'PAYLOAD_NOT_FOUND', executionId: execId, payloadId: 'initial' });
    expect((await t.engine.getExecution(execId, { raw: true }))!.initialData).toEqual({ $spanePayload: 'initial', bytes: 123 });
  });
});

describe('claim check: engine options', () => {
  let t: TestEngine | undefined;
  afterEach(async () => t?.cleanup());

  it('accepts a PayloadManager as the positional payloadManager argument, whose threshold wins', async () => {
    const store = new InMemoryExecutionStore();
    const registry = new NodeRegistry();
    t = testEngine({ store, registry });
    const manager = new PayloadManager(store, { thresholdBytes: 100 });
    const engine = new WorkflowEngine(registry, store, t.redis, undefined, undefined, undefined, manager, { prefix: t.prefix, payloadThresholdBytes: 999_999 });
    try {
      expect(engine.getConfig().payloadThresholdBytes).toBe(100);
      registry.register('make', async () => ({ success: true, data: 'y'.repeat(200) }));
      await engine.registerWorkflow(graph('pos', [node('a', 'make')], []));
      engine.startWorkers(1);
      const id = await engine.enqueueWorkflow('pos');
      expect((await engine.waitForExecution(id)).nodeResults['a']!.data).toBe('y'.repeat(200));
      expect((await engine.getExecution(id, { raw: true }))!.nodeResults['a']!.data).toEqual({ $spanePayload: 'output:a', bytes: 202 });
    } finally {
      await engine.close();
    }
  });

  it('keeps values inline with payloads: false, and refuses anything but a PayloadManager', async () => {
    t = testEngine();
    const store = new InMemoryExecutionStore();
    const off = new WorkflowEngine({ registry: t.registry, store, connection: t.redis, config: { prefix: t.prefix }, payloads: false, logger: memoryLogger() });
    try {
      expect(off.getConfig().payloadThresholdBytes).toBe(false);
      t.registry.register('make', async () => ({ success: true, data: big(100_000, 'inline') }));
      await off.registerWorkflow(graph('off', [node('a', 'make')], []));
      off.startWorkers(1);
      const id = await off.enqueueWorkflow('off');
      await off.waitForExecution(id);
      expect((await off.getExecution(id, { raw: true }))!.nodeResults['a']!.data).toEqual(big(100_000, 'inline'));
    } finally {
      await off.close();
    }
    expect(() => new WorkflowEngine(t!.registry, store, t!.redis, undefined, undefined, undefined, {} as PayloadManager)).toThrow(InvalidArgumentError);
    expect(() => new WorkflowEngine({ registry: t!.registry, store, connection: t!.redis, payloads: 'yes' as unknown as false })).toThrow(InvalidArgumentError);
  });
});

describe('claim check: sub-workflows', () => {
  let t: TestEngine | undefined;
  afterEach(async () => t?.cleanup());

  it('gives the parent the child’s large result, stored as the parent’s own payload', async () => {
    const store = new InMemoryExecutionStore();
    t = testEngine({ store, config: { payloadThresholdBytes: 1000 } });
    let parentSaw = 0;
    t.registry.register('make', async () => ({ success: true, data: big(20_000, 'child') }));
    t.registry.register('len', async (ctx) => {
      parentSaw = (ctx.inputData as { blob: string }).blob.length;
      return { success: true, data: parentSaw };
    });
    await t.engine.registerWorkflow(graph('child', [node('c1', 'make')], []));
    await t.engine.registerWorkflow(graph('parent', [node('call', 'sub-workflow', { config: { workflowId: 'child' } }), node('after', 'len')], ['call->after']));
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('parent');
    const done = await t.engine.waitForExecution(id, { timeoutMs: 20_000 });
    expect(done.status).toBe('completed');
    expect(parentSaw).toBe(20_000);
    expect(done.nodeResults['call']!.data).toEqual(big(20_000, 'child'));
    const raw = (await t.engine.getExecution(id, { raw: true }))!;
    expect(raw.nodeResults['call']!.data).toMatchObject({ $spanePayload: 'output:call' });
    // The parent keeps its copy when the child (and its payloads) are pruned.
    const [child] = await store.getChildExecutions(id);
    expect((await store.getPayloads(child!.executionId, ['output:c1'])).size).toBe(1);
    await store.deletePayloads(child!.executionId);
    expect((await t.engine.getExecution(id))!.nodeResults['call']!.data).toEqual(big(20_000, 'child'));
  });
});

describe('claim check: worker threads (PostgreSQL)', () => {
  let database: TestDatabase;
  let store: DrizzleStore;
  let dir: string;
  let t: TestEngine | undefined;
  const src = (p: string) => pathToFileURL(path.resolve(import.meta.dirname, '../../src', p)).href;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = await DrizzleStore.postgres(database.url);
    dir = await mkdtemp(path.join(os.tmpdir(), 'spane-payload-threads-'));
  }, 60_000);
  afterAll(async () => {
    await t?.cleanup();
    await store?.close();
    await database?.drop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('claim-checks outputs written in threads with the engine’s threshold', async () => {
    const executorsModule = path.join(dir, 'executors.mts');
    await writeFile(
      executorsModule,
      `import { NodeRegistry } from '${src('runtime/engine/registry.ts')}';
export const registry = new NodeRegistry();
registry.register('make', async () => ({ success: true, data: { blob: 'z'.repeat(3000) } }));
registry.register('len', async (ctx) => ({ success: true, data: JSON.stringify(ctx.inputData).includes('$spanePayload') ? -1 : ctx.inputData.blob.length }));
`,
    );
    const registry = ((await import(pathToFileURL(executorsModule).href)) as { registry: Registry }).registry;
    t = testEngine({ store, registry, config: { useWorkerThreads: true, executorsModule, payloadThresholdBytes: 1000 } });
    await t.engine.registerWorkflow(graph('threads', [node('a', 'make'), node('b', 'len')], ['a->b']));
    t.engine.startWorkers(1);
    await t.engine.waitUntilReady();
    const id = await t.engine.enqueueWorkflow('threads');
    const done = await t.engine.waitForExecution(id, { timeoutMs: 60_000 });
    expect(done.status).toBe('completed');
    expect(done.nodeResults['b']!.data).toBe(3000);
    const raw = (await t.engine.getExecution(id, { raw: true }))!;
    expect(raw.nodeResults['a']!.data).toEqual({ $spanePayload: 'output:a', bytes: 3011 });
  }, 90_000);
});
