import { afterEach, describe, expect, it } from 'vitest';
import type { ExecutionContext } from '../../src/index.js';
import { graph, node, SpyStore, testEngine } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

let t: TestEngine;
afterEach(async () => t?.cleanup());

describe('data passing', () => {
  it('gives the entry node the initial data, a single child its parent data, and a join { parentId: data }', async () => {
    t = testEngine();
    const seen: Record<string, unknown> = {};
    t.registry.register('record', async (ctx: ExecutionContext) => {
      seen[ctx.nodeId] = ctx.inputData;
      return { success: true, data: { from: ctx.nodeId } };
    });
    const wf = graph(
      'data-passing',
      [node('start', 'record'), node('left', 'record'), node('right', 'record'), node('join', 'record')],
      ['start->left', 'start->right', 'left->join', 'right->join'],
    );
    await t.engine.registerWorkflow(wf);
    t.engine.startWorkers(4);
    const id = await t.engine.enqueueWorkflow('data-passing', { userId: 123 });
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('completed');
    expect(seen['start']).toEqual({ userId: 123 });
    expect(seen['left']).toEqual({ from: 'start' });
    expect(seen['right']).toEqual({ from: 'start' });
    expect(seen['join']).toEqual({ left: { from: 'left' }, right: { from: 'right' } });
  });

  it.each([
    ['zero', 0],
    ['false', false],
    ['empty string', ''],
    ['null', null],
  ])('keeps a falsy output (%s) for the child and in the stored result', async (_label, value) => {
    t = testEngine();
    const received: unknown[] = [];
    t.registry.register('emit', async () => ({ success: true, data: value }));
    t.registry.register('take', async (ctx) => {
      received.push(ctx.inputData);
      return { success: true, data: ctx.inputData };
    });
    await t.engine.registerWorkflow(graph('falsy', [node('emit', 'emit'), node('take', 'take')], ['emit->take']));
    t.engine.startWorkers(2);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('falsy', {}));
    expect(done.status).toBe('completed');
    expect(received).toEqual([value]);
    expect(done.nodeResults['emit']?.data).toBe(value);
    expect(done.nodeResults['take']?.data).toBe(value);
  });

  it('hands executors the context: ids, config, previous results, initial data, depth, attempt', async () => {
    t = testEngine();
    let context: ExecutionContext | undefined;
    t.registry.register('first', async () => ({ success: true, data: 'one' }));
    t.registry.register('probe', async (ctx) => {
      context = ctx;
      return { success: true };
    });
    await t.engine.registerWorkflow(
      graph('ctx', [node('first', 'first'), node('probe', 'probe', { config: { url: 'http://x.test', retries: 2 } })], ['first->probe']),
    );
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('ctx', { seed: 7 });
    await t.engine.waitForExecution(id);
    expect(context).toMatchObject({
      workflowId: 'ctx',
      executionId: id,
      nodeId: 'probe',
      nodeType: 'probe',
      inputData: 'one',
      nodeConfig: { url: 'http://x.test', retries: 2 },
      initialData: { seed: 7 },
      depth: 0,
      attempt: 1,
    });
    expect(context?.previousResults['first']).toMatchObject({ status: 'completed', data: 'one' });
    expect(context?.signal).toBeInstanceOf(AbortSignal);
  });
});

