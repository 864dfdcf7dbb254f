import { describe, expect, it } from 'vitest';
import { delayMs, findWorkflowIssues, validateWorkflow } from '../../src/definition/validate.js';
import { SpaneError, WorkflowValidationError } from '../../src/errors.js';
import type { ValidationIssue } from '../../src/errors.js';

type RawNode = { id: string; type: string; inputs?: string[]; outputs?: string[]; config?: Record<string, unknown> };

/** A raw (unnormalised) definition, as it would arrive as JSON. */
function def(nodes: RawNode[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'wf', name: 'Workflow', entryNodeId: nodes[0]?.id ?? 'a', nodes, ...extra };
}

/** a -> b -> c, a -> c */
function validRaw(): Record<string, unknown> {
  return def([
    { id: 'a', type: 'work', outputs: ['b', 'c'] },
    { id: 'b', type: 'work', inputs: ['a'], outputs: ['c'] },
    { id: 'c', type: 'work', inputs: ['a', 'b'] },
  ]);
}

function rules(issues: readonly ValidationIssue[]): string[] {
  return issues.map((i) => i.rule);
}

function only(issues: readonly ValidationIssue[], rule: ValidationIssue['rule']): ValidationIssue[] {
  return issues.filter((i) => i.rule === rule);
}

describe('findWorkflowIssues: valid definitions', () => {
  it('returns no issues for a valid diamond-ish graph', () => {
    expect(findWorkflowIssues(validRaw())).toEqual([]);
  });

  it('accepts a single-node workflow with no edges', () => {
    expect(findWorkflowIssues(def([{ id: 'only', type: 'work' }]))).toEqual([]);
  });

  it('accepts ids made of letters, digits, "_", "-" and "."', () => {
    const d = def([{ id: 'Node_1-x.y', type: 'work' }], { id: 'My_wf-2.0' });
    expect(findWorkflowIssues(d)).toEqual([]);
  });

  it('ignores node types when hasNodeType is not given', () => {
    expect(findWorkflowIssues(def([{ id: 'a', type: 'no-such-type' }]))).toEqual([]);
  });
});

describe('validateWorkflow: normalisation', () => {
  it('returns the definition with config, inputs and outputs defaults filled in', () => {
    const out = validateWorkflow(
      def([
        { id: 'a', type: 'work', outputs: ['b'] },
        { id: 'b', type: 'work', inputs: ['a'] },
      ]),
    );
    expect(out).toEqual({
      id: 'wf',
      name: 'Workflow',
      entryNodeId: 'a',
      nodes: [
        { id: 'a', type: 'work', config: {}, inputs: [], outputs: ['b'] },
        { id: 'b', type: 'work', config: {}, inputs: ['a'], outputs: [] },
      ],
    });
  });

  it('gives each node its own default objects (not one shared instance)', () => {
    const out = validateWorkflow(
      def([
        { id: 'a', type: 'work', outputs: ['b'] },
        { id: 'b', type: 'work', inputs: ['a'] },
      ]),
    );
    const [a, b] = out.nodes;
    expect(a!.config).not.toBe(b!.config);
    a!.config['x'] = 1;
    expect(b!.config).toEqual({});
  });

  it('keeps given config, optional fields and unknown top-level keys', () => {
    const raw = def([{ id: 'a', type: 'work', config: { url: 'http://x', retryPolicy: { maxAttempts: 3 } } }], {
      description: 'desc',
      custom: { any: 'thing' },
    });
    const out = validateWorkflow(raw);
    expect(out.nodes[0]!.config).toEqual({ url: 'http://x', retryPolicy: { maxAttempts: 3 } });
    expect(out.description).toBe('desc');
    expect((out as unknown as Record<string, unknown>)['custom']).toEqual({ any: 'thing' });
  });

  it('does not mutate the input', () => {
    const raw = def([{ id: 'a', type: 'work' }]);
    const before = JSON.stringify(raw);
    validateWorkflow(raw);
    expect(JSON.stringify(raw)).toBe(before);
  });
});

