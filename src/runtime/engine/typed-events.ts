/**
 * The events of {@link SpaneEvent} as a union discriminated by `type`, each with the fields its
 * publisher always sets, and, for a typed workflow, its literal workflow id, its node ids and
 * each node's output type. `engine.subscribe` hands these to its handler; at run time they are
 * the same objects as before, only their types are narrower.
 *
 * @module
 */
import type { TypedWorkflow, WorkflowIdOf, WorkflowNodeId, WorkflowOutputs } from '../../definition/typed-workflow.js';
import type { SerializedError } from '../../errors.js';
import type { PayloadReference } from '../execution/payloads.js';
import type { RepairEventData, SpaneEvent, SubscribeOptions } from '../observe/events.js';

/** Every event type, node and workflow events alike. */
export type SpaneEventType = SpaneEvent['type'];

/** Fields of every event of workflow `TWorkflowId`. */
interface EventOf<TType extends SpaneEventType, TWorkflowId extends string> extends SpaneEvent {
  readonly type: TType;
  readonly workflowId: TWorkflowId;
}

/** Fields of every node event: the node id is always set. */
interface NodeEventOf<TType extends SpaneEventType, TNodeId extends string, TWorkflowId extends string> extends EventOf<TType, TWorkflowId> {
  readonly nodeId: TNodeId;
}

/**
 * A node started an attempt. `attempt` counts from 1; a sub-workflow node's `data` holds the
 * child execution's id (`{ childExecutionId }`).
 */
export interface NodeStartedEvent<TNodeId extends string = string, TWorkflowId extends string = string> extends NodeEventOf<'node:started', TNodeId, TWorkflowId> {
  /** The attempt that started (1 for the first). */
  readonly attempt: number;
}

/**
 * A node completed. `data` is its output, or a {@link PayloadReference} when the output was
 * large enough to go to the payload table (read it with `engine.getExecution`).
 */
export interface NodeCompletedEvent<TNodeId extends string = string, TOutput = unknown, TWorkflowId extends string = string> extends NodeEventOf<
  'node:completed',
  TNodeId,
  TWorkflowId
> {
  /** The node's output, or the reference that stands in for a large one. */
  readonly data: TOutput | PayloadReference;
  /** How long the attempt took (ms). */
  readonly durationMs: number;
  /** The node's type. */
  readonly nodeType: string;
  /** The attempt that succeeded. */
  readonly attempt: number;
}

/** A node failed for good (no attempt left, or not retryable); `data.continued` says whether its children run anyway (`continueOnFail`). */
export interface NodeFailedEvent<TNodeId extends string = string, TWorkflowId extends string = string> extends NodeEventOf<'node:failed', TNodeId, TWorkflowId> {
  /** Whether the execution goes on without it. */
  readonly data: { readonly continued: boolean };
  /** The node's type. */
  readonly nodeType: string;
}

/** A node's attempt failed and it will be tried again. */
export interface NodeRetryingEvent<TNodeId extends string = string, TWorkflowId extends string = string> extends NodeEventOf<'node:retrying', TNodeId, TWorkflowId> {
  /** The attempt's error message. */
  readonly error: string;
  /** The attempt's structured error. */
  readonly errorDetails: SerializedError;
}

/** A node was skipped: no edge into it was active (a branch not taken). */
export interface NodeSkippedEvent<TNodeId extends string = string, TWorkflowId extends string = string> extends NodeEventOf<'node:skipped', TNodeId, TWorkflowId> {
  /** The node's type. */
  readonly nodeType: string;
}

/** A node waits before it runs: a delay node (`data.delayMs`) or a rate limit (`data.reason: 'rate-limit'`). */
export interface NodeDelayedEvent<TNodeId extends string = string, TWorkflowId extends string = string> extends NodeEventOf<'node:delayed', TNodeId, TWorkflowId> {
  /** How long it waits, and why when it is not a delay node. */
  readonly data: { readonly delayMs: number; readonly reason?: 'rate-limit' };
}

/** An execution started; a sub-workflow's `data` names its parent (`{ parentExecutionId, parentNodeId }`). */
export type WorkflowStartedEvent<TWorkflowId extends string = string> = EventOf<'workflow:started', TWorkflowId>;

/** An execution completed: every node has a result. */
export type WorkflowCompletedEvent<TWorkflowId extends string = string> = EventOf<'workflow:completed', TWorkflowId>;

/** An execution failed: `nodeId` is the node whose failure ended it, `error` and `errorDetails` its error. */
export interface WorkflowFailedEvent<TNodeId extends string = string, TWorkflowId extends string = string> extends EventOf<'workflow:failed', TWorkflowId> {
  /** The node whose failure ended the execution. */
  readonly nodeId?: TNodeId;
  /** That node's error message. */
  readonly error: string;
}

