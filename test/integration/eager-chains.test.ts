/**
 * Eager chains (engine option `eagerChains`, `eager` on workflows and nodes): a chain runs in
 * fewer BullMQ jobs than it has nodes, with the same results and events as without; children
 * that cannot chain (a retry, a delay, a fan-out or join, past `maxLength`, a paused or cancelled
 * execution) get jobs of their own. Job counts come from the node queue, which keeps completed
 * jobs (removeOnComplete keeps 1000).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { findWorkflowIssues, InvalidConfigError, transform, workflow, WorkflowEngine } from '../../src/index.js';
import type { EngineConfig, SpaneEvent, WorkflowDefinition } from '../../src/index.js';
import { engineInternals } from '../../src/runtime/engine/test-hooks.js';
import { graph, isEvent, node, recordEvents, testEngine, until, waitForParked } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

let engines: TestEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.map((e) => e.cleanup()));
  engines = [];
});

function make(config: EngineConfig): TestEngine {
  const t = testEngine({ config });
  engines.push(t);
  t.registry.register('add', async (ctx) => ({ success: true, data: { path: [...((ctx.inputData as { path?: string[] }).path ?? []), ctx.nodeId] } }));
  return t;
}

/** Node ids of the jobs the node queue has for the execution, sorted. */
async function jobNodes(engine: WorkflowEngine, executionId: string): Promise<string[]> {
  const jobs = await engineInternals(engine).rt.queues.nodeQueue.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed', 'prioritized']);
  return jobs
    .filter((j) => j.data.executionId === executionId)
    .map((j) => j.data.nodeId)
    .sort();
}

const chain = (id: string, n: number, extra: Partial<WorkflowDefinition> = {}): WorkflowDefinition => {
  const ids = Array.from({ length: n }, (_, i) => `n${i + 1}`);
  return graph(
    id,
    ids.map((i) => node(i, 'add')),
    ids.slice(1).map((to, i) => `${ids[i]}->${to}`),
    extra,
  );
};

/** What events say, without ids and times: type and node, in order. */
const shape = (events: SpaneEvent[], executionId: string) =>
  events.filter((e) => e.executionId === executionId).map((e) => `${e.type}${e.nodeId === undefined ? '' : `:${e.nodeId}`}`);

