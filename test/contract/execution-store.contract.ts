/**
 * The behaviour every {@link ExecutionStore} must have, as one suite each implementation runs
 * (in-memory, Drizzle on PostgreSQL, Drizzle on PGlite). It is the executable form of the TSDoc
 * guarantees in src/store/store.ts; implementation details (eviction, pools, migrations) are tested
 * beside each implementation instead.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ExecutionStatus, NodeResult, WorkflowDefinition } from '../../src/definition/types.js';
import { ExecutionNotFoundError, InvalidArgumentError } from '../../src/errors.js';
import type { SerializedError } from '../../src/errors.js';
import { readExecutionHead } from '../../src/store/store.js';
import type { ExecutionFilter, ExecutionStore, NewExecution, UnfinishedExecutionQuery } from '../../src/store/store.js';
import { isPayloadStore } from '../../src/store/payload-store.js';
import type { PayloadStore } from '../../src/store/payload-store.js';
import { describeExecutionListing } from './execution-listing.contract.js';

/** What {@link runExecutionStoreContract} needs to know about an implementation. */
export interface ContractOptions {
  /** Called after each test with the store {@link StoreFactory} returned. */
  teardown?: (store: ExecutionStore) => void | Promise<void>;
  /**
   * Another handle on the same data, through a different connection where the store has
   * connections: the suite then checks read-your-writes and compare-and-set across handles, as
   * two worker processes would see them. Stores without connections return the store itself.
   */
  peer?: (store: ExecutionStore) => ExecutionStore;
  /**
   * Whether saving a definition whose keys are only reordered keeps the version. The in-memory
   * store compares JSON text today and does not.
   * @defaultValue true
   */
  canonicalVersioning?: boolean;
}

/** Makes an empty store for one test. */
export type StoreFactory = () => ExecutionStore | Promise<ExecutionStore>;

export function workflowFixture(id = 'wf', extra: Partial<WorkflowDefinition> = {}): WorkflowDefinition {
  return {
    id,
    name: id,
    entryNodeId: 'a',
    nodes: [
      { id: 'a', type: 'work', config: {}, inputs: [], outputs: ['b'] },
      { id: 'b', type: 'work', config: {}, inputs: ['a'], outputs: [] },
    ],
    ...extra,
  };
}

export function executionFixture(executionId: string, extra: Partial<NewExecution> = {}): NewExecution {
  return { executionId, workflowId: 'wf', workflowVersion: 1, status: 'running', initialData: { n: 1 }, depth: 0, startedAt: 1000, ...extra };
}

export function resultFixture(data: unknown, extra: Partial<NodeResult> = {}): NodeResult {
  return { status: 'completed', data, attempts: 1, completedAt: 2000, ...extra };
}

/** A stored error with a cause chain, as the runtime writes it. */
const DETAILS: SerializedError = {
  message: "Workflow 'w', node 'f': input does not match its schema at email (received 1)",
  name: 'NodeInputError',
  code: 'NODE_INPUT_INVALID',
  retryable: false,
  stack: 'NodeInputError: ...\n    at run (file.ts:1:1)',
  cause: { message: 'Invalid input: expected string', name: 'ZodError', retryable: true, cause: { message: 'deepest', name: 'TypeError', retryable: true } },
};

