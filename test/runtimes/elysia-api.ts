/**
 * The spec's "Building Your Own API" example, run under Bun with Elysia by scripts/ci-runtimes.sh.
 * The block between the two marker comments is the spec's snippet as written there; around it
 * stands what the snippet takes as given (a registry with executors, a state store, a Redis
 * connection, a registered workflow and running workers), then one request to the route it
 * declares and a check that the execution it started completes.
 *
 *   NODE_PATH=<dir with elysia>/node_modules bun test/runtimes/elysia-api.ts
 *
 * Elysia is no dependency of SPANE: the script installs it into CI's cache folder, and this file
 * stays out of tsconfig.json and ESLint, which would not find the module. Exit code 0 when the
 * execution completed with the expected output.
 */
import { Elysia } from 'elysia';
import { Redis } from 'ioredis';
import { InMemoryExecutionStore, NodeRegistry, WorkflowEngine } from 'spane';

const registry = new NodeRegistry();
registry.register('greet', {
  async execute(context) {
    return { success: true, data: { message: `Hello, ${context.inputData.name}!` } };
  },
});
const stateStore = new InMemoryExecutionStore();
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });

// ---- the spec's snippet ----
const app = new Elysia();
const engine = new WorkflowEngine(registry, stateStore, redis);

app.post('/api/workflows/:id/execute', async ({ params, body }) => {
  const executionId = await engine.enqueueWorkflow(params.id, body.initialData);
  return { executionId };
});

app.listen(3000);
// ---- end of the spec's snippet ----

let code = 1;
try {
  await engine.registerWorkflow({
    id: 'greet',
    name: 'Greet',
    entryNodeId: 'greet',
    nodes: [{ id: 'greet', type: 'greet', config: {}, inputs: [], outputs: [] }],
  });
  engine.startWorkers(2);

  const response = await fetch('http://127.0.0.1:3000/api/workflows/greet/execute', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ initialData: { name: 'Ada' } }),
  });
  const answer = await response.json();
  console.log(`POST /api/workflows/greet/execute answered ${response.status}:`, JSON.stringify(answer));
  const execution = await engine.waitForExecution(answer.executionId, { timeoutMs: 20_000 });
  const message = execution.nodeResults.greet?.data?.message;
  console.log(`execution ${execution.executionId}: ${execution.status}, greet said ${JSON.stringify(message)}`);
  code = execution.status === 'completed' && message === 'Hello, Ada!' ? 0 : 1;
} catch (err) {
  console.error('the Elysia example failed:', err);
} finally {
  await app.stop();
  await engine.close();
  await redis.quit();
}
process.exit(code);
