/**
 * `engine.forkExecution`: a failed execution forked after its executor is fixed, a fork with an
 * input, forks of a completed execution with branches, a fork on another workflow version, a
 * sub-workflow node re-run in a fork, the typed DSL form, and every refusal (nothing stored).
 * Each scenario runs on the in-memory store and on a DrizzleStore (PGlite).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineNode,
  isPayloadReference,
  router,
  transform,
  ExecutionNotForkableError,
  ExecutionNotFoundError,
  ForkInputError,
  ForkNodeError,
  InMemoryExecutionStore,
  InvalidArgumentError,
  workflow,
  WorkflowNotFoundError,
} from '../../src/index.js';
import type { ExecutionStore, WorkflowExecution } from '../../src/index.js';
import { DrizzleStore } from '../../src/store/drizzle/store.js';
import { truncateSpaneTables } from '../contract/databases.js';
import { graph, node, testEngine, until } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

const once = { maxAttempts: 1 };

/** What each node type was called with, by node id, in call order. */
type Calls = Map<string, unknown[]>;

function record(calls: Calls, nodeId: string, input: unknown): void {
  calls.set(nodeId, [...(calls.get(nodeId) ?? []), input]);
}

const addOne = defineNode({
  type: 'fork-add-one',
  input: z.object({ n: z.number() }),
  output: z.object({ n: z.number() }),
  run: ({ input }) => ({ n: input.n + 1 }),
});
const routed = workflow('fork-join', { input: z.object({ n: z.number() }) })
  .branch(
    'route',
    router('fork-route', (x: { n: number }) => (x.n > 0 ? 'pos' : 'neg')),
    {
      pos: transform('fork-pos', (x: { n: number }) => ({ pos: x.n })),
      neg: transform('fork-neg', (x: { n: number }) => ({ neg: x.n })),
    },
  )
  .then(
    'join',
    transform('fork-join', { input: z.object({ pos: z.object({ pos: z.number() }).optional(), neg: z.object({ neg: z.number() }).optional() }) }, (x) => ({ joined: x })),
  )
  .build();
const counter = workflow('fork-typed', { input: z.object({ n: z.number() }) })
  .then('first', addOne())
  .then('second', addOne())
  .build();

