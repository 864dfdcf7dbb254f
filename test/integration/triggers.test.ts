import { afterEach, describe, expect, it } from 'vitest';
import { signWebhook, WebhookRequestError, WorkflowValidationError } from '../../src/index.js';
import type { WorkflowTrigger } from '../../src/index.js';
import { graph, node, testEngine, until } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

let t: TestEngine;
afterEach(async () => t?.cleanup());

function withTriggers(id: string, triggers: WorkflowTrigger[]) {
  return graph(id, [node('start', 'echo')], [], { triggers });
}

function setup() {
  t = testEngine();
  t.registry.register('echo', async (ctx) => ({ success: true, data: ctx.inputData ?? null }));
  return t;
}

describe('schedules', () => {
  it('registers schedule triggers as job schedulers, idempotently, and replaces a changed one', async () => {
    setup();
    await t.engine.registerWorkflow(withTriggers('daily-report', [{ type: 'schedule', config: { cron: '0 9 * * *', timezone: 'America/New_York' } }]));
    await t.engine.registerWorkflow(withTriggers('daily-report', [{ type: 'schedule', config: { cron: '0 9 * * *', timezone: 'America/New_York' } }]));
    let all = await t.engine.getJobSchedulers();
    expect(all.map((s) => s.id)).toEqual(['schedule:daily-report:0 9 * * *']);
    expect(all[0]).toMatchObject({ pattern: '0 9 * * *', tz: 'America/New_York' });
    expect(all[0]!.next).toBeGreaterThan(Date.now());
    await t.engine.registerWorkflow(withTriggers('daily-report', [{ type: 'schedule', config: { cron: '30 8 * * 1-5' } }]));
    all = await t.engine.getJobSchedulers();
    expect(all.map((s) => s.id)).toEqual(['schedule:daily-report:30 8 * * 1-5']);
    await t.engine.registerWorkflow(withTriggers('daily-report', []));
    expect(await t.engine.getJobSchedulers()).toEqual([]);
  });

  it('refuses an invalid cron or unknown timezone at registration and registers nothing', async () => {
    setup();
    const err = await t.engine
      .registerWorkflow(withTriggers('bad-schedule', [{ type: 'schedule', config: { cron: '61 * * * *', timezone: 'Mars/Olympus' } }]))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowValidationError);
    expect((err as Error).message).toMatch(/timezone 'Mars\/Olympus' is not a known IANA timezone/);
    expect((err as Error).message).toMatch(/cron '61 \* \* \* \*' is invalid/);
    expect(await t.engine.getWorkflow('bad-schedule')).toBeUndefined();
    expect(await t.engine.getJobSchedulers()).toEqual([]);
    await t.engine.registerWorkflow(withTriggers('ok', []));
    await expect(t.engine.registerScheduleWithUpsert('ok', 'every minute')).rejects.toBeInstanceOf(WorkflowValidationError);
    await expect(t.engine.registerScheduleWithUpsert('ok', '0 * * * *', 'Nowhere/City')).rejects.toThrow(/Nowhere\/City/);
    expect(await t.engine.getJobSchedulers()).toEqual([]);
  });

  it('manages schedules programmatically', async () => {
    setup();
    await t.engine.registerWorkflow(withTriggers('my-workflow', []));
    await t.engine.registerScheduleWithUpsert('my-workflow', '0 */6 * * *', 'Europe/London');
    await t.engine.registerScheduleWithUpsert('my-workflow', '0 */6 * * *', 'Europe/London');
    await t.engine.registerScheduleWithUpsert('my-workflow', '15 * * * *');
    expect(await t.engine.getJobScheduler('schedule:my-workflow:0 */6 * * *')).toMatchObject({ pattern: '0 */6 * * *', tz: 'Europe/London' });
    expect(await t.engine.getJobScheduler('schedule:my-workflow:nope')).toBeNull();
    expect(await t.engine.getJobSchedulers()).toHaveLength(2);
    expect(await t.engine.removeWorkflowSchedulers('my-workflow')).toBe(2);
    expect(await t.engine.removeWorkflowSchedulers('my-workflow')).toBe(0);
  });

  it('a per-second schedule actually starts executions', async () => {
    setup();
    await t.engine.registerWorkflow(withTriggers('ticker', [{ type: 'schedule', config: { cron: '* * * * * *', data: { tick: true } } }]));
    t.engine.startWorkers(2);
    await until(async () => (await t.store.listExecutions({ workflowId: 'ticker', status: 'completed' })).length >= 2, 10_000, 'two scheduled runs');
    const [run] = await t.store.listExecutions({ workflowId: 'ticker', status: 'completed' });
    expect(run!.initialData).toEqual({ tick: true });
    await t.engine.removeWorkflowSchedulers('ticker');
  });
});

