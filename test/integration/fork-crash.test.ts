/**
 * A worker SIGKILLed while a fork's re-run node runs: another engine picks the node's job up once
 * its lock expires and the fork completes. The copied node never runs again, the interrupted node
 * runs once more, the original is untouched.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { expect, it } from 'vitest';
import { NodeRegistry, WorkflowEngine } from '../../src/index.js';
import { memoryLogger, REDIS_URL, until } from '../helpers.js';
import { childProcessSuite, stdoutLine } from '../fixtures/child-process-suite.js';

const suite = childProcessSuite('fork-crash');
const { prefix } = suite;
let child: ChildProcessWithoutNullStreams | undefined;

it('completes a fork whose re-run node was running when its worker was SIGKILLed', { timeout: 180_000 }, async () => {
  const { store, redis } = suite;
  child = suite.spawnChild('test/fixtures/fork-crash-child.ts');
  // All three awaited together: the fork's `b` may start (HANGING) before FORK is printed, and
  // when one wait fails the others' failures are not left unhandled.
  const [originalLine, forkLine] = await Promise.all([
    stdoutLine(child, (l) => l.startsWith('ORIGINAL '), 'the original completed'),
    stdoutLine(child, (l) => l.startsWith('FORK '), 'the fork was created'),
    stdoutLine(child, (l) => l === 'HANGING', "the fork's b started"),
  ]);
  const originalId = originalLine.slice('ORIGINAL '.length);
  const forkId = forkLine.slice('FORK '.length);

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