describe.each(['memory', 'PGlite'] as const)('forkExecution (%s store)', (kind) => {
  let drizzle: DrizzleStore | undefined;
  let t: TestEngine;
  let calls: Calls;
  let broken: boolean;

  beforeAll(async () => {
    if (kind === 'PGlite') drizzle = await DrizzleStore.pglite();
  }, 60_000);
  afterAll(async () => drizzle?.close());
  afterEach(async () => {
    await t?.cleanup();
    if (drizzle !== undefined) await truncateSpaneTables(drizzle.db);
  });

  function store(): ExecutionStore {
    return drizzle ?? new InMemoryExecutionStore();
  }

  async function started(config: { payloadThresholdBytes?: number } = {}): Promise<TestEngine> {
    t = testEngine({ store: store(), config });
    calls = new Map();
    broken = true;
    t.registry.register('step', async (ctx) => {
      record(calls, ctx.nodeId, ctx.inputData);
      return { success: true, data: { from: ctx.nodeId, got: ctx.inputData } };
    });
    t.registry.register('fragile', async (ctx) => {
      record(calls, ctx.nodeId, ctx.inputData);
      if (broken) throw new Error('card declined');
      return { success: true, data: { charged: true } };
    });
    t.registry.register('route', async (ctx) => {
      record(calls, ctx.nodeId, ctx.inputData);
      const { pick } = ctx.initialData as { pick: string };
      return { success: true, data: { routed: true }, nextNodes: [broken ? pick : pick === 'yes' ? 'no' : 'yes'] };
    });
    await t.engine.registerWorkflow(counter);
    await t.engine.registerWorkflow(routed);
    t.engine.startWorkers(4);
    return t;
  }

  async function executionsOf(workflowId: string): Promise<WorkflowExecution[]> {
    return t.store.listExecutions({ workflowId });
  }

  it('forks a failed execution after its executor is fixed: the nodes above run no more', async () => {
    await started();
    await t.engine.registerWorkflow(
      graph('checkout', [node('cart', 'step'), node('charge', 'fragile', { retryPolicy: once }), node('receipt', 'step')], ['cart->charge', 'charge->receipt']),
    );
    const original = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('checkout', { order: 7 }));
    expect(original.status).toBe('failed');
    broken = false;

    const forkId = await t.engine.forkExecution(original.executionId, { fromNodeId: 'charge' });
    const fork = await t.engine.waitForExecution(forkId);
    expect(fork.status).toBe('completed');
    expect(fork.forkedFrom).toEqual({ executionId: original.executionId, nodeId: 'charge' });
    expect(fork.workflowVersion).toBe(original.workflowVersion);
    expect(fork.initialData).toEqual({ order: 7 });
    // Copied, not run again: the very same result.
    expect(fork.nodeResults['cart']).toEqual(original.nodeResults['cart']);
    expect(calls.get('cart')).toHaveLength(1);
    expect(calls.get('charge')).toEqual([
      { from: 'cart', got: { order: 7 } },
      { from: 'cart', got: { order: 7 } },
    ]);
    expect(fork.nodeResults['receipt']).toMatchObject({ status: 'completed', data: { from: 'receipt', got: { charged: true } } });

    // The original is untouched.
    const after = await t.engine.getExecution(original.executionId);
    expect(after).toEqual(original);
    expect(after?.forkedFrom).toBeUndefined();
  });

  it('runs the fork node on the given input, and forks a cancelled execution from its entry node', async () => {
    await started();
    await t.engine.registerWorkflow(graph('pipeline', [node('load', 'step'), node('enrich', 'step'), node('save', 'step')], ['load->enrich', 'enrich->save']));
    const original = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('pipeline', { id: 1 }));
    expect(original.status).toBe('completed');

    const forkId = await t.engine.forkExecution(original.executionId, { fromNodeId: 'enrich', input: { id: 2, patched: true } });
    const fork = await t.engine.waitForExecution(forkId);
    expect(fork.status).toBe('completed');
    expect(calls.get('enrich')?.at(-1)).toEqual({ id: 2, patched: true });
    expect(fork.nodeResults['save']?.data).toEqual({ from: 'save', got: { from: 'enrich', got: { id: 2, patched: true } } });
    expect(calls.get('load')).toHaveLength(1);

    // A cancelled execution forks too; from the entry node everything runs, on the initial data.
    await t.engine.registerWorkflow(graph('slow', [node('wait', 'delay', { config: { duration: 60_000 } }), node('next', 'step')], ['wait->next']));
    const slow = await t.engine.enqueueWorkflow('slow', { v: 1 });
    await t.engine.cancelWorkflow(slow);
    await t.engine.registerWorkflow(graph('slow', [node('wait', 'step'), node('next', 'step')], ['wait->next']));
    const again = await t.engine.waitForExecution(await t.engine.forkExecution(slow, { fromNodeId: 'wait', version: 2 }));
    expect(again.status).toBe('completed');
    expect(again.nodeResults['next']?.data).toEqual({ from: 'next', got: { from: 'wait', got: { v: 1 } } });
  });

  it('keeps the branches outside the re-run as they were, and recomputes those inside it', async () => {
    await started();
    await t.engine.registerWorkflow(
      graph(
        'review',
        [node('start', 'step'), node('router', 'route'), node('yes', 'step'), node('no', 'step'), node('join', 'step')],
        ['start->router', 'router->yes', 'router->no', 'yes->join', 'no->join'],
      ),
    );
    const original = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('review', { pick: 'yes' }));
    expect(original.status).toBe('completed');
    expect(original.nodeResults['no']?.status).toBe('skipped');

    // From inside the taken branch: the router's choice and the skipped branch are copied.
    const inside = await t.engine.waitForExecution(await t.engine.forkExecution(original.executionId, { fromNodeId: 'yes' }));
    expect(inside.status).toBe('completed');
    expect(inside.nodeResults['router']).toEqual(original.nodeResults['router']);
    expect(inside.nodeResults['no']).toEqual(original.nodeResults['no']);
    expect(inside.nodeResults['yes']?.status).toBe('completed');
    expect(inside.nodeResults['join']?.data).toMatchObject({ got: { from: 'yes' } });
    expect(calls.get('router')).toHaveLength(1);

    // From the router, which now picks the other branch: the skip is recomputed.
    broken = false;
    const other = await t.engine.waitForExecution(await t.engine.forkExecution(original.executionId, { fromNodeId: 'router' }));
    expect(other.status).toBe('completed');
    expect(other.nodeResults['yes']?.status).toBe('skipped');
    expect(other.nodeResults['no']?.status).toBe('completed');
    expect(other.nodeResults['join']?.data).toMatchObject({ got: { from: 'no' } });
    expect(other.nodeResults['start']).toEqual(original.nodeResults['start']);

    // A skipped node is forked from like any other: with its copied parents it is skipped again.
    const skippedAgain = await t.engine.waitForExecution(await t.engine.forkExecution(original.executionId, { fromNodeId: 'no' }));
    expect(skippedAgain.status).toBe('completed');
    expect(skippedAgain.nodeResults['no']?.status).toBe('skipped');
    expect(skippedAgain.nodeResults['join']?.data).toMatchObject({ got: { from: 'yes' } });
  });

  it('runs the fork on another version: fixed code on the old data, results of removed nodes dropped', async () => {
    await started();
    await t.engine.registerWorkflow(
      graph('ship', [node('pack', 'step'), node('legacy', 'step'), node('label', 'fragile', { retryPolicy: once })], ['pack->legacy', 'legacy->label']),
    );
    const original = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('ship', { parcel: 3 }));
    expect(original.status).toBe('failed');
    expect(original.nodeResults['legacy']?.status).toBe('completed');
    const v2 = await t.engine.registerWorkflow(graph('ship', [node('pack', 'step'), node('label', 'step'), node('notify', 'step')], ['pack->label', 'label->notify']));
    expect(v2).toBe(2);

    const fork = await t.engine.waitForExecution(await t.engine.forkExecution(original.executionId, { fromNodeId: 'label', version: v2 }));
    expect(fork.status).toBe('completed');
    expect(fork.workflowVersion).toBe(2);
    expect(Object.keys(fork.nodeResults).sort()).toEqual(['label', 'notify', 'pack']);
    expect(fork.nodeResults['pack']).toEqual(original.nodeResults['pack']);
    expect(fork.nodeResults['label']?.data).toEqual({ from: 'label', got: { from: 'pack', got: { parcel: 3 } } });
    expect(fork.nodeResults['notify']?.data).toMatchObject({ got: { from: 'label' } });
  });

  it('re-runs a failure outside the re-run set that the original stopped at', async () => {
    await started();
    await t.engine.registerWorkflow(
      graph(
        'pair',
        [node('root', 'step'), node('left', 'fragile', { retryPolicy: once }), node('right', 'step'), node('end', 'step')],
        ['root->left', 'root->right', 'left->end', 'right->end'],
      ),
    );
    const original = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('pair', {}));
    expect(original.status).toBe('failed');
    broken = false;
    const fork = await t.engine.waitForExecution(await t.engine.forkExecution(original.executionId, { fromNodeId: 'end' }));
    expect(fork.status).toBe('completed');
    expect(fork.nodeResults['left']?.status).toBe('completed');
    expect(fork.nodeResults['end']?.data).toMatchObject({ got: { left: { charged: true } } });
  });

  it('starts a fresh child for a sub-workflow node in the re-run set', async () => {
    await started();
    await t.engine.registerWorkflow(graph('child', [node('inner', 'step')], []));
    await t.engine.registerWorkflow(graph('parent', [node('before', 'step'), node('call', 'sub-workflow', { config: { workflowId: 'child' } })], ['before->call']));
    const original = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('parent', { p: 1 }));
    expect(original.status).toBe('completed');
    const forkId = await t.engine.forkExecution(original.executionId, { fromNodeId: 'call' });
    const fork = await t.engine.waitForExecution(forkId);
    expect(fork.status).toBe('completed');
    const children = await t.store.getChildExecutions(forkId);
    expect(children).toHaveLength(1);
    expect(children[0]?.status).toBe('completed');
    expect(await t.store.getChildExecutions(original.executionId)).toHaveLength(1);
    expect(calls.get('inner')).toHaveLength(2);
  });

  it('takes the typed DSL form and checks the input against the node schema', async () => {
    await started();
    const original = await t.engine.waitForExecution(counter, await t.engine.enqueueWorkflow(counter, { n: 1 }));
    expect(original.status).toBe('completed');
    const forkId = await t.engine.forkExecution(counter, original.executionId, { fromNodeId: 'second', input: { n: 10 } });
    await t.engine.waitForExecution(counter, forkId);
    expect(await t.engine.result(counter, forkId)).toEqual({ n: 11 });

    const before = (await executionsOf('fork-typed')).length;
    const bad = t.engine.forkExecution(counter, original.executionId, { fromNodeId: 'second', input: { n: 'ten' } });
    await expect(bad).rejects.toBeInstanceOf(ForkInputError);
    await expect(bad).rejects.toMatchObject({ code: 'FORK_INPUT_INVALID', issues: [expect.stringMatching(/^n: /)] });
    await expect(bad).rejects.not.toThrow(/ten/);
    expect(await executionsOf('fork-typed')).toHaveLength(before);

    await t.engine.registerWorkflow(graph('other', [node('x', 'step')], []));
    const foreign = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('other', {}));
    await expect(t.engine.forkExecution(counter, foreign.executionId, { fromNodeId: 'first' })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('gives a DSL join below a branch the join object it was given', async () => {
    await started();
    const original = await t.engine.waitForExecution(routed, await t.engine.enqueueWorkflow(routed, { n: 1 }));
    expect(original.status).toBe('completed');
    const forkId = await t.engine.forkExecution(routed, original.executionId, { fromNodeId: 'join', input: { pos: { pos: 41 } } });
    await t.engine.waitForExecution(routed, forkId);
    expect(await t.engine.result(routed, forkId)).toEqual({ joined: { pos: { pos: 41 } } });
    // Only the branch that ran may be given.
    await expect(t.engine.forkExecution(routed, original.executionId, { fromNodeId: 'join', input: { neg: { neg: 1 } } })).rejects.toBeInstanceOf(ForkInputError);
  });

  it('copies claim-checked results into payloads of its own', async () => {
    await started({ payloadThresholdBytes: 64 });
    await t.engine.registerWorkflow(graph('big', [node('make', 'step'), node('use', 'step')], ['make->use']));
    const original = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('big', { text: 'x'.repeat(200) }));
    expect(original.status).toBe('completed');
    const forkId = await t.engine.forkExecution(original.executionId, { fromNodeId: 'use', input: { text: 'y'.repeat(200) } });
    const fork = await t.engine.waitForExecution(forkId);
    expect(fork.status).toBe('completed');
    expect(fork.nodeResults['make']?.data).toEqual(original.nodeResults['make']?.data);
    expect(fork.initialData).toEqual({ text: 'x'.repeat(200) });
    expect(fork.nodeResults['use']?.data).toEqual({ from: 'use', got: { text: 'y'.repeat(200) } });
    const raw = await t.engine.getExecution(forkId, { raw: true });
    expect(isPayloadReference(raw?.nodeResults['make']?.data)).toBe(true);
    expect(isPayloadReference(raw?.initialData)).toBe(true);
  });

  it('refuses what cannot be forked, with typed errors and nothing stored', async () => {
    await started();
    await t.engine.registerWorkflow(graph('gate', [node('a', 'step'), node('wait', 'delay', { config: { duration: 60_000 } }), node('b', 'step')], ['a->wait', 'wait->b']));
    const done = await t.engine.waitForExecution(
      await t.engine.enqueueWorkflow('gate', { ok: true }).then(async (id) => {
        await t.engine.cancelWorkflow(id);
        return id;
      }),
    );
    const running = await t.engine.enqueueWorkflow('gate', {});
    await until(async () => (await t.engine.getExecution(running))?.nodeResults['a'] !== undefined);
    const count = (await executionsOf('gate')).length;

    await expect(t.engine.forkExecution('no-such-execution', { fromNodeId: 'a' })).rejects.toBeInstanceOf(ExecutionNotFoundError);
    await expect(t.engine.forkExecution(running, { fromNodeId: 'a' })).rejects.toBeInstanceOf(ExecutionNotForkableError);
    await expect(t.engine.forkExecution(running, { fromNodeId: 'a' })).rejects.toMatchObject({ code: 'EXECUTION_NOT_FORKABLE', status: 'running' });
    await expect(t.engine.forkExecution(done.executionId, { fromNodeId: 'nope' })).rejects.toBeInstanceOf(ForkNodeError);
    await expect(t.engine.forkExecution(done.executionId, { fromNodeId: 'nope' })).rejects.toMatchObject({ code: 'FORK_NODE_INVALID', reason: 'unknown-node' });
    await expect(t.engine.forkExecution(done.executionId, { fromNodeId: 'a', version: 9 })).rejects.toBeInstanceOf(WorkflowNotFoundError);
    // `b` never got its parent's result: it cannot run on a given input.
    await expect(t.engine.forkExecution(done.executionId, { fromNodeId: 'b', input: {} })).rejects.toMatchObject({ code: 'FORK_NODE_INVALID', reason: 'not-ready' });
    await expect(t.engine.forkExecution(done.executionId, { fromNodeId: 'a', input: 1n })).rejects.toBeInstanceOf(InvalidArgumentError);
    for (const bad of [
      undefined,
      null,
      'a',
      { fromNodeId: 3 },
      { fromNodeId: '' },
      { fromNodeId: 'a', version: 0 },
      { fromNodeId: 'a', version: '2' },
      { fromNodeId: 'a', extra: 1 },
    ]) {
      await expect(t.engine.forkExecution(done.executionId, bad as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    await expect(t.engine.forkExecution(42 as never, { fromNodeId: 'a' })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await executionsOf('gate')).toHaveLength(count);
    await t.engine.cancelWorkflow(running);
  });
});
