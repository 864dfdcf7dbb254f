/**
 * A node's view of its execution handed to the children it enqueued (src/runtime/execution/handoff.ts):
 * the children skip the store read, and a pause or cancel made in this process still stops them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { nodeJobId } from '../../src/index.js';
import { engineInternals } from '../../src/runtime/engine/test-hooks.js';
import { graph, node, SpyStore, testEngine, until } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

/** Counts reads, and claims to be remote so that the engine hands views over as it would on PostgreSQL. */
class CountingStore extends SpyStore {
  override readonly inProcess = false;
  reads = 0;
  override async getExecution(...args: Parameters<SpyStore['getExecution']>) {
    this.reads++;
    return super.getExecution(...args);
  }
  override async getExecutionHead(...args: Parameters<SpyStore['getExecutionHead']>) {
    this.reads++;
    return super.getExecutionHead(...args);
  }
}

let t: TestEngine;
afterEach(async () => t?.cleanup());

const chain = (id: string, length: number, type = 'step') =>
  graph(
    id,
    Array.from({ length }, (_, i) => node(`n${i}`, type)),
    Array.from({ length: length - 1 }, (_, i) => `n${i}->n${i + 1}`),
  );

describe("handing a finished node's view to its children", () => {
  it('is off for the in-memory store, whose reads cost what a copy does', async () => {
    const store = new SpyStore();
    t = testEngine({ store });
    const reads = { n: 0 };
    const read = store.getExecutionHead.bind(store);
    store.getExecutionHead = (...args) => (reads.n++, read(...args));
    t.registry.register('step', async (ctx) => ({ success: true, data: ctx.nodeId }));
    await t.engine.registerWorkflow(chain('mem', 4));
    t.engine.startWorkers(1);
    const id = await t.engine.enqueueWorkflow('mem', {});
    await until(() => store.count(id, 'completed') === 1, 15_000, 'the chain to complete');
    expect(reads.n).toBeGreaterThanOrEqual(4);
  });

  it('a chain run by one process reads the execution far fewer times than it has nodes, with the same results', async () => {
    const store = new CountingStore();
    t = testEngine({ store });
    t.registry.register('step', async (ctx) => ({ success: true, data: { at: ctx.nodeId, got: ctx.inputData } }));
    await t.engine.registerWorkflow(chain('long', 12));
    t.engine.startWorkers(1);
    const before = store.reads;
    const id = await t.engine.enqueueWorkflow('long', { seed: 1 });
    // Wait on the completion transition, not waitForExecution, whose polling reads too.
    await until(() => store.count(id, 'completed') === 1, 15_000, 'the chain to complete');
    const reads = store.reads - before;
    expect(reads).toBeLessThan(12);
    const done = (await store.getExecution(id))!;
    expect(done.status).toBe('completed');
    expect(done.nodeResults['n0']?.data).toEqual({ at: 'n0', got: { seed: 1 } });
    for (let i = 1; i < 12; i++) expect(done.nodeResults[`n${i}`]?.data).toEqual({ at: `n${i}`, got: done.nodeResults[`n${i - 1}`]!.data });
  });

  it('fan-out children each get their own copy of the view', async () => {
    const store = new CountingStore();
    t = testEngine({ store });
    t.registry.register('root', async () => ({ success: true, data: { items: [1, 2, 3] } }));
    // Each child changes its input; a shared object would show the other child's change.
    t.registry.register('mutate', async (ctx) => {
      const input = ctx.inputData as { items: number[] };
      const seen = [...input.items];
      input.items.push(99);
      return { success: true, data: seen };
    });
    await t.engine.registerWorkflow(graph('fan', [node('root', 'root'), node('x', 'mutate'), node('y', 'mutate')], ['root->x', 'root->y']));
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('fan', {});
    await until(() => store.count(id, 'completed') === 1, 15_000, 'the fan-out to complete');
    const done = (await store.getExecution(id))!;
    expect(done.nodeResults['x']?.data).toEqual([1, 2, 3]);
    expect(done.nodeResults['y']?.data).toEqual([1, 2, 3]);
    expect(done.nodeResults['root']?.data).toEqual({ items: [1, 2, 3] });
  });

  it.each(['pause', 'cancel'] as const)('a %s made while the parent runs stops the child that was handed a view', async (how) => {
    const store = new CountingStore();
    t = testEngine({ store });
    const ran: string[] = [];
    t.registry.register('stops-itself', async (ctx) => {
      ran.push(ctx.nodeId);
      // The parent read `running` before this call; it finishes after it and offers that view.
      if (how === 'pause') await t.engine.pauseWorkflow(ctx.executionId);
      else await t.engine.cancelWorkflow(ctx.executionId);
      return { success: true, data: 'a' };
    });
    t.registry.register('step', async (ctx) => {
      ran.push(ctx.nodeId);
      return { success: true, data: ctx.nodeId };
    });
    await t.engine.registerWorkflow(graph('stop', [node('a', 'stops-itself'), node('b', 'step')], ['a->b']));
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('stop', {});
    await until(async () => (await store.getExecution(id))?.nodeResults['a'] !== undefined, 10_000, 'node a to finish');
    // a's job has ended (its advance is done), and b's job, if one was queued, has been taken: parked
    // (paused), or ended (cancelled, or run on the stale view, which the assertion below catches).
    const state = async (nodeId: string) => engineInternals(t.engine).rt.queues.nodeQueue.getJobState(nodeJobId(id, nodeId));
    await until(async () => (await state('a')) !== 'active', 10_000, "node a's job to end");
    await until(async () => !['waiting', 'active', 'prioritized'].includes(await state('b')), 10_000, "node b's job to be taken");
    expect(ran).toEqual(['a']);
    if (how === 'cancel') {
      expect((await store.getExecution(id))?.status).toBe('cancelled');
      return;
    }
    expect((await store.getExecution(id))?.status).toBe('paused');
    await t.engine.resumeWorkflow(id);
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('completed');
    expect(ran).toEqual(['a', 'b']);
  });
});
