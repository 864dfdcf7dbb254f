/**
 * Sub-workflows: an order workflow calls a payment workflow, maps data in and out, and carries
 * on when the payment is done. Run with `npx tsx examples/sub-workflows.ts` (Redis on
 * 127.0.0.1:6379 or REDIS_URL). Pass `--flow` to run the child as a BullMQ flow.
 */
import { Redis } from 'ioredis';
import { InMemoryExecutionStore, NodeRegistry, WorkflowEngine } from '../src/index.js';
import type { WorkflowDefinition } from '../src/index.js';

const registry = new NodeRegistry()
  .register('validate', async (ctx) => ({ success: true, data: { orderTotal: 99.99, orderCurrency: 'USD', customerId: ctx.inputData.customerId } }))
  .register('charge', async (ctx) => ({ success: true, data: { paymentId: `pay_${Math.round(ctx.inputData.amount * 100)}`, paymentStatus: 'completed' } }))
  .register('email', async (ctx) => ({ success: true, data: { sent: `receipt for ${ctx.inputData.transactionId}` } }));

const payment: WorkflowDefinition = {
  id: 'payment-workflow',
  name: 'Payment',
  entryNodeId: 'charge',
  nodes: [{ id: 'charge', type: 'charge', config: {}, inputs: [], outputs: [] }],
};

const order: WorkflowDefinition = {
  id: 'order-processing',
  name: 'Order Processing',
  entryNodeId: 'validate-order',
  nodes: [
    { id: 'validate-order', type: 'validate', config: {}, inputs: [], outputs: ['process-payment'] },
    {
      id: 'process-payment',
      type: 'sub-workflow',
      config: {
        workflowId: 'payment-workflow',
        inputMapping: { amount: 'orderTotal', currency: 'orderCurrency' },
        outputMapping: { transactionId: 'paymentId', status: 'paymentStatus' },
      },
      inputs: ['validate-order'],
      outputs: ['send-confirmation'],
    },
    { id: 'send-confirmation', type: 'email', config: {}, inputs: ['process-payment'], outputs: [] },
  ],
};

const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const store = new InMemoryExecutionStore();
const engine = new WorkflowEngine({
  registry,
  store,
  connection: redis,
  config: { prefix: '{spane-example-sub}', useFlowProducerForSubWorkflows: process.argv.includes('--flow') },
});

try {
  await engine.registerWorkflow(payment); // the child first: it must exist when the parent runs
  await engine.registerWorkflow(order);
  engine.startWorkers(5);
  const id = await engine.enqueueWorkflow('order-processing', { customerId: 123 });
  const done = await engine.waitForExecution(id);
  const [child] = await store.getChildExecutions(id);
  console.log(`order ${done.status}; payment child ${child?.executionId} at depth ${child?.depth} ${child?.status}`);
  console.log('process-payment ->', done.nodeResults['process-payment']?.data);
  console.log('send-confirmation ->', done.nodeResults['send-confirmation']?.data);
  process.exitCode = done.status === 'completed' ? 0 : 1;
} finally {
  await engine.close();
  await redis.quit();
}
