/**
 * `waitForEvent`: a node that waits for `engine.sendEvent(name, payload)` with a matching payload.
 *
 * @module
 */
import { eventConfigProblems } from '../../definition/event.js';
import { BUILTIN_NODE_KINDS } from '../../definition/node-kinds.js';
import { assertZodSchemas, z } from '../../definition/zod.js';
import { InvalidArgumentError } from '../../errors.js';
import { createKind } from '../node.js';
import type { AnySchema, NodeKind, NodeSpec, SchemaOutput } from '../node.types.js';
import type { SignalDuration } from './signal.js';

/**
 * Where an event node's match value comes from: `'$.input.<path>'` (the execution's initial
 * data) or `'$.nodes.<parentId>.<path>'` (the output of one of the node's parents), `<path>` a
 * dotted path; `'$.input'` alone is the whole input.
 */
export type EventMatchPath = '$.input' | `$.input.${string}` | `$.nodes.${string}`;

/**
 * Which events wake the node: those whose payload's `field` (a dotted path into the payload)
 * equals the value `equals` finds in the execution's data when the node starts waiting.
 *
 * @example
 * ```ts
 * const match: EventMatch = { field: 'orderId', equals: '$.input.orderId' };
 * ```
 */
export interface EventMatch {
  /** A dotted path into the event's payload (`'orderId'`, `'order.id'`). */
  field: string;
  /** Where the value to compare with is read (compared as canonical JSON: `42` is not `"42"`). */
  equals: EventMatchPath;
}

/**
 * Options of {@link waitForEvent}.
 *
 * @typeParam S - the payload's zod schema
 *
 * @example
 * ```ts
 * const Paid = z.object({ orderId: z.string(), amount: z.number() });
 * const options: WaitForEventOptions<typeof Paid> = { schema: Paid, match: { field: 'orderId', equals: '$.input.orderId' }, timeout: '7d' };
 * ```
 */
export interface WaitForEventOptions<S extends AnySchema | undefined = undefined> {
  /**
   * The payload's schema: an event whose payload it refuses does not wake the node, and the
   * node's children receive its type. Stored as JSON Schema (keep it to plain shapes; defaults
   * are applied).
   */
  schema?: S;
  /** Which events wake the node. */
  match: EventMatch;
  /** How long the node waits; without it, until a matching event comes or it is cancelled. */
  timeout?: SignalDuration;
  /**
   * What the node does when the timeout comes first: fail (an EventTimeoutError, no retries;
   * `continueOnFail` and the DLQ apply), or complete with `value` as if that had been sent.
   * @defaultValue 'fail'
   */
  onTimeout?: 'fail' | { value: SchemaOutput<S> };
}

const eventKind = createKind<NodeKind<typeof BUILTIN_NODE_KINDS.event, Record<string, unknown>, unknown, unknown>>({
  type: BUILTIN_NODE_KINDS.event,
  role: BUILTIN_NODE_KINDS.event,
  schemas: {},
});

/**
 * A node that waits for the event `name` (`engine.sendEvent(name, payload)`, from any process)
 * whose payload matches (`match.field` of the payload equals the value at `match.equals` in the
 * execution's data), and hands the payload to its children, typed by `schema`. While it waits it
 * holds no worker and no lock. Only events sent while the node waits wake it; one event wakes
 * every node it matches, in every execution. Compiles to
 * `{ type: 'event', config: { name, match, timeout?, onTimeout?, schema? } }`. Event names are
 * unique within a workflow. See docs/events-wait.md.
 *
 * @example
 * ```ts
 * const checkout = workflow('checkout', { input: z.object({ orderId: z.string() }) })
 *   .then('paid', waitForEvent('order.paid', { schema: z.object({ orderId: z.string(), amount: z.number() }), match: { field: 'orderId', equals: '$.input.orderId' }, timeout: '7d' }))
 *   .then('ship', transform('ship', (p: { amount: number }) => p.amount))
 *   .build();
 * await engine.sendEvent('order.paid', { orderId: 'o-42', amount: 99 }); // from wherever payments land
 * ```
 */
export function waitForEvent<const N extends string, S extends AnySchema | undefined = undefined>(name: N, options: WaitForEventOptions<S>): NodeSpec<unknown, SchemaOutput<S>> {
  const { schema, match, timeout, onTimeout } = (options ?? {}) as WaitForEventOptions<AnySchema | undefined>;
  assertZodSchemas(`waitForEvent('${String(name)}')`, { schema });
  const config: Record<string, unknown> = {
    name,
    match: typeof match === 'object' && match !== null ? { ...match } : match,
    ...(timeout !== undefined && { timeout }),
    ...(onTimeout !== undefined && { onTimeout: onTimeout === 'fail' ? 'fail' : { value: (onTimeout as { value: unknown }).value } }),
  };
  if (schema !== undefined) {
    const { $schema: _drop, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    config['schema'] = json;
  }
  const problems = eventConfigProblems(config);
  if (problems.length > 0) throw new InvalidArgumentError(`waitForEvent('${String(name)}'): ${problems.join('; ')}`);
  return eventKind(config) as NodeSpec<unknown, SchemaOutput<S>>;
}
