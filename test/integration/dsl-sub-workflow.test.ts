/**
 * A typed parent and child built with the DSL run on real Redis: the child is registered first,
 * the parent maps its input into the child and the child's result into its next node.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNode, subWorkflow, transform, workflow } from '../../src/index.js';
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

  it('compiles a child given as a built workflow to the same definition as its id string', () => {
    const mapping = { inputMapping: { amount: 'order.total', 'card.last4': 'customer.last4' }, outputMapping: { id: 'paymentId', cents: 'receipt.total' } } as const;
    // The id-string form is unchecked (its output is unknown), so compare the sub-workflow node alone.
    const byId = workflow('dsl-sub-order', { input: Order }).then('pay', subWorkflow('dsl-sub-payment', mapping)).build();
    const byRef = workflow('dsl-sub-order', { input: Order }).then('pay', subWorkflow(payment, mapping)).build();
    expect(JSON.parse(JSON.stringify(byRef))).toEqual(JSON.parse(JSON.stringify(byId)));
    expect(parent.nodes[0]).toEqual({ ...byId.nodes[0], outputs: ['confirm'] });
    expect(parent.nodes[0]?.config).toEqual({ workflowId: payment.id, ...mapping });
  });
});

describe('DSL strict input schemas', () => {
  it('runs a z.strictObject input after a parent whose output has more fields (the extra keys are dropped)', async () => {
    const seen: unknown[] = [];
    const profile = transform('dsl-strict-profile', (u: { userId: number }) => ({ email: `${u.userId}@example.test`, extra: true }));
    const mail = defineNode({
      type: 'dsl-strict-mail',
      input: z.strictObject({ email: z.string(), nested: z.strictObject({ a: z.number() }).optional() }),
      run: ({ input, context }) => {
        seen.push(input, context.inputData);
        return { to: input.email };
      },
    });
    const flow = workflow('dsl-strict', { input: z.object({ userId: z.number() }) })
      .then('profile', profile)
      .then('mail', mail())
      .build();
    t = testEngine();
    await t.engine.registerWorkflow(flow);
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow(flow.id, { userId: 7 });
    const done = await t.engine.waitForExecution(id, { timeoutMs: 20_000 });
    expect(done.status).toBe('completed');
    expect(done.nodeResults['mail']).toMatchObject({ status: 'completed', data: { to: '7@example.test' } });
    expect(seen).toEqual([{ email: '7@example.test' }, { email: '7@example.test', extra: true }]);
  });
});
