/**
 * Events in the typed DSL: `waitForEvent(name, { schema, match })` outputs the schema's type to
 * its children; `match` is required and `equals` is a `$.input…`/`$.nodes…` path;
 * `engine.sendEvent(name, payload)` takes an object and returns `{ woken, executionIds }`. Each
 * `@ts-expect-error` has a compiling twin.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { transform, waitForEvent, workflow } from '../../src/dsl/index.js';
import type { SendEventResult, WorkflowEngine } from '../../src/index.js';

declare const engine: WorkflowEngine;

const Paid = z.object({ orderId: z.string(), amount: z.number() });
const match = { field: 'orderId', equals: '$.input.orderId' } as const;

describe('waitForEvent', () => {
  it("types its children's input with the schema's output", () => {
    workflow('ok', { input: z.object({ orderId: z.string() }) })
      .then('paid', waitForEvent('order.paid', { schema: Paid, match }))
      .then('use', transform('use', (p: { amount: number }) => p.amount));
    workflow('bad', { input: z.object({ orderId: z.string() }) })
      .then('paid', waitForEvent('order.paid', { schema: Paid, match }))
      // @ts-expect-error the child expects a field the payload lacks -- expects: note
      .then('use', transform('use', (p: { note: string }) => p.note));
  });

  it('outputs unknown without a schema', () => {
    workflow('loose')
      .then('paid', waitForEvent('order.paid', { match }))
      .then('use', transform('use', (p: unknown) => ({ p })));
  });

  it('needs a match whose equals reads $.input or $.nodes', () => {
    waitForEvent('order.paid', { match: { field: 'id', equals: '$.nodes.start.id' } });
    // @ts-expect-error no match -- expects: Property 'match' is missing
    waitForEvent('order.paid', { schema: Paid });
    // @ts-expect-error equals is not a path expression -- expects: is not assignable to type 'EventMatchPath'
    waitForEvent('order.paid', { match: { field: 'id', equals: 'input.id' } });
  });

  it("types onTimeout's value with the schema", () => {
    waitForEvent('order.paid', { schema: Paid, match, timeout: '7d', onTimeout: { value: { orderId: 'x', amount: 0 } } });
    // @ts-expect-error the value does not match the schema -- expects: Type 'string' is not assignable to type 'number'
    waitForEvent('order.paid', { schema: Paid, match, timeout: '7d', onTimeout: { value: { orderId: 'x', amount: 'none' } } });
  });
});

describe('engine.sendEvent', () => {
  it('takes a name and an object payload, and says what it woke', () => {
    expectTypeOf(engine.sendEvent('order.paid', { orderId: 'o-1' })).toEqualTypeOf<Promise<SendEventResult>>();
    expectTypeOf<SendEventResult>().toEqualTypeOf<{ woken: number; executionIds: string[] }>();
    // @ts-expect-error a payload must be an object -- expects: not assignable to parameter of type 'object'
    void engine.sendEvent('order.paid', 42);
  });
});
