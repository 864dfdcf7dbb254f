/** Run-time checks of fragments, for callers that get past the types (casts, plain JavaScript). */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fragment, InvalidArgumentError, transform, workflow } from '../../src/index.js';

const step = transform('frag-unit-step', (x: { n: number }) => x);
const steps = fragment('steps', { input: z.object({ n: z.number() }) }).then('a', step);
const start = workflow('w', { input: z.object({ n: z.number() }) });

/** The builder's untyped run-time face, as a JavaScript caller sees it. */
interface Loose {
  use(fragment: unknown): Loose;
  then(id: string, spec: unknown): Loose;
  build(): unknown;
}
const loose = (b: unknown) => b as Loose;

describe('fragment() at run time', () => {
  it('refuses what is not a fragment', () => {
    expect(() => loose(start).use(start)).toThrow(InvalidArgumentError);
    expect(() => loose(start).use({})).toThrow(/needs a fragment made by fragment/);
  });

  it('refuses an empty fragment and ids the workflow already has', () => {
    expect(() => loose(start).use(fragment('empty'))).toThrow(/fragment 'empty' has no nodes/);
    expect(() => loose(start).then('a', step).use(steps)).toThrow(/node id\(s\) 'a' of fragment 'steps' are already used/);
  });

  it('cannot be built', () => {
    expect(() => loose(steps).build()).toThrow(/fragment 'steps' cannot be built: place it in a workflow with .use\(\)/);
  });

  it('refuses a bad name or options', () => {
    expect(() => fragment('')).toThrow(InvalidArgumentError);
    expect(() => fragment('x', { input: 'nope' as never })).toThrow(InvalidArgumentError);
  });

  it('leaves the fragment unchanged when it is placed', () => {
    start.use(steps).build();
    const twice = workflow('w2', { input: z.object({ n: z.number() }) })
      .use(steps)
      .build();
    expect(twice.nodes.map((n) => n.id)).toEqual(['a']);
  });
});