describe('eager chains', () => {
  it('runs a chain in one job, with the results and events of separate jobs', async () => {
    const runs: Record<string, { jobs: string[]; data: unknown; events: string[]; attempts: number[] }> = {};
    for (const eagerChains of [false, true]) {
      const t = make({ eagerChains });
      await t.engine.registerWorkflow(chain('eager-chain', 5));
      const log = recordEvents(t.engine);
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow('eager-chain', {});
      const done = await t.engine.waitForExecution(id);
      expect(done.status).toBe('completed');
      await log.next((e) => e.type === 'workflow:completed' && e.executionId === id);
      runs[String(eagerChains)] = {
        jobs: await jobNodes(t.engine, id),
        data: done.nodeResults['n5']?.data,
        events: shape(log.events, id),
        attempts: Object.values(done.nodeResults).map((r) => r.attempts),
      };
    }
    expect(runs['false']!.jobs).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(runs['true']!.jobs).toEqual(['n1']);
    expect(runs['true']!.data).toEqual({ path: ['n1', 'n2', 'n3', 'n4', 'n5'] });
    expect(runs['true']!.data).toEqual(runs['false']!.data);
    expect(runs['true']!.events).toEqual(runs['false']!.events);
    expect(runs['true']!.attempts).toEqual([1, 1, 1, 1, 1]);
  });

  it('sends a child whose first attempt fails to the queue, which retries it with its backoff', async () => {
    const t = make({ eagerChains: true });
    let calls = 0;
    t.registry.register('flaky', async (ctx) => {
      calls += 1;
      if (ctx.attempt === 1) return { success: false, error: 'first attempt fails' };
      return { success: true, data: { path: [...(ctx.inputData as { path: string[] }).path, ctx.nodeId, `attempt-${ctx.attempt}`] } };
    });
    const wf = graph(
      'eager-retry',
      [node('n1', 'add'), node('n2', 'flaky', { retryPolicy: { maxAttempts: 2, backoff: { type: 'fixed', delay: 50 } } }), node('n3', 'add')],
      ['n1->n2', 'n2->n3'],
    );
    await t.engine.registerWorkflow(wf);
    const log = recordEvents(t.engine);
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('eager-retry', {});
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('completed');
    expect(calls).toBe(2);
    expect(done.nodeResults['n2']?.attempts).toBe(2);
    expect(done.nodeResults['n3']?.data).toEqual({ path: ['n1', 'n2', 'attempt-2', 'n3'] });
    // n2's retry has a job of its own; n3 chains behind it.
    expect(await jobNodes(t.engine, id)).toEqual(['n1', 'n2']);
    expect(shape(log.events, id)).toContain('node:retrying:n2');
  });

  it('fails the execution when a chained child fails its only attempt, with a DLQ item that retries it', async () => {
    const t = make({ eagerChains: true });
    let fail = true;
    t.registry.register('once', async () => (fail ? { success: false, error: 'nope' } : { success: true, data: 'ok' }));
    await t.engine.registerWorkflow(graph('eager-fail', [node('n1', 'add'), node('n2', 'once')], ['n1->n2']));
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('eager-fail', {});
    const failed = await t.engine.waitForExecution(id);
    expect(failed.status).toBe('failed');
    expect(failed.nodeResults['n2']).toMatchObject({ status: 'failed', error: 'nope', attempts: 1 });
    const [item] = await t.engine.getDLQItems();
    expect(item).toMatchObject({ executionId: id, nodeId: 'n2' });
    fail = false;
    expect(await t.engine.retryDLQItem(item!.jobId)).toBe(true);
    await until(async () => (await t.engine.getExecution(id))?.status === 'completed', 10_000, 'the retried execution to complete');
  });

  it('gives delay nodes, fan-outs and joins jobs of their own, and chains below them', async () => {
    const t = make({ eagerChains: true });
    const wf = graph(
      'eager-shapes',
      [node('a', 'add'), node('wait', 'delay', { config: { duration: 20 } }), node('b', 'add'), node('c', 'add'), node('d', 'add'), node('join', 'add'), node('tail', 'add')],
      ['a->wait', 'wait->b', 'b->c', 'b->d', 'c->join', 'd->join', 'join->tail'],
    );
    await t.engine.registerWorkflow(wf);
    t.engine.startWorkers(4);
    const id = await t.engine.enqueueWorkflow('eager-shapes', {});
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('completed');
    // b chains behind the delay; c and d are a fan-out, join has two parents; tail chains behind join.
    expect(await jobNodes(t.engine, id)).toEqual(['a', 'c', 'd', 'join', 'wait']);
    expect(done.nodeResults['tail']?.status).toBe('completed');
  });

  it('sends a chained child over its rate limit to the queue, delayed as its own job would be', async () => {
    const t = make({ eagerChains: true });
    t.registry.register('limited', async (ctx) => ({ success: true, data: ctx.inputData }));
    // One run per 3 s, after a burst of two (the GCRA's tolerance): l3 right after l1 and l2 must wait.
    t.registry.registerRateLimit('limited', { max: 1, duration: 3000 });
    await t.engine.registerWorkflow(graph('eager-limit', [node('n1', 'add'), node('l1', 'limited'), node('l2', 'limited'), node('l3', 'limited')], ['n1->l1', 'l1->l2', 'l2->l3']));
    const log = recordEvents(t.engine);
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('eager-limit', {});
    expect((await t.engine.waitForExecution(id)).status).toBe('completed');
    expect(await jobNodes(t.engine, id)).toEqual(['l3', 'n1']);
    expect(log.events.find((e) => e.executionId === id && e.type === 'node:delayed' && e.nodeId === 'l3')?.data).toMatchObject({ reason: 'rate-limit' });
  });

  it('starts a new job every maxLength nodes', async () => {
    const t = make({ eagerChains: { maxLength: 2 } });
    await t.engine.registerWorkflow(chain('eager-max', 5));
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('eager-max', {});
    expect((await t.engine.waitForExecution(id)).status).toBe('completed');
    expect(await jobNodes(t.engine, id)).toEqual(['n1', 'n3', 'n5']);
  });

  it('parks the next node of a chain whose execution was paused mid-chain, and finishes it on resume', async () => {
    const t = make({ eagerChains: true });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    t.registry.register('gate', async (ctx) => {
      await released;
      return { success: true, data: ctx.inputData };
    });
    await t.engine.registerWorkflow(graph('eager-pause', [node('n1', 'add'), node('n2', 'gate'), node('n3', 'add')], ['n1->n2', 'n2->n3']));
    const log = recordEvents(t.engine);
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('eager-pause', {});
    await log.next(isEvent('node:started', 'n2'));
    expect(await t.engine.pauseWorkflow(id)).toBe(true);
    release();
    await waitForParked(t.engine, id, 'n3');
    expect((await t.engine.getExecution(id))?.nodeResults['n3']).toBeUndefined();
    expect(await t.engine.resumeWorkflow(id)).toBe(true);
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('completed');
    expect(await jobNodes(t.engine, id)).toEqual(['n1', 'n3']);
  });

  it('runs nothing more of a chain whose execution was cancelled mid-chain', async () => {
    const t = make({ eagerChains: true });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    t.registry.register('gate', async (ctx) => {
      await released;
      return { success: true, data: ctx.inputData };
    });
    await t.engine.registerWorkflow(graph('eager-cancel', [node('n1', 'add'), node('n2', 'gate'), node('n3', 'add')], ['n1->n2', 'n2->n3']));
    const log = recordEvents(t.engine);
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('eager-cancel', {});
    await log.next(isEvent('node:started', 'n2'));
    expect(await t.engine.cancelWorkflow(id)).toBe(true);
    release();
    // The chain's job ends without running n3.
    await until(async () => (await engineInternals(t.engine).rt.queues.nodeQueue.getJobState(`${id}__n1`)) === 'completed', 10_000, 'the chain job to end');
    const after = await t.engine.getExecution(id);
    expect(after?.status).toBe('cancelled');
    expect(after?.nodeResults['n3']).toBeUndefined();
    expect(await jobNodes(t.engine, id)).toEqual(['n1']);
  });

  it('hands the next node of a chain to the queue when its worker closes', async () => {
    const t = make({ eagerChains: true });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    t.registry.register('gate', async (ctx) => {
      await released;
      return { success: true, data: ctx.inputData };
    });
    await t.engine.registerWorkflow(graph('eager-close', [node('n1', 'add'), node('n2', 'gate'), node('n3', 'add')], ['n1->n2', 'n2->n3']));
    const log = recordEvents(t.engine);
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('eager-close', {});
    await log.next(isEvent('node:started', 'n2'));
    const closed = t.engine.close();
    // The engine stops its reconciler first; the worker is closing once the engine lets go of it.
    await until(() => engineInternals(t.engine).nodeWorker() === undefined, 10_000, 'the worker to close');
    release();
    await closed;
    expect((await t.store.getExecution(id))?.nodeResults['n3']).toBeUndefined();
    const other = t.sibling({ eagerChains: true });
    other.startWorkers(2);
    expect((await other.waitForExecution(id)).status).toBe('completed');
    expect(await jobNodes(other, id)).toEqual(['n1', 'n3']);
  });

  it('opts in per workflow and out per node through the DSL, with the engine option off', async () => {
    const t = make({ eagerChains: false });
    const step = (name: string) => transform(`eager-dsl-${name}`, (x: { path: string[] }) => ({ path: [...x.path, name] }));
    const built = workflow('eager-dsl', { eager: true, input: z.object({ path: z.array(z.string()) }) })
      .node('a', step('a'))
      .then('b', step('b'))
      .then('c', step('c'), { eager: false })
      .then('d', step('d'))
      .build();
    expect(built.eager).toBe(true);
    expect(built.nodes.find((n) => n.id === 'c')?.eager).toBe(false);
    await t.engine.registerWorkflow(built);
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('eager-dsl', { path: [] });
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('completed');
    expect(done.nodeResults['d']?.data).toEqual({ path: ['a', 'b', 'c', 'd'] });
    expect(await jobNodes(t.engine, id)).toEqual(['a', 'c']);
  });

  it('refuses a bad eagerChains option and a non-boolean eager in a definition', async () => {
    const t = make({});
    for (const eagerChains of [{ maxLength: 0 }, 'yes', { maxLength: 2, other: 1 }]) {
      expect(() => new WorkflowEngine({ registry: t.registry, store: t.store, connection: t.redis, config: { eagerChains } as unknown as EngineConfig })).toThrow(
        InvalidConfigError,
      );
    }
    const bad = { ...chain('eager-bad', 2), eager: 'yes' } as unknown as WorkflowDefinition;
    expect(findWorkflowIssues(bad).map((i) => i.path)).toEqual(['eager']);
    const badNode = chain('eager-bad-node', 2);
    (badNode.nodes[1] as unknown as Record<string, unknown>)['eager'] = 1;
    expect(findWorkflowIssues(badNode).map((i) => i.path)).toEqual(['nodes[1].eager']);
    expect(findWorkflowIssues({ ...chain('eager-ok', 2), eager: true })).toEqual([]);
  });
});
