/**
 * Quick start, written with the typed DSL: call an HTTP API for a user, then stamp the result.
 * The same workflow as examples/quickstart.ts, but every edge is checked at compile time and
 * every node's input and output is parsed with zod in the worker.
 *
 *   npx spane run examples/dsl-quickstart.ts
 *   USERS_API_URL=https://api.example.test/users/lookup npx spane run examples/dsl-quickstart.ts
 *
 * Runs offline on the default embedded backend: without USERS_API_URL the "API" is a `data:` URL,
 * which `fetch` answers without a network (whatever the request body). Give it a real endpoint
 * that answers `POST { userId }` with `{ id, name, plan }` to see the request go out.
 */
import { z } from 'zod';
import { defineHttpNode, transform, workflow } from 'spane';

const User = z.object({ id: z.number(), name: z.string(), plan: z.enum(['free', 'pro']) });

/** An http node kind whose response is checked against `User` (so its children get a typed value). */
const fetchUser = defineHttpNode({ type: 'fetch-user', input: z.object({ userId: z.number() }), output: User });

/** A pure function as a node: its type is `transform:stamp`, its code travels with the built workflow. */
const stamp = transform('stamp', (user: z.infer<typeof User>) => ({ ...user, processedAt: new Date().toISOString() }));

/** The workflow, for an API at `apiUrl`. */
export function buildQuickstart(apiUrl: string) {
  return workflow('dsl-quickstart', { input: z.object({ userId: z.number() }), description: 'Fetch a user over HTTP, then stamp it.' })
    .node('fetch', fetchUser({ url: apiUrl, method: 'POST' }), { retryPolicy: { maxAttempts: 3, backoff: { type: 'exponential', delay: 200 } } })
    .then('stamp', stamp)
    .build();
}

/** A stand-in API answer; `internal` is not in `User`, so the output schema drops it. */
const offlineApi = 'data:application/json,{"id":123,"name":"Ada","plan":"pro","internal":"dropped by the output schema"}';

/** The workflow `spane run` finds (a named export), against USERS_API_URL or the offline stand-in. */
export const quickstart = buildQuickstart(process.env['USERS_API_URL'] ?? offlineApi);

/** What `spane run` starts with when `--input` is not given. */
export const input = { userId: 123 };
