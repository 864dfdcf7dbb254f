/**
 * Retries, continueOnFail and the DLQ, run inline and in worker threads (see
 * test/fixtures/modes.ts); executors are in test/fixtures/executors/failures.ts. The fault
 * injection at the end needs a store in this thread, so it runs inline only.
 * Executors report through a probe in Redis (REDIS_URL), whatever the queue backend.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRegistry } from '../fixtures/executors/failures.js';
import { forEachMode } from '../fixtures/modes.js';
import { graph, node, recordEvents, SpyStore, testEngine, until, waitForParked } from '../helpers.js';
import type { TestEngine } from '../helpers.js';
import type { SpaneEvent } from '../../src/index.js';

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
    const log = recordEvents(t.engine);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('exp', {}));
    expect(done.status).toBe('failed');
    const at = await h.probe.list<number>('at');
    expect(at).toHaveLength(3);
    // 200 ms then 400 ms, from the engine's events: each attempt started no earlier than the
    // backoff after the previous one was reported failed.
    const stamp = (type: SpaneEvent['type'], attempt: number) => log.events.find((e) => e.type === type && e.attempt === attempt)!.timestamp;
    expect(stamp('node:started', 2) - stamp('node:retrying', 1)).toBeGreaterThanOrEqual(200);
    expect(stamp('node:started', 3) - stamp('node:retrying', 2)).toBeGreaterThanOrEqual(400);
    log.stop();
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
    await t.engine.registerWorkflow(graph('dlq', [node('a', 'ok'), node('pay', 'declined', { config: { retryPolicy: fast } }), node('ship', 'ok')], ['a->pay', 'pay->ship']));
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
      graph(
        'siblings',
        [node('start', 'ok'), node('pay', 'pay-when-slow-runs'), node('slow', 'held'), node('after', 'ok'), node('end', 'ok')],
        ['start->pay', 'start->slow', 'slow->after', 'pay->end', 'after->end'],
      ),
    );
    t.engine.startWorkers(4);
    const id = await t.engine.enqueueWorkflow('siblings', {});
    expect((await t.engine.waitForExecution(id)).status).toBe('failed');
    await h.probe.set('release');
    await until(async () => (await t.store.getExecution(id))?.nodeResults['slow'] !== undefined, h.patience(5000), 'slow branch to finish');
    // The failed execution parks the slow branch's child instead of running it.
    await waitForParked(t.engine, id, 'after', h.patience(5000));
    expect((await t.store.getExecution(id))?.nodeResults['after']).toBeUndefined();
    await h.probe.set('healthy');
    const [item] = await t.engine.getDLQItems();
    await t.engine.retryDLQItem(item!.jobId);
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('completed');
    expect(done.nodeResults['end']?.status).toBe('completed');
    expect(done.nodeResults['after']?.data).toBe('after');
  });
  it.each(['non-retryable', 'input'])('runs a %s error thrown by another copy of SPANE once, under maxAttempts 3', async (kind) => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('copies', [node('x', 'other-copy-non-retryable', { config: { kind, retryPolicy: fast } })], []));
    t.engine.startWorkers(1);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('copies', {}));
    expect(done.status).toBe('failed');
    expect(await h.probe.count('calls')).toBe(1);
    const code = kind === 'input' ? 'NODE_INPUT_INVALID' : 'NON_RETRYABLE';
    expect(done.nodeResults['x']).toMatchObject({ status: 'failed', attempts: 1, errorDetails: { code, retryable: false } });
  });

  it.each(['says-not-retryable', 'returns-not-retryable'])('runs an executor whose failure says retryable: false once (%s)', async (type) => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('says', [node('x', type, { config: { retryPolicy: fast } })], []));
    t.engine.startWorkers(1);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('says', {}));
    expect(await h.probe.count('calls')).toBe(1);
    expect(done.nodeResults['x']).toMatchObject({ status: 'failed', error: 'card declined', attempts: 1, errorDetails: { name: 'Error', retryable: false } });
  });

  const breaker = { failureThreshold: 1, successThreshold: 1, timeout: 60_000 };
  it.each([
    {
      what: 'a DSL node given bad input',
      type: 'needs-email',
      config: { retryPolicy: fast },
      calls: 0,
      details: { name: 'NodeInputError', code: 'NODE_INPUT_INVALID', retryable: false, cause: { name: 'ZodError' } },
    },
    {
      what: 'a node whose circuit breaker is open',
      type: 'down',
      config: { retryPolicy: { ...fast, maxAttempts: 2 }, circuitBreaker: breaker },
      calls: 1,
      details: { name: 'CircuitOpenError', code: 'CIRCUIT_OPEN', retryable: true },
    },
    { what: 'a thrown TypeError', type: 'type-error', config: { retryPolicy: { ...fast, maxAttempts: 2 } }, calls: 2, details: { name: 'TypeError', retryable: true } },
  ])('keeps the structured error of $what on the result, the execution, the DLQ item and the events', async ({ type, config, calls, details }) => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph(`typed-${type}`, [node('n', type, { config })], []));
    const events: SpaneEvent[] = [];
    t.engine.subscribe((e) => events.push(e));
    await t.engine.eventsReady();
    t.engine.startWorkers(1);
    const id = await t.engine.enqueueWorkflow(`typed-${type}`, { email: 1 });
    await t.engine.waitForExecution(id);
    expect(await h.probe.count('calls')).toBe(calls);
    // Read back from the store, not from what the engine had in hand.
    const exec = (await t.store.getExecution(id))!;
    expect(exec.status).toBe('failed');
    const result = exec.nodeResults['n']!;
    expect(result.errorDetails).toMatchObject({ ...details, message: result.error });
    if (!('code' in details)) expect(result.errorDetails).not.toHaveProperty('code');
    expect(JSON.stringify(result.errorDetails)).not.toContain('"email":1');
    expect(exec.errorDetails).toEqual(result.errorDetails);
    const [item] = await t.engine.getDLQItems();
    expect(item).toMatchObject({ executionId: id, nodeId: 'n', error: result.error, errorDetails: result.errorDetails });
    await until(() => events.some((e) => e.executionId === id && e.type === 'workflow:failed'), h.patience(5000), 'workflow:failed');
    await until(() => events.some((e) => e.executionId === id && e.type === 'node:failed'), h.patience(5000), 'node:failed');
    for (const type of ['node:failed', 'workflow:failed']) {
      expect(events.find((e) => e.executionId === id && e.type === type)?.errorDetails).toEqual(result.errorDetails);
    }
    if (calls === 2) expect(events.find((e) => e.executionId === id && e.type === 'node:retrying')?.errorDetails).toMatchObject(details);
  });

  it("a failed sub-workflow's node error carries the child's failure as its cause", async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('child-bad', [node('c', 'needs-email')], []));
    await t.engine.registerWorkflow(graph('parent', [node('sub', 'sub-workflow', { config: { workflowId: 'child-bad' } })], []));
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('parent', { email: 1 });
    expect((await t.engine.waitForExecution(id)).status).toBe('failed');
    const exec = (await t.store.getExecution(id))!;
    expect(exec.nodeResults['sub']?.errorDetails).toMatchObject({
      name: 'SubWorkflowError',
      code: 'SUB_WORKFLOW_FAILED',
      cause: { name: 'NodeInputError', code: 'NODE_INPUT_INVALID', retryable: false },
    });
  });

  it('gives every run of a node the same idempotencyKey (retries, DLQ retry), and other nodes and executions other keys', async () => {
    const t = h.engine();
    const retry = { maxAttempts: 3, backoff: { type: 'fixed' as const, delay: 10 } };
    await t.engine.registerWorkflow(
      graph('keyed', [node('a', 'keys', { config: { failUntil: 3, retryPolicy: retry } }), node('b', 'keys', { config: { failUntilHealthy: true } })], ['a->b']),
    );
    t.engine.startWorkers(1);
    const first = await t.engine.enqueueWorkflow('keyed', {});
    expect((await t.engine.waitForExecution(first)).status).toBe('failed');
    const [item] = await t.engine.getDLQItems();
    await h.probe.set('healthy');
    expect(await t.engine.retryDLQItem(item!.jobId)).toBe(true);
    expect((await t.engine.waitForExecution(first)).status).toBe('completed');
    const second = await t.engine.enqueueWorkflow('keyed', {});
    expect((await t.engine.waitForExecution(second)).status).toBe('completed');
    const runs = await h.probe.list<{ nodeId: string; attempt: number; key: string }>('keys');
    // First execution: a three times, b twice (failed, then the DLQ retry); then the second execution.
    expect(runs.map((r) => `${r.nodeId}${r.attempt}`)).toEqual(['a1', 'a2', 'a3', 'b1', 'b1', 'a1', 'a2', 'a3', 'b1']);
    const keys = (from: number, to: number) => new Set(runs.slice(from, to).map((r) => r.key));
    expect(keys(0, 3).size).toBe(1);
    expect(keys(3, 5).size).toBe(1);
    expect(keys(5, 8).size).toBe(1);
    expect(new Set(runs.map((r) => r.key)).size).toBe(4);
    for (const r of runs) expect(typeof r.key === 'string' && r.key.length > 0).toBe(true);
  });
});

let t: TestEngine;
afterEach(async () => t?.cleanup());

describe("injected faults and races (inline only: the hooks are in this thread's store)", () => {
  it('runs the executor again with the same attempt and idempotencyKey when writing its result fails (store down)', async () => {
    class FailingOnce extends SpyStore {
      failures = 1;
      override async saveNodeResult(...args: Parameters<SpyStore['saveNodeResult']>): Promise<void> {
        if (args[1] === 'pay' && this.failures-- > 0) throw new Error('connection refused (simulated store outage)');
        return super.saveNodeResult(...args);
      }
    }
    t = testEngine({ store: new FailingOnce() });
    const runs: { attempt: number; key: string }[] = [];
    t.registry.register('pay', async (ctx) => {
      runs.push({ attempt: ctx.attempt, key: ctx.idempotencyKey });
      return { success: true, data: 'paid' };
    });
    await t.engine.registerWorkflow(graph('infra', [node('pay', 'pay')], []));
    t.engine.startWorkers(1);
    const id = await t.engine.enqueueWorkflow('infra', {});
    expect((await t.engine.waitForExecution(id, { timeoutMs: 15_000 })).status).toBe('completed');
    // The executor had returned; only the write failed. The run after the fault is the same
    // attempt (attempts count retries by policy), and has the same key.
    expect(runs).toHaveLength(2);
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[0]!.key).toEqual(expect.any(String));
  });

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

  it('fails the execution when a sibling settles last while the failed node is still being recorded', async () => {
    const store = new SpyStore();
    t = testEngine({ store });
    const settled = (id: string, nodeId: string) => store.resultWrites.some((w) => w.executionId === id && w.nodeId === nodeId);
    t.registry.register('root', async () => ({ success: true, data: 1 }));
    t.registry.register('declines', async () => ({ success: false, error: 'card declined' }));
    // The sibling finishes only once the failure is written, so it is the last node to settle.
    t.registry.register('slow', async (ctx) => {
      await until(() => settled(ctx.executionId, 'pay'), 10_000, "pay's failed result");
      return { success: true, data: 'labelled' };
    });
    // Hold the failing node's job between its result and the DLQ/failed transition until the
    // sibling's job has stored its result and run its completion check.
    store.hooks.afterSaveNodeResult = async (id, nodeId) => {
      if (nodeId !== 'pay') return;
      await until(() => settled(id, 'label'), 10_000, "label's result");
      await new Promise((r) => setTimeout(r, 300));
    };
    await t.engine.registerWorkflow(
      graph('race', [node('r', 'root'), node('pay', 'declines', { retryPolicy: { maxAttempts: 1 } }), node('label', 'slow')], ['r->pay', 'r->label']),
    );
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('race', {});
    const done = await t.engine.waitForExecution(id, { timeoutMs: 15_000 });
    await until(() => store.count(id, 'failed') === 1, 5000, 'the failed transition');
    expect((await t.engine.getExecution(id))?.status).toBe('failed');
    expect(done.status).toBe('failed');
    expect(store.count(id, 'completed')).toBe(0);
    expect(await t.engine.getDLQItems()).toHaveLength(1);
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
      // Kept: no event says retryDLQItem has seen the job active, and awaiting `retried` here would
      // deadlock (it waits for this processor); the pause only makes that overlap likely.
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
