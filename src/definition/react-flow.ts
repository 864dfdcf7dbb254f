/**
 * Conversion between React Flow graphs (`{ nodes, edges }`, as the `@xyflow/react` editor keeps
 * them) and SPANE {@link WorkflowDefinition}s. Pure functions over plain data: no runtime, Redis or
 * React imports, so a browser bundle or an HTTP layer can use them alike.
 *
 * @module
 */
import type { ValidationIssue } from '../errors.js';
import { WorkflowValidationError } from '../errors.js';
import { ownValue } from './own.js';
import type { NodeConfig, NodeDefinition, RetryPolicy, WorkflowDefinition, WorkflowTrigger } from './types.js';
import { findWorkflowIssues, validateWorkflow } from './validate.js';
import type { ValidateOptions } from './validate.js';

/**
 * The `data` of a React Flow node, as far as SPANE reads it. Every other key (UI state, colours,
 * anything the editor keeps) is allowed and ignored.
 */
export interface ReactFlowNodeData {
  /** The SPANE node type (the executor to run); wins over the React Flow node's own `type`. */
  type?: string;
  /** Shown in the editor; becomes the node's `name` when it is a string other than the node id. */
  label?: unknown;
  /** The node's `config`, handed to its executor. */
  config?: Record<string, unknown>;
  /** The node's retry policy. */
  retryPolicy?: RetryPolicy;
  /** The node's `eager` (whether it may run in an eager chain). */
  eager?: boolean;
  [key: string]: unknown;
}

/** A React Flow node, as far as SPANE reads it. Nodes of `@xyflow/react` fit this shape. */
export interface ReactFlowNode {
  /** Becomes the SPANE node id. */
  id: string;
  /** React Flow's renderer type; the SPANE type when `data.type` is not set. */
  type?: string;
  /** Position in the editor; ignored by {@link fromReactFlow}, set by {@link toReactFlow}. */
  position?: { x: number; y: number };
  /** What SPANE reads: type, label, config, retryPolicy, eager. */
  data?: ReactFlowNodeData;
}

/** A React Flow edge, as far as SPANE reads it. Edges of `@xyflow/react` fit this shape. */
export interface ReactFlowEdge {
  /** Used in error messages only. */
  id?: string;
  /** The parent node's id. */
  source: string;
  /** The child node's id. */
  target: string;
  /** The output handle the edge leaves from; see {@link FromReactFlowOptions.handlesKey}. */
  sourceHandle?: string | null;
  /** The input handle the edge arrives at; SPANE nodes have a single input, so it is ignored. */
  targetHandle?: string | null;
}

/** A React Flow graph: what `useReactFlow().toObject()` returns, less the viewport. */
export interface ReactFlowGraph {
  nodes: ReactFlowNode[];
  edges: ReactFlowEdge[];
}

/** A graph produced by {@link toReactFlow}: every node has a position and data. */
export interface ReactFlowGraphOut {
  nodes: (ReactFlowNode & { position: { x: number; y: number }; data: ReactFlowNodeData })[];
  edges: (ReactFlowEdge & { id: string })[];
}

/** Options of {@link fromReactFlow}. */
export interface FromReactFlowOptions extends ValidateOptions {
  /** The workflow id; letters, digits, `_`, `-` and `.` only. */
  id: string;
  /**
   * Human-readable name.
   * @defaultValue the id
   */
  name?: string;
  /**
   * The node that receives the initial data. When omitted, the single node without an incoming
   * edge; when there is no such node or more than one, conversion fails with a `missing-entry`
   * issue listing the candidates.
   */
  entryNodeId?: string;
  /** Copied to the definition. */
  description?: string;
  /** Copied to the definition (React Flow graphs have no triggers of their own). */
  triggers?: WorkflowTrigger[];
  /**
   * When set, a node whose outgoing edges carry a `sourceHandle` gets
   * `config[handlesKey] = { [handle]: [target ids] }`, so a branching executor can answer with
   * `nextNodes: ctx.nodeConfig[handlesKey]['yes']` without knowing the ids the editor chose.
   * Edges without a handle are not listed. Off by default: config is then exactly `data.config`.
   */
  handlesKey?: string;
}

