import { describe, expect, it } from 'vitest';
import { buildInput, indexWorkflow, isEdgeActive, isSettled, outputOf, readiness } from '../../src/definition/graph.js';
import type { NodeDefinition, NodeResult, WorkflowDefinition } from '../../src/definition/types.js';

function node(id: string, inputs: string[] = [], outputs: string[] = []): NodeDefinition {
  return { id, type: 'work', config: {}, inputs, outputs };
}

function completed(data: unknown, nextNodes?: string[]): NodeResult {
  const r: NodeResult = { status: 'completed', data, attempts: 1, completedAt: 1 };
  if (nextNodes !== undefined) r.nextNodes = nextNodes;
  return r;
}

function failed(error: string): NodeResult {
  return { status: 'failed', error, attempts: 3, completedAt: 1 };
}

const skipped: NodeResult = { status: 'skipped', attempts: 0, completedAt: 1 };

describe('isEdgeActive', () => {
  it('is active for a completed parent that chose no branches', () => {
    expect(isEdgeActive(completed('x'), 'child')).toBe(true);
  });

  it('is active only for the children named in nextNodes', () => {
    const r = completed('x', ['left']);
    expect(isEdgeActive(r, 'left')).toBe(true);
    expect(isEdgeActive(r, 'right')).toBe(false);
  });

  it('is inactive when nextNodes is empty', () => {
    expect(isEdgeActive(completed('x', []), 'child')).toBe(false);
  });

  it('is inactive for a skipped parent', () => {
    expect(isEdgeActive(skipped, 'child')).toBe(false);
  });

  it('is active for a failed parent (continueOnFail), whatever nextNodes says', () => {
    expect(isEdgeActive(failed('boom'), 'child')).toBe(true);
    expect(isEdgeActive({ ...failed('boom'), nextNodes: [] }, 'child')).toBe(true);
  });
});

describe('readiness', () => {
  it('runs a node without inputs', () => {
    expect(readiness(node('entry'), {})).toBe('run');
  });

  it('waits while a parent has no result', () => {
    expect(readiness(node('c', ['a', 'b']), { a: completed(1) })).toBe('waiting');
    expect(readiness(node('c', ['a', 'b']), { b: completed(1) })).toBe('waiting');
    expect(readiness(node('c', ['a']), {})).toBe('waiting');
  });

  it('waits for every parent even when the settled ones are inactive', () => {
    expect(readiness(node('c', ['a', 'b']), { a: skipped })).toBe('waiting');
  });

  it('runs once every parent settled and one edge is active', () => {
    expect(readiness(node('c', ['a', 'b']), { a: completed(1), b: completed(2) })).toBe('run');
    expect(readiness(node('c', ['a', 'b']), { a: skipped, b: completed(2) })).toBe('run');
    expect(readiness(node('c', ['a', 'b']), { a: completed(1, ['other']), b: completed(2, ['c']) })).toBe('run');
  });

  it('runs after a failed parent that continued', () => {
    expect(readiness(node('c', ['a']), { a: failed('boom') })).toBe('run');
  });

  it('skips when every parent settled and no edge is active', () => {
    expect(readiness(node('c', ['a', 'b']), { a: skipped, b: skipped })).toBe('skip');
    expect(readiness(node('c', ['a']), { a: completed(1, ['other']) })).toBe('skip');
    expect(readiness(node('c', ['a', 'b']), { a: completed(1, []), b: skipped })).toBe('skip');
  });

  it('ignores results of nodes that are not its parents', () => {
    expect(readiness(node('c', ['a']), { x: completed(1), y: skipped })).toBe('waiting');
  });
});

describe('outputOf', () => {
  it('is the data of a completed node and { error } of a failed one', () => {
    expect(outputOf(completed({ v: 1 }))).toEqual({ v: 1 });
    expect(outputOf(failed('boom'))).toEqual({ error: 'boom' });
  });
});

