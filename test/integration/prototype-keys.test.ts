/**
 * Workflows whose node ids are names every plain object inherits (`constructor`, `toString`, ...),
 * written with the DSL and run end to end: each node runs once, joins get plain objects keyed by
 * those ids, branches skip them correctly, and sub-workflow mappings can address them. The same
 * graphs on every queue backend and on the Drizzle stores are in data-flow.test.ts and
 * drizzle-engine.test.ts.
 */
import { afterEach, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNode, nodeOutput, router, subWorkflow, transform, workflow } from '../../src/index.js';
import { testEngine } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

let t: TestEngine;
afterEach(async () => t?.cleanup());

const runs = new Map<string, number>();
const count = (nodeId: string) => runs.set(nodeId, (runs.get(nodeId) ?? 0) + 1);
afterEach(() => runs.clear());

const start = defineNode({ type: 'pk-start', input: z.object({ n: z.number() }), run: ({ input, context }) => (count(context.nodeId), { n: input.n }) });
const tagged = defineNode({ type: 'pk-tagged', run: ({ context }) => (count(context.nodeId), { v: context.nodeId.length }) });
const keys = defineNode({
  type: 'pk-keys',
  run: ({ input, context }) => {
    count(context.nodeId);
    const plain = typeof input === 'object' && input !== null && Object.getPrototypeOf(input) === Object.prototype;
    const previousPlain = Object.getPrototypeOf(context.previousResults) === Object.prototype;
    return { plain, previousPlain, keys: plain ? Object.keys(input) : [], input };
  },
});

it('runs a DSL workflow whose nodes are named like Object.prototype members, each once', async () => {
  t = testEngine();
  const built = workflow('pk-fan', { input: z.object({ n: z.number() }) })
    .node('valueOf', start())
    .parallel({ constructor: tagged(), toString: tagged() })
    .then('hasOwnProperty', keys())
    .build();
  await t.engine.registerWorkflow(built);
  t.engine.startWorkers(3);
  const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('pk-fan', { n: 1 }));
  expect(done.status).toBe('completed');
  for (const id of ['valueOf', 'constructor', 'toString', 'hasOwnProperty']) {
    expect(runs.get(id)).toBe(1);
    expect(Object.hasOwn(done.nodeResults, id)).toBe(true);
  }
  expect(nodeOutput(built, done, 'constructor')).toEqual({ v: 11 });
  expect(nodeOutput(built, done, 'hasOwnProperty')).toEqual({
    plain: true,
    previousPlain: true,
    keys: ['constructor', 'toString'],
    input: { constructor: { v: 11 }, toString: { v: 8 } },
  });
});

it('skips the untaken prototype-named branch and still gives the join { [parentId]: data }', async () => {
  t = testEngine();
  const pick = router('pk-pick', (x: { n: number }) => (x.n > 0 ? 'constructor' : 'toString'));
  const built = workflow('pk-branch', { input: z.object({ n: z.number() }) })
    .node('valueOf', start())
    .branch('isPrototypeOf', pick, { constructor: tagged(), toString: tagged() })
    .then('hasOwnProperty', keys())
    .build();
  await t.engine.registerWorkflow(built);
  t.engine.startWorkers(3);
  const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('pk-branch', { n: 1 }));
  expect(done.status).toBe('completed');
  expect(done.nodeResults['toString']?.status).toBe('skipped');
  expect(runs.get('toString')).toBeUndefined();
  expect(runs.get('constructor')).toBe(1);
  expect(nodeOutput(built, done, 'hasOwnProperty')).toMatchObject({ plain: true, keys: ['constructor'], input: { constructor: { v: 11 } } });
});

it('maps a sub-workflow result keyed by prototype-named final nodes', async () => {
  t = testEngine();
  const child = workflow('pk-child', { input: z.object({ n: z.number() }) })
    .node('valueOf', start())
    .parallel({ constructor: tagged(), toString: tagged() })
    .build();
  const echo = transform('pk-echo', (x: unknown) => x);
  const parent = workflow('pk-parent', { input: z.object({ n: z.number() }) })
    .node('entry', start())
    .then('call', subWorkflow(child, { inputMapping: { n: 'n' }, outputMapping: { 'picked.constructor': 'constructor.v', toString: 'toString' } }))
    .then('after', echo)
    .build();
  await t.engine.registerWorkflow(child);
  await t.engine.registerWorkflow(parent);
  t.engine.startWorkers(4);
  const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('pk-parent', { n: 1 }));
  expect(done.status).toBe('completed');
  expect(done.nodeResults['call']?.data).toStrictEqual({ picked: { constructor: 11 }, toString: { v: 8 } });
  expect(done.nodeResults['after']?.data).toStrictEqual({ picked: { constructor: 11 }, toString: { v: 8 } });
});
