/** Fragments: a chain of steps checked once where it is written, placed in workflows with `.use()`. */
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { delay, fragment, router, transform, workflow } from '../../src/dsl/index.js';
import type { FragmentBuilder, WorkflowOutputs, WorkflowResult } from '../../src/index.js';
import { anything, fetchUser, needsName, sendEmail, User } from './dsl-kinds.js';

const baseUrl = 'https://example.test';
const audit = transform('audit', (r: { sent: boolean }) => ({ audited: r.sent }));

/** The use case of issue #14 (`withWelcome`), written as a fragment instead of a generic function. */
const withWelcome = fragment('with-welcome', { input: z.object({ email: z.string() }) })
  .then('welcome', sendEmail({ template: 'welcome' }))
  .then('audit', audit);

describe('fragments', () => {
  it('places a checked chain of steps after the last node, with every output typed', () => {
    const built = workflow('signup', { input: User }).then('fetch', fetchUser({ baseUrl })).use(withWelcome).build();
    expectTypeOf<WorkflowOutputs<typeof built>>().toEqualTypeOf<{
      fetch: { id: number; email: string };
      welcome: { sent: boolean };
      audit: { audited: boolean };
    }>();
    expectTypeOf<WorkflowResult<typeof built>>().toEqualTypeOf<{ audited: boolean }>();
  });

  it('continues from the fragment: .then() after .use() gets its last output', () => {
    const after = workflow('signup', { input: User })
      .then('fetch', fetchUser({ baseUrl }))
      .use(withWelcome)
      .then('after', transform('after', (a: { audited: boolean }) => a.audited))
      .build();
    expectTypeOf<WorkflowOutputs<typeof after>['after']>().toEqualTypeOf<boolean>();
  });

  it('is a builder of its own: then, node with after, parallel, branch, all checked inside', () => {
    const steps = fragment('fan', { input: z.object({ id: z.number(), email: z.string() }) })
      .then('start', delay(10))
      .parallel({ mail: sendEmail({ template: 'welcome' }), double: transform('double', (u: { id: number }) => u.id * 2) })
      .node('joined', transform('joined', (x: { mail: { sent: boolean }; double: number }) => x.double), { after: ['mail', 'double'] })
      .branch('route', router('by-size', (n: number) => (n > 10 ? 'big' : 'small')), {
        big: transform('big', (n: number) => `big ${n}`),
        small: transform('small', (n: number) => `small ${n}`),
      });
    expectTypeOf<LastOutput<typeof steps>>().toEqualTypeOf<{ big?: string; small?: string }>();
    const built = workflow('w', { input: User })
      .then('fetch', fetchUser({ baseUrl }))
      .use(steps)
      .then('label', transform('label', (x: { big?: string; small?: string }) => x.big ?? x.small ?? ''))
      .build();
    type O = WorkflowOutputs<typeof built>;
    expectTypeOf<O['start']>().toEqualTypeOf<{ id: number; email: string }>();
    expectTypeOf<O['joined']>().toEqualTypeOf<number>();
    expectTypeOf<O['big']>().toEqualTypeOf<string>();
    expectTypeOf<O['label']>().toEqualTypeOf<string>();
  });

  it('after a parallel group, the entry gets the join object, as .then() would', () => {
    const joinSteps = fragment('join-steps', { input: z.object({ mail: z.object({ sent: z.boolean() }), name: z.string() }) }).then(
      'report',
      transform('report', (x: { mail: { sent: boolean }; name: string }) => `${x.name}: ${x.mail.sent}`),
    );
    const built = workflow('w', { input: z.object({ email: z.string(), name: z.string() }) })
      .then('start', delay(1))
      .parallel({ mail: sendEmail({ template: 'welcome' }), name: needsName() })
      .use(joinSteps)
      .build();
    expectTypeOf<WorkflowOutputs<typeof built>['report']>().toEqualTypeOf<string>();
  });

  it('can start a workflow: its entry node gets the workflow input', () => {
    const built = workflow('w', { input: z.object({ email: z.string() }) })
      .use(withWelcome)
      .build();
    expectTypeOf<keyof WorkflowOutputs<typeof built>>().toEqualTypeOf<'welcome' | 'audit'>();
  });

  it('can be placed in another fragment', () => {
    const outer = fragment('outer', { input: User }).then('fetch', fetchUser({ baseUrl })).use(withWelcome);
    const built = workflow('w', { input: User }).use(outer).build();
    expectTypeOf<keyof WorkflowOutputs<typeof built>>().toEqualTypeOf<'fetch' | 'welcome' | 'audit'>();
  });

  it('makes fragment nodes skippable when placed below a branch, so a join sees them as optional', () => {
    const one = fragment('one', { input: z.object({ email: z.string() }) }).then('mailed', sendEmail({ template: 'reminder' }));
    const built = workflow('w', { input: User })
      .then('fetch', fetchUser({ baseUrl }))
      .branch('route', router('by-id', (u: { id: number }) => (u.id > 1 ? 'a' : 'b')), { a: delay(1), b: delay(2) })
      .node('only-a', transform('only-a', (u: { email: string }) => u), { after: ['a'] })
      .use(one)
      .node('typed-j', transform('typed-j', (x: { mailed?: { sent: boolean }; fetch: { id: number } }) => x.fetch.id), { after: ['mailed', 'fetch'] })
      .build();
    expectTypeOf<WorkflowOutputs<typeof built>['typed-j']>().toEqualTypeOf<number>();
  });
});