/** Options of {@link toReactFlow}. */
export interface ToReactFlowOptions {
  /**
   * `LR` places layers left to right, `TB` top to bottom.
   * @defaultValue 'LR'
   */
  direction?: 'LR' | 'TB';
  /**
   * Distance between layers, in pixels.
   * @defaultValue 250
   */
  layerSpacing?: number;
  /**
   * Distance between nodes of one layer, in pixels.
   * @defaultValue 100
   */
  nodeSpacing?: number;
  /**
   * The React Flow renderer `type` of each node. By default React Flow's built-in types:
   * `input` for the entry node, `output` for nodes without children, `default` otherwise. The
   * SPANE type is always kept in `data.type`.
   */
  nodeType?: (node: NodeDefinition, role: 'entry' | 'inner' | 'leaf') => string | undefined;
  /** Turns `config[handlesKey]` back into `sourceHandle`s and leaves the key out of `data.config`. */
  handlesKey?: string;
}

/**
 * Converts a React Flow graph into a validated {@link WorkflowDefinition}.
 *
 * Each React Flow node becomes a SPANE node with the same id, in the same order (so issue paths
 * such as `nodes[2].type` point at the graph's third node): its type is `data.type`, else the
 * node's `type`; its config is `data.config` (or `{}`); `data.retryPolicy` becomes `retryPolicy`;
 * a string `data.label` other than the id becomes `name`. Edges become `outputs` of their source
 * and `inputs` of their target, in edge order, each pair once however many edges join it.
 *
 * Throws {@link WorkflowValidationError} listing every problem at once: edges to nodes that do not
 * exist, nodes without a type, no single entry node, and everything {@link validateWorkflow}
 * checks (cycles, unreachable nodes, unsafe ids, unknown types when `hasNodeType` is given, ...).
 *
 * @example
 * ```ts
 * const def = fromReactFlow(
 *   { nodes: [{ id: 'fetch', data: { type: 'http', config: { url: 'https://api.example.test/users' } } }, { id: 'shape', data: { type: 'transform' } }],
 *     edges: [{ source: 'fetch', target: 'shape' }] },
 *   { id: 'fetch-and-shape' },
 * );
 * await engine.registerWorkflow(def);
 * ```
 */
