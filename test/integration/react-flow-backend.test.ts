import { afterEach, describe, expect, it } from 'vitest';
import { createApp, listen, registerDemoExecutors } from '../../examples/react-flow-backend.js';
import type { RunningServer } from '../../examples/react-flow-backend.js';
import { signWebhook } from '../../src/index.js';
import type { DLQItem, ReactFlowGraph, WorkflowExecution } from '../../src/index.js';
import { testEngine, until } from '../helpers.js';
import type { TestEngine } from '../helpers.js';
import { engineInternals } from '../../src/runtime/engine/test-hooks.js';

/** A JSON body as the server sent it; the assertions read it by path and check it with `expect`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- typing every response shape would add nothing the assertions do not check
type Json = any;

let t: TestEngine | undefined;
let server: RunningServer | undefined;
let logged: string[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  await t?.cleanup();
  t = undefined;
  logged = [];
});

/** An engine with the demo executors (plus test ones) and the app served on a free port. */
async function start(options: { webhookSecret?: string; workers?: boolean } = {}): Promise<{ t: TestEngine; base: string }> {
  t = testEngine();
  registerDemoExecutors(t.registry, { log: (line) => logged.push(line) });
  server = await listen(createApp({ engine: t.engine, webhookSecret: options.webhookSecret, onUnexpectedError: () => undefined }), { port: 0 });
  if (options.workers !== false) t.engine.startWorkers(2);
  return { t, base: server.url };
}

