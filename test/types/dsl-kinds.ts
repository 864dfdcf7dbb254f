/** Node kinds shared by the DSL type tests. */
import { z } from 'zod';
import { defineNode } from '../../src/dsl/index.js';

export const User = z.object({ userId: z.number() });

export const fetchUser = defineNode({
  type: 'fetch-user',
  config: z.object({ baseUrl: z.string().url() }),
  input: User,
  output: z.object({ id: z.number(), email: z.string().email() }),
  run: async ({ input }) => ({ id: input.userId, email: `${input.userId}@example.test` }),
});

export const sendEmail = defineNode({
  type: 'send-email',
  config: z.object({ template: z.enum(['welcome', 'reminder']), cc: z.string().optional() }),
  input: z.object({ email: z.string() }),
  output: z.object({ sent: z.boolean() }),
  run: async () => ({ sent: true }),
});

export const needsName = defineNode({
  type: 'needs-name',
  input: z.object({ name: z.string() }),
  output: z.string(),
  run: ({ input }) => input.name,
});

export const anything = defineNode({ type: 'anything', run: ({ input }) => ({ got: input }) });
