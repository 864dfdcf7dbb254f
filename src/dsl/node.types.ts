/**
 * Types of node kinds and node specs. Everything precise lives in the phantom `'~types'` slot;
 * the runtime objects are loosely typed (see {@link KindRuntime}).
 *
 * @module
 */
import type { z } from 'zod';
import type { BuiltinNodeKind } from '../definition/node-kinds.js';
import type { CircuitBreakerConfig, ExecutionContext, INodeExecutor, RetryPolicy } from '../definition/types.js';

/**
 * `unknown` when `T` is `any`, else `T`: what a kind's code returns as `any` (e.g. `JSON.parse`)
 * becomes an output nobody may assume anything about, instead of one every child accepts.
 *
 * @example
 * ```ts
 * type A = NoAny<any>; // unknown
 * type B = NoAny<{ id: number }>; // { id: number }
 * ```
 */
export type NoAny<T> = 0 extends 1 & T ? unknown : T;

/**
 * The execution context the DSL hands to a kind's code (`run`, `transform`, `router`): the
 * runtime's {@link ExecutionContext} with `inputData` typed as what the node's parents give it
 * (`unknown` when nothing is known) and a config of `unknown` values, so no `any` reaches user
 * code. `inputData` is the input before the input schema parsed it; use `input` for the parsed one.
 *
 * @typeParam TInput - what the node's parents give it
 *
 * @example
 * ```ts
 * const log = transform('log', (u: { id: number }, context: NodeContext<{ id: number }>) => `${context.nodeId}: ${context.inputData.id}`);
 * ```
 */
export type NodeContext<TInput = unknown> = ExecutionContext<
  TInput,
  { readonly retryPolicy?: RetryPolicy; readonly circuitBreaker?: CircuitBreakerConfig; readonly [key: string]: unknown }
>;

