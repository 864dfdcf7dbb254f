/**
 * Event nodes (docs/events-wait.md): a node waits in the store for `engine.sendEvent(name, payload)`
 * whose payload matches a value of its execution; one event wakes every matching node, each
 * exactly once, and only those. Run inline (on the in-memory store and on DrizzleStore over
 * PGlite) and in worker threads (on DrizzleStore over PostgreSQL); see test/fixtures/modes.ts.
 */
import { describe, expect, it } from 'vitest';
import { EventMatchError, InMemoryExecutionStore, InvalidArgumentError, NotSupportedError, WorkflowValidationError } from '../../src/index.js';
import type { WorkflowDefinition } from '../../src/index.js';
import { waitTimeoutJobId } from '../../src/runtime/queues/jobs.js';
import { engineInternals } from '../../src/runtime/engine/test-hooks.js';
import { createRegistry } from '../fixtures/executors/events-wait.js';
import { forEachMode } from '../fixtures/modes.js';
import type { ModeHarness } from '../fixtures/modes.js';
import { graph, node, nodeJob, until } from '../helpers.js';
import { refusal, storeEngines, untilWaiting } from '../fixtures/waits.js';
import type { TestEngine } from '../helpers.js';

const paidSchema = { type: 'object', properties: { orderId: {}, amount: { type: 'number' } }, required: ['orderId'] };

/** emit → paid (event 'order.paid', matched on the input's orderId) → take. */
function flow(id: string, config: Record<string, unknown> = {}, rest: Partial<WorkflowDefinition['nodes'][number]> = {}): WorkflowDefinition {
  return graph(
    id,
    [
      node('emit', 'emit'),
      node('paid', 'event', { config: { name: 'order.paid', match: { field: 'orderId', equals: '$.input.orderId' }, schema: paidSchema, ...config }, ...rest }),
      node('take', 'take'),
    ],
    ['emit->paid', 'paid->take'],
  );
}

/** Waits until the execution's event node waits in the store. */
function waiting(t: TestEngine, h: ModeHarness, executionId: string, name = 'order.paid'): Promise<void> {
  return untilWaiting(t, h, { executionId, kind: 'event', key: name });
}