describe('findWorkflowIssues: schema', () => {
  it('reports a missing workflow id at path "id"', () => {
    const raw = validRaw();
    delete raw['id'];
    const issues = findWorkflowIssues(raw);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ rule: 'schema', path: 'id' });
  });

  it('reports an empty workflow id', () => {
    const issues = findWorkflowIssues({ ...validRaw(), id: '' });
    expect(issues).toEqual([{ rule: 'schema', path: 'id', message: 'must not be empty' }]);
  });

  it('reports nodes that are not an array', () => {
    const issues = findWorkflowIssues({ ...validRaw(), nodes: { a: { id: 'a', type: 'work' } } });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ rule: 'schema', path: 'nodes' });
    expect(issues[0]!.message).toMatch(/array/);
  });

  it('reports an empty nodes array', () => {
    const issues = findWorkflowIssues({ ...validRaw(), nodes: [] });
    expect(issues).toEqual([{ rule: 'schema', path: 'nodes', message: 'a workflow needs at least one node' }]);
  });

  it('reports wrong types with a path into the node', () => {
    const issues = findWorkflowIssues(
      def([
        { id: 'a', type: 'work', outputs: ['b'] },
        { id: 'b', type: 42 as unknown as string, inputs: 'a' as unknown as string[] },
      ]),
    );
    expect(rules(issues)).toEqual(['schema', 'schema']);
    expect(issues.map((i) => i.path).sort()).toEqual(['nodes[1].inputs', 'nodes[1].type']);
  });

  it('reports every schema problem at once (missing id, wrong name type, bad entryNodeId)', () => {
    const issues = findWorkflowIssues({ name: 7, entryNodeId: '', nodes: [{ id: 'a', type: 'work' }] });
    expect(rules(issues)).toEqual(['schema', 'schema', 'schema']);
    expect(issues.map((i) => i.path).sort()).toEqual(['entryNodeId', 'id', 'name']);
  });

  it('reports unknown node keys and invalid retry policies', () => {
    const issues = findWorkflowIssues(def([{ id: 'a', type: 'work', extra: true, config: { retryPolicy: { maxAttempts: 0 } } } as unknown as RawNode]));
    expect(issues.map((i) => i.path).sort()).toEqual(['nodes[0]', 'nodes[0].config.retryPolicy.maxAttempts']);
    expect(issues.find((i) => i.path === 'nodes[0]')!.message).toContain('extra');
  });

  it('reports a non-object definition at the root', () => {
    expect(findWorkflowIssues(null)).toEqual([expect.objectContaining({ rule: 'schema', path: '(root)' })]);
    expect(findWorkflowIssues('wf')).toEqual([expect.objectContaining({ rule: 'schema', path: '(root)' })]);
  });
});

describe('findWorkflowIssues: ids', () => {
  it('reports duplicate node ids, naming the id and the later position', () => {
    const issues = findWorkflowIssues(
      def([
        { id: 'a', type: 'work', outputs: ['b'] },
        { id: 'b', type: 'work', inputs: ['a'] },
        { id: 'b', type: 'work' },
      ]),
    );
    const dup = only(issues, 'duplicate-node');
    expect(dup).toHaveLength(1);
    expect(dup[0]!.path).toBe('nodes[2].id');
    expect(dup[0]!.message).toContain("'b'");
  });

  it("reports a workflow id containing ':'", () => {
    const issues = findWorkflowIssues({ ...validRaw(), id: 'my:wf' });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ rule: 'unsafe-id', path: 'id' });
    expect(issues[0]!.message).toContain("'my:wf'");
  });

  it('reports a workflow id containing a space', () => {
    const issues = findWorkflowIssues({ ...validRaw(), id: 'my wf' });
    expect(issues).toEqual([expect.objectContaining({ rule: 'unsafe-id', path: 'id' })]);
    expect(issues[0]!.message).toContain("'my wf'");
  });

  it("reports node ids containing ':' or spaces, each with its own path", () => {
    const issues = findWorkflowIssues(
      def([
        { id: 'a:1', type: 'work', outputs: ['b 2'] },
        { id: 'b 2', type: 'work', inputs: ['a:1'] },
      ]),
    );
    const unsafe = only(issues, 'unsafe-id');
    expect(unsafe.map((i) => i.path)).toEqual(['nodes[0].id', 'nodes[1].id']);
    expect(unsafe[0]!.message).toContain("'a:1'");
    expect(unsafe[1]!.message).toContain("'b 2'");
    expect(issues).toHaveLength(2);
  });
});

