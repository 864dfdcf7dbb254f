/**
 * Branching with the typed DSL: a router sends big orders to manual review and small ones to
 * automatic approval; the branch not taken is skipped, and the join below sees only the branch
 * that ran. The router may only name its own branches: returning 'reject' below would not compile.
 *
 *   npx tsx examples/dsl-branching.ts
 *
 * Needs Redis (REDIS_URL, default redis://127.0.0.1:6379).
 */
import { z } from 'zod';
import { defineNode, InMemoryExecutionStore, nodeOutput, NodeRegistry, router, transform, workflow, WorkflowEngine } from '../src/index.js';
import { isMain, redisReachable, redisUrl } from './dsl-support.js';

const Order = z.object({ orderId: z.string(), total: z.number().nonnegative(), country: z.string().length(2) });

/** Normalises an order; refuses (without retries) one whose total is negative or country code is not 2 letters. */
const validate = defineNode({
  type: 'validate-order',
  description: 'Checks and normalises an order',
  input: Order,
  output: Order,
  run: ({ input }) => ({ ...input, country: input.country.toUpperCase() }),
});

const manualReview = defineNode({
  type: 'manual-review',
  config: z.object({ queue: z.string() }),
  input: Order,
  output: z.object({ decision: z.literal('queued'), queue: z.string() }),
  run: ({ config }) => ({ decision: 'queued' as const, queue: config.queue }),
});

const autoApprove = defineNode({
  type: 'auto-approve',
  input: Order,
  output: z.object({ decision: z.literal('approved'), approvedAt: z.string() }),
  run: () => ({ decision: 'approved' as const, approvedAt: new Date().toISOString() }),
});

/** Literal return values: the compiler checks them against the branch names given to `.branch()`. */
const byTotal = router('by-total', (order: z.infer<typeof Order>) => (order.total >= 100 ? 'review' : 'approve'));

/** The join below the branch: the branch that did not run is absent, so both keys are optional. */
const summarize = transform(
  'summarize-decision',
  (x: { review?: { decision: 'queued'; queue: string }; approve?: { decision: 'approved' } }) => x.review?.decision ?? x.approve?.decision ?? 'none',
);

export const orders = workflow('dsl-orders', { input: Order, name: 'Order routing', description: 'Routes orders by total: review or auto-approve.' })
  .then('validate', validate())
  .branch('route', byTotal, {
    review: manualReview({ queue: 'risk-team' }),
    approve: autoApprove(),
  })
  .then('summary', summarize)
  .trigger({ type: 'webhook', path: 'orders', method: 'POST' })
  .build();

async function main(): Promise<number> {
  if (!(await redisReachable())) {
    console.error(`Cannot reach Redis at ${redisUrl}: start redis-server or set REDIS_URL.`);
    return 1;
  }
  const engine = new WorkflowEngine({ registry: new NodeRegistry(), store: new InMemoryExecutionStore(), connection: redisUrl });
  try {
    await engine.registerWorkflow(orders);
    engine.startWorkers(4);
    let ok = true;
    for (const order of [
      { orderId: 'A-1', total: 40, country: 'fr' },
      { orderId: 'B-2', total: 250, country: 'de' },
    ]) {
      const execution = await engine.waitForExecution(await engine.enqueueWorkflow(orders.id, order), { timeoutMs: 20_000 });
      const statuses = Object.entries(execution.nodeResults)
        .map(([id, r]) => `${id}=${r.status}`)
        .join(' ');
      console.log(`Order ${order.orderId} (total ${order.total}): ${execution.status}; ${statuses}; summary: ${nodeOutput(orders, execution, 'summary')}`);
      ok &&= execution.status === 'completed';
    }
    // Input the schema refuses: the node fails at once (NodeInputError), not after retries.
    const bad = await engine.waitForExecution(await engine.enqueueWorkflow(orders.id, { orderId: 'C-3', total: -5, country: 'fr' }), { timeoutMs: 20_000 });
    console.log(`Order C-3 (total -5): ${bad.status}; ${bad.nodeResults['validate']?.error?.split('\n')[0]}`);
    return ok && bad.status === 'failed' ? 0 : 1;
  } finally {
    await engine.close();
  }
}

if (isMain(import.meta.url)) process.exit(await main());
