/**
 * Typed `subWorkflow` mappings: the derived input and output types, and one case per rule.
 * Every `@ts-expect-error` says which rule, and after `-- expects:` the text the compiler must
 * show; test/unit/dsl-compile-errors.test.ts checks that text against the real diagnostics.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { subWorkflow, transform, workflow } from '../../src/dsl/index.js';
import type { NodeSpec, Paths, SubWorkflowFailure, TypeAtPath, WorkflowResult } from '../../src/dsl/index.js';

const Payment = z.object({ amount: z.number(), currency: z.string(), note: z.string().optional(), card: z.object({ last4: z.string(), holder: z.string() }) });
const charge = transform('charge', { input: Payment }, (p) => ({ paymentId: `pay-${p.amount}`, receipt: { url: 'https://r.test', total: p.amount } }));
const payment = workflow('payment', { input: Payment }).then('charge', charge).build();

const Order = z.object({ order: z.object({ total: z.number(), currency: z.string() }), customer: z.object({ name: z.string(), last4: z.string() }) });
const order = workflow('order', { input: Order });
const fullMapping = { amount: 'order.total', currency: 'order.currency', 'card.last4': 'customer.last4', 'card.holder': 'customer.name' } as const;

describe('typed sub-workflow mappings', () => {
  it('paths and the type at a path', () => {
    expectTypeOf<Paths<{ a: { b?: { c: number } }; d: string[] }>>().toEqualTypeOf<'a' | 'a.b' | 'a.b.c' | 'd'>();
    expectTypeOf<TypeAtPath<{ a: { b?: { c: number } } }, 'a.b.c'>>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Paths<{ a: { b: { c: { d: { e: { f: number } } } } } }>>().toEqualTypeOf<'a' | 'a.b' | 'a.b.c' | 'a.b.c.d' | 'a.b.c.d.e'>();
  });

  it('the child result is what a .then() after its last call would receive', () => {
    expectTypeOf<WorkflowResult<typeof payment>>().toEqualTypeOf<{ paymentId: string; receipt: { url: string; total: number } }>();
    const fan = workflow('fan', { input: Payment }).then('start', transform('start', (p: z.infer<typeof Payment>) => p)).parallel({ a: charge, b: transform('b', (p: { amount: number }) => p.amount) }).build();
    expectTypeOf<WorkflowResult<typeof fan>>().toEqualTypeOf<{ a: { paymentId: string; receipt: { url: string; total: number } }; b: number }>();
  });

  it('without mappings the node takes the child input and outputs the child result', () => {
    expectTypeOf(subWorkflow(payment)).toEqualTypeOf<
      NodeSpec<{ amount: number; currency: string; note?: string | undefined; card: { last4: string; holder: string } }, { paymentId: string; receipt: { url: string; total: number } }>
    >();
  });

  it('inputMapping types the node input at the mapped paths; outputMapping picks typed fields', () => {
    const spec = subWorkflow(payment, { inputMapping: fullMapping, outputMapping: { id: 'paymentId', 'receipt.total': 'receipt.total' } });
    expectTypeOf(spec).toEqualTypeOf<
      NodeSpec<{ order: { total: number; currency: string }; customer: { last4: string; name: string } }, { id: string; receipt: { total: number } }>
    >();
    const next = order.then('pay', spec).then('after', transform('after', (r: { id: string; receipt: { total: number } }) => r.id));
    expectTypeOf(next.build()).not.toBeNever();
  });

  it('continueOnFail adds { error, partialResults } to the output', () => {
    expectTypeOf(subWorkflow(payment, { outputMapping: { id: 'paymentId' }, continueOnFail: true })).toEqualTypeOf<
      NodeSpec<{ amount: number; currency: string; note?: string | undefined; card: { last4: string; holder: string } }, { id: string } | SubWorkflowFailure>
    >();
  });

  it('an id string or an untyped workflow keeps mapped values unknown', () => {
    expectTypeOf(subWorkflow('payment', { inputMapping: { amount: 'order.total' }, outputMapping: { id: 'x.y' } })).toEqualTypeOf<NodeSpec<{ order: { total: unknown } }, { id: unknown }>>();
    expectTypeOf(subWorkflow('payment')).toEqualTypeOf<NodeSpec<unknown, unknown>>();
  });

  it('rule 1: inputMapping keys are child input fields', () => {
    // @ts-expect-error unknown child input key -- expects: inputMapping key 'amont' is not an input field of the child workflow (its input fields: ... 'amount'
    subWorkflow(payment, { inputMapping: { ...fullMapping, amont: 'order.total' } });
    // @ts-expect-error unknown nested child input key -- expects: inputMapping key 'card.number' is not an input field of the child workflow
    subWorkflow(payment, { inputMapping: { ...fullMapping, 'card.number': 'customer.last4' } });
  });

  it("rule 2: inputMapping paths exist in the node's input", () => {
    // @ts-expect-error path missing in the parent output -- expects: Node 'pay' cannot take the input of workflow 'order': field(s) 'order.totl' are missing or have the wrong type
    order.then('pay', subWorkflow(payment, { inputMapping: { ...fullMapping, amount: 'order.totl' } }));
  });

  it('rule 3: the value at a path has the child input field type', () => {
    // @ts-expect-error number field fed from a string -- expects: Node 'pay' cannot take the input of workflow 'order': field(s) 'customer.name' are missing or have the wrong type
    order.then('pay', subWorkflow(payment, { inputMapping: { ...fullMapping, amount: 'customer.name' } }));
  });

  it('rule 4: every required child input field is mapped', () => {
    // @ts-expect-error required child fields left out -- expects: inputMapping leaves required input field(s) ... 'currency' ... 'card' ... of the child workflow unmapped
    subWorkflow(payment, { inputMapping: { amount: 'order.total' } });
  });

  it("rule 5: outputMapping paths exist in the child's result", () => {
    // @ts-expect-error path not in the child result -- expects: outputMapping path 'charge.paymentId' is not in the result of the child workflow (its result fields: ... 'paymentId'
    subWorkflow(payment, { outputMapping: { id: 'charge.paymentId' } });
    // @ts-expect-error nested path not in the child result -- expects: outputMapping path 'receipt.sum' is not in the result of the child workflow
    subWorkflow(payment, { outputMapping: { total: 'receipt.sum' } });
  });

  it('without inputMapping the node input must be the child input', () => {
    // @ts-expect-error parent output is not the child input -- expects: Node 'pay' cannot take the input of workflow 'order': field(s) ... 'amount' ... 'currency' ... 'card' ... are missing or have the wrong type
    order.then('pay', subWorkflow(payment));
    // @ts-expect-error mapped output not accepted by the next node -- expects: Node 'after' cannot take the output of 'pay'
    order.then('pay', subWorkflow(payment, { inputMapping: fullMapping, outputMapping: { id: 'paymentId' } })).then('after', transform('after', (r: { id: number }) => r.id));
  });
});
