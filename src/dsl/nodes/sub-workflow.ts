/**
 * `subWorkflow`: run another workflow as one node, with mappings checked at compile time.
 *
 * @module
 */
import { BUILTIN_NODE_KINDS } from '../../definition/node-kinds.js';
import { createKind } from '../node.js';
import type { NodeFailure, NodeKind, NodeSpec } from '../node.types.js';
import type { WorkflowInput, WorkflowResult } from '../compile.js';
import type { Paths, TypeAtPath, Unflatten } from '../paths.js';
import type { CompileError, List } from '../workflow.types.js';

/**
 * What the children of a sub-workflow node with `continueOnFail: true` receive when the child
 * execution failed.
 *
 * @example
 * ```ts
 * const report = transform('report', (r: { paymentId: string } | SubWorkflowFailure) => ('error' in r ? Object.keys(r.partialResults) : r.paymentId));
 * ```
 */
export interface SubWorkflowFailure extends NodeFailure {
  /** `{ nodeId: data }` of the child nodes that completed. */
  partialResults: Record<string, unknown>;
}

/**
 * Options of {@link subWorkflow}. The names are those of the runtime config, so a built
 * definition reads the same as a hand-written one.
 *
 * @typeParam TInputMapping - child input key (dotted keys build nested objects) → dotted path in this node's input
 * @typeParam TOutputMapping - this node's output key → dotted path in the child's result
 * @typeParam TFail - the literal type of `continueOnFail`
 *
 * @example
 * ```ts
 * subWorkflow(payment, { inputMapping: { amount: 'total' }, outputMapping: { transactionId: 'paymentId' }, continueOnFail: false });
 * ```
 */
export interface SubWorkflowOptions<TInputMapping, TOutputMapping, TFail extends boolean = boolean> {
  /** Child input key → path in this node's input. Without it the child gets the input as is. */
  inputMapping?: TInputMapping;
  /** This node's output key → path in the child's result. Without it the node outputs the child's result. */
  outputMapping?: TOutputMapping;
  /**
   * When the child fails, settle this node as failed and run its children anyway with
   * {@link SubWorkflowFailure} (`{ error, partialResults }`), so their input must accept that.
   * @defaultValue false
   */
  continueOnFail?: TFail;
}

// ---------------------------------------------------------------- types of the node

/** `true` for a child whose types are unknown (an id string, or an untyped `BuiltWorkflow`). */
type IsLoose<T> = unknown extends T ? true : false;
type IsEmpty<T> = [keyof T] extends [never] ? true : false;
type Head<K> = K extends `${infer H}.${string}` ? H : K;
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- `{} extends Pick<T, K>` is true exactly when K is optional
type RequiredKeys<T> = T extends object ? { [K in keyof T]-?: {} extends Pick<T, K> ? never : K }[keyof T] : never;

/**
 * What a sub-workflow node needs from its parents: the child's input, or with `inputMapping`
 * an object holding, at each mapped path, the type of the child input field it feeds.
 */
export type SubWorkflowInput<W, TIn> =
  IsEmpty<TIn> extends true
    ? WorkflowInput<W>
    : [LiteralPaths<TIn>] extends [never]
      ? unknown
      : Unflatten<{ [P in LiteralPaths<TIn>]: IsLoose<WorkflowInput<W>> extends true ? unknown : FedType<WorkflowInput<W>, TIn, P> }>;

/**
 * The mapping's values that are literal paths. A value typed `string` (a mapping held in a
 * variable without `as const`) cannot be followed, so that path is not checked.
 */
type LiteralPaths<M> = { [K in keyof M]: M[K] extends string ? (string extends M[K] ? never : M[K]) : never }[keyof M];

/**
 * The type a path `P` of the node's input must have: every child field it feeds (usually one).
 * A key that is not a child input field feeds `unknown` here: the mapping check reports that key.
 */
type FedType<CI, TIn, P> = Both<{ [K in keyof TIn]: TIn[K] extends P ? Box<OrUnknown<TypeAtPath<CI, K & string>>> : never }[keyof TIn]> extends Box<infer V> ? V : never;
type OrUnknown<T> = [T] extends [never] ? unknown : T;
type Box<T> = { readonly v: T };
type Both<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/**
 * What a sub-workflow node hands its children: the child's result ({@link WorkflowResult}), or
 * with `outputMapping` the type at each mapped path; plus {@link SubWorkflowFailure} under
 * `continueOnFail: true`.
 */
export type SubWorkflowOutput<W, TOut, TFail = false> = WithSubFailure<
  IsEmpty<TOut> extends true
    ? WorkflowResult<W>
    : Unflatten<{ [K in keyof TOut]: IsLoose<WorkflowResult<W>> extends true ? unknown : string extends TOut[K] ? unknown : TypeAtPath<WorkflowResult<W>, TOut[K] & string> }>,
  TFail
>;
type WithSubFailure<TOut, TFail> = true extends TFail ? TOut | SubWorkflowFailure : TOut;

// ---------------------------------------------------------------- checks

/** What a mapping value that is not a path is, for messages. */
type KindName<V> = V extends number
  ? 'number'
  : V extends boolean
    ? 'boolean'
    : V extends null
      ? 'null'
      : V extends undefined
        ? 'undefined'
        : V extends readonly unknown[]
          ? 'array'
          : V extends object
            ? 'object'
            : 'value that is not a string';

