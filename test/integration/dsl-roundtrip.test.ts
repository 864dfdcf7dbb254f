/**
 * DSL → JSON → runtime: a built workflow, serialised and parsed back, registered from JSON with
 * its node kinds registered separately (as another process would), runs on real Redis to the same
 * node results as the equivalent hand-written definition with hand-written executors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNode, delay, registerNodeKinds, router, transform, workflow } from '../../src/index.js';
import type { ExecutionContext, NodeResult, WorkflowDefinition, WorkflowExecution } from '../../src/index.js';
import { graph, node, testEngine } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

let t: TestEngine;
afterEach(async () => t?.cleanup());

// ---- the DSL version
const Order = z.object({ userId: z.number(), amount: z.number() });
const loadUser = defineNode({
  type: 'rt-load-user',
  config: z.object({ domain: z.string() }),
  input: Order,
  output: z.object({ id: z.number(), email: z.string(), amount: z.number() }),
  run: ({ input, config }) => ({ id: input.userId, email: `user${input.userId}@${config.domain}`, amount: input.amount }),
});
const combine = defineNode({
  type: 'rt-combine',
  input: z.object({ score: z.number(), tag: z.string() }),
  output: z.object({ total: z.number(), tag: z.string() }),
  run: ({ input }) => ({ total: input.score + 1, tag: input.tag }),
});
const score = transform('rt-score', (u: { amount: number }) => u.amount * 2);
const tag = transform('rt-tag', (u: { email: string }) => u.email.split('@')[1] ?? '');
const bySize = router('rt-by-size', (c: { total: number }) => (c.total > 100 ? 'big' : 'small'));
const big = transform('rt-big', (c: { total: number; tag: string }) => ({ size: 'big', total: c.total }));
const small = transform('rt-small', (c: { total: number; tag: string }) => ({ size: 'small', total: c.total }));
const label = transform('rt-label', (x: { big?: { size: string }; small?: { size: string } }) => `${(x.big ?? x.small)?.size}:${Object.keys(x).join(',')}`);

const dsl = workflow('dsl-roundtrip', { input: Order })
  .then('load', loadUser({ domain: 'example.test' }))
  .parallel({ score, tag })
  .then('combine', combine())
  .then('wait', delay(20))
  .branch('route', bySize, { big, small })
  .then('label', label)
  .build();

// ---- the same workflow written by hand, with hand-written executors
function handWritten(t: TestEngine): WorkflowDefinition {
  const ok = (data: unknown, nextNodes?: string[]) => ({ success: true, data, ...(nextNodes && { nextNodes }) });
  t.registry.register('hw-load', async (c: ExecutionContext) => ok({ id: c.inputData.userId, email: `user${c.inputData.userId}@example.test`, amount: c.inputData.amount }));
  t.registry.register('hw-score', async (c) => ok(c.inputData.amount * 2));
  t.registry.register('hw-tag', async (c) => ok(String(c.inputData.email).split('@')[1]));
  t.registry.register('hw-combine', async (c) => ok({ total: c.inputData.score + 1, tag: c.inputData.tag }));
  t.registry.register('hw-route', async (c) => ok(c.inputData, [c.inputData.total > 100 ? 'big' : 'small']));
  t.registry.register('hw-big', async (c) => ok({ size: 'big', total: c.inputData.total }));
  t.registry.register('hw-small', async (c) => ok({ size: 'small', total: c.inputData.total }));
  t.registry.register('hw-label', async (c) => {
    // One active parent hands its data over directly: find which branch ran.
    const ran = ['big', 'small'].filter((b) => c.previousResults[b]?.status === 'completed');
    return ok(`${c.inputData.size}:${ran.join(',')}`);
  });
  return graph(
    'hand-roundtrip',
    [
      node('load', 'hw-load'),
      node('score', 'hw-score'),
      node('tag', 'hw-tag'),
      node('combine', 'hw-combine'),
      node('wait', 'delay', { config: { duration: 20 } }),
      node('route', 'hw-route'),
      node('big', 'hw-big'),
      node('small', 'hw-small'),
      node('label', 'hw-label'),
    ],
    ['load->score', 'load->tag', 'score->combine', 'tag->combine', 'combine->wait', 'wait->route', 'route->big', 'route->small', 'big->label', 'small->label'],
  );
}

/** What must match between the two: each node's status and data. */
function outcome(e: WorkflowExecution): Record<string, Pick<NodeResult, 'status' | 'data'>> {
  return Object.fromEntries(Object.entries(e.nodeResults).map(([id, r]) => [id, { status: r.status, ...(r.data !== undefined && { data: r.data }) }]));
}

async function run(workflowId: string, input: unknown): Promise<WorkflowExecution> {
  return t.engine.waitForExecution(await t.engine.enqueueWorkflow(workflowId, input), { timeoutMs: 20_000 });
}

describe('DSL round trip', () => {
  it('build → JSON → register kinds + JSON → run gives the same results as the hand-written definition', async () => {
    t = testEngine();
    const json = JSON.parse(JSON.stringify(dsl)) as WorkflowDefinition;
    expect(json).toEqual(dsl);
    const registered = registerNodeKinds(t.registry, [loadUser, combine, score, tag, bySize, big, small, label]);
    expect(registered).toHaveLength(8);
    await t.engine.registerWorkflow(json);
    await t.engine.registerWorkflow(handWritten(t));
    t.engine.startWorkers(4);

    for (const input of [
      { userId: 7, amount: 10 },
      { userId: 8, amount: 75 },
    ]) {
      const [fromDsl, byHand] = await Promise.all([run('dsl-roundtrip', input), run('hand-roundtrip', input)]);
      expect(fromDsl.status).toBe('completed');
      expect(byHand.status).toBe('completed');
      expect(outcome(fromDsl)).toEqual(outcome(byHand));
    }
    const bigRun = await run('dsl-roundtrip', { userId: 9, amount: 75 });
    expect(outcome(bigRun)).toMatchObject({
      combine: { status: 'completed', data: { total: 151, tag: 'example.test' } },
      wait: { status: 'completed', data: { total: 151, tag: 'example.test' } },
      big: { status: 'completed', data: { size: 'big', total: 151 } },
      small: { status: 'skipped' },
      label: { status: 'completed', data: 'big:big' },
    });
  });

  it('registering the built object registers the executors it carries, and stores the plain JSON', async () => {
    t = testEngine();
    const version = await t.engine.registerWorkflow(dsl);
    expect(t.registry.has('rt-load-user')).toBe(true);
    expect(t.registry.has('transform:rt-label')).toBe(true);
    const stored = await t.engine.getWorkflow('dsl-roundtrip');
    expect(stored).toMatchObject({ ...JSON.parse(JSON.stringify(dsl)), version });
    t.engine.startWorkers(4);
    const done = await run('dsl-roundtrip', { userId: 1, amount: 1 });
    expect(done.status).toBe('completed');
    expect(done.nodeResults['label']?.data).toBe('small:small');
  });
});
