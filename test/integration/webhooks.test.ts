/**
 * Webhook security and bad input: replayed deliveries (Standard Webhooks and X-Spane-Signature),
 * path limits, one answer for "no such webhook" and "bad signature", garbage requests, deep
 * bodies, and secrets kept out of the stored definition. Runs on every queue backend: the replay
 * records live in the backend.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryExecutionStore, signWebhook, WebhookRequestError, WorkflowEngine } from '../../src/index.js';
import type { WebhookRequest, WorkflowTrigger } from '../../src/index.js';
import { findKeys, graph, memoryLogger, NEEDS_REDIS, node, testEngine, until } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

let t: TestEngine;
const extra: WorkflowEngine[] = [];
afterEach(async () => {
  await Promise.all(extra.splice(0).map((e) => e.close()));
  await t?.cleanup();
});

function setup(): TestEngine {
  t = testEngine();
  t.registry.register('echo', async (ctx) => ({ success: true, data: ctx.inputData ?? null }));
  return t;
}

async function register(id: string, trigger: WorkflowTrigger['config'], engine = t.engine): Promise<void> {
  await engine.registerWorkflow(graph(id, [node('start', 'echo')], [], { triggers: [{ type: 'webhook', config: trigger } as WorkflowTrigger] }));
}

async function refusal(call: Promise<unknown>): Promise<WebhookRequestError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WebhookRequestError);
  return err as WebhookRequestError;
}

const answer = (e: WebhookRequestError) => ({ code: e.code, httpStatus: e.httpStatus, message: e.message });

describe('replayed deliveries', () => {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;

  function standard(body: string, id = `msg_${randomUUID()}`, at = new Date()): WebhookRequest {
    const signature = new Webhook(secret).sign(id, at, body);
    return {
      path: 'orders',
      method: 'POST',
      rawBody: body,
      headers: { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature },
    };
  }

  it('starts one execution for a Standard Webhooks delivery sent 3 times, in turn or at once, and answers each with its ids', async () => {
    setup();
    await register('orders', { path: 'orders', method: 'POST', secret });
    const request = standard('{"order":1}');
    const first = await t.engine.handleWebhook(request);
    expect(first).toHaveLength(1);
    expect(await t.engine.handleWebhook(request)).toEqual(first);
    expect(await t.engine.handleWebhook(request)).toEqual(first);
    expect(await t.store.listExecutions()).toHaveLength(1);

    const again = standard('{"order":2}');
    const concurrent = await Promise.all([t.engine.handleWebhook(again), t.engine.handleWebhook(again), t.engine.handleWebhook(again)]);
    expect(concurrent[0]).toHaveLength(1);
    expect(concurrent[1]).toEqual(concurrent[0]);
    expect(concurrent[2]).toEqual(concurrent[0]);
    expect(await t.store.listExecutions()).toHaveLength(2);
    expect((await t.store.getExecution(concurrent[0]![0]!))?.initialData).toEqual({ order: 2 });
  });

  it('shares the replay record between engines on the same backend', async () => {
    setup();
    const other = t.sibling();
    await register('orders', { path: 'orders', secret });
    const request = standard('{"order":3}');
    const answers = await Promise.all([t.engine.handleWebhook(request), other.handleWebhook(request), t.engine.handleWebhook(request)]);
    expect(new Set(answers.map((a) => a.join()))).toEqual(new Set([answers[0]!.join()]));
    expect(await t.store.listExecutions()).toHaveLength(1);
  });

  it('starts one execution for an X-Spane-Signature request sent 3 times, with and without a timestamp', async () => {
    setup();
    await register('plain', { path: 'plain', secret: 'k1' });
    await register('timed', { path: 'timed', secret: 'k2', toleranceSeconds: 60 });
    const body = '{"n":1}';
    const plain: WebhookRequest = { path: 'plain', method: 'POST', rawBody: body, headers: { 'x-spane-signature': signWebhook('k1', body) } };
    const ids = await Promise.all([t.engine.handleWebhook(plain), t.engine.handleWebhook(plain)]);
    expect(await t.engine.handleWebhook(plain)).toEqual(ids[0]);
    expect(ids[1]).toEqual(ids[0]);
    const ts = Math.floor(Date.now() / 1000);
    const timed: WebhookRequest = { path: 'timed', method: 'POST', rawBody: body, headers: { 'x-spane-timestamp': String(ts), 'x-spane-signature': signWebhook('k2', body, ts) } };
    const first = await t.engine.handleWebhook(timed);
    expect(await Promise.all([t.engine.handleWebhook(timed), t.engine.handleWebhook(timed)])).toEqual([first, first]);
    expect(await t.store.listExecutions()).toHaveLength(2);
  });

  it('refuses a timestamp outside the tolerance with 401, starting nothing', async () => {
    setup();
    await register('orders', { path: 'orders', secret });
    await register('timed', { path: 'timed', secret: 'k2', toleranceSeconds: 60 });
    const stale = await refusal(t.engine.handleWebhook(standard('{}', 'msg_old', new Date(Date.now() - 10 * 60_000))));
    expect(stale.httpStatus).toBe(401);
    const ts = Math.floor(Date.now() / 1000) - 600;
    const spane = await refusal(
      t.engine.handleWebhook({ path: 'timed', method: 'POST', rawBody: '{}', headers: { 'x-spane-timestamp': String(ts), 'x-spane-signature': signWebhook('k2', '{}', ts) } }),
    );
    expect(spane.httpStatus).toBe(401);
    expect(await t.store.listExecutions()).toEqual([]);
  });

  it.skipIf(NEEDS_REDIS)('keeps the replay record in Redis under the engine’s prefix, for the tolerance window', async () => {
    setup();
    await register('orders', { path: 'orders', secret });
    await t.engine.handleWebhook(standard('{}'));
    const keys = await findKeys(t.redis, `${t.prefix}:webhook-delivery:*`);
    expect(keys).toHaveLength(1);
    const ttl = await t.redis.pttl(keys[0]!);
    // The 5-minute tolerance from the timestamp, plus a minute for clock skew.
    expect(ttl).toBeGreaterThan(300_000);
    expect(ttl).toBeLessThanOrEqual(361_000);
  });

  it('lets a retry start the delivery when the first attempt failed to start', async () => {
    let failNext = true;
    class FailingOnce extends InMemoryExecutionStore {
      override async createExecution(...args: Parameters<InMemoryExecutionStore['createExecution']>): Promise<void> {
        if (failNext) {
          failNext = false;
          throw new Error('store down');
        }
        return super.createExecution(...args);
      }
    }
    t = testEngine({ store: new FailingOnce() });
    t.registry.register('echo', async (ctx) => ({ success: true, data: ctx.inputData ?? null }));
    await register('orders', { path: 'orders', secret });
    const request = standard('{}');
    await expect(t.engine.handleWebhook(request)).rejects.toThrow(/store down/);
    const ids = await t.engine.handleWebhook(request);
    expect(ids).toHaveLength(1);
    expect(await t.engine.handleWebhook(request)).toEqual(ids);
    expect((await t.store.listExecutions()).map((e) => e.executionId)).toEqual(ids);
  });
});

describe('paths and refusals', () => {
  it('refuses a path over the length cap with a typed error before looking anything up', async () => {
    setup();
    await register('open', { path: 'open' });
    const long = `a${'/'.repeat(65_536)}b`;
    for (const call of [t.engine.handleWebhook({ path: long, method: 'POST', rawBody: '{}' }), t.engine.triggerWebhook(long, 'POST', {})]) {
      expect(await refusal(call)).toMatchObject({ code: 'WEBHOOK_PATH_TOO_LONG', httpStatus: 414 });
    }
    expect(await t.engine.handleWebhook({ path: `${'/'.repeat(1000)}open${'/'.repeat(1000)}`, method: 'POST', rawBody: '{}' })).toHaveLength(1);
  });

  it('answers an unknown path exactly as a bad signature', async () => {
    setup();
    await register('signed', { path: 'signed', method: 'POST', secret: 's' });
    const body = '{}';
    const unknown = await refusal(t.engine.handleWebhook({ path: 'no/such/hook', method: 'POST', rawBody: body, headers: { 'x-spane-signature': signWebhook('s', body) } }));
    const forged = await refusal(t.engine.handleWebhook({ path: 'signed', method: 'POST', rawBody: body, headers: { 'x-spane-signature': signWebhook('wrong', body) } }));
    const unsigned = await refusal(t.engine.handleWebhook({ path: 'signed', method: 'POST', rawBody: body }));
    const wrongMethod = await refusal(t.engine.handleWebhook({ path: 'signed', method: 'PUT', rawBody: body, headers: { 'x-spane-signature': signWebhook('s', body) } }));
    expect(answer(unknown)).toMatchObject({ code: 'WEBHOOK_SIGNATURE', httpStatus: 401 });
    for (const other of [forged, unsigned, wrongMethod]) expect(answer(other)).toEqual(answer(unknown));
    expect(await t.store.listExecutions()).toEqual([]);
  });

  it('finds a workflow registered by another engine after its own index was built', async () => {
    setup();
    await register('first', { path: 'first' });
    expect(await t.engine.handleWebhook({ path: 'first', method: 'POST', rawBody: '' })).toHaveLength(1);
    await register('second', { path: 'second' }, t.sibling());
    // Another engine's registration is seen at the next listing (within 250 ms of a miss).
    await until(async () => (await t.engine.triggerWebhook('second', 'POST', {})).length === 1, 5000, 'the other engine’s webhook');
  });
});

describe('bad input', () => {
  const deepArray = '['.repeat(10_000) + ']'.repeat(10_000);
  const deepObject = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);

  it.each<[string, unknown]>([
    ['null request', null],
    ['undefined request', undefined],
    ['a string request', 'POST /hook'],
    ['a numeric path', { path: 42, method: 'POST', rawBody: '' }],
    ['a null method', { path: 'open', method: null, rawBody: '' }],
    ['a method that is no HTTP token', { path: 'open', method: 'PO ST\r\n', rawBody: '' }],
    ['a null body', { path: 'open', method: 'POST', rawBody: null }],
    ['an object body', { path: 'open', method: 'POST', rawBody: { a: 1 } }],
    ['string headers', { path: 'open', method: 'POST', rawBody: '', headers: 'x-spane-signature: 1' }],
    ['a numeric header', { path: 'open', method: 'POST', rawBody: '', headers: { 'x-spane-signature': 5 } }],
  ])('handleWebhook refuses %s with a 400 WebhookRequestError', async (_, request) => {
    setup();
    await register('open', { path: 'open' });
    expect(await refusal(t.engine.handleWebhook(request as WebhookRequest))).toMatchObject({ code: 'WEBHOOK_REQUEST_INVALID', httpStatus: 400 });
    expect(await t.store.listExecutions()).toEqual([]);
  });

  it.each<[string, unknown[]]>([
    ['a null path', [null, 'POST', {}]],
    ['a numeric method', ['open', 42, {}]],
    ['an empty method', ['open', '', {}]],
  ])('triggerWebhook refuses %s with a 400 WebhookRequestError', async (_, args) => {
    setup();
    await register('open', { path: 'open' });
    const call = (t.engine.triggerWebhook as (...a: unknown[]) => Promise<string[]>).apply(t.engine, args);
    expect(await refusal(call)).toMatchObject({ code: 'WEBHOOK_REQUEST_INVALID', httpStatus: 400 });
  });

  it('refuses every unusable body with 400, never a 500', async () => {
    setup();
    await register('open', { path: 'open' });
    for (const rawBody of [deepArray, deepObject, '{"a":', '\u0000']) {
      expect(await refusal(t.engine.handleWebhook({ path: 'open', method: 'POST', rawBody }))).toMatchObject({ code: 'INVALID_BODY', httpStatus: 400 });
    }
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    for (const body of [JSON.parse(deepObject), () => 1, 10n, cyclic, { when: Symbol('x') }]) {
      expect(await refusal(t.engine.triggerWebhook('open', 'POST', body))).toMatchObject({ code: 'INVALID_BODY', httpStatus: 400 });
    }
    expect(await t.store.listExecutions()).toEqual([]);
  });
});

describe('secret references', () => {
  it('resolves { env } at request time and stores only the reference', async () => {
    setup();
    const name = `SPANE_TEST_HOOK_${randomUUID().slice(0, 8).toUpperCase()}`;
    const value = `value-${randomUUID()}`;
    process.env[name] = value;
    const logger = memoryLogger();
    const engine = new WorkflowEngine({ registry: t.registry, store: t.store, ...t.link, config: { prefix: t.prefix }, logger });
    extra.push(engine);
    try {
      await register('env-hook', { path: 'env-hook', secret: { env: name } }, engine);
      expect(JSON.stringify(await t.store.getWorkflow('env-hook'))).not.toContain(value);
      const body = '{"x":1}';
      const signed: WebhookRequest = { path: 'env-hook', method: 'POST', rawBody: body, headers: { 'x-spane-signature': signWebhook(value, body) } };
      expect(await engine.handleWebhook(signed)).toHaveLength(1);
      delete process.env[name];
      const missing = await refusal(engine.handleWebhook({ ...signed, rawBody: '{"x":2}', headers: { 'x-spane-signature': signWebhook(value, '{"x":2}') } }));
      const forged = await refusal(engine.handleWebhook({ path: 'env-hook', method: 'POST', rawBody: body, headers: { 'x-spane-signature': signWebhook('nope', body) } }));
      expect(answer(missing)).toEqual(answer(forged));
      expect(logger.lines.some((l) => l.startsWith('warn') && l.includes(name))).toBe(true);
      expect(logger.lines.join('\n')).not.toContain(value);
    } finally {
      delete process.env[name];
    }
  });

  it('resolves { ref } with the engine’s resolveWebhookSecret', async () => {
    setup();
    const seen: [string, string][] = [];
    const engine = new WorkflowEngine({
      registry: t.registry,
      store: t.store,
      ...t.link,
      config: { prefix: t.prefix },
      logger: memoryLogger(),
      resolveWebhookSecret: async (ref, workflowId) => {
        seen.push([ref, workflowId]);
        return ref === 'stripe' ? 'resolved-secret' : undefined;
      },
    });
    extra.push(engine);
    await register('ref-hook', { path: 'ref-hook', secret: { ref: 'stripe' } }, engine);
    expect(JSON.stringify(await t.store.getWorkflow('ref-hook'))).not.toContain('resolved-secret');
    const body = '{}';
    expect(await engine.handleWebhook({ path: 'ref-hook', method: 'POST', rawBody: body, headers: { 'x-spane-signature': signWebhook('resolved-secret', body) } })).toHaveLength(1);
    expect(seen).toEqual([['stripe', 'ref-hook']]);
    await expect(
      t.engine.registerWorkflow(graph('bad-ref', [node('start', 'echo')], [], { triggers: [{ type: 'webhook', config: { path: 'x', secret: { env: '1 not a name' } } }] })),
    ).rejects.toThrow(/environment variable name/);
  });
});
