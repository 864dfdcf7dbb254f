/**
 * Signal nodes (docs/signals.md): the node waits in the store, holding no job; `engine.signal`
 * completes it, before or after it is reached, exactly once, or its timeout fails or completes it.
 * Run inline (on the in-memory store and on DrizzleStore over PGlite) and in worker threads (on
 * DrizzleStore over PostgreSQL); see test/fixtures/modes.ts.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ExecutionFinishedError,
  ExecutionNotFoundError,
  InvalidStateError,
  SignalAlreadyConsumedError,
  SignalPayloadError,
  UnknownSignalError,
  waitForSignal,
  workflow,
  transform,
  WorkflowValidationError,
} from '../../src/index.js';
import type { WorkflowDefinition } from '../../src/index.js';
import { waitTimeoutJobId } from '../../src/runtime/queues/jobs.js';
import { engineInternals } from '../../src/runtime/engine/test-hooks.js';
import { createRegistry } from '../fixtures/executors/signals.js';
import { forEachMode } from '../fixtures/modes.js';
import type { ModeHarness } from '../fixtures/modes.js';
import { graph, node, nodeJob, until } from '../helpers.js';
import { refusal, storeEngines, untilWaiting } from '../fixtures/waits.js';
import type { TestEngine } from '../helpers.js';

const approval = { type: 'object', properties: { approved: { type: 'boolean' } }, required: ['approved'] };

/** emit → approval (signal) → take. */
function flow(id: string, config: Record<string, unknown> = {}, rest: Partial<WorkflowDefinition['nodes'][number]> = {}): WorkflowDefinition {
  return graph(
    id,
    [node('emit', 'emit'), node('approval', 'signal', { config: { name: 'approval', schema: approval, ...config }, ...rest }), node('take', 'take')],
    ['emit->approval', 'approval->take'],
  );
}

/** Waits until the execution's `approval` signal node waits in the store. */
function waiting(t: TestEngine, h: ModeHarness, executionId: string, name = 'approval'): Promise<void> {
  return untilWaiting(t, h, { executionId, kind: 'signal', key: name });
}

