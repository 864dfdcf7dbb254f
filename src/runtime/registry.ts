import type { ExecutionContext, ExecutionResult, INodeExecutor } from '../definition/types.js';
import { BUILT_IN_NODE_TYPES } from '../definition/validate.js';
import { InvalidArgumentError } from '../errors.js';

/** An executor object, or a bare function with the same signature. */
export type NodeExecutorLike = INodeExecutor | ((context: ExecutionContext) => Promise<ExecutionResult>);

/**
 * Maps node types to the executors that run them. One registry serves every workflow of an
 * engine; register executors before starting workers.
 *
 * @example
 * ```ts
 * const registry = new NodeRegistry();
 * registry.register('transform', new TransformExecutor());
 * registry.register('echo', async (ctx) => ({ success: true, data: ctx.inputData }));
 * ```
 */
export class NodeRegistry {
  private readonly executors = new Map<string, INodeExecutor>();

  /** Registers (or replaces) the executor for `nodeType`. Built-in types cannot be overridden. */
  register(nodeType: string, executor: NodeExecutorLike): this {
    if (typeof nodeType !== 'string' || nodeType.length === 0) {
      throw new InvalidArgumentError('NodeRegistry.register: nodeType must be a non-empty string');
    }
    if (BUILT_IN_NODE_TYPES.has(nodeType)) {
      throw new InvalidArgumentError(`NodeRegistry.register: '${nodeType}' is a built-in node type and cannot be replaced`);
    }
    const normalised: INodeExecutor | undefined =
      typeof executor === 'function' ? { execute: executor } : typeof executor?.execute === 'function' ? executor : undefined;
    if (normalised === undefined) {
      throw new InvalidArgumentError(`NodeRegistry.register('${nodeType}'): executor must have an execute(context) method or be a function`);
    }
    this.executors.set(nodeType, normalised);
    return this;
  }

  /** The executor for `nodeType`, if any. */
  get(nodeType: string): INodeExecutor | undefined {
    return this.executors.get(nodeType);
  }

  /** Whether `nodeType` can run: it has an executor or is built in. */
  has(nodeType: string): boolean {
    return this.executors.has(nodeType) || BUILT_IN_NODE_TYPES.has(nodeType);
  }

  /** Removes the executor of `nodeType`; returns whether there was one. */
  unregister(nodeType: string): boolean {
    return this.executors.delete(nodeType);
  }

  /** Every type with a registered executor. */
  getRegisteredTypes(): string[] {
    return [...this.executors.keys()];
  }
}
