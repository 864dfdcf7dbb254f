/**
 * Fan-out / fan-in with the typed DSL: load a user, then fetch profile, orders and
 * recommendations in parallel, and join them into one summary. The join's input type is
 * `{ profile: ...; orders: ...; recommendations: ... }`, checked at compile time; the
 * recommendations node may fail without failing the workflow (`continueOnFail`), so its entry
 * in the join is typed `string[] | NodeFailure` and the summary's input schema must accept both
 * (drop the `{ error }` case from it and the program no longer compiles).
 *
 *   npx spane run examples/dsl-fan-out.ts
 *
 * Runs offline on the default embedded backend (no Redis, no PostgreSQL). The progress lines show
 * the three loads running at once and the recommendations node failing twice; the result is the
 * summary, with an empty list of recommendations.
 */
import { z } from 'zod';
import { defineNode, delay, workflow } from 'spane';

const UserRef = z.object({ userId: z.number().int().positive() });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const loadUser = defineNode({
  type: 'load-user',
  input: UserRef,
  output: z.object({ userId: z.number(), name: z.string() }),
  run: ({ input }) => ({ userId: input.userId, name: `user-${input.userId}` }),
});

const profile = defineNode({
  type: 'load-profile',
  input: z.object({ userId: z.number() }),
  output: z.object({ city: z.string() }),
  run: async () => (await sleep(300), { city: 'Lyon' }),
});

const orderHistory = defineNode({
  type: 'load-orders',
  config: z.object({ limit: z.number().int().positive() }),
  input: z.object({ userId: z.number() }),
  output: z.array(z.object({ orderId: z.string(), total: z.number() })),
  run: async ({ config }) => (await sleep(300), Array.from({ length: config.limit }, (_, i) => ({ orderId: `o-${i + 1}`, total: 10 * (i + 1) }))),
});

const recommendations = defineNode({
  type: 'load-recommendations',
  input: z.object({ userId: z.number() }),
  output: z.array(z.string()),
  run: async ({ context }) => {
    await sleep(300);
    // A flaky dependency: it fails on every attempt, and the workflow continues without it.
    throw new Error(`recommendation service unavailable (attempt ${context.attempt})`);
  },
});

/**
 * The join. Its input schema describes what the three parents give, keyed by their ids; the
 * builder checks it against their output types (a failed recommendations node gives `{ error }`).
 */
const summarize = defineNode({
  type: 'summarize-user',
  input: z.object({
    profile: z.object({ city: z.string() }),
    orders: z.array(z.object({ total: z.number() })),
    recommendations: z.union([z.array(z.string()), z.object({ error: z.string() })]),
  }),
  output: z.object({ city: z.string(), orders: z.number(), spent: z.number(), recommendations: z.array(z.string()) }),
  run: ({ input }) => ({
    city: input.profile.city,
    orders: input.orders.length,
    spent: input.orders.reduce((sum, o) => sum + o.total, 0),
    recommendations: Array.isArray(input.recommendations) ? input.recommendations : [],
  }),
});

export const userSummary = workflow('dsl-user-summary', { input: UserRef, description: 'Loads a user and three enrichments in parallel, then summarises.' })
  .then('load', loadUser())
  .parallel({
    profile: profile(),
    orders: orderHistory({ limit: 3 }).with({ retryPolicy: { maxAttempts: 2 } }),
    recommendations: recommendations().with({ retryPolicy: { maxAttempts: 2, backoff: { type: 'fixed', delay: 50 } }, continueOnFail: true }),
  })
  .then('summary', summarize())
  .then('cool-down', delay(100))
  .trigger({ type: 'schedule', cron: '0 6 * * *', timezone: 'Europe/Paris', data: { userId: 1 } })
  .build();

/** What `spane run` starts with when `--input` is not given. */
export const input = { userId: 42 };