describe('webhooks', () => {
  it('starts every workflow whose webhook trigger matches path and method', async () => {
    setup();
    await t.engine.registerWorkflow(withTriggers('signup-post', [{ type: 'webhook', config: { path: 'user-signup', method: 'POST' } }]));
    await t.engine.registerWorkflow(withTriggers('signup-any', [{ type: 'webhook', config: { path: '/user-signup/' } }]));
    await t.engine.registerWorkflow(withTriggers('other', [{ type: 'webhook', config: { path: 'other', method: 'POST' } }]));
    t.engine.startWorkers(2);
    const ids = await t.engine.triggerWebhook('user-signup', 'post', { email: 'a@b.c' });
    expect(ids).toHaveLength(2);
    const runs = await Promise.all(ids.map((id) => t.engine.waitForExecution(id)));
    expect(runs.map((r) => r.workflowId).sort()).toEqual(['signup-any', 'signup-post']);
    expect(runs[0]!.nodeResults['start']?.data).toEqual({ email: 'a@b.c' });
    expect(await t.engine.triggerWebhook('user-signup', 'GET', {})).toHaveLength(1);
    expect(await t.engine.triggerWebhook('unknown', 'POST', {})).toEqual([]);
  });

  it('finds workflows registered by another engine that shares the store', async () => {
    setup();
    const other = t.sibling();
    await other.registerWorkflow(withTriggers('remote', [{ type: 'webhook', config: { path: 'remote-hook' } }]));
    expect(await t.engine.triggerWebhook('remote-hook', 'POST', {})).toHaveLength(1);
  });

  it('verifies HMAC signatures over the raw body before parsing or starting anything', async () => {
    setup();
    const secret = 's3cret';
    await t.engine.registerWorkflow(withTriggers('signed', [{ type: 'webhook', config: { path: 'pay', method: 'POST', secret } }]));
    const body = JSON.stringify({ amount: 5 });
    const ok = await t.engine.handleWebhook({ path: 'pay', method: 'POST', rawBody: body, headers: { 'X-Spane-Signature': signWebhook(secret, body) } });
    expect(ok).toHaveLength(1);
    expect((await t.store.getExecution(ok[0]!))?.initialData).toEqual({ amount: 5 });

    const refused = async (headers: Record<string, string>, rawBody = body) => {
      const err = await t.engine.handleWebhook({ path: 'pay', method: 'POST', rawBody, headers }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WebhookRequestError);
      return err as WebhookRequestError;
    };
    expect((await refused({})).httpStatus).toBe(401);
    // The caller sees one answer for every refusal; the reason is kept for the server's logs.
    expect((await refused({ 'x-spane-signature': signWebhook('wrong', body) })).reason).toMatch(/signature does not match/);
    expect((await refused({ 'x-spane-signature': signWebhook(secret, body) }, body + ' ')).httpStatus).toBe(401);
    await expect(t.engine.triggerWebhook('pay', 'POST', {})).rejects.toMatchObject({ code: 'WEBHOOK_SIGNATURE', httpStatus: 401 });
    expect(await t.store.listExecutions()).toHaveLength(1);
  });

  it('refuses stale timestamps when the trigger sets a tolerance', async () => {
    setup();
    await t.engine.registerWorkflow(withTriggers('fresh', [{ type: 'webhook', config: { path: 'fresh', secret: 'k', toleranceSeconds: 60 } }]));
    const body = '{}';
    const now = Math.floor(Date.now() / 1000);
    const send = (ts: number) =>
      t.engine.handleWebhook({ path: 'fresh', method: 'POST', rawBody: body, headers: { 'x-spane-timestamp': String(ts), 'x-spane-signature': signWebhook('k', body, ts) } });
    expect(await send(now)).toHaveLength(1);
    await expect(send(now - 600)).rejects.toMatchObject({ httpStatus: 401, reason: expect.stringMatching(/more than 60 s away/) });
    await expect(t.engine.handleWebhook({ path: 'fresh', method: 'POST', rawBody: body, headers: { 'x-spane-signature': signWebhook('k', body) } })).rejects.toMatchObject({
      httpStatus: 401,
      reason: expect.stringMatching(/x-spane-timestamp/),
    });
  });

  it('answers 413 for an oversized body and 400 for invalid JSON, starting nothing', async () => {
    setup();
    await t.engine.registerWorkflow(withTriggers('open', [{ type: 'webhook', config: { path: 'open' } }]));
    await expect(t.engine.handleWebhook({ path: 'open', method: 'POST', rawBody: 'x'.repeat(2000) }, { maxBodyBytes: 1000 })).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      httpStatus: 413,
    });
    await expect(t.engine.handleWebhook({ path: 'open', method: 'POST', rawBody: '{"a":' })).rejects.toMatchObject({ code: 'INVALID_BODY', httpStatus: 400 });
    expect(await t.store.listExecutions()).toEqual([]);
    expect(await t.engine.handleWebhook({ path: 'open', method: 'POST', rawBody: new TextEncoder().encode('{"a":1}') })).toHaveLength(1);
  });

  it('refuses malformed webhook triggers at registration', async () => {
    setup();
    await expect(t.engine.registerWorkflow(withTriggers('bad-hook', [{ type: 'webhook', config: { path: 'a b', method: 'FETCH' } }]))).rejects.toThrow(
      /webhook path 'a b'[\s\S]*'FETCH' is not an HTTP method/,
    );
  });
});
