/**
 * The type-level shape of a typed workflow: a plain {@link WorkflowDefinition} that also carries,
 * at compile time only, its id, input, node outputs and result. The DSL's `.build()` returns one;
 * the engine's typed client (`enqueueWorkflow(flow, input)`, `result(flow, id)`,
 * `subscribe(flow, handler)`) reads these types without importing the DSL.
 *
 * @module
 */
import type { WorkflowDefinition } from './types.js';

/**
 * What a typed workflow carries under `~types`. Compile-time only: no value has this at run time.
 *
 * @typeParam TInput - what executions start with
 * @typeParam TOutputs - node id → output type
 * @typeParam TResult - what a finished execution yields (see {@link WorkflowResult})
 *
 * @example
 * ```ts
 * type T = NonNullable<(typeof onboarding)['~types']>; // WorkflowTypes<{ userId: number }, {...}, { sent: boolean }>
 * ```
 */
export interface WorkflowTypes<TInput = unknown, TOutputs = unknown, TResult = unknown> {
  /** What executions start with. */
  readonly input: TInput;
  /** Node id → output type. */
  readonly outputs: TOutputs;
  /** What a finished execution yields. */
  readonly result: TResult;
}

/**
 * A workflow definition whose id, input, node outputs and result are known to the compiler. A
 * DSL-built workflow is one; a hand-written JSON definition is one too, with every type
 * `unknown` (its `~types` is absent), so it passes where a typed workflow is expected without
 * typing anything.
 *
 * @typeParam TId - the workflow id, as a literal type
 * @typeParam TInput - what executions start with
 * @typeParam TOutputs - node id → output type
 * @typeParam TResult - what a finished execution yields
 *
 * @example
 * ```ts
 * function start<W extends TypedWorkflow>(engine: WorkflowEngine, flow: W, input: WorkflowInput<W>) {
 *   return engine.enqueueWorkflow(flow, input);
 * }
 * ```
 */
export interface TypedWorkflow<TId extends string = string, TInput = unknown, TOutputs = unknown, TResult = unknown> extends WorkflowDefinition {
  /** The workflow id. */
  readonly id: TId;
  /** Compile-time only; never set at run time. */
  readonly '~types'?: WorkflowTypes<TInput, TOutputs, TResult>;
}

/**
 * What a typed workflow is started with (`unknown` when it declares no input schema).
 *
 * @example
 * ```ts
 * type OnboardingInput = WorkflowInput<typeof onboarding>; // { userId: number }
 * await engine.enqueueWorkflow(onboarding, { userId: 1 } satisfies OnboardingInput);
 * ```
 */
export type WorkflowInput<W> = W extends { readonly '~types'?: { readonly input: infer I } } ? I : unknown;

/**
 * Node id → output type of a typed workflow (`Record<string, unknown>` when untyped).
 *
 * @example
 * ```ts
 * type Outputs = WorkflowOutputs<typeof onboarding>; // { fetch: { id: number; email: string }; welcome: { sent: boolean } }
 * ```
 */
export type WorkflowOutputs<W> = W extends { readonly '~types'?: { readonly outputs: infer O } } ? (unknown extends O ? Record<string, unknown> : O) : Record<string, unknown>;

/**
 * What a finished execution of a typed workflow yields, as a sub-workflow and from
 * `engine.result(flow, id)`: the data of its single final node, or `{ finalNodeId: data }` for
 * several (branches that may be skipped as optional keys).
 *
 * The DSL records what a `.then()` after the last call would receive, which is exactly that as
 * long as the nodes the last call added are the final nodes. A node added with
 * `.node(id, spec, { after })` that nothing follows, while the chain goes on elsewhere, is also a
 * final node at run time but is not part of this type (an approximation: the builder does not
 * track which nodes have children, to keep type-check cost flat).
 *
 * @example
 * ```ts
 * type Result = WorkflowResult<typeof onboarding>; // { sent: boolean }: the output of its last node
 * ```
 */
export type WorkflowResult<W> = W extends { readonly '~types'?: { readonly result: infer R } } ? R : unknown;

/**
 * The node ids of a typed workflow (`string` when untyped).
 *
 * @example
 * ```ts
 * type Ids = WorkflowNodeId<typeof onboarding>; // 'fetch' | 'welcome'
 * ```
 */
export type WorkflowNodeId<W> = keyof WorkflowOutputs<W> & string;

/**
 * The id of a typed workflow, as a literal type (`string` when untyped).
 *
 * @example
 * ```ts
 * type Id = WorkflowIdOf<typeof onboarding>; // 'onboarding'
 * ```
 */
export type WorkflowIdOf<W> = W extends { readonly id: infer I extends string } ? I : string;
