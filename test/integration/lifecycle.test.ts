/**
 * Delays, pause/resume/cancel and scheduled starts, run inline and in worker threads (see
 * test/fixtures/modes.ts); executors are in test/fixtures/executors/lifecycle.ts.
 * Executors report through a probe in Redis (REDIS_URL), whatever the queue backend.
 */
import { expect, it } from 'vitest';
import { nodeJobId } from '../../src/index.js';
import { createRegistry } from '../fixtures/executors/lifecycle.js';
import { forEachMode } from '../fixtures/modes.js';
import { graph, node, nodeJob, sleep, TEST_BACKEND, until, waitForNodeResult, waitForParked } from '../helpers.js';
import { engineInternals } from '../../src/runtime/engine/test-hooks.js';

forEachMode({ module: new URL('../fixtures/executors/lifecycle.ts', import.meta.url), createRegistry }, (h) => {
  /** When node `id` ran (its first run), from the probe. */
  const at = async (id: string): Promise<number | undefined> => (await h.probe.list<number>(`at:${id}`))[0];

  function chain(id: string, n: number, type = 'step', config: (i: number) => Record<string, unknown> = () => ({})) {
    const nodes = Array.from({ length: n }, (_, i) => node(`n${i}`, type, { config: config(i) }));
    return graph(
      id,
      nodes,
      nodes.slice(1).map((x, i) => `n${i}->${x.id}`),
    );
  }

  // Long enough to see the job still delayed: PGlite's single session answers slowly on a busy machine.
  const waitMs = TEST_BACKEND === 'embedded' ? 3000 : 600;
  it('a delay node waits in a BullMQ delayed job and passes its input through', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(
      graph('delayed', [node('emit', 'emit'), node('wait', 'delay', { config: { duration: waitMs } }), node('take', 'take')], ['emit->wait', 'wait->take']),
    );
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('delayed', {});
    // The delay node's job is added just after emit's result is stored: wait for both.
    await waitForNodeResult(t.engine, id, 'emit', h.patience(5000));
    await until(async () => (await nodeJob(t.engine, id, 'wait')) !== undefined, h.patience(5000), "the delay node's job");
    const job = await nodeJob(t.engine, id, 'wait');
    expect(await job?.getState()).toBe('delayed');
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('completed');
    expect(done.nodeResults['wait']?.data).toEqual({ token: 'abc' });
    expect(await h.probe.list('got')).toEqual([{ token: 'abc' }]);
    // The engine's own timestamps: the delay was due waitMs after emit settled, and take ran after it.
    const due = job!.data.delayUntil!;
    expect(due - done.nodeResults['emit']!.completedAt).toBeGreaterThanOrEqual(waitMs);
    expect(done.nodeResults['take']!.startedAt!).toBeGreaterThanOrEqual(due);
  });

  it('a delay node accepts durationSeconds', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('secs', [node('w', 'delay', { config: { durationSeconds: 0.2 } }), node('n', 'noop')], ['w->n']));
    t.engine.startWorkers(1);
    const done = await t.engine.waitForExecution(await t.engine.enqueueWorkflow('secs', 'x'));
    expect(done.nodeResults['n']?.data).toBe('x');
    // The entry delay's job was due 200 ms after the execution was created; n ran after it.
    expect(done.nodeResults['n']!.startedAt! - done.startedAt).toBeGreaterThanOrEqual(200);
  });

  it('pause lets the running node finish and runs nothing more; resume continues where it stopped', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(chain('pausable', 4, 'step', (i) => ({ hold: i === 1 })));
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('pausable', {});
    await until(async () => (await h.probe.list('held')).length === 1, h.patience(5000), 'n1 to start');
    expect(await t.engine.pauseWorkflow(id)).toBe(true);
    expect(await t.engine.pauseWorkflow(id)).toBe(false);
    await h.probe.set('release:n1');
    await waitForNodeResult(t.engine, id, 'n1', h.patience(5000));
    // A worker takes n2's job and parks it instead of running it: the engine got past n2.
    await waitForParked(t.engine, id, 'n2', h.patience(5000));
    const n2 = () => nodeJob(t.engine, id, 'n2');
    let exec = await t.engine.getExecution(id);
    expect(exec?.status).toBe('paused');
    expect(await h.probe.list('ran')).toEqual(['n0', 'n1']);
    expect(exec?.nodeResults['n2']).toBeUndefined();
    // The child of the finished node is parked in the delayed set, not lost.
    const parked = await n2();
    expect(await parked?.getState()).toBe('delayed');
    expect(parked?.data.parked).toEqual({ remainingMs: 0 });

    expect(await t.engine.resumeWorkflow(id)).toBe(true);
    expect(await t.engine.resumeWorkflow(id)).toBe(false);
    exec = await t.engine.waitForExecution(id);
    expect(exec.status).toBe('completed');
    expect(await h.probe.list('ran')).toEqual(['n0', 'n1', 'n2', 'n3']);
  });

  it('a delay node keeps the wait it had left across a pause', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('pause-delay', [node('a', 'mark'), node('wait', 'delay', { config: { duration: 1000 } }), node('b', 'mark')], ['a->wait', 'wait->b']));
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('pause-delay', {});
    await until(async () => (await nodeJob(t.engine, id, 'wait')) !== undefined, h.patience(5000), "the delay node's job");
    await t.engine.pauseWorkflow(id);
    const { pausedAt } = (await t.engine.getExecution(id))!;
    // The delay's original end passes while paused: a worker takes the job and parks it.
    const parked = await waitForParked(t.engine, id, 'wait', h.patience(5000));
    expect(await at('b')).toBeUndefined();
    const leftAtPause = parked.data.delayUntil! - pausedAt!;
    expect(leftAtPause).toBeGreaterThan(0);
    expect(parked.data.parked).toEqual({ remainingMs: leftAtPause });
    const resumedAt = Date.now();
    await t.engine.resumeWorkflow(id);
    const done = await t.engine.waitForExecution(id);
    // b ran `leftAtPause` after the resume: the paused time did not count.
    expect(done.nodeResults['b']!.startedAt! - resumedAt).toBeGreaterThanOrEqual(leftAtPause);
  });

  it('a delay node resumed before its wait ends is pushed back by the paused time', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('pause-short', [node('a', 'mark'), node('wait', 'delay', { config: { duration: 1200 } }), node('b', 'mark')], ['a->wait', 'wait->b']));
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('pause-short', {});
    await until(async () => (await nodeJob(t.engine, id, 'wait')) !== undefined, h.patience(5000), "the delay node's job");
    await t.engine.pauseWorkflow(id);
    const { pausedAt } = (await t.engine.getExecution(id))!;
    // Not a wait for an event: the length of the pause is what this test measures.
    await sleep(500);
    const resumedAt = Date.now();
    await t.engine.resumeWorkflow(id);
    const done = await t.engine.waitForExecution(id);
    // b ran no earlier than the delay's end pushed back by the paused time (engine timestamps).
    expect(done.nodeResults['b']!.startedAt! - done.nodeResults['a']!.completedAt).toBeGreaterThanOrEqual(1200 + (resumedAt - pausedAt!));
  });

  it('cancel removes waiting and delayed jobs and runs nothing more', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('cancel', [node('a', 'mark'), node('wait', 'delay', { config: { duration: 60_000 } }), node('b', 'mark')], ['a->wait', 'wait->b']));
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('cancel', {});
    await until(async () => (await nodeJob(t.engine, id, 'wait')) !== undefined, h.patience(5000));
    expect(await t.engine.cancelWorkflow(id)).toBe(true);
    expect(await t.engine.cancelWorkflow(id)).toBe(false);
    expect(await nodeJob(t.engine, id, 'wait')).toBeUndefined();
    const exec = await t.engine.getExecution(id);
    expect(exec?.status).toBe('cancelled');
    expect(exec?.completedAt).toBeGreaterThan(0);
    expect(await h.probe.list('ran')).toEqual(['a']);
    expect(await t.engine.resumeWorkflow(id)).toBe(false);
    expect(await t.engine.pauseWorkflow(id)).toBe(false);
  });

  it('cancel aborts the signal of a node running in this engine', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('abortable', [node('long', 'long'), node('next', 'mark')], ['long->next']));
    t.engine.startWorkers(1);
    const id = await t.engine.enqueueWorkflow('abortable', {});
    await until(() => h.probe.isSet('started'), h.patience(5000));
    await t.engine.cancelWorkflow(id);
    await until(() => h.probe.isSet('aborted'), 5000, 'abort');
    // The aborted node's job has ended: whatever the engine does after it has been done.
    const queue = engineInternals(t.engine).rt.queues.nodeQueue;
    await until(async () => (await queue.getJobState(nodeJobId(id, 'long'))) !== 'active', h.patience(5000), "the long node's job to end");
    const exec = await t.engine.getExecution(id);
    expect(exec?.status).toBe('cancelled');
    expect(exec?.nodeResults['next']).toBeUndefined();
  });

  it('bulk forms report each outcome', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(chain('bulk', 3, 'nap'));
    const ids = await t.engine.enqueueBulkWorkflows([{ workflowId: 'bulk' }, { workflowId: 'bulk', initialData: { x: 1 } }]);
    expect(await t.engine.pauseBulkWorkflows(ids)).toEqual([true, true]);
    t.engine.startWorkers(2);
    // The workers took the entry jobs and parked them.
    for (const id of ids) await waitForParked(t.engine, id, 'n0', h.patience(5000));
    for (const id of ids) expect((await t.engine.getExecution(id))?.nodeResults['n0']).toBeUndefined();
    expect(await t.engine.resumeBulkWorkflows(ids)).toEqual([true, true]);
    for (const id of ids) expect((await t.engine.waitForExecution(id)).status).toBe('completed');
    expect(await t.engine.cancelBulkWorkflows(ids)).toEqual([false, false]);
  });

  it('resumes a scheduled run that was paused before its start time and started while paused', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('sched-pause', [node('a', 'mark'), node('b', 'mark')], ['a->b']));
    t.engine.startWorkers(2);
    const id = await t.engine.scheduleWorkflow('sched-pause', {}, new Date(Date.now() + 300));
    expect(await t.engine.pauseWorkflow(id)).toBe(true);
    await waitForParked(t.engine, id, 'a', h.patience(5000)); // the start fires while paused: the entry job parks
    expect(await h.probe.list('ran')).toEqual([]);
    expect(await t.engine.resumeWorkflow(id)).toBe(true);
    expect((await t.engine.waitForExecution(id)).status).toBe('completed');
    expect(await h.probe.list('ran')).toEqual(['a', 'b']);
  });

  it('resumes a scheduled run paused and resumed before its start time, which then starts on time', async () => {
    const t = h.engine();
    await t.engine.registerWorkflow(graph('sched-early', [node('a', 'mark')], []));
    t.engine.startWorkers(1);
    const start = Date.now() + 500;
    const id = await t.engine.scheduleWorkflow('sched-early', {}, new Date(start));
    await t.engine.pauseWorkflow(id);
    await t.engine.resumeWorkflow(id);
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('completed');
    expect(done.nodeResults['a']!.startedAt!).toBeGreaterThanOrEqual(start - 20);
  });
});
