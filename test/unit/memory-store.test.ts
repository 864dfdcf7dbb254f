import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryExecutionStore } from '../../src/store/memory.js';
import type { NewExecution } from '../../src/store/store.js';
import type { ExecutionStatus, NodeResult, WorkflowDefinition } from '../../src/definition/types.js';
import { ExecutionNotFoundError, InvalidArgumentError } from '../../src/errors.js';

function workflow(id = 'wf', extra: Partial<WorkflowDefinition> = {}): WorkflowDefinition {
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

function execution(executionId: string, extra: Partial<NewExecution> = {}): NewExecution {
  return { executionId, workflowId: 'wf', workflowVersion: 1, status: 'running', initialData: { n: 1 }, depth: 0, startedAt: 1000, ...extra };
}

function result(data: unknown, extra: Partial<NodeResult> = {}): NodeResult {
  return { status: 'completed', data, attempts: 1, completedAt: 2000, ...extra };
}

async function ids(store: InMemoryExecutionStore, filter?: Parameters<InMemoryExecutionStore['listExecutions']>[0]): Promise<string[]> {
  return (await store.listExecutions(filter)).map((e) => e.executionId);
}

let store: InMemoryExecutionStore;
beforeEach(() => {
  store = new InMemoryExecutionStore();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('constructor', () => {
  it.each([[-1], [1.5], [Number.NaN]])('refuses maxFinishedExecutions %j with InvalidArgumentError', (value) => {
    expect(() => new InMemoryExecutionStore({ maxFinishedExecutions: value })).toThrow(InvalidArgumentError);
    try {
      new InMemoryExecutionStore({ maxFinishedExecutions: value });
    } catch (err) {
      expect((err as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
    }
  });

  it('accepts 0 and the default', () => {
    expect(() => new InMemoryExecutionStore({ maxFinishedExecutions: 0 })).not.toThrow();
    expect(new InMemoryExecutionStore().size).toBe(0);
  });
});

describe('workflows', () => {
  it('gives the first save version 1 and stores the version on the definition', async () => {
    expect(await store.saveWorkflow(workflow())).toBe(1);
    expect(await store.getWorkflow('wf')).toEqual({ ...workflow(), version: 1 });
  });

  it('returns the same version for an unchanged definition', async () => {
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

  it('listWorkflows returns the latest version of each', async () => {
    await store.saveWorkflow(workflow('one'));
    await store.saveWorkflow(workflow('one', { name: 'one-v2' }));
    await store.saveWorkflow(workflow('two'));
    const list = await store.listWorkflows();
    expect(list.map((w) => [w.id, w.version, w.name])).toEqual([
      ['one', 2, 'one-v2'],
      ['two', 1, 'two'],
    ]);
  });
});

describe('executions', () => {
  it('creates an execution with empty node results', async () => {
    await store.createExecution(execution('e1'));
    expect(await store.getExecution('e1')).toEqual({ ...execution('e1'), nodeResults: {} });
    expect(store.size).toBe(1);
  });

  it('refuses to create the same id twice', async () => {
    await store.createExecution(execution('e1'));
    await expect(store.createExecution(execution('e1', { workflowId: 'other' }))).rejects.toThrow(InvalidArgumentError);
    expect((await store.getExecution('e1'))!.workflowId).toBe('wf');
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
    const got = (await store.getExecution('e1'))!;
    expect(got.status).toBe('running');
    expect(got.completedAt).toBeUndefined();
    expect(got.error).toBeUndefined();
  });

  it('lets only one of two identical transitions win', async () => {
    await store.createExecution(execution('e1'));
    const outcomes = await Promise.all([
      store.transitionExecution('e1', ['running'], 'completed'),
      store.transitionExecution('e1', ['running'], 'completed'),
    ]);
    expect(outcomes.filter(Boolean)).toHaveLength(1);
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
    await store.transitionExecution('e1', ['failed'], 'running');
    const got = (await store.getExecution('e1'))!;
    expect(got.status).toBe('running');
    expect(got.error).toBeUndefined();
    expect(got.completedAt).toBeUndefined();
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
});

describe('node results', () => {
  beforeEach(async () => {
    await store.createExecution(execution('e1'));
  });

  it('saves a node result', async () => {
    await store.saveNodeResult('e1', 'a', result({ v: 1 }, { nextNodes: ['b'], startedAt: 1500 }));
    expect((await store.getExecution('e1'))!.nodeResults).toEqual({ a: result({ v: 1 }, { nextNodes: ['b'], startedAt: 1500 }) });
  });

  it('upserts: a later write replaces an earlier one, twice is harmless', async () => {
    await store.saveNodeResult('e1', 'a', result('first'));
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

  it('copies the result on the way in', async () => {
    const r = result({ v: 1 });
    await store.saveNodeResult('e1', 'a', r);
    (r.data as { v: number }).v = 2;
    expect((await store.getExecution('e1'))!.nodeResults['a']!.data).toEqual({ v: 1 });
  });

  it('deletes a node result and leaves the others', async () => {
    await store.saveNodeResult('e1', 'a', result(1));
    await store.saveNodeResult('e1', 'b', result(2));
    await store.deleteNodeResult('e1', 'a');
    expect((await store.getExecution('e1'))!.nodeResults).toEqual({ b: result(2) });
    await store.deleteNodeResult('e1', 'never-saved');
    expect(Object.keys((await store.getExecution('e1'))!.nodeResults)).toEqual(['b']);
  });

  it('throws ExecutionNotFoundError for an unknown execution', async () => {
    await expect(store.saveNodeResult('nope', 'a', result(1))).rejects.toThrow(ExecutionNotFoundError);
    await expect(store.deleteNodeResult('nope', 'a')).rejects.toThrow(ExecutionNotFoundError);
  });
});

describe('listExecutions / getChildExecutions', () => {
  beforeEach(async () => {
    await store.createExecution(execution('e1', { workflowId: 'wf' }));
    await store.createExecution(execution('e2', { workflowId: 'other' }));
    await store.createExecution(execution('e3', { workflowId: 'wf', status: 'pending' }));
    await store.createExecution(execution('e4', { workflowId: 'wf' }));
    await store.transitionExecution('e4', ['running'], 'completed');
  });

  it('lists every execution, newest first', async () => {
    expect(await ids(store)).toEqual(['e4', 'e3', 'e2', 'e1']);
  });

  it('filters by workflowId', async () => {
    expect(await ids(store, { workflowId: 'wf' })).toEqual(['e4', 'e3', 'e1']);
    expect(await ids(store, { workflowId: 'other' })).toEqual(['e2']);
    expect(await ids(store, { workflowId: 'none' })).toEqual([]);
  });

  it('filters by one status or several', async () => {
    expect(await ids(store, { status: 'running' })).toEqual(['e2', 'e1']);
    expect(await ids(store, { status: ['pending', 'completed'] })).toEqual(['e4', 'e3']);
    expect(await ids(store, { workflowId: 'wf', status: 'running' })).toEqual(['e1']);
  });

  it('applies the limit after filtering', async () => {
    expect(await ids(store, { limit: 2 })).toEqual(['e4', 'e3']);
    expect(await ids(store, { workflowId: 'wf', status: ['running', 'pending'], limit: 1 })).toEqual(['e3']);
  });

  it('returns at most 100 by default', async () => {
    for (let i = 0; i < 110; i++) await store.createExecution(execution(`bulk-${i}`));
    const list = await store.listExecutions();
    expect(list).toHaveLength(100);
    expect(list[0]!.executionId).toBe('bulk-109');
  });

  it('returns copies', async () => {
    const [first] = await store.listExecutions({ limit: 1 });
    first!.status = 'failed';
    expect((await store.getExecution('e4'))!.status).toBe('completed');
  });

  it('finds child executions by parentExecutionId', async () => {
    await store.createExecution(execution('child-1', { parentExecutionId: 'e1', parentNodeId: 'sub', depth: 1 }));
    await store.createExecution(execution('child-2', { parentExecutionId: 'e1', parentNodeId: 'sub2', depth: 1 }));
    await store.createExecution(execution('grandchild', { parentExecutionId: 'child-1', depth: 2 }));
    const children = await store.getChildExecutions('e1');
    expect(children.map((e) => e.executionId).sort()).toEqual(['child-1', 'child-2']);
    expect(children.find((c) => c.executionId === 'child-1')).toMatchObject({ parentNodeId: 'sub', depth: 1 });
    expect((await store.getChildExecutions('child-1')).map((e) => e.executionId)).toEqual(['grandchild']);
    expect(await store.getChildExecutions('e2')).toEqual([]);
  });
});

describe('eviction of finished executions', () => {
  it('evicts the oldest finished execution past maxFinishedExecutions, never a running one', async () => {
    const s = new InMemoryExecutionStore({ maxFinishedExecutions: 2 });
    await s.createExecution(execution('running-old'));
    for (const id of ['f1', 'f2', 'f3']) await s.createExecution(execution(id));
    await s.createExecution(execution('paused', { status: 'paused' }));
    await s.createExecution(execution('pending', { status: 'pending' }));

    await s.transitionExecution('f2', ['running'], 'completed');
    await s.transitionExecution('f1', ['running'], 'failed');
    expect(s.size).toBe(6);
    await s.transitionExecution('f3', ['running'], 'cancelled');

    // f2 finished first, so it goes; the others stay
    expect(s.size).toBe(5);
    expect(await s.getExecution('f2')).toBeNull();
    expect(await s.getExecution('f1')).not.toBeNull();
    expect(await s.getExecution('f3')).not.toBeNull();
    expect(await s.getExecution('running-old')).toMatchObject({ status: 'running' });
    expect(await s.getExecution('paused')).not.toBeNull();
    expect(await s.getExecution('pending')).not.toBeNull();
  });

  it('forgets an execution that leaves a terminal status, so it is not evicted while running', async () => {
    const s = new InMemoryExecutionStore({ maxFinishedExecutions: 1 });
    for (const id of ['a', 'b', 'c']) await s.createExecution(execution(id));
    await s.transitionExecution('a', ['running'], 'failed');
    await s.transitionExecution('a', ['failed'], 'running'); // retried
    await s.transitionExecution('b', ['running'], 'completed');
    await s.transitionExecution('c', ['running'], 'completed');
    expect(await s.getExecution('a')).toMatchObject({ status: 'running' });
    expect(await s.getExecution('b')).toBeNull();
    expect(await s.getExecution('c')).toMatchObject({ status: 'completed' });
  });

  it('with maxFinishedExecutions 0 drops executions as soon as they finish', async () => {
    const s = new InMemoryExecutionStore({ maxFinishedExecutions: 0 });
    await s.createExecution(execution('a'));
    await s.createExecution(execution('b'));
    expect(await s.transitionExecution('a', ['running'], 'completed')).toBe(true);
    expect(await s.getExecution('a')).toBeNull();
    expect(await s.getExecution('b')).not.toBeNull();
  });

  it('never evicts when nothing has finished, however many executions there are', async () => {
    const s = new InMemoryExecutionStore({ maxFinishedExecutions: 1 });
    for (let i = 0; i < 20; i++) await s.createExecution(execution(`r${i}`));
    expect(s.size).toBe(20);
  });
});