forEachMode({ module: new URL('../fixtures/executors/signals.ts', import.meta.url), createRegistry }, (h) => {
  describe.each(storeEngines(h))('on $name', ({ engine }) => {
    it('a node that waits holds no job; a signal completes it with the payload and the execution goes on', async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('after'));
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow('after', {});
      await waiting(t, h, id);
      // Its job completed: no worker slot, no lock while it waits.
      await until(async () => (await (await nodeJob(t.engine, id, 'approval'))?.getState()) === 'completed', h.patience(5000), 'the job to complete');
      expect((await t.engine.getExecution(id))?.status).toBe('running');
      await t.engine.signal(id, 'approval', { approved: true });
      const done = await t.engine.waitForExecution(id);
      expect(done.status).toBe('completed');
      expect(done.nodeResults['approval']?.data).toEqual({ approved: true });
      expect(await h.probe.list('got')).toEqual([{ approved: true }]);
    });

    it('a signal sent before the node is reached is kept and consumed when it runs', async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('before'));
      const id = await t.engine.enqueueWorkflow('before', {});
      await t.engine.signal(id, 'approval', { approved: false });
      // A second one, still before the node ran, is refused too.
      const again = await refusal(t.engine.signal(id, 'approval', { approved: true }));
      expect(again).toBeInstanceOf(SignalAlreadyConsumedError);
      t.engine.startWorkers(2);
      const done = await t.engine.waitForExecution(id);
      expect(done.status).toBe('completed');
      expect(done.nodeResults['approval']?.data).toEqual({ approved: false });
    });

    it('refuses a second signal for a consumed wait', async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('twice'));
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow('twice', {});
      await waiting(t, h, id);
      await t.engine.signal(id, 'approval', { approved: true });
      const second = await refusal(t.engine.signal(id, 'approval', { approved: false }));
      expect(second).toBeInstanceOf(SignalAlreadyConsumedError);
      expect((second as SignalAlreadyConsumedError).code).toBe('SIGNAL_ALREADY_CONSUMED');
      expect((second as SignalAlreadyConsumedError).resolvedBy).toBe('signal');
      const done = await t.engine.waitForExecution(id);
      expect(done.nodeResults['approval']?.data).toEqual({ approved: true });
    });

    it('of concurrent signals exactly one is taken, while waiting and before the node runs', async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('race'));
      for (const early of [false, true]) {
        const id = await t.engine.enqueueWorkflow('race', {});
        if (!early) {
          t.engine.startWorkers(2);
          await waiting(t, h, id);
        }
        const sent = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => t.engine.signal(id, 'approval', { approved: n % 2 === 0, n } as never)));
        const taken = sent.flatMap((r, i) => (r.status === 'fulfilled' ? [i + 1] : []));
        expect(taken).toHaveLength(1);
        for (const r of sent) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(SignalAlreadyConsumedError);
        if (early) t.engine.startWorkers(2);
        const done = await t.engine.waitForExecution(id);
        expect(done.status).toBe('completed');
        expect(done.nodeResults['approval']?.data).toEqual({ approved: taken[0]! % 2 === 0, n: taken[0] });
      }
    });

    it("a timeout with onTimeout 'fail' fails the node (DLQ); continueOnFail runs its children", async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('late', { timeout: 200, onTimeout: 'fail' }));
      await t.engine.registerWorkflow(flow('late-ok', { timeout: '200ms' }, { retryPolicy: { continueOnFail: true } }));
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow('late', {});
      const failed = await t.engine.waitForExecution(id);
      expect(failed.status).toBe('failed');
      expect(failed.nodeResults['approval']?.errorDetails?.code).toBe('SIGNAL_TIMEOUT');
      expect((await t.engine.getDLQItems(0, 10)).map((d) => d.nodeId)).toContain('approval');
      expect(await refusal(t.engine.signal(id, 'approval', { approved: true }))).toBeInstanceOf(ExecutionFinishedError);

      const ok = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('late-ok', {}));
      expect(ok.status).toBe('completed');
      expect(ok.nodeResults['approval']?.status).toBe('failed');
      expect(ok.nodeResults['take']?.status).toBe('completed');
    });

    it('a DLQ retry of a node that timed out makes it wait again, with a new timeout', async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('retried', { timeout: 1000 }));
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow('retried', {});
      expect((await t.engine.waitForExecution(id)).status).toBe('failed');
      const item = (await t.engine.getDLQItems(0, 10)).find((d) => d.executionId === id);
      expect(await t.engine.retryDLQItem(item!.jobId)).toBe(true);
      await waiting(t, h, id);
      // Signalled within the new timeout, or timed out again: either way the wait was renewed.
      const sent = await t.engine.signal(id, 'approval', { approved: true }).then(
        () => 'signalled',
        (err: unknown) => (err instanceof SignalAlreadyConsumedError && err.resolvedBy === 'timeout' ? 'timed out' : err),
      );
      const done = await t.engine.waitForExecution(id);
      if (sent === 'signalled') expect(done.nodeResults['approval']?.data).toEqual({ approved: true });
      else expect(sent).toBe('timed out');
    });

    it('a timeout with onTimeout { value } completes the node with the value', async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('default', { timeout: 200, onTimeout: { value: { approved: false } } }));
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow('default', {});
      const done = await t.engine.waitForExecution(id);
      expect(done.status).toBe('completed');
      expect(done.nodeResults['approval']?.data).toEqual({ approved: false });
      expect(await h.probe.list('got')).toEqual([{ approved: false }]);
    });

    it('a paused execution records the signal and goes on when resumed; a timeout during the pause fires on resume', async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('paused'));
      await t.engine.registerWorkflow(flow('paused-late', { timeout: 200 }));
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow('paused', {});
      await waiting(t, h, id);
      expect(await t.engine.pauseWorkflow(id)).toBe(true);
      await t.engine.signal(id, 'approval', { approved: true });
      const mid = await t.engine.getExecution(id);
      expect(mid?.status).toBe('paused');
      expect(mid?.nodeResults['approval']?.data).toEqual({ approved: true });
      expect(await t.engine.resumeWorkflow(id)).toBe(true);
      const done = await t.engine.waitForExecution(id);
      expect(done.status).toBe('completed');
      expect(done.nodeResults['take']?.data).toEqual({ approved: true });

      const late = await t.engine.enqueueWorkflow('paused-late', {});
      await waiting(t, h, late);
      await t.engine.pauseWorkflow(late);
      const timeoutJob = () => engineInternals(t.engine).rt.queues.nodeQueue.getJob(waitTimeoutJobId(late, 'approval'));
      await until(async () => (await timeoutJob())?.data.parked !== undefined, h.patience(10_000), 'the timeout job to park');
      expect((await t.engine.getExecution(late))?.nodeResults['approval']).toBeUndefined();
      await t.engine.resumeWorkflow(late);
      const failed = await t.engine.waitForExecution(late);
      expect(failed.nodeResults['approval']?.errorDetails?.code).toBe('SIGNAL_TIMEOUT');
    });

    it('cancel while waiting removes the timeout job; later signals are refused', async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('cancelled', { timeout: '1h' }));
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow('cancelled', {});
      await waiting(t, h, id);
      const timeoutJob = () => engineInternals(t.engine).rt.queues.nodeQueue.getJob(waitTimeoutJobId(id, 'approval'));
      // The node's job schedules the timeout just after it records the wait.
      await until(async () => (await timeoutJob()) !== undefined, h.patience(10_000), 'the timeout job');
      expect(await (await timeoutJob())?.getState()).toBe('delayed');
      expect(await t.engine.cancelWorkflow(id)).toBe(true);
      expect(await timeoutJob()).toBeUndefined();
      const refused = await refusal(t.engine.signal(id, 'approval', { approved: true }));
      expect(refused).toBeInstanceOf(ExecutionFinishedError);
      expect((refused as ExecutionFinishedError).status).toBe('cancelled');
    });

    it('the reconciler finishes a signal whose sender died between resolving the wait and writing the result', async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('orphan'));
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow('orphan', {});
      await waiting(t, h, id);
      // What engine.signal does first, without what it does next (as if its process died here).
      const ref = { executionId: id, kind: 'signal' as const, key: 'approval' };
      expect(await t.store.updateWait!(ref, ['waiting'], { state: 'resolved', resolution: 'signal', payload: { approved: true } })).not.toBeNull();
      await until(async () => (await (await nodeJob(t.engine, id, 'approval'))?.getState()) === 'completed', h.patience(5000), 'the job to complete');
      expect((await t.engine.reconcile({ graceMs: 0 })).nodesEnqueued).toBe(1);
      const done = await t.engine.waitForExecution(id);
      expect(done.status).toBe('completed');
      expect(done.nodeResults['approval']?.data).toEqual({ approved: true });
    });

    it('refuses a signal for a node on a branch that was not taken', async () => {
      const t = await engine();
      const def = graph(
        'branches',
        [node('pick', 'pick', { config: { take: 'right' } }), node('left', 'signal', { config: { name: 'left' } }), node('right', 'signal', { config: { name: 'right' } })],
        ['pick->left', 'pick->right'],
      );
      await t.engine.registerWorkflow(def);
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow('branches', {});
      await waiting(t, h, id, 'right');
      await until(async () => (await t.engine.getExecution(id))?.nodeResults['left']?.status === 'skipped', h.patience(5000), 'left to be skipped');
      const refused = await refusal(t.engine.signal(id, 'left', 1));
      expect((refused as InvalidStateError).code).toBe('INVALID_STATE');
      await t.engine.signal(id, 'right', 2);
      const done = await t.engine.waitForExecution(id);
      expect(done.status).toBe('completed');
      expect(done.nodeResults['right']?.data).toBe(2);
    });

    it('refuses a bad payload, an unknown signal and an unknown execution, storing nothing', async () => {
      const t = await engine();
      await t.engine.registerWorkflow(flow('checked'));
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow('checked', {});
      await waiting(t, h, id);
      const bad = await refusal(t.engine.signal(id, 'approval', { approved: 'secret-value' }));
      expect(bad).toBeInstanceOf(SignalPayloadError);
      expect((bad as SignalPayloadError).code).toBe('SIGNAL_PAYLOAD_INVALID');
      expect((bad as SignalPayloadError).issues[0]).toMatch(/^approved: /);
      expect((bad as Error).message).not.toContain('secret-value');
      expect(await refusal(t.engine.signal(id, 'approval'))).toBeInstanceOf(SignalPayloadError);
      const unknown = await refusal(t.engine.signal(id, 'aproval', { approved: true }));
      expect(unknown).toBeInstanceOf(UnknownSignalError);
      expect((unknown as UnknownSignalError).code).toBe('UNKNOWN_SIGNAL');
      expect(await refusal(t.engine.signal('no-such-execution', 'approval', { approved: true }))).toBeInstanceOf(ExecutionNotFoundError);
      expect((await t.store.getWait!({ executionId: id, kind: 'signal', key: 'approval' }))?.state).toBe('waiting');
      await t.engine.signal(id, 'approval', { approved: true });
      expect((await t.engine.waitForExecution(id)).status).toBe('completed');
    });

    // A DSL transform's code lives in the built workflow, which worker threads cannot import.
    it.skipIf(h.threads)('a DSL waitForSignal types its children and the typed engine.signal', async () => {
      const t = await engine();
      const flowDsl = workflow('dsl-signal')
        .then('approval', waitForSignal('approval', { schema: z.object({ approved: z.boolean(), note: z.string().default('none') }) }))
        .then(
          'take',
          transform('take', (d: { approved: boolean; note: string }) => `${d.approved}:${d.note}`),
        )
        .build();
      await t.engine.registerWorkflow(flowDsl);
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow(flowDsl, undefined);
      await waiting(t, h, id);
      await t.engine.signal(flowDsl, id, 'approval', { approved: true });
      const done = await t.engine.waitForExecution(id);
      expect(done.nodeResults['take']?.data).toBe('true:none');
    });
  });

  it('refuses invalid signal configs and duplicate names at registration', async () => {
    const t = h.engine();
    for (const config of [
      {},
      { name: 'a b' },
      { name: 'x', timeout: 'soon' },
      { name: 'x', onTimeout: 'fail' },
      { name: 'x', timeout: 10, onTimeout: 'later' },
      { name: 'x', extra: 1 },
    ]) {
      await expect(t.engine.registerWorkflow(graph('bad', [node('s', 'signal', { config })], []))).rejects.toBeInstanceOf(WorkflowValidationError);
    }
    const twice = graph('dup', [node('a', 'signal', { config: { name: 'x' } }), node('b', 'signal', { config: { name: 'x' } })], ['a->b']);
    await expect(t.engine.registerWorkflow(twice)).rejects.toThrow(/already waited for/);
  });
});
