import { describe, expect, it } from 'vitest';
import { fromReactFlow, toReactFlow, validateWorkflow, WorkflowValidationError } from '../../src/index.js';
import type { ReactFlowEdge, ReactFlowGraph, ReactFlowNode, ValidationIssue, WorkflowDefinition } from '../../src/index.js';
import { graph, node } from '../helpers.js';

const rf = (id: string, type: string, data: ReactFlowNode['data'] = {}): ReactFlowNode => ({ id, position: { x: 0, y: 0 }, data: { type, ...data } });
const edge = (source: string, target: string, extra: Partial<ReactFlowEdge> = {}): ReactFlowEdge => ({ id: `e-${source}-${target}`, source, target, ...extra });

/** The issues of the WorkflowValidationError that `fn` throws. */
function issuesOf(fn: () => unknown): ValidationIssue[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WorkflowValidationError);
    expect((err as WorkflowValidationError).code).toBe('WORKFLOW_VALIDATION');
    return [...(err as WorkflowValidationError).issues];
  }
  throw new Error('expected a WorkflowValidationError');
}

describe('fromReactFlow', () => {
  it('turns nodes and edges into a validated definition with mirrored inputs and outputs', () => {
    const def = fromReactFlow(
      {
        nodes: [
          rf('fetch', 'http', { label: 'Fetch user', config: { url: 'https://example.test/u' }, retryPolicy: { maxAttempts: 3 } }),
          rf('shape', 'transform', { label: 'shape' }),
          rf('log', 'log'),
        ],
        edges: [edge('fetch', 'shape'), edge('shape', 'log')],
      },
      { id: 'rf-basic', name: 'Basic', description: 'from the editor' },
    );
    expect(def).toEqual({
      id: 'rf-basic',
      name: 'Basic',
      description: 'from the editor',
      entryNodeId: 'fetch',
      nodes: [
        { id: 'fetch', type: 'http', name: 'Fetch user', config: { url: 'https://example.test/u' }, inputs: [], outputs: ['shape'], retryPolicy: { maxAttempts: 3 } },
        { id: 'shape', type: 'transform', config: {}, inputs: ['fetch'], outputs: ['log'] },
        { id: 'log', type: 'log', config: {}, inputs: ['shape'], outputs: [] },
      ],
    });
    expect(validateWorkflow(def)).toEqual(def);
  });

  it('takes the React Flow node type when data.type is missing, and data.type over it', () => {
    const def = fromReactFlow(
      {
        nodes: [
          { id: 'a', type: 'http' },
          { id: 'b', type: 'customRenderer', data: { type: 'log' } },
        ],
        edges: [{ source: 'a', target: 'b' }],
      },
      { id: 'rf-types' },
    );
    expect(def.nodes.map((n) => n.type)).toEqual(['http', 'log']);
    expect(def.name).toBe('rf-types');
  });

  it('joins a parent and child once however many edges connect them, in edge order', () => {
    const def = fromReactFlow(
      {
        nodes: [rf('a', 't'), rf('b', 't'), rf('c', 't'), rf('d', 't')],
        edges: [edge('a', 'c'), edge('a', 'b'), edge('a', 'b', { id: 'again', sourceHandle: 'other' }), edge('c', 'd'), edge('b', 'd')],
      },
      { id: 'rf-dedupe' },
    );
    const byId = Object.fromEntries(def.nodes.map((n) => [n.id, n]));
    expect(byId['a']!.outputs).toEqual(['c', 'b']);
    expect(byId['d']!.inputs).toEqual(['c', 'b']);
  });

  it('accepts a single node without edges, and a missing edges array', () => {
    const def = fromReactFlow({ nodes: [rf('only', 'log')] } as unknown as ReactFlowGraph, { id: 'rf-single' });
    expect(def.entryNodeId).toBe('only');
    expect(def.nodes).toHaveLength(1);
  });

  it('uses the given entry node, and the validator reports the other roots as unreachable', () => {
    const g = { nodes: [rf('a', 't'), rf('b', 't'), rf('c', 't')], edges: [edge('a', 'c'), edge('b', 'c')] };
    const issues = issuesOf(() => fromReactFlow(g, { id: 'rf-entry', entryNodeId: 'a' }));
    expect(issues).toEqual([expect.objectContaining({ rule: 'unreachable', message: expect.stringContaining('b') })]);
  });

  it('refuses a graph with several start nodes, naming every candidate', () => {
    const g = { nodes: [rf('a', 't'), rf('b', 't'), rf('c', 't')], edges: [edge('a', 'c'), edge('b', 'c')] };
    const issues = issuesOf(() => fromReactFlow(g, { id: 'rf-two-roots' }));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ rule: 'missing-entry', path: 'entryNodeId' });
    expect(issues[0]!.message).toContain('a, b');
  });

  it('refuses a graph where every node has a parent, and reports the cycle too', () => {
    const g = { nodes: [rf('a', 't'), rf('b', 't')], edges: [edge('a', 'b'), edge('b', 'a')] };
    const issues = issuesOf(() => fromReactFlow(g, { id: 'rf-loop' }));
    expect(issues.map((i) => i.rule).sort()).toEqual(['cycle', 'missing-entry']);
    expect(issues.find((i) => i.rule === 'cycle')!.message).toMatch(/a -> b -> a|b -> a -> b/);
  });

  it('reports a cycle below a proper entry node', () => {
    const g = { nodes: [rf('start', 't'), rf('x', 't'), rf('y', 't')], edges: [edge('start', 'x'), edge('x', 'y'), edge('y', 'x')] };
    const issues = issuesOf(() => fromReactFlow(g, { id: 'rf-cycle' }));
    expect(issues.map((i) => i.rule)).toContain('cycle');
  });

  it('reports edges to nodes that do not exist, by edge, together with other problems', () => {
    const g = {
      nodes: [rf('a', 't'), rf('b', 't'), { id: 'untyped', data: { label: 'no type' } }],
      edges: [edge('a', 'b'), edge('a', 'ghost', { id: 'to-ghost' }), edge('a', 'untyped')],
    };
    const issues = issuesOf(() => fromReactFlow(g, { id: 'rf-missing' }));
    expect(issues).toEqual(
      expect.arrayContaining([
        { rule: 'missing-node', path: 'edges[1].target', message: expect.stringContaining("edge 'to-ghost'") },
        { rule: 'schema', path: 'nodes[2].type', message: expect.stringContaining("node 'untyped' has no type") },
      ]),
    );
    expect(issues).toHaveLength(2);
  });

  it('reports unknown node types when hasNodeType is given', () => {
    const g = { nodes: [rf('a', 'http'), rf('b', 'nope')], edges: [edge('a', 'b')] };
    const issues = issuesOf(() => fromReactFlow(g, { id: 'rf-unknown', hasNodeType: (t) => t === 'http' }));
    expect(issues).toEqual([expect.objectContaining({ rule: 'unknown-type', path: 'nodes[1].type' })]);
    // Built-in types need no executor.
    expect(
      fromReactFlow({ nodes: [rf('a', 'http'), rf('w', 'delay', { config: { duration: 5 } })], edges: [edge('a', 'w')] }, { id: 'rf-builtin', hasNodeType: (t) => t === 'http' })
        .nodes,
    ).toHaveLength(2);
  });

  it('reports what the validator finds: unsafe ids, duplicate ids, bad delay config, bad workflow id', () => {
    const g = { nodes: [rf('a b', 't'), rf('c', 'delay'), rf('c', 't')], edges: [edge('a b', 'c')] };
    const rules = issuesOf(() => fromReactFlow(g, { id: 'rf-many', entryNodeId: 'a b' })).map((i) => i.rule);
    expect(rules).toEqual(expect.arrayContaining(['unsafe-id', 'duplicate-node', 'invalid-config']));
    expect(issuesOf(() => fromReactFlow({ nodes: [rf('a', 't')], edges: [] }, { id: 'bad:id' })).map((i) => i.rule)).toEqual(['unsafe-id']);
  });

  it('refuses malformed input with schema issues instead of crashing', () => {
    expect(issuesOf(() => fromReactFlow({} as ReactFlowGraph, { id: 'x' }))).toEqual([expect.objectContaining({ rule: 'schema', path: 'nodes' })]);
    expect(issuesOf(() => fromReactFlow({ nodes: [], edges: [] }, { id: 'x' }))).toEqual([expect.objectContaining({ rule: 'schema', path: 'nodes' })]);
    expect(issuesOf(() => fromReactFlow({ nodes: [{ data: {} }], edges: [] } as unknown as ReactFlowGraph, { id: 'x' }))).toEqual([
      expect.objectContaining({ path: 'nodes[0].id' }),
    ]);
    expect(issuesOf(() => fromReactFlow({ nodes: [rf('a', 't')], edges: [{ source: 'a' }] } as unknown as ReactFlowGraph, { id: 'x' }))).toEqual([
      expect.objectContaining({ path: 'edges[0]' }),
    ]);
    expect(issuesOf(() => fromReactFlow({ nodes: [rf('a', 't', { config: 'nope' as unknown as Record<string, unknown> })], edges: [] }, { id: 'x' }))[0]).toMatchObject({
      rule: 'schema',
      path: 'nodes[0].config',
    });
  });

  it('carries triggers over and validates them', () => {
    const triggers = [{ type: 'webhook' as const, config: { path: 'signup', method: 'POST' } }];
    expect(fromReactFlow({ nodes: [rf('a', 't')], edges: [] }, { id: 'rf-trig', triggers }).triggers).toEqual(triggers);
    const bad = [{ type: 'schedule' as const, config: { cron: 'not a cron' } }];
    expect(issuesOf(() => fromReactFlow({ nodes: [rf('a', 't')], edges: [] }, { id: 'rf-trig', triggers: bad })).map((i) => i.rule)).toEqual(['invalid-trigger']);
  });

  it('maps source handles into config only when handlesKey is given', () => {
    const g = {
      nodes: [rf('check', 'router', { config: { field: 'ok' } }), rf('yes', 't'), rf('no', 't'), rf('always', 't')],
      edges: [edge('check', 'yes', { sourceHandle: 'true' }), edge('check', 'no', { sourceHandle: 'false' }), edge('check', 'always', { sourceHandle: null })],
    };
    expect(fromReactFlow(g, { id: 'rf-h' }).nodes[0]!.config).toEqual({ field: 'ok' });
    const def = fromReactFlow(g, { id: 'rf-h', handlesKey: 'handles' });
    expect(def.nodes[0]!.config).toEqual({ field: 'ok', handles: { true: ['yes'], false: ['no'] } });
    // The graph's own config object is not modified.
    expect(g.nodes[0]!.data!.config).toEqual({ field: 'ok' });
  });

  it('accepts the shape of @xyflow/react nodes and edges (extra keys ignored)', () => {
    // What React Flow's toObject() gives, trimmed: measured sizes, selection state, edge types, handles.
    const fromEditor = {
      nodes: [
        { id: '1', type: 'input', position: { x: 0, y: 0 }, measured: { width: 150, height: 40 }, selected: false, data: { label: 'Start', type: 'log', color: '#f00' } },
        { id: '2', position: { x: 0, y: 100 }, dragging: false, data: { label: 'Shape', type: 'transform', config: { add: { seen: true } } } },
      ],
      edges: [{ id: 'xy-edge__1-2', source: '1', target: '2', sourceHandle: null, targetHandle: null, animated: true, type: 'smoothstep' }],
      viewport: { x: 0, y: 0, zoom: 1 },
    };
    const def = fromReactFlow(fromEditor, { id: 'from-editor' });
    expect(def.nodes).toEqual([
      { id: '1', type: 'log', name: 'Start', config: {}, inputs: [], outputs: ['2'] },
      { id: '2', type: 'transform', name: 'Shape', config: { add: { seen: true } }, inputs: ['1'], outputs: [] },
    ]);
  });
});

