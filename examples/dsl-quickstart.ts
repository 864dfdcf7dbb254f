/**
 * Quick start, written with the typed DSL: call an HTTP API for a user, then stamp the result.
 * The same workflow as examples/quickstart.ts, but every edge is checked at compile time and
 * every node's input and output is parsed with zod in the worker.
 *
 *   npx tsx examples/dsl-quickstart.ts
 *
 * Needs Redis (REDIS_URL, default redis://127.0.0.1:6379). No internet: the "API" is a throwaway
 * HTTP server on a free loopback port.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { defineHttpNode, InMemoryExecutionStore, nodeOutput, NodeRegistry, transform, workflow, WorkflowEngine } from '../src/index.js';
import { isMain, redisReachable, redisUrl } from './dsl-support.js';

const User = z.object({ id: z.number(), name: z.string(), plan: z.enum(['free', 'pro']) });

/** An http node kind whose response is checked against `User` (so its children get a typed value). */
const fetchUser = defineHttpNode({ type: 'fetch-user', input: z.object({ userId: z.number() }), output: User });

/** A pure function as a node: its type is `transform:stamp`, its code travels with the built workflow. */
const stamp = transform('stamp', (user: z.infer<typeof User>) => ({ ...user, processedAt: new Date().toISOString() }));

/** The workflow, for an API at `apiUrl`. */
export function buildQuickstart(apiUrl: string) {
  return workflow('dsl-quickstart', { input: z.object({ userId: z.number() }), description: 'Fetch a user over HTTP, then stamp it.' })
    .node('fetch', fetchUser({ url: `${apiUrl}/users/lookup`, method: 'POST' }), { retryPolicy: { maxAttempts: 3, backoff: { type: 'exponential', delay: 200 } } })
    .then('stamp', stamp)
    .build();
}

/** The workflow as documented (docs/workflows/dsl-quickstart.md); the run below uses the real port. */
export const quickstart = buildQuickstart('http://127.0.0.1:3000');

async function main(): Promise<number> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const { userId } = JSON.parse(body || '{}') as { userId?: number };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: userId, name: 'Ada', plan: 'pro', internal: 'dropped by the output schema' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  if (!(await redisReachable())) {
    console.error(`Cannot reach Redis at ${redisUrl}: start redis-server or set REDIS_URL.`);
    server.close();
    return 1;
  }
  const engine = new WorkflowEngine({ registry: new NodeRegistry(), store: new InMemoryExecutionStore(), connection: redisUrl });
  try {
    const flow = buildQuickstart(apiUrl);
    // Registers the definition and the executors its node kinds carry (fetch-user, transform:stamp).
    await engine.registerWorkflow(flow);
    engine.startWorkers(5);
    const executionId = await engine.enqueueWorkflow(flow.id, { userId: 123 });
    const execution = await engine.waitForExecution(executionId, { timeoutMs: 20_000 });
    console.log(`Execution ${executionId}: ${execution.status}`);
    // Typed from the builder: { id: number; name: string; plan: 'free' | 'pro'; processedAt: string } | undefined
    const stamped = nodeOutput(flow, execution, 'stamp');
    console.log('  fetch:', JSON.stringify(nodeOutput(flow, execution, 'fetch')));
    console.log('  stamp:', JSON.stringify(stamped));
    return execution.status === 'completed' && stamped?.plan === 'pro' ? 0 : 1;
  } finally {
    await engine.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

if (isMain(import.meta.url)) process.exit(await main());
