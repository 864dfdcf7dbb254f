/**
 * `waitForSignal`: a node that waits for `engine.signal(executionId, name, payload)`.
 *
 * @module
 */
import { BUILTIN_NODE_KINDS } from '../../definition/node-kinds.js';
import { signalConfigProblems } from '../../definition/signal.js';
import type { Signalled } from '../../definition/typed-signals.js';
import { assertZodSchemas, z } from '../../definition/zod.js';
import { InvalidArgumentError } from '../../errors.js';
import { createKind } from '../node.js';
import type { AnySchema, NodeKind, NodeSpec, SchemaInput, SchemaOutput } from '../node.types.js';

/** A duration: milliseconds, or a number with a unit (`'200ms'`, `'30s'`, `'15m'`, `'24h'`, `'7d'`). */
export type SignalDuration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

/**
 * Options of {@link waitForSignal}.
 *
 * @typeParam S - the payload's zod schema
 *
 * @example
 * ```ts
 * const Decision = z.object({ approved: z.boolean() });
 * const options: WaitForSignalOptions<typeof Decision> = { schema: Decision, timeout: '24h', onTimeout: { value: { approved: false } } };
 * ```
 */
export interface WaitForSignalOptions<S extends AnySchema | undefined = undefined> {
  /**
   * The payload's schema: `engine.signal` refuses a payload it does not accept (with a
   * SignalPayloadError), and the node's children receive its type. Stored in the definition as
   * JSON Schema, so every process checks it; refinements and transforms do not survive that, so
   * keep it to plain shapes (defaults are applied).
   */
  schema?: S;
  /** How long the node waits; without it, it waits until signalled or cancelled. */
  timeout?: SignalDuration;
  /**
   * What the node does when the timeout comes first: fail (a SignalTimeoutError, no retries;
   * `continueOnFail` and the DLQ apply), or complete with `value` as if that had been signalled.
   * @defaultValue 'fail'
   */
  onTimeout?: 'fail' | { value: SchemaOutput<S> };
}

const signalKind = createKind<NodeKind<typeof BUILTIN_NODE_KINDS.signal, Record<string, unknown>, unknown, unknown>>({
  type: BUILTIN_NODE_KINDS.signal,
  role: BUILTIN_NODE_KINDS.signal,
  schemas: {},
});

/**
 * A node that waits for the signal `name` (`engine.signal(executionId, name, payload)`) and hands
 * the payload to its children, typed by `schema`. While it waits it holds no worker and no lock:
 * the wait is kept in the store, across restarts. A signal sent before the node is reached is
 * kept and consumed when it runs; a second one is refused. Compiles to
 * `{ type: 'signal', config: { name, timeout?, onTimeout?, schema? } }` (the schema as JSON
 * Schema). Signal names are unique within a workflow. See docs/signals.md.
 *
 * @example
 * ```ts
 * const expense = workflow('expense', { input: Order })
 *   .then('approval', waitForSignal('approval', { schema: z.object({ approved: z.boolean() }), timeout: '24h', onTimeout: 'fail' }))
 *   .then('book', transform('book', (d: { approved: boolean }) => d.approved))
 *   .build();
 * await engine.signal(expense, executionId, 'approval', { approved: true }); // from wherever the decision is made
 * ```
 */
export function waitForSignal<const N extends string, S extends AnySchema | undefined = undefined>(
  name: N,
  options?: WaitForSignalOptions<S>,
): NodeSpec<unknown, Signalled<N, SchemaOutput<S>, SchemaInput<S>>> {
  const { schema, timeout, onTimeout } = (options ?? {}) as WaitForSignalOptions<AnySchema | undefined>;
  assertZodSchemas(`waitForSignal('${String(name)}')`, { schema });
  const config: Record<string, unknown> = {
    name,
    ...(timeout !== undefined && { timeout }),
    ...(onTimeout !== undefined && { onTimeout: onTimeout === 'fail' ? 'fail' : { value: (onTimeout as { value: unknown }).value } }),
  };
  if (schema !== undefined) {
    const { $schema: _drop, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    config['schema'] = json;
  }
  const problems = signalConfigProblems(config);
  if (problems.length > 0) throw new InvalidArgumentError(`waitForSignal('${String(name)}'): ${problems.join('; ')}`);
  return signalKind(config) as NodeSpec<unknown, Signalled<N, SchemaOutput<S>, SchemaInput<S>>>;
}
