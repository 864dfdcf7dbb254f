/**
 * `defineNode`: typed node kinds, and the node specs they produce.
 *
 * @module
 */
import type { z } from 'zod';
import { BUILTIN_NODE_KINDS, isBuiltinNodeKind } from '../definition/node-kinds.js';
import type { BuiltinNodeKind } from '../definition/node-kinds.js';
import { assertZodSchemas } from '../definition/zod.js';
import { InvalidArgumentError } from '../errors.js';
import { createKindExecutor } from './executor.js';
import type { KindCode } from './executor.js';
import type { AnySchema, KindRuntime, NodeKind, NodeKindDefinition, NodeOptions, NodeSpec, NoAny, SchemaInput } from './node.types.js';

/** The DSL function that places each built-in kind, named when `defineNode` refuses its type. */
const BUILTIN_NODE_FUNCTIONS: { readonly [K in BuiltinNodeKind]: string } = {
  [BUILTIN_NODE_KINDS.delay]: 'delay()',
  [BUILTIN_NODE_KINDS.subWorkflow]: 'subWorkflow()',
  [BUILTIN_NODE_KINDS.signal]: 'waitForSignal()',
  [BUILTIN_NODE_KINDS.event]: 'waitForEvent()',
};

/**
 * Defines a node kind: a `type` string, optional zod schemas for its config, input and output,
 * and optional code. The result is a function from config to a node spec that workflows place
 * with `.node()` / `.then()`.
 *
 * With `run`, the kind is self-registering: a workflow built with it carries its executor, and
 * `engine.registerWorkflow(built)` registers it. In the worker, config and input are parsed with
 * their schemas before `run`, and what `run` returns is parsed with the output schema; a refusal
 * fails the node at once (no retries) with a {@link NodeInputError} or {@link NodeOutputError}.
 *
 * The `type` string is the registry key: give every distinct `run` its own type. What `run`
 * returns as `any` (e.g. `res.json()`, `JSON.parse`) types the output as `unknown`: give the kind
 * an output schema so its children can be checked against it.
 *
 * @example
 * ```ts
 * const fetchUser = defineNode({
 *   type: 'fetch-user',
 *   config: z.object({ baseUrl: z.string().url() }),
 *   input: z.object({ userId: z.number() }),
 *   output: z.object({ id: z.number(), email: z.string().email() }),
 *   run: async ({ input, config }) => {
 *     const res = await fetch(`${config.baseUrl}/users/${input.userId}`);
 *     return (await res.json()) as { id: number; email: string };
 *   },
 * });
 * const node = fetchUser({ baseUrl: 'https://api.example.test' });
 * ```
 */
export function defineNode<
  const TType extends string,
  TConfig extends AnySchema | undefined = undefined,
  TInput extends AnySchema | undefined = undefined,
  TOutput extends AnySchema | undefined = undefined,
  TReturn = unknown,
>(
  definition: NodeKindDefinition<TType, TConfig, TInput, TOutput, TReturn>,
): NodeKind<TType, TConfig extends AnySchema ? z.input<TConfig> : undefined, SchemaInput<TInput>, NoAny<TOutput extends AnySchema ? z.output<TOutput> : Awaited<TReturn>>> {
  if (typeof definition !== 'object' || definition === null) throw new InvalidArgumentError('defineNode expects a definition object { type, run?, config?, input?, output? }');
  const { type, description, config, input, output, run } = definition;
  const rateLimit = resolveRateLimit(type, definition.rateLimit);
  if (typeof type !== 'string' || type.length === 0) throw new InvalidArgumentError('defineNode: type must be a non-empty string');
  if (isBuiltinNodeKind(type)) throw new InvalidArgumentError(`defineNode: '${type}' is a built-in node type; use the ${BUILTIN_NODE_FUNCTIONS[type]} node instead`);
  assertZodSchemas(`defineNode('${type}')`, { config, input, output });
  const schemas = { ...(config && { config }), ...(input && { input }), ...(output && { output }) };
  return createKind({
    type,
    role: 'node',
    schemas,
    ...(description !== undefined && { description }),
    ...(rateLimit !== undefined && { rateLimit }),
    ...(run !== undefined && { impl: run, executor: createKindExecutor({ role: 'node', schemas }, run as KindCode) }),
  });
}

function resolveRateLimit(type: string, limit: NodeKindDefinition<string, unknown, unknown, unknown, unknown>['rateLimit']): { max: number; duration: number } | undefined {
  if (limit === undefined) return undefined;
  const resolved = typeof limit === 'number' ? { max: limit, duration: 1000 } : limit;
  const ok = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n > 0;
  if (!ok(resolved?.max) || !ok(resolved?.duration)) {
    throw new InvalidArgumentError(`defineNode('${type}'): rateLimit must be a positive integer per second or { max, duration } of positive integers`);
  }
  return { max: resolved.max, duration: resolved.duration };
}

/**
 * Wraps a kind's runtime facts into a callable kind. Used by {@link defineNode} and the
 * built-in kinds.
 */
// The casts connect the loosely typed runtime object to its precise call signature.
export function createKind<TKind>(runtime: KindRuntime): TKind {
  const call = (config?: unknown) => createSpec(runtime, config, {});
  return Object.defineProperties(call, {
    type: { value: runtime.type, enumerable: true },
    role: { value: runtime.role, enumerable: true },
    schemas: { value: runtime.schemas, enumerable: true },
    description: { value: runtime.description, enumerable: true },
    executor: { value: runtime.executor, enumerable: true },
    impl: { value: runtime.impl, enumerable: true },
    rateLimit: { value: runtime.rateLimit, enumerable: true },
  }) as unknown as TKind;
}

/** A node spec: immutable, `with` returns a copy with merged options. */
export function createSpec<TSpec extends NodeSpec<unknown, unknown, string, unknown>>(kind: KindRuntime, config: unknown, options: NodeOptions): TSpec {
  const spec: NodeSpec<unknown, unknown, string> = {
    kind,
    config,
    options,
    with: (more: NodeOptions) => createSpec(kind, config, mergeOptions(options, more)),
  };
  return Object.freeze(spec) as TSpec;
}

/** Options merged field by field; `retryPolicy` and `circuitBreaker` are merged one level deep. */
export function mergeOptions(base: NodeOptions, more: NodeOptions): NodeOptions {
  const merged: NodeOptions = { ...base, ...more };
  if (base.retryPolicy !== undefined && more.retryPolicy !== undefined) merged.retryPolicy = { ...base.retryPolicy, ...more.retryPolicy };
  if (base.circuitBreaker !== undefined && more.circuitBreaker !== undefined) merged.circuitBreaker = { ...base.circuitBreaker, ...more.circuitBreaker };
  return merged;
}

/** Whether `value` is a node spec (as opposed to a kind that still needs its config). */
export function isNodeSpec(value: unknown): value is NodeSpec<unknown, unknown, string> {
  return typeof value === 'object' && value !== null && 'kind' in value && 'options' in value && typeof (value as { with?: unknown }).with === 'function';
}
