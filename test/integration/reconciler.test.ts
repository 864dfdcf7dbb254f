/**
 * The reconciler's decisions, on BullMQ's PostgreSQL backend in an embedded PGlite (queues and
 * a DrizzleStore on one database): job rows deleted under an execution stand for lost queue state,
 * and `engine.reconcile()` must enqueue exactly what is missing, no more.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DrizzleStore, InvalidArgumentError, NodeRegistry, SqlBackend, WorkflowEngine } from '../../src/index.js';
import type { EngineConfig, RepairEventData, SpaneEvent, WorkflowDefinition } from '../../src/index.js';
import { graph, memoryLogger, node, until } from '../helpers.js';

let backend: SqlBackend;
let store: DrizzleStore;
const engines: WorkflowEngine[] = [];
const runs = new Map<string, number>();
const repaired: SpaneEvent[] = [];

const registry = new NodeRegistry();
registry.register('step', async (ctx) => {
  const key = `${ctx.executionId}/${ctx.nodeId}`;
  runs.set(key, (runs.get(key) ?? 0) + 1);
  return { success: true, data: { from: ctx.nodeId } };
});

function engine(config: EngineConfig = {}): WorkflowEngine {
  // No periodic passes: each test calls reconcile() itself.
  const e = new WorkflowEngine({ registry, store, backend, config: { reconcileIntervalMs: false, ...config }, logger: memoryLogger() });
  e.observeEvents((ev) => void (ev.type === 'workflow:repaired' && repaired.push(ev)));
  engines.push(e);
  return e;
}

/** Deletes every BullMQ job row of an execution: its queue state is lost. */
async function loseJobs(executionId: string): Promise<number> {
  const { rows } = await backend.pool.query<{ id: string }>('DELETE FROM bullmq.job WHERE id LIKE $1 OR id = $2 RETURNING id', [`${executionId}\\_\\_%`, `start__${executionId}`]);
  return rows.length;
}

const status = async (id: string) => (await store.getExecution(id))?.status;

/** start → [a, wait (delay)] → join → end */
const withDelay = (ms: number): WorkflowDefinition =>
  graph(
    'delayed-join',
    [node('start', 'step'), node('a', 'step'), node('wait', 'delay', { config: { duration: ms } }), node('join', 'step'), node('end', 'step')],
    ['start->a', 'start->wait', 'a->join', 'wait->join', 'join->end'],
  );

beforeAll(async () => {
  backend = await SqlBackend.embedded();
  store = await DrizzleStore.pglite({ client: backend.pglite! });
}, 180_000);
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
  repaired.length = 0;
  runs.clear();
});
afterAll(async () => {
  await store?.close();
  await backend?.close();
}, 60_000);

