/**
 * `router`: a node that chooses which of its branches run.
 *
 * @module
 */
import type { z } from 'zod';
import { assertZodSchemas } from '../../definition/zod.js';
import { InvalidArgumentError } from '../../errors.js';
import { createKindExecutor } from '../executor.js';
import type { KindCode } from '../executor.js';
import { createKind } from '../node.js';
import type { AnySchema, MaybePromise, NodeContext, NodeKind, NodeSpec, SameAsInput } from '../node.types.js';

/**
 * A router: `fn` gets the input and returns the name of the branch to run, or several. The
 * router passes its input on to the chosen branches (as received, or as parsed by its input
 * schema when it has one); the other branches are skipped. Place it with
 * `.branch(id, router, { ...branches })`, which checks at compile time that every name `fn` may
 * return is one of the branches, so return literal names. Node type `router:<name>`.
 *
 * @example
 * ```ts
 * const bySize = router('by-size', (order: { total: number }) => (order.total > 100 ? 'review' : 'approve'));
 * const checked = router('by-plan', { input: z.object({ plan: z.enum(['free', 'pro']) }) }, (u) => u.plan);
 * ```
 */
export function router<const TName extends string, TIn, const TTarget extends string>(
  name: TName,
  fn: (input: TIn, context: NodeContext<TIn>) => MaybePromise<TTarget | readonly TTarget[]>,
): NodeSpec<TIn, SameAsInput, TTarget>;
export function router<const TName extends string, TInput extends AnySchema, const TTarget extends string>(
  name: TName,
  schemas: { input: TInput },
  fn: (input: z.output<TInput>, context: NodeContext<z.input<TInput>>) => MaybePromise<TTarget | readonly TTarget[]>,
): NodeSpec<z.input<TInput>, z.output<TInput>, TTarget>;
export function router(name: string, a: unknown, b?: unknown): NodeSpec<unknown, unknown, string, unknown> {
  const [schemas, fn] = typeof a === 'function' ? [{}, a] : [(a ?? {}) as { input?: AnySchema }, b];
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('router: name must be a non-empty string');
  if (typeof fn !== 'function') throw new InvalidArgumentError(`router('${name}'): expected a function`);
  assertZodSchemas(`router('${name}')`, { input: schemas.input });
  const code: KindCode = ({ input, context }) => (fn as (i: unknown, c: NodeContext) => unknown)(input, context);
  const kindSchemas = schemas.input === undefined ? {} : { input: schemas.input };
  const kind = createKind<NodeKind<string, undefined, unknown, unknown>>({
    type: `router:${name}`,
    role: 'router',
    schemas: kindSchemas,
    impl: fn,
    executor: createKindExecutor({ role: 'router', schemas: kindSchemas }, code),
  });
  return kind() as NodeSpec<unknown, unknown, string, unknown>;
}