describe('findWorkflowIssues: edges', () => {
  it('reports an output naming a node that does not exist', () => {
    const issues = findWorkflowIssues(def([{ id: 'a', type: 'work', outputs: ['ghost'] }]));
    expect(issues).toEqual([
      {
        rule: 'missing-node',
        path: 'nodes[0].outputs',
        message: "'a' points to 'ghost', which is not a node of this workflow",
      },
    ]);
  });

  it('reports an input naming a node that does not exist', () => {
    const issues = findWorkflowIssues(
      def([
        { id: 'a', type: 'work', outputs: ['b'] },
        { id: 'b', type: 'work', inputs: ['a', 'ghost'] },
      ]),
    );
    expect(issues).toEqual([
      {
        rule: 'missing-node',
        path: 'nodes[1].inputs',
        message: "'b' expects a parent 'ghost', which is not a node of this workflow",
      },
    ]);
  });

  it('reports an output that the child does not list as an input', () => {
    const issues = findWorkflowIssues(
      def([
        { id: 'a', type: 'work', outputs: ['b'] },
        { id: 'b', type: 'work' },
      ]),
    );
    expect(issues).toEqual([
      {
        rule: 'edge-mismatch',
        path: 'nodes[0].outputs',
        message: "'a' lists 'b' in outputs, but 'b' does not list 'a' in inputs",
      },
    ]);
  });

  it('reports an input that the parent does not list as an output', () => {
    const issues = findWorkflowIssues(
      def([
        { id: 'a', type: 'work', outputs: ['b'] },
        { id: 'b', type: 'work', inputs: ['a'] },
        { id: 'c', type: 'work', inputs: ['a', 'b'] },
      ]),
    );
    const mismatch = only(issues, 'edge-mismatch');
    expect(mismatch).toHaveLength(2);
    expect(mismatch.map((i) => i.message)).toEqual([
      "'c' lists 'a' in inputs, but 'a' does not list 'c' in outputs",
      "'c' lists 'b' in inputs, but 'b' does not list 'c' in outputs",
    ]);
    expect(mismatch.every((i) => i.path === 'nodes[2].inputs')).toBe(true);
  });

  it('reports an edge listed twice', () => {
    const issues = findWorkflowIssues(
      def([
        { id: 'a', type: 'work', outputs: ['b', 'b'] },
        { id: 'b', type: 'work', inputs: ['a'] },
      ]),
    );
    expect(issues).toEqual([{ rule: 'edge-mismatch', path: 'nodes[0].outputs', message: "'a' lists 'b' twice in outputs" }]);
  });
});

describe('findWorkflowIssues: entry node', () => {
  it('reports an entry node that is not a node of the workflow', () => {
    const issues = findWorkflowIssues({ ...validRaw(), entryNodeId: 'start' });
    expect(issues).toEqual([{ rule: 'missing-entry', path: 'entryNodeId', message: "entry node 'start' is not a node of this workflow" }]);
  });

  it('reports an entry node that has inputs', () => {
    const issues = findWorkflowIssues(
      def(
        [
          { id: 'a', type: 'work', outputs: ['b'] },
          { id: 'b', type: 'work', inputs: ['a'] },
        ],
        { entryNodeId: 'b' },
      ),
    );
    const entry = only(issues, 'missing-entry');
    expect(entry).toEqual([{ rule: 'missing-entry', path: 'entryNodeId', message: "entry node 'b' must not have inputs, but has a" }]);
    // 'a' cannot be reached from 'b'
    expect(only(issues, 'unreachable')[0]!.message).toContain('a');
  });
});