/** Registers the contract suite for one implementation under `describe(name)`. */
export function runExecutionStoreContract(name: string, makeStore: StoreFactory, options: ContractOptions = {}): void {
  const workflow = workflowFixture;
  const execution = executionFixture;
  const result = resultFixture;

  describe(`ExecutionStore contract: ${name}`, () => {
    let store: ExecutionStore;
    const ids = async (filter?: ExecutionFilter) => (await store.listExecutions(filter)).map((e) => e.executionId);

    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      vi.useRealTimers();
      await options.teardown?.(store);
    });

    describe('workflows', () => {
      it('gives the first save version 1 and stores the version on the definition', async () => {
        expect(await store.saveWorkflow(workflow())).toBe(1);
        expect(await store.getWorkflow('wf')).toEqual({ ...workflow(), version: 1 });
      });

      it('returns the same version for an unchanged definition, whatever version it carries', async () => {
        expect(await store.saveWorkflow(workflow())).toBe(1);
        expect(await store.saveWorkflow(workflow())).toBe(1);
        expect(await store.saveWorkflow({ ...workflow(), version: 99 })).toBe(1);
        expect(await store.getWorkflow('wf', 2)).toBeNull();
      });

      it('bumps the version when the definition changes', async () => {
        await store.saveWorkflow(workflow());
        expect(await store.saveWorkflow(workflow('wf', { name: 'renamed' }))).toBe(2);
        expect(await store.saveWorkflow(workflow('wf', { name: 'renamed' }))).toBe(2);
        expect(await store.saveWorkflow(workflow('wf', { description: 'd' }))).toBe(3);
      });

      it('treats a change back to an older definition as a new version', async () => {
        await store.saveWorkflow(workflow());
        await store.saveWorkflow(workflow('wf', { name: 'v2' }));
        expect(await store.saveWorkflow(workflow())).toBe(3);
      });

      it.skipIf(options.canonicalVersioning === false)('keeps the version when only the key order differs, at any depth', async () => {
        const def = workflow('wf', { triggers: [{ type: 'schedule', config: { cron: '* * * * *', timezone: 'UTC' } }] });
        expect(await store.saveWorkflow(def)).toBe(1);
        const reordered = JSON.parse(
          JSON.stringify({
            triggers: [{ config: { timezone: 'UTC', cron: '* * * * *' }, type: 'schedule' }],
            nodes: def.nodes.map(({ outputs, inputs, config, type, id }) => ({ outputs, inputs, config, type, id })),
            entryNodeId: def.entryNodeId,
            name: def.name,
            id: def.id,
          }),
        ) as WorkflowDefinition;
        expect(await store.saveWorkflow(reordered)).toBe(1);
        // Array order is meaningful: swapping nodes is a change.
        expect(await store.saveWorkflow({ ...def, nodes: [...def.nodes].reverse() })).toBe(2);
      });

      it('getWorkflow(id) returns the latest version, getWorkflow(id, n) an older one', async () => {
        await store.saveWorkflow(workflow());
        await store.saveWorkflow(workflow('wf', { name: 'v2' }));
        expect(await store.getWorkflow('wf')).toMatchObject({ name: 'v2', version: 2 });
        expect(await store.getWorkflow('wf', 1)).toMatchObject({ name: 'wf', version: 1 });
        expect(await store.getWorkflow('wf', 2)).toMatchObject({ name: 'v2', version: 2 });
      });

      it('returns null for an unknown workflow or version', async () => {
        expect(await store.getWorkflow('nope')).toBeNull();
        expect(await store.getWorkflow('nope', 1)).toBeNull();
        await store.saveWorkflow(workflow());
        expect(await store.getWorkflow('wf', 3)).toBeNull();
        expect(await store.getWorkflow('wf', 0)).toBeNull();
      });

      it('versions each workflow id separately', async () => {
        await store.saveWorkflow(workflow('one'));
        await store.saveWorkflow(workflow('one', { name: 'changed' }));
        expect(await store.saveWorkflow(workflow('two'))).toBe(1);
      });

      it('stores a copy: mutating the saved or returned definition does not change the store', async () => {
        const def = workflow();
        await store.saveWorkflow(def);
        def.name = 'mutated';
        def.nodes[0]!.config['x'] = 1;
        const got = (await store.getWorkflow('wf'))!;
        expect(got.name).toBe('wf');
        expect(got.nodes[0]!.config).toEqual({});
        got.nodes.pop();
        expect((await store.getWorkflow('wf'))!.nodes).toHaveLength(2);
        expect(def.version).toBeUndefined();
      });

      it('keeps every part of a definition: triggers, retry policies, unicode, nested config', async () => {
        const def = workflow('rich', {
          description: 'ünïcødé ✓ "quoted" \\ back\nslash',
          triggers: [
            { type: 'webhook', config: { path: 'hook', method: 'POST', secret: 's' } },
            { type: 'schedule', config: { cron: '0 * * * *', data: { n: 0, ok: false, s: '', z: null } } },
          ],
          nodes: [
            {
              id: 'a',
              type: 'work',
              config: { retryPolicy: { maxAttempts: 3, backoff: { type: 'exponential', delay: 10 } }, list: [1, 2.5, -3, 1e21] },
              inputs: [],
              outputs: [],
              name: 'A',
            },
          ],
        });
        await store.saveWorkflow(def);
        expect(await store.getWorkflow('rich')).toEqual({ ...def, version: 1 });
      });

      it('listWorkflows returns the latest version of each', async () => {
        await store.saveWorkflow(workflow('one'));
        await store.saveWorkflow(workflow('one', { name: 'one-v2' }));
        await store.saveWorkflow(workflow('two'));
        const list = await store.listWorkflows();
        expect(list.map((w) => [w.id, w.version, w.name]).sort()).toEqual([
          ['one', 2, 'one-v2'],
          ['two', 1, 'two'],
        ]);
      });

      it('concurrent saves of one changed definition agree on a single new version', async () => {
        await store.saveWorkflow(workflow());
        const versions = await Promise.all(Array.from({ length: 10 }, () => store.saveWorkflow(workflow('wf', { name: 'v2' }))));
        expect(new Set(versions)).toEqual(new Set([2]));
        expect(await store.getWorkflow('wf', 3)).toBeNull();
      });

      it('concurrent saves of different definitions each get their own version', async () => {
        const versions = await Promise.all(Array.from({ length: 8 }, (_, i) => store.saveWorkflow(workflow('wf', { name: `n${i}` }))));
        expect([...versions].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
        for (const [i, v] of versions.entries()) expect((await store.getWorkflow('wf', v))!.name).toBe(`n${i}`);
      });
    });

    describe('executions', () => {
      it('creates an execution with empty node results', async () => {
        await store.createExecution(execution('e1'));
        expect(await store.getExecution('e1')).toEqual({ ...execution('e1'), nodeResults: {} });
      });

      it('keeps the sub-workflow fields', async () => {
        await store.createExecution(execution('child', { parentExecutionId: 'p', parentNodeId: 'sub', depth: 2, workflowVersion: 7 }));
        expect(await store.getExecution('child')).toEqual({
          ...execution('child', { parentExecutionId: 'p', parentNodeId: 'sub', depth: 2, workflowVersion: 7 }),
          nodeResults: {},
        });
      });

      it('keeps forkedFrom, and reads and lists it back (absent on other executions)', async () => {
        const forkedFrom = { executionId: 'original', nodeId: 'charge' };
        await store.createExecution(execution('fork', { forkedFrom }));
        await store.createExecution(execution('plain'));
        expect(await store.getExecution('fork')).toEqual({ ...execution('fork', { forkedFrom }), nodeResults: {} });
        expect((await readExecutionHead(store, 'fork', []))?.forkedFrom).toEqual(forkedFrom);
        expect((await store.listExecutions()).find((e) => e.executionId === 'fork')?.forkedFrom).toEqual(forkedFrom);
        const plain = await store.getExecution('plain');
        expect(plain !== null && 'forkedFrom' in plain).toBe(false);
        expect(await store.transitionExecution('fork', ['running'], 'completed')).toBe(true);
        expect((await store.getExecution('fork'))?.forkedFrom).toEqual(forkedFrom);
      });

      it.each([[null], [0], [false], [''], ['text'], [[1, 'two']], [{ nested: { deep: [null] } }]])('keeps initialData %j', async (initialData) => {
        await store.createExecution(execution('e1', { initialData }));
        const got = (await store.getExecution('e1'))!;
        expect('initialData' in got).toBe(true);
        expect(got.initialData).toEqual(initialData);
      });

      it('leaves initialData out when it was undefined', async () => {
        await store.createExecution(execution('e1', { initialData: undefined }));
        const got = (await store.getExecution('e1'))!;
        expect(got.initialData).toBeUndefined();
        expect(got.nodeResults).toEqual({});
      });

      it('refuses to create the same id twice', async () => {
        await store.createExecution(execution('e1'));
        await expect(store.createExecution(execution('e1', { workflowId: 'other' }))).rejects.toThrow(InvalidArgumentError);
        expect((await store.getExecution('e1'))!.workflowId).toBe('wf');
      });

      it('lets exactly one of concurrent creates of one id succeed, and creates every other id', async () => {
        const outcomes = await Promise.allSettled([
          store.createExecution(execution('dup', { initialData: 1 })),
          store.createExecution(execution('other-1')),
          store.createExecution(execution('dup', { initialData: 2 })),
          store.createExecution(execution('other-2', { initialData: false })),
          store.createExecution(execution('dup', { initialData: 3 })),
        ]);
        const dup = [outcomes[0]!, outcomes[2]!, outcomes[4]!];
        expect(dup.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        for (const o of dup) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(InvalidArgumentError);
        const winner = [1, 2, 3][dup.findIndex((o) => o.status === 'fulfilled')];
        expect((await store.getExecution('dup'))!.initialData).toBe(winner);
        expect(outcomes[1]!.status).toBe('fulfilled');
        expect((await store.getExecution('other-2'))!.initialData).toBe(false);
        expect((await store.getExecution('other-1'))!.nodeResults).toEqual({});
      });

      it('returns null for an unknown execution', async () => {
        expect(await store.getExecution('nope')).toBeNull();
      });

      it('getExecution returns a copy', async () => {
        await store.createExecution(execution('e1'));
        await store.saveNodeResult('e1', 'a', result({ v: 1 }));
        const got = (await store.getExecution('e1'))!;
        got.status = 'failed';
        (got.initialData as { n: number }).n = 99;
        got.nodeResults['a']!.data = 'changed';
        got.nodeResults['b'] = result('injected');
        expect(await store.getExecution('e1')).toEqual({ ...execution('e1'), nodeResults: { a: result({ v: 1 }) } });
      });

      it('copies on the way in: mutating the created object does not change the store', async () => {
        const e = execution('e1');
        await store.createExecution(e);
        e.status = 'cancelled';
        (e.initialData as { n: number }).n = 42;
        expect(await store.getExecution('e1')).toMatchObject({ status: 'running', initialData: { n: 1 } });
      });
    });

    describe('transitionExecution', () => {
      beforeEach(() => {
        vi.useFakeTimers({ toFake: ['Date'] });
        vi.setSystemTime(10_000);
      });

      it('moves the status when the current status is in from', async () => {
        await store.createExecution(execution('e1', { status: 'pending' }));
        expect(await store.transitionExecution('e1', ['pending'], 'running')).toBe(true);
        expect((await store.getExecution('e1'))!.status).toBe('running');
      });

      it('is compare-and-set: returns false and changes nothing when from does not match', async () => {
        await store.createExecution(execution('e1'));
        expect(await store.transitionExecution('e1', ['pending', 'paused'], 'completed', { error: 'x' })).toBe(false);
        expect(await store.transitionExecution('e1', [], 'completed')).toBe(false);
        const got = (await store.getExecution('e1'))!;
        expect(got.status).toBe('running');
        expect(got.completedAt).toBeUndefined();
        expect(got.error).toBeUndefined();
      });

      it('lets only one of two identical concurrent transitions win', async () => {
        await store.createExecution(execution('e1'));
        const outcomes = await Promise.all([store.transitionExecution('e1', ['running'], 'completed'), store.transitionExecution('e1', ['running'], 'completed')]);
        expect(outcomes.filter(Boolean)).toHaveLength(1);
      });

      it('lets exactly one of many competing transitions win, and the status is the winner', async () => {
        await store.createExecution(execution('e1'));
        const targets: ExecutionStatus[] = ['completed', 'failed', 'cancelled', 'paused', 'completed', 'failed', 'cancelled', 'paused'];
        const outcomes = await Promise.all(targets.map((to) => store.transitionExecution('e1', ['running'], to)));
        expect(outcomes.filter(Boolean)).toHaveLength(1);
        expect((await store.getExecution('e1'))!.status).toBe(targets[outcomes.indexOf(true)]);
      });

      it('throws ExecutionNotFoundError for an unknown execution', async () => {
        await expect(store.transitionExecution('nope', ['running'], 'completed')).rejects.toThrow(ExecutionNotFoundError);
      });

      it.each<ExecutionStatus>(['completed', 'failed', 'cancelled'])('sets completedAt on entering %s', async (to) => {
        await store.createExecution(execution('e1'));
        expect(await store.transitionExecution('e1', ['running'], to)).toBe(true);
        expect((await store.getExecution('e1'))!.completedAt).toBe(10_000);
      });

      it('does not set completedAt on non-terminal statuses', async () => {
        await store.createExecution(execution('e1', { status: 'pending' }));
        await store.transitionExecution('e1', ['pending'], 'running');
        await store.transitionExecution('e1', ['running'], 'paused');
        expect((await store.getExecution('e1'))!.completedAt).toBeUndefined();
      });

      it('writes the error patch, and clears error and completedAt when going back to running', async () => {
        await store.createExecution(execution('e1'));
        await store.transitionExecution('e1', ['running'], 'failed', { error: 'node b failed' });
        expect(await store.getExecution('e1')).toMatchObject({ status: 'failed', error: 'node b failed', completedAt: 10_000 });
        await store.transitionExecution('e1', ['failed'], 'running', { error: 'ignored on running' });
        const got = (await store.getExecution('e1'))!;
        expect(got.status).toBe('running');
        expect(got.error).toBeUndefined();
        expect(got.completedAt).toBeUndefined();
      });

      it('writes errorDetails with the error, keeps it through transitions that carry none, and clears it on running', async () => {
        await store.createExecution(execution('e1'));
        await store.transitionExecution('e1', ['running'], 'failed', { error: "Node 'b' failed: bad input", errorDetails: DETAILS });
        expect((await store.getExecution('e1'))!.errorDetails).toEqual(DETAILS);
        await store.transitionExecution('e1', ['failed'], 'cancelled');
        expect(await store.getExecution('e1')).toMatchObject({ status: 'cancelled', errorDetails: DETAILS });
        await store.transitionExecution('e1', ['cancelled'], 'running');
        expect('errorDetails' in (await store.getExecution('e1'))!).toBe(false);
        // A new error without details does not keep the old details.
        await store.transitionExecution('e1', ['running'], 'failed', { error: 'first', errorDetails: DETAILS });
        await store.transitionExecution('e1', ['failed'], 'failed', { error: 'second' });
        expect('errorDetails' in (await store.getExecution('e1'))!).toBe(false);
      });

      it('keeps an earlier error through transitions that carry none, except to running', async () => {
        await store.createExecution(execution('e1'));
        await store.transitionExecution('e1', ['running'], 'failed', { error: 'boom' });
        await store.transitionExecution('e1', ['failed'], 'cancelled');
        expect(await store.getExecution('e1')).toMatchObject({ status: 'cancelled', error: 'boom' });
      });

      it('sets pausedAt on paused (now, or the patch value) and clears it on any other status', async () => {
        await store.createExecution(execution('e1'));
        await store.transitionExecution('e1', ['running'], 'paused');
        expect((await store.getExecution('e1'))!.pausedAt).toBe(10_000);
        await store.transitionExecution('e1', ['paused'], 'running');
        expect((await store.getExecution('e1'))!.pausedAt).toBeUndefined();

        await store.transitionExecution('e1', ['running'], 'paused', { pausedAt: 1234 });
        expect((await store.getExecution('e1'))!.pausedAt).toBe(1234);
        await store.transitionExecution('e1', ['paused'], 'cancelled');
        const got = (await store.getExecution('e1'))!;
        expect(got.pausedAt).toBeUndefined();
        expect(got.status).toBe('cancelled');
      });

      it('leaves node results alone', async () => {
        await store.createExecution(execution('e1'));
        await store.saveNodeResult('e1', 'a', result(1));
        await store.transitionExecution('e1', ['running'], 'completed');
        expect((await store.getExecution('e1'))!.nodeResults).toEqual({ a: result(1) });
      });
    });

    describe('node results', () => {
      beforeEach(async () => {
        await store.createExecution(execution('e1'));
      });

      it('saves a node result with every field', async () => {
        const full = result({ v: 1 }, { nextNodes: ['b'], startedAt: 1500, attempts: 3 });
        await store.saveNodeResult('e1', 'a', full);
        await store.saveNodeResult('e1', 'f', { status: 'failed', error: 'boom', attempts: 2, completedAt: 3000 });
        await store.saveNodeResult('e1', 's', { status: 'skipped', attempts: 0, completedAt: 3001, nextNodes: [] });
        expect((await store.getExecution('e1'))!.nodeResults).toEqual({
          a: full,
          f: { status: 'failed', error: 'boom', attempts: 2, completedAt: 3000 },
          s: { status: 'skipped', attempts: 0, completedAt: 3001, nextNodes: [] },
        });
      });

      it('round-trips errorDetails on a failed result, cause chain included; a later write without it drops it', async () => {
        const failed = { status: 'failed' as const, error: 'bad input', errorDetails: DETAILS, attempts: 1, completedAt: 3000 };
        await store.saveNodeResult('e1', 'f', failed);
        const got = (await store.getExecution('e1'))!.nodeResults['f']!;
        expect(got).toEqual(failed);
        expect(got.errorDetails).not.toBe(DETAILS);
        await store.saveNodeResult('e1', 'f', { status: 'failed', error: 'later', attempts: 2, completedAt: 3001 });
        expect((await store.getExecution('e1'))!.nodeResults['f']).toEqual({ status: 'failed', error: 'later', attempts: 2, completedAt: 3001 });
      });

      it('upserts: a later write replaces an earlier one (every field), twice is harmless', async () => {
        await store.saveNodeResult('e1', 'a', result('first', { error: 'old', nextNodes: ['x'], startedAt: 1 }));
        await store.saveNodeResult('e1', 'a', result('second', { attempts: 2 }));
        await store.saveNodeResult('e1', 'a', result('second', { attempts: 2 }));
        expect((await store.getExecution('e1'))!.nodeResults).toEqual({ a: result('second', { attempts: 2 }) });
      });

      it.each([[0], [false], [''], [null]])('keeps falsy data %j', async (data) => {
        await store.saveNodeResult('e1', 'a', result(data));
        const got = (await store.getExecution('e1'))!.nodeResults['a']!;
        expect('data' in got).toBe(true);
        expect(got.data).toBe(data);
      });

      it('tells no data apart from null data', async () => {
        await store.saveNodeResult('e1', 'none', { status: 'completed', attempts: 1, completedAt: 1 });
        await store.saveNodeResult('e1', 'undef', result(undefined));
        const got = (await store.getExecution('e1'))!.nodeResults;
        expect('data' in got['none']!).toBe(false);
        expect(got['undef']!.data).toBeUndefined();
      });

      it.each([['123'], ['null'], ['true'], ['"quoted"'], ['{"a":1}'], ['ünïcødé ✓ 😀'], [' '], [-1.5], [1e21], [Number.MAX_SAFE_INTEGER], [[]], [{}], [[0, false, '', null]]])(
        'keeps data %j exactly (strings that look like JSON stay strings)',
        async (data) => {
          await store.saveNodeResult('e1', 'a', result(data));
          expect((await store.getExecution('e1'))!.nodeResults['a']!.data).toEqual(data);
        },
      );

      it('keeps a large nested payload', async () => {
        const data = { rows: Array.from({ length: 2000 }, (_, i) => ({ i, name: `row-${i}`, tags: ['a', 'b'], ok: i % 2 === 0 })) };
        await store.saveNodeResult('e1', 'a', result(data));
        expect((await store.getExecution('e1'))!.nodeResults['a']!.data).toEqual(data);
      });

      it('copies the result on the way in', async () => {
        const r = result({ v: 1 });
        await store.saveNodeResult('e1', 'a', r);
        (r.data as { v: number }).v = 2;
        expect((await store.getExecution('e1'))!.nodeResults['a']!.data).toEqual({ v: 1 });
      });

      it('keeps all of 50 concurrent writes for different nodes', async () => {
        await Promise.all(Array.from({ length: 50 }, (_, i) => store.saveNodeResult('e1', `n${i}`, result(i))));
        const got = (await store.getExecution('e1'))!.nodeResults;
        expect(Object.keys(got)).toHaveLength(50);
        for (let i = 0; i < 50; i++) expect(got[`n${i}`]!.data).toBe(i);
      });

      it('keeps exactly one of concurrent writes for the same node', async () => {
        await Promise.all(Array.from({ length: 10 }, (_, i) => store.saveNodeResult('e1', 'a', result(i, { attempts: i + 1 }))));
        const got = (await store.getExecution('e1'))!.nodeResults['a']!;
        expect(got.attempts).toBe((got.data as number) + 1);
      });

      it('deletes a node result and leaves the others', async () => {
        await store.saveNodeResult('e1', 'a', result(1));
        await store.saveNodeResult('e1', 'b', result(2));
        await store.deleteNodeResult('e1', 'a');
        expect((await store.getExecution('e1'))!.nodeResults).toEqual({ b: result(2) });
        await store.deleteNodeResult('e1', 'never-saved');
        expect(Object.keys((await store.getExecution('e1'))!.nodeResults)).toEqual(['b']);
      });

      it('keeps node ids named like Object.prototype members, and __proto__, as own keys of a plain object', async () => {
        const protoIds = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'];
        for (const [i, id] of protoIds.entries()) await store.saveNodeResult('e1', id, result({ id }, { completedAt: 2000 + i }));
        await store.saveNodeResult('e1', 'plain', result(JSON.parse('{"__proto__": {"x": 1}, "constructor": 2}')));
        const got = (await store.getExecution('e1'))!.nodeResults;
        expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
        expect(Object.keys(got).sort()).toEqual([...protoIds, 'plain'].sort());
        for (const id of protoIds) expect(Object.hasOwn(got, id) && got[id]).toEqual(result({ id }, { completedAt: 2000 + protoIds.indexOf(id) }));
        // User data keeps its own __proto__ key through the store, as JSON does.
        expect(JSON.stringify(got['plain']!.data)).toBe('{"__proto__":{"x":1},"constructor":2}');
        await store.deleteNodeResult('e1', '__proto__');
        await store.deleteNodeResult('e1', 'constructor');
        expect(Object.keys((await store.getExecution('e1'))!.nodeResults).sort()).toEqual(['hasOwnProperty', 'plain', 'toString', 'valueOf']);
      });

      it('keeps results of different executions apart', async () => {
        await store.createExecution(execution('e2'));
        await store.saveNodeResult('e1', 'a', result('one'));
        await store.saveNodeResult('e2', 'a', result('two'));
        await store.deleteNodeResult('e2', 'a');
        expect((await store.getExecution('e1'))!.nodeResults['a']!.data).toBe('one');
        expect((await store.getExecution('e2'))!.nodeResults).toEqual({});
      });

      it('throws ExecutionNotFoundError for an unknown execution', async () => {
        await expect(store.saveNodeResult('nope', 'a', result(1))).rejects.toThrow(ExecutionNotFoundError);
        await expect(store.deleteNodeResult('nope', 'a')).rejects.toThrow(ExecutionNotFoundError);
      });

      it('fails only the concurrent write whose execution is missing; the others are kept', async () => {
        await store.createExecution(execution('e2'));
        const writes = [
          store.saveNodeResult('e1', 'a', result(0)),
          store.saveNodeResult('nope', 'a', result(1)),
          store.saveNodeResult('e2', 'a', result(false)),
          store.saveNodeResult('e1', 'b', result(null)),
        ];
        const settled = await Promise.allSettled(writes);
        expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
        expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(ExecutionNotFoundError);
        expect((await store.getExecution('e1'))!.nodeResults).toEqual({ a: result(0), b: result(null) });
        expect((await store.getExecution('e2'))!.nodeResults).toEqual({ a: result(false) });
      });

      it('gives each of several concurrent readers its own copy, and null for a missing execution', async () => {
        await store.saveNodeResult('e1', 'a', result({ v: 1 }));
        const [one, two, missing] = await Promise.all([store.getExecution('e1'), store.getExecution('e1'), store.getExecution('nope')]);
        expect(missing).toBeNull();
        expect(two).toEqual(one);
        one!.status = 'failed';
        (one!.nodeResults['a']!.data as { v: number }).v = 2;
        one!.nodeResults['b'] = result('added');
        expect(two!.status).toBe('running');
        expect(two!.nodeResults).toEqual({ a: result({ v: 1 }) });
        expect((await store.getExecution('e1'))!.nodeResults).toEqual({ a: result({ v: 1 }) });
      });

      it('lets a read started after concurrent writes returned see every one of them, across executions', async () => {
        const ids = Array.from({ length: 20 }, (_, i) => `many-${i}`);
        await Promise.all(ids.map((id) => store.createExecution(execution(id))));
        await Promise.all(ids.flatMap((id) => [store.saveNodeResult(id, 'a', result(id)), store.saveNodeResult(id, 'b', result(0))]));
        const got = await Promise.all(ids.map((id) => store.getExecution(id)));
        got.forEach((exec, i) => expect(exec!.nodeResults).toEqual({ a: result(ids[i]), b: result(0) }));
      });
    });

    describe('getExecutionHead', () => {
      const head = (s: ExecutionStore, nodeIds: readonly string[]) => readExecutionHead(s, 'e1', nodeIds);
      beforeEach(async () => {
        await store.createExecution(execution('e1', { parentExecutionId: 'p', parentNodeId: 'n', depth: 1 }));
      });

      it('is null for an unknown execution', async () => {
        expect(await readExecutionHead(store, 'nope', ['a'])).toBeNull();
        if (store.getExecutionHead !== undefined) expect(await store.getExecutionHead('nope', [])).toBeNull();
      });

      it("has the execution's fields, the asked-for results only and the count of all results", async () => {
        await store.saveNodeResult('e1', 'a', result({ v: 1 }, { nextNodes: ['b'], startedAt: 1500 }));
        await store.saveNodeResult('e1', 'b', result(null));
        await store.saveNodeResult('e1', 'c', { status: 'skipped', attempts: 0, completedAt: 3001 });
        await store.transitionExecution('e1', ['running'], 'paused', { pausedAt: 5000 });
        const { nodeResults: all, ...fields } = (await store.getExecution('e1'))!;
        const got = (await head(store, ['a', 'c', 'missing']))!;
        expect(got).toEqual({ ...fields, nodeResults: { a: all['a'], c: all['c'] }, settledCount: 3 });
        expect(await head(store, [])).toEqual({ ...fields, nodeResults: {}, settledCount: 3 });
      });

      it('counts a node once however often it is written, and forgets a deleted result', async () => {
        await store.saveNodeResult('e1', 'a', result(1));
        await store.saveNodeResult('e1', 'a', result(2, { attempts: 2 }));
        expect((await head(store, ['a']))!).toMatchObject({ nodeResults: { a: result(2, { attempts: 2 }) }, settledCount: 1 });
        await store.deleteNodeResult('e1', 'a');
        await store.deleteNodeResult('e1', 'a');
        expect((await head(store, ['a']))!).toMatchObject({ nodeResults: {}, settledCount: 0 });
      });

      it('reads node ids named like Object.prototype members as own keys only', async () => {
        await store.saveNodeResult('e1', 'constructor', result('c'));
        const got = (await head(store, ['constructor', 'toString', '__proto__']))!;
        expect(Object.keys(got.nodeResults)).toEqual(['constructor']);
        expect(Object.hasOwn(got.nodeResults, 'toString')).toBe(false);
        expect(got.nodeResults['constructor']).toEqual(result('c'));
      });

      it('returns a copy, and another handle sees a completed write', async () => {
        await store.saveNodeResult('e1', 'a', result({ list: [1] }));
        const got = (await head(store, ['a']))!;
        (got.nodeResults['a']!.data as { list: number[] }).list.push(2);
        expect((await head(store, ['a']))!.nodeResults['a']!.data).toEqual({ list: [1] });
        const peer = options.peer?.(store) ?? store;
        await store.saveNodeResult('e1', 'b', result('b'));
        expect(await head(peer, ['b'])).toMatchObject({ nodeResults: { b: result('b') }, settledCount: 2 });
      });

      it('concurrent reads each get their own node ids', async () => {
        await Promise.all(['a', 'b', 'c'].map((id) => store.saveNodeResult('e1', id, result(id))));
        const got = await Promise.all([head(store, ['a']), head(store, ['b', 'c']), head(store, []), readExecutionHead(store, 'nope', ['a'])]);
        expect(got.map((h) => (h === null ? null : Object.keys(h.nodeResults).sort()))).toEqual([['a'], ['b', 'c'], [], null]);
        expect(got.slice(0, 3).map((h) => h!.settledCount)).toEqual([3, 3, 3]);
      });
    });

    describe('pruneExecutions', () => {
      let now = 0;
      /** An execution with a result and a log line that reached `to` at `at`. */
      const finish = async (id: string, at: number, to: ExecutionStatus = 'completed') => {
        await store.createExecution(execution(id));
        await store.saveNodeResult(id, 'a', result(1));
        await store.addLog(id, { at, level: 'info', message: 'x' });
        vi.useFakeTimers({ toFake: ['Date'] });
        vi.setSystemTime(at);
        await store.transitionExecution(id, ['running'], to);
        vi.useRealTimers();
      };

      beforeEach(async () => {
        now = Date.now();
        await finish('old', now - 10_000);
        await finish('mid', now - 5_000, 'failed');
        await finish('new', now - 1_000);
        await store.createExecution(execution('live'));
        await store.createExecution(execution('paused'));
        await store.transitionExecution('paused', ['running'], 'paused');
      });

      it('prunes finished executions older than the age, with their results and logs, never live ones', async () => {
        expect(await store.pruneExecutions({ olderThanMs: 3_000 })).toBe(2);
        expect((await ids({ limit: 10 })).sort()).toEqual(['live', 'new', 'paused']);
        expect(await store.getExecution('old')).toBeNull();
        expect(await store.getLogs('old')).toEqual([]);
        expect((await store.getExecution('new'))?.nodeResults['a']?.data).toBe(1);
        expect(await store.pruneExecutions({ olderThanMs: 0 })).toBe(1);
        expect((await ids({ limit: 10 })).sort()).toEqual(['live', 'paused']);
      });

      it('keeps the newest finished executions with keepLast, and combines criteria', async () => {
        expect(await store.pruneExecutions({ olderThanMs: 3_000, keepLast: 2 })).toBe(1);
        expect(await store.getExecution('old')).toBeNull();
        expect(await store.pruneExecutions({ keepLast: 1 })).toBe(1);
        expect((await ids({ limit: 10 })).sort()).toEqual(['live', 'new', 'paused']);
      });

      it('prunes only the statuses asked for', async () => {
        expect(await store.pruneExecutions({ keepLast: 0, statuses: ['failed'] })).toBe(1);
        expect(await store.getExecution('mid')).toBeNull();
        expect(await store.getExecution('old')).not.toBeNull();
      });

      it('refuses criteria that name nothing or live statuses', async () => {
        await expect(store.pruneExecutions({})).rejects.toThrow(InvalidArgumentError);
        await expect(store.pruneExecutions({ keepLast: -1 })).rejects.toThrow(InvalidArgumentError);
        await expect(store.pruneExecutions({ keepLast: 0, statuses: ['running'] })).rejects.toThrow(/only prunes finished/);
        expect(await ids({ limit: 10 })).toHaveLength(5);
      });
    });

    describe('logs', () => {
      beforeEach(async () => {
        await store.createExecution(execution('e1'));
      });

      it('returns the log oldest first, with nodeId only where given', async () => {
        await store.addLog('e1', { at: 3, level: 'info', message: 'started' });
        await store.addLog('e1', { at: 1, level: 'warn', message: 'slow', nodeId: 'a' });
        await store.addLog('e1', { at: 2, level: 'error', message: 'ünïcødé "x"' });
        expect(await store.getLogs('e1')).toEqual([
          { at: 3, level: 'info', message: 'started' },
          { at: 1, level: 'warn', message: 'slow', nodeId: 'a' },
          { at: 2, level: 'error', message: 'ünïcødé "x"' },
        ]);
        expect('nodeId' in (await store.getLogs('e1'))[0]!).toBe(false);
      });

      it('keeps every line of concurrent writers', async () => {
        await Promise.all(Array.from({ length: 30 }, (_, i) => store.addLog('e1', { at: i, level: 'info', message: `m${i}` })));
        const logs = await store.getLogs('e1');
        expect(logs.map((l) => l.message).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`).sort());
      });

      it('keeps logs per execution, and an unknown execution has none', async () => {
        await store.createExecution(execution('e2'));
        await store.addLog('e2', { at: 1, level: 'info', message: 'other' });
        expect(await store.getLogs('e1')).toEqual([]);
        expect(await store.getLogs('nope')).toEqual([]);
      });

      it('refuses to log for an unknown execution', async () => {
        await expect(store.addLog('nope', { at: 1, level: 'info', message: 'x' })).rejects.toThrow(ExecutionNotFoundError);
      });
    });

    describe('listUnfinishedExecutions', () => {
      const walk = async (query: UnfinishedExecutionQuery = {}) => {
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let pages = 0; pages < 50; pages++) {
          const page = await store.listUnfinishedExecutions!({ ...query, ...(cursor === undefined ? {} : { cursor }) });
          seen.push(...page.executions.map((e) => e.executionId));
          if (page.nextCursor === undefined) return seen;
          cursor = page.nextCursor;
        }
        throw new Error('more than 50 pages');
      };

      beforeEach(async () => {
        // Creation order differs from startedAt order on purpose: the list is by startedAt.
        await store.createExecution(execution('u3', { startedAt: 3000 }));
        await store.createExecution(execution('u1', { startedAt: 1000, status: 'pending' }));
        await store.createExecution(execution('u2b', { startedAt: 2000 }));
        await store.createExecution(execution('u2a', { startedAt: 2000 }));
        await store.createExecution(execution('done', { startedAt: 1500 }));
        await store.transitionExecution('done', ['running'], 'completed');
        await store.createExecution(execution('held', { startedAt: 2500 }));
        await store.transitionExecution('held', ['running'], 'paused');
      });

      it('lists unfinished executions oldest first (startedAt, then id), with their node results', async () => {
        await store.saveNodeResult('u2a', 'a', result(1));
        const page = await store.listUnfinishedExecutions!();
        expect(page.executions.map((e) => e.executionId)).toEqual(['u1', 'u2a', 'u2b', 'held', 'u3']);
        expect(page.nextCursor).toBeUndefined();
        expect(page.executions[1]!.nodeResults).toEqual({ a: result(1) });
      });

      it('filters by status and by startedBefore (exclusive)', async () => {
        expect(await walk({ status: 'running' })).toEqual(['u2a', 'u2b', 'u3']);
        expect(await walk({ status: ['pending', 'paused'] })).toEqual(['u1', 'held']);
        expect(await walk({ startedBefore: 2500 })).toEqual(['u1', 'u2a', 'u2b']);
      });

      it('pages with a cursor without repeating or skipping, also on equal startedAt', async () => {
        const first = await store.listUnfinishedExecutions!({ limit: 2 });
        expect(first.executions.map((e) => e.executionId)).toEqual(['u1', 'u2a']);
        expect(typeof first.nextCursor).toBe('string');
        // An execution that finishes between pages does not shift the next page.
        await store.transitionExecution('u1', ['pending'], 'cancelled');
        const second = await store.listUnfinishedExecutions!({ limit: 2, cursor: first.nextCursor! });
        expect(second.executions.map((e) => e.executionId)).toEqual(['u2b', 'held']);
        expect(await walk({ limit: 1 })).toEqual(['u2a', 'u2b', 'held', 'u3']);
      });

      it('refuses a bad limit, status or cursor', async () => {
        await expect(store.listUnfinishedExecutions!({ limit: 0 })).rejects.toThrow(InvalidArgumentError);
        await expect(store.listUnfinishedExecutions!({ status: 'completed' as 'running' })).rejects.toThrow(InvalidArgumentError);
        await expect(store.listUnfinishedExecutions!({ cursor: 'not-a-cursor' })).rejects.toThrow(InvalidArgumentError);
      });
    });

    describeExecutionListing(
      () => store,
      (s) => (options.peer ?? ((same: ExecutionStore) => same))(s),
    );

    describe('listExecutions / getChildExecutions', () => {
      beforeEach(async () => {
        await store.createExecution(execution('e1', { workflowId: 'wf' }));
        await store.createExecution(execution('e2', { workflowId: 'other' }));
        await store.createExecution(execution('e3', { workflowId: 'wf', status: 'pending' }));
        await store.createExecution(execution('e4', { workflowId: 'wf' }));
        await store.transitionExecution('e4', ['running'], 'completed');
      });

      it('lists every execution, newest first (by creation, not by startedAt)', async () => {
        expect(await ids()).toEqual(['e4', 'e3', 'e2', 'e1']);
      });

      it('filters by workflowId', async () => {
        expect(await ids({ workflowId: 'wf' })).toEqual(['e4', 'e3', 'e1']);
        expect(await ids({ workflowId: 'other' })).toEqual(['e2']);
        expect(await ids({ workflowId: 'none' })).toEqual([]);
      });

      it('filters by one status or several', async () => {
        expect(await ids({ status: 'running' })).toEqual(['e2', 'e1']);
        expect(await ids({ status: ['pending', 'completed'] })).toEqual(['e4', 'e3']);
        expect(await ids({ workflowId: 'wf', status: 'running' })).toEqual(['e1']);
        expect(await ids({ status: [] })).toEqual([]);
      });

      it('applies the limit after filtering', async () => {
        expect(await ids({ limit: 2 })).toEqual(['e4', 'e3']);
        expect(await ids({ workflowId: 'wf', status: ['running', 'pending'], limit: 1 })).toEqual(['e3']);
      });

      it('returns at most 100 by default', async () => {
        for (let i = 0; i < 110; i++) await store.createExecution(execution(`bulk-${i}`));
        const list = await store.listExecutions();
        expect(list).toHaveLength(100);
        expect(list[0]!.executionId).toBe('bulk-109');
      });

      it('returns executions with their node results, as copies', async () => {
        await store.saveNodeResult('e4', 'a', result('x'));
        const [first] = await store.listExecutions({ limit: 1 });
        expect(first).toEqual({ ...execution('e4'), status: 'completed', completedAt: expect.any(Number), nodeResults: { a: result('x') } });
        first!.status = 'failed';
        expect((await store.getExecution('e4'))!.status).toBe('completed');
      });

      it('finds child executions by parentExecutionId', async () => {
        await store.createExecution(execution('child-1', { parentExecutionId: 'e1', parentNodeId: 'sub', depth: 1 }));
        await store.createExecution(execution('child-2', { parentExecutionId: 'e1', parentNodeId: 'sub2', depth: 1 }));
        await store.createExecution(execution('grandchild', { parentExecutionId: 'child-1', depth: 2 }));
        await store.saveNodeResult('child-2', 'a', result(0));
        const children = await store.getChildExecutions('e1');
        expect(children.map((e) => e.executionId).sort()).toEqual(['child-1', 'child-2']);
        expect(children.find((c) => c.executionId === 'child-1')).toMatchObject({ parentNodeId: 'sub', depth: 1 });
        expect(children.find((c) => c.executionId === 'child-2')!.nodeResults).toEqual({ a: result(0) });
        expect((await store.getChildExecutions('child-1')).map((e) => e.executionId)).toEqual(['grandchild']);
        expect(await store.getChildExecutions('e2')).toEqual([]);
      });
    });

    describe('workflow versions and change notes', () => {
      it('lists every version oldest first, with its notes and creation time', async () => {
        const before = Date.now();
        expect(await store.saveWorkflow(workflow(), { changeNotes: 'first cut' })).toBe(1);
        expect(await store.saveWorkflow(workflow('wf', { name: 'v2' }))).toBe(2);
        expect(await store.saveWorkflow(workflow('wf', { name: 'v3' }), { changeNotes: 'renamed again; ünïcødé' })).toBe(3);
        const versions = await store.getWorkflowVersions('wf');
        expect(versions.map((v) => v.version)).toEqual([1, 2, 3]);
        expect(versions[0]).toMatchObject({ version: 1, changeNotes: 'first cut' });
        expect('changeNotes' in versions[1]!).toBe(false);
        expect(versions[2]!.changeNotes).toBe('renamed again; ünïcødé');
        for (const v of versions) {
          expect(v.createdAt).toBeGreaterThanOrEqual(before);
          expect(v.createdAt).toBeLessThanOrEqual(Date.now());
        }
      });

      it('ignores notes for an unchanged definition: no new version, the old notes stay', async () => {
        await store.saveWorkflow(workflow(), { changeNotes: 'original' });
        expect(await store.saveWorkflow(workflow(), { changeNotes: 'ignored' })).toBe(1);
        expect(await store.getWorkflowVersions('wf')).toEqual([expect.objectContaining({ version: 1, changeNotes: 'original' })]);
      });

      it('tells the latest version number without loading the definition', async () => {
        expect(store.getLatestWorkflowVersion).toBeTypeOf('function');
        expect(await store.getLatestWorkflowVersion!('wf')).toBeNull();
        await store.saveWorkflow(workflow());
        expect(await store.getLatestWorkflowVersion!('wf')).toBe(1);
        await store.saveWorkflow(workflow('wf', { name: 'v2' }));
        await store.saveWorkflow(workflow('other'));
        expect(await store.getLatestWorkflowVersion!('wf')).toBe(2);
        expect(await store.getLatestWorkflowVersion!('other')).toBe(1);
      });

      it('has no versions for an unknown workflow, and refuses notes that are not a string', async () => {
        expect(await store.getWorkflowVersions('nope')).toEqual([]);
        await expect(store.saveWorkflow(workflow(), { changeNotes: 42 as unknown as string })).rejects.toThrow(InvalidArgumentError);
        expect(await store.getWorkflowVersions('wf')).toEqual([]);
      });
    });

    describe('bad input', () => {
      it('refuses wrong types and out-of-range numbers with typed errors, writing nothing', async () => {
        await store.saveWorkflow(workflow());
        await store.createExecution(execution('e1'));
        let deep: unknown = {};
        for (let i = 0; i < 10_000; i++) deep = { a: deep };
        const cases: [string, () => Promise<unknown>, string][] = [
          ['listExecutions limit -1', () => store.listExecutions({ limit: -1 }), 'INVALID_ARGUMENT'],
          ['listExecutions limit 1.5', () => store.listExecutions({ limit: 1.5 }), 'INVALID_ARGUMENT'],
          ['listExecutions status number', () => store.listExecutions({ status: 42 as never }), 'INVALID_ARGUMENT'],
          ['listExecutions workflowId number', () => store.listExecutions({ workflowId: 42 as never }), 'INVALID_ARGUMENT'],
          ['listExecutions null', () => store.listExecutions(null as never), 'INVALID_ARGUMENT'],
          ['getWorkflow number', () => store.getWorkflow(42 as never), 'INVALID_ARGUMENT'],
          ['getWorkflow version 1.5', () => store.getWorkflow('wf', 1.5), 'INVALID_ARGUMENT'],
          ['getWorkflow version string', () => store.getWorkflow('wf', '1' as never), 'INVALID_ARGUMENT'],
          ['pruneExecutions null', () => store.pruneExecutions(null as never), 'INVALID_ARGUMENT'],
          ['saveWorkflow null', () => store.saveWorkflow(null as never), 'INVALID_ARGUMENT'],
          ['createExecution null', () => store.createExecution(null as never), 'INVALID_ARGUMENT'],
          ['createExecution 10,000 levels', () => store.createExecution(execution('deep', { initialData: deep })), 'DATA_TOO_DEEP'],
          ['saveNodeResult without completedAt', () => store.saveNodeResult('e1', 'a', { status: 'completed', attempts: 1 } as never), 'INVALID_ARGUMENT'],
          ['saveNodeResult null', () => store.saveNodeResult('e1', 'a', null as never), 'INVALID_ARGUMENT'],
          ['saveNodeResult 10,000 levels', () => store.saveNodeResult('e1', 'a', result(deep)), 'DATA_TOO_DEEP'],
          ['saveNodeResult unknown execution', () => store.saveNodeResult('nope', 'a', result(1)), 'EXECUTION_NOT_FOUND'],
        ];
        const got: [string, unknown][] = [];
        for (const [label, call] of cases)
          got.push([
            label,
            await call().then(
              () => 'resolved',
              (e: { code?: unknown; name?: unknown }) => e.code ?? e.name,
            ),
          ]);
        expect(got).toEqual(cases.map(([label, , code]) => [label, code]));
        expect(await ids()).toEqual(['e1']);
        expect((await store.getExecution('e1'))?.nodeResults).toEqual({});
      });
    });

    describe('payloads (claim check)', () => {
      const payloads = () => {
        expect(isPayloadStore(store)).toBe(true);
        return store as ExecutionStore & PayloadStore;
      };
      beforeEach(async () => {
        await store.createExecution(execution('e1'));
        await store.createExecution(execution('e2'));
      });

      it('stores JSON text and returns copies of the parsed values, per execution', async () => {
        const p = payloads();
        const value = { list: [1, 'two', null, { deep: true }], text: 'ünïcødé "quoted"', empty: {} };
        await p.putPayload('e1', 'output:a', JSON.stringify(value));
        await p.putPayload('e1', 'scalar', JSON.stringify('123'));
        const got = await p.getPayloads('e1', ['output:a', 'scalar', 'missing']);
        expect(got.get('output:a')).toEqual(value);
        expect(got.get('scalar')).toBe('123');
        expect(got.has('missing')).toBe(false);
        (got.get('output:a') as { list: unknown[] }).list.push('mutated');
        expect((await p.getPayloads('e1', ['output:a'])).get('output:a')).toEqual(value);
        expect((await p.getPayloads('e2', ['output:a'])).size).toBe(0);
        expect((await p.getPayloads('e1', [])).size).toBe(0);
      });

      it('replaces a payload written again under the same id', async () => {
        const p = payloads();
        await p.putPayload('e1', 'output:a', JSON.stringify({ v: 1 }));
        await p.putPayload('e1', 'output:a', JSON.stringify({ v: 2 }));
        expect((await p.getPayloads('e1', ['output:a'])).get('output:a')).toEqual({ v: 2 });
      });

      it('refuses a payload for an unknown execution', async () => {
        await expect(payloads().putPayload('nope', 'x', '1')).rejects.toThrow(ExecutionNotFoundError);
      });

      it('deletes the payloads of one execution', async () => {
        const p = payloads();
        await p.putPayload('e1', 'a', '1');
        await p.putPayload('e1', 'b', '2');
        await p.putPayload('e2', 'a', '3');
        expect(await p.deletePayloads('e1')).toBe(2);
        expect((await p.getPayloads('e1', ['a', 'b'])).size).toBe(0);
        expect((await p.getPayloads('e2', ['a'])).get('a')).toBe(3);
        expect(await p.deletePayloads('e1')).toBe(0);
      });

      it('prunes payloads with their execution', async () => {
        const p = payloads();
        await p.putPayload('e1', 'big', JSON.stringify({ x: 'y'.repeat(1000) }));
        await p.putPayload('e2', 'big', '2');
        await store.transitionExecution('e1', ['running'], 'completed');
        expect(await store.pruneExecutions({ keepLast: 0 })).toBe(1);
        expect((await p.getPayloads('e1', ['big'])).size).toBe(0);
        expect((await p.getPayloads('e2', ['big'])).get('big')).toBe(2);
      });
    });

    describe('waits', () => {
      type WaitMethods = Required<Pick<ExecutionStore, 'createWait' | 'getWait' | 'updateWait' | 'listWaits'>>;
      const waits = () => store as ExecutionStore & WaitMethods;
      const ref = { executionId: 'e1', kind: 'signal' as const, key: 'approval' };
      beforeEach(async () => {
        await store.createExecution(execution('e1'));
      });

      it('creates a wait once per (execution, kind, key) and returns the stored one after that', async () => {
        const w = waits();
        const first = await w.createWait({ ...ref, state: 'waiting', nodeId: 'a' });
        expect(first.created).toBe(true);
        expect(first.wait).toMatchObject({ ...ref, state: 'waiting', nodeId: 'a' });
        expect(first.wait.payload).toBeUndefined();
        expect(first.wait.createdAt).toBeGreaterThan(0);
        const second = await w.createWait({ ...ref, state: 'delivered', payload: { x: 1 } });
        expect(second).toEqual({ created: false, wait: first.wait });
        expect(await w.getWait(ref)).toEqual(first.wait);
        expect(await w.getWait({ ...ref, key: 'other' })).toBeNull();
      });

      it('keeps a delivered payload as JSON, null included', async () => {
        const w = waits();
        await w.createWait({ ...ref, state: 'delivered', payload: { approved: true, n: [1, '2'] } });
        expect((await w.getWait(ref))?.payload).toEqual({ approved: true, n: [1, '2'] });
        await w.createWait({ ...ref, key: 'nothing', state: 'delivered', payload: null });
        expect((await w.getWait({ ...ref, key: 'nothing' }))?.payload).toBeNull();
      });

      it('moves a wait by compare-and-set on its state, exactly once for concurrent movers', async () => {
        const w = waits();
        await w.createWait({ ...ref, state: 'waiting', nodeId: 'a' });
        expect(await w.updateWait(ref, ['delivered'], { state: 'resolved' })).toBeNull();
        const outcomes = await Promise.all([1, 2, 3, 4, 5].map((n) => w.updateWait(ref, ['waiting'], { state: 'resolved', resolution: 'signal', payload: { n } })));
        const won = outcomes.filter((o) => o !== null);
        expect(won).toHaveLength(1);
        expect(won[0]).toMatchObject({ state: 'resolved', resolution: 'signal', nodeId: 'a' });
        expect(await w.getWait(ref)).toEqual(won[0]);
        expect(await w.updateWait({ ...ref, key: 'missing' }, ['waiting'], { state: 'resolved' })).toBeNull();
      });

      it("lists an execution's waits and deletes them with it when pruned", async () => {
        const w = waits();
        await w.createWait({ ...ref, state: 'waiting', nodeId: 'a' });
        await w.createWait({ ...ref, key: 'second', state: 'delivered' });
        expect((await w.listWaits('e1')).map((x) => x.key).sort()).toEqual(['approval', 'second']);
        expect(await w.listWaits('e2')).toEqual([]);
        await store.transitionExecution('e1', ['running'], 'completed');
        await store.pruneExecutions({ keepLast: 0 });
        expect(await w.listWaits('e1')).toEqual([]);
      });

      it('refuses a wait of an unknown execution and malformed arguments', async () => {
        const w = waits();
        await expect(w.createWait({ ...ref, executionId: 'nope', state: 'waiting' })).rejects.toBeInstanceOf(ExecutionNotFoundError);
        await expect(w.createWait({ ...ref, kind: 'mail' as never, state: 'waiting' })).rejects.toBeInstanceOf(InvalidArgumentError);
        await expect(w.createWait({ ...ref, state: 'resolved' as never })).rejects.toBeInstanceOf(InvalidArgumentError);
        await expect(w.updateWait(ref, [], { state: 'resolved' })).rejects.toBeInstanceOf(InvalidArgumentError);
        await expect(w.getWait({ ...ref, key: '' })).rejects.toBeInstanceOf(InvalidArgumentError);
      });

      describe('findWaitingByMatch (event waits)', () => {
        const find = () => (store as ExecutionStore & Required<Pick<ExecutionStore, 'findWaitingByMatch'>>).findWaitingByMatch.bind(store);
        const paid = (executionId: string) => ({ executionId, kind: 'event' as const, key: 'order.paid' });
        beforeEach(async () => {
          await store.createExecution(execution('e2'));
          await store.createExecution(execution('e3'));
        });

        it('finds the waiting waits of a key whose match value is one of those asked, and only those', async () => {
          const w = waits();
          await w.createWait({ ...paid('e1'), state: 'waiting', nodeId: 'a', matchValue: '["orderId","o-1"]' });
          await w.createWait({ ...paid('e2'), state: 'waiting', nodeId: 'a', matchValue: '["orderId","o-1"]' });
          await w.createWait({ ...paid('e3'), state: 'waiting', nodeId: 'a', matchValue: '["orderId","o-2"]' });
          await w.createWait({ ...paid('e1'), key: 'order.shipped', state: 'waiting', nodeId: 'b', matchValue: '["orderId","o-1"]' });
          await w.createWait({ ...ref, state: 'waiting', nodeId: 'c' });
          const found = await find()({ kind: 'event', key: 'order.paid', matchValues: ['["orderId","o-1"]', '["x",1]'] });
          expect(found.map((x) => x.executionId).sort()).toEqual(['e1', 'e2']);
          expect(found[0]).toMatchObject({ kind: 'event', key: 'order.paid', state: 'waiting', nodeId: 'a', matchValue: '["orderId","o-1"]' });
          expect(await find()({ kind: 'event', key: 'order.paid', matchValues: ['["orderId",42]'] })).toEqual([]);
          expect(await find()({ kind: 'event', key: 'order.paid', matchValues: [] })).toEqual([]);
        });

        it('stops finding a wait once it leaves waiting, and again when it waits again', async () => {
          const w = waits();
          await w.createWait({ ...paid('e1'), state: 'waiting', nodeId: 'a', matchValue: '["orderId","o-1"]' });
          const query = { kind: 'event' as const, key: 'order.paid', matchValues: ['["orderId","o-1"]'] };
          expect(await w.updateWait(paid('e1'), ['waiting'], { state: 'resolved', resolution: 'timeout' })).not.toBeNull();
          expect(await find()(query)).toEqual([]);
          expect(await w.updateWait(paid('e1'), ['resolved'], { state: 'waiting' })).not.toBeNull();
          expect((await find()(query)).map((x) => x.executionId)).toEqual(['e1']);
          await store.transitionExecution('e1', ['running'], 'completed');
          await store.pruneExecutions({ keepLast: 0 });
          expect(await find()(query)).toEqual([]);
        });

        it('refuses malformed queries', async () => {
          await expect(find()({ kind: 'mail' as never, key: 'k', matchValues: [] })).rejects.toBeInstanceOf(InvalidArgumentError);
          await expect(find()({ kind: 'event', key: '', matchValues: [] })).rejects.toBeInstanceOf(InvalidArgumentError);
          await expect(find()({ kind: 'event', key: 'k', matchValues: [1] as never })).rejects.toBeInstanceOf(InvalidArgumentError);
          await expect(waits().createWait({ ...paid('e1'), state: 'waiting', matchValue: 5 as never })).rejects.toBeInstanceOf(InvalidArgumentError);
        });
      });
    });

    describe.runIf(options.peer !== undefined)('across handles (as separate processes would share it)', () => {
      let other: ExecutionStore;
      beforeEach(() => {
        other = options.peer!(store);
      });

      it('reads what the other handle wrote as soon as the write returned', async () => {
        await store.saveWorkflow(workflow());
        expect(await other.getWorkflow('wf')).toMatchObject({ version: 1 });
        await store.createExecution(execution('e1'));
        await store.saveNodeResult('e1', 'a', result(false));
        expect((await other.getExecution('e1'))!.nodeResults['a']!.data).toBe(false);
        await other.transitionExecution('e1', ['running'], 'completed');
        expect((await store.getExecution('e1'))!.status).toBe('completed');
      });

      it('lets one handle win a race for the same transition', async () => {
        for (let i = 0; i < 20; i++) {
          await store.createExecution(execution(`race-${i}`));
          const outcomes = await Promise.all([store.transitionExecution(`race-${i}`, ['running'], 'completed'), other.transitionExecution(`race-${i}`, ['running'], 'completed')]);
          expect(outcomes.filter(Boolean)).toHaveLength(1);
        }
      });

      it('lets one handle create a wait and one move it when both race', async () => {
        type WaitMethods = Required<Pick<ExecutionStore, 'createWait' | 'updateWait'>>;
        const [a, b] = [store, other] as (ExecutionStore & WaitMethods)[];
        for (let i = 0; i < 10; i++) {
          await store.createExecution(execution(`w-${i}`));
          const ref = { executionId: `w-${i}`, kind: 'signal' as const, key: 's' };
          const created = await Promise.all([a!.createWait({ ...ref, state: 'waiting' }), b!.createWait({ ...ref, state: 'delivered' })]);
          expect(created.filter((c) => c.created)).toHaveLength(1);
          const from = created[0]!.wait.state;
          const moved = await Promise.all([a!.updateWait(ref, [from], { state: 'resolved' }), b!.updateWait(ref, [from], { state: 'resolved' })]);
          expect(moved.filter((m) => m !== null)).toHaveLength(1);
        }
      });

      it('agrees on one version when both handles save the same changed definition', async () => {
        await store.saveWorkflow(workflow());
        const versions = await Promise.all([store, other, store, other].map((s) => s.saveWorkflow(workflow('wf', { name: 'v2' }))));
        expect(versions).toEqual([2, 2, 2, 2]);
      });
    });
  });
}
