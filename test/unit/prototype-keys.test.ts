/**
 * Ids and keys named like `Object.prototype` members (`constructor`, `toString`, ...) and
 * `__proto__`: every lookup by a user-chosen key must see own properties only, and every object
 * built from such keys must get them as own keys (not a changed prototype).
 */
import { describe, expect, it } from 'vitest';
import { buildInput, indexWorkflow, isSettled, readiness, workflowOutput } from '../../src/definition/graph.js';
import { applyMapping, getPath, mappingProblems, pathProblem } from '../../src/definition/mapping.js';
import type { ExecutionContext, NodeDefinition, NodeResult, WorkflowDefinition } from '../../src/definition/types.js';
import { findWorkflowIssues } from '../../src/definition/validate.js';
import { createKindExecutor } from '../../src/dsl/executor.js';
import { valueAt } from '../../src/dsl/json.js';
import { nodeOutput, renderWorkflowMarkdown, transform, workflow } from '../../src/index.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { deserialize, serialize, TYPE_KEY } from '../../src/runtime/sandbox/serialize.js';
import { canonicalJson } from '../../src/store/canonical-json.js';

/** Names every plain object inherits; none of them may pass for a node's result or a key. */
const PROTO_IDS = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString'] as const;

function node(id: string, inputs: string[] = [], outputs: string[] = []): NodeDefinition {
  return { id, type: 'work', config: {}, inputs, outputs };
}

function completed(data: unknown, nextNodes?: string[]): NodeResult {
  const r: NodeResult = { status: 'completed', data, attempts: 1, completedAt: 1 };
  if (nextNodes !== undefined) r.nextNodes = nextNodes;
  return r;
}

/** An object with an own `__proto__` key, as JSON.parse (and so every store) produces it. */
function withOwnProto<T>(json: string): T {
  return JSON.parse(json) as T;
}

describe('graph helpers with prototype-named node ids', () => {
  it.each(PROTO_IDS)("readiness: a child of '%s' waits until that parent has a result", (id) => {
    expect(readiness(node('child', [id]), {})).toBe('waiting');
    expect(readiness(node('join', [id, 'b']), { b: completed('B') })).toBe('waiting');
    expect(readiness(node('join', [id, 'b']), { [id]: completed('X'), b: completed('B') })).toBe('run');
  });

  it('buildInput: a parent without a result is not an active parent', () => {
    // constructor has no result yet, so b is the only active parent and hands its data over directly.
    expect(buildInput(node('join', ['constructor', 'b']), { b: completed('B') }, undefined)).toBe('B');
  });

  it('buildInput: a join of prototype-named parents gets a plain object with those own keys', () => {
    const results = Object.fromEntries(PROTO_IDS.map((id) => [id, completed(id.toUpperCase())]));
    const input = buildInput(node('join', [...PROTO_IDS]), results, undefined) as Record<string, unknown>;
    expect(Object.getPrototypeOf(input)).toBe(Object.prototype);
    expect(Object.keys(input)).toEqual([...PROTO_IDS]);
    for (const id of PROTO_IDS) expect(Object.hasOwn(input, id) && input[id]).toBe(id.toUpperCase());
    expect(JSON.parse(JSON.stringify(input))).toEqual(Object.fromEntries(PROTO_IDS.map((id) => [id, id.toUpperCase()])));
  });

  it('buildInput: a parent id __proto__ becomes an own key, and the prototype stays Object.prototype', () => {
    const results = withOwnProto<Record<string, NodeResult>>(
      '{"__proto__": {"status": "completed", "data": "P", "attempts": 1, "completedAt": 1}, "b": {"status": "completed", "data": "B", "attempts": 1, "completedAt": 1}}',
    );
    const input = buildInput(node('join', ['__proto__', 'b']), results, undefined) as Record<string, unknown>;
    expect(Object.getPrototypeOf(input)).toBe(Object.prototype);
    expect(Object.keys(input)).toEqual(['__proto__', 'b']);
    expect(JSON.stringify(input)).toBe('{"__proto__":"P","b":"B"}');
  });

  it.each(PROTO_IDS)("isSettled: a workflow with node '%s' is not settled before that node has a result", (id) => {
    const graph = indexWorkflow({ id: 'w', name: 'w', entryNodeId: 'a', nodes: [node('a', [], [id]), node(id, ['a'])] });
    expect(isSettled(graph, { a: completed(1) })).toBe(false);
    expect(isSettled(graph, { a: completed(1), [id]: completed(2) })).toBe(true);
  });

  it('workflowOutput: final nodes named like prototype members without a result are left out', () => {
    const def: Pick<WorkflowDefinition, 'nodes'> = { nodes: [node('constructor'), node('toString'), node('b')] };
    const out = workflowOutput(def, { b: completed('B') }) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['b']);
    const all = workflowOutput(def, { constructor: completed('C'), toString: completed('T'), b: completed('B') }) as Record<string, unknown>;
    expect(Object.getPrototypeOf(all)).toBe(Object.prototype);
    expect(Object.keys(all)).toEqual(['constructor', 'toString', 'b']);
    expect(all).toStrictEqual({ constructor: 'C', toString: 'T', b: 'B' });
  });

  it('workflowOutput: a single final node named like a prototype member', () => {
    const def: Pick<WorkflowDefinition, 'nodes'> = { nodes: [node('a', [], ['valueOf']), node('valueOf', ['a'])] };
    expect(workflowOutput(def, { a: completed(1) })).toBeUndefined();
    expect(workflowOutput(def, { a: completed(1), valueOf: completed('V') })).toBe('V');
  });
});

