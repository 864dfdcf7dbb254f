/**
 * Hello, SPANE: the workflow the README starts with. Three nodes in a row, typed end to end:
 * `greet` is a node kind of our own (zod schemas for its input and output, a `run` function),
 * `wait` and `shout` are built-ins (a delay and a pure function). The builder checks every edge
 * at compile time; the worker parses each node's input and output with its schemas.
 *
 *   npx spane run examples/hello.ts                             # prints { "message": "HELLO, ADA!", ... }
 *   npx spane run examples/hello.ts --input '{"name":"Grace"}'
 *
 * Runs offline on the default embedded backend (no Redis, no PostgreSQL). In a clone of this
 * repository, `npm ci && npm run build` first, so that `npx spane` finds the built command.
 */
import { z } from 'zod';
import { defineNode, delay, transform, workflow } from 'spane';

/** A node kind with typed IO: what `run` gets and returns is checked against the schemas. */
const greet = defineNode({
  type: 'greet',
  input: z.object({ name: z.string().min(1) }),
  output: z.object({ message: z.string() }),
  run: ({ input }) => ({ message: `Hello, ${input.name}!` }),
});

/** A built-in transform: its input type comes from the function's parameter. */
const shout = transform('shout', (greeting: { message: string }) => ({ message: greeting.message.toUpperCase(), length: greeting.message.length }));

/** The workflow; `spane run` finds it as a named export. */
export const hello = workflow('hello', { input: z.object({ name: z.string().min(1) }), description: 'Greets someone, waits a moment, then shouts it.' })
  .then('greet', greet())
  .then('wait', delay(100))
  .then('shout', shout)
  .build();

/** What `spane run` starts with when `--input` is not given. */
export const input = { name: 'Ada' };
