/**
 * `transform`: a node made of a plain function.
 *
 * @module
 */
import type { z } from 'zod';
import { assertZodSchemas } from '../../definition/zod.js';
import { InvalidArgumentError } from '../../errors.js';
import { createKindExecutor } from '../executor.js';
import type { KindCode } from '../executor.js';
import { createKind } from '../node.js';
import type { AnySchema, MaybePromise, NodeContext, NodeKind, NodeSpec, NoAny, SchemaInput, SchemaOutput } from '../node.types.js';

/**
 * Schemas a transform may declare.
 *
 * @example
 * ```ts
 * transform('total', { input: Order, output: z.number() }, (order) => order.items.length);
 * ```
 */
export interface TransformSchemas<TInput, TOutput> {
  /** Parsed before the function runs. */
  input?: TInput;
  /** What the function returns is parsed with it. */
  output?: TOutput;
}

/**
 * A node that runs `fn` on its input and hands on what it returns. Node type
 * `transform:<name>`: the function itself cannot go into the JSON definition, so it lives in the
 * executor the built workflow carries, registered under that type. Use one name per distinct
 * function (`build()` refuses two different functions under one name in a workflow); a worker
 * that registers workflows from JSON registers the transform with `registerNodeKinds`.
 *
 * Without schemas the input type is whatever `fn` declares (checked at compile time only); with
 * schemas the input and output are also parsed in the worker. A function returning `any` (e.g.
 * `JSON.parse`) gives the output type `unknown`.
 *
 * @example
 * ```ts
 * const normalize = transform('normalize', (user: { email: string }) => ({ email: user.email.toLowerCase() }));
 * const checked = transform('total', { input: Order, output: z.number() }, (order) => order.items.length);
 * workflow('w', { input: User }).then('fetch', fetchUser({ baseUrl })).then('normalize', normalize);
 * workflow('order', { input: Order }).then('total', checked);
 * ```
 */
export function transform<const TName extends string, TIn, TReturn>(name: TName, fn: (input: TIn, context: NodeContext<TIn>) => TReturn): NodeSpec<TIn, NoAny<Awaited<TReturn>>>;
export function transform<const TName extends string, TInput extends AnySchema | undefined, TOutput extends AnySchema | undefined = undefined, TReturn = unknown>(
  name: TName,
  schemas: TransformSchemas<TInput, TOutput>,
  fn: (input: SchemaOutput<TInput>, context: NodeContext<SchemaInput<TInput>>) => TOutput extends AnySchema ? MaybePromise<z.input<TOutput>> : TReturn,
): NodeSpec<SchemaInput<TInput>, NoAny<TOutput extends AnySchema ? z.output<TOutput> : Awaited<TReturn>>>;
export function transform(name: string, a: unknown, b?: unknown): NodeSpec<unknown, unknown> {
  const [schemas, fn] = typeof a === 'function' ? [{}, a] : [(a ?? {}) as TransformSchemas<AnySchema, AnySchema>, b];
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('transform: name must be a non-empty string');
  if (typeof fn !== 'function') throw new InvalidArgumentError(`transform('${name}'): expected a function`);
  assertZodSchemas(`transform('${name}')`, { input: schemas.input, output: schemas.output });
  const code: KindCode = ({ input, context }) => (fn as (i: unknown, c: NodeContext) => unknown)(input, context);
  const kindSchemas = { ...(schemas.input && { input: schemas.input }), ...(schemas.output && { output: schemas.output }) };
  const kind = createKind<NodeKind<string, undefined, unknown, unknown>>({
    type: `transform:${name}`,
    role: 'node',
    schemas: kindSchemas,
    impl: fn,
    executor: createKindExecutor({ role: 'node', schemas: kindSchemas }, code),
  });
  return kind();
}
