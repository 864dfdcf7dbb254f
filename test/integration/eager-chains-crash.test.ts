/**
 * A worker SIGKILLed in the middle of an eager chain: the chain's job (the job of its first node)
 * is redelivered to another engine, which goes on after the last settled node. Nodes settled
 * before the kill never run again; the node that was running runs once more, and the rest once.
 * While the dead worker still holds the job, the reconciler enqueues nothing for the chain.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { expect, it } from 'vitest';
import { NodeRegistry, WorkflowEngine } from '../../src/index.js';
import { engineInternals } from '../../src/runtime/engine/test-hooks.js';
import { memoryLogger, REDIS_URL, until } from '../helpers.js';
import { childProcessSuite, stdoutLine } from '../fixtures/child-process-suite.js';

const suite = childProcessSuite('eager-crash');
const { prefix } = suite;
let child: ChildProcessWithoutNullStreams | undefined;

it('finishes a chain whose worker was SIGKILLed mid-chain, running each node once after the last settled one', { timeout: 180_000 }, async () => {
  const { store, redis } = suite;
  child = suite.spawnChild('test/fixtures/eager-chain-child.ts');
  const started = stdoutLine(child, (l) => l.startsWith('STARTED '), 'the execution started');
  const hanging = stdoutLine(child, (l) => l === 'HANGING', 'n3 started');
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