describe('buildInput', () => {
  it('gives the entry node (no inputs) the initial data', () => {
    const initial = { user: 'u1' };
    expect(buildInput(node('entry', [], ['b']), { other: completed('ignored') }, initial)).toBe(initial);
    expect(buildInput(node('entry'), {}, undefined)).toBeUndefined();
  });

  it("gives a node with one active parent that parent's data directly", () => {
    expect(buildInput(node('b', ['a']), { a: completed({ n: 2 }) }, 'init')).toEqual({ n: 2 });
  });

  it.each([[0], [false], [''], [null]])('passes falsy data %j through unchanged', (data) => {
    expect(buildInput(node('b', ['a']), { a: completed(data) }, 'init')).toBe(data);
  });

  it('keys the data by parent id when several parents are active', () => {
    const input = buildInput(node('c', ['a', 'b']), { a: completed({ x: 1 }), b: completed(0) }, 'init');
    expect(input).toEqual({ a: { x: 1 }, b: 0 });
  });

  it('keeps falsy data of several parents as keys', () => {
    const input = buildInput(node('d', ['a', 'b', 'c']), { a: completed(false), b: completed(''), c: completed(0) }, 'init');
    expect(input).toEqual({ a: false, b: '', c: 0 });
    expect(Object.keys(input as object)).toEqual(['a', 'b', 'c']);
  });

  it('excludes skipped parents: the only active parent is passed directly', () => {
    expect(buildInput(node('c', ['a', 'b']), { a: skipped, b: completed('from-b') }, 'init')).toBe('from-b');
  });

  it('excludes parents that did not choose this node in nextNodes', () => {
    const results = { a: completed('from-a', ['elsewhere']), b: completed('from-b', ['c']) };
    expect(buildInput(node('c', ['a', 'b']), results, 'init')).toBe('from-b');
  });

  it('excludes inactive parents from the merged object', () => {
    const results = { a: completed('A'), b: skipped, c: completed('C', ['d']), e: completed('E', ['x']) };
    expect(buildInput(node('d', ['a', 'b', 'c', 'e']), results, 'init')).toEqual({ a: 'A', c: 'C' });
  });

  it('gives { error } for a failed parent (continueOnFail)', () => {
    expect(buildInput(node('b', ['a']), { a: failed('boom') }, 'init')).toEqual({ error: 'boom' });
  });

  it('mixes { error } and data when several parents are active', () => {
    const input = buildInput(node('c', ['a', 'b']), { a: failed('boom'), b: completed(7) }, 'init');
    expect(input).toEqual({ a: { error: 'boom' }, b: 7 });
  });

  it('does not give a non-entry node the initial data', () => {
    expect(buildInput(node('c', ['a', 'b']), { a: skipped, b: skipped }, 'init')).toEqual({});
  });
});

describe('indexWorkflow / isSettled', () => {
  const def: WorkflowDefinition = {
    id: 'wf',
    name: 'wf',
    entryNodeId: 'a',
    nodes: [node('a', [], ['b', 'c']), node('b', ['a']), node('c', ['a'])],
  };

  it('indexes nodes by id', () => {
    const g = indexWorkflow(def);
    expect(g.definition).toBe(def);
    expect([...g.nodes.keys()]).toEqual(['a', 'b', 'c']);
    expect(g.nodes.get('b')).toBe(def.nodes[1]);
  });

  it('is false while any node has no result', () => {
    const g = indexWorkflow(def);
    expect(isSettled(g, {})).toBe(false);
    expect(isSettled(g, { a: completed(1), b: completed(2) })).toBe(false);
    expect(isSettled(g, { a: completed(1), b: completed(2), x: completed(3), y: completed(4) })).toBe(false);
  });

  it('is true once every node has a result, whatever its status', () => {
    const g = indexWorkflow(def);
    expect(isSettled(g, { a: completed(1), b: failed('boom'), c: skipped })).toBe(true);
  });
});
