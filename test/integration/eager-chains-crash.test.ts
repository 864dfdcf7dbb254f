/**
 * A worker SIGKILLed in the middle of an eager chain: the chain's job (the job of its first node)
 * is redelivered to another engine, which goes on after the last settled node. Nodes settled
 * before the kill never run again; the node that was running runs once more, and the rest once.
 * While the dead worker still holds the job, the reconciler enqueues nothing for the chain.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DrizzleStore, NodeRegistry, WorkflowEngine } from '../../src/index.js';
import { engineInternals } from '../../src/runtime/engine/test-hooks.js';
import { createTestDatabase } from '../contract/databases.js';
import type { TestDatabase } from '../contract/databases.js';
import { deleteKeys, memoryLogger, REDIS_URL, until } from '../helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let database: TestDatabase;
let store: DrizzleStore;
let redis: Redis;
let child: ChildProcessWithoutNullStreams | undefined;
const prefix = `{spane-eager-crash-${randomUUID().slice(0, 8)}}`;

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

it('finishes a chain whose worker was SIGKILLed mid-chain, running each node once after the last settled one', { timeout: 180_000 }, async () => {
  child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/eager-chain-child.ts', REDIS_URL, prefix, database.url], { cwd: root });
  const started = line(child, (l) => l.startsWith('STARTED '), 'the execution started');
  const hanging = line(child, (l) => l === 'HANGING', 'n3 started');
  const executionId = (await started).slice('STARTED '.length);
  await hanging;

  // n1 and n2 settled in one job; n3 runs in it too, with no job of its own.
  const registry = new NodeRegistry();
  registry.register('step', async (ctx) => {
    await redis.rpush(`${prefix}:runs`, ctx.nodeId);
    return { success: true, data: { ...(ctx.inputData as object), [ctx.nodeId]: true } };
  });
  const engine = new WorkflowEngine({
    registry,
    store,
    connection: REDIS_URL,
    config: { prefix, eagerChains: true, lockDuration: 2000, stalledInterval: 1000, reconcileIntervalMs: false },
    logger: memoryLogger(),
  });
  try {
    const mid = await store.getExecution(executionId);
    expect(Object.keys(mid!.nodeResults).sort()).toEqual(['n1', 'n2']);
    const queue = engineInternals(engine).rt.queues.nodeQueue;
    expect((await queue.getJobs(['active', 'waiting', 'delayed', 'completed'])).map((j) => j.data.nodeId)).toEqual(['n1']);
    // The chain's job is active: the reconciler leaves n3 alone even with no grace at all.
    expect((await engine.reconcile({ graceMs: 0 })).nodesEnqueued).toBe(0);

    child.kill('SIGKILL');
    await until(() => child!.exitCode !== null || child!.signalCode !== null, 10_000, 'the child to die');
    engine.startWorkers(2);
    const done = await engine.waitForExecution(executionId, { timeoutMs: 60_000 });
    expect(done.status).toBe('completed');
    expect(done.nodeResults['n6']?.data).toEqual({ n1: true, n2: true, n3: true, n4: true, n5: true, n6: true });
    // n3 was interrupted once; nothing settled before the kill ran again.
    expect(await redis.lrange(`${prefix}:runs`, 0, -1)).toEqual(['n1', 'n2', 'n3', 'n3', 'n4', 'n5', 'n6']);
  } finally {
    await engine.close();
  }
});
