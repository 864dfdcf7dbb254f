import { afterEach, describe, expect, it } from 'vitest';
import { graph, node, testEngine } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

let t: TestEngine;
afterEach(async () => t?.cleanup());

describe('smoke', () => {
  it('runs a two-node workflow to completion', async () => {
    t = testEngine();
    t.registry.register('double', async (ctx) => ({ success: true, data: { n: ctx.inputData.n * 2 } }));
    await t.engine.registerWorkflow(graph('two', [node('a', 'double'), node('b', 'double')], ['a->b']));
    t.engine.startWorkers(4);
    const id = await t.engine.enqueueWorkflow('two', { n: 3 });
    const done = await t.engine.waitForExecution(id, { timeoutMs: 10_000 });
    expect(done.status).toBe('completed');
    expect(done.nodeResults['b']?.data).toEqual({ n: 12 });
  });
});
