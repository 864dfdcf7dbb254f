/**
 * The engine's data-flow scenarios (fan-out/join, falsy outputs, branching, retries, DLQ retry,
 * sub-workflows, versioning) with the Drizzle store under it, on PGlite and on PostgreSQL: the
 * runtime must not notice which store it has.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionStatus, ExecutionContext } from '../../src/index.js';
import { DrizzleStore } from '../../src/store/drizzle/store.js';
import type { TransitionPatch } from '../../src/store/store.js';
import { graph, node, testEngine, until } from '../helpers.js';
import type { TestEngine } from '../helpers.js';
import { createTestDatabase } from '../contract/databases.js';
import type { TestDatabase } from '../contract/databases.js';

/** Counts successful transitions, to check that completion happens exactly once. */
class CountingStore extends DrizzleStore {
  readonly wins: { executionId: string; to: ExecutionStatus }[] = [];
  override async transitionExecution(executionId: string, from: readonly ExecutionStatus[], to: ExecutionStatus, patch?: TransitionPatch): Promise<boolean> {
    const ok = await super.transitionExecution(executionId, from, to, patch);
    if (ok) this.wins.push({ executionId, to });
    return ok;
  }
  count(executionId: string, to: ExecutionStatus): number {
    return this.wins.filter((w) => w.executionId === executionId && w.to === to).length;
  }
}

const fast = { maxAttempts: 3, backoff: { type: 'fixed' as const, delay: 10 } };

