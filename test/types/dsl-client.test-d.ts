/**
 * The engine's typed client: a built workflow in place of its id types the input of every start
 * method, `result(flow, id)`, `waitForExecution(flow, id)` and the events of `subscribe(flow, ...)`;
 * the id forms of the spec keep compiling. Each `@ts-expect-error` has a compiling twin.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { router, transform, workflow } from '../../src/dsl/index.js';
import type {
  NodeCompletedEvent,
  NodeFailedEvent,
  PayloadReference,
  SpaneEvent,
  TypedExecution,
  TypedSpaneEvent,
  TypedWorkflow,
  WorkflowDefinition,
  WorkflowEngine,
  WorkflowExecution,
  WorkflowInput,
  WorkflowNodeId,
  WorkflowResult,
} from '../../src/index.js';
import { fetchUser, sendEmail, User } from './dsl-kinds.js';

declare const engine: WorkflowEngine;
declare const id: string;

const onboarding = workflow('onboarding', { input: User })
  .then('fetch', fetchUser({ baseUrl: 'https://example.test' }))
  .then('welcome', sendEmail({ template: 'welcome' }))
  .build();

const untypedInput = workflow('loose').then('echo', transform('echo', (x: unknown) => ({ x }))).build();

describe('the built workflow is a TypedWorkflow', () => {
  it('carries its id, input, node ids and result', () => {
    expectTypeOf(onboarding).toExtend<TypedWorkflow>();
    expectTypeOf(onboarding).toExtend<TypedWorkflow<'onboarding', { userId: number }>>();
    expectTypeOf(onboarding.id).toEqualTypeOf<'onboarding'>();
    expectTypeOf<WorkflowInput<typeof onboarding>>().toEqualTypeOf<{ userId: number }>();
    expectTypeOf<WorkflowNodeId<typeof onboarding>>().toEqualTypeOf<'fetch' | 'welcome'>();
    expectTypeOf<WorkflowResult<typeof onboarding>>().toEqualTypeOf<{ sent: boolean }>();
  });

  it('a JSON definition is an untyped TypedWorkflow', () => {
    expectTypeOf<WorkflowDefinition>().toExtend<TypedWorkflow>();
    expectTypeOf<WorkflowInput<WorkflowDefinition>>().toEqualTypeOf<unknown>();
    expectTypeOf<WorkflowNodeId<WorkflowDefinition>>().toEqualTypeOf<string>();
  });
});

describe('starting a typed workflow', () => {
  it('types the input of enqueueWorkflow', () => {
    expectTypeOf(engine.enqueueWorkflow(onboarding, { userId: 1 })).toEqualTypeOf<Promise<string>>();
    expectTypeOf(engine.enqueueWorkflow(onboarding, { userId: 1 }, { priority: 1 })).toEqualTypeOf<Promise<string>>();
    // @ts-expect-error the input does not match the input schema -- expects: Type 'string' is not assignable to type 'number'
    void engine.enqueueWorkflow(onboarding, { userId: '1' });
    // @ts-expect-error the input is required when the schema needs one -- expects: Expected 2-3 arguments, but got 1
    void engine.enqueueWorkflow(onboarding);
    // @ts-expect-error a field of the input is missing -- expects: Property 'userId' is missing in type '{}' but required in type '{ userId: number; }'
    void engine.enqueueWorkflow(onboarding, {});
  });

  it('makes the input optional for a workflow without an input schema', () => {
    void engine.enqueueWorkflow(untypedInput);
    void engine.enqueueWorkflow(untypedInput, { anything: true });
  });

  it('keeps the id form of the spec', () => {
    expectTypeOf(engine.enqueueWorkflow('fetch-and-transform', { userId: 123 })).toEqualTypeOf<Promise<string>>();
    void engine.enqueueWorkflow('my-workflow', { data: 'here' });
    void engine.enqueueWorkflow('my-workflow');
    void engine.enqueueWorkflow(id, { any: 'thing' }, { delay: 10 });
    // @ts-expect-error options are checked on the id form too -- expects: 'dealy' does not exist in type 'EnqueueOptions'
    void engine.enqueueWorkflow('my-workflow', {}, { dealy: 10 });
  });

  it('types enqueueBulkWorkflows and scheduleWorkflow', () => {
    expectTypeOf(engine.enqueueBulkWorkflows(onboarding, [{ userId: 1 }, { userId: 2 }])).toEqualTypeOf<Promise<string[]>>();
    void engine.enqueueBulkWorkflows([{ workflowId: 'onboarding', initialData: { userId: 1 } }]);
    // @ts-expect-error one of the inputs does not match -- expects: Type 'string' is not assignable to type 'number'
    void engine.enqueueBulkWorkflows(onboarding, [{ userId: 1 }, { userId: '2' }]);
    expectTypeOf(engine.scheduleWorkflow(onboarding, { userId: 1 }, Date.now() + 1000)).toEqualTypeOf<Promise<string>>();
    void engine.scheduleWorkflow('onboarding', { whatever: 1 }, new Date());
    // @ts-expect-error a scheduled input is checked too -- expects: 'user' does not exist in type '{ userId: number; }'
    void engine.scheduleWorkflow(onboarding, { user: 1 }, Date.now() + 1000);
  });
});

describe('reading what an execution gave', () => {
  it('types result() by the workflow', async () => {
    expectTypeOf(await engine.result(onboarding, id)).toEqualTypeOf<{ sent: boolean }>();
    expectTypeOf(await engine.result('onboarding', id)).toEqualTypeOf<unknown>();
    const { sent } = await engine.result(onboarding, id);
    expectTypeOf(sent).toEqualTypeOf<boolean>();
    // @ts-expect-error the result has no such field -- expects: Property 'email' does not exist on type '{ sent: boolean; }'
    void (await engine.result(onboarding, id)).email;
  });

  it('types the result of a branching workflow with several final nodes', async () => {
    const routed = workflow('routed', { input: z.object({ n: z.number() }) })
      .branch('route', router('by-n', (x: { n: number }) => (x.n > 0 ? 'pos' : 'neg')), {
        pos: transform('pos', (x: { n: number }) => x.n),
        neg: transform('neg', (x: { n: number }) => String(x.n)),
      })
      .build();
    expectTypeOf(await engine.result(routed, id)).toEqualTypeOf<{ pos?: number; neg?: string }>();
  });

  it('types waitForExecution when the workflow is given, and keeps the spec form', async () => {
    expectTypeOf(await engine.waitForExecution(id)).toEqualTypeOf<WorkflowExecution>();
    expectTypeOf(await engine.waitForExecution(id, { timeoutMs: 10 })).toEqualTypeOf<WorkflowExecution>();
    const done = await engine.waitForExecution(onboarding, id, { timeoutMs: 10 });
    expectTypeOf(done).toEqualTypeOf<TypedExecution<typeof onboarding>>();
    expectTypeOf(done.workflowId).toEqualTypeOf<'onboarding'>();
    expectTypeOf(done.initialData).toEqualTypeOf<{ userId: number }>();
    expectTypeOf(done).toExtend<WorkflowExecution>();
    // @ts-expect-error the execution id comes second when the workflow is given -- expects: Argument of type '{ timeoutMs: number; }' is not assignable to parameter of type 'string'
    void engine.waitForExecution(onboarding, { timeoutMs: 10 });
  });
});

describe('forking a typed workflow', () => {
  it('takes one of its node ids, and keeps the id form', () => {
    expectTypeOf(engine.forkExecution(onboarding, id, { fromNodeId: 'welcome' })).toEqualTypeOf<Promise<string>>();
    expectTypeOf(engine.forkExecution(onboarding, id, { fromNodeId: 'fetch', input: { userId: 2 }, version: 2 })).toEqualTypeOf<Promise<string>>();
    // @ts-expect-error not a node of the workflow -- expects: Type '"send"' is not assignable to type
    void engine.forkExecution(onboarding, id, { fromNodeId: 'send' });
    expectTypeOf(engine.forkExecution(id, { fromNodeId: 'send', input: { any: 'json' } })).toEqualTypeOf<Promise<string>>();
    // @ts-expect-error the options are checked on the id form too -- expects: 'from' does not exist in type 'ForkOptions'
    void engine.forkExecution(id, { from: 'welcome' });
    // @ts-expect-error the version is a number -- expects: Type 'string' is not assignable to type 'number'
    void engine.forkExecution(onboarding, id, { fromNodeId: 'welcome', version: '2' });
  });
});

describe('typed events', () => {
  it('narrows events by type in the plain subscribe, and keeps old handlers', () => {
    engine.subscribe((e) => {
      expectTypeOf(e).toExtend<SpaneEvent>();
      if (e.type === 'node:failed') expectTypeOf(e.data.continued).toEqualTypeOf<boolean>();
      if (e.type === 'workflow:failed') expectTypeOf(e.error).toEqualTypeOf<string>();
      if (e.type === 'node:completed') expectTypeOf(e.durationMs).toEqualTypeOf<number>();
    });
    const old = (e: SpaneEvent) => void e.nodeId;
    engine.subscribe(old, { executionId: id });
    engine.subscribe((e) => expectTypeOf(e).toEqualTypeOf<NodeFailedEvent>(), { types: ['node:failed'] });
    engine.subscribe((e) => expectTypeOf(e.nodeId).toEqualTypeOf<string | undefined>(), { types: ['workflow:started'] });
    // @ts-expect-error a workflow event has no node id to be sure of -- expects: Expected: string, Actual: undefined
    engine.subscribe((e) => expectTypeOf(e.nodeId).toEqualTypeOf<string>(), { types: ['workflow:started'] });
    // @ts-expect-error not an event type -- expects: Type '"node:done"' is not assignable to type 'NodeEventType | WorkflowEventType'
    engine.subscribe(() => undefined, { types: ['node:done'] });
  });

  it('types node ids and outputs for subscribe(flow, handler)', () => {
    engine.subscribe(onboarding, (e) => {
      expectTypeOf(e.workflowId).toEqualTypeOf<'onboarding'>();
      if (e.type === 'node:started') expectTypeOf(e.nodeId).toEqualTypeOf<'fetch' | 'welcome'>();
      if (e.type === 'node:completed' && e.nodeId === 'fetch') expectTypeOf(e.data).toEqualTypeOf<{ id: number; email: string } | PayloadReference>();
      if (e.type === 'node:completed' && e.nodeId === 'welcome') expectTypeOf(e.data).toEqualTypeOf<{ sent: boolean } | PayloadReference>();
      // @ts-expect-error 'send' is not a node of the workflow -- expects: This comparison appears to be unintentional ... and '"send"' have no overlap
      if (e.type === 'node:completed' && e.nodeId === 'send') return;
    });
    engine.subscribe(onboarding, (e) => expectTypeOf(e).toEqualTypeOf<NodeCompletedEvent<'fetch', { id: number; email: string }, 'onboarding'> | NodeCompletedEvent<'welcome', { sent: boolean }, 'onboarding'>>(), {
      types: ['node:completed'],
    });
    expectTypeOf<Extract<TypedSpaneEvent<typeof onboarding>, { type: 'workflow:failed' }>['nodeId']>().toEqualTypeOf<'fetch' | 'welcome' | undefined>();
  });
});
