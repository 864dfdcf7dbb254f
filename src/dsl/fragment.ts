/**
 * Fragments: a chain of steps written once, with concrete types so every rule is checked where
 * it is written, and placed in any number of workflows with `.use()`.
 *
 * A function generic over a builder's state (`<S extends BuilderState>(b: WorkflowBuilder<S>)`)
 * cannot call the builder, because its checks stay unresolved while `S` is unknown. A fragment
 * has a state of its own instead, starting from a declared input; `.use()` then checks only
 * what joins the two: the input, and that the ids are new.
 *
 * @module
 */
import { assertZodSchemas } from '../definition/zod.js';
import { InvalidArgumentError } from '../errors.js';
import type { AnySchema, NodeOptions, OutputOf, PlacedOutputOf, SchemaInput } from './node.types.js';
import { Builder } from './workflow.js';
import type { PlacementOptions } from './workflow.js';
import type {
  AfterIds,
  BranchProblems,
  BuilderState,
  Checked,
  EmptyState,
  Entry,
  GivenInput,
  GroupOutput,
  IdCheck,
  NextSkip,
  NodeProblem,
  ParallelOutputs,
  ParallelProblems,
  RouterProblem,
  Skippable,
  State,
  UseProblem,
  UseSkip,
} from './workflow.types.js';

/** The parents named by `after`, or the nodes `.then()` would continue from. */
type ParentsOr<S extends BuilderState, TAfter> = [TAfter] extends [never] ? S['last'] : AfterIds<TAfter>;

/** What a node with those parents receives (without a lookup when it continues from the last node). */
type GivenOr<S extends BuilderState, TAfter> = [TAfter] extends [never] ? S['lastOutput'] : GivenInput<S, AfterIds<TAfter>>;

/**
 * A fragment under construction: the same chain methods as {@link WorkflowBuilder}, checked the
 * same way against the fragment's own state (its input, ids and outputs), but no `build()` and
 * no triggers. Its first node is its entry: `.use()` places it after the workflow's last
 * node(s). Messages about its nodes name the fragment where they say "workflow". Immutable,
 * like the workflow builder.
 *
 * @typeParam TState - the fragment's state; `workflow` holds the fragment's name
 *
 * @example
 * ```ts
 * const steps: FragmentBuilder<EmptyState<'welcome-steps', { email: string }>> = fragment('welcome-steps', {
 *   input: z.object({ email: z.string() }),
 * });
 * const withWelcome = steps.then('welcome', sendEmail({ template: 'welcome' }));
 * ```
 */
export interface FragmentBuilder<TState extends BuilderState> {
  /** Marks a fragment, so that `.use()` refuses a workflow builder (which has the same chain methods). */
  readonly '~fragment': true;

  /**
   * Adds a node; `after` names parents among the fragment's own nodes. Only the first node
   * (the entry) may omit it. See {@link WorkflowBuilder.node}.
   *
   * @example
   * ```ts
   * fragment('report-steps', { input: Query })
   *   .node('a', fetchA())
   *   .node('b', fetchB(), { after: ['a'] })
   *   .node('merge', merge(), { after: ['a', 'b'] });
   * ```
   */
  node<const TId extends string, TSpec, const TAfter extends readonly string[] = never, TFail extends boolean = never, S extends BuilderState = TState>(
    this: FragmentBuilder<S>,
    id: IdCheck<S, TId>,
    spec: Checked<NodeProblem<S, TId, TSpec, AfterIds<TAfter>, GivenInput<S, AfterIds<TAfter>>>, TSpec>,
    options?: PlacementOptions<TAfter, TFail>,
  ): FragmentBuilder<
    State<
      S['workflow'],
      S['input'],
      S['out'] & Entry<TId, PlacedOutputOf<TSpec, GivenInput<S, AfterIds<TAfter>>, TFail>>,
      S['ids'] | TId,
      TId,
      PlacedOutputOf<TSpec, GivenInput<S, AfterIds<TAfter>>, TFail>,
      NextSkip<S, AfterIds<TAfter>, TId>,
      S['routers']
    >
  >;

  /**
   * Adds a node after the last one(s); the first one receives the fragment's input. See
   * {@link WorkflowBuilder.then}.
   *
   * @example
   * ```ts
   * fragment('welcome-steps', { input: z.object({ email: z.string() }) })
   *   .then('normalize', normalize())
   *   .then('welcome', sendEmail({ template: 'welcome' }), { continueOnFail: true });
   * ```
   */
  then<const TId extends string, TSpec, TFail extends boolean = never, S extends BuilderState = TState>(
    this: FragmentBuilder<S>,
    id: IdCheck<S, TId>,
    spec: Checked<NodeProblem<S, TId, TSpec, S['last'], S['lastOutput']>, TSpec>,
    options?: NodeOptions<TFail>,
  ): FragmentBuilder<
    State<
      S['workflow'],
      S['input'],
      S['out'] & Entry<TId, PlacedOutputOf<TSpec, S['lastOutput'], TFail>>,
      S['ids'] | TId,
      TId,
      PlacedOutputOf<TSpec, S['lastOutput'], TFail>,
      NextSkip<S, S['last'], TId>,
      S['routers']
    >
  >;