describe.each(['PGlite', 'PostgreSQL'] as const)('engine on DrizzleStore (%s)', (driver) => {
  let base: DrizzleStore;
  let database: TestDatabase | undefined;
  let store: CountingStore;
  let t: TestEngine;

  beforeAll(async () => {
    if (driver === 'PGlite') {
      base = await DrizzleStore.pglite();
    } else {
      database = await createTestDatabase();
      base = await DrizzleStore.postgres(database.url);
    }
    store = new CountingStore(base.db);
  }, 60_000);
  afterAll(async () => {
    await base?.close();
    await database?.drop();
  });
  afterEach(async () => t?.cleanup());

  it('fans out to 20 branches and joins once, with two engines racing', async () => {
    t = testEngine({ store });
    const runs = new Map<string, number>();
    t.registry.register('work', async (ctx) => {
      runs.set(ctx.nodeId, (runs.get(ctx.nodeId) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, Math.random() * 10));
      return { success: true, data: ctx.nodeId };
    });
    const branches = Array.from({ length: 20 }, (_, i) => node(`b${i}`, 'work'));
    await t.engine.registerWorkflow(
      graph(
        'fan',
        [node('start', 'work'), ...branches, node('join', 'work')],
        branches.flatMap((b) => [`start->${b.id}`, `${b.id}->join`]),
      ),
    );
    const second = t.sibling();
    t.engine.startWorkers(8);
    second.startWorkers(8);
    const ids = await Promise.all(Array.from({ length: 3 }, () => t.engine.enqueueWorkflow('fan', { n: 1 })));
    for (const id of ids) {
      const done = await t.engine.waitForExecution(id, { timeoutMs: 30_000 });
      expect(done.status).toBe('completed');
      expect(Object.keys(done.nodeResults)).toHaveLength(22);
      // The row reads completed a moment before the worker's transition call returns to it.
      await until(() => store.count(id, 'completed') >= 1, 5_000, 'the completing transition to return');
      expect(store.count(id, 'completed')).toBe(1);
      expect(done.nodeResults['join']?.data).toBe('join');
    }
    expect(runs.get('join')).toBe(3);
    for (const b of branches) expect(runs.get(b.id)).toBe(3);
  });

  it('gives the join { parentId: data } and keeps falsy outputs for children and in the store', async () => {
    t = testEngine({ store });
    let joined: unknown;
    const values: Record<string, unknown> = { zero: 0, no: false, empty: '', nothing: null };
    t.registry.register('emit', async (ctx) => ({ success: true, data: values[ctx.nodeId] }));
    t.registry.register('join', async (ctx) => {
      joined = ctx.inputData;
      return { success: true, data: ctx.inputData };
    });
    t.registry.register('start', async () => ({ success: true }));
    await t.engine.registerWorkflow(
      graph(
        'falsy-join',
        [node('start', 'start'), ...Object.keys(values).map((k) => node(k, 'emit')), node('j', 'join')],
        Object.keys(values).flatMap((k) => [`start->${k}`, `${k}->j`]),
      ),
    );
    t.engine.startWorkers(4);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('falsy-join', {}));
    expect(done.status).toBe('completed');
    expect(joined).toEqual(values);
    for (const [k, v] of Object.entries(values)) expect(done.nodeResults[k]?.data).toBe(v);
    expect(done.nodeResults['j']?.data).toEqual(values);
    expect((await store.getExecution(done.executionId))!.nodeResults['nothing']).toHaveProperty('data', null);
  });

  it('runs nodes named like Object.prototype members once each and joins them by those ids', async () => {
    t = testEngine({ store });
    const runs = new Map<string, number>();
    const seen = new Map<string, { input: unknown; previousProto: unknown; previousKeys: string[] }>();
    t.registry.register('proto', async (ctx) => {
      runs.set(ctx.nodeId, (runs.get(ctx.nodeId) ?? 0) + 1);
      seen.set(ctx.nodeId, { input: ctx.inputData, previousProto: Object.getPrototypeOf(ctx.previousResults), previousKeys: Object.keys(ctx.previousResults).sort() });
      return { success: true, data: ctx.nodeId.toUpperCase() };
    });
    // constructor -> toString ─┐
    //             -> valueOf  ─┴-> hasOwnProperty
    const ids = ['constructor', 'toString', 'valueOf', 'hasOwnProperty'];
    await t.engine.registerWorkflow(
      graph(
        'proto-ids',
        ids.map((id) => node(id, 'proto')),
        ['constructor->toString', 'constructor->valueOf', 'toString->hasOwnProperty', 'valueOf->hasOwnProperty'],
      ),
    );
    t.engine.startWorkers(3);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('proto-ids', {}));
    expect(done.status).toBe('completed');
    expect(store.count(done.executionId, 'completed')).toBe(1);
    for (const id of ids) {
      expect(runs.get(id)).toBe(1);
      expect(Object.hasOwn(done.nodeResults, id) && done.nodeResults[id]?.data).toBe(id.toUpperCase());
    }
    const join = seen.get('hasOwnProperty')!;
    expect(Object.getPrototypeOf(join.input)).toBe(Object.prototype);
    expect(join.input).toStrictEqual({ toString: 'TOSTRING', valueOf: 'VALUEOF' });
    expect(join.previousProto).toBe(Object.prototype);
    // previousResults holds the join's parents' results only.
    expect(join.previousKeys).toEqual(['toString', 'valueOf']);
    expect(Object.keys((await store.getExecution(done.executionId))!.nodeResults).sort()).toEqual([...ids].sort());
  });

  it('runs only the chosen branch, skips the other, and still runs the join', async () => {
    t = testEngine({ store });
    const ran: string[] = [];
    t.registry.register('router', async (ctx) => ({ success: true, data: 'routed', nextNodes: [ctx.inputData.value > 100 ? 'high' : 'low'] }));
    t.registry.register('mark', async (ctx) => {
      ran.push(ctx.nodeId);
      return { success: true, data: `${ctx.nodeId}-out` };
    });
    await t.engine.registerWorkflow(
      graph(
        'router',
        [node('route', 'router'), node('high', 'mark'), node('low', 'mark'), node('low2', 'mark'), node('join', 'mark')],
        ['route->high', 'route->low', 'low->low2', 'high->join', 'low2->join'],
      ),
    );
    t.engine.startWorkers(4);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('router', { value: 500 }));
    expect(done.status).toBe('completed');
    expect(ran.sort()).toEqual(['high', 'join']);
    expect(done.nodeResults['low']?.status).toBe('skipped');
    expect(done.nodeResults['low2']?.status).toBe('skipped');
    expect(done.nodeResults['route']?.nextNodes).toEqual(['high']);
    expect(done.nodeResults['join']?.data).toBe('join-out');
  });

  it('retries a flaky node, and records the attempts', async () => {
    t = testEngine({ store });
    t.registry.register('flaky', async (ctx: ExecutionContext) => (ctx.attempt < 3 ? { success: false, error: 'not yet' } : { success: true, data: { attempt: ctx.attempt } }));
    await t.engine.registerWorkflow(graph('flaky', [node('only', 'flaky', { config: { retryPolicy: fast } })], []));
    t.engine.startWorkers(2);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('flaky', {}));
    expect(done.status).toBe('completed');
    expect(done.nodeResults['only']).toMatchObject({ status: 'completed', attempts: 3, data: { attempt: 3 } });
  });

  it('fails into the DLQ after the last attempt, and retryDLQItem completes the execution', async () => {
    t = testEngine({ store });
    let healthy = false;
    const ran: string[] = [];
    t.registry.register('ok', async (ctx) => {
      ran.push(ctx.nodeId);
      return { success: true, data: ctx.inputData };
    });
    t.registry.register('pay', async (ctx) => (healthy ? { success: true, data: { paid: ctx.inputData } } : { success: false, error: 'gateway down' }));
    await t.engine.registerWorkflow(graph('retry-dlq', [node('a', 'ok'), node('pay', 'pay', { config: { retryPolicy: fast } }), node('ship', 'ok')], ['a->pay', 'pay->ship']));
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('retry-dlq', { order: 9 });
    const failed = await t.engine.waitForExecution(id);
    expect(failed).toMatchObject({ status: 'failed', error: "Node 'pay' failed: gateway down" });
    expect(failed.nodeResults['pay']).toMatchObject({ status: 'failed', attempts: 3 });
    expect(failed.completedAt).toBeGreaterThan(0);
    const [item] = await t.engine.getDLQItems();
    expect(item).toMatchObject({ executionId: id, nodeId: 'pay' });
    healthy = true;
    expect(await t.engine.retryDLQItem(item!.jobId)).toBe(true);
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('completed');
    expect(done.error).toBeUndefined();
    expect(done.nodeResults['ship']?.data).toEqual({ paid: { order: 9 } });
    expect(ran).toEqual(['a', 'ship']);
  });

  it('runs sub-workflows with mappings, nested, each execution linked to its parent', async () => {
    t = testEngine({ store });
    t.registry.register('transform', async (ctx) => ({ success: true, data: { ...(ctx.inputData ?? {}), [ctx.workflowId]: ctx.depth } }));
    t.registry.register('charge', async (ctx) => ({ success: true, data: { paymentId: `pay_${ctx.inputData.amount}` } }));
    await t.engine.registerWorkflow(graph('level2', [node('deep', 'transform'), node('charge', 'charge')], ['deep->charge']));
    await t.engine.registerWorkflow(
      graph(
        'level1',
        [
          node('process', 'transform'),
          node('call-level2', 'sub-workflow', { config: { workflowId: 'level2', inputMapping: { amount: 'main' }, outputMapping: { tx: 'paymentId' } } }),
        ],
        ['process->call-level2'],
      ),
    );
    await t.engine.registerWorkflow(graph('main', [node('start', 'transform'), node('call-level1', 'sub-workflow', { config: { workflowId: 'level1' } })], ['start->call-level1']));
    t.engine.startWorkers(3);
    const id = await t.engine.enqueueWorkflow('main', {});
    const done = await t.engine.waitForExecution(id, { timeoutMs: 30_000 });
    expect(done.status).toBe('completed');
    expect(done.nodeResults['call-level1']?.data).toEqual({ tx: 'pay_0' });
    const [l1, ...more] = await store.getChildExecutions(id);
    expect(more).toEqual([]);
    expect(l1).toMatchObject({ workflowId: 'level1', parentNodeId: 'call-level1', depth: 1, status: 'completed' });
    const [l2] = await store.getChildExecutions(l1!.executionId);
    expect(l2).toMatchObject({ workflowId: 'level2', parentExecutionId: l1!.executionId, depth: 2, status: 'completed' });
    expect(l2!.nodeResults['charge']?.data).toEqual({ paymentId: 'pay_0' });
  });

  it('versions a changed definition and keeps running executions on the version they started with', async () => {
    t = testEngine({ store });
    t.registry.register('say', async (ctx) => ({ success: true, data: ctx.nodeConfig['word'] }));
    const v1 = await t.engine.registerWorkflow(graph('versioned', [node('only', 'say', { config: { word: 'one' } })], []));
    expect(await t.engine.registerWorkflow(graph('versioned', [node('only', 'say', { config: { word: 'one' } })], []))).toBe(v1);
    const id1 = await t.engine.enqueueWorkflow('versioned', {});
    const v2 = await t.engine.registerWorkflow(graph('versioned', [node('only', 'say', { config: { word: 'two' } })], []));
    expect(v2).toBe(v1 + 1);
    const id2 = await t.engine.enqueueWorkflow('versioned', {});
    t.engine.startWorkers(2);
    const [one, two] = await Promise.all([t.engine.waitForExecution(id1), t.engine.waitForExecution(id2)]);
    expect(one).toMatchObject({ workflowVersion: v1, nodeResults: { only: { data: 'one' } } });
    expect(two).toMatchObject({ workflowVersion: v2, nodeResults: { only: { data: 'two' } } });
    expect((await t.engine.getWorkflow('versioned', v1))?.nodes[0]?.config).toEqual({ word: 'one' });
  });
});
