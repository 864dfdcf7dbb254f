/** The built-in node kinds table: one source for the type strings every layer checks. */
import { describe, expect, it } from 'vitest';
import { BUILT_IN_NODE_TYPES, BUILTIN_NODE_KIND_FACTS, BUILTIN_NODE_KINDS, isBuiltinNodeKind } from '../../src/definition/node-kinds.js';
import { BUILT_IN_NODE_TYPES as PUBLIC_BUILT_IN_NODE_TYPES } from '../../src/index.js';
import { defineNode } from '../../src/dsl/index.js';

describe('built-in node kinds', () => {
  it('names delay, event, signal and sub-workflow, and nothing else', () => {
    expect(Object.values(BUILTIN_NODE_KINDS).sort()).toEqual(['delay', 'event', 'signal', 'sub-workflow']);
    expect([...BUILT_IN_NODE_TYPES].sort()).toEqual(['delay', 'event', 'signal', 'sub-workflow']);
    expect(PUBLIC_BUILT_IN_NODE_TYPES).toBe(BUILT_IN_NODE_TYPES);
  });

  it('recognises exactly the table entries, as own values', () => {
    expect(isBuiltinNodeKind('delay')).toBe(true);
    expect(isBuiltinNodeKind('sub-workflow')).toBe(true);
    expect(isBuiltinNodeKind('signal')).toBe(true);
    for (const other of ['subWorkflow', 'Delay', 'http', '', 'constructor', '__proto__']) expect(isBuiltinNodeKind(other)).toBe(false);
  });

  it('has facts for every kind', () => {
    expect(Object.keys(BUILTIN_NODE_KIND_FACTS).sort()).toEqual([...BUILT_IN_NODE_TYPES].sort());
  });

  it('makes defineNode refuse each built-in type, naming the DSL function to use', () => {
    expect(() => defineNode({ type: BUILTIN_NODE_KINDS.delay })).toThrow("defineNode: 'delay' is a built-in node type; use the delay() node instead");
    expect(() => defineNode({ type: BUILTIN_NODE_KINDS.subWorkflow })).toThrow("defineNode: 'sub-workflow' is a built-in node type; use the subWorkflow() node instead");
    expect(() => defineNode({ type: BUILTIN_NODE_KINDS.signal })).toThrow("defineNode: 'signal' is a built-in node type; use the waitForSignal() node instead");
  });
});