describe('findWorkflowIssues: cycles', () => {
  it('reports a cycle and shows its path', () => {
    const issues = findWorkflowIssues(
      def([
        { id: 'a', type: 'work', outputs: ['b'] },
        { id: 'b', type: 'work', inputs: ['a', 'c'], outputs: ['c'] },
        { id: 'c', type: 'work', inputs: ['b'], outputs: ['b'] },
      ]),
    );
    expect(issues).toEqual([{ rule: 'cycle', path: 'nodes', message: 'the graph has a cycle: b -> c -> b' }]);
  });

  it('reports a self-loop', () => {
    const issues = findWorkflowIssues(
      def([
        { id: 'a', type: 'work', outputs: ['b'] },
        { id: 'b', type: 'work', inputs: ['a', 'b'], outputs: ['b'] },
      ]),
    );
    expect(issues).toEqual([{ rule: 'cycle', path: 'nodes', message: 'the graph has a cycle: b -> b' }]);
  });

  it('reports a longer cycle with every node on it', () => {
    const issues = findWorkflowIssues(
      def([
        { id: 'start', type: 'work', outputs: ['x'] },
        { id: 'x', type: 'work', inputs: ['start', 'z'], outputs: ['y'] },
        { id: 'y', type: 'work', inputs: ['x'], outputs: ['z'] },
        { id: 'z', type: 'work', inputs: ['y'], outputs: ['x'] },
      ]),
    );
    expect(only(issues, 'cycle')).toEqual([{ rule: 'cycle', path: 'nodes', message: 'the graph has a cycle: x -> y -> z -> x' }]);
  });

  it('does not report a diamond (shared descendant) as a cycle', () => {
    const issues = findWorkflowIssues(
      def([
        { id: 'a', type: 'work', outputs: ['b', 'c'] },
        { id: 'b', type: 'work', inputs: ['a'], outputs: ['d'] },
        { id: 'c', type: 'work', inputs: ['a'], outputs: ['d'] },
        { id: 'd', type: 'work', inputs: ['b', 'c'] },
      ]),
    );
    expect(issues).toEqual([]);
  });
});

describe('findWorkflowIssues: reachability', () => {
  it('reports every node not reachable from the entry, by id', () => {
    const issues = findWorkflowIssues(
      def([
        { id: 'a', type: 'work', outputs: ['b'] },
        { id: 'b', type: 'work', inputs: ['a'] },
        { id: 'orphan', type: 'work', outputs: ['orphan-child'] },
        { id: 'orphan-child', type: 'work', inputs: ['orphan'] },
      ]),
    );
    expect(issues).toEqual([{ rule: 'unreachable', path: 'nodes', message: "not reachable from entry node 'a': orphan, orphan-child" }]);
  });
});

describe('findWorkflowIssues: node types', () => {
  it('reports unknown types when hasNodeType is given', () => {
    const known = new Set(['work']);
    const issues = findWorkflowIssues(
      def([
        { id: 'a', type: 'work', outputs: ['b'] },
        { id: 'b', type: 'mystery', inputs: ['a'] },
      ]),
      { hasNodeType: (t) => known.has(t) },
    );
    expect(issues).toEqual([{ rule: 'unknown-type', path: 'nodes[1].type', message: "no executor is registered for type 'mystery' (node 'b')" }]);
  });

  it('never reports the built-in delay type as unknown', () => {
    const issues = findWorkflowIssues(def([{ id: 'wait', type: 'delay', config: { duration: 10 } }]), { hasNodeType: () => false });
    expect(issues).toEqual([]);
  });
});