export function fromReactFlow(graph: ReactFlowGraph, options: FromReactFlowOptions): WorkflowDefinition {
  const issues: ValidationIssue[] = [];
  const add = (rule: ValidationIssue['rule'], path: string, message: string) => issues.push({ rule, path, message });

  const rawNodes: unknown = isRecord(graph) ? graph.nodes : undefined;
  const rawEdges: unknown = isRecord(graph) ? (graph.edges ?? []) : undefined;
  if (!Array.isArray(rawNodes)) add('schema', 'nodes', 'the graph needs a nodes array');
  if (!Array.isArray(rawEdges)) add('schema', 'edges', 'edges must be an array');
  if (issues.length > 0) throw new WorkflowValidationError(options.id, issues);
  const nodes = rawNodes as unknown[];
  const edges = rawEdges as unknown[];

  // Nodes first, so edges can be checked against the ids that exist.
  const ids = new Set<string>();
  const drafts: { id: string; type: string | undefined; data: Record<string, unknown> }[] = [];
  nodes.forEach((n, i) => {
    if (!isRecord(n) || typeof n.id !== 'string') {
      add('schema', `nodes[${i}].id`, `node ${i} needs a string id`);
      return;
    }
    const data = isRecord(n.data) ? n.data : {};
    const type = nonEmptyString(data.type) ?? nonEmptyString(n.type);
    if (type === undefined) add('schema', `nodes[${i}].type`, `node '${n.id}' has no type: set data.type (or the React Flow node type) to an executor type`);
    ids.add(n.id);
    drafts.push({ id: n.id, type, data });
  });
  // Without every id the graph cannot be checked further (and issue paths would shift).
  if (issues.some((i) => i.path.endsWith('.id'))) throw new WorkflowValidationError(options.id, issues);
  if (drafts.length === 0) throw new WorkflowValidationError(options.id, [{ rule: 'schema', path: 'nodes', message: 'the graph has no nodes' }]);

  const inputs = new Map<string, string[]>();
  const outputs = new Map<string, string[]>();
  const handles = new Map<string, Map<string, string[]>>();
  const pushOnce = (map: Map<string, string[]>, key: string, value: string) => {
    const list = map.get(key) ?? [];
    if (!list.includes(value)) list.push(value);
    map.set(key, list);
  };
  edges.forEach((e, k) => {
    if (!isRecord(e) || typeof e.source !== 'string' || typeof e.target !== 'string') {
      add('schema', `edges[${k}]`, `edge ${k} needs string source and target`);
      return;
    }
    const name = typeof e.id === 'string' ? `edge '${e.id}'` : `edge ${k}`;
    let ok = true;
    for (const end of ['source', 'target'] as const) {
      if (!ids.has(e[end] as string)) {
        add('missing-node', `edges[${k}].${end}`, `${name} (${String(e.source)} -> ${String(e.target)}): ${end} '${String(e[end])}' is not a node of this graph`);
        ok = false;
      }
    }
    if (!ok) return;
    const { source, target } = e as { source: string; target: string };
    pushOnce(outputs, source, target);
    pushOnce(inputs, target, source);
    const handle = e.sourceHandle;
    if (options.handlesKey !== undefined && typeof handle === 'string' && handle !== '') {
      const byHandle = handles.get(source) ?? new Map<string, string[]>();
      pushOnce(byHandle, handle, target);
      handles.set(source, byHandle);
    }
  });

  const defNodes: NodeDefinition[] = drafts.map(({ id, type, data }) => {
    const config = (data.config === undefined ? {} : data.config) as NodeConfig;
    const node: NodeDefinition = { id, type: type ?? '', config, inputs: inputs.get(id) ?? [], outputs: outputs.get(id) ?? [] };
    const byHandle = handles.get(id);
    if (byHandle !== undefined && options.handlesKey !== undefined && isRecord(config)) {
      node.config = { ...config, [options.handlesKey]: Object.fromEntries(byHandle) };
    }
    if (data.retryPolicy !== undefined) node.retryPolicy = data.retryPolicy as RetryPolicy;
    if (data.eager !== undefined) node.eager = data.eager as boolean;
    if (typeof data.label === 'string' && data.label !== '' && data.label !== id) node.name = data.label;
    return node;
  });

  // The entry: given, or the only node nobody points to.
  let entryNodeId = options.entryNodeId;
  let entryKnown = entryNodeId !== undefined;
  if (entryNodeId === undefined) {
    const roots = defNodes.filter((n) => n.inputs.length === 0).map((n) => n.id);
    if (roots.length === 1) {
      entryNodeId = roots[0];
      entryKnown = true;
    } else if (roots.length === 0) {
      add('missing-entry', 'entryNodeId', 'no entry node: every node has an incoming edge (the graph has a cycle); pass entryNodeId or remove the edge into the start node');
    } else {
      add(
        'missing-entry',
        'entryNodeId',
        `no single entry node: ${roots.length} nodes have no incoming edge (${roots.join(', ')}); connect them to one start node or pass entryNodeId`,
      );
    }
  }

  const def: WorkflowDefinition = { id: options.id, name: options.name ?? options.id, entryNodeId: entryNodeId ?? drafts[0]!.id, nodes: defNodes };
  if (options.description !== undefined) def.description = options.description;
  if (options.triggers !== undefined) def.triggers = options.triggers;

  // A missing type is already reported; validate the rest of the graph with a stand-in type so
  // that its problems are reported in the same pass.
  const MISSING = '\u0000missing-type';
  const probe = { ...def, nodes: def.nodes.map((n) => (n.type === '' ? { ...n, type: MISSING } : n)) };
  const validateOptions: ValidateOptions = {};
  const hasNodeType = options.hasNodeType;
  if (hasNodeType !== undefined) validateOptions.hasNodeType = (t) => t === MISSING || hasNodeType(t);
  for (const issue of findWorkflowIssues(probe, validateOptions)) {
    // Without a known entry the validator's entry and reachability checks measure a guess.
    if (!entryKnown && (issue.rule === 'missing-entry' || issue.rule === 'unreachable')) continue;
    if (issue.rule === 'schema' && issues.some((i) => i.path === issue.path)) continue;
    issues.push(issue);
  }
  if (issues.length > 0) throw new WorkflowValidationError(options.id, issues);
  return validateWorkflow(def, hasNodeType === undefined ? {} : { hasNodeType });
}

