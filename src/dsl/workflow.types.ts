/**
 * Type machinery of the workflow builder: the state it threads through every call, the checks
 * behind each compile-time rule, and the messages they produce.
 *
 * Type-check cost per call is kept flat (measured in bench/typecheck, see docs/dsl.md):
 * - the builder has one type parameter, a {@link State}; node outputs accumulate in one
 *   intersection (`out`), ids in one union, and nothing recurses over the list of nodes;
 * - every state holds finished types, never deferred lookups into the previous state (those
 *   chain and hit TypeScript's instantiation depth limit near 100 calls);
 * - no conditional type or mapped type that outlives a call mentions the state itself, or
 *   TypeScript re-walks every node's output type on every later call.
 * Only the error branches (taken when a program is wrong) do small recursive work to print ids.
 *
 * @module
 */
import type { AnyNodeSpec, InputOf, NodeFailure, OutputOf, TargetsOf } from './node.types.js';

/**
 * A compile error that reads as a sentence. Builder parameters turn into this type when a rule
 * is broken, so the editor shows e.g.
 * `Argument of type 'string' is not assignable to parameter of type 'CompileError<"Node id 'fetch' is already used in workflow 'onboarding'", unknown>'`.
 *
 * @typeParam TMessage - what is wrong, in words
 * @typeParam TDetails - types that help, such as `{ expected; received }`
 *
 * @example
 * ```ts
 * workflow('w', { input: User })
 *   .then('fetch', fetchUser({ baseUrl }))
 *   // @ts-expect-error duplicate id -- expects: Node id 'fetch' is already used in workflow 'w'
 *   .then('fetch', sendEmail({ template: 'welcome' }));
 * ```
 */
export interface CompileError<TMessage extends string, TDetails = unknown> {
  readonly '~compileError': TMessage;
  readonly '~details': TDetails;
}

/**
 * Everything the builder knows about a workflow at compile time, in one object type.
 *
 * Code that is generic over a state (`function f<S extends BuilderState>(b: WorkflowBuilder<S>)`)
 * cannot call the builder's methods: their checks depend on `S` and stay unresolved inside the
 * function, so TypeScript refuses every id and spec there. Write a reusable chain of steps as a
 * {@link fragment} (checked against its own input) and place it with `.use()`, or share single
 * node specs and place them in each workflow, where they are checked.
 *
 * @example
 * ```ts
 * // Steps shared by several workflows: a fragment, placed with .use().
 * const welcomeSteps = fragment('welcome-steps', { input: z.object({ email: z.string() }) }).then('welcome', sendEmail({ template: 'welcome' }));
 * workflow('invite', { input: z.object({ email: z.string() }) }).use(welcomeSteps);
 * // A single step shared by several workflows: a function returning the spec, placed by each workflow.
 * const welcome = () => sendEmail({ template: 'welcome' }).with({ retryPolicy: { maxAttempts: 3 } });
 * workflow('signup', { input: User }).then('fetch', fetchUser({ baseUrl })).then('welcome', welcome());
 * // Reading the state of a builder:
 * type LastOutput<B> = B extends WorkflowBuilder<infer S> ? S['lastOutput'] : never;
 * ```
 */
export interface BuilderState {
  /** The workflow id, for messages. */
  readonly workflow: string;
  /** What executions are started with. */
  readonly input: unknown;
  /** Node id → what that node hands its children (an intersection of one-key objects, one per node). */
  readonly out: unknown;
  /** Every declared node id. */
  readonly ids: string;
  /** The node(s) `.then()` continues from. */
  readonly last: string;
  /**
   * What a node added with `.then()` receives: the workflow input, the last node's output, or
   * the join object of the last group. Kept here so `.then()` looks nothing up in `out`.
   */
  readonly lastOutput: unknown;
  /** Nodes that may be skipped (below a branch); joins see them as optional keys. */
  readonly skip: string;
  /** Router nodes, whose successors are fixed by `.branch()`. */
  readonly routers: string;
}