describe('findWorkflowIssues: delay config', () => {
  const delayDef = (config: Record<string, unknown>) => def([{ id: 'wait', type: 'delay', config }]);

  it.each([[{ duration: 0 }], [{ duration: 1500 }], [{ durationSeconds: 2.5 }], [{ durationMinutes: 1 }]])('accepts %j', (config) => {
    expect(findWorkflowIssues(delayDef(config))).toEqual([]);
  });

  it('requires duration, durationSeconds or durationMinutes', () => {
    const issues = findWorkflowIssues(delayDef({ something: 1 }));
    expect(issues).toEqual([{ rule: 'invalid-config', path: 'nodes[0].config', message: "delay node 'wait': needs duration (ms), durationSeconds or durationMinutes" }]);
  });

  it('requires a config at all (defaulted to {})', () => {
    const issues = findWorkflowIssues(def([{ id: 'wait', type: 'delay' }]));
    expect(rules(issues)).toEqual(['invalid-config']);
  });

  it.each([
    [{ duration: -1 }, 'duration', '-1'],
    [{ durationSeconds: '5' }, 'durationSeconds', '"5"'],
    [{ durationMinutes: null }, 'durationMinutes', 'null'],
    [{ duration: 10, durationSeconds: -3 }, 'durationSeconds', '-3'],
  ])('refuses %j', (config, key, shown) => {
    const issues = findWorkflowIssues(delayDef(config));
    expect(issues).toEqual([{ rule: 'invalid-config', path: 'nodes[0].config', message: `delay node 'wait': ${key} must be a non-negative number, got ${shown}` }]);
  });

  it('does not check the delay keys of non-delay nodes', () => {
    expect(findWorkflowIssues(def([{ id: 'a', type: 'work', config: { duration: -5 } }]))).toEqual([]);
  });
});

describe('findWorkflowIssues: several problems at once', () => {
  it('lists every graph problem, not only the first', () => {
    const issues = findWorkflowIssues(
      {
        id: 'bad:wf',
        name: 'bad',
        entryNodeId: 'a',
        nodes: [
          { id: 'a', type: 'work', outputs: ['b', 'ghost', 'e'] },
          { id: 'b', type: 'mystery', inputs: ['a', 'd'], outputs: ['d'] },
          { id: 'd', type: 'work', inputs: ['b'], outputs: ['b'] },
          { id: 'e', type: 'work', inputs: ['a'] },
          { id: 'e', type: 'work', inputs: ['a'] },
          { id: 'bad id', type: 'delay', config: {} },
          { id: 'lonely', type: 'work', outputs: ['a2'] },
        ],
      },
      { hasNodeType: (t) => t === 'work' },
    );
    expect(new Set(rules(issues))).toEqual(new Set(['unsafe-id', 'duplicate-node', 'missing-node', 'unknown-type', 'invalid-config', 'cycle', 'unreachable']));
    expect(issues).toHaveLength(9);
    expect(only(issues, 'unsafe-id').map((i) => i.path)).toEqual(['id', 'nodes[5].id']);
    expect(only(issues, 'duplicate-node')).toEqual([{ rule: 'duplicate-node', path: 'nodes[4].id', message: "node id 'e' is used more than once" }]);
    expect(only(issues, 'missing-node').map((i) => i.message)).toEqual([
      "'a' points to 'ghost', which is not a node of this workflow",
      "'lonely' points to 'a2', which is not a node of this workflow",
    ]);
    expect(only(issues, 'cycle')[0]!.message).toBe('the graph has a cycle: b -> d -> b');
    expect(only(issues, 'unreachable')[0]!.message).toBe("not reachable from entry node 'a': bad id, lonely");
    expect(only(issues, 'unknown-type')[0]!.message).toContain("'mystery'");
    expect(only(issues, 'invalid-config')[0]!.message).toContain("'bad id'");
  });

  it('stops at schema problems: graph rules are not checked on a malformed definition', () => {
    const issues = findWorkflowIssues({ id: 'x:y', name: 'n', entryNodeId: 'missing', nodes: [{ id: 'a', type: 1 }] });
    expect(rules(issues)).toEqual(['schema']);
  });
});

