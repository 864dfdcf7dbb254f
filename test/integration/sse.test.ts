import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { eventsResponse, streamEvents } from '../../src/index.js';
import type { StreamEventsOptions } from '../../src/index.js';
import { graph, node, testEngine, until } from '../helpers.js';
import type { TestEngine } from '../helpers.js';
import { engineInternals } from '../../src/runtime/engine/test-hooks.js';

let t: TestEngine;
let closeServer: (() => Promise<void>) | undefined;
afterEach(async () => {
  await closeServer?.();
  closeServer = undefined;
  await t?.cleanup();
});

/** Serves `/events?executionId=...`; `/all` streams every execution; `extra` adds options (authorize). */
async function serve(t: TestEngine, extra: Omit<StreamEventsOptions, 'executionId' | 'all'> = {}): Promise<string> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const executionId = url.searchParams.get('executionId') ?? undefined;
    void streamEvents(t.engine, req, res, url.pathname === '/all' ? { ...extra, all: true } : { ...extra, executionId });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closeServer = () => new Promise((r) => server.close(() => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Reads SSE frames from a fetch body until `stop` says so. */
async function readFrames(body: ReadableStream<Uint8Array>, stop: (frames: string[]) => boolean): Promise<string[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const frames: string[] = [];
  while (!stop(frames)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    const parts = buffer.split('\n\n');
    buffer = parts.pop()!;
    frames.push(...parts.filter((p) => p.includes('data:')));
  }
  await reader.cancel();
  return frames;
}

describe('server-sent events', () => {
  it('streams one execution’s events to an HTTP client as text/event-stream', async () => {
    t = testEngine();
    t.registry.register('ok', async (ctx) => ({ success: true, data: ctx.nodeId }));
    await t.engine.registerWorkflow(graph('sse', [node('a', 'ok'), node('b', 'ok')], ['a->b']));
    const base = await serve(t);
    const id = await t.engine.enqueueWorkflow('sse', {});
    const res = await fetch(`${base}/events?executionId=${id}`);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    await until(() => engineInternals(t.engine).rt.events.subscriberCount === 1, 5000, 'subscription');
    await t.engine.eventsReady();
    t.engine.startWorkers(2);
    const frames = await readFrames(res.body!, (f) => f.some((x) => /event: ?workflow:completed/.test(x)));
    const types = frames.map((f) => /event: ?(\S+)/.exec(f)?.[1]);
    expect(types).toEqual(['node:started', 'node:completed', 'node:started', 'node:completed', 'workflow:completed']);
    const last = JSON.parse(/data: ?(.*)/.exec(frames.at(-1)!)![1]!);
    expect(last).toMatchObject({ type: 'workflow:completed', executionId: id, workflowId: 'sse' });
    expect(frames.at(-1)).toMatch(new RegExp(`id: ?${last.id}`));
  });

  it('leaves no subscription behind after 1,000 clients connect and go away', async () => {
    t = testEngine();
    const base = await serve(t);
    for (let i = 0; i < 1000; i++) {
      const controller = new AbortController();
      const res = await fetch(`${base}/all`, { signal: controller.signal });
      expect(res.status).toBe(200);
      controller.abort();
      await res.body?.cancel().catch(() => undefined);
    }
    await until(() => engineInternals(t.engine).rt.events.subscriberCount === 0, 10_000, 'every subscription to end');
    expect(engineInternals(t.engine).rt.events.subscriberCount).toBe(0);
  });

  it('serves the Fetch API with eventsResponse', async () => {
    t = testEngine();
    t.registry.register('ok', async () => ({ success: true }));
    await t.engine.registerWorkflow(graph('fetch-sse', [node('a', 'ok')], []));
    const id = await t.engine.enqueueWorkflow('fetch-sse', {});
    const response = eventsResponse(t.engine, new Request('http://localhost/events'), { executionId: id });
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    await t.engine.eventsReady();
    t.engine.startWorkers(1);
    const frames = await readFrames(response.body!, (f) => f.some((x) => x.includes('workflow:completed')));
    expect(frames.at(-1)).toMatch(/event: ?workflow:completed/);
  });

  it('refuses a request without executionId (400) unless all: true is explicit, and streams nothing', async () => {
    t = testEngine();
    t.registry.register('ok', async () => ({ success: true, data: 'secret output' }));
    await t.engine.registerWorkflow(graph('sse-all', [node('a', 'ok')], []));
    const base = await serve(t);
    const missing = await fetch(`${base}/events`);
    expect(missing.status).toBe(400);
    expect(missing.headers.get('content-type')).toMatch(/application\/json/);
    expect(await missing.json()).toMatchObject({ error: expect.stringMatching(/executionId/) });
    expect(engineInternals(t.engine).rt.events.subscriberCount).toBe(0);
    const empty = await fetch(`${base}/events?executionId=`);
    expect(empty.status).toBe(400);
    expect(eventsResponse(t.engine, new Request('http://localhost/events'), {}).status).toBe(400);

    const all = await fetch(`${base}/all`);
    expect(all.status).toBe(200);
    await until(() => engineInternals(t.engine).rt.events.subscriberCount === 1, 5000, 'subscription');
    await t.engine.eventsReady();
    const id = await t.engine.enqueueWorkflow('sse-all', {});
    t.engine.startWorkers(1);
    const frames = await readFrames(all.body!, (f) => f.some((x) => x.includes('workflow:completed')));
    expect(frames.at(-1)).toContain(id);
  });

  it('asks authorize(req) first: false answers 403, a throw 401, and nothing is subscribed', async () => {
    t = testEngine();
    const seen: string[] = [];
    const base = await serve(t, {
      authorize: (req) => {
        seen.push(req.headers['authorization'] ?? '');
        if (req.headers['authorization'] === 'Bearer boom') throw new Error('token store down');
        return req.headers['authorization'] === 'Bearer good';
      },
    });
    const denied = await fetch(`${base}/events?executionId=x`, { headers: { authorization: 'Bearer bad' } });
    expect(denied.status).toBe(403);
    const failed = await fetch(`${base}/events?executionId=x`, { headers: { authorization: 'Bearer boom' } });
    expect(failed.status).toBe(401);
    expect(await failed.text()).not.toContain('token store down');
    expect(engineInternals(t.engine).rt.events.subscriberCount).toBe(0);
    const allowed = await fetch(`${base}/events?executionId=x`, { headers: { authorization: 'Bearer good' } });
    expect(allowed.status).toBe(200);
    await until(() => engineInternals(t.engine).rt.events.subscriberCount === 1, 5000, 'subscription');
    await allowed.body?.cancel();
    expect(seen).toEqual(['Bearer bad', 'Bearer boom', 'Bearer good']);

    const fetchDenied = await eventsResponse(t.engine, new Request('http://localhost/events'), { executionId: 'x', authorize: async () => false });
    expect(fetchDenied.status).toBe(403);
    const fetchAllowed = await eventsResponse(t.engine, new Request('http://localhost/events'), { executionId: 'x', authorize: async (r) => r.url.endsWith('/events') });
    expect(fetchAllowed.status).toBe(200);
    await fetchAllowed.body?.cancel();
  });

  it('ends the subscription of a Fetch response whose body is cancelled (the client went away)', async () => {
    t = testEngine();
    const response = eventsResponse(t.engine, new Request('http://localhost/events'), { executionId: 'gone', heartbeatMs: 20 });
    const reader = response.body!.getReader();
    await reader.read();
    await until(() => engineInternals(t.engine).rt.events.subscriberCount === 1, 5000, 'subscription');
    await reader.cancel();
    await until(() => engineInternals(t.engine).rt.events.subscriberCount === 0, 5000, 'the subscription to end');

    // Cancelled before the session connected (the next turn of the event loop): no write to the
    // closed stream, and the subscription made on connecting ends too.
    const early = eventsResponse(t.engine, new Request('http://localhost/events'), { executionId: 'gone', heartbeatMs: 20 });
    await early.body!.cancel();
    await new Promise((r) => setImmediate(r));
    await until(() => engineInternals(t.engine).rt.events.subscriberCount === 0, 5000, 'the early subscription to end');
  });
});