/**
 * A concrete builder state. An interface reference, not an object literal type: TypeScript
 * evaluates the type arguments of a reference written in a method signature when it creates
 * it, so each state holds finished types and no deferred lookups into the previous state
 * (chained over a hundred calls, those exceed the instantiation depth limit). Eight type
 * parameters, but internal: users only see `WorkflowBuilder<TState>`.
 */
export interface State<
  TWorkflow extends string,
  TInput,
  TOut,
  TIds extends string,
  TLast extends string,
  TLastOutput,
  TSkip extends string,
  TRouters extends string,
> extends BuilderState {
  readonly workflow: TWorkflow;
  readonly input: TInput;
  readonly out: TOut;
  readonly ids: TIds;
  readonly last: TLast;
  readonly lastOutput: TLastOutput;
  readonly skip: TSkip;
  readonly routers: TRouters;
}

/**
 * The state of a builder without nodes: the entry node receives the workflow input.
 *
 * @example
 * ```ts
 * const start: WorkflowBuilder<EmptyState<'w', { userId: number }>> = workflow('w', { input: User });
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- `{}` is the neutral element of the `out` intersection
export type EmptyState<TWorkflow extends string, TInput> = State<TWorkflow, TInput, {}, never, never, TInput, never, never>;

// ---------------------------------------------------------------- small helpers

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type IsUnion<T> = [T] extends [UnionToIntersection<T>] ? false : true;

/*
 * Tests on parts of the state go through these helpers rather than inline `[X] extends [never]`:
 * a tuple written inline would mention the state `S`, and TypeScript's permissive and
 * restrictive instantiations of a conditional's check type would then walk every node's output
 * type on every call. Here the tuple only sees the small, already evaluated union.
 */
type IsNever<T> = [T] extends [never] ? true : false;
type AllIn<A, B> = [A] extends [B] ? true : false;
type LastOf<U> = UnionToIntersection<U extends unknown ? () => U : never> extends () => infer L ? L : never;

/** `'a' | 'b'` → `"a', 'b"` (wrap in quotes at the use site). Only used in error branches. */
export type List<U, TAcc extends string = ''> = [U] extends [never]
  ? TAcc
  : List<Exclude<U, LastOf<U>>, TAcc extends '' ? `${LastOf<U> & string}` : `${LastOf<U> & string}', '${TAcc}`>;

/** Flattens an intersection into one object type, for readable hovers. */
export type Flatten<T> = { [K in keyof T]: T[K] } & {};

type Get<T, K> = K extends keyof T ? T[K] : never;

/** What node `K` hands its children (a lookup in `out`: only `after: [...]` needs one, `.then()` reads `lastOutput`). */
export type OutputOfNode<S extends BuilderState, K> = Get<S['out'], K>;

/** `true` when `T` is `true`, so a check result can be tested with `[X] extends [true]`. */
type Ok = true;

/** `T` when the check passed, else the check's {@link CompileError}. */
export type Checked<TProblem, T> = [TProblem] extends [Ok] ? T : TProblem;

// ---------------------------------------------------------------- what a node receives

/**
 * What a node with parents `P` receives: the workflow input for the entry node, a single
 * parent's output, or `{ [parentId]: output }` for several (parents that may be skipped are
 * optional keys).
 */
export type GivenInput<S extends BuilderState, P extends string> = [P] extends [never] ? S['input'] : IsUnion<P> extends true ? JoinInput<S, P> : OutputOfNode<S, P>;

/**
 * What a join receives: an object keyed by parent id. Built from the parents' entries alone (a
 * mapped type over `S` would capture the whole state and make later calls walk it).
 */
export type JoinInput<S extends BuilderState, P extends string> = Flatten<
  UnionToIntersection<JoinEntry<S, Exclude<P, S['skip']>, false> | JoinEntry<S, Extract<P, S['skip']>, true>>
>;
type JoinEntry<S extends BuilderState, K extends string, TOptional extends boolean> = K extends string
  ? TOptional extends true
    ? OptionalEntry<K, OutputOfNode<S, K>>
    : Entry<K, OutputOfNode<S, K>>
  : never;

/** Whether a node with parents `P` may be skipped: it has parents and all of them may be. */
export type Skippable<S extends BuilderState, P extends string> = IsNever<P> extends true ? false : AllIn<P, S['skip']>;