describe('toReactFlow', () => {
  it("keeps a node's eager through toReactFlow and fromReactFlow", () => {
    const def = graph('eager-rf', [node('a', 't', { eager: false }), node('b', 't', { eager: true })], ['a->b']);
    const out = toReactFlow(def);
    expect(out.nodes.map((n) => n.data?.eager)).toEqual([false, true]);
    const back = fromReactFlow(out, { id: 'eager-rf', name: 'eager-rf' });
    expect(back.nodes.map((n) => n.eager)).toEqual([false, true]);
  });

  const diamond = graph(
    'diamond',
    [node('a', 'http', { name: 'Fetch', config: { url: 'u' }, retryPolicy: { maxAttempts: 2 } }), node('b', 't'), node('c', 't'), node('d', 'log')],
    ['a->b', 'a->c', 'b->d', 'c->d'],
  );

  it('gives every node a layered position, its SPANE data, and one edge per pair', () => {
    const out = toReactFlow(diamond);
    expect(out.nodes).toEqual([
      { id: 'a', type: 'input', position: { x: 0, y: 0 }, data: { type: 'http', label: 'Fetch', config: { url: 'u' }, retryPolicy: { maxAttempts: 2 } } },
      { id: 'b', type: 'default', position: { x: 250, y: 0 }, data: { type: 't', label: 'b', config: {} } },
      { id: 'c', type: 'default', position: { x: 250, y: 100 }, data: { type: 't', label: 'c', config: {} } },
      { id: 'd', type: 'output', position: { x: 500, y: 0 }, data: { type: 'log', label: 'd', config: {} } },
    ]);
    expect(out.edges).toEqual([
      { id: 'a->b', source: 'a', target: 'b' },
      { id: 'a->c', source: 'a', target: 'c' },
      { id: 'b->d', source: 'b', target: 'd' },
      { id: 'c->d', source: 'c', target: 'd' },
    ]);
  });

  it('places a node one layer after its deepest parent, top to bottom when asked', () => {
    // a -> b -> c and a -> c: c sits below b, not beside it.
    const def = graph('skip', [node('a', 't'), node('b', 't'), node('c', 't')], ['a->b', 'b->c', 'a->c']);
    const pos = Object.fromEntries(toReactFlow(def, { direction: 'TB', layerSpacing: 10, nodeSpacing: 5 }).nodes.map((n) => [n.id, n.position]));
    expect(pos).toEqual({ a: { x: 0, y: 0 }, b: { x: 0, y: 10 }, c: { x: 0, y: 20 } });
  });

  it('lets the caller choose renderer types', () => {
    const out = toReactFlow(diamond, { nodeType: (n) => `spane-${n.type}` });
    expect(out.nodes.map((n) => n.type)).toEqual(['spane-http', 'spane-t', 'spane-t', 'spane-log']);
    expect(toReactFlow(diamond, { nodeType: () => undefined }).nodes.every((n) => !('type' in n))).toBe(true);
  });

  it('does not loop on an unvalidated definition with a cycle or a dangling reference', () => {
    const bad: WorkflowDefinition = {
      id: 'bad',
      name: 'bad',
      entryNodeId: 'a',
      nodes: [node('a', 't', { outputs: ['b', 'ghost'] }), node('b', 't', { inputs: ['a', 'c'], outputs: ['c'] }), node('c', 't', { inputs: ['b'], outputs: ['b'] })],
    };
    const out = toReactFlow(bad);
    expect(out.nodes.map((n) => n.position.x)).toEqual([0, 250, 500]);
    expect(out.edges.map((e) => e.id)).toEqual(['a->b', 'b->c', 'c->b']);
  });

  it('round-trips through fromReactFlow', () => {
    const defs: WorkflowDefinition[] = [
      validateWorkflow(diamond),
      validateWorkflow(
        graph(
          'chain',
          [node('x', 'http', { config: { url: 'u', method: 'POST' } }), node('y', 'delay', { config: { duration: 10 } }), node('z', 'log', { name: 'Done' })],
          ['x->y', 'y->z'],
          {
            description: 'three steps',
            triggers: [{ type: 'webhook', config: { path: 'go', secret: 's' } }],
          },
        ),
      ),
      validateWorkflow(graph('one', [node('solo', 'log')], [])),
    ];
    for (const def of defs) {
      const back = fromReactFlow(toReactFlow(def), {
        id: def.id,
        name: def.name,
        ...(def.description ? { description: def.description } : {}),
        ...(def.triggers ? { triggers: def.triggers } : {}),
      });
      expect(back).toEqual(def);
    }
  });

  it('round-trips source handles with handlesKey', () => {
    const g: ReactFlowGraph = {
      nodes: [rf('check', 'router'), rf('yes', 't'), rf('no', 't')],
      edges: [edge('check', 'yes', { sourceHandle: 'true' }), edge('check', 'no', { sourceHandle: 'false' })],
    };
    const def = fromReactFlow(g, { id: 'rf-h', handlesKey: 'handles' });
    const out = toReactFlow(def, { handlesKey: 'handles' });
    expect(out.nodes[0]!.data.config).toEqual({});
    expect(out.edges.map((e) => [e.source, e.target, e.sourceHandle])).toEqual([
      ['check', 'yes', 'true'],
      ['check', 'no', 'false'],
    ]);
    expect(fromReactFlow(out, { id: 'rf-h', handlesKey: 'handles' })).toEqual(def);
  });
});
