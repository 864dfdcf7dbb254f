/**
 * The engine's listing (`listExecutionPage`, `countExecutions`) over executions it ran: the
 * summaries a dashboard shows, and bad queries refused before the store is asked. The store
 * side (filters, order, cursors) is the contract suite's, test/contract/execution-listing.contract.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExecutionQueryError } from '../../src/errors.js';
import type { ExecutionListQuery } from '../../src/store/execution-listing.js';
import { InMemoryExecutionStore } from '../../src/store/memory.js';
import { graph, node, testEngine } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

/** Records the listing calls that reach it. */
class CountingStore extends InMemoryExecutionStore {
  readonly asked: string[] = [];
  override async listExecutionPage(query?: ExecutionListQuery) {
    this.asked.push('listExecutionPage');
    return super.listExecutionPage(query);
  }
  override async countExecutions(query?: ExecutionListQuery) {
    this.asked.push('countExecutions');
    return super.countExecutions(query);
  }
}

describe('engine.listExecutionPage / countExecutions', () => {
  let t: TestEngine;
  let store: CountingStore;
  beforeEach(() => {
    store = new CountingStore();
    t = testEngine({ store });
  });
  afterEach(() => t.cleanup());

  it('lists the executions it ran as summaries with node counts, and counts them by status', async () => {
    t.registry.register('ok', async () => ({ success: true, data: 'big'.repeat(100) }));
    t.registry.register('no', async () => ({ success: false, error: 'refused' }));
    await t.engine.registerWorkflow(graph('listed', [node('a', 'ok'), node('b', 'ok'), node('c', 'ok')], ['a->b', 'a->c']));
    await t.engine.registerWorkflow(graph('listed-fail', [node('a', 'ok'), node('b', 'no')], ['a->b']));
    t.engine.startWorkers(2);
    const done = await t.engine.enqueueWorkflow('listed', { n: 1 });
    await t.engine.waitForExecution(done);
    const failed = await t.engine.enqueueWorkflow('listed-fail', {});
    expect((await t.engine.waitForExecution(failed)).status).toBe('failed');

    const page = await t.engine.listExecutionPage();
    expect(page.nextCursor).toBeUndefined();
    expect(page.executions.map((e) => [e.executionId, e.status, e.nodeCounts])).toEqual([
      [failed, 'failed', { completed: 1, failed: 1, skipped: 0 }],
      [done, 'completed', { completed: 3, failed: 0, skipped: 0 }],
    ]);
    expect(page.executions[0]).not.toHaveProperty('nodeResults');
    expect(page.executions[0]).not.toHaveProperty('initialData');
    expect((await t.engine.listExecutionPage({ workflowId: 'listed', limit: 1 })).executions.map((e) => e.executionId)).toEqual([done]);
    expect(await t.engine.countExecutions()).toEqual({ pending: 0, running: 0, paused: 0, completed: 1, failed: 1, cancelled: 0 });
    expect((await t.engine.countExecutions({ workflowId: 'listed-fail' })).failed).toBe(1);
  });

  it('refuses a bad query with an ExecutionQueryError before the store is asked', async () => {
    const bad: [ExecutionListQuery, string][] = [
      [{ status: 'finished' as never }, 'status'],
      [{ limit: 10_000 }, 'limit'],
      [{ cursor: 'x' }, 'cursor'],
      [{ from: 10, to: 5 }, 'range'],
    ];
    for (const [query, field] of bad) {
      const err = await t.engine.listExecutionPage(query).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExecutionQueryError);
      expect(err).toMatchObject({ code: 'EXECUTION_QUERY_INVALID', field });
    }
    await expect(t.engine.countExecutions({ status: [] })).rejects.toMatchObject({ field: 'status' });
    expect(store.asked).toEqual([]);
  });
});