/** The parents named by `after`, or none. */
export type AfterIds<TAfter> = TAfter extends readonly string[] ? TAfter[number] : never;

// ---------------------------------------------------------------- checks

/**
 * Rules: a node id is a string literal (an id typed `string` could be any id, so it cannot be
 * checked for duplicates, and would make every later id look taken), and it is unique within the
 * workflow. After a refused non-literal id the state's ids are `string`; later ids are then not
 * reported as duplicates, so the one error stays at the call that caused it.
 */
export type IdCheck<S extends BuilderState, TId extends string> = string extends TId
  ? CompileError<`Node ids must be string literals: an id typed 'string' cannot be checked for duplicates; write it inline or declare it with 'as const'`>
  : TId extends S['ids']
    ? string extends S['ids']
      ? TId
      : CompileError<`Node id '${TId}' is already used in workflow '${S['workflow']}'`>
    : TId;

/** Rules about where a node goes: it has parents (unless first), they exist, and none is a router. */
type PlacementProblem<S extends BuilderState, TId extends string, P extends string> = [P] extends [never]
  ? IsNever<S['ids']> extends true
    ? Ok
    : CompileError<`Node '${TId}' has no parents: only the first node of workflow '${S['workflow']}' may have none. Pass { after: [...] } or use .then()`>
  : IsNever<Exclude<P, S['ids']>> extends true
    ? IsNever<Extract<P, S['routers']>> extends true
      ? Ok
      : CompileError<`Node '${TId}' cannot come after router '${List<Extract<P, S['routers']>>}': a router's successors are the branches given to .branch()`>
    : CompileError<`Node '${TId}' comes after '${List<Exclude<P, S['ids']>>}', which is not a node of workflow '${S['workflow']}' yet. Declare a node before using it in 'after'`>;

/** Counts down the depth of {@link MismatchedFields}. */
type Down = [never, 0, 1, 2, 3];

/**
 * Dotted paths of the fields of `E` that `G` lacks or gives with another type (only for two
 * object types), as deep as the mismatch goes (up to four levels): `'order.total'`, not `'order'`.
 */
type MismatchedFields<G, E, D extends number = 3> = G extends object
  ? E extends object
    ? {
        [K in keyof E & string]-?: K extends keyof G
          ? [G[K]] extends [E[K]]
            ? never
            : [D] extends [never]
              ? K
              : DeeperMismatch<G[K], E[K], K, Down[D]>
          : undefined extends E[K]
            ? never
            : K;
      }[keyof E & string]
    : never
  : never;
type DeeperMismatch<G, E, K extends string, D extends number> = [G] extends [readonly unknown[]]
  ? K
  : [E] extends [readonly unknown[]]
    ? K
    : MismatchedFields<G, E, D> extends infer M extends string
      ? [M] extends [never]
        ? K
        : `${K}.${M}`
      : K;

type InputHint<G, E> = unknown extends G
  ? `: what it receives is typed unknown; give the workflow an input schema (workflow(id, { input })) or the parent an output schema`
  : [Exclude<G, NodeFailure>] extends [E]
    ? `: a parent with continueOnFail passes { error: string } when it fails; the input schema must accept that too`
    : [MismatchedFields<G, E>] extends [never]
      ? `: its input schema does not accept that type`
      : `: field(s) '${List<MismatchedFields<G, E>>}' are missing or have the wrong type`;

type InputSource<S extends BuilderState, P extends string> = [P] extends [never]
  ? `the input of workflow '${S['workflow']}'`
  : IsUnion<P> extends true
    ? `the outputs of '${List<P>}' (a node with several parents receives { [parentId]: output })`
    : `the output of '${P}'`;

/** Rule: a node's input schema accepts what its parents give. */
export type InputProblem<S extends BuilderState, TId extends string, TIn, P extends string, G> = [G] extends [TIn]
  ? Ok
  : CompileError<`Node '${TId}' cannot take ${InputSource<S, P>}${InputHint<G, TIn>}`, { expected: TIn; received: G }>;

/**
 * Every rule for a node placed with `.node()` / `.then()`: it is a spec (a kind called with its
 * config, not the kind itself), its placement is valid, it is not a router, and it accepts `G`.
 */
