/**
 * The built-in `http` node against a real HTTP server on 127.0.0.1: a 4xx other than 408/429
 * fails after one attempt whatever the retry policy says, 5xx/408/429 are retried, and neither
 * the URL's query string nor the response body reaches the stored result, the DLQ, the events or
 * the execution log.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { http, workflow } from '../../src/index.js';
import type { SpaneEvent } from '../../src/index.js';
import { testEngine, until } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

const QUERY_SECRET = 'Q-SECRET-7f3a';
const BODY_SECRET = 'B-SECRET-91c2';

let server: Server;
let base: string;
/** Requests received, by status asked for. */
const hits = new Map<number, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const status = Number(new URL(req.url ?? '/', 'http://x').pathname.split('/').at(-1));
    hits.set(status, (hits.get(status) ?? 0) + 1);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `details ${BODY_SECRET}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

const retry3 = { retryPolicy: { maxAttempts: 3, backoff: { type: 'fixed', delay: 10 } } } as const;

describe('http node errors', () => {
  it.each([
    [404, 'Not Found', 1],
    [401, 'Unauthorized', 1],
    [408, 'Request Timeout', 3],
    [429, 'Too Many Requests', 3],
    [500, 'Internal Server Error', 3],
  ])('%i %s: %i attempt(s), a message without the query or the body', async (status, statusText, attempts) => {
    t = testEngine();
    hits.delete(status);
    const events: SpaneEvent[] = [];
    t.engine.subscribe((e) => events.push(e));
    await t.engine.eventsReady();
    const id = `http-${status}`;
    await t.engine.registerWorkflow(
      workflow(id)
        .then('call', http({ url: `${base}/v1/users/${status}?token=${QUERY_SECRET}#frag` }), retry3)
        .build(),
    );
    t.engine.startWorkers(1);
    const exec = await t.engine.enqueueWorkflow(id, {});
    const done = await t.engine.waitForExecution(exec, { timeoutMs: 20_000 });

    expect(done.status).toBe('failed');
    expect(hits.get(status)).toBe(attempts);
    const result = done.nodeResults['call'];
    expect(result).toMatchObject({ status: 'failed', attempts });
    expect(result?.error).toBe(`GET ${base}/v1/users/${status} -> ${status} ${statusText}`);
    const dlq = await t.engine.getDLQItems(0, -1);
    expect(dlq.map((i) => i.error)).toEqual([result?.error]);
    await until(() => events.some((e) => e.type === 'workflow:failed' && e.executionId === exec), 10_000, 'the workflow:failed event');
    const everything = JSON.stringify([done, dlq, events.filter((e) => e.executionId === exec), await t.store.getLogs(exec)]);
    expect(everything).not.toContain(QUERY_SECRET);
    expect(everything).not.toContain(BODY_SECRET);
    expect(everything).not.toContain('#frag');
  });
});
