/**
 * Data passing, fan-out/joins and branching, run inline and in worker threads (see
 * test/fixtures/modes.ts); executors are in test/fixtures/executors/data-flow.ts.
 * Executors report through a probe in Redis (REDIS_URL), whatever the queue backend.
 */
import { expect, it } from 'vitest';
import { createRegistry } from '../fixtures/executors/data-flow.js';
import { forEachMode } from '../fixtures/modes.js';
import { graph, node, SpyStore } from '../helpers.js';

forEachMode({ module: new URL('../fixtures/executors/data-flow.ts', import.meta.url), createRegistry }, (h) => {
  const inputsSeen = async () => Object.fromEntries(await h.probe.list<[string, unknown]>('inputs'));

  it('gives the entry node the initial data, a single child its parent data, and a join { parentId: data }', async () => {
    const t = h.engine();
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
    const seen = await inputsSeen();
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
    const t = h.engine();
    await t.engine.registerWorkflow(graph('falsy', [node('emit', 'emit', { config: { value } }), node('take', 'take')], ['emit->take']));
    t.engine.startWorkers(2);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('falsy', {}));
    expect(done.status).toBe('completed');
    expect(await h.probe.list('received')).toEqual([value]);
    expect(done.nodeResults['emit']?.data).toBe(value);
    expect(done.nodeResults['take']?.data).toBe(value);
  });

  it('hands executors the context: ids, config, previous results, initial data, depth, attempt', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('ctx', [node('first', 'first'), node('probe', 'probe', { config: { url: 'http://x.test', retries: 2 } })], ['first->probe']));
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('ctx', { seed: 7 });
    await t.engine.waitForExecution(id);
    const [context] = await h.probe.list<Record<string, unknown> & { previousResults: Record<string, unknown> }>('context');
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
    expect(context?.['signalIsAbortSignal']).toBe(true);
  });

  it('runs 40 parallel branches and their join exactly once with two engines racing', async () => {
    // A SpyStore sees the store calls of this thread only, so thread mode checks the store itself.
    const store = h.threads ? undefined : new SpyStore();
    const t = h.engine(store ? { store } : {});
    const branches = Array.from({ length: 40 }, (_, i) => node(`b${i}`, 'work'));
    const wf = graph(
      'fan',
      [node('start', 'work'), ...branches, node('join', 'work')],
      branches.flatMap((b) => [`start->${b.id}`, `${b.id}->join`]),
    );
    await t.engine.registerWorkflow(wf);
    const second = t.sibling();
    // 20 slots each inline; in thread mode a slot is a thread, so fewer.
    const slots = h.threads ? 4 : 20;
    t.engine.startWorkers(slots);
    second.startWorkers(slots);
    const ids = await Promise.all(Array.from({ length: 5 }, () => t.engine.enqueueWorkflow('fan', {})));
    for (const id of ids) {
      const done = await t.engine.waitForExecution(id, { timeoutMs: h.patience(20_000) });
      expect(done.status).toBe('completed');
      expect(Object.keys(done.nodeResults)).toHaveLength(42);
      if (store) expect(store.count(id, 'completed')).toBe(1);
    }
    expect(await h.probe.count('runs:join')).toBe(5);
    expect(await h.probe.count('runs:start')).toBe(5);
    for (const b of branches) expect(await h.probe.count(`runs:${b.id}`)).toBe(5);
  });

  it('gives the join every parent output keyed by parent id', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(
      graph('keyed', [node('s', 'n'), node('a', 'n'), node('b', 'n'), node('c', 'n'), node('j', 'join')], ['s->a', 's->b', 's->c', 'a->j', 'b->j', 'c->j']),
    );
    t.engine.startWorkers(5);
    await t.engine.waitForExecution(await t.engine.enqueueWorkflow('keyed', {}));
    expect(await h.probe.list('joined')).toEqual([{ a: 'A', b: 'B', c: 'C' }]);
  });

  it('runs nodes named like Object.prototype members exactly once, as root, middle nodes and join parents', async () => {
    const t = h.engine();
    // valueOf -> constructor ─┐
    //         -> toString    ─┴-> hasOwnProperty -> isPrototypeOf
    const ids = ['valueOf', 'constructor', 'toString', 'hasOwnProperty', 'isPrototypeOf'];
    await t.engine.registerWorkflow(
      graph(
        'proto-ids',
        ids.map((id) => node(id, 'shape')),
        ['valueOf->constructor', 'valueOf->toString', 'constructor->hasOwnProperty', 'toString->hasOwnProperty', 'hasOwnProperty->isPrototypeOf'],
      ),
    );
    t.engine.startWorkers(3);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('proto-ids', { seed: 1 }));
    expect(done.status).toBe('completed');
    expect(Object.keys(done.nodeResults).sort()).toEqual([...ids].sort());
    for (const id of ids) {
      expect(Object.hasOwn(done.nodeResults, id)).toBe(true);
      expect(done.nodeResults[id]).toMatchObject({ status: 'completed', data: { from: id } });
      expect(await h.probe.count(`runs:${id}`)).toBe(1);
    }
    const seen = Object.fromEntries(await h.probe.list<[string, Record<string, unknown>]>('shapes'));
    expect(seen['valueOf']).toMatchObject({ input: { seed: 1 }, previousProto: 'Object.prototype', previousKeys: [] });
    // previousResults holds the node's parents' results only.
    expect(seen['constructor']).toMatchObject({ input: { from: 'valueOf' }, previousProto: 'Object.prototype', previousKeys: ['valueOf'] });
    expect(seen['hasOwnProperty']).toEqual({
      input: { constructor: { from: 'constructor' }, toString: { from: 'toString' } },
      inputProto: 'Object.prototype',
      inputKeys: ['constructor', 'toString'],
      previousProto: 'Object.prototype',
      previousKeys: ['constructor', 'toString'],
    });
    expect(seen['isPrototypeOf']).toMatchObject({ input: { from: 'hasOwnProperty' }, previousKeys: ['hasOwnProperty'] });
  });

  function routerWorkflow(routerType: string) {
    // route -> high -> high2 ─┐
    //       -> low  -> low2  ─┴-> join -> after
    return graph(
      'router',
      [node('route', routerType), node('high', 'mark'), node('high2', 'mark'), node('low', 'mark'), node('low2', 'mark'), node('join', 'mark'), node('after', 'mark')],
      ['route->high', 'route->low', 'high->high2', 'low->low2', 'high2->join', 'low2->join', 'join->after'],
    );
  }

  it('branching: runs only the chosen branch, skips everything below the other one, and still runs the join', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(routerWorkflow('router'));
    t.engine.startWorkers(4);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('router', { value: 500 }));
    expect(done.status).toBe('completed');
    expect((await h.probe.list<string>('ran')).sort()).toEqual(['after', 'high', 'high2', 'join']);
    expect(done.nodeResults['low']?.status).toBe('skipped');
    expect(done.nodeResults['low2']?.status).toBe('skipped');
    expect(done.nodeResults['route']?.nextNodes).toEqual(['high']);
    // One active parent: the join gets that parent's data directly.
    const inputs = await inputsSeen();
    expect(inputs['join']).toBe('high2-out');
    expect(inputs['after']).toBe('join-out');
  });

  it('branching: skips every descendant when no branch is chosen', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(routerWorkflow('router-none'));
    t.engine.startWorkers(4);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('router', { value: 1 }));
    expect(done.status).toBe('completed');
    for (const id of ['high', 'high2', 'low', 'low2', 'join', 'after']) expect(done.nodeResults[id]?.status).toBe('skipped');
  });

  it('branching: fails the node when nextNodes names a node that is not one of its children', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(routerWorkflow('router-stranger'));
    t.engine.startWorkers(2);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('router', {}));
    expect(done.status).toBe('failed');
    expect(done.nodeResults['route']?.error).toMatch(/chose 'join'.*outputs are \[high, low\]/);
  });
});