/**
 * A value or a promise of it.
 *
 * @example
 * ```ts
 * const run = (n: number): MaybePromise<number> => (n > 0 ? n : Promise.resolve(0));
 * ```
 */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Any zod 4 classic schema: the constraint of every schema type parameter of the DSL, and the
 * type of {@link KindRuntime.schemas}. Written as zod's small core interface plus the two
 * methods the worker calls, not as `z.ZodType`: checking a schema against `z.ZodType` compares
 * every method of zod's class (about 80,000 type instantiations for the first schema a program
 * passes to `defineNode`, see docs/dsl.md), against this a few hundred. The methods return
 * `unknown` for the same reason (relating zod's result types costs more than the rest); they
 * return a `z.ZodSafeParseResult`. zod/mini schemas lack them and are refused, as before.
 */
export interface AnySchema extends z.core.$ZodType {
  /** Parses synchronously; returns a `z.ZodSafeParseResult` of the output. */
  safeParse(data: unknown): unknown;
  /** Parses, awaiting async refinements and transforms; resolves to a `z.ZodSafeParseResult` of the output. */
  safeParseAsync(data: unknown): Promise<unknown>;
}

/** What a schema accepts (`z.input`), or `TFallback` when there is no schema. */
export type SchemaInput<TSchema, TFallback = unknown> = TSchema extends AnySchema ? z.input<TSchema> : TFallback;

/** What a schema produces (`z.output`), or `TFallback` when there is no schema. */
export type SchemaOutput<TSchema, TFallback = unknown> = TSchema extends AnySchema ? z.output<TSchema> : TFallback;

/**
 * The data a parent whose node failed under `continueOnFail` hands its children instead of its
 * output (the runtime's `{ error }`).
 *
 * @example
 * ```ts
 * // A child of a continueOnFail node receives its output or { error }:
 * const report = transform('report', (r: { sent: boolean } | NodeFailure) => ('error' in r ? `failed: ${r.error}` : 'sent'));
 * ```
 */
export interface NodeFailure {
  /** Why the parent failed. */
  error: string;
}

/**
 * Marks a node (such as `delay`) whose output is exactly its input.
 *
 * @example
 * ```ts
 * delay(1000); // NodeSpec<unknown, SameAsInput>: its children get what it got
 * ```
 */
export interface SameAsInput {
  readonly '~sameAsInput': true;
}

/**
 * Per-node runtime behaviour, compiled into `node.config.retryPolicy` / `node.config.circuitBreaker`.
 *
 * @typeParam TFail - the literal type of `continueOnFail`, so the builder can widen the node's output
 *
 * @example
 * ```ts
 * const options: NodeOptions = { retryPolicy: { maxAttempts: 3, backoff: { type: 'exponential', delay: 500 } }, circuitBreaker: { failureThreshold: 5 } };
 * workflow('w', { input: User }).then('fetch', fetchUser({ baseUrl }), options);
 * ```
 */
export interface NodeOptions<TFail extends boolean = boolean> {
  /** Display name (`node.name`). */
  name?: string;
  /** Attempts and backoff; see {@link RetryPolicy}. `continueOnFail` is its own option here. */
  retryPolicy?: Omit<RetryPolicy, 'continueOnFail'>;
  /**
   * After the last failed attempt, record the failure and run the children anyway. Children then
   * receive {@link NodeFailure} from this node, so their input type must accept it.
   * @defaultValue false
   */
  continueOnFail?: TFail;
  /** Circuit breaker for a node that calls an external system. */
  circuitBreaker?: CircuitBreakerConfig;
  /**
   * Let this node run eagerly, in the job of the parent that made it ready, or `false` to keep
   * it in a job of its own (`node.eager`; see the engine option `eagerChains`). Wins over the
   * workflow's `eager`.
   * @defaultValue the workflow's `eager`
   */
  eager?: boolean;
}

/** `TOut`, widened by {@link NodeFailure} when `continueOnFail` may be true. */
export type WithFailure<TOut, TFail> = true extends TFail ? TOut | NodeFailure : TOut;

/**
 * The output after options that may set `continueOnFail`: `TOut` when they leave it alone (`TFail`
 * is `never`), else `TBase` (the output without the failure) widened by the value they set, so
 * the last word wins, as it does in the built config.
 */
export type FailureAfter<TOut, TBase, TFail> = [TFail] extends [never] ? TOut : WithFailure<TBase, TFail>;

/** The compile-time facts of a node: what it accepts, what it hands its children, where a router may go. */
export interface NodeTypes<TIn, TOut, TTargets extends string, TBase = TOut> {
  /** What the node's parents must give it. */
  input: TIn;
  /** What it gives its children. */
  output: TOut;
  /** For a router, the names of the branches it may choose; `never` otherwise. */
  targets: TTargets;
  /** What it gives its children when `continueOnFail` is set to false again (its output without {@link NodeFailure}). */
  base: TBase;
}

/**
 * What a node kind is at run time: its type string, schemas and executor. Loosely typed on purpose.
 *
 * @example
 * ```ts
 * const kind: KindRuntime = fetchUser({ baseUrl }).kind;
 * console.log(kind.type, kind.role, Object.keys(kind.schemas));
 * ```
 */
export interface KindRuntime {
  /** The node `type` in the definition; the registry key of its executor. */
  readonly type: string;
  /** How the builder treats it: a built-in kind's role is its type. */
  readonly role: 'node' | 'router' | BuiltinNodeKind;
  /** The zod schemas given to {@link defineNode}. */
  readonly schemas: { readonly config?: AnySchema; readonly input?: AnySchema; readonly output?: AnySchema };
  /** One-line description, shown in generated docs. */
  readonly description?: string;
  /** Runs nodes of this kind: parses config, input and output around the kind's code. Absent for built-ins and run-less kinds. */
  readonly executor?: INodeExecutor;
  /** The user code behind the executor; two kinds with one type string must share it. */
  readonly impl?: unknown;
  /** Rate limit of the kind's node type, registered with its executor. */
  readonly rateLimit?: { readonly max: number; readonly duration: number };
}

/**
 * One node ready to be placed in a workflow: a kind plus its config and options. Immutable;
 * {@link NodeSpec.with} returns a new spec.
 *
 * @typeParam TIn - what its parents must give it
 * @typeParam TOut - what it gives its children
 * @typeParam TTargets - for a router, the branch names it may choose
 * @typeParam TBase - its output without {@link NodeFailure}, for a later `continueOnFail: false`
 *   (the same as `TOut` until `.with({ continueOnFail: true })`)
 *
 * @example
 * ```ts
 * const spec = sendEmail({ template: 'welcome' }); // NodeSpec<{ email: string }, { sent: boolean }>
 * const tolerant = spec.with({ continueOnFail: true }); // NodeSpec<{ email: string }, { sent: boolean } | NodeFailure, never, { sent: boolean }>
 * const strict = tolerant.with({ continueOnFail: false }); // NodeSpec<{ email: string }, { sent: boolean }>
 * ```
 */
export interface NodeSpec<TIn = unknown, TOut = unknown, TTargets extends string = never, TBase = TOut> {
  /** The kind this node is an instance of. */
  readonly kind: KindRuntime;
  /** The config as written (checked against the kind's config schema by `build()`). */
  readonly config: unknown;
  /** Retry, continueOnFail, circuit breaker and name. */
  readonly options: NodeOptions;
  /**
   * The same node with more options (merged over the current ones).
   *
   * @example
   * ```ts
   * workflow('w', { input: User })
   *   .then('fetch', fetchUser({ baseUrl }))
   *   .then('notify', sendEmail({ template: 'welcome' }).with({ retryPolicy: { maxAttempts: 3 }, continueOnFail: true }));
   * ```
   */
  with<TFail extends boolean = never>(options: NodeOptions<TFail>): NodeSpec<TIn, FailureAfter<TOut, TBase, TFail>, TTargets, TBase>;
  /** Compile-time only; never set at run time. */
  readonly '~types'?: NodeTypes<TIn, TOut, TTargets, TBase>;
}

/**
 * Any node spec.
 *
 * @example
 * ```ts
 * function logged<T extends AnyNodeSpec>(spec: T): T {
 *   console.log('placing', spec.kind.type);
 *   return spec;
 * }
 * ```
 */
export type AnyNodeSpec = NodeSpec<unknown, unknown, string, unknown>;

/**
 * A router spec: a node that chooses which of its branches run and passes its input on to them.
 *
 * @example
 * ```ts
 * const byPlan: RouterSpec<{ plan: 'free' | 'pro' }, 'free' | 'pro'> = router('by-plan', (u: { plan: 'free' | 'pro' }) => u.plan);
 * ```
 */
export type RouterSpec<TIn = unknown, TTargets extends string = string, TOut = SameAsInput> = NodeSpec<TIn, TOut, TTargets>;

/** The compile-time facts of a spec. */
export type TypesOf<TSpec> = NonNullable<TSpec extends { readonly '~types'?: infer T } ? T : never>;

/** What a spec needs from its parents. */
export type InputOf<TSpec> = TypesOf<TSpec> extends NodeTypes<infer I, unknown, string, unknown> ? I : never;

/** The branch names a router spec may choose (`never` for other nodes). */
export type TargetsOf<TSpec> = TypesOf<TSpec> extends NodeTypes<unknown, unknown, infer T, unknown> ? T : never;

/**
 * What a spec hands its children, given what it received: its declared output, or (for
 * pass-through nodes such as `delay`) `TGiven`.
 */
export type OutputOf<TSpec, TGiven> = ResolveSame<TypesOf<TSpec> extends NodeTypes<unknown, infer O, string, unknown> ? O : never, TGiven>;

/**
 * What a spec placed with options `continueOnFail?: TFail` hands its children: {@link OutputOf}
 * when the placement leaves `continueOnFail` alone (`TFail` is `never`), else the spec's output
 * without {@link NodeFailure}, widened by it when `TFail` may be true.
 */
export type PlacedOutputOf<TSpec, TGiven, TFail> = [TFail] extends [never]
  ? OutputOf<TSpec, TGiven>
  : WithFailure<ResolveSame<TypesOf<TSpec> extends NodeTypes<unknown, unknown, string, infer B> ? B : never, TGiven>, TFail>;
type ResolveSame<TOut, TGiven> = TOut extends SameAsInput ? TGiven : TOut;

/** Arguments of a kind call: none without a config schema, optional when every field is optional. */
export type ConfigArgs<TConfigIn> = [TConfigIn] extends [undefined] ? [] : undefined extends TConfigIn ? [config?: TConfigIn] : [config: TConfigIn];

/**
 * What a kind's `run` receives.
 *
 * @example
 * ```ts
 * const run = ({ input, config, context }: RunArgs<{ n: number }, { factor: number }>) => input.n * config.factor + context.attempt;
 * ```
 *
 * @typeParam TInput - the input as parsed by the input schema
 * @typeParam TConfig - the config as parsed by the config schema
 * @typeParam TRawInput - the input before parsing (`context.inputData`)
 */
export interface RunArgs<TInput, TConfig, TRawInput = unknown> {
  /** The node's input, parsed by the input schema (unparsed when there is none). */
  input: TInput;
  /** The node's config, parsed by the config schema; `undefined` for a kind without one. */
  config: TConfig;
  /** The execution context: ids, attempt, previous results, abort signal, and the unparsed input. */
  context: NodeContext<TRawInput>;
}

/**
 * A node kind made by {@link defineNode}: call it with a config to get a node spec.
 *
 * @typeParam TType - the node `type` string
 * @typeParam TConfigIn - the config it is called with (`undefined` when it takes none)
 * @typeParam TIn - what its parents must give
 * @typeParam TOut - what it gives its children
 *
 * @example
 * ```ts
 * const sendEmail: NodeKind<'send-email', { template: string }, { email: string }, { sent: boolean }> = defineNode({
 *   type: 'send-email',
 *   config: z.object({ template: z.string() }),
 *   input: z.object({ email: z.string() }),
 *   output: z.object({ sent: z.boolean() }),
 *   run: async ({ input, config }) => ({ sent: await mailer.send(input.email, config.template) }),
 * });
 * sendEmail({ template: 'welcome' }); // a NodeSpec<{ email: string }, { sent: boolean }>
 * ```
 */
export interface NodeKind<TType extends string = string, TConfigIn = unknown, TIn = unknown, TOut = unknown> extends KindRuntime {
  /** A node of this kind with `config` (checked against the config schema at compile time and by `build()`). */
  (...config: ConfigArgs<TConfigIn>): NodeSpec<TIn, TOut>;
  readonly type: TType;
}

/**
 * Any node kind.
 *
 * @example
 * ```ts
 * const kinds: AnyNodeKind[] = [fetchUser, sendEmail];
 * registerNodeKinds(registry, kinds);
 * ```
 */
export interface AnyNodeKind extends KindRuntime {
  /** Calling it makes a node spec (every kind's config is accepted by `never[]`, and no `any` is needed). */
  (...config: never[]): AnyNodeSpec;
}

/**
 * The argument of {@link defineNode}.
 *
 * @typeParam TType - the node `type` string
 * @typeParam TConfig - zod schema of the config, or undefined
 * @typeParam TInput - zod schema of the input, or undefined
 * @typeParam TOutput - zod schema of the output, or undefined
 * @typeParam TReturn - what `run` returns when there is no output schema
 *
 * @example
 * ```ts
 * const definition = {
 *   type: 'greet',
 *   input: z.object({ name: z.string() }),
 *   run: ({ input }) => `Hello, ${input.name}`,
 * } satisfies NodeKindDefinition<'greet', undefined, z.ZodObject<{ name: z.ZodString }>, undefined, string>;
 * ```
 */
export interface NodeKindDefinition<TType extends string, TConfig, TInput, TOutput, TReturn> {
  /** The node `type`: the registry key of the executor. Unique per distinct `run`. */
  type: TType;
  /** One line for generated docs. */
  description?: string;
  /** Schema of the config a node of this kind is given. */
  config?: TConfig;
  /** Schema of the input; parsed in the worker before `run`. */
  input?: TInput;
  /** Schema of the output; what `run` returns is parsed with it in the worker. */
  output?: TOutput;
  /**
   * Rate limit of this kind, shared by every worker on the same Redis: a number is runs per
   * second, or `{ max, duration }` (runs per `duration` ms). Nodes over the limit wait; they do
   * not fail. Registered with the executor by `engine.registerWorkflow`.
   */
  rateLimit?: number | { max: number; duration: number };
  /**
   * The node's code. Without it the kind only types the node: register an executor for `type`
   * yourself.
   */
  run?: (args: RunArgs<SchemaOutput<TInput>, SchemaOutput<TConfig, undefined>, SchemaInput<TInput>>) => TOutput extends AnySchema ? MaybePromise<z.input<TOutput>> : TReturn;
}
