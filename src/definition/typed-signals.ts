/**
 * The signal names and payload types of a typed workflow, read from its node outputs: the DSL's
 * `waitForSignal(name, { schema })` types its node's output as the payload with a compile-time
 * mark ({@link SignalMark}) naming the signal, so `engine.signal(flow, executionId, name, payload)`
 * can restrict `name` and type `payload` without importing the DSL.
 *
 * @module
 */
import type { WorkflowOutputs } from './typed-workflow.js';

/**
 * The compile-time mark on a signal node's output type: an optional property no value has at run
 * time, so the output stays assignable to the payload type wherever children expect it.
 *
 * @typeParam N - the signal's name
 * @typeParam T - the payload type a sender gives (the schema's input)
 */
export interface SignalMark<N extends string, T> {
  /** Compile-time only; never set at run time. */
  readonly '~signal'?: { readonly name: N; readonly payload: T };
}

/**
 * A signal node's output type: the payload as the node's children get it (`TOut`, the schema's
 * output), marked with the signal's name and what a sender gives (`TIn`, the schema's input).
 *
 * @example
 * ```ts
 * type Out = Signalled<'approval', { approved: boolean }>; // { approved: boolean } & SignalMark<'approval', { approved: boolean }>
 * ```
 */
export type Signalled<N extends string, TOut, TIn = TOut> = TOut & SignalMark<N, TIn>;

/** The mark of an output type, or never for outputs of other nodes. */
type MarkOf<O> = O extends unknown ? ('~signal' extends keyof O ? (O extends { readonly '~signal'?: infer M } ? Exclude<M, undefined> : never) : never) : never;

/** name → payload of every signal node of `W`. */
type SignalMap<W> = { [K in keyof WorkflowOutputs<W>]: MarkOf<WorkflowOutputs<W>[K]> }[keyof WorkflowOutputs<W>];

/**
 * The signal names of a typed workflow (`string` when it is untyped).
 *
 * @example
 * ```ts
 * const approvalFlow = workflow('expense').then('approval', waitForSignal('approval', { schema: z.object({ approved: z.boolean() }) })).build();
 * type Names = WorkflowSignalName<typeof approvalFlow>; // 'approval'
 * ```
 */
export type WorkflowSignalName<W> = IsUntyped<W> extends true ? string : NameOf<SignalMap<W>>;

/** The names in a union of marks (never for none). */
type NameOf<M> = M extends { readonly name: infer N extends string } ? N : never;

/** True when `W`'s node ids are not known (a JSON definition, an id). */
type IsUntyped<W> = string extends keyof WorkflowOutputs<W> ? true : false;

/**
 * The payload type of signal `N` of a typed workflow (`unknown` when untyped).
 *
 * @example
 * ```ts
 * const approvalFlow = workflow('expense').then('approval', waitForSignal('approval', { schema: z.object({ approved: z.boolean() }) })).build();
 * type P = WorkflowSignalPayload<typeof approvalFlow, 'approval'>; // { approved: boolean }
 * ```
 */
export type WorkflowSignalPayload<W, N extends string> = IsUntyped<W> extends true ? unknown : Extract<SignalMap<W>, { name: N }> extends { payload: infer P } ? P : never;
