/**
 * A DSL workflow's input schema is checked at every start: enqueueWorkflow, enqueueBulkWorkflows,
 * scheduleWorkflow, webhooks and sub-workflow nodes refuse data the schema refuses, before
 * anything is stored or queued, with a WorkflowInputError naming the workflow and the fields.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SpaneError, subWorkflow, transform, WebhookRequestError, workflow, WorkflowInputError } from '../../src/index.js';
import { testEngine } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

const Signup = z.object({ email: z.email(), plan: z.enum(['free', 'pro']), seats: z.number().int().min(1) });
const welcome = transform('wi-welcome', { input: Signup }, (s) => `welcome ${s.plan}`);
const signup = workflow('wi-signup', { input: Signup }).then('welcome', welcome).trigger({ type: 'webhook', path: 'wi-signup', method: 'POST' }).build();
const secret = 'sk_live_do_not_log';
const bad = { email: secret, plan: 'gold', seats: 0 };

async function engineWith(...flows: Parameters<TestEngine['engine']['registerWorkflow']>[0][]): Promise<TestEngine> {
  t = testEngine();
  for (const f of flows) await t.engine.registerWorkflow(f);
  return t;
}

function refusal(err: unknown): WorkflowInputError {
  expect(err).toBeInstanceOf(WorkflowInputError);
  return err as WorkflowInputError;
}

describe('workflow input schema', () => {
  it('enqueueWorkflow refuses bad data with every field named, and stores nothing', async () => {
    const { engine, store } = await engineWith(signup);
    const err = refusal(await engine.enqueueWorkflow(signup.id, bad).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(SpaneError);
    expect(err.code).toBe('WORKFLOW_INPUT_INVALID');
    expect(err.workflowId).toBe('wi-signup');
    expect(err.issues.map((i) => i.split(':')[0])).toEqual(['email', 'plan', 'seats']);
    expect(err.message).toMatch(/^Workflow 'wi-signup': input does not match the workflow's input schema/);
    expect(err.message).not.toContain(secret);
    expect(JSON.stringify(err)).not.toContain(secret);
    expect(await store.listExecutions({ workflowId: signup.id })).toEqual([]);
  });

  it('starts and runs data the schema accepts', async () => {
    const { engine } = await engineWith(signup);
    engine.startWorkers(2);
    const id = await engine.enqueueWorkflow(signup.id, { email: 'a@b.co', plan: 'pro', seats: 3 });
    const done = await engine.waitForExecution(id, { timeoutMs: 15_000 });
    expect(done.status).toBe('completed');
    expect(done.nodeResults['welcome']?.data).toBe('welcome pro');
  });

  it('enqueueBulkWorkflows starts none when one item is refused', async () => {
    const { engine, store } = await engineWith(signup);
    const good = { email: 'a@b.co', plan: 'free', seats: 1 };
    const err = refusal(
      await engine
        .enqueueBulkWorkflows([
          { workflowId: signup.id, initialData: good },
          { workflowId: signup.id, initialData: { ...good, seats: 'two' } },
        ])
        .catch((e: unknown) => e),
    );
    expect(err.issues).toEqual([expect.stringMatching(/^seats: /)]);
    expect(await store.listExecutions({ workflowId: signup.id })).toEqual([]);
  });

  it('scheduleWorkflow refuses before the pending execution is created', async () => {
    const { engine, store } = await engineWith(signup);
    refusal(await engine.scheduleWorkflow(signup.id, { plan: 'pro' }, Date.now() + 60_000).catch((e: unknown) => e));
    expect(await store.listExecutions({ workflowId: signup.id })).toEqual([]);
  });

  it('a webhook answers 400 INVALID_BODY naming the fields, not the data', async () => {
    const { engine, store } = await engineWith(signup);
    const err = (await engine.triggerWebhook('wi-signup', 'POST', bad).catch((e: unknown) => e)) as WebhookRequestError;
    expect(err).toBeInstanceOf(WebhookRequestError);
    expect(err.code).toBe('INVALID_BODY');
    expect(err.httpStatus).toBe(400);
    expect(err.message).toMatch(/email: .*; plan: .*; seats: /);
    expect(err.message).not.toContain(secret);
    expect(await store.listExecutions({ workflowId: signup.id })).toEqual([]);
  });

  it('a sub-workflow node whose mapped input the child refuses fails once, without retries', async () => {
    const Order = z.object({ customer: z.string(), plan: z.string() });
    const parent = workflow('wi-order', { input: Order })
      .node('signup', subWorkflow(signup, { inputMapping: { email: 'customer', plan: 'plan', seats: 'plan' } as never }), { retryPolicy: { maxAttempts: 3 } })
      .build();
    const { engine, store } = await engineWith(signup, parent);
    engine.startWorkers(2);
    const id = await engine.enqueueWorkflow(parent.id, { customer: 'a@b.co', plan: 'pro' });
    const done = await engine.waitForExecution(id, { timeoutMs: 15_000 });
    expect(done.status).toBe('failed');
    const failed = done.nodeResults['signup'];
    expect(failed?.status).toBe('failed');
    expect(failed?.errorDetails).toMatchObject({ code: 'WORKFLOW_INPUT_INVALID', retryable: false });
    expect(failed?.attempts).toBe(1);
    expect(await store.getChildExecutions(id)).toEqual([]);
  });
});
