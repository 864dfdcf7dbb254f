/**
 * The listing part of the store contract (`listExecutionPage`, `countExecutions`), registered by
 * runExecutionStoreContract for every implementation.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ExecutionStatus } from '../../src/definition/types.js';
import { ExecutionQueryError, InvalidArgumentError } from '../../src/errors.js';
import type { SerializedError } from '../../src/errors.js';
import type { ExecutionCountQuery, ExecutionListQuery, ExecutionSummary } from '../../src/store/execution-listing.js';
import type { ExecutionStore, NewExecution } from '../../src/store/store.js';

function execution(executionId: string, extra: Partial<NewExecution> = {}): NewExecution {
  return { executionId, workflowId: 'wf', workflowVersion: 1, status: 'running', initialData: { n: 1 }, depth: 0, startedAt: 1000, ...extra };
}

/** Every page of `query`, following `nextCursor`; `between` runs before each next page. */
async function walk(store: ExecutionStore, query: ExecutionListQuery, between: (page: number) => Promise<void> = async () => {}): Promise<ExecutionSummary[][]> {
  const pages: ExecutionSummary[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listExecutionPage(cursor === undefined ? query : { ...query, cursor });
    pages.push(page.executions);
    cursor = page.nextCursor;
    if (cursor !== undefined) await between(pages.length);
  } while (cursor !== undefined);
  return pages;
}

const DETAILS: SerializedError = { message: 'boom', name: 'Error', retryable: true };

