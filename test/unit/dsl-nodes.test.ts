/** The built-in http kind against a local server, and defineHttpNode's response validation. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineHttpNode, http, NodeOutputError } from '../../src/index.js';
import type { ExecutionContext } from '../../src/index.js';

let baseUrl = '';
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    if (req.url === '/fail') return void res.writeHead(503).end('down');
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
  const ctx: ExecutionContext = { workflowId: 'w', executionId: 'e', nodeId: 'call', nodeType: 'http', inputData, nodeConfig, previousResults: {}, initialData: undefined, attempt: 1, idempotencyKey: 'e:call', depth: 0 };
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
    await expect(run({ url: `${baseUrl}/fail` }, null)).rejects.toThrow(/GET .*\/fail answered 503: down/);
    await expect(run({ url: `${baseUrl}/text` }, null)).rejects.toThrow(/not JSON/);
    expect(await run({ url: `${baseUrl}/empty` }, null)).toEqual({ success: true, data: null });
  });

  it('defineHttpNode validates the response against its output schema', async () => {
    const typed = defineHttpNode({ type: 'typed-call', output: z.object({ method: z.literal('GET') }) });
    expect((await run({ url: `${baseUrl}/ok` }, null, typed.executor!)).data).toEqual({ method: 'GET' });
    const strict = defineHttpNode({ type: 'strict-call', output: z.object({ method: z.literal('PUT') }) });
    await expect(run({ url: `${baseUrl}/ok` }, null, strict.executor!)).rejects.toBeInstanceOf(NodeOutputError);
  });
});
