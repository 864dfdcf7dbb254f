/**
 * Node mocks of a test engine: a {@link NodeRegistry} whose executors are replaced, per node id or
 * per node type, by a test's function, each call recorded.
 *
 * @module
 */
import type { ExecutionContext, ExecutionResult, INodeExecutor } from '../definition/types.js';
import { InvalidArgumentError } from '../errors.js';
import { NodeRegistry } from '../runtime/engine/registry.js';

/** What a mock is told about the call beside the node's input. */
export interface MockContext {
  /** The node being run. */
  nodeId: string;
  /** Its type. */
  nodeType: string;
  /** Attempt number under the node's retry policy, starting at 1. */
  attempt: number;
  /** The execution. */
  executionId: string;
  /** The node's `config`. */
  config: unknown;
}

/**
 * A mock's code: it gets the node's input and returns the node's output (a promise of it is
 * awaited). Throwing fails the attempt, which is retried under the node's retry policy like any
 * failure. A value that is not a function is returned as the output of every call.
 */
export type MockImpl<I = unknown> = ((input: I, context: MockContext) => unknown) | string | number | boolean | null | readonly unknown[] | { readonly [key: string]: unknown };

/** One recorded call of a mock. */
export interface MockCall {
  /** The node's input. */
  input: unknown;
  /** Attempt number (1 for the first). */
  attempt: number;
  /** The node that ran. */
  nodeId: string;
  /** Its execution. */
  executionId: string;
}

/** What {@link TestEngine.mockNode} returns: the calls so far, and a way to put the real executor back. */
export interface NodeMock {
  /** Every call of this mock, in order. */
  readonly calls: readonly MockCall[];
  /** Removes the mock: the node's real executor runs again. */
  restore(): void;
}

interface Installed {
  impl: MockImpl<never>;
  calls: MockCall[];
}

/**
 * The test engine's registry: `get(type)` answers a dispatcher while any mock is installed, which
 * runs the mock named by the node's id, else the one named by its type, else the real executor.
 * @internal
 */
export class MockingRegistry extends NodeRegistry {
  private readonly mocks = new Map<string, Installed>();

  /** Installs `impl` for a node id or type (replacing an earlier mock of that key, and its calls). */
  install(key: string, impl: MockImpl<never>): NodeMock {
    if (typeof key !== 'string' || key.length === 0) throw new InvalidArgumentError('mockNode: the node id or type must be a non-empty string');
    if (impl === undefined) throw new InvalidArgumentError(`mockNode('${key}'): the mock must be a function or a JSON value`);
    const installed: Installed = { impl, calls: [] };
    this.mocks.set(key, installed);
    return {
      calls: installed.calls,
      restore: () => {
        if (this.mocks.get(key) === installed) this.mocks.delete(key);
      },
    };
  }

  /** The calls of the mock installed for `key`, or undefined when there is none. */
  calls(key: string): readonly MockCall[] | undefined {
    return this.mocks.get(key)?.calls;
  }

  /** A type with a mock counts as registered, so a JSON workflow may use a type only a mock implements. */
  override has(nodeType: string): boolean {
    return super.has(nodeType) || this.mocks.has(nodeType);
  }

  override get(nodeType: string): INodeExecutor | undefined {
    const real = super.get(nodeType);
    if (this.mocks.size === 0) return real;
    return {
      execute: async (context: ExecutionContext): Promise<ExecutionResult> => {
        const mock = this.mocks.get(context.nodeId) ?? this.mocks.get(context.nodeType);
        if (mock === undefined) {
          if (real === undefined) return { success: false, error: `no executor for node type '${context.nodeType}'` };
          return real.execute(context);
        }
        mock.calls.push({ input: context.inputData, attempt: context.attempt, nodeId: context.nodeId, executionId: context.executionId });
        const impl = mock.impl as MockImpl;
        const data =
          typeof impl === 'function'
            ? await impl(context.inputData, {
                nodeId: context.nodeId,
                nodeType: context.nodeType,
                attempt: context.attempt,
                executionId: context.executionId,
                config: context.nodeConfig,
              })
            : impl;
        return { success: true, data };
      },
    };
  }
}
