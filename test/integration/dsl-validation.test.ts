/**
 * Runtime zod validation of DSL nodes in a real worker: refused input or output fails the node
 * at once, with an error naming workflow, node, field and value, whatever the retry policy says.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNode, workflow } from '../../src/index.js';
import { testEngine } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

let t: TestEngine;
afterEach(async () => t?.cleanup());

const retry3 = { retryPolicy: { maxAttempts: 3, backoff: { type: 'fixed', delay: 10 } } } as const;

describe('runtime validation of DSL nodes', () => {
  it('bad input: execution failed, error names workflow/node/field/value, one attempt despite maxAttempts 3', async () => {
    t = testEngine();
    let calls = 0;
    const charge = defineNode({
      type: 'val-charge',
      input: z.object({ userId: z.number(), card: z.object({ last4: z.string().length(4) }) }),
      run: () => ++calls,
    });
    // The workflow input type matches; the refinement (exactly 4 digits) can only fail at run time.
    const Payment = z.object({ userId: z.number(), card: z.object({ last4: z.string() }) });
    await t.engine.registerWorkflow(workflow('dsl-bad-input', { input: Payment }).then('charge', charge(), retry3).build());
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('dsl-bad-input', { userId: 1, card: { last4: '12345' } });
    const done = await t.engine.waitForExecution(id, { timeoutMs: 15_000 });
    expect(done.status).toBe('failed');
    const result = done.nodeResults['charge'];
    expect(result).toMatchObject({ status: 'failed', attempts: 1 });
    expect(result?.error).toContain("Workflow 'dsl-bad-input', node 'charge': input does not match its schema at card.last4 (received a string)");
    expect(calls).toBe(0);
  });

  it('bad output: fails once with NodeOutputError details; a thrown error still gets its 3 attempts', async () => {
    t = testEngine();
    let lies = 0;
    let throws = 0;
    const liar = defineNode({ type: 'val-liar', output: z.object({ id: z.number() }), run: () => (++lies, { id: 'x' as unknown as number }) });
    const flaky = defineNode({
      type: 'val-flaky',
      run: () => {
        throws++;
        throw new Error('temporarily down');
      },
    });
    await t.engine.registerWorkflow(workflow('dsl-bad-output').then('lie', liar(), retry3).build());
    await t.engine.registerWorkflow(workflow('dsl-flaky').then('flaky', flaky(), retry3).build());
    t.engine.startWorkers(2);

    const lied = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('dsl-bad-output', {}), { timeoutMs: 15_000 });
    expect(lied.status).toBe('failed');
    expect(lied.nodeResults['lie']).toMatchObject({ status: 'failed', attempts: 1 });
    expect(lied.nodeResults['lie']?.error).toContain("Workflow 'dsl-bad-output', node 'lie': output does not match its schema at id (received a string)");
    expect(lies).toBe(1);

    const flakyRun = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('dsl-flaky', {}), { timeoutMs: 15_000 });
    expect(flakyRun.status).toBe('failed');
    expect(flakyRun.nodeResults['flaky']).toMatchObject({ status: 'failed', attempts: 3, error: 'temporarily down' });
    expect(throws).toBe(3);
  });
});
