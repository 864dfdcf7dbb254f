/**
 * A worker process SIGKILLed while its executions wait for an event: the waits are in the store
 * and hold no job, so nothing is lost. A new worker process's engine sends the event, which wakes
 * the matching execution (only it) and finishes it; the node that ran before the kill does not run
 * again.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DrizzleStore, NodeRegistry, WorkflowEngine } from '../../src/index.js';
import { engineInternals } from '../../src/runtime/engine/test-hooks.js';
import { nodeJobId, waitTimeoutJobId } from '../../src/runtime/queues/jobs.js';
import { createTestDatabase } from '../contract/databases.js';
import type { TestDatabase } from '../contract/databases.js';
import { EVENT_CRASH_WORKFLOW } from '../fixtures/event-workflow.js';
import { deleteKeys, memoryLogger, REDIS_URL, until } from '../helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let database: TestDatabase;
let store: DrizzleStore;
let redis: Redis;
let child: ChildProcessWithoutNullStreams | undefined;
const prefix = `{spane-event-crash-${randomUUID().slice(0, 8)}}`;

beforeAll(async () => {
  database = await createTestDatabase();
  store = await DrizzleStore.postgres(database.url);
  redis = new Redis(REDIS_URL);
}, 60_000);

afterAll(async () => {
  if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
  await store?.close();
  await database?.drop();
  if (redis !== undefined) {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  }
});

/** Resolves with the first stdout line of `proc` that `match` accepts. */
function line(proc: ChildProcessWithoutNullStreams, match: (l: string) => boolean, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      const hit = lines.find(match);
      if (hit !== undefined) {
        proc.stdout.off('data', onData);
        resolve(hit);
      }
    };
    proc.stdout.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`the child exited (${String(code)}) before ${what}`)));
  });
}

it('a new worker process completes an execution whose worker was SIGKILLed while it waited for an event', { timeout: 180_000 }, async () => {
  child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/event-child.ts', REDIS_URL, prefix, database.url], { cwd: root });
  const executionId = (await line(child, (l) => l.startsWith('STARTED '), 'the execution started')).slice('STARTED '.length);
  const other = (await line(child, (l) => l.startsWith('OTHER '), 'the other execution started')).slice('OTHER '.length);
  for (const id of [executionId, other])
    await until(async () => (await store.getWait({ executionId: id, kind: 'event', key: 'order.paid' }))?.state === 'waiting', 30_000, 'the event node to wait');

  const runs: string[] = [];
  const registry = new NodeRegistry().register('step', async (ctx) => {
    runs.push(ctx.nodeId);
    return { success: true, data: { seen: ctx.inputData } };
  });
  const engine = new WorkflowEngine({ registry, store, connection: REDIS_URL, config: { prefix, reconcileIntervalMs: false }, logger: memoryLogger() });
  try {
    const queue = engineInternals(engine).rt.queues.nodeQueue;
    // While it waits the event node holds no job: its own completed, its timeout is delayed.
    await until(async () => (await (await queue.getJob(nodeJobId(executionId, 'paid')))?.getState()) === 'completed', 30_000, "the event node's job to complete");
    await until(async () => (await (await queue.getJob(waitTimeoutJobId(executionId, 'paid')))?.getState()) === 'delayed', 30_000, 'the timeout job');

    child.kill('SIGKILL');
    await until(() => child!.exitCode !== null || child!.signalCode !== null, 10_000, 'the child to die');
    await engine.registerWorkflow(EVENT_CRASH_WORKFLOW);
    engine.startWorkers(2);
    expect(await engine.sendEvent('order.paid', { orderId: 'o-7', amount: 5 })).toEqual({ woken: 1, executionIds: [executionId] });
    const done = await engine.waitForExecution(executionId, { timeoutMs: 60_000 });
    expect(done.status).toBe('completed');
    expect(done.nodeResults['paid']?.data).toEqual({ orderId: 'o-7', amount: 5 });
    expect(done.nodeResults['finish']?.data).toEqual({ seen: { orderId: 'o-7', amount: 5 } });
    expect(runs).toEqual(['finish']);
    // The timeout job went with the event; the other execution still waits.
    expect(await queue.getJob(waitTimeoutJobId(executionId, 'paid'))).toBeUndefined();
    expect((await engine.getExecution(other))?.status).toBe('running');
    expect((await store.getWait({ executionId: other, kind: 'event', key: 'order.paid' }))?.state).toBe('waiting');
  } finally {
    await engine.close();
  }
});
