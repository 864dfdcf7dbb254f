/**
 * The engine's typed client on real Redis: a DSL workflow started with
 * `enqueueWorkflow(flow, input)`, its typed `result(flow, id)`, the typed errors of `result()` for
 * a failed, cancelled, unfinished, unknown or foreign execution, and `subscribe(flow, handler)`
 * delivering only that workflow's events, narrowed by type.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineNode,
  ExecutionCancelledError,
  ExecutionFailedError,
  ExecutionNotFinishedError,
  ExecutionNotFoundError,
  InvalidArgumentError,
  NonRetryableError,
  transform,
  workflow,
  WorkflowNotFoundError,
} from '../../src/index.js';
import type { TypedSpaneEvent } from '../../src/index.js';
import { testEngine, until } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

let t: TestEngine;
afterEach(async () => t?.cleanup());

const fetchUser = defineNode({
  type: 'client-fetch-user',
  input: z.object({ userId: z.number() }),
  output: z.object({ id: z.number(), email: z.string() }),
  run: ({ input }) => ({ id: input.userId, email: `u${input.userId}@example.test` }),
});
const greet = transform('client-greet', (u: { email: string }) => ({ greeting: `hello ${u.email}` }));
const refuse = defineNode({
  type: 'client-refuse',
  input: z.object({ email: z.string() }),
  run: (): { never: true } => {
    throw new NonRetryableError('mail server said no');
  },
});

const onboarding = workflow('client-onboarding', { input: z.object({ userId: z.number() }) })
  .then('fetch', fetchUser())
  .then('greet', greet)
  .build();
const failing = workflow('client-failing', { input: z.object({ userId: z.number() }) })
  .then('fetch', fetchUser())
  .then('mail', refuse())
  .build();

async function started(): Promise<TestEngine> {
  t = testEngine();
  await t.engine.registerWorkflow(onboarding);
  await t.engine.registerWorkflow(failing);
  t.engine.startWorkers(2);
  return t;
}

describe('typed client', () => {
  it('runs a built workflow from enqueueWorkflow(flow, input) to its typed result', async () => {
    const { engine } = await started();
    const id = await engine.enqueueWorkflow(onboarding, { userId: 7 });
    const done = await engine.waitForExecution(onboarding, id);
    expect(done).toMatchObject({ workflowId: 'client-onboarding', status: 'completed', initialData: { userId: 7 } });
    const result = await engine.result(onboarding, id);
    expect(result.greeting).toBe('hello u7@example.test');
    // The id form reads the same value, untyped.
    expect(await engine.result('client-onboarding', id)).toEqual({ greeting: 'hello u7@example.test' });
  });

  it('starts several executions of one flow, and schedules one', async () => {
    const { engine } = await started();
    const ids = await engine.enqueueBulkWorkflows(onboarding, [{ userId: 1 }, { userId: 2 }]);
    for (const [i, id] of ids.entries()) {
      await engine.waitForExecution(onboarding, id);
      expect(await engine.result(onboarding, id)).toEqual({ greeting: `hello u${i + 1}@example.test` });
    }
    const scheduled = await engine.scheduleWorkflow(onboarding, { userId: 3 }, Date.now() + 50);
    await engine.waitForExecution(onboarding, scheduled);
    expect(await engine.result(onboarding, scheduled)).toEqual({ greeting: 'hello u3@example.test' });
  });

  it('throws ExecutionFailedError with the failed node and its error as cause', async () => {
    const { engine } = await started();
    const id = await engine.enqueueWorkflow(failing, { userId: 1 });
    expect((await engine.waitForExecution(failing, id)).status).toBe('failed');
    const err: unknown = await engine.result(failing, id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecutionFailedError);
    expect(err).toMatchObject({ code: 'EXECUTION_FAILED', executionId: id, nodeId: 'mail' });
    expect((err as ExecutionFailedError).message).toContain('mail server said no');
    expect((err as ExecutionFailedError).cause).toMatchObject({ name: 'NonRetryableError', code: 'NON_RETRYABLE', message: 'mail server said no' });
  });

  it('refuses unfinished, cancelled, unknown and foreign executions with typed errors', async () => {
    const { engine } = await started();
    const later = await engine.enqueueWorkflow(onboarding, { userId: 1 }, { delay: 60_000 });
    await expect(engine.result(onboarding, later)).rejects.toBeInstanceOf(ExecutionNotFinishedError);
    await expect(engine.result(onboarding, later)).rejects.toMatchObject({ code: 'EXECUTION_NOT_FINISHED', executionId: later });
    await engine.cancelWorkflow(later);
    await expect(engine.result(onboarding, later)).rejects.toBeInstanceOf(ExecutionCancelledError);
    await expect(engine.result(onboarding, later)).rejects.toMatchObject({ code: 'EXECUTION_CANCELLED' });
    await expect(engine.result(onboarding, 'no-such-execution')).rejects.toBeInstanceOf(ExecutionNotFoundError);
    await expect(engine.result(failing, later)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(engine.waitForExecution(failing, later)).rejects.toThrow(/runs workflow 'client-onboarding', not 'client-failing'/);
  });

  it('refuses a flow that was not registered, as it does an unknown id', async () => {
    t = testEngine();
    const unregistered = workflow('client-unregistered', { input: z.object({ userId: z.number() }) })
      .then('fetch', fetchUser())
      .build();
    await expect(t.engine.enqueueWorkflow(unregistered, { userId: 1 })).rejects.toBeInstanceOf(WorkflowNotFoundError);
    await expect(t.engine.enqueueBulkWorkflows(unregistered, [{ userId: 1 }])).rejects.toBeInstanceOf(WorkflowNotFoundError);
    await expect(t.engine.enqueueWorkflow({} as never)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('refuses malformed arguments of the typed forms with InvalidArgumentError', async () => {
    t = testEngine();
    const e = t.engine;
    const calls: [string, () => unknown][] = [
      ['result executionId number', () => e.result(onboarding, 42 as never)],
      ['result workflow number', () => e.result(42 as never, 'x')],
      ['result workflow without id', () => e.result({ name: 'x' } as never, 'x')],
      ['enqueueBulkWorkflows inputs not an array', () => e.enqueueBulkWorkflows(onboarding, 'x' as never)],
      ['waitForExecution(flow) executionId number', () => e.waitForExecution(onboarding, 1 as never)],
      ['subscribe(flow) handler string', () => e.subscribe(onboarding, 'log' as never)],
      ['subscribe(flow) handler missing', () => (e.subscribe as (w: unknown) => unknown)(onboarding)],
      ['subscribe workflowId number', () => e.subscribe(() => undefined, { workflowId: 5 as never })],
    ];
    for (const [label, call] of calls) {
      const err: unknown = await Promise.resolve()
        .then(call)
        .catch((x: unknown) => x);
      expect(err, label).toBeInstanceOf(InvalidArgumentError);
    }
  });

  it('subscribe(flow, handler) delivers only that workflow’s events, narrowed by type', async () => {
    const { engine } = await started();
    const completed: TypedSpaneEvent<typeof onboarding>[] = [];
    const emails: string[] = [];
    const all: string[] = [];
    const stopTyped = engine.subscribe(
      onboarding,
      (e) => {
        completed.push(e);
        // Narrowed by type and node id: data is fetch's output (no payload is large here).
        if (e.nodeId === 'fetch' && 'email' in e.data) emails.push(e.data.email);
      },
      { types: ['node:completed'] },
    );
    const stopAll = engine.subscribe(onboarding, (e) => all.push(`${e.workflowId} ${e.type}`));
    await engine.eventsReady();
    const other = await engine.enqueueWorkflow(failing, { userId: 2 });
    await engine.waitForExecution(failing, other);
    const id = await engine.enqueueWorkflow(onboarding, { userId: 5 });
    await engine.waitForExecution(onboarding, id);
    await until(() => all.includes('client-onboarding workflow:completed'), 10_000, 'the workflow:completed event');
    await until(() => completed.length === 2, 10_000, 'both node:completed events');
    stopTyped();
    stopAll();
    expect(completed.map((e) => [e.type, e.nodeId, e.executionId])).toEqual([
      ['node:completed', 'fetch', id],
      ['node:completed', 'greet', id],
    ]);
    expect(emails).toEqual(['u5@example.test']);
    expect(all.every((line) => line.startsWith('client-onboarding '))).toBe(true);
  });
});
