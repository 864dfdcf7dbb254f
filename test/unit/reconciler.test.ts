/** The reconciler's pure decision: which nodes of a running execution should have a job by now. */
import { describe, expect, it } from 'vitest';
import { indexWorkflow } from '../../src/definition/graph.js';
import type { NodeResult, WorkflowExecution } from '../../src/definition/types.js';
import { lostCandidates, readySince } from '../../src/runtime/execution/reconciler.js';
import { graph, node } from '../helpers.js';

// a → [b, c] → d (join); a is a router that may pick only b.
const g = indexWorkflow({ ...graph('g', [node('a', 't'), node('b', 't'), node('c', 't'), node('d', 't')], ['a->b', 'a->c', 'b->d', 'c->d']), version: 1 });

const done = (completedAt: number, extra: Partial<NodeResult> = {}): NodeResult => ({ status: 'completed', attempts: 1, completedAt, ...extra });
const exec = (nodeResults: Record<string, NodeResult>, startedAt = 100): WorkflowExecution => ({
  executionId: 'e',
  workflowId: 'g',
  workflowVersion: 1,
  status: 'running',
  initialData: {},
  nodeResults,
  depth: 0,
  startedAt,
});
const ids = (r: ReturnType<typeof lostCandidates>) => r.run.map((n) => n.id);

describe('lostCandidates', () => {
  it('counts the entry node from the creation of the execution', () => {
    expect(ids(lostCandidates(g, exec({}, 100), 101))).toEqual(['a']);
    expect(ids(lostCandidates(g, exec({}, 100), 100))).toEqual([]);
  });

  it('counts a node from the settling of its last parent, and never a node still waiting for one', () => {
    const e = exec({ a: done(200), b: done(300) });
    expect(readySince(g.nodes.get('c')!, e)).toBe(200);
    expect(readySince(g.nodes.get('d')!, e)).toBe(Infinity);
    expect(ids(lostCandidates(g, e, 250))).toEqual(['c']);
    expect(ids(lostCandidates(g, e, 1000))).toEqual(['c']);
    expect(ids(lostCandidates(g, exec({ a: done(200), b: done(300), c: done(400) }), 401))).toEqual(['d']);
    expect(ids(lostCandidates(g, exec({ a: done(200), b: done(300), c: done(400) }), 400))).toEqual([]);
  });

  it('asks for an advance when a node should have been skipped', () => {
    const r = lostCandidates(g, exec({ a: done(200, { nextNodes: ['b'] }), b: done(300) }), 1000);
    expect(ids(r)).toEqual([]);
    expect(r).toMatchObject({ advance: true, frontier: ['a'] });
  });

  it('asks for an advance when every node settled but the execution still runs, after the grace', () => {
    const all = { a: done(200), b: done(300), c: done(300), d: done(500) };
    expect(lostCandidates(g, exec(all), 501)).toMatchObject({ run: [], advance: true, frontier: [] });
    expect(lostCandidates(g, exec(all), 500)).toMatchObject({ run: [], advance: false });
  });
});