/**
 * Converts a definition into a React Flow graph for an editor: one node per SPANE node with the
 * type, config, retry policy and name in `data`, one edge per parent/child pair, and positions
 * from a simple layered layout (each node one layer after its deepest parent). Feeding the result
 * back to {@link fromReactFlow} with the same id, name, triggers and description gives the same
 * definition, except that each node's `inputs` follow edge order.
 */
export function toReactFlow(def: WorkflowDefinition, options: ToReactFlowOptions = {}): ReactFlowGraphOut {
  const { direction = 'LR', layerSpacing = 250, nodeSpacing = 100, handlesKey } = options;
  const nodeType = options.nodeType ?? ((_n, role) => (role === 'entry' ? 'input' : role === 'leaf' ? 'output' : 'default'));
  const known = new Set(def.nodes.map((n) => n.id));
  const layers = layerOf(def, known);
  const perLayer = new Map<number, number>();

  const nodes = def.nodes.map((n) => {
    const layer = layers.get(n.id) ?? 0;
    const slot = perLayer.get(layer) ?? 0;
    perLayer.set(layer, slot + 1);
    const along = layer * layerSpacing;
    const across = slot * nodeSpacing;
    const { [handlesKey ?? '\u0000']: _handles, ...config } = n.config;
    const data: ReactFlowNodeData = { type: n.type, label: n.name ?? n.id, config: handlesKey === undefined ? n.config : config };
    if (n.retryPolicy !== undefined) data.retryPolicy = n.retryPolicy;
    if (n.eager !== undefined) data.eager = n.eager;
    const role = n.id === def.entryNodeId ? 'entry' : n.outputs.some((o) => known.has(o)) ? 'inner' : 'leaf';
    const out: ReactFlowGraphOut['nodes'][number] = { id: n.id, position: direction === 'LR' ? { x: along, y: across } : { x: across, y: along }, data };
    const type = nodeType(n, role);
    if (type !== undefined) out.type = type;
    return out;
  });

  const edges: ReactFlowGraphOut['edges'] = [];
  for (const n of def.nodes) {
    const byHandle = handlesKey === undefined ? undefined : ownValue(n.config, handlesKey);
    const handleOf = new Map<string, string>();
    if (isRecord(byHandle)) {
      for (const [handle, targets] of Object.entries(byHandle)) {
        if (Array.isArray(targets)) for (const t of targets) if (typeof t === 'string' && !handleOf.has(t)) handleOf.set(t, handle);
      }
    }
    for (const target of n.outputs) {
      if (!known.has(target)) continue;
      const edge: ReactFlowGraphOut['edges'][number] = { id: `${n.id}->${target}`, source: n.id, target };
      const handle = handleOf.get(target);
      if (handle !== undefined) edge.sourceHandle = handle;
      edges.push(edge);
    }
  }
  return { nodes, edges };
}

/** Longest-path layer of every node (Kahn's order); nodes on a cycle go one layer past the rest. */
function layerOf(def: WorkflowDefinition, known: ReadonlySet<string>): Map<string, number> {
  const indegree = new Map(def.nodes.map((n) => [n.id, 0]));
  const children = new Map<string, string[]>();
  for (const n of def.nodes) {
    const kids = [...new Set(n.outputs.filter((o) => known.has(o) && o !== n.id))];
    children.set(n.id, kids);
    for (const k of kids) indegree.set(k, (indegree.get(k) ?? 0) + 1);
  }
  const layer = new Map<string, number>();
  const queue = def.nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  for (const id of queue) layer.set(id, 0);
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i]!;
    for (const k of children.get(id) ?? []) {
      layer.set(k, Math.max(layer.get(k) ?? 0, (layer.get(id) ?? 0) + 1));
      const left = (indegree.get(k) ?? 0) - 1;
      indegree.set(k, left);
      if (left === 0) queue.push(k);
    }
  }
  const deepest = Math.max(-1, ...layer.values());
  for (const n of def.nodes) if (!layer.has(n.id)) layer.set(n.id, deepest + 1);
  return layer;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
