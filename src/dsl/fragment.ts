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
import type { AnySchema, SchemaInput } from './node.types.js';
import { Builder } from './workflow.js';
import type { FragmentBuilder } from './workflow.js';
import type { EmptyState } from './workflow.types.js';

export type { FragmentBuilder } from './workflow.js';

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