describe('mappings through prototype-named segments', () => {
  it('getPath reads own properties only', () => {
    expect(getPath({}, 'constructor')).toBeUndefined();
    expect(getPath({ a: {} }, 'a.constructor.name')).toBeUndefined();
    expect(getPath({ a: 'text' }, 'a.length')).toBeUndefined();
    expect(getPath({}, '__proto__')).toBeUndefined();
    expect(getPath({ constructor: { x: 1 } }, 'constructor.x')).toBe(1);
    expect(getPath(withOwnProto('{"__proto__": {"x": 2}}'), '__proto__.x')).toBe(2);
  });

  it('accepts constructor, prototype and toString as mapping keys and path segments', () => {
    for (const path of ['constructor', 'a.constructor.x', 'prototype', 'toString.valueOf']) expect(pathProblem(path)).toBeUndefined();
    expect(mappingProblems({ 'out.constructor': 'constructor.v', prototype: 'prototype' }, 'outputMapping')).toEqual([]);
  });

  it('refuses __proto__ as a mapping key or path segment, naming it', () => {
    expect(pathProblem('__proto__.polluted')).toMatch(/forbidden segment '__proto__'/);
    expect(pathProblem('a.__proto__')).toMatch(/forbidden segment '__proto__'/);
    expect(mappingProblems(withOwnProto('{"__proto__": "a"}'), 'inputMapping')).toEqual([expect.stringMatching(/inputMapping key .*'__proto__'/)]);
    expect(() => applyMapping({ a: 1 }, { 'x.__proto__.polluted': 'a' }, 'inputMapping')).toThrow(/forbidden segment '__proto__'/);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('reads and writes prototype-named keys as own keys, never reading inherited members', () => {
    const source = { constructor: { v: 1 }, toString: 2, nested: {} };
    const out = applyMapping(
      source,
      { 'out.constructor': 'constructor.v', toString: 'toString', missing: 'nested.constructor', 'deep.valueOf.x': 'nested.hasOwnProperty' },
      'outputMapping',
    );
    expect(out).toStrictEqual({ out: { constructor: 1 }, toString: 2, missing: undefined, deep: { valueOf: { x: undefined } } });
    const o = out as { out: object; deep: { valueOf: object } };
    expect(Object.getPrototypeOf(o.out)).toBe(Object.prototype);
    expect(Object.hasOwn(o.deep, 'valueOf')).toBe(true);
  });
});

describe('validation of ids', () => {
  const wf = (id: string, nodeIds: string[]): WorkflowDefinition => ({
    id,
    name: id,
    entryNodeId: nodeIds[0]!,
    nodes: nodeIds.map((n, i) => node(n, i === 0 ? [] : [nodeIds[0]!], i === 0 ? nodeIds.slice(1) : [])),
  });

  it('accepts node ids and workflow ids named like Object.prototype members', () => {
    expect(findWorkflowIssues(wf('constructor', ['valueOf', ...PROTO_IDS.filter((id) => id !== 'valueOf')]))).toEqual([]);
  });

  it('refuses __proto__ as a node id with an unsafe-id issue that says why', () => {
    const issues = findWorkflowIssues(wf('w', ['a', '__proto__']));
    expect(issues).toEqual([expect.objectContaining({ rule: 'unsafe-id', path: 'nodes[1].id', message: expect.stringMatching(/'__proto__'.*prototype/) })]);
  });

  it('refuses __proto__ as a workflow id and as a sub-workflow target', () => {
    expect(findWorkflowIssues(wf('__proto__', ['a']))).toEqual([
      expect.objectContaining({ rule: 'unsafe-id', path: 'id', message: expect.stringMatching(/'__proto__'.*prototype/) }),
    ]);
    const caller: WorkflowDefinition = { id: 'w', name: 'w', entryNodeId: 's', nodes: [{ ...node('s'), type: 'sub-workflow', config: { workflowId: '__proto__' } }] };
    expect(findWorkflowIssues(caller)).toEqual([expect.objectContaining({ rule: 'invalid-config', path: 'nodes[0].config' })]);
  });
});

describe('canonical JSON (definition versioning)', () => {
  it('keeps an own __proto__ key, so a definition that differs only there gets a new version', () => {
    const plain = { config: {} };
    const evil = withOwnProto<object>('{"config": {"__proto__": {"a": 1}}}');
    expect(canonicalJson(evil)).not.toBe(canonicalJson(plain));
    expect(JSON.parse(canonicalJson(evil))).toEqual(evil);
  });
});

describe('sandbox serialisation', () => {
  it('does not take an inherited member for a typed-array marker', () => {
    const marker = { [TYPE_KEY]: 'constructor', base64: 'AAE=' };
    expect(deserialize(marker)).toEqual(marker);
    expect(deserialize(serialize({ constructor: 1, toString: 'x' }))).toStrictEqual({ constructor: 1, toString: 'x' });
  });
});

describe('DSL with prototype-named node ids', () => {
  const step = transform('proto-step', (x: unknown) => x);

  it('builds a workflow whose nodes are named like Object.prototype members, with own schema entries', () => {
    const built = workflow('proto-dsl').node('valueOf', step).parallel({ constructor: step, toString: step }).then('hasOwnProperty', step).build();
    expect(built.nodes.map((n) => n.id)).toEqual(['valueOf', 'constructor', 'toString', 'hasOwnProperty']);
    expect(built.nodes.find((n) => n.id === 'hasOwnProperty')?.inputs).toEqual(['constructor', 'toString']);
    expect(Object.keys(built.schemas.nodes)).toEqual(['valueOf', 'constructor', 'toString', 'hasOwnProperty']);
    expect(Object.getPrototypeOf(built.schemas.nodes)).toBe(Object.prototype);
    expect(renderWorkflowMarkdown(built)).toContain('`constructor`');
  });

  it('refuses a .parallel() branch written as a __proto__ key instead of silently losing it', () => {
    // Typed as a one-key object: the builder refuses Record<string, ...> (its ids cannot be checked).
    const branches = { __proto__: step, b: step } as unknown as { b: typeof step };
    expect(() => workflow('proto-parallel').node('a', step).parallel(branches)).toThrow(InvalidArgumentError);
    expect(() => workflow('proto-parallel').node('a', step).parallel(branches)).toThrow(/__proto__/);
  });

  it('nodeOutput: a prototype-named node without a result has no output', () => {
    expect(nodeOutput(undefined, { nodeResults: {} }, 'constructor')).toBeUndefined();
    expect(nodeOutput(undefined, { nodeResults: { constructor: completed('C') } }, 'constructor')).toBe('C');
  });

  it('a join below a branch with a prototype-named parent that did not run still gets { [parentId]: data }', async () => {
    const executor = createKindExecutor({ role: 'node', schemas: {} }, ({ input }) => input);
    const context = {
      workflowId: 'w',
      executionId: 'e',
      nodeId: 'join',
      nodeType: 'x',
      inputData: 'B',
      nodeConfig: { $join: ['constructor', 'b'] },
      previousResults: { b: completed('B') },
      initialData: undefined,
      attempt: 1,
      depth: 0,
      idempotencyKey: 'e:join',
    } satisfies ExecutionContext;
    expect(await executor.execute(context)).toEqual({ success: true, data: { b: 'B' } });
  });

  it('error details read only own members of the rejected value', () => {
    expect(valueAt({}, ['constructor'])).toBeUndefined();
    expect(valueAt({ a: {} }, ['a', 'toString'])).toBeUndefined();
    expect(valueAt({ a: [] }, ['a', 'length'])).toBe(0);
    expect(valueAt({ constructor: { x: 1 } }, ['constructor', 'x'])).toBe(1);
  });
});
