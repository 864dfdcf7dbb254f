import { z } from './zod.js';

/** Ids end up in Redis keys and BullMQ job ids (which forbid `:`), so keep them to a safe set. */
export const SAFE_ID = /^[A-Za-z0-9_.-]+$/;
const MAX_ID_LENGTH = 128;

const id = z.string().min(1, 'must not be empty').max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`);

const retryPolicy = z.strictObject({
  maxAttempts: z.number().int().min(1).max(1000).optional(),
  backoff: z
    .strictObject({
      type: z.enum(['fixed', 'exponential']),
      delay: z.number().int().min(0),
    })
    .optional(),
  continueOnFail: z.boolean().optional(),
});

const circuitBreaker = z.strictObject({
  failureThreshold: z.number().int().min(1).optional(),
  successThreshold: z.number().int().min(1).optional(),
  timeout: z.number().int().min(0).optional(),
});

const nodeConfig = z.looseObject({
  retryPolicy: retryPolicy.optional(),
  circuitBreaker: circuitBreaker.optional(),
});

const node = z.strictObject({
  id,
  type: z.string().min(1, 'must not be empty'),
  name: z.string().optional(),
  config: nodeConfig.default({}),
  inputs: z.array(z.string()).default([]),
  outputs: z.array(z.string()).default([]),
  retryPolicy: retryPolicy.optional(),
  eager: z.boolean().optional(),
});

const trigger = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('webhook'),
    config: z.strictObject({
      path: z.string().min(1),
      method: z.string().min(1).optional(),
      secret: z.union([z.string().min(1), z.strictObject({ env: z.string().min(1) }), z.strictObject({ ref: z.string().min(1) })]).optional(),
      toleranceSeconds: z.number().int().min(1).optional(),
    }),
  }),
  z.strictObject({
    type: z.literal('schedule'),
    config: z.strictObject({
      cron: z.string().min(1),
      timezone: z.string().min(1).optional(),
      data: z.unknown().optional(),
    }),
  }),
]);

/**
 * Zod schema of a {@link WorkflowDefinition} received as untrusted JSON. Structural only; graph
 * rules (edges, cycles, reachability) are checked by {@link validateWorkflow}.
 */
export const workflowDefinitionSchema = z.looseObject({
  id,
  name: z.string(),
  entryNodeId: z.string().min(1, 'must not be empty'),
  nodes: z.array(node).min(1, 'a workflow needs at least one node'),
  triggers: z.array(trigger).optional(),
  description: z.string().optional(),
  eager: z.boolean().optional(),
  version: z.number().int().min(1).optional(),
});