describe('fragment errors, reported on the .use() line', () => {
  const fetched = workflow('signup', { input: User }).then('fetch', fetchUser({ baseUrl }));

  it('refuses a fragment whose input the last output does not satisfy', () => {
    const named = fragment('named', { input: z.object({ name: z.string() }) }).then('greet', needsName());
    // @ts-expect-error the last output ({ id, email }) has no name -- expects: Fragment 'named' cannot take the output of 'fetch': field(s) 'name' are missing or have the wrong type
    fetched.use(named);
    // @ts-expect-error the workflow input has no email -- expects: Fragment 'with-welcome' cannot take the input of workflow 'signup'
    workflow('signup', { input: User }).use(withWelcome);
  });

  it('refuses a fragment whose ids are already used in the workflow', () => {
    const again = fetched.then('welcome', sendEmail({ template: 'welcome' })).then('audit', audit);
    // @ts-expect-error welcome and audit are taken -- expects: Node id(s) 'welcome', 'audit' of fragment 'with-welcome' are already used in workflow 'signup'
    again.use(withWelcome);
    // @ts-expect-error placing the same fragment twice repeats its ids -- expects: of fragment 'with-welcome' are already used in workflow 'signup'
    fetched.use(withWelcome).then('x', delay(1)).use(withWelcome);
  });

  it('refuses a fragment after a continueOnFail node whose failure its input does not accept', () => {
    const tolerant = workflow('signup', { input: User }).then('fetch', fetchUser({ baseUrl }), { continueOnFail: true });
    // @ts-expect-error the entry would get { error } when fetch fails -- expects: Fragment 'with-welcome' cannot take the output of 'fetch': a parent with continueOnFail passes { error: string } when it fails
    tolerant.use(withWelcome);
  });

  it('checks a fragment placed in another fragment the same way', () => {
    const outer = fragment('outer', { input: z.object({ email: z.string() }) }).then('welcome', sendEmail({ template: 'reminder' }));
    // @ts-expect-error welcome is a node of outer already -- expects: Node id(s) 'welcome' of fragment 'with-welcome' are already used in workflow 'outer'
    outer.use(withWelcome);
  });

  it('refuses an empty fragment', () => {
    // @ts-expect-error a fragment without nodes adds nothing -- expects: Fragment 'empty' has no nodes
    fetched.use(fragment('empty', { input: User }));
  });

  it('checks the steps inside the fragment, where they are written', () => {
    fragment('f', { input: z.object({ email: z.string() }) })
      .then('welcome', sendEmail({ template: 'welcome' }))
      // @ts-expect-error needsName wants { name }, gets { sent } -- expects: Node 'greet' cannot take the output of 'welcome'
      .then('greet', needsName());
    fragment('f', { input: z.object({ email: z.string() }) })
      .then('welcome', sendEmail({ template: 'welcome' }))
      // @ts-expect-error 'fetch' is a node of the workflow, not of the fragment -- expects: Node 'x' comes after 'fetch', which is not a node of workflow 'f' yet
      .node('x', anything(), { after: ['fetch'] });
  });

  it('takes fragments only, not workflow builders', () => {
    const other = workflow('other', { input: z.object({ email: z.string() }) }).then('other-welcome', sendEmail({ template: 'welcome' }));
    // @ts-expect-error a workflow builder has the chain methods but is not a fragment -- expects: Property ''~fragment'' is missing
    fetched.use(other);
  });

  it('has no build(): a fragment is placed, not registered', () => {
    // @ts-expect-error fragments are not workflows -- expects: Property 'build' does not exist
    withWelcome.build();
  });
});

/** Reading the state of a fragment, as one reads a builder's. */
type LastOutput<F> = F extends FragmentBuilder<infer S> ? S['lastOutput'] : never;
