/**
 * Quick start: a two-node workflow (fetch JSON over HTTP, then stamp it) run end to end.
 *
 *   npm run example
 *
 * Needs Redis on 127.0.0.1:6379, or set REDIS_URL. No internet is needed: the script serves the
 * JSON it fetches from a throwaway HTTP server on a free loopback port.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { InMemoryExecutionStore, NodeRegistry, WorkflowEngine } from '../src/index.js';
import type { ExecutionContext, ExecutionResult, INodeExecutor, WorkflowDefinition } from '../src/index.js';

// The "remote API" the http node calls. Binding to port 0 lets the OS pick a free port, so two
// runs side by side never collide.
const server = createServer((req, res) => {
  if (req.url === '/data') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ user: { id: 123, name: 'Ada' }, plan: 'pro' }));
    return;
  }
  res.writeHead(404).end();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const dataUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/data`;

// Executors are plain objects with an async execute(context). Whatever they return as `data`
// is stored as the node's result and handed to the node's children as their input.
class HttpExecutor implements INodeExecutor {
  async execute(context: ExecutionContext): Promise<ExecutionResult> {
    const { url, method = 'GET' } = context.nodeConfig || {};
    const response = await fetch(url, {
      method,
      body: method !== 'GET' ? JSON.stringify(context.inputData) : undefined,
      headers: { 'Content-Type': 'application/json' },
    });
    // Throwing (or returning success: false) counts as a failed attempt, subject to retryPolicy.
    if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}`);
    const data = await response.json();
    return { success: true, data };
  }
}

class TransformExecutor implements INodeExecutor {
  async execute(context: ExecutionContext): Promise<ExecutionResult> {
    // One parent, so inputData is exactly what the `fetch` node returned.
    const transformed = { ...context.inputData, processedAt: new Date().toISOString() };
    return { success: true, data: transformed };
  }
}

// The engine copies this connection for its queues and workers and never closes it: it stays
// ours to quit at the end.
const redisUrl = process.env['REDIS_URL'];
const redis = redisUrl ? new Redis(redisUrl) : new Redis();
// Fail fast with a hint instead of retrying forever when Redis is not there.
redis.on('error', () => undefined);
const reachable = await Promise.race([redis.ping().then(() => true, () => false), new Promise<boolean>((r) => setTimeout(r, 3000, false))]);
if (!reachable) {
  console.error(`Cannot reach Redis at ${redisUrl ?? '127.0.0.1:6379'}: start redis-server or set REDIS_URL.`);
  redis.disconnect();
  server.close();
  process.exit(1);
}

const registry = new NodeRegistry();
registry.register('http', new HttpExecutor());
registry.register('transform', new TransformExecutor());

// Single-process store: fine here because the workers run in this same process.
const stateStore = new InMemoryExecutionStore();
// Positional form; queues live under the default key prefix '{spane}'.
const engine = new WorkflowEngine(registry, stateStore, redis);

// `inputs` and `outputs` describe the same edges from both ends and must agree.
const workflow: WorkflowDefinition = {
  id: 'fetch-and-transform',
  name: 'Fetch and Transform',
  entryNodeId: 'fetch',
  nodes: [
    { id: 'fetch', type: 'http', config: { url: dataUrl }, inputs: [], outputs: ['transform'] },
    { id: 'transform', type: 'transform', config: {}, inputs: ['fetch'], outputs: [] },
  ],
};

let exitCode = 1;
try {
  await engine.registerWorkflow(workflow);
  engine.startWorkers(5);

  // Each run gets a fresh random execution id, and node job ids derive from it, so jobs left in
  // Redis by earlier runs can neither collide with nor stand in for this run's jobs.
  const executionId = await engine.enqueueWorkflow('fetch-and-transform', { userId: 123 });
  console.log('Started execution:', executionId);

  // Right after enqueueing, the execution is typically still running.
  const early = await stateStore.getExecution(executionId);
  console.log('Status right after enqueue:', early?.status);

  const execution = await engine.waitForExecution(executionId, { timeoutMs: 20_000 });
  console.log('Final status:', execution.status);
  for (const node of workflow.nodes) {
    const result = execution.nodeResults[node.id];
    console.log(`  ${node.id} [${result?.status ?? 'no result'}]:`, JSON.stringify(result?.data ?? result?.error));
  }
  if (execution.status === 'completed') exitCode = 0;
  else console.error(`Execution ended as '${execution.status}'${execution.error ? `: ${execution.error}` : ''}`);
} catch (err) {
  console.error('Quick start failed:', err);
} finally {
  await engine.close();
  await redis.quit();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
process.exit(exitCode);