/** A problem with one `inputMapping` entry: its value is not a path, or its key is not a child input field. */
type InputKeyProblem<CI, K, V> = V extends string
  ? IsLoose<CI> extends true
    ? never
    : K extends Paths<CI>
      ? never
      : CompileError<`inputMapping key '${K & string}' is not an input field of the child workflow (its input fields: '${List<keyof CI>}')`>
  : CompileError<`inputMapping '${K & string}' maps to a ${KindName<V>}: give a dotted path (a string) into the node's input`>;

/**
 * Rules 0, 1 and 4: values are paths, keys are (dotted) fields of the child input, and every
 * required field is mapped. Entry problems are reported on their entry, before missing fields.
 */
type InputMappingCheck<CI, TIn> = [{ [K in keyof TIn]-?: InputKeyProblem<CI, K, TIn[K]> }[keyof TIn]] extends [never]
  ? IsLoose<CI> extends true
    ? unknown
    : Exclude<RequiredKeys<CI>, Head<keyof TIn>> extends infer Unmapped
      ? [Unmapped] extends [never]
        ? unknown
        : CompileError<`inputMapping leaves required input field(s) '${List<Unmapped>}' of the child workflow unmapped`>
      : never
  : { [K in keyof TIn]: [InputKeyProblem<CI, K, TIn[K]>] extends [never] ? unknown : InputKeyProblem<CI, K, TIn[K]> };

/** Rules 0 and 5: values are paths, and each literal path exists in the child's result. */
type OutputMappingCheck<R, TOut> = {
  [K in keyof TOut]: TOut[K] extends string
    ? IsLoose<R> extends true
      ? unknown
      : string extends TOut[K]
        ? unknown
        : TOut[K] extends Paths<R>
          ? unknown
          : CompileError<`outputMapping path '${TOut[K] & string}' is not in the result of the child workflow (its result fields: '${List<keyof R>}')`>
    : CompileError<`outputMapping '${K & string}' maps to a ${KindName<TOut[K]>}: give a dotted path (a string) into the child's result`>;
};

/** The checks {@link subWorkflow} puts on its options, next to their plain types. */
export interface SubWorkflowChecks<W, TIn, TOut> {
  inputMapping?: InputMappingCheck<WorkflowInput<W>, TIn>;
  outputMapping?: OutputMappingCheck<WorkflowResult<W>, TOut>;
}

const subWorkflowKind = createKind<NodeKind<typeof BUILTIN_NODE_KINDS.subWorkflow, Record<string, unknown>, unknown, unknown>>({
  type: BUILTIN_NODE_KINDS.subWorkflow,
  role: BUILTIN_NODE_KINDS.subWorkflow,
  schemas: {},
});

/**
 * A node that runs another registered workflow as a child execution and hands on its result
 * (the runtime runs it in both sub-workflow modes, see docs/sub-workflows.md). Compiles to
 * `{ type: 'sub-workflow', config: { workflowId, inputMapping?, outputMapping?, continueOnFail? } }`.
 *
 * Given a built workflow, everything is typed from it:
 * - without `inputMapping` the node's input is the child's input; with it, the node's input is
 *   an object with the child field's type at each mapped path, so the builder's input rule
 *   reports a path the parent's output lacks or holds with another type;
 * - `inputMapping` keys must be (dotted) child input fields, and must cover every required one;
 * - `outputMapping` paths must exist in the child's result ({@link WorkflowResult}); the node's
 *   output is the type at each path, or the child's result without `outputMapping`.
 * Given an id string (or an untyped workflow) nothing is checked: not the id (a typo is only found
 * when the parent runs and the child is not registered), nor the mappings, and mapped values are
 * `unknown`. Use the string form only for children that exist as JSON alone; it compiles to the
 * same definition as the built form (`config.workflowId` is the child's id either way). A mapping
 * held in a variable without `as const` has paths typed `string`: its keys are checked, its paths
 * are not (write it inline, or add `as const`, to check them).
 *
 * The child must be registered before the parent runs it.
 *
 * @example
 * ```ts
 * const payment = workflow('payment', { input: Payment }).then('charge', charge()).build();
 * workflow('order', { input: Order })
 *   .then('pay', subWorkflow(payment, { inputMapping: { amount: 'total' }, outputMapping: { transactionId: 'paymentId' } })); // Order.total → Payment.amount
 * ```
 */
export function subWorkflow<
  W extends { readonly id: string } | string,
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- without a mapping: an object with no keys (`keyof {}` is never)
  const TIn extends Record<string, unknown> = {},
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- without a mapping: an object with no keys (`keyof {}` is never)
  const TOut extends Record<string, unknown> = {},
  TFail extends boolean = false,
>(child: W, options?: SubWorkflowOptions<TIn, TOut, TFail> & NoInfer<SubWorkflowChecks<W, TIn, TOut>>): NodeSpec<SubWorkflowInput<W, TIn>, SubWorkflowOutput<W, TOut, TFail>> {
  const workflowId = typeof child === 'string' ? child : child.id;
  const { inputMapping, outputMapping, continueOnFail } = (options ?? {}) as SubWorkflowOptions<Record<string, string>, Record<string, string>>;
  return subWorkflowKind({
    workflowId,
    ...(inputMapping !== undefined && { inputMapping: { ...inputMapping } }),
    ...(outputMapping !== undefined && { outputMapping: { ...outputMapping } }),
    ...(continueOnFail !== undefined && { continueOnFail }),
  }) as NodeSpec<SubWorkflowInput<W, TIn>, SubWorkflowOutput<W, TOut, TFail>>;
}
