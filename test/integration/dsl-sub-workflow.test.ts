/**
 * A typed parent and child built with the DSL run on real Redis: the child is registered first,
 * the parent maps its input into the child and the child's result into its next node.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { subWorkflow, transform, workflow } from '../../src/index.js';
import { testEngine } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

const Payment = z.object({ amount: z.number(), card: z.object({ last4: z.string() }) });
const charge = transform('dsl-sub-charge', { input: Payment }, (p) => ({ paymentId: `pay-${p.card.last4}-${p.amount}`, receipt: { total: p.amount * 100 } }));
const payment = workflow('dsl-sub-payment', { input: Payment }).then('charge', charge).build();

const Order = z.object({ order: z.object({ total: z.number() }), customer: z.object({ last4: z.string() }) });
const confirm = transform('dsl-sub-confirm', (r: { id: string; cents: number }) => `${r.id}:${r.cents}`);
const parent = workflow('dsl-sub-order', { input: Order })
  .then('pay', subWorkflow(payment, { inputMapping: { amount: 'order.total', 'card.last4': 'customer.last4' }, outputMapping: { id: 'paymentId', cents: 'receipt.total' } }))
  .then('confirm', confirm)
  .build();

describe('DSL sub-workflow', () => {
  for (const useFlowProducerForSubWorkflows of [false, true]) {
    it(`runs the typed child and hands the mapped output on (${useFlowProducerForSubWorkflows ? 'FlowProducer' : 'checkpoint/resume'})`, async () => {
      t = testEngine({ config: { useFlowProducerForSubWorkflows } });
      await t.engine.registerWorkflow(payment);
      await t.engine.registerWorkflow(parent);
      t.engine.startWorkers(4);
      const id = await t.engine.enqueueWorkflow(parent.id, { order: { total: 12 }, customer: { last4: '4242' } });
      const done = await t.engine.waitForExecution(id, { timeoutMs: 20_000 });
      expect(done.status).toBe('completed');
      expect(done.nodeResults['pay']).toMatchObject({ status: 'completed', data: { id: 'pay-4242-12', cents: 1200 } });
      expect(done.nodeResults['confirm']).toMatchObject({ status: 'completed', data: 'pay-4242-12:1200' });
      const children = await t.store.getChildExecutions(id);
      expect(children).toHaveLength(1);
      expect(children[0]).toMatchObject({ workflowId: 'dsl-sub-payment', status: 'completed' });
    });
  }
});
