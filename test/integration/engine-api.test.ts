/**
 * The engine's API. Everything that runs node jobs is in the forEachMode block at the end and runs
 * inline and in worker threads (executors in test/fixtures/executors/engine-api.ts); the rest
 * validates input, constructs engines or kills the in-process worker on purpose, so it runs
 * inline only (see docs/worker-threads.md).
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EngineClosedError,
  ExecutionNotFoundError,
  InMemoryExecutionStore,
  InvalidArgumentError,
  InvalidConfigError,
  NodeRegistry,
  nodeJobId,
  RedisUnavailableError,
  WorkflowEngine,
  WorkflowNotFoundError,
  WorkflowValidationError,
} from '../../src/index.js';
import type { WorkflowDefinition } from '../../src/index.js';
import { createRegistry } from '../fixtures/executors/engine-api.js';
import { forEachMode } from '../fixtures/modes.js';
import { graph, NEEDS_REDIS, node, REDIS_URL, SpyStore, testEngine, until } from '../helpers.js';
import { startJobId } from '../../src/runtime/execution/lifecycle.js';
import type { TestEngine } from '../helpers.js';
import { engineInternals } from '../../src/runtime/engine/test-hooks.js';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

describe('registerWorkflow', () => {
  it('refuses a bad definition with every problem listed, and stores nothing', async () => {
    t = testEngine();
    t.registry.register('known', async () => ({ success: true }));
    const bad: WorkflowDefinition = {
      id: 'bad',
      name: 'Bad',
      entryNodeId: 'a',
      nodes: [
        { id: 'a', type: 'known', config: {}, inputs: [], outputs: ['b', 'ghost'] },
        { id: 'b', type: 'mystery', config: {}, inputs: ['a'], outputs: ['c'] },
        { id: 'c', type: 'known', config: {}, inputs: ['b'], outputs: ['b'] },
        { id: 'b', type: 'known', config: {}, inputs: [], outputs: [] },
        { id: 'lonely', type: 'known', config: {}, inputs: [], outputs: [] },
        { id: 'bad:id', type: 'known', config: {}, inputs: [], outputs: [] },
      ],
    };
    const err = await t.engine.registerWorkflow(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowValidationError);
    const rules = new Set((err as WorkflowValidationError).issues.map((i) => i.rule));
    for (const rule of ['duplicate-node', 'missing-node', 'unknown-type', 'unsafe-id', 'unreachable', 'edge-mismatch']) expect(rules).toContain(rule);
    expect((err as Error).message).toContain("'mystery'");
    expect(await t.engine.getWorkflow('bad')).toBeUndefined();
    await expect(t.engine.enqueueWorkflow('bad', {})).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('refuses cycles and a missing entry node', async () => {
    t = testEngine();
    t.registry.register('x', async () => ({ success: true }));
    const cyclic = graph('cyclic', [node('a', 'x'), node('b', 'x'), node('c', 'x')], ['a->b', 'b->c', 'c->b']);
    await expect(t.engine.registerWorkflow(cyclic)).rejects.toThrow(/cycle: b -> c -> b/);
    const noEntry = { ...graph('no-entry', [node('a', 'x')], []), entryNodeId: 'zzz' };
    await expect(t.engine.registerWorkflow(noEntry)).rejects.toThrow(/entry node 'zzz'/);
  });

  it('versions definitions: unchanged keeps its version, changed gets the next', async () => {
    t = testEngine();
    t.registry.register('x', async () => ({ success: true, data: 1 }));
    const v1 = graph('versioned', [node('a', 'x')], []);
    expect(await t.engine.registerWorkflow(v1)).toBe(1);
    expect(await t.engine.registerWorkflow(v1)).toBe(1);
    expect(await t.engine.registerWorkflow({ ...v1, name: 'renamed' })).toBe(2);
    expect((await t.engine.getWorkflow('versioned'))?.name).toBe('renamed');
    expect((await t.engine.getWorkflow('versioned', 1))?.name).toBe('versioned');
  });
});

describe('constructor and connections', () => {
  it.skipIf(NEEDS_REDIS)('works with a plain new Redis() in the positional form and never closes it', async () => {
    const redis = new Redis(REDIS_URL);
    const registry = new NodeRegistry();
    registry.register('echo', async (ctx) => ({ success: true, data: ctx.inputData }));
    const store = new InMemoryExecutionStore();
    const prefix = `{spane-test-pos-${Date.now()}}`;
    const engine = new WorkflowEngine(registry, store, redis, undefined, undefined, undefined, undefined, { prefix, workerConcurrency: 3 });
    try {
      expect(engine.getConfig()).toMatchObject({ workerConcurrency: 3, useJobSchedulers: true, useFlowProducerForSubWorkflows: false, prefix });
      await engine.registerWorkflow(graph('echo', [node('e', 'echo')], []));
      engine.startWorkers();
      const id = await engine.enqueueWorkflow('echo', { hi: 1 });
      expect((await engine.waitForExecution(id)).nodeResults['e']?.data).toEqual({ hi: 1 });
    } finally {
      await engine.close();
      await engine.close();
    }
    expect(redis.status).toBe('ready');
    expect(await redis.ping()).toBe('PONG');
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('refuses unknown or ill-typed options at construction', () => {
    const registry = new NodeRegistry();
    const store = new InMemoryExecutionStore();
    const make = (config: object) => () => new WorkflowEngine({ registry, store, connection: { lazyConnect: true }, config: config as never });
    expect(make({ workerConcurency: 5 })).toThrow(InvalidConfigError);
    expect(make({ workerConcurency: 5 })).toThrow(/unknown option 'workerConcurency'/);
    expect(make({ workerConcurrency: '5' })).toThrow(/workerConcurrency/);
    expect(make({ prefix: 'a:b' })).toThrow(/prefix/);
  });

  it('refuses work after close with EngineClosedError', async () => {
    t = testEngine();
    await t.engine.close();
    await expect(t.engine.enqueueWorkflow('x', {})).rejects.toBeInstanceOf(EngineClosedError);
    expect(() => t!.engine.startWorkers(1)).toThrow(EngineClosedError);
  });
});

describe('enqueueing', () => {
  it('refuses unknown workflows, non-JSON data and unknown executions with typed errors', async () => {
    t = testEngine();
    t.registry.register('x', async () => ({ success: true }));
    await t.engine.registerWorkflow(graph('ok', [node('a', 'x')], []));
    await expect(t.engine.enqueueWorkflow('nope', {})).rejects.toBeInstanceOf(WorkflowNotFoundError);
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    await expect(t.engine.enqueueWorkflow('ok', circular)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(t.engine.enqueueWorkflow('ok', { n: 1n })).rejects.toThrow(/initialData must be JSON-serialisable/);
    await expect(t.engine.pauseWorkflow('missing')).rejects.toBeInstanceOf(ExecutionNotFoundError);
    await expect(t.engine.replayWorkflow('missing')).rejects.toBeInstanceOf(ExecutionNotFoundError);
    await expect(t.engine.enqueueBulkWorkflows([{ workflowId: 'ok' }, { workflowId: 'nope' }])).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect(await t.store.listExecutions()).toEqual([]);
  });

  it('refuses data JSON would silently change, naming where it is; takes what JSON takes as it takes it', async () => {
    t = testEngine();
    t.registry.register('x', async () => ({ success: true }));
    await t.engine.registerWorkflow(graph('ok', [node('a', 'x')], []));
    const refused: [unknown, RegExp][] = [
      [{ user: { save: () => undefined } }, /initialData\.user\.save is a function/],
      [{ score: Number.NaN }, /initialData\.score is NaN/],
      [{ limits: [1, Infinity] }, /initialData\.limits\[1\] is Infinity/],
      [{ tags: new Set(['a']) }, /initialData\.tags is a Set/],
      [{ byId: new Map([[1, 'a']]) }, /initialData\.byId is a Map/],
      [{ list: [1, undefined] }, /initialData\.list\[1\] is undefined/],
      [{ [Symbol('k')]: 1 }, /has a symbol key Symbol\(k\)/],
    ];
    for (const [data, message] of refused) {
      await expect(t.engine.enqueueWorkflow('ok', data)).rejects.toThrow(message);
    }
    await expect(
      t.engine.enqueueBulkWorkflows([
        { workflowId: 'ok', initialData: {} },
        { workflowId: 'ok', initialData: { f: () => 1 } },
      ]),
    ).rejects.toThrow(/items\[1\]\.initialData\.f is a function/);
    await expect(t.engine.enqueueBulkWorkflows([null as never])).rejects.toThrow(/items\[0\] must be an object/);
    expect(await t.store.listExecutions()).toEqual([]);
    // A shared (not circular) object, a Date and an undefined property are fine.
    const shared = { n: 1 };
    const id = await t.engine.enqueueWorkflow('ok', { a: shared, b: shared, at: new Date(0), skip: undefined });
    expect((await t.engine.getExecution(id))?.initialData).toEqual({ a: { n: 1 }, b: { n: 1 }, at: '1970-01-01T00:00:00.000Z' });
  });

  it('refuses malformed list, DLQ and webhook arguments with typed errors', async () => {
    t = testEngine();
    await expect(t.engine.getJobSchedulers(-1, 3)).rejects.toThrow(/getJobSchedulers: start must be an integer/);
    expect(await t.engine.getJobSchedulers()).toEqual([]);
    for (const bulk of [t.engine.pauseBulkWorkflows, t.engine.resumeBulkWorkflows, t.engine.cancelBulkWorkflows]) {
      await expect(bulk.call(t.engine, 'not-a-list' as never)).rejects.toThrow(/expects an array of execution ids/);
      await expect(bulk.call(t.engine, [1] as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    await expect(t.engine.triggerWebhook('hook', 42 as never, {})).rejects.toThrow(/triggerWebhook: path and method must be strings/);
    await expect(t.engine.getDLQItems(-1, 5)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(t.engine.getDLQItems(0, 'x' as never)).rejects.toThrow(/getDLQItems: start must be an integer/);
    await expect(t.engine.getDLQItems(5, 2)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await t.engine.getDLQItems(0, -1)).toEqual([]);
    await expect(t.engine.retryDLQItem(42 as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    // Only ids shaped like SPANE's DLQ ids reach BullMQ; an unknown one is not found.
    await expect(t.engine.retryDLQItem('no-such-item')).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await t.engine.retryDLQItem('dlq__no-such-execution__a')).toBe(false);
  });
});

describe('worker crash', () => {
  it('another engine recovers the job of a worker that died mid-node, and the node result is written once', async () => {
    const store = new SpyStore();
    t = testEngine({ store, config: { lockDuration: 1000, stalledInterval: 1000 } });
    let calls = 0;
    t.registry.register('hang-once', async () => {
      calls++;
      if (calls === 1) await new Promise(() => undefined); // the first worker never comes back
      return { success: true, data: 'recovered' };
    });
    t.registry.register('after', async (ctx) => ({ success: true, data: ctx.inputData }));
    await t.engine.registerWorkflow(graph('stall', [node('h', 'hang-once'), node('a', 'after')], ['h->a']));
    t.engine.startWorkers(1);
    const id = await t.engine.enqueueWorkflow('stall', {});
    await until(() => calls === 1, 5000);
    // Kill the worker without letting it finish: its lock is no longer renewed.
    await engineInternals(t.engine).nodeWorker()!.close(true);
    const rescuer = t.sibling({ lockDuration: 1000, stalledInterval: 1000 });
    rescuer.startWorkers(1);
    const done = await rescuer.waitForExecution(id, { timeoutMs: 20_000 });
    expect(done.status).toBe('completed');
    expect(done.nodeResults['a']?.data).toBe('recovered');
    expect(calls).toBe(2);
    expect(store.resultWrites.filter((w) => w.executionId === id && w.nodeId === 'h')).toHaveLength(1);
    expect(store.count(id, 'completed')).toBe(1);
  });
});

describe('when Redis is unreachable', () => {
  it('fails API calls with RedisUnavailableError, writes nothing, and still closes', async () => {
    const store = new InMemoryExecutionStore();
    const lines: string[] = [];
    const logger = { warn: (m: string) => void lines.push(m), error: (m: string) => void lines.push(m) };
    const registry = new NodeRegistry().register('x', async () => ({ success: true }));
    // Nothing listens on this port: a real refused connection, not a mock.
    const engine = new WorkflowEngine({ registry, store, connection: 'redis://127.0.0.1:1', config: { redisTimeout: 300 }, logger });
    engine.startWorkers(1);
    const err = await engine.registerWorkflow(graph('down', [node('a', 'x')], [])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisUnavailableError);
    expect((err as RedisUnavailableError).code).toBe('REDIS_UNAVAILABLE');
    expect(await store.getWorkflow('down')).toBeNull();
    await expect(engine.enqueueWorkflow('down', {})).rejects.toThrow(/Redis did not answer within 300 ms/);
    expect(await store.listExecutions()).toEqual([]);
    await engine.close();
    expect(lines).toContain('Redis connection error; retrying');
  });
});

describe('a node whose workers keep dying', () => {
  it('fails cleanly past maxStalledCount (failed result, DLQ item, failed execution) instead of hanging', async () => {
    const store = new SpyStore();
    t = testEngine({ store, config: { lockDuration: 1000, stalledInterval: 1000, maxStalledCount: 0 } });
    let calls = 0;
    t.registry.register('poison', async () => {
      calls++;
      await new Promise(() => undefined); // the worker "dies" running it
      return { success: true };
    });
    await t.engine.registerWorkflow(graph('poison', [node('p', 'poison')], []));
    t.engine.startWorkers(1);
    const id = await t.engine.enqueueWorkflow('poison', {});
    await until(() => calls === 1, 5000);
    await engineInternals(t.engine).nodeWorker()!.close(true);
    const rescuer = t.sibling({ lockDuration: 1000, stalledInterval: 1000, maxStalledCount: 0 });
    rescuer.startWorkers(1);
    const done = await rescuer.waitForExecution(id, { timeoutMs: 20_000 });
    expect(done.status).toBe('failed');
    expect(calls).toBe(1);
    expect(done.nodeResults['p']?.error).toMatch(/interrupted 1 times .* maxStalledCount = 0/);
    const [item] = await rescuer.getDLQItems();
    expect(item).toMatchObject({ executionId: id, nodeId: 'p' });
  });
});

/** What runs node jobs, in both modes (test/fixtures/modes.ts); the rest of this file needs no worker. */
forEachMode({ module: new URL('../fixtures/executors/engine-api.ts', import.meta.url), createRegistry }, (h) => {
  it('keeps running the version an execution started with', async () => {
    const t = h.engine();
    const v1 = graph('pinned', [node('g', 'gate'), node('t', 'tag', { config: { tag: 'v1' } })], ['g->t']);
    await t.engine.registerWorkflow(v1);
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('pinned', {});
    await until(async () => (await h.probe.list('held')).length === 1, h.patience(5000));
    await t.engine.registerWorkflow(graph('pinned', [node('g', 'gate'), node('t', 'tag', { config: { tag: 'v2' } })], ['g->t']));
    await h.probe.set('release:gate');
    const done = await t.engine.waitForExecution(id);
    expect(done.workflowVersion).toBe(1);
    expect(done.nodeResults['t']?.data).toBe('v1');
  });

  it('close waits for the node in flight to finish', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('drain', [node('s', 'slow')], []));
    t.engine.startWorkers(1);
    const id = await t.engine.enqueueWorkflow('drain', {});
    await until(async () => (await h.probe.list('held')).length === 1, h.patience(5000), 'the node to start');
    const worker = engineInternals(t.engine).nodeWorker()!;
    const closing = t.engine.close();
    // The node is still held when the worker starts closing; it finishes only after that.
    await until(() => worker.closing !== undefined, 5000, 'the worker to start closing');
    expect(await h.probe.isSet('finished')).toBe(false);
    await h.probe.set('release:slow');
    await closing;
    expect(await h.probe.isSet('finished')).toBe(true);
    expect((await t.store.getExecution(id))?.status).toBe('completed');
  });

  it('enqueueBulkWorkflows starts every execution', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('bulk', [node('e', 'echo')], []));
    t.engine.startWorkers(4);
    const ids = await t.engine.enqueueBulkWorkflows(Array.from({ length: 20 }, (_, i) => ({ workflowId: 'bulk', initialData: i })));
    expect(new Set(ids).size).toBe(20);
    const results = await Promise.all(ids.map((id) => t.engine.waitForExecution(id)));
    expect(results.map((r) => r.nodeResults['e']?.data)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('scheduleWorkflow creates a pending execution that starts at the given time and can be cancelled', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('later', [node('m', 'mark')], []));
    t.engine.startWorkers(2);
    await expect(t.engine.scheduleWorkflow('later', {}, new Date(Date.now() - 1000))).rejects.toThrow(/in the past/);
    const at = Date.now() + 500;
    const id = await t.engine.scheduleWorkflow('later', { a: 1 }, new Date(at));
    expect((await t.engine.getExecution(id))?.status).toBe('pending');
    const cancelled = await t.engine.scheduleWorkflow('later', {}, new Date(Date.now() + 400));
    expect(await t.engine.cancelWorkflow(cancelled)).toBe(true);
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('completed');
    expect((await h.probe.list<number>('startedAt'))[0]!).toBeGreaterThanOrEqual(at - 20);
    // The cancelled run's start job is gone (or ran and saw the cancel): it can start nothing.
    const workflowQueue = engineInternals(t.engine).rt.queues.workflowQueue;
    await until(async () => ['unknown', 'completed'].includes(await workflowQueue.getJobState(startJobId(cancelled))), h.patience(5000), 'the cancelled start job to go');
    expect(await h.probe.list('startedAt')).toHaveLength(1);
    expect((await t.engine.getExecution(cancelled))?.status).toBe('cancelled');
  });

  it('replayWorkflow runs the same workflow again with the same initial data', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('replay', [node('e', 'echo')], []));
    t.engine.startWorkers(2);
    const first = await t.engine.enqueueWorkflow('replay', { v: 42 });
    await t.engine.waitForExecution(first);
    const second = await t.engine.replayWorkflow(first);
    expect(second).not.toBe(first);
    expect((await t.engine.waitForExecution(second)).nodeResults['e']?.data).toEqual({ v: 42 });
  });

  it('enqueueNode runs one node of an execution with the given input', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('manual', [node('a', 'take'), node('b', 'take')], ['a->b']));
    const id = await t.engine.enqueueWorkflow('manual', 'start');
    await t.engine.pauseWorkflow(id);
    await t.engine.cancelWorkflow(id); // removes a's job: nothing runs by itself now
    await t.store.transitionExecution(id, ['cancelled'], 'running');
    await expect(t.engine.enqueueNode(id, 'other', 'a')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(t.engine.enqueueNode(id, 'manual', 'zzz')).rejects.toThrow(/no node 'zzz'/);
    const jobId = await t.engine.enqueueNode(id, 'manual', 'a', 'manual input');
    expect(jobId).toBe(nodeJobId(id, 'a'));
    t.engine.startWorkers(2);
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('completed');
    expect(await h.probe.list('inputs')).toEqual(['manual input', 'manual input']);
  });

  it('getQueueStats counts jobs per queue', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('stats', [node('a', 'x')], []));
    await t.engine.enqueueWorkflow('stats', {});
    await t.engine.enqueueWorkflow('stats', {});
    let stats = await t.engine.getQueueStats();
    expect(stats.waiting).toBe(2);
    expect(stats.queues['node-execution'].waiting).toBe(2);
    t.engine.startWorkers(2);
    // The DLQ item is written before the job itself moves to the failed set (later still from a thread).
    const settled = async () => {
      const now = await t.engine.getQueueStats();
      return now.queues['dlq-execution'].waiting === 2 && now.active + now.waiting === 0;
    };
    await until(settled, h.patience(5000), 'two DLQ items and no job left');
    stats = await t.engine.getQueueStats();
    expect(stats.failed).toBe(2);
    expect(stats.active + stats.waiting).toBe(0);
  });

  it('retention prunes finished executions on demand and periodically, never running ones', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('quick', [node('q', 'quick')], []));
    await t.engine.registerWorkflow(graph('hold', [node('h', 'hold')], []));
    t.engine.startWorkers(4);
    const running = await t.engine.enqueueWorkflow('hold', {});
    const finished = [];
    for (let i = 0; i < 4; i++) finished.push(await t.engine.waitForExecution(await t.engine.enqueueWorkflow('quick', {})));
    await until(async () => (await h.probe.list('held')).length === 1, h.patience(5000));
    expect(await t.engine.pruneExecutions({ keepLast: 3 })).toBe(1);
    // A second engine's retention job (every second, keepLast 1) prunes the rest but the newest.
    // On the first engine it could have run before the prune above whenever the four runs took
    // over a second (as they do while worker threads start).
    t.sibling({ retention: { keepLast: 1, everyMs: 1000 } }).startWorkers(1);
    await until(async () => (await t.store.listExecutions({ status: 'completed' })).length === 1, h.patience(10_000), 'periodic prune');
    expect((await t.store.listExecutions({ status: 'completed' }))[0]?.executionId).toBe(finished.at(-1)!.executionId);
    expect((await t.store.getExecution(running))?.status).toBe('running');
    await h.probe.set('release:hold');
    await expect(t.engine.pruneExecutions({})).rejects.toThrow(/olderThanMs and\/or keepLast/);
  });
});
