/**
 * The dashboard's JSON API and its safety rules, through the Fetch handler and through
 * toNodeListener on a real socket: listing with filters and pages, one execution with its
 * error, the DLQ and its retry, the event stream, tokens, loopback-only access and CSRF.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { createDashboard, toNodeListener } from '../../src/index.js';
import { graph, node, testEngine, until } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

const open: TestEngine[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.cleanup();
});

/** An engine whose `flaky` node fails until `healed.ok` is set. */
async function failingEngine() {
  const t = testEngine();
  open.push(t);
  const healed = { ok: false };
  t.registry.register('ok', async () => ({ success: true, data: { fine: true } }));
  t.registry.register('flaky', async () => (healed.ok ? { success: true, data: { healed: true } } : { success: false, error: 'upstream down' }));
  await t.engine.registerWorkflow(graph('orders', [node('fetch', 'ok'), node('charge', 'flaky', { retryPolicy: { maxAttempts: 1 } })], ['fetch->charge']));
  await t.engine.registerWorkflow(graph('plain', [node('only', 'ok')], []));
  t.engine.startWorkers(2);
  return { t, healed };
}

const local = (path: string, init: RequestInit = {}) => new Request(`http://127.0.0.1:4545${path}`, init);
const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
  local(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-spane-csrf': '1', ...headers }, ...(body !== undefined && { body: JSON.stringify(body) }) });

describe('dashboard API', () => {
  it('shows a failed node with its error, lists the DLQ item, and retries it to completion', async () => {
    const { t, healed } = await failingEngine();
    const dash = createDashboard(t.engine);
    const id = await t.engine.enqueueWorkflow('orders', { order: 7 });
    expect((await t.engine.waitForExecution(id)).status).toBe('failed');

    const list = await dash(local('/api/executions?workflowId=orders'));
    expect(list.headers.get('cache-control')).toBe('no-store');
    const page = (await list.json()) as { executions: { executionId: string; status: string }[]; counts: Record<string, number> };
    expect(page.executions.map((e) => e.executionId)).toEqual([id]);
    expect(page.counts.failed).toBe(1);

    const detail = (await (await dash(local(`/api/executions/${id}`))).json()) as {
      execution: { status: string; nodeResults: Record<string, { status: string; error?: string; errorDetails?: unknown }> };
      graph: { nodes: { id: string }[] };
    };
    expect(detail.execution.status).toBe('failed');
    expect(detail.execution.nodeResults['charge']).toMatchObject({ status: 'failed', error: 'upstream down' });
    expect(detail.graph.nodes.map((n) => n.id)).toEqual(['fetch', 'charge']);

    await until(async () => ((await (await dash(local('/api/dlq?workflowId=orders'))).json()) as { items: unknown[] }).items.length === 1, 10_000, 'the DLQ item');
    const { items } = (await (await dash(local('/api/dlq?workflowId=orders'))).json()) as { items: { jobId: string; nodeId: string }[] };
    expect(items[0]!.nodeId).toBe('charge');

    healed.ok = true;
    const retried = (await (await dash(post('/api/dlq/retry', { ids: [items[0]!.jobId] }))).json()) as { results: { retried: boolean }[] };
    expect(retried.results).toEqual([{ id: items[0]!.jobId, retried: true }]);
    expect((await t.engine.waitForExecution(id)).status).toBe('completed');
  });

  it('filters by workflow, status and id, pages, and counts per status', async () => {
    const { t } = await failingEngine();
    const dash = createDashboard(t.engine);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await t.engine.enqueueWorkflow('plain', { i }));
    const failed = await t.engine.enqueueWorkflow('orders', {});
    for (const id of [...ids, failed]) await t.engine.waitForExecution(id);

    type Page = { executions: { executionId: string; workflowId: string; status: string }[]; nextCursor?: string; total: number; counts: Record<string, number> };
    const get = async (qs: string) => (await (await dash(local(`/api/executions?${qs}`))).json()) as Page;
    const all = await get('');
    expect(all.total).toBe(6);
    expect(all.counts).toMatchObject({ completed: 5, failed: 1, running: 0 });
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await get(`workflowId=plain&pageSize=2${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
      sizes.push(page.executions.length);
      seen.push(...page.executions.map((e) => e.executionId));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen.sort()).toEqual([...ids].sort());
    const onlyFailed = await get('status=failed');
    expect(onlyFailed.executions.map((e) => e.executionId)).toEqual([failed]);
    expect(onlyFailed.total).toBe(1);
    expect(onlyFailed.counts.completed).toBe(5);
    expect((await get(`search=${ids[2]!.slice(0, 13)}`)).executions.map((e) => e.executionId)).toContain(ids[2]);
    expect((await get('workflowId=plain&version=2')).total).toBe(0);
    expect((await get(`from=${Date.now() + 60_000}`)).total).toBe(0);

    const bad = await dash(local('/api/executions?status=exploded'));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await dash(local('/api/executions?pageSize=100000'))).status).toBe(400);
    const badCursor = await dash(local('/api/executions?cursor=not-a-cursor'));
    expect(badCursor.status).toBe(400);
    expect(await badCursor.json()).toMatchObject({ code: 'EXECUTION_QUERY_INVALID' });
  });

  it('lists workflows with versions and triggers, never a webhook secret', async () => {
    const t = testEngine();
    open.push(t);
    t.registry.register('ok', async () => ({ success: true, data: 1 }));
    await t.engine.registerWorkflow(
      graph('hooked', [node('only', 'ok')], [], {
        triggers: [
          { type: 'webhook', config: { path: 'in', method: 'POST', secret: 'hunter2-hunter2' } },
          { type: 'schedule', config: { cron: '0 3 * * *' } },
        ],
      }),
    );
    const res = await createDashboard(t.engine)(local('/api/workflows'));
    const text = await res.text();
    expect(text).not.toContain('hunter2');
    const { workflows } = JSON.parse(text) as { workflows: { graph: { workflowId: string; triggers: unknown[] }; versions: unknown[]; schedules: { next?: number }[] }[] };
    expect(workflows[0]!.graph.triggers).toEqual([
      { type: 'webhook', path: 'in', method: 'POST', signed: true },
      { type: 'schedule', cron: '0 3 * * *' },
    ]);
    expect(workflows[0]!.versions).toHaveLength(1);
    expect(workflows[0]!.schedules[0]!.next).toBeGreaterThan(Date.now());
  });

  it('pauses, resumes and cancels through POSTs, and streams the execution events', async () => {
    const t = testEngine();
    open.push(t);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    t.registry.register('slow', async () => {
      await gate;
      return { success: true, data: 1 };
    });
    t.registry.register('ok', async () => ({ success: true, data: 2 }));
    await t.engine.registerWorkflow(graph('slowflow', [node('a', 'slow'), node('b', 'ok')], ['a->b']));
    t.engine.startWorkers(1);
    const dash = createDashboard(t.engine, { heartbeatMs: 1_000 });
    const id = await t.engine.enqueueWorkflow('slowflow', {});

    const controller = new AbortController();
    const stream = await dash(local(`/api/events?executionId=${id}`, { signal: controller.signal }));
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    await t.engine.eventsReady();
    const reader = stream.body!.getReader();
    // The session is subscribed once it has written its first bytes.
    let seen = new TextDecoder().decode((await reader.read()).value);
    await until(async () => (await t.engine.getExecution(id))?.status === 'running', 10_000, 'running');
    expect(await (await dash(post(`/api/executions/${id}/pause`))).json()).toEqual({ done: true });
    expect(await (await dash(post(`/api/executions/${id}/resume`))).json()).toEqual({ done: true });
    while (!/event: ?workflow:resumed/.test(seen)) seen += new TextDecoder().decode((await reader.read()).value);
    expect(seen).toMatch(/event: ?workflow:paused/);
    controller.abort();
    await reader.cancel();
    expect(await (await dash(post(`/api/executions/${id}/cancel`))).json()).toEqual({ done: true });
    release();
    expect((await t.engine.waitForExecution(id)).status).toBe('cancelled');
  });
});

describe('dashboard execution detail', () => {
  it('announces claim-checked payloads and loads them on demand', async () => {
    const t = testEngine({ config: { payloadThresholdBytes: 64 } });
    open.push(t);
    const big = 'x'.repeat(500);
    t.registry.register('big', async () => ({ success: true, data: { big } }));
    await t.engine.registerWorkflow(graph('bulky', [node('make', 'big')], []));
    t.engine.startWorkers(1);
    const id = await t.engine.enqueueWorkflow('bulky', { note: 'y'.repeat(200) });
    await t.engine.waitForExecution(id);
    const dash = createDashboard(t.engine);
    const res = await dash(local(`/api/executions/${id}`));
    const text = await res.text();
    expect(text).not.toContain(big);
    const detail = JSON.parse(text) as { execution: { initialDataRef?: boolean; nodeResults: Record<string, { dataRef?: boolean }> } };
    expect(detail.execution.initialDataRef).toBe(true);
    expect(detail.execution.nodeResults['make']!.dataRef).toBe(true);
    expect(await (await dash(local(`/api/executions/${id}/payload?nodeId=make`))).json()).toEqual({ data: { big } });
    expect(await (await dash(local(`/api/executions/${id}/payload`))).json()).toEqual({ data: { note: 'y'.repeat(200) } });
    expect((await dash(local(`/api/executions/${id}/payload?nodeId=nope`))).status).toBe(404);
    expect((await dash(local('/api/executions/no-such-execution'))).status).toBe(404);
  });

  it('lists a sub-workflow child with the node that started it, and the child names its parent', async () => {
    const t = testEngine();
    open.push(t);
    t.registry.register('ok', async () => ({ success: true, data: { v: 1 } }));
    await t.engine.registerWorkflow(graph('child', [node('inner', 'ok')], []));
    await t.engine.registerWorkflow(graph('parent', [node('start', 'ok'), node('call', 'sub-workflow', { config: { workflowId: 'child' } })], ['start->call']));
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('parent', {});
    expect((await t.engine.waitForExecution(id)).status).toBe('completed');
    const dash = createDashboard(t.engine);
    const parent = (await (await dash(local(`/api/executions/${id}`))).json()) as { children: { executionId: string; parentNodeId: string; workflowId: string }[] };
    expect(parent.children).toHaveLength(1);
    expect(parent.children[0]).toMatchObject({ workflowId: 'child', parentNodeId: 'call' });
    const child = (await (await dash(local(`/api/executions/${parent.children[0]!.executionId}`))).json()) as { execution: { parentExecutionId: string } };
    expect(child.execution.parentExecutionId).toBe(id);
  });
});

describe('dashboard safety', () => {
  it('refuses POSTs without the CSRF header or from another origin, and GET for actions', async () => {
    const { t } = await failingEngine();
    const dash = createDashboard(t.engine);
    const id = await t.engine.enqueueWorkflow('plain', {});
    await t.engine.waitForExecution(id);
    const noHeader = await dash(local(`/api/executions/${id}/cancel`, { method: 'POST' }));
    expect(noHeader.status).toBe(403);
    const otherOrigin = await dash(post(`/api/executions/${id}/cancel`, undefined, { origin: 'http://evil.example' }));
    expect(otherOrigin.status).toBe(403);
    expect((await dash(local(`/api/executions/${id}/cancel`))).status).toBe(404);
    expect((await dash(post('/api/dlq/retry', { ids: 'all' }))).status).toBe(400);
  });

  it('without a token serves loopback only: a request for another host or from another peer is refused', async () => {
    const { t } = await failingEngine();
    const dash = createDashboard(t.engine);
    expect((await dash(local('/api/workflows'))).status).toBe(200);
    expect((await dash(new Request('http://10.1.2.3:4545/api/workflows'))).status).toBe(401);
    expect((await dash(new Request('http://spane.attacker.example/api/executions'))).status).toBe(401);
    expect((await dash(local('/api/workflows'), { remoteAddress: '10.1.2.3' })).status).toBe(401);
    expect((await dash(local('/api/workflows'), { remoteAddress: '::ffff:127.0.0.1' })).status).toBe(200);
  });

  it('on a non-loopback address refuses a request without the token, and serves one with it', async () => {
    const { t } = await failingEngine();
    const lan = Object.values(networkInterfaces())
      .flat()
      .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
    const token = 'correct-horse-battery';
    for (const [dash, host] of [
      [createDashboard(t.engine), lan],
      [createDashboard(t.engine, { token }), lan ?? '127.0.0.1'],
    ] as const) {
      if (host === undefined) continue; // no network interface but loopback: the Request-level test above covers it
      const server = createServer(toNodeListener(dash));
      await new Promise<void>((r) => server.listen(0, host, r));
      const { port } = server.address() as AddressInfo;
      try {
        const refused = await fetch(`http://${host}:${port}/api/executions`);
        expect(refused.status).toBe(401);
        expect(await refused.text()).not.toContain('executionId');
      } finally {
        server.close();
      }
    }
    const withToken = createDashboard(t.engine, { token });
    expect((await withToken(new Request('http://10.1.2.3/api/workflows', { headers: { authorization: `Bearer ${token}` } }))).status).toBe(200);
    expect((await withToken(new Request('http://10.1.2.3/api/workflows', { headers: { authorization: 'Bearer wrong-token-x' } }))).status).toBe(401);
    const login = await withToken(new Request(`http://10.1.2.3/?token=${token}`));
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await withToken(new Request('http://10.1.2.3/api/workflows', { headers: { cookie: cookie.split(';')[0]! } }))).status).toBe(200);
  });

  it('asks the authorize hook: false is 403, a throw 401', async () => {
    const { t } = await failingEngine();
    const dash = createDashboard(t.engine, {
      authorize: (req) => (req.headers.get('x-user') === 'admin' ? true : req.headers.get('x-user') === null ? Promise.reject(new Error('who')) : false),
    });
    expect((await dash(new Request('http://10.0.0.1/api/workflows', { headers: { 'x-user': 'admin' } }))).status).toBe(200);
    expect((await dash(new Request('http://10.0.0.1/api/workflows', { headers: { 'x-user': 'guest' } }))).status).toBe(403);
    expect((await dash(new Request('http://10.0.0.1/api/workflows'))).status).toBe(401);
  });

  it('refuses bad options with typed errors', async () => {
    const { t } = await failingEngine();
    expect(() => createDashboard(t.engine, { token: 'short' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => createDashboard(t.engine, { basePath: 'no-slash' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => createDashboard(t.engine, { authorize: 'yes' as never })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