describe('validateWorkflow: errors', () => {
  it('throws a WorkflowValidationError with code, issues and workflow id', () => {
    const raw = def([
      { id: 'a', type: 'work', outputs: ['ghost'] },
      { id: 'orphan', type: 'work' },
    ]);
    let caught: unknown;
    try {
      validateWorkflow(raw);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(WorkflowValidationError);
    expect(caught).toBeInstanceOf(SpaneError);
    expect(caught).toBeInstanceOf(Error);
    const err = caught as WorkflowValidationError;
    expect(err.code).toBe('WORKFLOW_VALIDATION');
    expect(err.name).toBe('WorkflowValidationError');
    expect(err.workflowId).toBe('wf');
    expect(Array.isArray(err.issues)).toBe(true);
    expect(err.issues).toEqual(findWorkflowIssues(raw));
    expect(rules(err.issues)).toEqual(['missing-node', 'unreachable']);
    expect(err.message).toContain("Workflow 'wf' is invalid (2 problems):");
    expect(err.message).toContain("  - nodes[0].outputs: 'a' points to 'ghost'");
    expect(err.message).toContain("  - nodes: not reachable from entry node 'a': orphan");
  });

  it('uses the singular for one problem', () => {
    expect(() => validateWorkflow({ ...validRaw(), entryNodeId: 'zz' })).toThrow("Workflow 'wf' is invalid (1 problem):");
  });

  it('says "(no id)" when the definition has no string id', () => {
    const raw = validRaw();
    delete raw['id'];
    try {
      validateWorkflow(raw);
      expect.unreachable('should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(WorkflowValidationError);
      const e = err as WorkflowValidationError;
      expect(e.workflowId).toBeUndefined();
      expect(e.message).toContain('Workflow (no id) is invalid');
    }
    expect(() => validateWorkflow(undefined)).toThrow(WorkflowValidationError);
  });

  it('passes hasNodeType through', () => {
    expect(() => validateWorkflow(validRaw(), { hasNodeType: () => false })).toThrow(/no executor is registered for type 'work'/);
    expect(() => validateWorkflow(validRaw(), { hasNodeType: () => true })).not.toThrow();
  });

  it('WorkflowValidationError can be built directly', () => {
    const e = new WorkflowValidationError(undefined, [{ rule: 'cycle', path: 'nodes', message: 'loop' }]);
    expect(e.message).toBe('Workflow (no id) is invalid (1 problem):\n  - nodes: loop');
    expect(e.code).toBe('WORKFLOW_VALIDATION');
  });
});

describe('delayMs', () => {
  it('reads duration as milliseconds', () => {
    expect(delayMs({ duration: 1500 })).toBe(1500);
  });

  it('converts durationSeconds and durationMinutes', () => {
    expect(delayMs({ durationSeconds: 2 })).toBe(2000);
    expect(delayMs({ durationSeconds: 1.5 })).toBe(1500);
    expect(delayMs({ durationMinutes: 2 })).toBe(120_000);
  });

  it('prefers duration over durationSeconds over durationMinutes', () => {
    expect(delayMs({ duration: 10, durationSeconds: 5, durationMinutes: 1 })).toBe(10);
    expect(delayMs({ durationSeconds: 5, durationMinutes: 1 })).toBe(5000);
    expect(delayMs({ duration: 0, durationSeconds: 5 })).toBe(0);
  });

  it('skips non-numeric values and returns 0 when nothing is set', () => {
    expect(delayMs({ duration: '10', durationMinutes: 1 })).toBe(60_000);
    expect(delayMs({})).toBe(0);
  });

  it('rounds to whole milliseconds', () => {
    expect(delayMs({ duration: 10.6 })).toBe(11);
    expect(delayMs({ durationSeconds: 0.0014 })).toBe(1);
  });
});
