import { ownValue, setOwn } from './own.js';
import type { NodeDefinition, NodeResult, WorkflowDefinition } from './types.js';

/** A definition indexed for the lookups every node job makes. Build once per definition. */
export interface WorkflowGraph {
  /** The definition itself. */
  readonly definition: WorkflowDefinition;
  /** Nodes by id. */
  readonly nodes: ReadonlyMap<string, NodeDefinition>;
}

/** Indexes a (validated) definition. */
export function indexWorkflow(definition: WorkflowDefinition): WorkflowGraph {
  return { definition, nodes: new Map(definition.nodes.map((n) => [n.id, n])) };
}

/**
 * Whether the edge parent → child carries data: the parent completed and either chose no
 * branches or named this child, or it failed with `continueOnFail`.
 */
export function isEdgeActive(parent: NodeResult, childId: string): boolean {
  if (parent.status === 'skipped') return false;
  if (parent.status === 'failed') return true;
  return parent.nextNodes === undefined || parent.nextNodes.includes(childId);
}

/** What should happen to a node that has no result yet. */
export type Readiness = 'waiting' | 'run' | 'skip';

/**
 * The result of node `nodeId`, or undefined while it has none. Use it for every lookup in
 * `nodeResults`: a plain `results[nodeId]` finds `Object.prototype.constructor` for a node named
 * `constructor`.
 */
export function resultOf(results: Readonly<Record<string, NodeResult>>, nodeId: string): NodeResult | undefined {
  return ownValue(results, nodeId);
}

/**
 * A node runs once every parent has settled and at least one edge into it is active; it is
 * skipped when every parent settled and no edge into it is active; else it waits.
 */
export function readiness(node: NodeDefinition, results: Readonly<Record<string, NodeResult>>): Readiness {
  if (node.inputs.length === 0) return 'run';
  let active = false;
  for (const parentId of node.inputs) {
    const r = ownValue(results, parentId);
    if (r === undefined) return 'waiting';
    if (isEdgeActive(r, node.id)) active = true;
  }
  return active ? 'run' : 'skip';
}

/**
 * The data a parent hands down: its output; when it failed and the workflow continued, the data
 * it recorded with the failure (a sub-workflow's partial results) or `{ error }`.
 */
export function outputOf(result: NodeResult): unknown {
  return result.status === 'failed' ? (result.data ?? { error: result.error }) : result.data;
}

/**
 * What a finished execution yields (as a sub-workflow, or as `spane run` prints it): the data of
 * its single final node (a node without outputs), or `{ finalNodeId: data }` when it has several,
 * leaving out skipped ones.
 */
export function workflowOutput(def: Pick<WorkflowDefinition, 'nodes'>, results: Readonly<Record<string, NodeResult>>): unknown {
  const finals = def.nodes.filter((n) => n.outputs.length === 0);
  if (finals.length === 1) {
    const r = ownValue(results, finals[0]!.id);
    return r === undefined ? undefined : outputOf(r);
  }
  const out: Record<string, unknown> = {};
  for (const f of finals) {
    const r = ownValue(results, f.id);
    if (r !== undefined && r.status !== 'skipped') setOwn(out, f.id, outputOf(r));
  }
  return out;
}

/**
 * A node's input: the initial data for a node without parents; the data of the single active
 * parent; or `{ [parentId]: data }` of the active parents when there are several.
 */
export function buildInput(node: NodeDefinition, results: Readonly<Record<string, NodeResult>>, initialData: unknown): unknown {
  if (node.inputs.length === 0) return initialData;
  const active = node.inputs.filter((p) => {
    const r = ownValue(results, p);
    return r !== undefined && isEdgeActive(r, node.id);
  });
  if (active.length === 1) return outputOf(results[active[0]!]!);
  // User-visible: a plain object whose own keys are the parent ids (`constructor` included).
  const merged: Record<string, unknown> = {};
  for (const p of active) setOwn(merged, p, outputOf(results[p]!));
  return merged;
}

/** True when every node of the workflow has a result. */
export function isSettled(graph: WorkflowGraph, results: Readonly<Record<string, NodeResult>>): boolean {
  for (const id of graph.nodes.keys()) if (ownValue(results, id) === undefined) return false;
  return true;
}
