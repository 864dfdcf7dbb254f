import { afterEach, describe, expect, it } from 'vitest';
import { NonRetryableError } from '../../src/index.js';
import { graph, node, SpyStore, testEngine, until } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

let t: TestEngine;
afterEach(async () => t?.cleanup());

const fast = { maxAttempts: 3, backoff: { type: 'fixed' as const, delay: 10 } };

describe('retries', () => {
  it.each([
    ['throws', async () => { throw new Error('boom'); }],
    ['returns success: false', async () => ({ success: false, error: 'boom' })],
  ])('retries an entry node that %s, then succeeds', async (_label, fail) => {
    t = testEngine();
    let calls = 0;
    t.registry.register('flaky', async (ctx) => {
      calls++;
      if (ctx.attempt < 3) return fail();
      return { success: true, data: { attempt: ctx.attempt } };
    });
    await t.engine.registerWorkflow(graph('flaky', [node('only', 'flaky', { config: { retryPolicy: fast } })], []));
    t.engine.startWorkers(2);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('flaky', {}));
    expect(done.status).toBe('completed');
    expect(calls).toBe(3);
    expect(done.nodeResults['only']).toMatchObject({ status: 'completed', attempts: 3, data: { attempt: 3 } });
  });

  it('uses exponential backoff between attempts', async () => {
    t = testEngine();
    const at: number[] = [];
    t.registry.register('flaky', async () => {
      at.push(Date.now());
      throw new Error('nope');
    });
    const policy = { maxAttempts: 3, backoff: { type: 'exponential' as const, delay: 200 } };
    await t.engine.registerWorkflow(graph('exp', [node('x', 'flaky', { retryPolicy: policy })], []));
    t.engine.startWorkers(1);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('exp', {}));
    expect(done.status).toBe('failed');
    expect(at).toHaveLength(3);
    // 200 ms then 400 ms: the second wait is clearly longer than the first.
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(190);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(390);
  });

  it('does not retry a NonRetryableError', async () => {
    t = testEngine();
    let calls = 0;
    t.registry.register('bad', async () => {
      calls++;
      throw new NonRetryableError('invalid input');
    });
    await t.engine.registerWorkflow(graph('nr', [node('x', 'bad', { retryPolicy: fast })], []));
    t.engine.startWorkers(1);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('nr', {}));
    expect(done.status).toBe('failed');
    expect(calls).toBe(1);
    expect(done.nodeResults['x']).toMatchObject({ status: 'failed', error: 'invalid input', attempts: 1 });
  });

  it('treats a malformed executor return value as a failure that names the node', async () => {
    t = testEngine();
    t.registry.register('weird', async () => 'not a result' as never);
    await t.engine.registerWorkflow(graph('weird', [node('w', 'weird')], []));
    t.engine.startWorkers(1);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('weird', {}));
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/executor of node 'w' must return \{ success: boolean/);
  });
});

