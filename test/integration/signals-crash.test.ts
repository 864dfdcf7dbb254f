/**
 * A worker process SIGKILLed while its execution waits for a signal: the wait is in the store and
 * holds no job, so nothing is lost. A new worker process's engine takes the signal and finishes
 * the execution; the node that ran before the kill does not run again.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { expect, it } from 'vitest';
import { engineInternals } from '../../src/runtime/engine/test-hooks.js';
import { nodeJobId, waitTimeoutJobId } from '../../src/runtime/queues/jobs.js';
import { SIGNAL_CRASH_WORKFLOW, waitCrashEngine } from '../fixtures/wait-crash.js';
import { memoryLogger, REDIS_URL, until } from '../helpers.js';
import { childProcessSuite, stdoutLine } from '../fixtures/child-process-suite.js';

const suite = childProcessSuite('signal-crash');
const { prefix } = suite;
let child: ChildProcessWithoutNullStreams | undefined;

it('a new worker process completes an execution whose worker was SIGKILLed while it waited for a signal', { timeout: 180_000 }, async () => {
  const { store } = suite;
  child = suite.spawnChild('test/fixtures/wait-child.ts', 'signal');
  const executionId = (await stdoutLine(child, (l) => l.startsWith('STARTED '), 'the execution started')).slice('STARTED '.length);
  const ref = { executionId, kind: 'signal' as const, key: 'approval' };
  await until(async () => (await store.getWait(ref))?.state === 'waiting', 30_000, 'the signal node to wait');

  const runs: string[] = [];
  const engine = waitCrashEngine({ store, connection: REDIS_URL, prefix, logger: memoryLogger(), runs });
  try {
    const queue = engineInternals(engine).rt.queues.nodeQueue;
    // While it waits the signal node holds no job: its own completed, its timeout is delayed.
    await until(async () => (await (await queue.getJob(nodeJobId(executionId, 'approval')))?.getState()) === 'completed', 30_000, "the signal node's job to complete");
    expect(await (await queue.getJob(waitTimeoutJobId(executionId, 'approval')))?.getState()).toBe('delayed');

    child.kill('SIGKILL');
    await until(() => child!.exitCode !== null || child!.signalCode !== null, 10_000, 'the child to die');
    await engine.registerWorkflow(SIGNAL_CRASH_WORKFLOW);
    engine.startWorkers(2);
    await engine.signal(executionId, 'approval', { approved: true });
    const done = await engine.waitForExecution(executionId, { timeoutMs: 60_000 });
    expect(done.status).toBe('completed');
    expect(done.nodeResults['approval']?.data).toEqual({ approved: true });
    expect(done.nodeResults['finish']?.data).toEqual({ seen: { approved: true } });
    expect(runs).toEqual(['finish']);
    // The timeout job went with the signal.
    expect(await queue.getJob(waitTimeoutJobId(executionId, 'approval'))).toBeUndefined();
  } finally {
    await engine.close();
  }
});