forEachMode({ module: new URL('../fixtures/executors/events-wait.ts', import.meta.url), createRegistry }, (h) => {
  describe.each(storeEngines(h))('on $name', ({ engine }) => {
    it('an event wakes the executions whose match holds, all of them, and leaves the others waiting', async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('orders'));
      t.engine.startWorkers(2);
      const a1 = await t.engine.enqueueWorkflow('orders', { orderId: 'o-1' });
      const a2 = await t.engine.enqueueWorkflow('orders', { orderId: 'o-1' });
      const b = await t.engine.enqueueWorkflow('orders', { orderId: 'o-2' });
      const n = await t.engine.enqueueWorkflow('orders', { orderId: 42 });
      for (const id of [a1, a2, b, n]) await waiting(t, h, id);

      const sent = await t.engine.sendEvent('order.paid', { orderId: 'o-1', amount: 10 });
      expect(sent.woken).toBe(2);
      expect([...sent.executionIds].sort()).toEqual([a1, a2].sort());
      for (const id of [a1, a2]) {
        const done = await t.engine.waitForExecution(id);
        expect(done.status).toBe('completed');
        expect(done.nodeResults['paid']?.data).toEqual({ orderId: 'o-1', amount: 10 });
      }
      // Another name, another value, the string "42" for the number 42: none of them match.
      expect((await t.engine.sendEvent('order.shipped', { orderId: 'o-2' })).woken).toBe(0);
      expect((await t.engine.sendEvent('order.paid', { orderId: 'o-3' })).woken).toBe(0);
      expect((await t.engine.sendEvent('order.paid', { orderId: '42' })).woken).toBe(0);
      // A payload the node's schema refuses does not wake it.
      expect((await t.engine.sendEvent('order.paid', { orderId: 'o-2', amount: 'ten' })).woken).toBe(0);
      for (const id of [b, n]) {
        expect((await t.engine.getExecution(id))?.status).toBe('running');
        expect((await t.store.getWait!({ executionId: id, kind: 'event', key: 'order.paid' }))?.state).toBe('waiting');
      }
      expect(await t.engine.sendEvent('order.paid', { orderId: 42 })).toEqual({ woken: 1, executionIds: [n] });
      expect((await t.engine.waitForExecution(n)).nodeResults['take']?.data).toEqual({ orderId: 42 });
      expect(await h.probe.list('got')).toHaveLength(3);
      // A woken node is woken once: the same event again finds nothing.
      expect((await t.engine.sendEvent('order.paid', { orderId: 'o-1' })).woken).toBe(0);
    });

    it('matches on a nested field and on a parent node output', async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('nested', { match: { field: 'order.ref', equals: '$.nodes.emit.ref' }, schema: undefined }));
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow('nested', { ref: { deep: [1, 'x'] } });
      await waiting(t, h, id);
      expect((await t.engine.sendEvent('order.paid', { order: { ref: { deep: [1, 'x', 2] } } })).woken).toBe(0);
      expect((await t.engine.sendEvent('order.paid', { order: { ref: { deep: [1, 'x'] } }, extra: true })).woken).toBe(1);
      expect((await t.engine.waitForExecution(id)).status).toBe('completed');
    });

    it('an event sent before the node waits is not kept', async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('early', { timeout: 300, onTimeout: { value: { orderId: 'none' } } }));
      const id = await t.engine.enqueueWorkflow('early', { orderId: 'o-9' });
      expect((await t.engine.sendEvent('order.paid', { orderId: 'o-9' })).woken).toBe(0);
      t.engine.startWorkers(2);
      const done = await t.engine.waitForExecution(id);
      expect(done.nodeResults['paid']?.data).toEqual({ orderId: 'none' });
    });

    it('of concurrent events for one wait exactly one wakes it', async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('race'));
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow('race', { orderId: 'o-1' });
      await waiting(t, h, id);
      const sent = await Promise.all([1, 2, 3, 4, 5].map((amount) => t.engine.sendEvent('order.paid', { orderId: 'o-1', amount })));
      const winners = sent.flatMap((r, i) => (r.woken === 1 ? [i + 1] : []));
      expect(winners).toHaveLength(1);
      expect(sent.reduce((sum, r) => sum + r.woken, 0)).toBe(1);
      const done = await t.engine.waitForExecution(id);
      expect(done.nodeResults['paid']?.data).toEqual({ orderId: 'o-1', amount: winners[0] });
      expect(await h.probe.list('got')).toHaveLength(1);
    });

    it("a timeout with onTimeout 'fail' fails the node; { value } completes it; a late event wakes nothing", async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('late', { timeout: 200, onTimeout: 'fail' }));
      await t.engine.registerWorkflow({ ...flow('late-value', { timeout: '200ms', onTimeout: { value: { orderId: 'timed-out' } } }) });
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow('late', { orderId: 'o-1' });
      const failed = await t.engine.waitForExecution(id);
      expect(failed.status).toBe('failed');
      expect(failed.nodeResults['paid']?.errorDetails?.code).toBe('EVENT_TIMEOUT');
      expect((await t.engine.getDLQItems(0, 10)).map((d) => d.nodeId)).toContain('paid');
      expect((await t.engine.sendEvent('order.paid', { orderId: 'o-1' })).woken).toBe(0);

      const ok = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('late-value', { orderId: 'o-1' }));
      expect(ok.status).toBe('completed');
      expect(ok.nodeResults['take']?.data).toEqual({ orderId: 'timed-out' });
    });

    it('an event racing the timeout: the wait resolves once, by one of them', async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('close', { timeout: 50, onTimeout: { value: { orderId: 'timed-out' } } }));
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow('close', { orderId: 'o-1' });
      // The wait exists, waiting or already timed out: on a loaded machine the 50 ms can pass
      // before a poll sees it waiting, and either way is a race this test accepts.
      await until(async () => (await t.store.getWait!({ executionId: id, kind: 'event', key: 'order.paid' })) !== null, h.patience(10_000), 'the wait');
      const sent = await t.engine.sendEvent('order.paid', { orderId: 'o-1' });
      const done = await t.engine.waitForExecution(id);
      expect(done.status).toBe('completed');
      expect(done.nodeResults['paid']?.data).toEqual(sent.woken === 1 ? { orderId: 'o-1' } : { orderId: 'timed-out' });
      expect(await h.probe.list('got')).toHaveLength(1);
    });

    it('a paused execution records the event and goes on when resumed', async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('paused'));
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow('paused', { orderId: 'o-1' });
      await waiting(t, h, id);
      expect(await t.engine.pauseWorkflow(id)).toBe(true);
      expect((await t.engine.sendEvent('order.paid', { orderId: 'o-1' })).woken).toBe(1);
      expect((await t.engine.getExecution(id))?.status).toBe('paused');
      expect(await t.engine.resumeWorkflow(id)).toBe(true);
      expect((await t.engine.waitForExecution(id)).nodeResults['take']?.data).toEqual({ orderId: 'o-1' });
    });

    it('cancel while waiting removes the timeout job; a later event wakes nothing', async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('cancelled', { timeout: '1h' }));
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow('cancelled', { orderId: 'o-1' });
      await waiting(t, h, id);
      const timeoutJob = () => engineInternals(t.engine).rt.queues.nodeQueue.getJob(waitTimeoutJobId(id, 'paid'));
      await until(async () => (await timeoutJob()) !== undefined, h.patience(10_000), 'the timeout job');
      expect(await t.engine.cancelWorkflow(id)).toBe(true);
      expect(await timeoutJob()).toBeUndefined();
      expect((await t.engine.sendEvent('order.paid', { orderId: 'o-1' })).woken).toBe(0);
      const exec = await t.engine.getExecution(id);
      expect(exec?.status).toBe('cancelled');
      expect(exec?.nodeResults['paid']).toBeUndefined();
    });

    it('the reconciler finishes an event whose sender died between resolving the wait and writing the result', async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('orphan'));
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow('orphan', { orderId: 'o-1' });
      await waiting(t, h, id);
      // What sendEvent does first, without what it does next (as if its process died here).
      const ref = { executionId: id, kind: 'event' as const, key: 'order.paid' };
      expect(await t.store.updateWait!(ref, ['waiting'], { state: 'resolved', resolution: 'signal', payload: { orderId: 'o-1' } })).not.toBeNull();
      await until(async () => (await (await nodeJob(t.engine, id, 'paid'))?.getState()) === 'completed', h.patience(5000), 'the job to complete');
      expect((await t.engine.reconcile({ graceMs: 0 })).nodesEnqueued).toBe(1);
      const done = await t.engine.waitForExecution(id);
      expect(done.status).toBe('completed');
      expect(done.nodeResults['paid']?.data).toEqual({ orderId: 'o-1' });
    });

    it('fails the node, without retries, when match.equals finds nothing in the execution', async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('no-key', {}, { retryPolicy: { maxAttempts: 3 } }));
      t.engine.startWorkers(2);
      const failed = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('no-key', {}));
      expect(failed.status).toBe('failed');
      expect(failed.nodeResults['paid']?.errorDetails?.code).toBe('EVENT_MATCH_MISSING');
      expect(failed.nodeResults['paid']?.attempts).toBe(1);
      expect(new EventMatchError('paid', 'order.paid', '$.input.orderId').code).toBe('EVENT_MATCH_MISSING');
    });

    it('refuses a bad event node config at registerWorkflow', async () => {
      const t = await engine();
      const bad: Record<string, unknown>[] = [
        { match: undefined },
        { match: { field: 'orderId' } },
        { match: { field: '', equals: '$.input.orderId' } },
        { match: { field: 'orderId', equals: 'input.orderId' } },
        { match: { field: 'orderId', equals: '$.input..x' } },
        { match: { field: 'orderId', equals: '$.nodes.take.x' } },
        { match: { field: 'a.__proto__', equals: '$.input.orderId' } },
        { match: { field: 'orderId', equals: '$.input.orderId', extra: 1 } },
        { name: 'bad name!' },
        { timeout: 'soon' },
        { onTimeout: 'fail' },
        { schema: 'string' },
        { other: 1 },
      ];
      for (const [i, config] of bad.entries()) {
        const err = await refusal(t.engine.registerWorkflow(flow(`bad-${i}`, config)));
        expect(err, JSON.stringify(config)).toBeInstanceOf(WorkflowValidationError);
        expect((err as WorkflowValidationError).code).toBe('WORKFLOW_VALIDATION');
      }
      const twice = graph(
        'twice',
        [
          node('a', 'event', { config: { name: 'order.paid', match: { field: 'id', equals: '$.input.id' } } }),
          node('b', 'event', { config: { name: 'order.paid', match: { field: 'id', equals: '$.input.id' } } }),
        ],
        ['a->b'],
      );
      expect(await refusal(t.engine.registerWorkflow(twice))).toBeInstanceOf(WorkflowValidationError);
    });

    it('refuses bad sendEvent arguments with InvalidArgumentError', async () => {
      const t = await engine();
      for (const [name, payload] of [
        ['', {}],
        ['bad name!', {}],
        [42, {}],
        ['order.paid', null],
        ['order.paid', [1]],
        ['order.paid', 'text'],
        ['order.paid', { f: () => 1 }],
        ['order.paid', undefined],
        ['order.paid', { n: Number.NaN }],
      ] as const) {
        const err = await refusal(t.engine.sendEvent(name as string, payload as object));
        expect(err, String(name)).toBeInstanceOf(InvalidArgumentError);
        expect((err as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
      }
    });
  });

  if (!h.threads) {
    it('refuses sendEvent on a store without findWaitingByMatch', async () => {
      const store = new InMemoryExecutionStore();
      Object.defineProperty(store, 'findWaitingByMatch', { value: undefined });
      const t = h.engine({ store });
      expect(await refusal(t.engine.sendEvent('order.paid', { orderId: 1 }))).toBeInstanceOf(NotSupportedError);
    });
  }
});
