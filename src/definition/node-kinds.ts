/**
 * The node kinds the runtime runs itself, without a registered executor: one table that the
 * definition's validation, the runtime and the DSL all read, so a kind's type string is written
 * once.
 *
 * Adding a built-in node kind touches 8 files. Add its key to {@link BUILTIN_NODE_KINDS} and its
 * facts to {@link BUILTIN_NODE_KIND_FACTS} here (1); `tsc` then fails in every file that must
 * decide what the kind does, because each keeps a `Record<BuiltinNodeKind, …>` or an exhaustive
 * `switch`: `definition/validate.ts` (2, its config check), `runtime/execution/node-processor.ts`
 * (3, what one attempt does), `dsl/node.ts` (4, the DSL function `defineNode` points to when it
 * refuses the type) and `dsl/docs.ts` (5, its shape in the Mermaid diagram). Then write the DSL
 * function in a new `dsl/nodes/<kind>.ts` (6) and export it from `dsl/index.ts` (7) and
 * `src/index.ts` (8). Only a kind with job-level data (a wait, like `delay`'s `delayUntil`) also
 * touches `runtime/queues/queue-manager.ts` (the job's options), `runtime/execution/reconciler.ts`
 * (what a re-created lost job keeps) and `runtime/execution/advance.ts` (events at enqueue).
 *
 * @module
 */

/**
 * Built-in node kinds by name: the value is the node `type` in a definition.
 *
 * @example
 * ```ts
 * const wait: NodeDefinition = { id: 'wait', type: BUILTIN_NODE_KINDS.delay, config: { duration: 1000 }, inputs: ['a'], outputs: [] };
 * ```
 */
export const BUILTIN_NODE_KINDS = {
  delay: 'delay',
  subWorkflow: 'sub-workflow',
  signal: 'signal',
  event: 'event',
} as const;

/** The node `type` of a built-in kind: `'delay' | 'sub-workflow' | 'signal' | 'event'`. */
export type BuiltinNodeKind = (typeof BUILTIN_NODE_KINDS)[keyof typeof BUILTIN_NODE_KINDS];

/** What the runtime does differently for one built-in kind. */
export interface BuiltinNodeKindFacts {
  /**
   * Whether the node processor publishes `node:started` before an attempt. A kind that announces
   * its own start, with data only it knows (a sub-workflow names its child), says false.
   */
  readonly announcesStart: boolean;
  /**
   * Whether a child workflow holding this kind can still run as a BullMQ flow. A flow runs its
   * jobs children-first and fails or ignores its parent on their result, so a kind whose attempt
   * waits (parks, starts a child) cannot be one of its links.
   */
  readonly runsInFlow: boolean;
}

/** The facts of each built-in kind; a new kind does not compile until it has its own. */
export const BUILTIN_NODE_KIND_FACTS: { readonly [K in BuiltinNodeKind]: BuiltinNodeKindFacts } = {
  [BUILTIN_NODE_KINDS.delay]: { announcesStart: true, runsInFlow: false },
  [BUILTIN_NODE_KINDS.subWorkflow]: { announcesStart: false, runsInFlow: false },
  [BUILTIN_NODE_KINDS.signal]: { announcesStart: true, runsInFlow: false },
  [BUILTIN_NODE_KINDS.event]: { announcesStart: true, runsInFlow: false },
};

/** Node types the runtime executes itself, without a registered executor. */
export const BUILT_IN_NODE_TYPES: ReadonlySet<string> = new Set<string>(Object.values(BUILTIN_NODE_KINDS));

/** Whether `type` is a built-in node kind (which no executor may be registered for). */
export function isBuiltinNodeKind(type: string): type is BuiltinNodeKind {
  return BUILT_IN_NODE_TYPES.has(type);
}
