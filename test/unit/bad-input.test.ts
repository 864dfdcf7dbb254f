/**
 * Bad input to the public entry points that need no server: NodeRegistry, the engine
 * constructor, the DSL helpers, applyMapping and the data check. Each gets a SpaneError with the
 * expected code. The engine's methods are in test/integration/bad-input.test.ts, the stores' in
 * the store contract ("bad input").
 */
import { describe, expect, it } from 'vitest';
import {
  applyMapping,
  defineNode,
  InMemoryExecutionStore,
  MAX_DATA_DEPTH,
  MappingError,
  NodeRegistry,
  nodeOutput,
  NonRetryableError,
  registerNodeKinds,
  renderMermaid,
  renderWorkflowMarkdown,
  SpaneError,
  workflow,
  WorkflowEngine,
} from '../../src/index.js';
import type { SpaneErrorCode } from '../../src/index.js';
import { assertJson, jsonProblem } from '../../src/definition/json-check.js';

function codeOf(call: () => unknown): SpaneErrorCode | string {
  try {
    call();
    return 'returned';
  } catch (err) {
    return err instanceof SpaneError ? err.code : `${(err as Error).name}: ${(err as Error).message}`;
  }
}

function table(cases: readonly (readonly [string, () => unknown, SpaneErrorCode])[]): void {
  expect(cases.map(([label, call]) => [label, codeOf(call)])).toEqual(cases.map(([label, , code]) => [label, code]));
}

function nested(levels: number): unknown {
  let v: unknown = {};
  for (let i = 1; i < levels; i++) v = { a: v };
  return v;
}

describe('NodeRegistry', () => {
  it('refuses non-string types and non-function extractors', () => {
    const r = new NodeRegistry();
    table([
      ['registerExternalNode(42)', () => r.registerExternalNode(42 as never), 'INVALID_ARGUMENT'],
      ["registerExternalNode('')", () => r.registerExternalNode(''), 'INVALID_ARGUMENT'],
      ["registerExternalNode('x', 'host')", () => r.registerExternalNode('x', 'host' as never), 'INVALID_ARGUMENT'],
      ['registerRateLimit(42, 5)', () => r.registerRateLimit(42 as never, 5), 'INVALID_ARGUMENT'],
      ["getCircuitBreakerKey('http', null)", () => r.getCircuitBreakerKey('http', null as never), 'INVALID_ARGUMENT'],
    ]);
    expect(r.isExternalNode('x')).toBe(false);
    expect(r.getRateLimit(42 as never)).toBeUndefined();
  });
});

describe('WorkflowEngine constructor', () => {
  it('refuses a null registry or options before opening anything', () => {
    table([
      ['new WorkflowEngine(null)', () => new WorkflowEngine(null as never), 'INVALID_ARGUMENT'],
      ['new WorkflowEngine(null, store, url)', () => new WorkflowEngine(null as never, new InMemoryExecutionStore(), 'redis://127.0.0.1:1'), 'INVALID_ARGUMENT'],
    ]);
  });
});

describe('DSL entry points', () => {
  const noop = defineNode({ type: 'bad-input-noop', run: () => 1 });
  it('refuses malformed definitions, options and arguments', () => {
    table([
      ['defineNode(null)', () => defineNode(null as never), 'INVALID_ARGUMENT'],
      ["workflow('w', 'opts')", () => workflow('w', 'opts' as never), 'INVALID_ARGUMENT'],
      ['registerNodeKinds(registry, null)', () => registerNodeKinds(new NodeRegistry(), null as never), 'INVALID_ARGUMENT'],
      ['registerNodeKinds(null, kinds)', () => registerNodeKinds(null as never, [noop]), 'INVALID_ARGUMENT'],
      ['renderMermaid(null)', () => renderMermaid(null as never), 'INVALID_ARGUMENT'],
      ['renderWorkflowMarkdown(42)', () => renderWorkflowMarkdown(42 as never), 'INVALID_ARGUMENT'],
      ['nodeOutput(wf, null, id)', () => nodeOutput(workflow('w').then('a', noop()).build(), null as never, 'a'), 'INVALID_ARGUMENT'],
    ]);
  });
});

describe('applyMapping', () => {
  it('throws MappingError (non-retryable) for unsafe paths and non-object data', () => {
    table([
      ['number source', () => applyMapping(5, { a: 'b' }, 'inputMapping'), 'MAPPING_INVALID'],
      ['string source', () => applyMapping('text', { a: 'b' }, 'inputMapping'), 'MAPPING_INVALID'],
      ['__proto__ path', () => applyMapping({}, { a: '__proto__.x' }, 'inputMapping'), 'MAPPING_INVALID'],
      ['non-string path', () => applyMapping({}, { a: 5 as never }, 'inputMapping'), 'MAPPING_INVALID'],
    ]);
    expect(() => applyMapping(null, { a: 'b' }, 'outputMapping')).toThrow(MappingError);
    expect(() => applyMapping(null, { a: 'b' }, 'outputMapping')).toThrow(NonRetryableError);
  });
});

describe('the data check', () => {
  it('refuses nesting past MAX_DATA_DEPTH without overflowing the stack, arrays and objects alike', () => {
    table([
      ['10,000 objects', () => assertJson(nested(10_000), 'initialData'), 'DATA_TOO_DEEP'],
      ['100,000 arrays', () => assertJson(JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)), 'initialData'), 'DATA_TOO_DEEP'],
      ['one past the limit', () => assertJson(nested(MAX_DATA_DEPTH + 1), 'initialData'), 'DATA_TOO_DEEP'],
      ['one past the limit, lenient', () => assertJson(nested(MAX_DATA_DEPTH + 1), 'data', { strict: false }), 'DATA_TOO_DEEP'],
    ]);
    expect(() => assertJson(nested(MAX_DATA_DEPTH), 'initialData')).not.toThrow();
    // Wide is not deep: siblings do not add up.
    expect(() => assertJson({ a: nested(MAX_DATA_DEPTH - 1), b: nested(MAX_DATA_DEPTH - 1) }, 'x')).not.toThrow();
  });

  it('names the path of the refused value, short, and never the data', () => {
    const problem = jsonProblem({ user: { password: 'hunter2', list: [1, 2, { f: () => 1 }] } }, 'initialData');
    expect(problem).toEqual({ kind: 'not-json', message: 'initialData.user.list[2].f is a function (JSON would drop it)' });
    const deep = jsonProblem({ secret: 'hunter2', tree: nested(10_000) }, 'initialData');
    expect(deep?.kind).toBe('too-deep');
    expect(deep?.message).toMatch(/^level 257 at initialData\.tree\.a\.a/);
    expect(deep!.message.length).toBeLessThan(160);
    expect(deep?.message).not.toContain('hunter2');
  });

  it('lenient mode takes what JSON takes (functions dropped, NaN to null) but still refuses cycles and BigInt', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(jsonProblem({ f: () => 1, n: Number.NaN, list: [undefined] }, 'data', { strict: false })).toBeUndefined();
    expect(jsonProblem(cyclic, 'data', { strict: false })?.message).toBe('data.self refers back to an object that contains it (a cycle)');
    expect(jsonProblem({ n: 1n }, 'data', { strict: false })?.message).toBe('data.n is a BigInt (convert it to a string or number)');
  });
});
