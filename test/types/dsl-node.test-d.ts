/** Types of node kinds: what defineNode infers, what a kind is called with, what run sees. */
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineHttpNode, defineNode, delay, http, router, subWorkflow, transform, workflow } from '../../src/dsl/index.js';
import type { NodeContext, NodeFailure, NodeSpec, SameAsInput } from '../../src/index.js';
import { fetchUser, sendEmail, User } from './dsl-kinds.js';

describe('defineNode', () => {
  it('infers the type string, config, input and output from the schemas', () => {
    expectTypeOf(fetchUser.type).toEqualTypeOf<'fetch-user'>();
    expectTypeOf(fetchUser).parameter(0).toEqualTypeOf<{ baseUrl: string }>();
    expectTypeOf(fetchUser({ baseUrl: 'https://x.test' })).toEqualTypeOf<NodeSpec<{ userId: number }, { id: number; email: string }>>();
  });

  it('gives run the parsed input and config and the context', () => {
    defineNode({
      type: 'probe',
      config: z.object({ retries: z.number().default(2) }),
      input: z.object({ at: z.string().transform((s) => new Date(s)) }),
      run: ({ input, config, context }) => {
        expectTypeOf(input).toEqualTypeOf<{ at: Date }>();
        expectTypeOf(config).toEqualTypeOf<{ retries: number }>();
        expectTypeOf(context).toEqualTypeOf<NodeContext<{ at: string }>>();
        return null;
      },
    });
  });

  it('takes the output from run when there is no output schema, and config undefined without a config schema', () => {
    const k = defineNode({
      type: 'count',
      run: async ({ config }) => {
        expectTypeOf(config).toEqualTypeOf<undefined>();
        return { count: 1 };
      },
    });
    expectTypeOf(k).parameters.toEqualTypeOf<[]>();
    expectTypeOf(k()).toEqualTypeOf<NodeSpec<unknown, { count: number }>>();
  });

  it('makes the config argument optional when every field is', () => {
    const k = defineNode({ type: 'opt', config: z.object({ n: z.number() }).optional(), run: () => 1 });
    expectTypeOf(k).parameters.toEqualTypeOf<[config?: { n: number } | undefined]>();
  });

  it('checks what run returns against the output schema', () => {
    defineNode({
      type: 'bad-return',
      output: z.object({ id: z.number() }),
      // @ts-expect-error run must return what the output schema accepts: id is a number
      run: async () => ({ id: 'one' }),
    });
  });

  it('checks config against the config schema', () => {
    // @ts-expect-error config: baseUrl must be a string
    fetchUser({ baseUrl: 42 });
    // @ts-expect-error config: template is one of 'welcome' | 'reminder'
    sendEmail({ template: 'welcom' });
    // @ts-expect-error config: unknown keys are refused
    sendEmail({ template: 'welcome', bcc: 'x' });
    // @ts-expect-error config: a kind with a config schema needs its config
    fetchUser();
  });
});

describe('built-in kinds', () => {
  it('http takes url/method/headers and outputs unknown; defineHttpNode types the response', () => {
    expectTypeOf(http({ url: 'https://x.test', method: 'POST', headers: { a: 'b' } })).toEqualTypeOf<NodeSpec<unknown, unknown>>();
    // @ts-expect-error config: method is an HTTP verb
    http({ url: 'https://x.test', method: 'FETCH' });
    const getUser = defineHttpNode({ type: 'get-user', output: z.object({ id: z.number() }) });
    expectTypeOf(getUser({ url: 'https://x.test' })).toEqualTypeOf<NodeSpec<unknown, { id: number }>>();
  });

  it('transform takes its types from the function, or from its schemas', () => {
    expectTypeOf(transform('len', (s: string) => s.length)).toEqualTypeOf<NodeSpec<string, number>>();
    expectTypeOf(transform('async', async (s: string) => s.length > 2)).toEqualTypeOf<NodeSpec<string, boolean>>();
    const checked = transform('checked', { input: User, output: z.object({ n: z.number() }) }, (u) => {
      expectTypeOf(u).toEqualTypeOf<{ userId: number }>();
      return { n: u.userId };
    });
    expectTypeOf(checked).toEqualTypeOf<NodeSpec<{ userId: number }, { n: number }>>();
  });

  it('router records the literal branch names it may return, and passes its input on', () => {
    expectTypeOf(router('r', (n: number) => (n > 0 ? 'pos' : 'neg'))).toEqualTypeOf<NodeSpec<number, SameAsInput, 'pos' | 'neg'>>();
    expectTypeOf(router('many', async (n: number) => (n > 0 ? ['a', 'b'] : ['c']))).toEqualTypeOf<NodeSpec<number, SameAsInput, 'a' | 'b' | 'c'>>();
    expectTypeOf(router('plan', { input: z.object({ plan: z.enum(['free', 'pro']) }) }, (u) => u.plan)).toEqualTypeOf<
      NodeSpec<{ plan: 'free' | 'pro' }, { plan: 'free' | 'pro' }, 'free' | 'pro'>
    >();
  });

  it('delay passes its input on; subWorkflow is typed by the child workflow (more in dsl-sub-workflow.test-d.ts)', () => {
    expectTypeOf(delay(10)).toEqualTypeOf<NodeSpec<unknown, SameAsInput>>();
    const child = workflow('child', { input: User }).then('fetch', fetchUser({ baseUrl: 'https://x.test' })).build();
    expectTypeOf(subWorkflow(child)).toEqualTypeOf<NodeSpec<{ userId: number }, { id: number; email: string }>>();
    expectTypeOf(subWorkflow(child, { inputMapping: { userId: 'customer.id' }, outputMapping: { email: 'email' } })).toEqualTypeOf<
      NodeSpec<{ customer: { id: number } }, { email: string }>
    >();
  });

  it('.with({ continueOnFail: true }) widens the output by NodeFailure', () => {
    const spec = sendEmail({ template: 'welcome' });
    expectTypeOf(spec.with({ retryPolicy: { maxAttempts: 3 } })).toEqualTypeOf<NodeSpec<{ email: string }, { sent: boolean }>>();
    expectTypeOf(spec.with({ continueOnFail: true })).toEqualTypeOf<NodeSpec<{ email: string }, { sent: boolean } | NodeFailure, never, { sent: boolean }>>();
    // @ts-expect-error options: retryPolicy has no field 'attempts'
    spec.with({ retryPolicy: { attempts: 3 } });
  });
});