/** An execution was paused. */
export type WorkflowPausedEvent<TWorkflowId extends string = string> = EventOf<'workflow:paused', TWorkflowId>;

/** A paused execution was resumed. */
export type WorkflowResumedEvent<TWorkflowId extends string = string> = EventOf<'workflow:resumed', TWorkflowId>;

/** An execution was cancelled. */
export type WorkflowCancelledEvent<TWorkflowId extends string = string> = EventOf<'workflow:cancelled', TWorkflowId>;

/** The reconciler enqueued an execution's lost work again. */
export interface WorkflowRepairedEvent<TWorkflowId extends string = string> extends EventOf<'workflow:repaired', TWorkflowId> {
  /** What was repaired. */
  readonly data: RepairEventData;
}

/** One {@link NodeCompletedEvent} per node id, so that testing `nodeId` narrows `data` to that node's output. */
type CompletedByNode<TOutputs, TWorkflowId extends string> = { [K in keyof TOutputs & string]: NodeCompletedEvent<K, TOutputs[K], TWorkflowId> }[keyof TOutputs & string];

/**
 * The events of workflow `W` as a union discriminated by `type`: test `event.type` and the
 * fields that event always has are there; test `event.nodeId` as well on a `node:completed`
 * and `data` is that node's output. With no type argument (or an untyped definition) it is
 * every event of any workflow.
 *
 * @typeParam W - a typed workflow (e.g. a DSL-built one), for its id, node ids and outputs
 *
 * @example
 * ```ts
 * engine.subscribe(onboarding, (event: TypedSpaneEvent<typeof onboarding>) => {
 *   // data is the node's output, or a reference when the output was too large to travel in the event
 *   if (event.type === 'node:completed' && event.nodeId === 'fetch' && !isPayloadReference(event.data)) console.log(event.data.email);
 *   if (event.type === 'workflow:failed') console.error(event.nodeId, event.error);
 * });
 * ```
 */
export type TypedSpaneEvent<W = TypedWorkflow> =
  | NodeStartedEvent<WorkflowNodeId<W>, WorkflowIdOf<W>>
  | CompletedByNode<WorkflowOutputs<W>, WorkflowIdOf<W>>
  | NodeFailedEvent<WorkflowNodeId<W>, WorkflowIdOf<W>>
  | NodeRetryingEvent<WorkflowNodeId<W>, WorkflowIdOf<W>>
  | NodeSkippedEvent<WorkflowNodeId<W>, WorkflowIdOf<W>>
  | NodeDelayedEvent<WorkflowNodeId<W>, WorkflowIdOf<W>>
  | WorkflowStartedEvent<WorkflowIdOf<W>>
  | WorkflowCompletedEvent<WorkflowIdOf<W>>
  | WorkflowFailedEvent<WorkflowNodeId<W>, WorkflowIdOf<W>>
  | WorkflowPausedEvent<WorkflowIdOf<W>>
  | WorkflowResumedEvent<WorkflowIdOf<W>>
  | WorkflowCancelledEvent<WorkflowIdOf<W>>
  | WorkflowRepairedEvent<WorkflowIdOf<W>>;

/**
 * The events of `W` whose type is one of `TType`.
 *
 * @example
 * ```ts
 * type Ends = EventOfType<typeof onboarding, 'workflow:completed' | 'workflow:failed'>;
 * ```
 */
export type EventOfType<W, TType extends SpaneEventType> = Extract<TypedSpaneEvent<W>, { readonly type: TType }>;

/**
 * {@link SubscribeOptions} whose `types` narrows the events the handler receives.
 *
 * @typeParam TType - the event types listed in `types`
 *
 * @example
 * ```ts
 * engine.subscribe((e) => console.log(e.nodeId, e.error), { types: ['node:failed'] }); // e: NodeFailedEvent
 * ```
 */
export interface TypedSubscribeOptions<TType extends SpaneEventType = SpaneEventType> extends SubscribeOptions {
  /** Only these event types; the handler's event is narrowed to them. */
  readonly types?: readonly TType[];
}

/**
 * A handler of the events of `W` whose type is one of `TType`.
 *
 * @example
 * ```ts
 * const log: TypedEventHandler<typeof onboarding, 'node:completed'> = (e) => console.log(e.nodeId, e.data);
 * ```
 */
export type TypedEventHandler<W = TypedWorkflow, TType extends SpaneEventType = SpaneEventType> = (event: EventOfType<W, TType>) => void;