describe('parallel fan-out and joins', () => {
  it('runs 40 parallel branches and their join exactly once with two engines racing', async () => {
    const store = new SpyStore();
    t = testEngine({ store });
    const runs = new Map<string, number>();
    t.registry.register('work', async (ctx) => {
      runs.set(ctx.nodeId, (runs.get(ctx.nodeId) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, Math.random() * 20));
      return { success: true, data: ctx.nodeId };
    });
    const branches = Array.from({ length: 40 }, (_, i) => node(`b${i}`, 'work'));
    const wf = graph(
      'fan',
      [node('start', 'work'), ...branches, node('join', 'work')],
      branches.flatMap((b) => [`start->${b.id}`, `${b.id}->join`]),
    );
    await t.engine.registerWorkflow(wf);
    const second = t.sibling();
    t.engine.startWorkers(20);
    second.startWorkers(20);
    const ids = await Promise.all(Array.from({ length: 5 }, () => t.engine.enqueueWorkflow('fan', {})));
    for (const id of ids) {
      const done = await t.engine.waitForExecution(id, { timeoutMs: 20_000 });
      expect(done.status).toBe('completed');
      expect(Object.keys(done.nodeResults)).toHaveLength(42);
      expect(store.count(id, 'completed')).toBe(1);
    }
    expect(runs.get('join')).toBe(5);
    expect(runs.get('start')).toBe(5);
    for (const b of branches) expect(runs.get(b.id)).toBe(5);
  });

  it('gives the join every parent output keyed by parent id', async () => {
    t = testEngine();
    let joined: unknown;
    t.registry.register('n', async (ctx) => ({ success: true, data: ctx.nodeId.toUpperCase() }));
    t.registry.register('join', async (ctx) => {
      joined = ctx.inputData;
      return { success: true };
    });
    await t.engine.registerWorkflow(
      graph('keyed', [node('s', 'n'), node('a', 'n'), node('b', 'n'), node('c', 'n'), node('j', 'join')], ['s->a', 's->b', 's->c', 'a->j', 'b->j', 'c->j']),
    );
    t.engine.startWorkers(5);
    await t.engine.waitForExecution(await t.engine.enqueueWorkflow('keyed', {}));
    expect(joined).toEqual({ a: 'A', b: 'B', c: 'C' });
  });
});

describe('branching with nextNodes', () => {
  function routerWorkflow() {
    // route -> high -> high2 ─┐
    //       -> low  -> low2  ─┴-> join -> after
    return graph(
      'router',
      [
        node('route', 'router'),
        node('high', 'mark'),
        node('high2', 'mark'),
        node('low', 'mark'),
        node('low2', 'mark'),
        node('join', 'mark'),
        node('after', 'mark'),
      ],
      ['route->high', 'route->low', 'high->high2', 'low->low2', 'high2->join', 'low2->join', 'join->after'],
    );
  }

  it('runs only the chosen branch, skips everything below the other one, and still runs the join', async () => {
    t = testEngine();
    const ran: string[] = [];
    const inputs: Record<string, unknown> = {};
    t.registry.register('router', async (ctx) => {
      const { value } = ctx.inputData;
      return value > 100
        ? { success: true, data: { routed: 'high' }, nextNodes: ['high'] }
        : { success: true, data: { routed: 'low' }, nextNodes: ['low'] };
    });
    t.registry.register('mark', async (ctx) => {
      ran.push(ctx.nodeId);
      inputs[ctx.nodeId] = ctx.inputData;
      return { success: true, data: `${ctx.nodeId}-out` };
    });
    await t.engine.registerWorkflow(routerWorkflow());
    t.engine.startWorkers(4);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('router', { value: 500 }));
    expect(done.status).toBe('completed');
    expect(ran.sort()).toEqual(['after', 'high', 'high2', 'join']);
    expect(done.nodeResults['low']?.status).toBe('skipped');
    expect(done.nodeResults['low2']?.status).toBe('skipped');
    expect(done.nodeResults['route']?.nextNodes).toEqual(['high']);
    // One active parent: the join gets that parent's data directly.
    expect(inputs['join']).toBe('high2-out');
    expect(inputs['after']).toBe('join-out');
  });

  it('skips every descendant when no branch is chosen', async () => {
    t = testEngine();
    t.registry.register('router', async () => ({ success: true, data: 'none', nextNodes: [] }));
    t.registry.register('mark', async () => ({ success: true }));
    await t.engine.registerWorkflow(routerWorkflow());
    t.engine.startWorkers(4);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('router', { value: 1 }));
    expect(done.status).toBe('completed');
    for (const id of ['high', 'high2', 'low', 'low2', 'join', 'after']) expect(done.nodeResults[id]?.status).toBe('skipped');
  });

  it('fails the node when nextNodes names a node that is not one of its children', async () => {
    t = testEngine();
    t.registry.register('router', async () => ({ success: true, nextNodes: ['join'] }));
    t.registry.register('mark', async () => ({ success: true }));
    await t.engine.registerWorkflow(routerWorkflow());
    t.engine.startWorkers(2);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('router', {}));
    expect(done.status).toBe('failed');
    expect(done.nodeResults['route']?.error).toMatch(/chose 'join'.*outputs are \[high, low\]/);
  });
});
