/**
 * Sub-workflows in both modes (checkpoint/resume and FlowProducer), run inline and in worker
 * threads (see test/fixtures/modes.ts); executors are in test/fixtures/executors/sub-workflows.ts.
 * Executors report through a probe in Redis (REDIS_URL), whatever the queue backend.
 */
import { describe, expect, it } from 'vitest';
import { WorkflowValidationError } from '../../src/index.js';
import type { EngineConfig, WorkflowDefinition } from '../../src/index.js';
import { createRegistry } from '../fixtures/executors/sub-workflows.js';
import { forEachMode } from '../fixtures/modes.js';
import { graph, node, until, waitForParked } from '../helpers.js';
import { nodeJobId } from '../../src/index.js';
import type { TestEngine } from '../helpers.js';
import { engineInternals } from '../../src/runtime/engine/test-hooks.js';

function sub(id: string, workflowId: string, extra: Record<string, unknown> = {}) {
  return node(id, 'sub-workflow', { config: { workflowId, ...extra } });
}

forEachMode({ module: new URL('../fixtures/executors/sub-workflows.ts', import.meta.url), createRegistry }, (h) => {
  let t: TestEngine;

  describe.each([
    ['checkpoint/resume', false],
    ['FlowProducer', true],
  ])('sub-workflows (%s)', (_mode, useFlowProducerForSubWorkflows) => {
    const testEngine = (options: { config?: EngineConfig } = {}) => h.engine({ config: { useFlowProducerForSubWorkflows, ...options.config } });

    it("runs the spec's order/payment example with input and output mappings", async () => {
      t = testEngine();
      await t.engine.registerWorkflow(graph('payment-workflow', [node('charge', 'charge')], []));
      const parent: WorkflowDefinition = {
        id: 'order-processing',
        name: 'Order Processing',
        entryNodeId: 'validate-order',
        nodes: [
          { id: 'validate-order', type: 'transform', config: {}, inputs: [], outputs: ['process-payment'] },
          {
            id: 'process-payment',
            type: 'sub-workflow',
            config: {
              workflowId: 'payment-workflow',
              inputMapping: { amount: 'orderTotal', currency: 'orderCurrency' },
              outputMapping: { transactionId: 'paymentId', status: 'paymentStatus' },
              continueOnFail: false,
            },
            inputs: ['validate-order'],
            outputs: ['send-confirmation'],
          },
          { id: 'send-confirmation', type: 'email', config: {}, inputs: ['process-payment'], outputs: [] },
        ],
      };
      await t.engine.registerWorkflow(parent);
      t.engine.startWorkers(4);
      const id = await t.engine.enqueueWorkflow('order-processing', { customerId: 123 });
      const done = await t.engine.waitForExecution(id);
      expect(done.status).toBe('completed');
      expect(await h.probe.list('seen:charge')).toEqual([{ amount: 99.99, currency: 'USD' }]);
      expect(await h.probe.list('seen:email')).toEqual([{ transactionId: 'pay_123', status: 'completed' }]);
      const [child, ...others] = await t.store.getChildExecutions(id);
      expect(others).toEqual([]);
      expect(child).toMatchObject({ workflowId: 'payment-workflow', parentExecutionId: id, parentNodeId: 'process-payment', depth: 1, status: 'completed' });
      expect(child!.nodeResults['charge']?.data).toEqual({ paymentId: 'pay_123', paymentStatus: 'completed' });
    });

    it('continues the parent only after the child finished, without holding a worker slot', async () => {
      t = testEngine();
      await t.engine.registerWorkflow(graph('child-slow', [node('s', 'slow')], []));
      await t.engine.registerWorkflow(graph('waits', [sub('call', 'child-slow'), node('after', 'after')], ['call->after']));
      // One worker slot: if the waiting parent job held it, the child could never run.
      t.engine.startWorkers(1);
      const id = await t.engine.enqueueWorkflow('waits', {});
      await until(async () => (await h.probe.list('held')).length === 1, h.patience(5000), 'the child to start');
      // The child runs in the only slot while the parent waits, with no result for its call node.
      expect((await t.engine.getExecution(id))?.nodeResults['call']).toBeUndefined();
      await h.probe.set('release:slow');
      const done = await t.engine.waitForExecution(id, { timeoutMs: h.patience(15_000) });
      expect(done.status).toBe('completed');
      const [child] = await t.store.getChildExecutions(id);
      expect(done.nodeResults['after']!.startedAt!).toBeGreaterThanOrEqual(child!.completedAt!);
      expect(done.nodeResults['after']?.data).toEqual({ v: 1 });
    });

    it('nests three levels, each execution linked to its parent', async () => {
      t = testEngine();
      await t.engine.registerWorkflow(graph('level2-workflow', [node('deep-process', 'depth-tag')], []));
      await t.engine.registerWorkflow(graph('level1-workflow', [node('process', 'depth-tag'), sub('call-level2', 'level2-workflow')], ['process->call-level2']));
      await t.engine.registerWorkflow(graph('main', [node('start', 'depth-tag'), sub('call-level1', 'level1-workflow')], ['start->call-level1']));
      t.engine.startWorkers(3);
      const id = await t.engine.enqueueWorkflow('main', {});
      const done = await t.engine.waitForExecution(id);
      expect(done.status).toBe('completed');
      expect(done.nodeResults['call-level1']?.data).toEqual({ main: 0, 'level1-workflow': 1, 'level2-workflow': 2 });
      const [l1] = await t.store.getChildExecutions(id);
      const [l2] = await t.store.getChildExecutions(l1!.executionId);
      expect([l1!.depth, l2!.depth]).toEqual([1, 2]);
      expect(l2!.parentExecutionId).toBe(l1!.executionId);
    });

    it('refuses nesting deeper than 10 with MaxDepthExceededError naming the chain, and starts no orphan', async () => {
      t = testEngine();
      await t.engine.registerWorkflow(graph('w11', [node('leaf', 'noop')], []));
      for (let i = 10; i >= 0; i--) await t.engine.registerWorkflow(graph(`w${i}`, [sub('next', `w${i + 1}`)], []));
      t.engine.startWorkers(4);
      const id = await t.engine.enqueueWorkflow('w0', {});
      const done = await t.engine.waitForExecution(id, { timeoutMs: h.patience(20_000) });
      expect(done.status).toBe('failed');
      const all = await t.store.listExecutions({ limit: 100 });
      expect(Math.max(...all.map((e) => e.depth))).toBe(10);
      expect(all.some((e) => e.workflowId === 'w11')).toBe(false);
      const deepest = all.find((e) => e.depth === 10)!;
      expect(deepest.status).toBe('failed');
      expect(deepest.nodeResults['next']?.error).toBe(`Sub-workflow nesting deeper than 10 levels: ${Array.from({ length: 12 }, (_, i) => `w${i}`).join(' -> ')}`);
      expect(done.error).toMatch(/Sub-workflow 'w1'/);
    });

    it('warns about a workflow that calls itself and stops it at the depth limit', async () => {
      t = testEngine();
      const engine = t.sibling();
      await engine.registerWorkflow(graph('forever', [node('a', 'noop'), sub('again', 'forever')], ['a->again']));
      const logger = engineInternals(engine).rt.logger as unknown as { lines: string[] };
      expect(logger.lines.join('\n')).toMatch(/'forever' starts itself as a sub-workflow \(forever -> forever\)/);
      engine.startWorkers(4);
      const done = await engine.waitForExecution(await engine.enqueueWorkflow('forever', {}), { timeoutMs: h.patience(20_000) });
      expect(done.status).toBe('failed');
      expect((await t.store.listExecutions({ limit: 100 })).length).toBe(11);
    });

    it('without continueOnFail a failed child fails the parent node, which lands in the DLQ', async () => {
      t = testEngine();
      await t.engine.registerWorkflow(graph('pay', [node('charge', 'boom', { config: { error: 'card declined' } })], []));
      await t.engine.registerWorkflow(graph('order', [sub('p', 'pay'), node('confirm', 'noop')], ['p->confirm']));
      t.engine.startWorkers(3);
      const id = await t.engine.enqueueWorkflow('order', {});
      const done = await t.engine.waitForExecution(id);
      expect(done.status).toBe('failed');
      expect(done.nodeResults['p']?.error).toMatch(/Sub-workflow 'pay' \(execution .*\) failed: Node 'charge' failed: card declined/);
      expect(done.nodeResults['confirm']).toBeUndefined();
      const items = await t.engine.getDLQItems();
      expect(items.map((i) => `${i.workflowId}/${i.nodeId}`).sort()).toEqual(['order/p', 'pay/charge']);
    });

    it('retries the sub-workflow node with a fresh child per its retry policy', async () => {
      t = testEngine();
      await t.engine.registerWorkflow(graph('flaky-child', [node('f', 'flaky')], []));
      await t.engine.registerWorkflow(
        graph(
          'retrying-parent',
          [node('p', 'sub-workflow', { config: { workflowId: 'flaky-child', retryPolicy: { maxAttempts: 2, backoff: { type: 'fixed', delay: 10 } } } })],
          [],
        ),
      );
      t.engine.startWorkers(3);
      const id = await t.engine.enqueueWorkflow('retrying-parent', {});
      const done = await t.engine.waitForExecution(id);
      expect(done.status).toBe('completed');
      expect(done.nodeResults['p']).toMatchObject({ status: 'completed', data: 'ok', attempts: 2 });
      const children = await t.store.getChildExecutions(id);
      expect(children.map((c) => c.status).sort()).toEqual(['completed', 'failed']);
    });

    it('with continueOnFail the parent continues with the error and partial results', async () => {
      t = testEngine();
      await t.engine.registerWorkflow(graph('optional-enrichment', [node('a', 'ok'), node('b', 'boom', { config: { error: 'enrichment down' } })], ['a->b']));
      await t.engine.registerWorkflow(graph('tolerant', [sub('enrich', 'optional-enrichment', { continueOnFail: true }), node('next', 'take')], ['enrich->next']));
      t.engine.startWorkers(3);
      const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('tolerant', {}));
      expect(done.status).toBe('completed');
      expect(done.nodeResults['enrich']?.status).toBe('failed');
      const [received] = await h.probe.list('received');
      expect(received).toMatchObject({ error: expect.stringMatching(/enrichment down/), partialResults: { a: { enriched: true } } });
    });

    it('merges several final nodes of a diamond child into { finalNodeId: data }', async () => {
      t = testEngine();
      // start -> (a, b) -> join, plus start -> side: two final nodes, join and side
      await t.engine.registerWorkflow(
        graph('diamond', [node('start', 'n'), node('a', 'n'), node('b', 'n'), node('join', 'n'), node('side', 'n')], ['start->a', 'start->b', 'a->join', 'b->join', 'start->side']),
      );
      await t.engine.registerWorkflow(graph('uses-diamond', [sub('d', 'diamond')], []));
      t.engine.startWorkers(4);
      const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('uses-diamond', 1));
      expect(done.status).toBe('completed');
      expect(done.nodeResults['d']?.data).toEqual({
        join: 'join:{"a":"a:\\"start:1\\"","b":"b:\\"start:1\\""}',
        side: 'side:"start:1"',
      });
    });

    it('runs parallel sub-workflow nodes of one parent and joins them', async () => {
      t = testEngine();
      await t.engine.registerWorkflow(graph('doubler', [node('d', 'double')], []));
      await t.engine.registerWorkflow(
        graph(
          'parallel-subs',
          [node('fork', 'fork'), sub('x', 'doubler', { inputMapping: { v: 'v' } }), sub('y', 'doubler', { inputMapping: { v: 'w' } }), node('sum', 'sum')],
          ['fork->x', 'fork->y', 'x->sum', 'y->sum'],
        ),
      );
      t.engine.startWorkers(4);
      const id = await t.engine.enqueueWorkflow('parallel-subs', {});
      const done = await t.engine.waitForExecution(id);
      expect(done.nodeResults['sum']?.data).toBe(24);
      expect(await t.store.getChildExecutions(id)).toHaveLength(2);
    });

    it('reads and writes dotted paths, and refuses __proto__ paths at registration', async () => {
      t = testEngine();
      await t.engine.registerWorkflow(graph('geocode', [node('g', 'geo')], []));
      await t.engine.registerWorkflow(
        graph(
          'dotted',
          [node('src', 'src'), sub('call', 'geocode', { inputMapping: { 'where.city': 'customer.address.city' }, outputMapping: { lat: 'geo.lat' } })],
          ['src->call'],
        ),
      );
      t.engine.startWorkers(2);
      const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('dotted', {}));
      expect(await h.probe.list('childInput')).toEqual([{ where: { city: 'Oslo' } }]);
      expect(done.nodeResults['call']?.data).toEqual({ lat: 59.9 });
      // constructor and prototype are ordinary keys now (mappings read own properties only).
      for (const bad of ['__proto__.polluted', 'a.__proto__', '__proto__']) {
        const err = await t.engine.registerWorkflow(graph('evil', [sub('s', 'geocode', { inputMapping: { x: bad } })], [])).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WorkflowValidationError);
        expect((err as Error).message).toMatch(/forbidden segment/);
      }
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('cancelling the parent cancels the running child', async () => {
      t = testEngine();
      await t.engine.registerWorkflow(graph('slow-child', [node('s', 'wait-abort'), node('after', 'done')], ['s->after']));
      await t.engine.registerWorkflow(graph('cancel-parent', [sub('call', 'slow-child')], []));
      t.engine.startWorkers(3);
      const id = await t.engine.enqueueWorkflow('cancel-parent', {});
      await until(async () => (await h.probe.count('started')) === 1, h.patience(5000));
      expect(await t.engine.cancelWorkflow(id)).toBe(true);
      const [child] = await t.store.getChildExecutions(id);
      expect(child?.status).toBe('cancelled');
      // The child's aborted node has ended: whatever the engine does after it has been done.
      const queue = engineInternals(t.engine).rt.queues.nodeQueue;
      await until(async () => (await queue.getJobState(nodeJobId(child!.executionId, 's'))) !== 'active', h.patience(5000), "the child's node to end");
      expect((await t.store.getExecution(child!.executionId))?.nodeResults['after']).toBeUndefined();
    });

    it('cancelling the child fails the parent node, or lets it continue with continueOnFail', async () => {
      t = testEngine();
      await t.engine.registerWorkflow(graph('cancellable', [node('s', 'wait-abort')], []));
      await t.engine.registerWorkflow(graph('strict', [sub('call', 'cancellable', { retryPolicy: { maxAttempts: 3 } }), node('n', 'next')], ['call->n']));
      await t.engine.registerWorkflow(graph('lenient', [sub('call', 'cancellable', { continueOnFail: true }), node('n', 'next')], ['call->n']));
      t.engine.startWorkers(4);
      const strict = await t.engine.enqueueWorkflow('strict', {});
      const lenient = await t.engine.enqueueWorkflow('lenient', {});
      await until(async () => (await h.probe.count('started')) === 2, h.patience(5000));
      for (const parent of [strict, lenient]) {
        const [child] = await t.store.getChildExecutions(parent);
        await t.engine.cancelWorkflow(child!.executionId);
      }
      const s = await t.engine.waitForExecution(strict);
      expect(s.status).toBe('failed');
      expect(s.nodeResults['call']).toMatchObject({ status: 'failed', attempts: 1 });
      const l = await t.engine.waitForExecution(lenient);
      expect(l.status).toBe('completed');
      expect(l.nodeResults['n']?.data).toBe('continued');
    });

    it('pausing the parent pauses the child; resuming continues both', async () => {
      t = testEngine();
      await t.engine.registerWorkflow(graph('pausable-child', [node('g', 'gate'), node('s', 'step')], ['g->s']));
      await t.engine.registerWorkflow(graph('pausable-parent', [sub('call', 'pausable-child'), node('after', 'step')], ['call->after']));
      t.engine.startWorkers(3);
      const id = await t.engine.enqueueWorkflow('pausable-parent', {});
      await until(async () => (await h.probe.list('held')).length === 1, h.patience(5000));
      await t.engine.pauseWorkflow(id);
      const [child] = await t.store.getChildExecutions(id);
      expect(child?.status).toBe('paused');
      await h.probe.set('release:gate');
      // The paused child parks s instead of running it.
      await waitForParked(t.engine, child!.executionId, 's', h.patience(5000));
      expect((await t.store.getExecution(child!.executionId))?.nodeResults['s']).toBeUndefined();
      await t.engine.resumeWorkflow(id);
      const done = await t.engine.waitForExecution(id);
      expect(done.status).toBe('completed');
      expect(done.nodeResults['after']?.data).toBe('g');
    });

    it('fails clearly when the child workflow is not registered', async () => {
      t = testEngine();
      await t.engine.registerWorkflow(graph('orphan-caller', [sub('call', 'does-not-exist')], []));
      t.engine.startWorkers(1);
      const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('orphan-caller', {}));
      expect(done.status).toBe('failed');
      expect(done.nodeResults['call']?.error).toBe("Workflow 'does-not-exist' is not registered");
    });
  });

  describe('FlowProducer mode specifics', () => {
    it('runs a chain child as a BullMQ flow under an aggregator job', async () => {
      t = h.engine({ config: { useFlowProducerForSubWorkflows: true } });
      await t.engine.registerWorkflow(graph('chain-child', [node('c1', 'append'), node('c2', 'append'), node('c3', 'append')], ['c1->c2', 'c2->c3']));
      await t.engine.registerWorkflow(graph('flow-parent', [sub('call', 'chain-child')], []));
      t.engine.startWorkers(4);
      const id = await t.engine.enqueueWorkflow('flow-parent', []);
      const done = await t.engine.waitForExecution(id);
      expect(done.status).toBe('completed');
      expect(done.nodeResults['call']?.data).toEqual(['c1', 'c2', 'c3']);
      const [child] = await t.store.getChildExecutions(id);
      // The aggregator ran after the final node and recorded what getChildrenValues returned.
      await until(async () => (await t.store.getLogs(child!.executionId)).length > 0, h.patience(5000), 'aggregator log');
      expect((await t.store.getLogs(child!.executionId)).map((l) => l.message)).toEqual(['aggregator collected 1 final result(s)']);
      expect(await t.store.getLogs(id)).toEqual([]);
    });

    it('falls back to checkpoint/resume for a diamond child and says so in the execution log', async () => {
      t = h.engine({ config: { useFlowProducerForSubWorkflows: true } });
      await t.engine.registerWorkflow(graph('diamond-child', [node('s', 'n-id'), node('a', 'n-id'), node('b', 'n-id'), node('j', 'n-id')], ['s->a', 's->b', 'a->j', 'b->j']));
      await t.engine.registerWorkflow(graph('diamond-parent', [sub('call', 'diamond-child')], []));
      t.engine.startWorkers(4);
      const id = await t.engine.enqueueWorkflow('diamond-parent', {});
      const done = await t.engine.waitForExecution(id);
      expect(done.status).toBe('completed');
      expect(done.nodeResults['call']?.data).toBe('j');
      const logs = await t.store.getLogs(id);
      expect(logs).toHaveLength(1);
      expect(logs[0]).toMatchObject({ level: 'info', nodeId: 'call' });
      expect(logs[0]!.message).toBe("sub-workflow 'diamond-child' runs with checkpoint/resume instead of a BullMQ flow: node 's' has 2 children, and BullMQ flows are trees");
    });
  });
});
