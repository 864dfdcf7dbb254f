/**
 * Quick start: a two-node workflow (fetch JSON, then stamp it) with its executors.
 *
 *   npx spane run examples/quickstart.ts    # or: npm run demo. No Redis, no PostgreSQL needed
 *   npm run example                          # the same workflow, wired by hand against Redis
 *
 * The module exports what the `spane` command looks for (`workflows`, `executors`, `input`; see
 * docs/cli.md), and runs itself only when started directly. No internet is needed: the fetch node
 * reads a `data:` URL; put the URL of any JSON API there instead.
 */
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { InMemoryExecutionStore, NodeRegistry, WorkflowEngine } from 'spane';
import type { ExecutionContext, ExecutionResult, INodeExecutor, WorkflowDefinition } from 'spane';

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

/** What the "remote API" answers: a `data:` URL is fetched like any other, without a network. */
const dataUrl = `data:application/json,${encodeURIComponent(JSON.stringify({ user: { id: 123, name: 'Ada' }, plan: 'pro' }))}`;

// `inputs` and `outputs` describe the same edges from both ends and must agree.
const fetchAndTransform: WorkflowDefinition = {
  id: 'fetch-and-transform',
  name: 'Fetch and Transform',
  entryNodeId: 'fetch',
  nodes: [
    { id: 'fetch', type: 'http', config: { url: dataUrl, retryPolicy: { maxAttempts: 3, backoff: { type: 'exponential', delay: 200 } } }, inputs: [], outputs: ['transform'] },
    { id: 'transform', type: 'transform', config: {}, inputs: ['fetch'], outputs: [] },
  ],
};

/** The workflows `spane run` registers (it runs the only one). */
export const workflows = [fetchAndTransform];
/** Executors by node type. */
export const executors = { http: new HttpExecutor(), transform: new TransformExecutor() };
/** What `spane run` starts the execution with when `--input` is not given. */
export const input = { userId: 123 };

/** Runs the workflow against Redis with an engine built by hand (`npm run example`). */
async function main(): Promise<number> {
  // The engine copies this connection for its queues and workers and never closes it: it stays
  // ours to quit at the end.
  const redisUrl = process.env['REDIS_URL'];
  const redis = redisUrl ? new Redis(redisUrl) : new Redis();
  // Fail fast with a hint instead of retrying forever when Redis is not there.
  redis.on('error', () => undefined);
  const reachable = await Promise.race([
    redis.ping().then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((r) => setTimeout(r, 3000, false)),
  ]);
  if (!reachable) {
    console.error(`Cannot reach Redis at ${redisUrl ?? '127.0.0.1:6379'}: start redis-server, set REDIS_URL, or run \`npx spane run examples/quickstart.ts\` (no Redis needed).`);
    redis.disconnect();
    return 1;
  }

  const registry = new NodeRegistry();
  for (const [type, executor] of Object.entries(executors)) registry.register(type, executor);

  // Single-process store: fine here because the workers run in this same process.
  const stateStore = new InMemoryExecutionStore();
  // Positional form; queues live under the default key prefix '{spane}'.
  const engine = new WorkflowEngine(registry, stateStore, redis);

  try {
    await engine.registerWorkflow(fetchAndTransform);
    engine.startWorkers(5);

    // Each run gets a fresh random execution id, and node job ids derive from it, so jobs left in
    // Redis by earlier runs can neither collide with nor stand in for this run's jobs.
    const executionId = await engine.enqueueWorkflow(fetchAndTransform.id, input);
    console.log('Started execution:', executionId);

    // Right after enqueueing, the execution is typically still running.
    const early = await stateStore.getExecution(executionId);
    console.log('Status right after enqueue:', early?.status);

    const execution = await engine.waitForExecution(executionId, { timeoutMs: 20_000 });
    console.log('Final status:', execution.status);
    for (const node of fetchAndTransform.nodes) {
      const result = execution.nodeResults[node.id];
      console.log(`  ${node.id} [${result?.status ?? 'no result'}]:`, JSON.stringify(result?.data ?? result?.error));
    }
    if (execution.status === 'completed') return 0;
    console.error(`Execution ended as '${execution.status}'${execution.error ? `: ${execution.error}` : ''}`);
    return 1;
  } catch (err) {
    console.error('Quick start failed:', err);
    return 1;
  } finally {
    await engine.close();
    await redis.quit();
  }
}

// Only when started directly (`tsx examples/quickstart.ts`), not when `spane` imports the module.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  void main().then((code) => process.exit(code));
}
