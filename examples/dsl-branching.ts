/**
 * Branching with the typed DSL: a router sends big orders to manual review and small ones to
 * automatic approval; the branch not taken is skipped, and the join below sees only the branch
 * that ran. The router may only name its own branches: returning 'reject' below would not compile.
 *
 *   npx spane run examples/dsl-branching.ts                                                     # a small order: "approved"
 *   npx spane run examples/dsl-branching.ts --input '{"orderId":"B-2","total":250,"country":"de"}'  # a big one: "queued"
 *   npx spane run examples/dsl-branching.ts --input '{"orderId":"C-3","total":-5,"country":"fr"}'   # refused by the input schema
 *
 * Runs offline on the default embedded backend (no Redis, no PostgreSQL).
 */
import { z } from 'zod';
import { defineNode, router, transform, workflow } from 'spane';

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

/** What `spane run` starts with when `--input` is not given: a small order, approved automatically. */
export const input = { orderId: 'A-1', total: 40, country: 'fr' };