describe('reconcile() on the embedded backend', () => {
  it('re-enqueues a lost delay job with the wait it had left; nodes with results do not run again, the join runs once', { timeout: 120_000 }, async () => {
    const e = engine();
    await e.registerWorkflow(withDelay(1500));
    e.startWorkers(4);
    const id = await e.enqueueWorkflow('delayed-join', {});
    await until(async () => (await store.getExecution(id))?.nodeResults['a'] !== undefined, 30_000, "'a' to complete");
    expect(await loseJobs(id)).toBeGreaterThan(0);

    // Within the grace period nothing is touched: the job may only be on its way.
    expect(await e.reconcile()).toMatchObject({ repaired: 0, nodesEnqueued: 0 });
    const summary = await e.reconcile({ graceMs: 0 });
    expect(summary).toMatchObject({ repaired: 1, nodesEnqueued: 1, truncated: false });
    expect(summary.checked).toBeGreaterThanOrEqual(1);
    expect(repaired.map((ev) => [ev.executionId, (ev.data as RepairEventData).nodes])).toEqual([[id, ['wait']]]);

    const done = await e.waitForExecution(id, { timeoutMs: 30_000 });
    expect(done.status).toBe('completed');
    // The delay still ends where it would have: start's completion + 1500 ms.
    expect(done.nodeResults['wait']!.completedAt).toBeGreaterThanOrEqual(done.nodeResults['start']!.completedAt + 1500);
    for (const n of ['start', 'a', 'join', 'end']) expect(runs.get(`${id}/${n}`), n).toBe(1);
  });

  it('is safe on several engines at once: each lost node is enqueued once and runs once', { timeout: 120_000 }, async () => {
    const [e1, e2, e3] = [engine(), engine(), engine()];
    // Long enough that no delay job fires before its row is deleted, even on a loaded machine
    // (with 800 ms, one did at a load of 15, so fewer than five nodes were lost).
    await e1.registerWorkflow(withDelay(5000));
    e1.startWorkers(4);
    const ids = await e1.enqueueBulkWorkflows(Array.from({ length: 5 }, () => ({ workflowId: 'delayed-join' })));
    await until(async () => (await Promise.all(ids.map((id) => store.getExecution(id)))).every((x) => x?.nodeResults['a'] !== undefined), 30_000, "every 'a'");
    for (const id of ids) await loseJobs(id);
    const summaries = await Promise.all([e1, e2, e3].map((e) => e.reconcile({ graceMs: 0 })));
    expect(summaries.reduce((n, s) => n + s.repaired, 0)).toBeGreaterThanOrEqual(ids.length);
    for (const id of ids) expect((await e1.waitForExecution(id, { timeoutMs: 30_000 })).status).toBe('completed');
    for (const id of ids) for (const n of ['start', 'a', 'join', 'end']) expect(runs.get(`${id}/${n}`), `${id}/${n}`).toBe(1);
  });

  it("gives a sub-workflow node's lost job the child it was waiting on, instead of starting a second child", { timeout: 120_000 }, async () => {
    const e = engine();
    await e.registerWorkflow(graph('slow-child', [node('c1', 'delay', { config: { duration: 1500 } }), node('c2', 'step')], ['c1->c2']));
    await e.registerWorkflow(
      graph('parent', [node('p1', 'step'), node('sub', 'sub-workflow', { config: { workflowId: 'slow-child' } }), node('p2', 'step')], ['p1->sub', 'sub->p2']),
    );
    e.startWorkers(4);
    const id = await e.enqueueWorkflow('parent', {});
    await until(async () => (await store.getChildExecutions(id)).length === 1, 30_000, 'the child to start');
    const [child] = await store.getChildExecutions(id);
    // Only the parent's jobs are lost; the child goes on.
    await loseJobs(id);
    expect(await e.reconcile({ graceMs: 0 })).toMatchObject({ nodesEnqueued: 1 });
    const done = await e.waitForExecution(id, { timeoutMs: 60_000 });
    expect(done.status).toBe('completed');
    expect((await store.getChildExecutions(id)).map((c) => c.executionId)).toEqual([child!.executionId]);
    expect(runs.get(`${id}/p1`)).toBe(1);
    expect(runs.get(`${child!.executionId}/c2`)).toBe(1);
  });

  it('FlowProducer mode: the child runs on after its flow jobs are lost, and the parent adopts it', { timeout: 120_000 }, async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    registry.register('gate', async (ctx) => {
      runs.set(`${ctx.executionId}/${ctx.nodeId}`, (runs.get(`${ctx.executionId}/${ctx.nodeId}`) ?? 0) + 1);
      await gate;
      return { success: true, data: {} };
    });
    const e = engine({ useFlowProducerForSubWorkflows: true });
    await e.registerWorkflow(graph('flow-child', [node('g1', 'gate'), node('c2', 'step')], ['g1->c2']));
    await e.registerWorkflow(
      graph('flow-parent', [node('p1', 'step'), node('sub', 'sub-workflow', { config: { workflowId: 'flow-child' } }), node('p2', 'step')], ['p1->sub', 'sub->p2']),
    );
    e.startWorkers(4);
    const id = await e.enqueueWorkflow('flow-parent', {});
    await until(async () => (await store.getChildExecutions(id)).length === 1, 30_000, 'the child to start');
    const [child] = await store.getChildExecutions(id);
    await until(() => runs.get(`${child!.executionId}/g1`) === 1, 30_000, 'the child to run g1');
    // The whole flow (aggregator, c2 waiting for g1, g1 itself) and the parent's job go.
    expect(await loseJobs(child!.executionId)).toBeGreaterThanOrEqual(2);
    await loseJobs(id);
    open();
    // g1's run ends into its result and advances: c2 is enqueued as a plain job.
    await until(async () => (await status(child!.executionId)) === 'completed', 30_000, 'the child to complete');
    expect(await e.reconcile({ graceMs: 0 })).toMatchObject({ nodesEnqueued: 1 });
    expect((await e.waitForExecution(id, { timeoutMs: 30_000 })).status).toBe('completed');
    expect((await store.getChildExecutions(id)).map((c) => c.executionId)).toEqual([child!.executionId]);
    for (const k of [`${id}/p1`, `${id}/p2`, `${child!.executionId}/g1`, `${child!.executionId}/c2`]) expect(runs.get(k), k).toBe(1);
  });

  it('finishes a completion a crash cut short (every node settled, still running)', { timeout: 120_000 }, async () => {
    const e = engine();
    await e.registerWorkflow(graph('pair', [node('x', 'step'), node('y', 'step')], ['x->y']));
    e.startWorkers(2);
    const id = await e.enqueueWorkflow('pair', {});
    await e.waitForExecution(id, { timeoutMs: 30_000 });
    // The state a worker leaves when it dies between writing the last result and completing.
    expect(await store.transitionExecution(id, ['completed'], 'running')).toBe(true);
    expect(await e.reconcile({ graceMs: 0 })).toMatchObject({ repaired: 1, nodesEnqueued: 0 });
    expect(await status(id)).toBe('completed');
    expect(repaired.find((ev) => ev.executionId === id)?.data).toEqual({ nodes: [], advanced: true });
    expect(runs.get(`${id}/x`)).toBe(1);
  });

  it('leaves paused executions to resume, and reports a scheduled start it cannot restore', { timeout: 120_000 }, async () => {
    const e = engine();
    await e.registerWorkflow(withDelay(60_000));
    e.startWorkers(2);
    const held = await e.enqueueWorkflow('delayed-join', {});
    await until(async () => (await store.getExecution(held))?.nodeResults['a'] !== undefined, 30_000, "'a' to complete");
    await e.pauseWorkflow(held);
    await loseJobs(held);
    const later = await e.scheduleWorkflow('delayed-join', {}, Date.now() + 3_600_000);
    expect(await loseJobs(later)).toBe(1);
    // startedBefore is exclusive: let the clock pass the scheduled run's creation time.
    const createdAt = (await store.getExecution(later))!.startedAt;
    await until(() => Date.now() > createdAt, 1000, 'the clock to pass the creation time');
    const summary = await e.reconcile({ graceMs: 0 });
    expect(summary).toMatchObject({ repaired: 0, nodesEnqueued: 0, lostScheduledStarts: 1 });
    expect(await status(later)).toBe('pending');
    expect(await status(held)).toBe('paused');
  });

  it('creates again the cron schedulers this engine registered, but not one removed on purpose', { timeout: 120_000 }, async () => {
    const e = engine();
    const ticking = { ...graph('ticking', [node('t', 'step')], []), triggers: [{ type: 'schedule' as const, config: { cron: '0 3 * * *' } }] };
    await e.registerWorkflow(ticking);
    await e.registerScheduleWithUpsert('ticking', '0 4 * * *');
    expect(await e.getJobSchedulers()).toHaveLength(2);
    // What a wipe takes: the schedulers and their next iterations.
    await backend.pool.query('DELETE FROM bullmq.scheduler');
    await backend.pool.query('DELETE FROM bullmq.job WHERE scheduler_id IS NOT NULL');
    expect(await e.getJobSchedulers()).toHaveLength(0);
    expect(await e.reconcile()).toMatchObject({ schedulesRestored: 2 });
    expect((await e.getJobSchedulers()).map((s) => s.id).sort()).toEqual(['schedule:ticking:0 3 * * *', 'schedule:ticking:0 4 * * *']);
    expect(await e.removeWorkflowSchedulers('ticking')).toBe(2);
    expect(await e.reconcile()).toMatchObject({ schedulesRestored: 0 });
    expect(await e.getJobSchedulers()).toHaveLength(0);
  });

  it('creates again the retention scheduler of an engine that runs workers', { timeout: 120_000 }, async () => {
    const e = engine({ retention: { olderThanMs: 3_600_000, everyMs: 60_000 } });
    e.startWorkers(1);
    await until(async () => (await e.getJobScheduler('spane-retention')) !== null, 30_000, 'the retention scheduler');
    await backend.pool.query('DELETE FROM bullmq.scheduler');
    await backend.pool.query('DELETE FROM bullmq.job WHERE scheduler_id IS NOT NULL');
    expect(await e.reconcile()).toMatchObject({ schedulesRestored: 1 });
    expect((await e.getJobScheduler('spane-retention'))?.every).toBe(60_000);
  });

  it('goes on past an execution it cannot check (its workflow definition is gone), and counts it', { timeout: 120_000 }, async () => {
    const e = engine();
    await e.registerWorkflow(withDelay(300));
    e.startWorkers(2);
    // A running execution whose definition is not in the store (a row deleted by hand).
    const orphan = randomUUID();
    await store.createExecution({
      executionId: orphan,
      workflowId: 'vanished',
      workflowVersion: 1,
      status: 'running',
      initialData: null,
      depth: 0,
      startedAt: Date.now() - 60_000,
    });
    try {
      const id = await e.enqueueWorkflow('delayed-join', {});
      await until(async () => (await store.getExecution(id))?.nodeResults['a'] !== undefined, 30_000, "'a' to complete");
      await loseJobs(id);
      expect(await e.reconcile({ graceMs: 0 })).toMatchObject({ repaired: 1, nodesEnqueued: 1, failed: 1 });
      expect((await e.waitForExecution(id, { timeoutMs: 30_000 })).status).toBe('completed');
    } finally {
      await store.transitionExecution(orphan, ['running'], 'failed', { error: 'test orphan' });
    }
  });

  it('refuses bad options with a typed error', async () => {
    const e = engine();
    await expect(e.reconcile({ graceMs: -1 })).rejects.toThrow(InvalidArgumentError);
    await expect(e.reconcile({ limit: 0 })).rejects.toThrow(InvalidArgumentError);
  });
});
