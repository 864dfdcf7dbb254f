/**
 * Sub-workflows: an order workflow calls a payment workflow, maps data in and out, and carries
 * on when the payment is done.
 *
 *   npx spane run examples/sub-workflows.ts     # runs order-processing (payment-workflow is its child)
 *   npx tsx examples/sub-workflows.ts [--flow]  # the same, wired by hand against Redis
 *
 * `spane run` runs offline on the default embedded backend, and picks `order-processing` because
 * the other exported workflow is only its sub-workflow. The script part needs Redis
 * (REDIS_URL, default redis://127.0.0.1:6379); `--flow` runs the child as a BullMQ flow.
 */
import { pathToFileURL } from 'node:url';
import { InMemoryExecutionStore, NodeRegistry, WorkflowEngine } from 'spane';
import type { ExecutionContext, WorkflowDefinition } from 'spane';

/** Executors by node type. */
export const executors = {
  validate: async (ctx: ExecutionContext) => ({ success: true, data: { orderTotal: 99.99, orderCurrency: 'USD', customerId: ctx.inputData.customerId } }),
  charge: async (ctx: ExecutionContext) => ({ success: true, data: { paymentId: `pay_${Math.round(ctx.inputData.amount * 100)}`, paymentStatus: 'completed' } }),
  email: async (ctx: ExecutionContext) => ({ success: true, data: { sent: `receipt for ${ctx.inputData.transactionId}` } }),
};

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

/** Both workflows: `spane run` registers them all, the child first, and runs the parent. */
export const workflows = [payment, order];
/** What `spane run` starts with when `--input` is not given. */
export const input = { customerId: 123 };

/** The script part: an engine built by hand against Redis, with the child's execution looked up in the store. */
async function main(): Promise<number> {
  // Imported here, so that `spane run` works in a project without ioredis (the embedded backend needs none).
  const { Redis } = await import('ioredis');
  const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
  const store = new InMemoryExecutionStore();
  const registry = new NodeRegistry();
  for (const [type, executor] of Object.entries(executors)) registry.register(type, executor);
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
    const id = await engine.enqueueWorkflow('order-processing', input);
    const done = await engine.waitForExecution(id, { timeoutMs: 20_000 });
    const [child] = await store.getChildExecutions(id);
    console.log(`order ${done.status}; payment child ${child?.executionId} at depth ${child?.depth} ${child?.status}`);
    console.log('process-payment ->', done.nodeResults['process-payment']?.data);
    console.log('send-confirmation ->', done.nodeResults['send-confirmation']?.data);
    return done.status === 'completed' ? 0 : 1;
  } finally {
    await engine.close();
    await redis.quit();
  }
}

// Only when started directly (`npx tsx examples/sub-workflows.ts`), not when `spane run` imports it.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main();
