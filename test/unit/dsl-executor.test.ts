/** The executors DSL kinds carry: parsing in the worker, error details, routers, joins, registration. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNode, NodeInputError, NodeOutputError, NodeRegistry, NonRetryableError, registerNodeKinds, router, transform } from '../../src/index.js';
import type { ExecutionContext, INodeExecutor, NodeResult } from '../../src/index.js';

function context(overrides: Partial<ExecutionContext>): ExecutionContext {
  return {
    workflowId: 'wf',
    executionId: 'exec-1',
    nodeId: 'node',
    nodeType: 'type',
    inputData: undefined,
    nodeConfig: {},
    previousResults: {},
    initialData: undefined,
    attempt: 1,
    idempotencyKey: 'exec-1:node',
    depth: 0,
    ...overrides,
  };
}

function executorOf(kind: { executor?: INodeExecutor | undefined } | { kind: { executor?: INodeExecutor | undefined } }): INodeExecutor {
  const executor = 'kind' in kind ? kind.kind.executor : kind.executor;
  if (executor === undefined) throw new Error('no executor');
  return executor;
}

async function failureOf(run: Promise<unknown>): Promise<unknown> {
  try {
    await run;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

const greet = defineNode({
  type: 'greet',
  config: z.object({ greeting: z.string().default('Hello') }),
  input: z.object({ user: z.object({ name: z.string().min(1), age: z.number().int() }) }),
  output: z.object({ text: z.string() }),
  run: ({ input, config }) => ({ text: `${config.greeting}, ${input.user.name}` }),
});

describe('carried executors', () => {
  it('parse config (defaults applied, reserved keys ignored) and input, then run', async () => {
    const result = await executorOf(greet).execute(context({ inputData: { user: { name: 'Ada', age: 36 } }, nodeConfig: { retryPolicy: { maxAttempts: 3 }, circuitBreaker: {} } }));
    expect(result).toEqual({ success: true, data: { text: 'Hello, Ada' } });
  });

  it('fail invalid input with a non-retryable NodeInputError naming workflow, node, field and value', async () => {
    const err = await failureOf(executorOf(greet).execute(context({ workflowId: 'signup', nodeId: 'welcome', inputData: { user: { name: 'Ada', age: 'thirty' } } })));
    expect(err).toBeInstanceOf(NodeInputError);
    expect(err).toBeInstanceOf(NonRetryableError);
    expect(err).toMatchObject({ code: 'NODE_INPUT_INVALID', workflowId: 'signup', nodeId: 'welcome', part: 'input', path: 'user.age', received: '"thirty"' });
    expect((err as Error).message).toBe(
      "Workflow 'signup', node 'welcome': input does not match its schema at user.age (received a string)\n  - user.age: Invalid input: expected number, received string",
    );
  });

  it('truncate long received values', async () => {
    const err = (await failureOf(executorOf(greet).execute(context({ inputData: { user: { name: 'x'.repeat(500), age: 1.5 } } })))) as NodeInputError;
    expect(err.path).toBe('user.age');
    const whole = (await failureOf(executorOf(greet).execute(context({ inputData: 'y'.repeat(500) })))) as NodeInputError;
    expect(whole.path).toBe('(root)');
    expect(whole.received.length).toBeLessThanOrEqual(200);
    expect(whole.received.endsWith('…')).toBe(true);
  });

  it('fail invalid config as NodeInputError with part config', async () => {
    const err = await failureOf(executorOf(greet).execute(context({ inputData: { user: { name: 'A', age: 1 } }, nodeConfig: { greeting: 42 } })));
    expect(err).toMatchObject({ code: 'NODE_INPUT_INVALID', part: 'config', path: 'greeting', received: '42' });
  });

  it('fail a wrong return value with a non-retryable NodeOutputError', async () => {
    const liar = defineNode({ type: 'liar', output: z.object({ id: z.number() }), run: () => ({ id: 'one' }) as unknown as { id: number } });
    const err = await failureOf(executorOf(liar).execute(context({ nodeId: 'lie' })));
    expect(err).toBeInstanceOf(NodeOutputError);
    expect(err).toBeInstanceOf(NonRetryableError);
    expect(err).toMatchObject({ code: 'NODE_OUTPUT_INVALID', nodeId: 'lie', part: 'output', path: 'id', received: '"one"' });
  });

  it('let errors thrown by run through untouched, so they are retried', async () => {
    const flaky = defineNode({
      type: 'flaky',
      run: () => {
        throw new Error('boom');
      },
    });
    const err = await failureOf(executorOf(flaky).execute(context({})));
    expect(err).not.toBeInstanceOf(NonRetryableError);
    expect((err as Error).message).toBe('boom');
  });

  it('turn a router choice into nextNodes and pass the input on', async () => {
    const route = router('by-size', (n: { size: number }) => (n.size > 10 ? 'big' : ['small', 'log']));
    expect(await executorOf(route).execute(context({ inputData: { size: 20 } }))).toEqual({ success: true, data: { size: 20 }, nextNodes: ['big'] });
    expect(await executorOf(route).execute(context({ inputData: { size: 1 } }))).toEqual({ success: true, data: { size: 1 }, nextNodes: ['small', 'log'] });
    const broken = router('broken', () => 1 as unknown as 'a');
    expect(await failureOf(executorOf(broken).execute(context({})))).toBeInstanceOf(NonRetryableError);
  });

  it('give a join below a branch { [parentId]: data } even when only one branch ran', async () => {
    const seen: unknown[] = [];
    const join = transform('join', (x: unknown) => seen.push(x));
    const ran: NodeResult = { status: 'completed', data: 1, attempts: 1, completedAt: 0 };
    const skipped: NodeResult = { status: 'skipped', attempts: 0, completedAt: 0 };
    const nodeConfig = { $join: ['a', 'b'] };
    await executorOf(join).execute(context({ nodeId: 'j', nodeConfig, inputData: 1, previousResults: { a: ran, b: skipped } }));
    await executorOf(join).execute(context({ nodeId: 'j', nodeConfig, inputData: { a: 1, b: 2 }, previousResults: { a: ran, b: { ...ran, data: 2 } } }));
    await executorOf(join).execute(context({ nodeId: 'j', inputData: 5 }));
    expect(seen).toEqual([{ a: 1 }, { a: 1, b: 2 }, 5]);
  });
});

describe('registerNodeKinds', () => {
  it('registers kinds and the kinds behind specs, skipping those without code', () => {
    const registry = new NodeRegistry();
    const noCode = defineNode({ type: 'external', input: z.string() });
    const types = registerNodeKinds(registry, [greet, transform('t', (x: unknown) => x), noCode]);
    expect(types).toEqual(['greet', 'transform:t']);
    expect(registry.has('greet')).toBe(true);
    expect(registry.has('external')).toBe(false);
  });
});