  /**
   * Fans out after the last node(s), as {@link WorkflowBuilder.parallel} does. Not as the
   * first call: a fragment has one entry node.
   *
   * @example
   * ```ts
   * fragment('dashboard-steps', { input: User })
   *   .then('user', fetchUser({ baseUrl }))
   *   .parallel({ profile: loadProfile(), orders: loadOrders() })
   *   .then('summary', summarize());
   * ```
   */
  parallel<const TBranches extends Record<string, unknown>, const TAfter extends readonly string[] = never, S extends BuilderState = TState>(
    this: FragmentBuilder<S>,
    branches: TBranches & NoInfer<ParallelProblems<S, TBranches, ParentsOr<S, TAfter>, GivenOr<S, TAfter>>>,
    options?: { after?: TAfter },
  ): FragmentBuilder<
    State<
      S['workflow'],
      S['input'],
      S['out'] & ParallelOutputs<TBranches, GivenOr<S, TAfter>>,
      S['ids'] | (keyof TBranches & string),
      keyof TBranches & string,
      GroupOutput<ParallelOutputs<TBranches, GivenOr<S, TAfter>>, Skippable<S, ParentsOr<S, TAfter>>>,
      NextSkip<S, ParentsOr<S, TAfter>, keyof TBranches & string>,
      S['routers']
    >
  >;

  /**
   * Adds a router and its branches, as {@link WorkflowBuilder.branch} does.
   *
   * @example
   * ```ts
   * fragment('order-steps', { input: Order })
   *   .branch('route', router('by-total', (o: Order) => (o.total > 100 ? 'review' : 'approve')), {
   *     review: manualReview(),
   *     approve: autoApprove(),
   *   })
   *   .then('notify', notify());
   * ```
   */
  branch<const TId extends string, TRouter, const TBranches extends Record<string, unknown>, const TAfter extends readonly string[] = never, S extends BuilderState = TState>(
    this: FragmentBuilder<S>,
    id: IdCheck<S, TId>,
    router: Checked<RouterProblem<S, TId, TRouter, TBranches, ParentsOr<S, TAfter>, GivenOr<S, TAfter>>, TRouter>,
    branches: TBranches & NoInfer<BranchProblems<S, TId, OutputOf<TRouter, GivenOr<S, TAfter>>, TBranches>>,
    options?: { after?: TAfter } & Omit<NodeOptions<false>, 'continueOnFail'>,
  ): FragmentBuilder<
    State<
      S['workflow'],
      S['input'],
      S['out'] & Entry<TId, OutputOf<TRouter, GivenOr<S, TAfter>>> & ParallelOutputs<TBranches, OutputOf<TRouter, GivenOr<S, TAfter>>>,
      S['ids'] | TId | (keyof TBranches & string),
      keyof TBranches & string,
      GroupOutput<ParallelOutputs<TBranches, OutputOf<TRouter, GivenOr<S, TAfter>>>, true>,
      S['skip'] | (keyof TBranches & string) | NextSkip<S, ParentsOr<S, TAfter>, TId>,
      S['routers'] | TId
    >
  >;

  /**
   * Places another fragment, as {@link WorkflowBuilder.use} does.
   *
   * @example
   * ```ts
   * const welcomeSteps = fragment('welcome-steps', { input: z.object({ email: z.string() }) }).then('welcome', sendEmail({ template: 'welcome' }));
   * const signupSteps = fragment('signup-steps', { input: User }).then('fetch', fetchUser({ baseUrl })).use(welcomeSteps);
   * ```
   */
  use<F extends BuilderState, S extends BuilderState = TState>(
    this: FragmentBuilder<S>,
    fragment: Checked<UseProblem<S, F['workflow'], F['ids'], F['input'], S['last'], S['lastOutput']>, FragmentBuilder<F>>,
  ): FragmentBuilder<
    State<S['workflow'], S['input'], S['out'] & F['out'], S['ids'] | F['ids'], F['last'], F['lastOutput'], UseSkip<S, S['last'], F['ids'], F['skip']>, S['routers'] | F['routers']>
  >;
}

/**
 * Options of {@link fragment}.
 *
 * @example
 * ```ts
 * fragment('welcome-steps', { input: z.object({ email: z.string() }) });
 * ```
 */
export interface FragmentOptions<TInput> {
  /**
   * Schema of what the fragment's entry node receives. Only its type is used: `.use()` checks
   * that the workflow hands over something assignable to it (nodes check their own inputs at run time).
   */
  input?: TInput;
}

/**
 * Starts a fragment: a reusable chain of steps, built with `.then()`, `.node()`, `.parallel()`,
 * `.branch()` and `.use()` and checked against its declared input, then placed in workflows with
 * `workflow(...).use(fragment)`. A workflow that uses a fragment builds to the same definition
 * as one with the fragment's calls written inline.
 *
 * @example
 * ```ts
 * const welcomeSteps = fragment('welcome-steps', { input: z.object({ email: z.string() }) })
 *   .then('normalize', normalize())
 *   .then('welcome', sendEmail({ template: 'welcome' }));
 * const signup = workflow('signup', { input: User }).then('fetch', fetchUser({ baseUrl })).use(welcomeSteps).build();
 * const invite = workflow('invite', { input: z.object({ email: z.string() }) }).use(welcomeSteps).build();
 * ```
 */
export function fragment<const TName extends string, TInput extends AnySchema | undefined = undefined>(
  name: TName,
  options: FragmentOptions<TInput> = {},
): FragmentBuilder<EmptyState<TName, SchemaInput<TInput>>> {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('fragment: name must be a non-empty string');
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError('fragment: options must be an object');
  assertZodSchemas(`fragment('${name}')`, { input: options.input });
  return new Builder({ id: name, nodes: [], last: [], triggers: [] }, true) as unknown as FragmentBuilder<EmptyState<TName, SchemaInput<TInput>>>;
}
