/**
 * A worker SIGKILLed while a fork's re-run node runs: another engine picks the node's job up once
 * its lock expires and the fork completes. The copied node never runs again, the interrupted node
 * runs once more, the original is untouched.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DrizzleStore, NodeRegistry, WorkflowEngine } from '../../src/index.js';
import { createTestDatabase } from '../contract/databases.js';
import type { TestDatabase } from '../contract/databases.js';
import { deleteKeys, memoryLogger, REDIS_URL, until } from '../helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let database: TestDatabase;
let store: DrizzleStore;
let redis: Redis;
let child: ChildProcessWithoutNullStreams | undefined;
const prefix = `{spane-fork-crash-${randomUUID().slice(0, 8)}}`;

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

it('completes a fork whose re-run node was running when its worker was SIGKILLed', { timeout: 180_000 }, async () => {
  child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/fork-crash-child.ts', REDIS_URL, prefix, database.url], { cwd: root });
  const originalLine = line(child, (l) => l.startsWith('ORIGINAL '), 'the original completed');
  const forkLine = line(child, (l) => l.startsWith('FORK '), 'the fork was created');
  const hanging = line(child, (l) => l === 'HANGING', "the fork's b started");
  const originalId = (await originalLine).slice('ORIGINAL '.length);
  const forkId = (await forkLine).slice('FORK '.length);
  await hanging;

  const mid = await store.getExecution(forkId);
  expect(mid).toMatchObject({ status: 'running', forkedFrom: { executionId: originalId, nodeId: 'b' } });
  expect(Object.keys(mid!.nodeResults)).toEqual(['a']);

  const registry = new NodeRegistry();
  registry.register('step', async (ctx) => {
    await redis.rpush(`${prefix}:runs`, `${ctx.executionId} ${ctx.nodeId}`);
    return { success: true, data: { ...(ctx.inputData as object), [ctx.nodeId]: true } };
  });
  const engine = new WorkflowEngine({
    registry,
    store,
    connection: REDIS_URL,
    config: { prefix, lockDuration: 2000, stalledInterval: 1000, reconcileIntervalMs: false },
    logger: memoryLogger(),
  });
  try {
    child.kill('SIGKILL');
    await until(() => child!.exitCode !== null || child!.signalCode !== null, 10_000, 'the child to die');
    engine.startWorkers(2);
    const done = await engine.waitForExecution(forkId, { timeoutMs: 60_000 });
    expect(done.status).toBe('completed');
    expect(done.nodeResults['c']?.data).toEqual({ a: true, b: true, c: true });
    const runs = await redis.lrange(`${prefix}:runs`, 0, -1);
    expect(new Set(runs.filter((r) => r.startsWith(originalId)))).toEqual(new Set([`${originalId} a`, `${originalId} b`, `${originalId} c`]));
    // The copied node never ran in the fork; the interrupted one ran again after the kill. (A
    // loaded machine may let a lock lapse and run a node once more: the counts are lower bounds.)
    const forkRuns = runs.filter((r) => r.startsWith(forkId));
    expect(forkRuns).not.toContain(`${forkId} a`);
    expect(forkRuns.filter((r) => r === `${forkId} b`).length).toBeGreaterThanOrEqual(2);
    expect(forkRuns.at(-1)).toBe(`${forkId} c`);
    const original = await store.getExecution(originalId);
    expect(original?.status).toBe('completed');
    expect(original?.nodeResults['a']).toEqual(done.nodeResults['a']);
  } finally {
    await engine.close();
  }
});
