import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNode, InvalidArgumentError, NODE_EXECUTORS, workflow } from '../../src/index.js';
import { testEngine } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

describe('DSL rate limits', () => {
  it('carries a kind’s rate limit with its executor and registers both', async () => {
    const callApi = defineNode({
      type: 'call-api',
      input: z.object({ q: z.string() }),
      output: z.object({ answer: z.string() }),
      rateLimit: { max: 20, duration: 1000 },
      run: async ({ input }) => ({ answer: input.q.toUpperCase() }),
    });
    const built = workflow('rate-limited', { input: z.object({ q: z.string() }) })
      .node('ask', callApi())
      .build();
    expect(built[NODE_EXECUTORS].find((c) => c.type === 'call-api')?.rateLimit).toEqual({ max: 20, duration: 1000 });
    expect(JSON.stringify(built)).not.toContain('rateLimit');
    t = testEngine();
    await t.engine.registerWorkflow(built);
    expect(t.registry.getRateLimit('call-api')).toEqual({ max: 20, duration: 1000 });
    t.engine.startWorkers(2);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('rate-limited', { q: 'hi' }));
    expect(done.nodeResults['ask']?.data).toEqual({ answer: 'HI' });
  });

  it('takes a number as runs per second and refuses nonsense', () => {
    expect(defineNode({ type: 'per-second', rateLimit: 5, run: async () => 1 }).rateLimit).toEqual({ max: 5, duration: 1000 });
    expect(() => defineNode({ type: 'bad', rateLimit: 0, run: async () => 1 })).toThrow(InvalidArgumentError);
    expect(() => defineNode({ type: 'bad', rateLimit: { max: 2, duration: 0.5 }, run: async () => 1 })).toThrow(/rateLimit must be/);
  });
});