export type NodeProblem<S extends BuilderState, TId extends string, TSpec, P extends string, G> = TSpec extends AnyNodeSpec
  ? PlacementProblem<S, TId, P> extends infer Placement
    ? [Placement] extends [Ok]
      ? [TargetsOf<TSpec>] extends [never]
        ? InputProblem<S, TId, InputOf<TSpec>, P, G>
        : CompileError<`Node '${TId}' is a router: add it with .branch('${TId}', router, { ...branches })`>
      : Placement
    : never
  : CompileError<`Node '${TId}' was given a node kind, not a node: call the kind with its config first, e.g. kind({ ... })`>;

/**
 * Rule: a workflow has at least one node. `build()` takes this as its `this` type, so calling it on
 * an empty builder is refused where it is called.
 */
export type BuildCheck<S extends BuilderState> =
  IsNever<S['ids']> extends true ? CompileError<`Workflow '${S['workflow']}' has no nodes: add one with .then() or .node() before .build()`> : unknown;

/** Rules for a `.parallel()` group: at least one parent, unique ids, inputs accepted. */
export type ParallelProblems<S extends BuilderState, TBranches, P extends string, G> = string extends keyof TBranches
  ? CompileError<`.parallel() in workflow '${S['workflow']}' needs literal node ids: an object typed Record<string, ...> cannot be checked`>
  : IsNever<keyof TBranches> extends true
    ? CompileError<`.parallel() in workflow '${S['workflow']}' needs at least one node`>
    : ParallelMemberProblems<S, TBranches, P, G>;
type ParallelMemberProblems<S extends BuilderState, TBranches, P extends string, G> = {
  [K in keyof TBranches]: K extends string
    ? K extends S['ids']
      ? CompileError<`Node id '${K}' is already used in workflow '${S['workflow']}'`>
      : IsNever<P | S['ids']> extends true
        ? CompileError<`.parallel() cannot start workflow '${S['workflow']}': a workflow has one entry node; add it first`>
        : NodeProblem<S, K, TBranches[K], P, G> extends infer R
          ? [R] extends [Ok]
            ? unknown
            : R
          : never
    : CompileError<'Branch names must be strings'>;
};

/** Rules for the router of a `.branch()`: it is a router, it names only its branches, it accepts its input. */
export type RouterProblem<S extends BuilderState, TId extends string, TRouter, TBranches, P extends string, G> =
  PlacementProblem<S, TId, P> extends infer Placement
    ? [Placement] extends [Ok]
      ? TRouter extends AnyNodeSpec
        ? [TargetsOf<TRouter>] extends [never]
          ? CompileError<`Node '${TId}' is not a router: .branch() needs a node made by router(...)`>
          : string extends TargetsOf<TRouter>
            ? CompileError<`Router '${TId}' returns a plain string: return literal branch names (e.g. 'a' | 'b') so they can be checked against its branches`>
            : [Exclude<TargetsOf<TRouter>, keyof TBranches>] extends [never]
              ? InputProblem<S, TId, InputOf<TRouter>, P, G>
              : IsNever<keyof TBranches> extends true
                ? InputProblem<S, TId, InputOf<TRouter>, P, G>
                : CompileError<`Router '${TId}' may choose '${List<Exclude<TargetsOf<TRouter>, keyof TBranches>>}', which is not one of its branches ('${List<keyof TBranches>}')`>
        : CompileError<`Node '${TId}' was given a node kind, not a node: call the kind with its config first, e.g. kind({ ... })`>
      : Placement
    : never;

/** Rules for the branches of a `.branch()`: unique ids, no nested router, each accepts the router's output. */
export type BranchProblems<S extends BuilderState, TId extends string, TRouterOut, TBranches> = string extends keyof TBranches
  ? CompileError<`.branch('${TId}') in workflow '${S['workflow']}' needs literal branch names: an object typed Record<string, ...> cannot be checked`>
  : IsNever<keyof TBranches> extends true
    ? CompileError<`.branch('${TId}') in workflow '${S['workflow']}' needs at least one branch`>
    : BranchMemberProblems<S, TId, TRouterOut, TBranches>;