async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Json }> {
  const init: RequestInit = { method, headers: { 'content-type': 'application/json', ...headers } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
}

/** Reads SSE frames until `stop` says so, then closes the stream. */
async function readFrames(body: ReadableStream<Uint8Array>, stop: (frames: { event: string; data: Json }[]) => boolean): Promise<{ event: string; data: Json }[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const frames: { event: string; data: Json }[] = [];
  while (!stop(frames)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    const parts = buffer.split('\n\n');
    buffer = parts.pop()!;
    for (const p of parts) {
      const data = /^data: ?(.*)$/m.exec(p)?.[1];
      if (data !== undefined) frames.push({ event: /^event: ?(.*)$/m.exec(p)?.[1] ?? 'message', data: JSON.parse(data) });
    }
  }
  await reader.cancel();
  return frames;
}

async function settled(base: string, executionId: string): Promise<WorkflowExecution> {
  let exec: WorkflowExecution | undefined;
  await until(
    async () => {
      exec = (await call(base, 'GET', `/api/executions/${executionId}`)).json as WorkflowExecution;
      return ['completed', 'failed', 'cancelled'].includes(exec.status);
    },
    15_000,
    `execution ${executionId} to settle`,
  );
  return exec!;
}

/** What a React Flow editor would send: positions, labels, renderer types, edge ids and handles. */
const editorGraph: ReactFlowGraph = {
  nodes: [
    { id: 'start', type: 'input', position: { x: 0, y: 0 }, data: { type: 'transform', label: 'Pick user', config: { mapping: { name: 'user.name' } } } },
    { id: 'greet', position: { x: 0, y: 100 }, data: { type: 'transform', label: 'Greet', config: { set: { greeted: true } } } },
    { id: 'print', type: 'output', position: { x: 0, y: 200 }, data: { type: 'log', label: 'Print', config: { message: 'done:' } } },
  ],
  edges: [
    { id: 'xy-edge__start-greet', source: 'start', target: 'greet', sourceHandle: null, targetHandle: null },
    { id: 'xy-edge__greet-print', source: 'greet', target: 'print' },
  ],
};

describe('React Flow backend example over HTTP', () => {
  it('creates a workflow from a React Flow graph, runs it, streams its events and returns the execution', async () => {
    const { t, base } = await start({ workers: false });
    const created = await call(base, 'POST', '/api/workflows', { id: 'rf-greet', name: 'Greet', ...editorGraph });
    expect(created.status).toBe(201);
    expect(created.json.version).toBe(1);
    expect(created.json.definition).toMatchObject({ id: 'rf-greet', name: 'Greet', entryNodeId: 'start' });
    expect(created.json.definition.nodes.map((n: { id: string; inputs: string[] }) => [n.id, n.inputs])).toEqual([
      ['start', []],
      ['greet', ['start']],
      ['print', ['greet']],
    ]);

    // The stored workflow comes back as a React Flow graph, for the editor to load.
    const loaded = await call(base, 'GET', '/api/workflows/rf-greet');
    expect(loaded.json.graph.edges).toEqual([
      { id: 'start->greet', source: 'start', target: 'greet' },
      { id: 'greet->print', source: 'greet', target: 'print' },
    ]);
    expect(loaded.json.graph.nodes[1]).toMatchObject({ id: 'greet', data: { type: 'transform', label: 'Greet' }, position: { x: 250, y: 0 } });

    const run = await call(base, 'POST', '/api/workflows/rf-greet/execute', { initialData: { user: { name: 'Ada', id: 7 } } });
    expect(run.status).toBe(202);
    const { executionId } = run.json as { executionId: string };
    expect(run.json.events).toBe(`/api/executions/${executionId}/events`);

    // Workers start only once the stream is subscribed, so every event is seen.
    const res = await fetch(`${base}/api/executions/${executionId}/events`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    await until(() => engineInternals(t.engine).rt.events.subscriberCount === 1, 5000, 'subscription');
    await t.engine.eventsReady();
    t.engine.startWorkers(2);
    const frames = await readFrames(res.body!, (f) => f.some((x) => x.event === 'workflow:completed'));
    expect(frames.map((f) => `${f.event}${f.data.nodeId ? ` ${f.data.nodeId}` : ''}`)).toEqual([
      'node:started start',
      'node:completed start',
      'node:started greet',
      'node:completed greet',
      'node:started print',
      'node:completed print',
      'workflow:completed',
    ]);
    expect(frames.every((f) => f.data.executionId === executionId)).toBe(true);

    const exec = (await call(base, 'GET', `/api/executions/${executionId}`)).json as WorkflowExecution;
    expect(exec.status).toBe('completed');
    expect(exec.nodeResults['print']!.data).toEqual({ name: 'Ada', greeted: true });
    expect(logged).toEqual([`[rf-greet/${executionId.slice(0, 8)}/print] done: {"name":"Ada","greeted":true}`]);
    // The stream's subscription ends with the client.
    await until(() => engineInternals(t.engine).rt.events.subscriberCount === 0, 5000, 'the subscription to end');
  });

  it('ends a late event stream with the stored outcome, and streams a whole workflow when subscribed first', async () => {
    const { t, base } = await start();
    await call(base, 'POST', '/api/workflows', { id: 'rf-late', ...editorGraph });
    const first = (await call(base, 'POST', '/api/workflows/rf-late/execute', { initialData: { user: { name: 'Bo' } } })).json.executionId as string;
    await settled(base, first);
    const late = await fetch(`${base}/api/executions/${first}/events`);
    const lateFrames = await readFrames(late.body!, (f) => f.length > 0);
    expect(lateFrames).toEqual([{ event: 'workflow:completed', data: expect.objectContaining({ executionId: first, workflowId: 'rf-late', data: { replayed: true } }) }]);

    // Subscribing to the workflow before executing misses nothing of the new execution.
    const stream = await fetch(`${base}/api/workflows/rf-late/events`);
    await until(() => engineInternals(t.engine).rt.events.subscriberCount === 1, 5000, 'subscription');
    await t.engine.eventsReady();
    const second = (await call(base, 'POST', '/api/workflows/rf-late/execute', { initialData: { user: { name: 'Cy' } } })).json.executionId as string;
    const frames = await readFrames(stream.body!, (f) => f.some((x) => x.event === 'workflow:completed'));
    expect(frames[0]).toMatchObject({ event: 'workflow:started', data: { executionId: second } });
    expect(frames[1]).toMatchObject({ event: 'node:started', data: { executionId: second, nodeId: 'start' } });
    expect(frames).toHaveLength(8);
  });

  it('answers 400 with every issue for an invalid graph, and 404 for unknown ids', async () => {
    const { base } = await start();
    const bad = await call(base, 'POST', '/api/workflows', {
      id: 'rf-bad',
      nodes: [
        { id: 'a', data: { type: 'log' } },
        { id: 'b', data: { type: 'no-such-executor' } },
        { id: 'c', data: { type: 'log' } },
      ],
      edges: [
        { source: 'a', target: 'b' },
        { id: 'dangling', source: 'b', target: 'ghost' },
      ],
    });
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe('WORKFLOW_VALIDATION');
    expect(bad.json.issues.map((i: { rule: string }) => i.rule).sort()).toEqual(['missing-entry', 'missing-node']);
    expect(bad.json.issues.find((i: { rule: string }) => i.rule === 'missing-entry').message).toContain('a, c');

    // The converter passes; registration then refuses the type nobody can run.
    const unknownType = await call(base, 'POST', '/api/workflows', { id: 'rf-unknown', nodes: [{ id: 'a', data: { type: 'no-such-executor' } }], edges: [] });
    expect(unknownType.status).toBe(400);
    expect(unknownType.json.issues).toEqual([expect.objectContaining({ rule: 'unknown-type' })]);

    expect((await call(base, 'POST', '/api/workflows', '{not json')).status).toBe(400);
    expect((await call(base, 'POST', '/api/workflows', { nodes: [] })).status).toBe(400);
    expect((await call(base, 'POST', '/api/workflows/nope/execute', {})).json.code).toBe('WORKFLOW_NOT_FOUND');
    expect((await call(base, 'GET', '/api/executions/nope')).status).toBe(404);
    expect((await call(base, 'GET', '/api/executions/nope/events')).status).toBe(404);
    expect((await call(base, 'GET', '/api/workflows/nope')).status).toBe(404);
    expect((await call(base, 'POST', '/api/dlq/nope/retry')).status).toBe(404);
    expect((await call(base, 'GET', '/api/nothing-here')).status).toBe(404);
  });

  it('starts a run from a correctly signed webhook and refuses a bad signature with 401', async () => {
    const secret = 'shh-test-secret';
    const { t, base } = await start({ webhookSecret: secret });
    const created = await call(base, 'POST', '/api/workflows', {
      id: 'rf-hook',
      ...editorGraph,
      triggers: [{ type: 'webhook', config: { path: 'signup/new', method: 'POST' } }],
    });
    expect(created.status).toBe(201);
    // The server's secret was given to the trigger, but is not echoed back.
    expect(created.json.definition.triggers[0].config.secret).toBe('[redacted]');
    expect((await t.engine.getWorkflow('rf-hook'))!.triggers![0]!.config).toMatchObject({ secret });

    const payload = JSON.stringify({ user: { name: 'Dee' } });
    const good = await call(base, 'POST', '/api/webhooks/signup/new', payload, { 'x-spane-signature': signWebhook(secret, payload) });
    expect(good.status).toBe(202);
    expect(good.json.executionIds).toHaveLength(1);
    const exec = await settled(base, good.json.executionIds[0]);
    expect(exec).toMatchObject({ status: 'completed', workflowId: 'rf-hook', initialData: { user: { name: 'Dee' } } });
    expect(exec.nodeResults['print']!.data).toEqual({ name: 'Dee', greeted: true });

    const forged = await call(base, 'POST', '/api/webhooks/signup/new', payload, { 'x-spane-signature': signWebhook('wrong-secret', payload) });
    expect(forged.status).toBe(401);
    expect(forged.json.code).toBe('WEBHOOK_SIGNATURE');
    const unsigned = await call(base, 'POST', '/api/webhooks/signup/new', payload);
    expect(unsigned.status).toBe(401);
    // A body changed after signing is refused too.
    const tampered = await call(base, 'POST', '/api/webhooks/signup/new', JSON.stringify({ user: { name: 'Eve' } }), { 'x-spane-signature': signWebhook(secret, payload) });
    expect(tampered.status).toBe(401);
    // An unknown path gets exactly the answer a bad signature gets: it does not say which paths exist.
    const unknown = await call(base, 'POST', '/api/webhooks/no/such/hook', payload);
    expect({ status: unknown.status, json: unknown.json }).toEqual({ status: forged.status, json: forged.json });
    // Only the signed request started anything.
    expect(await t.store.listExecutions?.({ workflowId: 'rf-hook' }).then((l) => l.length)).toBe(1);

    const big = 'x'.repeat(1024 * 1024 + 10);
    expect((await call(base, 'POST', '/api/webhooks/signup/new', big)).status).toBe(413);
  });

  it('lists a failed node in /api/dlq and retries it', async () => {
    const { t, base } = await start();
    let broken = true;
    t.registry.register('flaky', async () => (broken ? { success: false, error: 'upstream is down' } : { success: true, data: 'ok now' }));
    const graph: ReactFlowGraph = {
      nodes: [
        { id: 'fetch', data: { type: 'http', config: { url: `${base}/api/executions/does-not-exist` } } },
        { id: 'call', data: { type: 'flaky', retryPolicy: { maxAttempts: 2, backoff: { type: 'fixed', delay: 10 } } } },
      ],
      edges: [],
    };
    // Two workflows: an http node that gets a 404, and a flaky one that recovers.
    expect((await call(base, 'POST', '/api/workflows', { id: 'rf-404', nodes: [graph.nodes[0]], edges: [] })).status).toBe(201);
    expect((await call(base, 'POST', '/api/workflows', { id: 'rf-flaky', nodes: [graph.nodes[1]], edges: [] })).status).toBe(201);
    const failedHttp = (await call(base, 'POST', '/api/workflows/rf-404/execute', {})).json.executionId as string;
    const failedFlaky = (await call(base, 'POST', '/api/workflows/rf-flaky/execute', {})).json.executionId as string;
    expect((await settled(base, failedHttp)).status).toBe('failed');
    expect((await settled(base, failedFlaky)).status).toBe('failed');

    let items: DLQItem[] = [];
    await until(
      async () => {
        items = (await call(base, 'GET', '/api/dlq')).json.items;
        return items.length === 2;
      },
      10_000,
      'two DLQ items',
    );
    const byWorkflow = Object.fromEntries(items.map((i) => [i.workflowId, i]));
    expect(byWorkflow['rf-404']).toMatchObject({ executionId: failedHttp, nodeId: 'fetch', error: expect.stringContaining('answered 404') });
    expect(byWorkflow['rf-flaky']).toMatchObject({ executionId: failedFlaky, nodeId: 'call', attempts: 2, error: 'upstream is down' });
    expect((await call(base, 'GET', '/api/dlq?start=0&end=0')).json.items).toHaveLength(1);
    expect((await call(base, 'GET', '/api/dlq?start=-1')).status).toBe(400);

    broken = false;
    const retried = await call(base, 'POST', `/api/dlq/${encodeURIComponent(byWorkflow['rf-flaky']!.jobId)}/retry`);
    expect(retried).toEqual({ status: 200, json: { retried: true } });
    await until(async () => (await call(base, 'GET', `/api/executions/${failedFlaky}`)).json.status === 'completed', 10_000, 'the retried execution');
    expect((await call(base, 'GET', `/api/executions/${failedFlaky}`)).json.nodeResults.call.data).toBe('ok now');
    expect((await call(base, 'GET', '/api/dlq')).json.items.map((i: DLQItem) => i.workflowId)).toEqual(['rf-404']);
  });
});
