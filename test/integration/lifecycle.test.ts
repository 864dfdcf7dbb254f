import { afterEach, describe, expect, it } from 'vitest';
import { nodeJobId } from '../../src/index.js';
import { graph, node, sleep, TEST_BACKEND, testEngine, until } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

let t: TestEngine;
afterEach(async () => t?.cleanup());

describe('delay nodes', () => {
  // Long enough to see the job still delayed: PGlite's single session answers slowly on a busy machine.
  const waitMs = TEST_BACKEND === 'embedded' ? 3000 : 600;
  it('waits in a BullMQ delayed job and passes its input through', async () => {
    t = testEngine();
    let got: unknown;
    const at: Record<string, number> = {};
    t.registry.register('emit', async () => {
      at['emit'] = Date.now();
      return { success: true, data: { token: 'abc' } };
    });
    t.registry.register('take', async (ctx) => {
      at['take'] = Date.now();
      got = ctx.inputData;
      return { success: true };
    });
    await t.engine.registerWorkflow(
      graph('delayed', [node('emit', 'emit'), node('wait', 'delay', { config: { duration: waitMs } }), node('take', 'take')], ['emit->wait', 'wait->take']),
    );
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('delayed', {});
    await until(async () => (await t.engine.getExecution(id))?.nodeResults['emit'] !== undefined, 5000);
    const job = await t.engine['rt'].queues.nodeQueue.getJob(nodeJobId(id, 'wait'));
    expect(await job?.getState()).toBe('delayed');
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('completed');
    expect(done.nodeResults['wait']?.data).toEqual({ token: 'abc' });
    expect(got).toEqual({ token: 'abc' });
    expect(at['take']! - at['emit']!).toBeGreaterThanOrEqual(waitMs - 20);
  });

  it('accepts durationSeconds', async () => {
    t = testEngine();
    t.registry.register('noop', async (ctx) => ({ success: true, data: ctx.inputData }));
    await t.engine.registerWorkflow(graph('secs', [node('w', 'delay', { config: { durationSeconds: 0.2 } }), node('n', 'noop')], ['w->n']));
    t.engine.startWorkers(1);
    const started = Date.now();
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('secs', 'x'));
    expect(done.nodeResults['n']?.data).toBe('x');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });
});

