/** Types the builder infers for valid workflows: outputs, joins, branches, pass-through, failures. */
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { delay, nodeOutput, router, transform, workflow } from '../../src/dsl/index.js';
import type { BuiltWorkflow, NodeFailure, WorkflowInput, WorkflowOutputs } from '../../src/index.js';
import type { WorkflowDefinitionWithExecutors } from '../../src/index.js';
import { anything, fetchUser, sendEmail, User } from './dsl-kinds.js';

const base = workflow('onboarding', { input: User }).node('fetch', fetchUser({ baseUrl: 'https://example.test' }));

describe('workflow builder types', () => {
  it('records every node output and the workflow input', () => {
    const built = base.then('welcome', sendEmail({ template: 'welcome' })).build();
    expectTypeOf<WorkflowInput<typeof built>>().toEqualTypeOf<{ userId: number }>();
    expectTypeOf<WorkflowOutputs<typeof built>>().toEqualTypeOf<{ fetch: { id: number; email: string }; welcome: { sent: boolean } }>();
    expectTypeOf(built).toExtend<WorkflowDefinitionWithExecutors>();
    expectTypeOf(built).toExtend<BuiltWorkflow>();
  });

  it('types nodeOutput by node id', () => {
    const built = base.then('welcome', sendEmail({ template: 'welcome' })).build();
    expectTypeOf(nodeOutput(built, { nodeResults: {} }, 'fetch')).toEqualTypeOf<{ id: number; email: string } | undefined>();
    // @ts-expect-error nodeOutput: 'nope' is not a node of the workflow -- expects: '"nope"' is not assignable to parameter of type ... "fetch" ... "welcome"
    nodeOutput(built, { nodeResults: {} }, 'nope');
  });

  it('gives a join { [parentId]: output }, from .parallel() + .then() or from after: [...]', () => {
    const fanned = base
      .parallel({ welcome: sendEmail({ template: 'welcome' }), double: transform('double', (u: { id: number }) => u.id * 2) })
      .then('join', anything())
      .node('explicit', transform('explicit', (x: { welcome: { sent: boolean }; fetch: { email: string } }) => x.welcome.sent), { after: ['welcome', 'fetch'] })
      .build();
    type O = WorkflowOutputs<typeof fanned>;
    expectTypeOf<O['double']>().toEqualTypeOf<number>();
    expectTypeOf<O['join']>().toEqualTypeOf<{ got: unknown }>();
    expectTypeOf<O['explicit']>().toEqualTypeOf<boolean>();
  });

  it('passes the input through a delay', () => {
    const built = base.then('wait', delay(1000)).then('mail', sendEmail({ template: 'reminder' })).build();
    expectTypeOf<WorkflowOutputs<typeof built>['wait']>().toEqualTypeOf<{ id: number; email: string }>();
  });

  it('hands router output (its input) to branches, and makes skipped branches optional in a join', () => {
    const built = base
      .branch('route', router('by-id', (u: { id: number }) => (u.id > 100 ? 'vip' : 'regular')), {
        vip: transform('vip', (u: { id: number }) => ({ tier: 'vip' as const, id: u.id })),
        regular: sendEmail({ template: 'welcome' }),
      })
      .then('merge', transform('merge', (x: { vip?: { tier: 'vip' }; regular?: { sent: boolean } }) => Boolean(x.vip ?? x.regular)))
      .then('after-merge', transform('after-merge', (b: boolean) => !b))
      .build();
    type O = WorkflowOutputs<typeof built>;
    expectTypeOf<O['route']>().toEqualTypeOf<{ id: number; email: string }>();
    expectTypeOf<O['vip']>().toEqualTypeOf<{ tier: 'vip'; id: number }>();
    expectTypeOf<O['merge']>().toEqualTypeOf<boolean>();
  });

  it('widens the output of a continueOnFail node by NodeFailure', () => {
    const built = base
      .then('maybe', sendEmail({ template: 'welcome' }), { continueOnFail: true })
      .then('after', transform('after', (r: { sent: boolean } | NodeFailure) => 'error' in r))
      .build();
    expectTypeOf<WorkflowOutputs<typeof built>['maybe']>().toEqualTypeOf<{ sent: boolean } | NodeFailure>();
  });

  it('is immutable: branching a half-built workflow gives independent types', () => {
    const a = base.then('a', sendEmail({ template: 'welcome' })).build();
    const b = base.then('b', transform('b', (u: { email: string }) => u.email)).build();
    expectTypeOf<keyof WorkflowOutputs<typeof a>>().toEqualTypeOf<'fetch' | 'a'>();
    expectTypeOf<keyof WorkflowOutputs<typeof b>>().toEqualTypeOf<'fetch' | 'b'>();
  });

  it('types schedule data as the workflow input', () => {
    base.trigger({ type: 'schedule', cron: '0 9 * * *', timezone: 'Europe/Paris', data: { userId: 1 } });
    base.trigger({ type: 'webhook', path: 'signup', method: 'POST' });
    base.trigger({ type: 'webhook', path: 'signup', secret: { env: 'SIGNUP_SECRET' } });
    base.trigger({ type: 'webhook', path: 'signup', secret: { ref: 'signup' } });
    // @ts-expect-error trigger: schedule data must be a workflow input (userId is a number) -- expects: Type 'string' is not assignable to type 'number'
    base.trigger({ type: 'schedule', cron: '0 9 * * *', data: { userId: 'one' } });
    // @ts-expect-error trigger: a workflow whose input is required needs schedule data -- expects: Property 'data' is missing
    base.trigger({ type: 'schedule', cron: '0 9 * * *' });
    workflow('no-input').then('any', anything()).trigger({ type: 'schedule', cron: '* * * * *' });
  });

  it('lets the first node take whatever the workflow input is', () => {
    const w = workflow('typed', { input: z.object({ email: z.string(), extra: z.boolean() }) }).then('mail', sendEmail({ template: 'welcome' })).build();
    expectTypeOf<WorkflowInput<typeof w>>().toEqualTypeOf<{ email: string; extra: boolean }>();
  });
});