describe('after the last attempt', () => {
  it('continueOnFail records the failure and runs the children with the error', async () => {
    t = testEngine();
    let childInput: unknown;
    t.registry.register('fail', async () => ({ success: false, error: 'upstream down' }));
    t.registry.register('child', async (ctx) => {
      childInput = ctx.inputData;
      return { success: true, data: 'handled' };
    });
    await t.engine.registerWorkflow(
      graph('cof', [node('f', 'fail', { config: { retryPolicy: { ...fast, maxAttempts: 2, continueOnFail: true } } }), node('c', 'child')], ['f->c']),
    );
    t.engine.startWorkers(2);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('cof', {}));
    expect(done.status).toBe('completed');
    expect(done.nodeResults['f']).toMatchObject({ status: 'failed', error: 'upstream down', attempts: 2 });
    expect(childInput).toEqual({ error: 'upstream down' });
    expect(done.nodeResults['c']?.data).toBe('handled');
    expect(await t.engine.getDLQItems()).toEqual([]);
  });

  it('without continueOnFail fails the execution, runs nothing more, and lands in the DLQ', async () => {
    t = testEngine();
    const ran: string[] = [];
    t.registry.register('ok', async (ctx) => {
      ran.push(ctx.nodeId);
      return { success: true, data: ctx.nodeId };
    });
    t.registry.register('fail', async () => {
      throw new Error('card declined');
    });
    await t.engine.registerWorkflow(
      graph('dlq', [node('a', 'ok'), node('pay', 'fail', { config: { retryPolicy: fast } }), node('ship', 'ok')], ['a->pay', 'pay->ship']),
    );
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('dlq', { order: 1 });
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('failed');
    expect(done.error).toBe("Node 'pay' failed: card declined");
    expect(done.nodeResults['pay']).toMatchObject({ status: 'failed', attempts: 3 });
    expect(done.nodeResults['ship']).toBeUndefined();
    expect(ran).toEqual(['a']);
    const items = await t.engine.getDLQItems(0, 10);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ executionId: id, workflowId: 'dlq', nodeId: 'pay', error: 'card declined', attempts: 3 });
    expect(items[0]!.failedAt).toBeGreaterThan(0);
  });

  it('retryDLQItem re-runs the node and the execution continues to completion', async () => {
    t = testEngine();
    let healthy = false;
    const ran: string[] = [];
    t.registry.register('ok', async (ctx) => {
      ran.push(ctx.nodeId);
      return { success: true, data: ctx.inputData };
    });
    t.registry.register('pay', async (ctx) => (healthy ? { success: true, data: { paid: ctx.inputData } } : { success: false, error: 'gateway down' }));
    await t.engine.registerWorkflow(graph('retry-dlq', [node('a', 'ok'), node('pay', 'pay'), node('ship', 'ok')], ['a->pay', 'pay->ship']));
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('retry-dlq', { order: 9 });
    expect((await t.engine.waitForExecution(id)).status).toBe('failed');
    const [item] = await t.engine.getDLQItems();
    healthy = true;
    expect(await t.engine.retryDLQItem(item!.jobId)).toBe(true);
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('completed');
    expect(done.nodeResults['ship']?.data).toEqual({ paid: { order: 9 } });
    expect(ran).toEqual(['a', 'ship']);
    expect(await t.engine.getDLQItems()).toEqual([]);
    expect(await t.engine.retryDLQItem(item!.jobId)).toBe(false);
  });

  it('retryDLQItem also wakes sibling branches that were parked when the execution failed', async () => {
    t = testEngine();
    let healthy = false;
    let slowStarted = false;
    t.registry.register('ok', async (ctx) => ({ success: true, data: ctx.nodeId }));
    t.registry.register('slow', async (ctx) => {
      slowStarted = true;
      await new Promise((r) => setTimeout(r, 300));
      return { success: true, data: ctx.nodeId };
    });
    t.registry.register('pay', async () => {
      // Fail only once the slow branch is running, so it is in flight when the execution fails.
      await until(() => slowStarted, 5000, 'slow branch to start');
      return healthy ? { success: true, data: 'paid' } : { success: false, error: 'down' };
    });
    // start -> pay (fails fast) and start -> slow -> after (slow finishes after the failure)
    await t.engine.registerWorkflow(
      graph('siblings', [node('start', 'ok'), node('pay', 'pay'), node('slow', 'slow'), node('after', 'ok'), node('end', 'ok')], [
        'start->pay',
        'start->slow',
        'slow->after',
        'pay->end',
        'after->end',
      ]),
    );
    t.engine.startWorkers(4);
    const id = await t.engine.enqueueWorkflow('siblings', {});
    expect((await t.engine.waitForExecution(id)).status).toBe('failed');
    await until(async () => (await t.store.getExecution(id))?.nodeResults['slow'] !== undefined, 5000, 'slow branch to finish');
    await new Promise((r) => setTimeout(r, 200));
    expect((await t.store.getExecution(id))?.nodeResults['after']).toBeUndefined();
    healthy = true;
    const [item] = await t.engine.getDLQItems();
    await t.engine.retryDLQItem(item!.jobId);
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('completed');
    expect(done.nodeResults['end']?.status).toBe('completed');
    expect(done.nodeResults['after']?.data).toBe('after');
  });
});

describe('idempotent advance', () => {
  it('finishes the execution when a worker fails between saving a result and enqueueing the children', async () => {
    const store = new SpyStore();
    t = testEngine({ store });
    const runs = new Map<string, number>();
    t.registry.register('step', async (ctx) => {
      runs.set(ctx.nodeId, (runs.get(ctx.nodeId) ?? 0) + 1);
      return { success: true, data: ctx.nodeId };
    });
    let injected = 0;
    store.hooks.afterSaveNodeResult = (_exec, nodeId) => {
      if (nodeId === 'b' && injected === 0) {
        injected++;
        throw new Error('simulated crash after the result was written');
      }
    };
    // a -> b -> (c, d) -> e : the fault hits b, whose children fan out.
    await t.engine.registerWorkflow(
      graph('crashy', [node('a', 'step'), node('b', 'step'), node('c', 'step'), node('d', 'step'), node('e', 'step')], ['a->b', 'b->c', 'b->d', 'c->e', 'd->e']),
    );
    t.engine.startWorkers(3);
    const id = await t.engine.enqueueWorkflow('crashy', {});
    const done = await t.engine.waitForExecution(id, { timeoutMs: 15_000 });
    expect(injected).toBe(1);
    expect(done.status).toBe('completed');
    expect(Object.fromEntries(runs)).toEqual({ a: 1, b: 1, c: 1, d: 1, e: 1 });
    expect(store.count(id, 'completed')).toBe(1);
    expect(store.resultWrites.filter((w) => w.executionId === id && w.nodeId === 'b')).toHaveLength(1);
  });
});
