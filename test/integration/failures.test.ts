/**
 * Retries, continueOnFail and the DLQ, run inline and in worker threads (see
 * test/fixtures/modes.ts); executors are in test/fixtures/executors/failures.ts. The fault
 * injection at the end needs a store in this thread, so it runs inline only.
 * Executors report through a probe in Redis (REDIS_URL), whatever the queue backend.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRegistry } from '../fixtures/executors/failures.js';
import { forEachMode } from '../fixtures/modes.js';
import { graph, node, SpyStore, testEngine, until } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

const fast = { maxAttempts: 3, backoff: { type: 'fixed' as const, delay: 10 } };

forEachMode({ module: new URL('../fixtures/executors/failures.ts', import.meta.url), createRegistry }, (h) => {
  it.each(['throws', 'returns success: false'])('retries an entry node that %s, then succeeds', async (how) => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('flaky', [node('only', 'flaky', { config: { how, retryPolicy: fast } })], []));
    t.engine.startWorkers(2);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('flaky', {}));
    expect(done.status).toBe('completed');
    expect(await h.probe.count('calls')).toBe(3);
    expect(done.nodeResults['only']).toMatchObject({ status: 'completed', attempts: 3, data: { attempt: 3 } });
  });

  it('uses exponential backoff between attempts', async () => {
    const t = h.engine();
    const policy = { maxAttempts: 3, backoff: { type: 'exponential' as const, delay: 200 } };
    await t.engine.registerWorkflow(graph('exp', [node('x', 'always-throws', { retryPolicy: policy })], []));
    t.engine.startWorkers(1);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('exp', {}));
    expect(done.status).toBe('failed');
    const at = await h.probe.list<number>('at');
    expect(at).toHaveLength(3);
    // 200 ms then 400 ms: the second wait is clearly longer than the first.
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(190);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(390);
  });

  it('does not retry a NonRetryableError', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('nr', [node('x', 'bad', { retryPolicy: fast })], []));
    t.engine.startWorkers(1);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('nr', {}));
    expect(done.status).toBe('failed');
    expect(await h.probe.count('calls')).toBe(1);
    expect(done.nodeResults['x']).toMatchObject({ status: 'failed', error: 'invalid input', attempts: 1 });
  });

  it('treats a malformed executor return value as a failure that names the node', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('weird', [node('w', 'weird')], []));
    t.engine.startWorkers(1);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('weird', {}));
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/executor of node 'w' must return \{ success: boolean/);
  });

  it('after the last attempt, continueOnFail records the failure and runs the children with the error', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(
      graph('cof', [node('f', 'fail', { config: { retryPolicy: { ...fast, maxAttempts: 2, continueOnFail: true } } }), node('c', 'child')], ['f->c']),
    );
    t.engine.startWorkers(2);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('cof', {}));
    expect(done.status).toBe('completed');
    expect(done.nodeResults['f']).toMatchObject({ status: 'failed', error: 'upstream down', attempts: 2 });
    expect(await h.probe.list('childInput')).toEqual([{ error: 'upstream down' }]);
    expect(done.nodeResults['c']?.data).toBe('handled');
    expect(await t.engine.getDLQItems()).toEqual([]);
  });

  it('after the last attempt, without continueOnFail fails the execution, runs nothing more, and lands in the DLQ', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(
      graph('dlq', [node('a', 'ok'), node('pay', 'declined', { config: { retryPolicy: fast } }), node('ship', 'ok')], ['a->pay', 'pay->ship']),
    );
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('dlq', { order: 1 });
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('failed');
    expect(done.error).toBe("Node 'pay' failed: card declined");
    expect(done.nodeResults['pay']).toMatchObject({ status: 'failed', attempts: 3 });
    expect(done.nodeResults['ship']).toBeUndefined();
    expect(await h.probe.list('ran')).toEqual(['a']);
    const items = await t.engine.getDLQItems(0, 10);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ executionId: id, workflowId: 'dlq', nodeId: 'pay', error: 'card declined', attempts: 3 });
    expect(items[0]!.failedAt).toBeGreaterThan(0);
  });

  it('retryDLQItem re-runs the node and the execution continues to completion', async () => {
    const t = h.engine();
    const echo = { config: { echo: true } };
    await t.engine.registerWorkflow(graph('retry-dlq', [node('a', 'ok', echo), node('pay', 'pay'), node('ship', 'ok', echo)], ['a->pay', 'pay->ship']));
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('retry-dlq', { order: 9 });
    expect((await t.engine.waitForExecution(id)).status).toBe('failed');
    const [item] = await t.engine.getDLQItems();
    await h.probe.set('healthy');
    expect(await t.engine.retryDLQItem(item!.jobId)).toBe(true);
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('completed');
    expect(done.nodeResults['ship']?.data).toEqual({ paid: { order: 9 } });
    expect(await h.probe.list('ran')).toEqual(['a', 'ship']);
    expect(await t.engine.getDLQItems()).toEqual([]);
    expect(await t.engine.retryDLQItem(item!.jobId)).toBe(false);
  });

  it('retryDLQItem also wakes sibling branches that were parked when the execution failed', async () => {
    const t = h.engine();
    // start -> pay (fails once slow runs) and start -> slow -> after (slow is held until the
    // execution has failed)
    await t.engine.registerWorkflow(
      graph('siblings', [node('start', 'ok'), node('pay', 'pay-when-slow-runs'), node('slow', 'held'), node('after', 'ok'), node('end', 'ok')], [
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
    await h.probe.set('release');
    await until(async () => (await t.store.getExecution(id))?.nodeResults['slow'] !== undefined, h.patience(5000), 'slow branch to finish');
    await new Promise((r) => setTimeout(r, 200));
    expect((await t.store.getExecution(id))?.nodeResults['after']).toBeUndefined();
    await h.probe.set('healthy');
    const [item] = await t.engine.getDLQItems();
    await t.engine.retryDLQItem(item!.jobId);
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('completed');
    expect(done.nodeResults['end']?.status).toBe('completed');
    expect(done.nodeResults['after']?.data).toBe('after');
  });
});

let t: TestEngine;
afterEach(async () => t?.cleanup());

describe('injected faults and races (inline only: the hooks are in this thread\'s store)', () => {
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

  it('retryDLQItem called while the failed job is still active waits for the worker to let go of it', async () => {
    const store = new SpyStore();
    t = testEngine({ store });
    let payCalls = 0;
    t.registry.register('pay', async () => (++payCalls === 1 ? { success: false, error: 'card declined' } : { success: true, data: 'paid' }));
    t.registry.register('ok', async (ctx) => ({ success: true, data: ctx.nodeId }));
    let retried: Promise<boolean> | undefined;
    // The execution is marked failed inside the processor; the hook retries right then and holds
    // the processor a moment, so the job is still active while retryDLQItem looks at it.
    store.hooks.afterTransition = async (_id, to) => {
      if (to !== 'failed' || retried !== undefined) return;
      const [item] = await t.engine.getDLQItems();
      retried = t.engine.retryDLQItem(item!.jobId);
      await new Promise((r) => setTimeout(r, 100));
    };
    await t.engine.registerWorkflow(graph('early-retry', [node('pay', 'pay'), node('ship', 'ok')], ['pay->ship']));
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('early-retry', {});
    await until(async () => retried !== undefined, 5000, 'the hook to retry');
    expect(await retried).toBe(true);
    const done = await t.engine.waitForExecution(id, { timeoutMs: 15_000 });
    expect(done.status).toBe('completed');
    expect(payCalls).toBe(2);
    expect(done.nodeResults['ship']?.data).toBe('ship');
  });
});
