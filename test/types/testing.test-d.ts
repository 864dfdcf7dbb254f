/**
 * spane/testing's types: `t.run(flow, input)` types its output by the DSL workflow and refuses a
 * wrong input; the id form takes anything. Each `@ts-expect-error` has a compiling twin.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { transform, workflow } from '../../src/dsl/index.js';
import type { MockCall, NodeMock, TestEngine, TestRun } from '../../src/index.js';

declare const t: TestEngine;

const greet = transform('greet', (input: { name: string }) => ({ greeting: `hello ${input.name}` }));
const hello = workflow('hello', { input: z.object({ name: z.string() }) })
  .node('greet', greet)
  .build();

describe('t.run', () => {
  it('types the output by the workflow', async () => {
    const run = await t.run(hello, { name: 'Ada' });
    expectTypeOf(run).toEqualTypeOf<TestRun<{ greeting: string }>>();
    if (run.status === 'completed') expectTypeOf(run.output).toEqualTypeOf<{ greeting: string }>();
    else expectTypeOf(run.output).toEqualTypeOf<undefined>();
  });

  it('refuses a wrong input', async () => {
    await t.run(hello, { name: 'Ada' });
    // @ts-expect-error name must be a string
    await t.run(hello, { name: 1 });
    // @ts-expect-error the input is required
    await t.run(hello);
  });

  it('takes anything for a JSON workflow id, and types its output unknown', async () => {
    const run = await t.run('json-workflow', { whatever: true });
    if (run.status === 'completed') expectTypeOf(run.output).toEqualTypeOf<unknown>();
  });

  it('start and wait keep the workflow input typed', async () => {
    await t.start(hello, { name: 'Ada' });
    // @ts-expect-error a missing field
    await t.start(hello, {});
    expectTypeOf(await t.wait<typeof hello>('id')).toEqualTypeOf<TestRun<{ greeting: string }>>();
  });
});

describe('mocks and time', () => {
  it('mockNode returns the recorded calls', () => {
    const mock = t.mockNode('greet', (input: { name: string }) => ({ greeting: input.name }));
    expectTypeOf(mock).toEqualTypeOf<NodeMock>();
    expectTypeOf(mock.calls).toEqualTypeOf<readonly MockCall[]>();
    t.mockNode('greet', { greeting: 'fixed' });
  });

  it('advanceTime takes ms or a duration string', async () => {
    await t.advanceTime(1000);
    await t.advanceTime('1h');
    await t.advanceTime('1h30m');
  });
});