/** Registers the listing tests; `current` is the store of the running test. */
export function describeExecutionListing(current: () => ExecutionStore, peer: (store: ExecutionStore) => ExecutionStore): void {
  describe('listExecutionPage / countExecutions', () => {
    let store: ExecutionStore;
    const ids = async (query: ExecutionListQuery = {}) => (await store.listExecutionPage(query)).executions.map((e) => e.executionId);

    beforeEach(async () => {
      store = current();
      // Created out of startedAt order: the listing orders by startedAt, not by creation.
      await store.createExecution(execution('b-2', { workflowId: 'billing', workflowVersion: 2, startedAt: 3000 }));
      await store.createExecution(execution('o-1', { workflowId: 'orders', startedAt: 1000, status: 'pending' }));
      await store.createExecution(execution('o-3', { workflowId: 'orders', workflowVersion: 2, startedAt: 5000 }));
      await store.createExecution(execution('o-2', { workflowId: 'orders', startedAt: 2000 }));
      await store.createExecution(execution('b-1', { workflowId: 'billing', startedAt: 4000 }));
      await store.transitionExecution('o-2', ['running'], 'failed', { error: 'node b failed', errorDetails: DETAILS });
      await store.transitionExecution('b-1', ['running'], 'completed');
    });

    it('keeps every field of the execution but its data and results: sub-workflow, pause, fork, trace', async () => {
      const full = execution('full', {
        startedAt: 9000,
        parentExecutionId: 'parent',
        parentNodeId: 'sub',
        depth: 1,
        forkedFrom: { executionId: 'original', nodeId: 'charge' },
        traceId: '0af7651916cd43dd8448eb211c80319c',
        traceParent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      });
      await store.createExecution(full);
      await store.transitionExecution('full', ['running'], 'paused', { pausedAt: 9500 });
      const stored = (await store.getExecution('full'))!;
      const { initialData: _data, nodeResults: _results, ...fields } = stored;
      expect(fields.forkedFrom).toEqual({ executionId: 'original', nodeId: 'charge' });
      expect(fields.traceId).toBe(full.traceId);
      const summary = (await store.listExecutionPage({ executionId: 'full' })).executions[0];
      expect(summary).toEqual({ ...fields, nodeCounts: { completed: 0, failed: 0, skipped: 0 } });
    });

    it('lists summaries newest first by startedAt: no initial data, no node results, node counts by status', async () => {
      await store.saveNodeResult('o-2', 'a', { status: 'completed', data: 'x'.repeat(1000), attempts: 1, completedAt: 2100 });
      await store.saveNodeResult('o-2', 'b', { status: 'failed', error: 'nope', attempts: 3, completedAt: 2200 });
      await store.saveNodeResult('o-2', 'c', { status: 'skipped', attempts: 0, completedAt: 2200 });
      await store.saveNodeResult('o-2', 'd', { status: 'skipped', attempts: 0, completedAt: 2200 });
      const page = await store.listExecutionPage();
      expect(page.executions.map((e) => e.executionId)).toEqual(['o-3', 'b-1', 'b-2', 'o-2', 'o-1']);
      expect(page.nextCursor).toBeUndefined();
      const failed = page.executions.find((e) => e.executionId === 'o-2')!;
      expect(failed).toEqual({
        executionId: 'o-2',
        workflowId: 'orders',
        workflowVersion: 1,
        status: 'failed',
        depth: 0,
        startedAt: 2000,
        completedAt: expect.any(Number),
        error: 'node b failed',
        errorDetails: DETAILS,
        nodeCounts: { completed: 1, failed: 1, skipped: 2 },
      });
      expect(page.executions.find((e) => e.executionId === 'o-1')).toEqual({
        executionId: 'o-1',
        workflowId: 'orders',
        workflowVersion: 1,
        status: 'pending',
        depth: 0,
        startedAt: 1000,
        nodeCounts: { completed: 0, failed: 0, skipped: 0 },
      });
    });

    it('orders executions that started in the same millisecond by id, newest (greatest) first', async () => {
      for (const id of ['t-a', 't-c', 't-b']) await store.createExecution(execution(id, { workflowId: 'ties', startedAt: 7000 }));
      expect(await ids({ workflowId: 'ties' })).toEqual(['t-c', 't-b', 't-a']);
    });

    it('filters by workflow, version, one status or several, and combinations', async () => {
      expect(await ids({ workflowId: 'orders' })).toEqual(['o-3', 'o-2', 'o-1']);
      expect(await ids({ workflowId: 'orders', version: 2 })).toEqual(['o-3']);
      expect(await ids({ workflowId: 'billing', version: 1 })).toEqual(['b-1']);
      expect(await ids({ status: 'running' })).toEqual(['o-3', 'b-2']);
      expect(await ids({ status: ['failed', 'pending'] })).toEqual(['o-2', 'o-1']);
      expect(await ids({ workflowId: 'orders', status: ['running', 'failed'] })).toEqual(['o-3', 'o-2']);
      expect(await ids({ workflowId: 'nope' })).toEqual([]);
      expect(await ids({ status: 'cancelled' })).toEqual([]);
    });

    it('filters by startedAt: from inclusive, to exclusive', async () => {
      expect(await ids({ from: 2000 })).toEqual(['o-3', 'b-1', 'b-2', 'o-2']);
      expect(await ids({ to: 3000 })).toEqual(['o-2', 'o-1']);
      expect(await ids({ from: 2000, to: 4000 })).toEqual(['b-2', 'o-2']);
      expect(await ids({ from: 3000, to: 3000 })).toEqual([]);
      expect(await ids({ from: 1000, to: 5001, workflowId: 'billing', status: 'completed' })).toEqual(['b-1']);
    });

    it('finds executions by id prefix, with % and _ matched literally', async () => {
      await store.createExecution(execution('50%_off', { startedAt: 6000 }));
      await store.createExecution(execution('50xyoff', { startedAt: 6001 }));
      expect(await ids({ executionId: 'o-' })).toEqual(['o-3', 'o-2', 'o-1']);
      expect(await ids({ executionId: 'b-1' })).toEqual(['b-1']);
      expect(await ids({ executionId: '50%_' })).toEqual(['50%_off']);
      expect(await ids({ executionId: '50' })).toEqual(['50xyoff', '50%_off']);
      expect(await ids({ executionId: 'O-' })).toEqual([]);
    });

    it('pages with a cursor, ties across page ends included, without duplicates or gaps while executions are created and finish', async () => {
      const expected: string[] = [];
      // Three executions per millisecond, so that page boundaries fall inside ties.
      for (let i = 0; i < 23; i++) await store.createExecution(execution(`p-${String(i).padStart(2, '0')}`, { workflowId: 'paged', startedAt: 10_000 + Math.floor(i / 3) }));
      for (let i = 22; i >= 0; i--) expected.push(`p-${String(i).padStart(2, '0')}`);
      let created = 0;
      const pages = await walk(store, { workflowId: 'paged', limit: 5 }, async (n) => {
        // Newer executions arrive and listed ones finish between pages: neither shifts the walk.
        await store.createExecution(execution(`p-new-${created++}`, { workflowId: 'paged', startedAt: 20_000 + n }));
        await store.transitionExecution(expected[n * 5 - 1]!, ['running'], 'completed');
      });
      expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
      expect(pages.flat().map((e) => e.executionId)).toEqual(expected);
      // A page that ends exactly at the last match says there is no next page.
      const all = await store.listExecutionPage({ workflowId: 'paged', from: 10_000, to: 20_000, limit: 23 });
      expect(all.executions).toHaveLength(23);
      expect(all.nextCursor).toBeUndefined();
    });

    it('pages a status filter and a time range the same way', async () => {
      for (let i = 0; i < 12; i++) await store.createExecution(execution(`s-${i}`, { workflowId: 'statuses', startedAt: 30_000 + i, status: i % 2 === 0 ? 'paused' : 'running' }));
      const paused = await walk(store, { status: 'paused', limit: 4 });
      expect(paused.flat().map((e) => e.executionId)).toEqual(['s-10', 's-8', 's-6', 's-4', 's-2', 's-0']);
      const ranged = await walk(store, { from: 30_003, to: 30_009, limit: 2 });
      expect(ranged.flat().map((e) => e.executionId)).toEqual(['s-8', 's-7', 's-6', 's-5', 's-4', 's-3']);
    });

    it('returns 50 by default and at most 500', async () => {
      for (let i = 0; i < 60; i++) await store.createExecution(execution(`bulk-${i}`, { workflowId: 'bulk', startedAt: 40_000 + i }));
      const first = await store.listExecutionPage({ workflowId: 'bulk' });
      expect(first.executions).toHaveLength(50);
      expect(first.executions[0]!.executionId).toBe('bulk-59');
      expect(first.nextCursor).toBeTypeOf('string');
      expect((await store.listExecutionPage({ workflowId: 'bulk', limit: 500 })).executions).toHaveLength(60);
    });

    it('sees executions written through another handle (read-your-writes)', async () => {
      await store.createExecution(execution('seen', { workflowId: 'peer', startedAt: 50_000 }));
      expect((await peer(store).listExecutionPage({ workflowId: 'peer' })).executions.map((e) => e.executionId)).toEqual(['seen']);
      expect((await peer(store).countExecutions({ workflowId: 'peer' })).running).toBe(1);
    });

    it('counts executions by status, every status present, under the same filters', async () => {
      const none: Record<ExecutionStatus, number> = { pending: 0, running: 0, paused: 0, completed: 0, failed: 0, cancelled: 0 };
      expect(await store.countExecutions()).toEqual({ ...none, pending: 1, running: 2, completed: 1, failed: 1 });
      expect(await store.countExecutions({ workflowId: 'orders' })).toEqual({ ...none, pending: 1, running: 1, failed: 1 });
      expect(await store.countExecutions({ workflowId: 'orders', version: 1 })).toEqual({ ...none, pending: 1, failed: 1 });
      expect(await store.countExecutions({ from: 2000, to: 5000 })).toEqual({ ...none, running: 1, completed: 1, failed: 1 });
      expect(await store.countExecutions({ status: ['running', 'failed'] })).toEqual({ ...none, running: 2, failed: 1 });
      expect(await store.countExecutions({ executionId: 'b-' })).toEqual({ ...none, running: 1, completed: 1 });
      expect(await store.countExecutions({ workflowId: 'nope' })).toEqual(none);
    });

    it('refuses bad queries with an ExecutionQueryError naming the option', async () => {
      const unfinished = await store.listUnfinishedExecutions?.({ limit: 1 });
      const cases: [string, ExecutionListQuery, string][] = [
        ['unknown status', { status: 'done' as never }, 'status'],
        ['unknown status in a list', { status: ['running', 'done' as never] }, 'status'],
        ['no status', { status: [] }, 'status'],
        ['status a number', { status: 1 as never }, 'status'],
        ['cursor not base64 JSON', { cursor: 'not a cursor' }, 'cursor'],
        ['cursor of another shape', { cursor: Buffer.from('[1,2]').toString('base64url') }, 'cursor'],
        ['cursor a number', { cursor: 7 as never }, 'cursor'],
        ['limit 0', { limit: 0 }, 'limit'],
        ['limit 501', { limit: 501 }, 'limit'],
        ['limit 1.5', { limit: 1.5 }, 'limit'],
        ['limit a string', { limit: '10' as never }, 'limit'],
        ['from after to', { from: 2000, to: 1000 }, 'range'],
        ['from NaN', { from: Number.NaN }, 'from'],
        ['from 1.5', { from: 1.5 }, 'from'],
        ['to 1e300', { to: 1e300 }, 'to'],
        ['cursor past bigint', { cursor: Buffer.from(JSON.stringify(['newest', 1e300, 'x'])).toString('base64url') }, 'cursor'],
        ['executionId with NUL', { executionId: 'a\u0000' }, 'executionId'],
        ['workflowId with NUL', { workflowId: 'w\u0000' }, 'workflowId'],
        ['to a string', { to: '2026-01-01' as never }, 'to'],
        ['version without workflowId', { version: 1 }, 'version'],
        ['version 0', { workflowId: 'wf', version: 0 }, 'version'],
        ['workflowId empty', { workflowId: '' }, 'workflowId'],
        ['workflowId a number', { workflowId: 7 as never }, 'workflowId'],
        ['executionId empty', { executionId: '' }, 'executionId'],
        ['unknown option', { workflow: 'wf' } as never, 'query'],
      ];
      if (unfinished?.nextCursor !== undefined) cases.push(['a listUnfinishedExecutions cursor', { cursor: unfinished.nextCursor }, 'cursor']);
      const got: [string, unknown][] = [];
      for (const [label, query] of cases) {
        got.push([
          label,
          await store.listExecutionPage(query).then(
            () => 'resolved',
            (e: unknown) => (e instanceof ExecutionQueryError && e instanceof InvalidArgumentError ? [e.code, e.field] : e),
          ),
        ]);
      }
      expect(got).toEqual(cases.map(([label, , field]) => [label, ['EXECUTION_QUERY_INVALID', field]]));
      const counts: [ExecutionCountQuery, string][] = [
        [null as never, 'query'],
        [{ status: 'done' as never }, 'status'],
        [{ from: 5, to: 4 }, 'range'],
        [{ limit: 5 } as never, 'query'],
      ];
      for (const [query, field] of counts) await expect(store.countExecutions(query)).rejects.toMatchObject({ code: 'EXECUTION_QUERY_INVALID', field });
      await expect(store.listExecutionPage(null as never)).rejects.toMatchObject({ field: 'query' });
    });
  });
}
