import { describe, expect, it } from 'vitest';
import { NodeRegistry } from '../../src/runtime/engine/registry.js';
import type { NodeExecutorLike } from '../../src/runtime/engine/registry.js';
import type { ExecutionContext, ExecutionResult, INodeExecutor } from '../../src/definition/types.js';
import { InvalidArgumentError } from '../../src/errors.js';

function context(inputData: unknown): ExecutionContext {
  return {
    workflowId: 'wf',
    executionId: 'e1',
    nodeId: 'n',
    nodeType: 't',
    inputData,
    nodeConfig: {},
    previousResults: {},
    initialData: inputData,
    attempt: 1,
    idempotencyKey: 'e1:n',
    depth: 0,
  };
}

class Doubler implements INodeExecutor {
  readonly factor = 2;
  async execute(ctx: ExecutionContext): Promise<ExecutionResult> {
    return { success: true, data: (ctx.inputData as number) * this.factor };
  }
}

describe('NodeRegistry', () => {
  it('registers an executor object and returns it unchanged', async () => {
    const registry = new NodeRegistry();
    const executor = new Doubler();
    registry.register('double', executor);
    expect(registry.get('double')).toBe(executor);
    expect(await registry.get('double')!.execute(context(21))).toEqual({ success: true, data: 42 });
  });

  it('registers a bare function as an executor', async () => {
    const registry = new NodeRegistry();
    const calls: unknown[] = [];
    registry.register('echo', async (ctx) => {
      calls.push(ctx.inputData);
      return { success: true, data: ctx.inputData };
    });
    const executor = registry.get('echo');
    expect(typeof executor?.execute).toBe('function');
    expect(await executor!.execute(context('hi'))).toEqual({ success: true, data: 'hi' });
    expect(calls).toEqual(['hi']);
  });

  it('is chainable', () => {
    const registry = new NodeRegistry();
    expect(registry.register('a', new Doubler()).register('b', new Doubler())).toBe(registry);
    expect(registry.getRegisteredTypes()).toEqual(['a', 'b']);
  });

  it('replaces the executor of a type registered again', () => {
    const registry = new NodeRegistry();
    const first = new Doubler();
    const second = new Doubler();
    registry.register('double', first).register('double', second);
    expect(registry.get('double')).toBe(second);
    expect(registry.getRegisteredTypes()).toEqual(['double']);
  });

  it('has() is true for registered types and the built-in delay, false otherwise', () => {
    const registry = new NodeRegistry();
    expect(registry.has('delay')).toBe(true);
    expect(registry.has('double')).toBe(false);
    registry.register('double', new Doubler());
    expect(registry.has('double')).toBe(true);
    expect(registry.has('Double')).toBe(false);
  });

  it('get() returns undefined for unknown types and for the built-in delay', () => {
    const registry = new NodeRegistry();
    expect(registry.get('nope')).toBeUndefined();
    expect(registry.get('delay')).toBeUndefined();
  });

  it('refuses to register the built-in delay type', () => {
    const registry = new NodeRegistry();
    expect(() => registry.register('delay', new Doubler())).toThrow(InvalidArgumentError);
    expect(() => registry.register('delay', async () => ({ success: true }))).toThrow(/built-in/);
    expect(registry.getRegisteredTypes()).toEqual([]);
  });

  it.each<[string, unknown]>([
    ['an empty object', {}],
    ['an object whose execute is not a function', { execute: 'run' }],
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a string', 'executor'],
  ])('refuses %s as executor with InvalidArgumentError', (_label, executor) => {
    const registry = new NodeRegistry();
    let caught: unknown;
    try {
      registry.register('bad', executor as NodeExecutorLike);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidArgumentError);
    expect((caught as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
    expect((caught as Error).message).toContain("'bad'");
    expect(registry.has('bad')).toBe(false);
  });

  it('refuses an empty or non-string node type', () => {
    const registry = new NodeRegistry();
    expect(() => registry.register('', new Doubler())).toThrow(InvalidArgumentError);
    expect(() => registry.register(7 as unknown as string, new Doubler())).toThrow(InvalidArgumentError);
  });

  it('unregister removes an executor and reports whether there was one', () => {
    const registry = new NodeRegistry();
    registry.register('a', new Doubler()).register('b', new Doubler());
    expect(registry.unregister('a')).toBe(true);
    expect(registry.has('a')).toBe(false);
    expect(registry.get('a')).toBeUndefined();
    expect(registry.unregister('a')).toBe(false);
    expect(registry.getRegisteredTypes()).toEqual(['b']);
  });

  it('unregister cannot remove the built-in delay', () => {
    const registry = new NodeRegistry();
    expect(registry.unregister('delay')).toBe(false);
    expect(registry.has('delay')).toBe(true);
  });

  it('getRegisteredTypes lists registered types in order, without built-ins, as a copy', () => {
    const registry = new NodeRegistry();
    expect(registry.getRegisteredTypes()).toEqual([]);
    registry.register('x', new Doubler()).register('y', async () => ({ success: true }));
    const types = registry.getRegisteredTypes();
    expect(types).toEqual(['x', 'y']);
    types.push('z');
    expect(registry.getRegisteredTypes()).toEqual(['x', 'y']);
  });

  it('registries are independent', () => {
    const a = new NodeRegistry();
    const b = new NodeRegistry();
    a.register('only-a', new Doubler());
    expect(b.has('only-a')).toBe(false);
  });
});
