/** The built-in http kind against a local server, and defineHttpNode's response validation. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineHttpNode, http, HttpError, NodeOutputError, NonRetryableError, NonRetryableHttpError } from '../../src/index.js';
import type { ExecutionContext } from '../../src/index.js';

let baseUrl = '';
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    if (req.url === '/fail') return void res.writeHead(503).end('down');
    if (req.url?.startsWith('/missing')) return void res.writeHead(404).end('no such user');
    if (req.url === '/empty') return void res.writeHead(204).end();
    if (req.url === '/text') return void res.writeHead(200).end('not json');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, url: req.url, body: body === '' ? null : JSON.parse(body), auth: req.headers['authorization'] ?? null }));
  });
});
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function run(nodeConfig: Record<string, unknown>, inputData: unknown, executor = http.executor!) {
  const ctx: ExecutionContext = {
    workflowId: 'w',
    executionId: 'e',
    nodeId: 'call',
    nodeType: 'http',
    inputData,
    nodeConfig,
    previousResults: {},
    initialData: undefined,
    attempt: 1,
    idempotencyKey: 'e:call',
    depth: 0,
  };
  return executor.execute(ctx);
}

describe('http node', () => {
  it('GETs and returns the parsed JSON, without sending the input', async () => {
    expect(await run({ url: `${baseUrl}/a` }, { ignored: true })).toEqual({ success: true, data: { method: 'GET', url: '/a', body: null, auth: null } });
  });

  it('sends the input as a JSON body with headers for POST', async () => {
    const result = await run({ url: `${baseUrl}/b`, method: 'POST', headers: { authorization: 'Bearer t' } }, { id: 1 });
    expect(result.data).toEqual({ method: 'POST', url: '/b', body: { id: 1 }, auth: 'Bearer t' });
  });

  it('throws on a non-2xx answer (retryable) and on a body that is not JSON; returns null for an empty body', async () => {
    const failed = await run({ url: `${baseUrl}/fail` }, null).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(HttpError);
    expect(failed).not.toBeInstanceOf(NonRetryableError);
    expect(failed).toMatchObject({ code: 'HTTP_ERROR', status: 503, message: `GET ${baseUrl}/fail -> 503 Service Unavailable` });
    await expect(run({ url: `${baseUrl}/text` }, null)).rejects.toThrow(/-> 200 OK: the body is not JSON$/);
    expect(await run({ url: `${baseUrl}/empty` }, null)).toEqual({ success: true, data: null });
  });

  it('a 4xx other than 408/429 is a NonRetryableHttpError; its message has neither the query string nor the body', async () => {
    const err = await run({ url: `${baseUrl}/missing?token=SECRET&x=1`, method: 'POST' }, { card: 'SECRET' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonRetryableHttpError);
    expect(err).toBeInstanceOf(NonRetryableError);
    expect(err).toMatchObject({ code: 'HTTP_ERROR', status: 404, method: 'POST', url: `${baseUrl}/missing`, retryable: false });
    expect((err as Error).message).toBe(`POST ${baseUrl}/missing -> 404 Not Found`);
    expect((err as Error).stack).not.toMatch(/SECRET|no such user/);
  });

  it('defineHttpNode validates the response against its output schema', async () => {
    const typed = defineHttpNode({ type: 'typed-call', output: z.object({ method: z.literal('GET') }) });
    expect((await run({ url: `${baseUrl}/ok` }, null, typed.executor!)).data).toEqual({ method: 'GET' });
    const strict = defineHttpNode({ type: 'strict-call', output: z.object({ method: z.literal('PUT') }) });
    const refused = await run({ url: `${baseUrl}/ok?token=SECRET` }, null, strict.executor!).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(NodeOutputError);
    // The response is not copied into the error: neither the refused value nor the query string.
    expect(refused).toMatchObject({ path: 'method', received: '(not shown: part of the response)' });
    expect(JSON.stringify({ message: (refused as Error).message, stack: (refused as Error).stack })).not.toMatch(/"GET"|\\"GET\\"|SECRET/);
  });
});