describe('pause, resume, cancel', () => {
  function chain(id: string, n: number, type = 'step') {
    const nodes = Array.from({ length: n }, (_, i) => node(`n${i}`, type));
    return graph(id, nodes, nodes.slice(1).map((x, i) => `n${i}->${x.id}`));
  }

  it('pause lets the running node finish and runs nothing more; resume continues where it stopped', async () => {
    t = testEngine();
    const held: (() => void)[] = [];
    const ran: string[] = [];
    t.registry.register('step', async (ctx) => {
      ran.push(ctx.nodeId);
      if (ctx.nodeId === 'n1') await new Promise<void>((r) => held.push(r));
      return { success: true, data: ctx.nodeId };
    });
    await t.engine.registerWorkflow(chain('pausable', 4));
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('pausable', {});
    await until(() => held.length === 1, 5000, 'n1 to start');
    expect(await t.engine.pauseWorkflow(id)).toBe(true);
    expect(await t.engine.pauseWorkflow(id)).toBe(false);
    held[0]!();
    await until(async () => (await t.engine.getExecution(id))?.nodeResults['n1'] !== undefined, 5000, 'n1 to finish');
    await sleep(300);
    let exec = await t.engine.getExecution(id);
    expect(exec?.status).toBe('paused');
    expect(ran).toEqual(['n0', 'n1']);
    expect(exec?.nodeResults['n2']).toBeUndefined();
    // The child of the finished node is parked in the delayed set, not lost.
    const parked = await t.engine['rt'].queues.nodeQueue.getJob(nodeJobId(id, 'n2'));
    expect(await parked?.getState()).toBe('delayed');
    expect(parked?.data.parked).toEqual({ remainingMs: 0 });

    expect(await t.engine.resumeWorkflow(id)).toBe(true);
    expect(await t.engine.resumeWorkflow(id)).toBe(false);
    exec = await t.engine.waitForExecution(id);
    expect(exec.status).toBe('completed');
    expect(ran).toEqual(['n0', 'n1', 'n2', 'n3']);
  });

  it('a delay node keeps the wait it had left across a pause', async () => {
    t = testEngine();
    const at: Record<string, number> = {};
    t.registry.register('mark', async (ctx) => {
      at[ctx.nodeId] = Date.now();
      return { success: true };
    });
    await t.engine.registerWorkflow(
      graph('pause-delay', [node('a', 'mark'), node('wait', 'delay', { config: { duration: 1000 } }), node('b', 'mark')], ['a->wait', 'wait->b']),
    );
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('pause-delay', {});
    await until(() => at['a'] !== undefined, 5000);
    await sleep(300); // ~700 ms of the delay left
    await t.engine.pauseWorkflow(id);
    const pausedAt = Date.now();
    await sleep(1500); // the delay's original end passes while paused
    expect(at['b']).toBeUndefined();
    await t.engine.resumeWorkflow(id);
    const resumedAt = Date.now();
    await t.engine.waitForExecution(id);
    const leftAtPause = at['a']! + 1000 - pausedAt;
    // b ran about `leftAtPause` after the resume: the paused time did not count.
    expect(at['b']! - resumedAt).toBeGreaterThanOrEqual(leftAtPause - 150);
  });

  it('a delay node resumed before its wait ends is pushed back by the paused time', async () => {
    t = testEngine();
    const at: Record<string, number> = {};
    t.registry.register('mark', async (ctx) => {
      at[ctx.nodeId] = Date.now();
      return { success: true };
    });
    await t.engine.registerWorkflow(
      graph('pause-short', [node('a', 'mark'), node('wait', 'delay', { config: { duration: 1200 } }), node('b', 'mark')], ['a->wait', 'wait->b']),
    );
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('pause-short', {});
    await until(() => at['a'] !== undefined, 5000);
    await t.engine.pauseWorkflow(id);
    await sleep(500);
    await t.engine.resumeWorkflow(id);
    await t.engine.waitForExecution(id);
    expect(at['b']! - at['a']!).toBeGreaterThanOrEqual(1200 + 450);
  });

  it('cancel removes waiting and delayed jobs and runs nothing more', async () => {
    t = testEngine();
    const ran: string[] = [];
    t.registry.register('mark', async (ctx) => {
      ran.push(ctx.nodeId);
      return { success: true };
    });
    await t.engine.registerWorkflow(
      graph('cancel', [node('a', 'mark'), node('wait', 'delay', { config: { duration: 60_000 } }), node('b', 'mark')], ['a->wait', 'wait->b']),
    );
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('cancel', {});
    await until(async () => (await t.engine['rt'].queues.nodeQueue.getJob(nodeJobId(id, 'wait'))) !== undefined, 5000);
    expect(await t.engine.cancelWorkflow(id)).toBe(true);
    expect(await t.engine.cancelWorkflow(id)).toBe(false);
    expect(await t.engine['rt'].queues.nodeQueue.getJob(nodeJobId(id, 'wait'))).toBeUndefined();
    const exec = await t.engine.getExecution(id);
    expect(exec?.status).toBe('cancelled');
    expect(exec?.completedAt).toBeGreaterThan(0);
    expect(ran).toEqual(['a']);
    expect(await t.engine.resumeWorkflow(id)).toBe(false);
    expect(await t.engine.pauseWorkflow(id)).toBe(false);
  });

  it('cancel aborts the signal of a node running in this process', async () => {
    t = testEngine();
    let aborted = false;
    let started = false;
    t.registry.register('long', async (ctx) => {
      started = true;
      await new Promise<void>((resolve) => ctx.signal?.addEventListener('abort', () => resolve()));
      aborted = ctx.signal?.aborted ?? false;
      return { success: true };
    });
    t.registry.register('mark', async () => ({ success: true }));
    await t.engine.registerWorkflow(graph('abortable', [node('long', 'long'), node('next', 'mark')], ['long->next']));
    t.engine.startWorkers(1);
    const id = await t.engine.enqueueWorkflow('abortable', {});
    await until(() => started, 5000);
    await t.engine.cancelWorkflow(id);
    await until(() => aborted, 5000, 'abort');
    await sleep(200);
    const exec = await t.engine.getExecution(id);
    expect(exec?.status).toBe('cancelled');
    expect(exec?.nodeResults['next']).toBeUndefined();
  });

  it('bulk forms report each outcome', async () => {
    t = testEngine();
    t.registry.register('step', async () => {
      await sleep(50);
      return { success: true };
    });
    await t.engine.registerWorkflow(chain('bulk', 3));
    const ids = await t.engine.enqueueBulkWorkflows([{ workflowId: 'bulk' }, { workflowId: 'bulk', initialData: { x: 1 } }]);
    expect(await t.engine.pauseBulkWorkflows(ids)).toEqual([true, true]);
    t.engine.startWorkers(2);
    await sleep(200);
    for (const id of ids) expect((await t.engine.getExecution(id))?.nodeResults['n0']).toBeUndefined();
    expect(await t.engine.resumeBulkWorkflows(ids)).toEqual([true, true]);
    for (const id of ids) expect((await t.engine.waitForExecution(id)).status).toBe('completed');
    expect(await t.engine.cancelBulkWorkflows(ids)).toEqual([false, false]);
  });
});

describe('pausing a scheduled execution', () => {
  it('resumes a run that was paused before its start time and started while paused', async () => {
    t = testEngine();
    const ran: string[] = [];
    t.registry.register('mark', async (ctx) => {
      ran.push(ctx.nodeId);
      return { success: true };
    });
    await t.engine.registerWorkflow(graph('sched-pause', [node('a', 'mark'), node('b', 'mark')], ['a->b']));
    t.engine.startWorkers(2);
    const id = await t.engine.scheduleWorkflow('sched-pause', {}, new Date(Date.now() + 300));
    expect(await t.engine.pauseWorkflow(id)).toBe(true);
    await sleep(700); // the start fires while paused: the entry job parks
    expect(ran).toEqual([]);
    expect(await t.engine.resumeWorkflow(id)).toBe(true);
    expect((await t.engine.waitForExecution(id)).status).toBe('completed');
    expect(ran).toEqual(['a', 'b']);
  });

  it('resumes a run paused and resumed before its start time, which then starts on time', async () => {
    t = testEngine();
    t.registry.register('mark', async () => ({ success: true }));
    await t.engine.registerWorkflow(graph('sched-early', [node('a', 'mark')], []));
    t.engine.startWorkers(1);
    const at = Date.now() + 500;
    const id = await t.engine.scheduleWorkflow('sched-early', {}, new Date(at));
    await t.engine.pauseWorkflow(id);
    await t.engine.resumeWorkflow(id);
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('completed');
    expect(done.nodeResults['a']!.startedAt!).toBeGreaterThanOrEqual(at - 20);
  });
});