type BranchMemberProblems<S extends BuilderState, TId extends string, TRouterOut, TBranches> = {
  [K in keyof TBranches]: K extends string
    ? K extends S['ids'] | TId
      ? CompileError<`Node id '${K}' is already used in workflow '${S['workflow']}'`>
      : TBranches[K] extends AnyNodeSpec
        ? [TargetsOf<TBranches[K]>] extends [never]
          ? [TRouterOut] extends [InputOf<TBranches[K]>]
            ? unknown
            : CompileError<
                `Branch '${K}' cannot take the output of router '${TId}' (a router passes its input on)${InputHint<TRouterOut, InputOf<TBranches[K]>>}`,
                { expected: InputOf<TBranches[K]>; received: TRouterOut }
              >
          : CompileError<`Branch '${K}' is a router: add it with its own .branch() after this one`>
        : CompileError<`Node '${K}' was given a node kind, not a node: call the kind with its config first, e.g. kind({ ... })`>
    : CompileError<'Branch names must be strings'>;
};

// ---------------------------------------------------------------- state updates
//
// The builder's methods spell out `State<...>` in their return types with the helpers below. A
// type alias whose body is a generic reference would create a deferred reference (arguments
// evaluated on first use) and chain each state to the previous one again; and a mapped type
// must mention only finished types, never the state, or later calls walk it.

/**
 * One node's entry in `out`. A separate alias so that the mapped type refers to nothing but the
 * id and the finished output type.
 */
export type Entry<TId extends string, TOut> = { [K in TId]: TOut };

/** An optional entry, for a join's parent that may be skipped. */
type OptionalEntry<TId extends string, TOut> = { [K in TId]?: TOut };

/** The skippable ids after adding `TNew` with parents `P`. */
export type NextSkip<S extends BuilderState, P extends string, TNew extends string> = Skippable<S, P> extends true ? S['skip'] | TNew : S['skip'];

/** Outputs of a `.parallel()` group whose members receive `G`. */
export type ParallelOutputs<TBranches, G> = { [K in keyof TBranches & string]: OutputOf<TBranches[K], G> };

/** What a `.then()` after a group receives: the one member's output, or an object keyed by member. */
export type GroupOutput<TOutputs, TOptional extends boolean> =
  IsUnion<keyof TOutputs> extends true ? (TOptional extends true ? { [K in keyof TOutputs]?: TOutputs[K] } : TOutputs) : TOutputs[keyof TOutputs];

// ---------------------------------------------------------------- fragments

/**
 * Rules for placing a fragment with `.use()`: it has nodes, none of its ids is used in the
 * workflow yet, and its input accepts what a `.then()` would receive here (`G`, from parents
 * `P`). Takes the fragment's finished parts, not its state, like the other checks.
 */
export type UseProblem<S extends BuilderState, TFragment extends string, TIds extends string, TIn, P extends string, G> =
  IsNever<TIds> extends true
    ? CompileError<`Fragment '${TFragment}' has no nodes: add one with .then() or .node() before placing it with .use()`>
    : UseIdsProblem<S, TFragment, string extends S['ids'] ? never : string extends TIds ? never : Extract<TIds, S['ids']>> extends infer R
      ? [R] extends [Ok]
        ? [G] extends [TIn]
          ? Ok
          : CompileError<`Fragment '${TFragment}' cannot take ${InputSource<S, P>}${InputHint<G, TIn>}`, { expected: TIn; received: G }>
        : R
      : never;
type UseIdsProblem<S extends BuilderState, TFragment extends string, TTaken extends string> =
  IsNever<TTaken> extends true
    ? Ok
    : CompileError<`Node id(s) '${List<TTaken>}' of fragment '${TFragment}' are already used in workflow '${S['workflow']}': a fragment's ids must be new to the workflow it is placed in`>;

/**
 * The skippable ids after placing a fragment with ids `TIds` and skippable ids `TSkip` after
 * parents `P`: if its entry may be skipped, so may every node of it (they all descend from it).
 */
export type UseSkip<S extends BuilderState, P extends string, TIds extends string, TSkip extends string> = NextSkip<S, P, TIds> | TSkip;
