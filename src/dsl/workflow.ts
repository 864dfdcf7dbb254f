/**
 * The workflow builder: an immutable chain of calls that records nodes and edges, checked at
 * compile time, and compiles to a plain {@link WorkflowDefinition} with `.build()`.
 *
 * @module
 */
import { assertZodSchemas } from '../definition/zod.js';
import { InvalidArgumentError } from '../errors.js';
import { compileWorkflow } from './compile.js';
import type { BuilderDef, BuiltWorkflow, PlacedNode, TriggerInput } from './compile.js';
import { isNodeSpec, mergeOptions } from './node.js';
import type { AnySchema, NodeOptions, NodeSpec, OutputOf, PlacedOutputOf, SchemaInput } from './node.types.js';
import type {
  AfterIds,
  BranchProblems,
  BuilderState,
  BuildCheck,
  Checked,
  EmptyState,
  Entry,
  Flatten,
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

/**
 * Options of `.node()`: the parents, plus the node's runtime options.
 *
 * @example
 * ```ts
 * workflow('report', { input: Query })
 *   .node('a', fetchA())
 *   .node('b', fetchB(), { after: ['a'] })
 *   .node('merge', merge(), { after: ['a', 'b'], name: 'Merge results', retryPolicy: { maxAttempts: 2 } });
 * ```
 */
export interface PlacementOptions<TAfter extends readonly string[], TFail extends boolean> extends NodeOptions<TFail> {
  /** Ids of the parents, declared earlier. Only the first node of a workflow may have none. */
  after?: TAfter;
}

/** The parents named by `after`, or the nodes `.then()` would continue from. */
type ParentsOr<S extends BuilderState, TAfter> = [TAfter] extends [never] ? S['last'] : AfterIds<TAfter>;

/** What a node with those parents receives (without a lookup when it continues from the last node). */
type GivenOr<S extends BuilderState, TAfter> = [TAfter] extends [never] ? S['lastOutput'] : GivenInput<S, AfterIds<TAfter>>;

/**
 * A workflow under construction. Every method returns a new builder and leaves this one as it
 * was, so a half-built workflow can be branched into several safely. The type parameter records
 * every node id and its output type, which is what the compile-time rules check against.
 *
 * Each method takes the state as its own type parameter `S`, inferred from `this`, instead of
 * reading `TState`: TypeScript would otherwise instantiate the return type twice and walk the
 * whole state on every call, which makes long workflows slow to type-check.
 *
 * @example
 * ```ts
 * const base: WorkflowBuilder<EmptyState<'w', { userId: number }>> = workflow('w', { input: User });
 * const a = base.then('fetch', fetchUser({ baseUrl }));   // base is unchanged
 * const b = a.then('welcome', sendEmail({ template: 'welcome' })).build();
 * ```
 */
export interface WorkflowBuilder<TState extends BuilderState> {
  /**
   * Adds a node. `after` names its parents (declared earlier); only the first node may omit it.
   * A node with several parents is a join and receives `{ [parentId]: output }`.
   *
   * @example
   * ```ts
   * workflow('report', { input: Query })
   *   .node('a', fetchA())
   *   .node('b', fetchB(), { after: ['a'] })
   *   .node('merge', merge(), { after: ['a', 'b'], retryPolicy: { maxAttempts: 3 } });
   * ```
   */
  node<const TId extends string, TSpec, const TAfter extends readonly string[] = never, TFail extends boolean = never, S extends BuilderState = TState>(
    this: WorkflowBuilder<S>,
    id: IdCheck<S, TId>,
    spec: Checked<NodeProblem<S, TId, TSpec, AfterIds<TAfter>, GivenInput<S, AfterIds<TAfter>>>, TSpec>,
    options?: PlacementOptions<TAfter, TFail>,
  ): WorkflowBuilder<
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
   * Adds a node after the last one(s): after the previous node, or joining every node of the
   * previous `.parallel()` / `.branch()`. On an empty builder it adds the entry node.
   *
   * @example
   * ```ts
   * workflow('onboarding', { input: z.object({ userId: z.number() }) })
   *   .then('fetch', fetchUser({ baseUrl }))
   *   .then('welcome', sendEmail({ template: 'welcome' }), { continueOnFail: true });
   * ```
   */
  then<const TId extends string, TSpec, TFail extends boolean = never, S extends BuilderState = TState>(
    this: WorkflowBuilder<S>,
    id: IdCheck<S, TId>,
    spec: Checked<NodeProblem<S, TId, TSpec, S['last'], S['lastOutput']>, TSpec>,
    options?: NodeOptions<TFail>,
  ): WorkflowBuilder<
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
   * Fans out: adds one node per key, all after the last node(s) (or after `options.after`).
   * A following `.then()` joins them. Per-node options go on the spec with `.with(...)`.
   *
   * @example
   * ```ts
   * workflow('dashboard', { input: User })
   *   .then('user', fetchUser({ baseUrl }))
   *   .parallel({ profile: loadProfile(), orders: loadOrders().with({ retryPolicy: { maxAttempts: 3 } }) })
   *   .then('summary', summarize()); // input: { profile: Profile; orders: Order[] }
   * ```
   */
  parallel<const TBranches extends Record<string, unknown>, const TAfter extends readonly string[] = never, S extends BuilderState = TState>(
    this: WorkflowBuilder<S>,
    branches: TBranches & NoInfer<ParallelProblems<S, TBranches, ParentsOr<S, TAfter>, GivenOr<S, TAfter>>>,
    options?: { after?: TAfter },
  ): WorkflowBuilder<
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
   * Adds a router and its branches. The router (made by `router(...)`) gets the input, returns
   * the name(s) of the branches to run, and passes its input on to them; the other branches, and
   * what is only below them, are skipped. It may only name branches given here. A following
   * `.then()` joins the branches; skipped ones are optional keys of the join's input.
   *
   * @example
   * ```ts
   * workflow('order', { input: Order })
   *   .branch('route', router('by-total', (o: Order) => (o.total > 100 ? 'review' : 'approve')), {
   *     review: manualReview(),
   *     approve: autoApprove(),
   *   })
   *   .then('notify', notify()); // input: { review?: Review; approve?: Approval }
   * ```
   */
  branch<const TId extends string, TRouter, const TBranches extends Record<string, unknown>, const TAfter extends readonly string[] = never, S extends BuilderState = TState>(
    this: WorkflowBuilder<S>,
    id: IdCheck<S, TId>,
    router: Checked<RouterProblem<S, TId, TRouter, TBranches, ParentsOr<S, TAfter>, GivenOr<S, TAfter>>, TRouter>,
    branches: TBranches & NoInfer<BranchProblems<S, TId, OutputOf<TRouter, GivenOr<S, TAfter>>, TBranches>>,
    options?: { after?: TAfter } & Omit<NodeOptions<false>, 'continueOnFail'>,
  ): WorkflowBuilder<
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
   * Places a fragment (made by `fragment()`): its nodes follow the last node(s), as if its calls
   * were written here, and the chain continues from its last node(s). Refused at compile time
   * when a `.then()` here would hand its entry node something its input does not accept, or when
   * one of its ids is already used in this workflow. After a `.parallel()` or `.branch()` its entry node joins
   * the group and receives `{ [nodeId]: output }`, as a `.then()` would.
   *
   * @example
   * ```ts
   * const welcomeSteps = fragment('welcome-steps', { input: z.object({ email: z.string() }) })
   *   .then('normalize', normalize())
   *   .then('welcome', sendEmail({ template: 'welcome' }));
   * workflow('signup', { input: User }).then('fetch', fetchUser({ baseUrl })).use(welcomeSteps).build();
   * ```
   */
  use<F extends BuilderState, S extends BuilderState = TState>(
    this: WorkflowBuilder<S>,
    fragment: Checked<UseProblem<S, F['workflow'], F['ids'], F['input'], S['last'], S['lastOutput']>, FragmentBuilder<F>>,
  ): WorkflowBuilder<
    State<S['workflow'], S['input'], S['out'] & F['out'], S['ids'] | F['ids'], F['last'], F['lastOutput'], UseSkip<S, S['last'], F['ids'], F['skip']>, S['routers'] | F['routers']>
  >;

  /**
   * Adds a trigger: a cron schedule (its `data` must be a valid workflow input) or a webhook.
   *
   * @example
   * ```ts
   * workflow('onboarding', { input: User })
   *   .then('fetch', fetchUser({ baseUrl }))
   *   .trigger({ type: 'schedule', cron: '0 9 * * 1', timezone: 'Europe/Paris', data: { userId: 1 } })
   *   .trigger({ type: 'webhook', path: 'user-signup', method: 'POST' });
   * ```
   */
  trigger(trigger: TriggerInput<TState['input']>): WorkflowBuilder<TState>;

  /**
   * Compiles to a plain-JSON {@link WorkflowDefinition} (node schemas embedded as JSON Schema
   * under `schemas`), checked by the same validator as hand-written definitions. Throws a
   * {@link WorkflowValidationError} listing every problem, including config that does not match
   * its kind's schema and values JSON cannot carry (functions, class instances, zod schemas).
   * The result carries the executors of its node kinds under {@link NODE_EXECUTORS}.
   *
   * @example
   * ```ts
   * const onboarding = workflow('onboarding', { input: User }).then('fetch', fetchUser({ baseUrl })).build();
   * await engine.registerWorkflow(onboarding);
   * ```
   */
  build(this: BuildCheck<TState>): BuiltWorkflow<TState['input'], Flatten<TState['out']>, TState['lastOutput'], TState['workflow']>;
}

/**
 * Options of {@link workflow}.
 *
 * @example
 * ```ts
 * workflow('onboarding', { input: z.object({ userId: z.number() }), name: 'Onboarding', description: 'New users.' });
 * ```
 */
export interface WorkflowOptions<TInput> {
  /** Schema of the data executions start with; the entry node must accept it. */
  input?: TInput;
  /**
   * Human-readable name.
   * @defaultValue the workflow id
   */
  name?: string;
  /** Description, shown in generated docs. */
  description?: string;
  /**
   * Let this workflow's nodes run eagerly: a node whose single ready child can run in the same
   * worker runs that child in its own job, without a queue round trip (`definition.eager`; see
   * the engine option `eagerChains`). A node's own `eager` option wins over it.
   * @defaultValue the engine's `eagerChains`
   */
  eager?: boolean;
}

/**
 * Starts a typed workflow. Chain `.node()`, `.then()`, `.parallel()`, `.branch()`,
 * `.trigger()`, and finish with `.build()`.
 *
 * @example
 * ```ts
 * const onboarding = workflow('onboarding', { input: z.object({ userId: z.number() }) })
 *   .node('fetch', fetchUser({ baseUrl: 'https://example.test' }))
 *   .then('welcome', sendEmail({ template: 'welcome' }))
 *   .build();
 * await engine.registerWorkflow(onboarding);
 * ```
 */
export function workflow<const TId extends string, TInput extends AnySchema | undefined = undefined>(
  id: TId,
  options: WorkflowOptions<TInput> = {},
): WorkflowBuilder<EmptyState<TId, SchemaInput<TInput>>> {
  if (typeof id !== 'string' || id.length === 0) throw new InvalidArgumentError('workflow: id must be a non-empty string');
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError('workflow: options must be an object');
  if (options.eager !== undefined && typeof options.eager !== 'boolean') throw new InvalidArgumentError(`workflow('${id}'): eager must be a boolean`);
  assertZodSchemas(`workflow('${id}')`, { input: options.input });
  const def: BuilderDef = { id, nodes: [], last: [], triggers: [], ...options };
  return new Builder(def) as unknown as WorkflowBuilder<EmptyState<TId, SchemaInput<TInput>>>;
}

type LooseNodeOptions = NodeOptions & { after?: readonly string[] };

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
 * The runtime side of {@link WorkflowBuilder} and {@link FragmentBuilder}: loosely typed, all
 * precision is in those interfaces. Internal: only `workflow()` and `fragment()` create one.
 */
export class Builder {
  constructor(
    readonly def: BuilderDef,
    readonly isFragment = false,
  ) {}

  /** What {@link FragmentBuilder} declares as `'~fragment'`: whether this builder is a fragment. */
  get '~fragment'(): boolean {
    return this.isFragment;
  }

  node(id: string, spec: unknown, options: LooseNodeOptions = {}): Builder {
    const { after, ...rest } = options;
    return this.add([place({ id, spec, parents: after ?? [], options: rest })], [id]);
  }

  then(id: string, spec: unknown, options: NodeOptions = {}): Builder {
    return this.add([place({ id, spec, parents: this.def.last, options })], [id]);
  }

  parallel(branches: Record<string, unknown>, options: { after?: readonly string[] } = {}): Builder {
    const parents = options.after ?? this.def.last;
    const ids = branchIds(this.def.id, '.parallel()', branches);
    if (ids.length === 0) throw new InvalidArgumentError(`workflow '${this.def.id}': .parallel() needs at least one node`);
    return this.add(
      ids.map((id) => place({ id, spec: branches[id], parents, options: {} })),
      ids,
    );
  }

  branch(id: string, router: unknown, branches: Record<string, unknown>, options: LooseNodeOptions = {}): Builder {
    const { after, ...rest } = options;
    const ids = branchIds(this.def.id, `.branch('${id}')`, branches);
    if (ids.length === 0) throw new InvalidArgumentError(`workflow '${this.def.id}': .branch('${id}') needs at least one branch`);
    const routerNode: PlacedNode = { ...place({ id, spec: router, parents: after ?? this.def.last, options: rest }), branches: ids };
    return this.add([routerNode, ...ids.map((b) => ({ ...place({ id: b, spec: branches[b], parents: [id], options: {} }), branchOf: id }))], ids);
  }

  use(fragment: unknown): Builder {
    const where = `${this.isFragment ? 'fragment' : 'workflow'} '${this.def.id}'`;
    if (!(fragment instanceof Builder) || !fragment.isFragment) {
      throw new InvalidArgumentError(`${where}: .use() needs a fragment made by fragment(...), got ${fragment instanceof Builder ? 'a workflow builder' : typeof fragment}`);
    }
    const { id, nodes, last } = fragment.def;
    if (nodes.length === 0) throw new InvalidArgumentError(`${where}: fragment '${id}' has no nodes`);
    const taken = new Set(this.def.nodes.map((n) => n.id));
    const clashes = nodes.filter((n) => taken.has(n.id)).map((n) => n.id);
    if (clashes.length > 0) {
      throw new InvalidArgumentError(`${where}: node id(s) '${clashes.join("', '")}' of fragment '${id}' are already used`);
    }
    // The fragment's entry node (its only node without parents) follows this builder's last node(s).
    return this.add(
      nodes.map((n) => (n.parents.length === 0 ? { ...n, parents: [...this.def.last] } : n)),
      [...last],
    );
  }

  trigger(trigger: TriggerInput<unknown>): Builder {
    return new Builder({ ...this.def, triggers: [...this.def.triggers, trigger] }, this.isFragment);
  }

  build(): BuiltWorkflow {
    if (this.isFragment) throw new InvalidArgumentError(`fragment '${this.def.id}' cannot be built: place it in a workflow with .use()`);
    return compileWorkflow(this.def);
  }

  private add(nodes: PlacedNode[], last: string[]): Builder {
    return new Builder({ ...this.def, nodes: [...this.def.nodes, ...nodes], last }, this.isFragment);
  }
}

/**
 * The node ids of a `{ id: spec }` object. A `__proto__: spec` entry in an object literal sets the
 * object's prototype instead of adding a key, so that node would silently vanish: refuse it.
 */
function branchIds(workflowId: string, call: string, branches: Record<string, unknown>): string[] {
  const proto: unknown = typeof branches === 'object' && branches !== null ? Object.getPrototypeOf(branches) : null;
  if (proto !== Object.prototype && proto !== null) {
    throw new InvalidArgumentError(
      `workflow '${workflowId}': ${call} needs a plain object of { nodeId: spec } (a '__proto__' key in an object literal sets the prototype instead of adding a node; '__proto__' cannot be a node id)`,
    );
  }
  return Object.keys(branches);
}

/** A node to place in the builder, for {@link place}. */
interface Placement {
  /** The node's id. */
  id: string;
  /** What the user passed as its spec (checked here). */
  spec: unknown;
  /** The nodes it runs after. */
  parents: readonly string[];
  /** Its options, merged over the spec's own. */
  options: NodeOptions;
}

function place(placement: Placement): PlacedNode {
  const { id, spec, parents, options } = placement;
  if (!isNodeSpec(spec)) {
    const hint = typeof spec === 'function' ? ' (a node kind must be called with its config first, e.g. fetchUser({ ... }))' : '';
    throw new InvalidArgumentError(`node '${id}': expected a node spec${hint}, got ${typeof spec}`);
  }
  return { id, spec: spec as NodeSpec<unknown, unknown, string, unknown>, parents: [...parents], options: mergeOptions(spec.options, options) };
}
