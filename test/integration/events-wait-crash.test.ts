/**
 * A worker process SIGKILLed while its executions wait for an event: the waits are in the store
 * and hold no job, so nothing is lost. A new worker process's engine sends the event, which wakes
 * the matching execution (only it) and finishes it; the node that ran before the kill does not run
 * again.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { expect, it } from 'vitest';
import { engineInternals } from '../../src/runtime/engine/test-hooks.js';
import { nodeJobId, waitTimeoutJobId } from '../../src/runtime/queues/jobs.js';
import { EVENT_CRASH_WORKFLOW, waitCrashEngine } from '../fixtures/wait-crash.js';
import { memoryLogger, REDIS_URL, until } from '../helpers.js';
import { childProcessSuite, stdoutLine } from '../fixtures/child-process-suite.js';

const suite = childProcessSuite('event-crash');
const { prefix } = suite;
let child: ChildProcessWithoutNullStreams | undefined;

it('a new worker process completes an execution whose worker was SIGKILLed while it waited for an event', { timeout: 180_000 }, async () => {
  const { store } = suite;
  child = suite.spawnChild('test/fixtures/wait-child.ts', 'event');
  const executionId = (await stdoutLine(child, (l) => l.startsWith('STARTED '), 'the execution started')).slice('STARTED '.length);
  const other = (await stdoutLine(child, (l) => l.startsWith('OTHER '), 'the other execution started')).slice('OTHER '.length);
  for (const id of [executionId, other])
    await until(async () => (await store.getWait({ executionId: id, kind: 'event', key: 'order.paid' }))?.state === 'waiting', 30_000, 'the event node to wait');

  const runs: string[] = [];
  const engine = waitCrashEngine({ store, connection: REDIS_URL, prefix, logger: memoryLogger(), runs });
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
