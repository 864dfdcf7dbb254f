/**
 * Signals in the typed DSL: `waitForSignal(name, { schema })` outputs the schema's type to its
 * children, and `engine.signal(flow, executionId, name, payload)` takes only the flow's signal
 * names, with that signal's payload type. The id form takes any name and payload. Each
 * `@ts-expect-error` has a compiling twin.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { transform, waitForSignal, workflow } from '../../src/dsl/index.js';
import type { WorkflowDefinition, WorkflowEngine, WorkflowSignalName, WorkflowSignalPayload } from '../../src/index.js';

declare const engine: WorkflowEngine;
declare const id: string;

const Approval = z.object({ approved: z.boolean(), note: z.string().default('') });

const expense = workflow('expense')
  .then('approval', waitForSignal('approval', { schema: Approval, timeout: '24h', onTimeout: { value: { approved: false, note: 'timed out' } } }))
  .then('review', waitForSignal('review', { schema: z.number() }))
  .then('book', transform('book', (n: number) => n > 0))
  .build();

const loose = workflow('loose')
  .then('wait', waitForSignal('go'))
  .then('echo', transform('echo', (x: unknown) => ({ x })))
  .build();

describe('waitForSignal', () => {
  it("types its children's input with the schema's output", () => {
    workflow('ok')
      .then('approval', waitForSignal('approval', { schema: Approval }))
      .then('use', transform('use', (d: { approved: boolean; note: string }) => d.note));
    workflow('bad')
      .then('approval', waitForSignal('approval', { schema: Approval }))
      // @ts-expect-error the child expects a field the payload lacks -- expects: amount
      .then('use', transform('use', (d: { amount: number }) => d.amount));
  });

  it("types onTimeout's value with the schema", () => {
    waitForSignal('a', { schema: Approval, timeout: 200, onTimeout: { value: { approved: true, note: '' } } });
    // @ts-expect-error the value does not match the schema -- expects: Type 'string' is not assignable to type 'boolean'
    waitForSignal('a', { schema: Approval, timeout: 200, onTimeout: { value: { approved: 'yes', note: '' } } });
  });

  it('takes durations with a unit', () => {
    waitForSignal('a', { timeout: '15m' });
    // @ts-expect-error not a duration -- expects: '"soon"' is not assignable
    waitForSignal('a', { timeout: 'soon' });
  });
});

describe('the typed engine.signal', () => {
  it("takes the flow's signal names with their payload types", () => {
    expectTypeOf<WorkflowSignalName<typeof expense>>().toEqualTypeOf<'approval' | 'review'>();
    expectTypeOf<WorkflowSignalPayload<typeof expense, 'approval'>>().toEqualTypeOf<{ approved: boolean; note?: string | undefined }>();
    expectTypeOf<WorkflowSignalPayload<typeof expense, 'review'>>().toEqualTypeOf<number>();
    expectTypeOf(engine.signal(expense, id, 'approval', { approved: true })).toEqualTypeOf<Promise<void>>();
    void engine.signal(expense, id, 'review', 3);
    // @ts-expect-error not a signal of the flow -- expects: '"aproval"' is not assignable to parameter of type
    void engine.signal(expense, id, 'aproval', { approved: true });
    // @ts-expect-error the payload does not match the signal's schema -- expects: Type 'string' is not assignable to type 'boolean'
    void engine.signal(expense, id, 'approval', { approved: 'yes' });
    // @ts-expect-error another signal's payload -- expects: not assignable to parameter of type 'number'
    void engine.signal(expense, id, 'review', { approved: true });
  });

  it('a signal without a schema takes any payload; a flow without signals takes no name', () => {
    void engine.signal(loose, id, 'go', { anything: 1 });
    const none = workflow('none').then('echo', transform('echo', (x: unknown) => ({ x }))).build();
    expectTypeOf<WorkflowSignalName<typeof none>>().toEqualTypeOf<never>();
    // @ts-expect-error the flow has no signal node -- expects: not assignable to parameter of type 'never'
    void engine.signal(none, id, 'go', 1);
  });

  it('the id form and JSON definitions take any name and payload', () => {
    void engine.signal(id, 'approval', { approved: 'anything' });
    void engine.signal(id, 'approval');
    const json = {} as WorkflowDefinition;
    expectTypeOf<WorkflowSignalName<WorkflowDefinition>>().toEqualTypeOf<string>();
    void engine.signal(json, id, 'whatever', 42);
  });
});
