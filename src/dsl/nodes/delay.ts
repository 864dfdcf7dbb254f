/**
 * `delay`: the runtime's built-in wait.
 *
 * @module
 */
import { BUILTIN_NODE_KINDS } from '../../definition/node-kinds.js';
import { createKind } from '../node.js';
import type { NodeKind, NodeSpec, SameAsInput } from '../node.types.js';

const delayKind = createKind<NodeKind<typeof BUILTIN_NODE_KINDS.delay, { duration: number }, unknown, SameAsInput>>({
  type: BUILTIN_NODE_KINDS.delay,
  role: BUILTIN_NODE_KINDS.delay,
  schemas: {},
});

/**
 * Waits `ms` milliseconds, then hands its input on unchanged (its children get exactly what it
 * got). Compiles to the runtime's built-in `{ type: 'delay', config: { duration } }`; paused
 * executions keep the wait they had left.
 *
 * @example
 * ```ts
 * workflow('reminder', { input: User })
 *   .then('fetch', fetchUser({ baseUrl }))
 *   .then('wait', delay(24 * 3600_000)) // hands on the fetched user
 *   .then('remind', sendEmail({ template: 'reminder' }));
 * ```
 */
export function delay(ms: number): NodeSpec<unknown, SameAsInput> {
  return delayKind({ duration: ms });
}
