/**
 * The workflow contract: the JSON shapes that the DSL produces and the runtime executes.
 * Nothing here depends on BullMQ, Redis or a store.
 *
 * @module
 */
import type { SerializedError } from '../errors.js';

/**
 * How often and how a failing node is retried, and what happens after the last attempt.
 */
export interface RetryPolicy {
  /**
   * Total attempts, the first included.
   * @defaultValue 1
   */
  maxAttempts?: number;
  /** Wait between attempts. */
  backoff?: {
    /** `fixed` waits `delay` every time; `exponential` waits `delay * 2^(attempt-1)`. */
    type: 'fixed' | 'exponential';
    /** Base wait in milliseconds. */
    delay: number;
  };
  /**
   * After the last failed attempt, record the failure and run the node's children anyway
   * (they receive `{ error }` as this parent's data). When false the execution fails.
   * @defaultValue false
   */
  continueOnFail?: boolean;
}

/** Circuit breaker settings for nodes that call external systems. */
export interface CircuitBreakerConfig {
  /** Consecutive failures that open the circuit. */
  failureThreshold?: number;
  /** Successes in half-open state that close it again. */
  successThreshold?: number;
  /** How long the circuit stays open, in milliseconds. */
  timeout?: number;
}

/**
 * A node's `config`. Free-form JSON for the executor, plus the keys SPANE itself reads.
 * Values are `any` on purpose: this is the untyped JSON boundary the spec's executors
 * destructure directly; the typed DSL gives precise types instead.
 */
export interface NodeConfig {
  /** Retry behaviour of this node. */
  retryPolicy?: RetryPolicy;
  /** Circuit breaker for this node's external calls. */
  circuitBreaker?: CircuitBreakerConfig;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the untyped JSON boundary the spec's executors destructure (see above)
  [key: string]: any;
}

/** One node of a workflow graph. */
export interface NodeDefinition {
  /** Unique within the workflow; letters, digits, `_`, `-` and `.` only. */
  id: string;
  /** Executor type, looked up in the {@link NodeRegistry}; `delay` is built in. */
  type: string;
  /** Configuration handed to the executor as `context.nodeConfig`. */
  config: NodeConfig;
  /** Ids of the parents. Must mirror the parents' `outputs`. */
  inputs: string[];
  /** Ids of the children. Must mirror the children's `inputs`. */
  outputs: string[];
  /** Optional retry policy; overrides `config.retryPolicy` when both are given. */
  retryPolicy?: RetryPolicy;
  /** Optional display name. */
  name?: string;
  /**
   * Whether this node may run eagerly: in the job of the parent that made it ready, right after
   * that parent, instead of in a job of its own (see the engine option `eagerChains`). Wins over
   * the workflow's `eager` and the engine's option.
   * @defaultValue the workflow's `eager`
   */
  eager?: boolean;
}

/**
 * Where a webhook trigger's secret comes from. A string is the secret itself, stored in the
 * definition (and so in the store, in every version). `{ env }` names an environment variable
 * and `{ ref }` a name for the engine's `resolveWebhookSecret` option; both are looked up on each
 * request, so only the reference is stored.
 */
export type WebhookSecret = string | { env: string } | { ref: string };

/** A webhook that starts the workflow. */
export interface WebhookTrigger {
  type: 'webhook';
  config: {
    /** Path segment the HTTP layer routes, e.g. `user-signup`. */
    path: string;
    /** HTTP method to match; any method when omitted. */
    method?: string;
    /**
     * Shared secret: requests must carry `X-Spane-Signature: sha256=<hex>`, the HMAC-SHA256 of
     * the raw body (see `engine.handleWebhook` and `signWebhook`), or the Standard Webhooks
     * headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`; a `whsec_` secret). A
     * reference (`{ env }`, `{ ref }`) keeps the secret itself out of the definition.
     */
    secret?: WebhookSecret;
    /**
     * With a secret: also require `X-Spane-Timestamp` (unix seconds) within this many seconds of
     * now, and sign `<timestamp>.<body>` instead of the body, so a captured request cannot be
     * replayed later.
     */
    toleranceSeconds?: number;
  };
}

/** A cron schedule that starts the workflow. */
export interface ScheduleTrigger {
  type: 'schedule';
  config: {
    /** Five- or six-field cron pattern. */
    cron: string;
    /** IANA timezone; the server's when omitted. */
    timezone?: string;
    /** Initial data given to each scheduled execution. */
    data?: unknown;
  };
}

/** Anything that starts a workflow on its own. */
export type WorkflowTrigger = WebhookTrigger | ScheduleTrigger;

/**
 * A workflow: a directed acyclic graph of nodes. Plain JSON, so it can be stored, versioned and
 * sent between processes.
 */
export interface WorkflowDefinition {
  /** Unique id; letters, digits, `_`, `-` and `.` only. */
  id: string;
  /** Human-readable name. */
  name: string;
  /** The node that receives the execution's initial data. */
  entryNodeId: string;
  /** Every node of the graph. */
  nodes: NodeDefinition[];
  /** Triggers that start executions on their own. */
  triggers?: WorkflowTrigger[];
  /** Optional description. */
  description?: string;
  /**
   * Whether this workflow's nodes may run eagerly (see the engine option `eagerChains`); a node's
   * own `eager` wins over it.
   * @defaultValue the engine's `eagerChains`
   */
  eager?: boolean;
  /** Version assigned by the store when registered. */
  version?: number;
}

/** Lifecycle of one workflow execution. */
export type ExecutionStatus = 'pending' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled';

/** Statuses after which nothing more runs. */
export const TERMINAL_STATUSES: readonly ExecutionStatus[] = ['completed', 'failed', 'cancelled'];

/** How one node ended. */
export type NodeResultStatus = 'completed' | 'failed' | 'skipped';

/** What the store keeps about a settled node. */
export interface NodeResult {
  /** How the node ended. */
  status: NodeResultStatus;
  /** The executor's output (also kept when falsy: `0`, `false`, `''`). */
  data?: unknown;
  /** Why it failed: the error's message. */
  error?: string;
  /**
   * Why it failed, structured: the error's `name`, `code`, `retryable` and `cause` chain (see
   * {@link SerializedError}), so a `NODE_INPUT_INVALID` can be told from a `CIRCUIT_OPEN` or a thrown
   * `TypeError` after the fact. Set on failed results.
   */
  errorDetails?: SerializedError;
  /** The branches the node chose, when it returned `nextNodes`. */
  nextNodes?: string[];
  /** Attempts used, the successful one included. */
  attempts: number;
  /** When the node started (epoch ms). */
  startedAt?: number;
  /** When the node settled (epoch ms). */
  completedAt: number;
}

/** One run of a workflow. */
export interface WorkflowExecution {
  /** Unique id of this run. */
  executionId: string;
  /** The workflow it runs. */
  workflowId: string;
  /** The workflow version it runs, fixed when it started. */
  workflowVersion: number;
  /** Where it is in its lifecycle. */
  status: ExecutionStatus;
  /** The data the entry node receives. */
  initialData: unknown;
  /** Result of every settled node, by node id. */
  nodeResults: Record<string, NodeResult>;
  /** The execution that started this one as a sub-workflow. */
  parentExecutionId?: string;
  /** The node of the parent execution that started this one. */
  parentNodeId?: string;
  /** Nesting level: 0 for a top-level execution. */
  depth: number;
  /** When it was created (epoch ms). */
  startedAt: number;
  /** When it reached a terminal status (epoch ms). */
  completedAt?: number;
  /** Why it failed, when it did. */
  error?: string;
  /** The error of the node that failed the execution, structured (see {@link NodeResult.errorDetails}). */
  errorDetails?: SerializedError;
  /** When it was last paused (epoch ms), while paused. */
  pausedAt?: number;
  /**
   * The OpenTelemetry trace the execution belongs to (32 hex digits), when it was created with
   * tracing on (docs/tracing.md).
   */
  traceId?: string;
  /**
   * The W3C `traceparent` of the execution's `spane.execution` span: every node job of the
   * execution carries it, so node spans in any process are its children.
   */
  traceParent?: string;
  /**
   * Set on an execution made by `engine.forkExecution`: the execution it was forked from and the
   * node the re-run started at. The original execution is left as it was.
   */
  forkedFrom?: ForkedFrom;
}

/** Where a forked execution came from (see {@link WorkflowExecution.forkedFrom}). */
export interface ForkedFrom {
  /** The execution that was forked. */
  executionId: string;
  /** The node the fork re-ran from (it and everything below it ran again). */
  nodeId: string;
}

/**
 * What an executor receives. `inputData` and `nodeConfig` default to `any` so that the spec's
 * untyped executors can destructure them directly; pass type arguments for precision.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the spec's untyped executors destructure `inputData` directly (see above)
export interface ExecutionContext<TInput = any, TConfig = NodeConfig> {
  /** The workflow being run. */
  workflowId: string;
  /** The execution being run. */
  executionId: string;
  /** The node being run. */
  nodeId: string;
  /** The node's type. */
  nodeType: string;
  /** Input: the initial data for the entry node, one parent's data, or `{ [parentId]: data }`. */
  inputData: TInput;
  /** The node's `config`. */
  nodeConfig: TConfig;
  /**
   * Results of this node's parents (its `inputs`), keyed by parent id; a parent that was skipped
   * is there too, as `skipped`. Only the parents: a node job reads nothing else of its execution,
   * so its cost does not grow with the workflow. Read `engine.getExecution` for the rest.
   */
  previousResults: Record<string, NodeResult>;
  /** The data the execution started with. */
  initialData: unknown;
  /**
   * Attempt number under the node's retry policy, starting at 1: what `maxAttempts` counts. Not a
   * dedupe key: a run repeated for reasons outside the policy (the worker died or lost its lock,
   * or writing the result failed because the store or Redis was down) gets the same number again.
   * Use {@link ExecutionContext.idempotencyKey} to make side effects happen once.
   */
  attempt: number;
  /**
   * The same for every run of this node in this execution: retries, runs repeated after a crash
   * or an infrastructure fault, and a DLQ retry (`retryDLQItem`). Different for every other node
   * and every other execution, so `replayWorkflow` and `forkExecution` (new executions) get new
   * keys, as does the child of a sub-workflow node that is retried (each attempt starts a new
   * child). Pass it to the external system as its idempotency key (a payment API's
   * `Idempotency-Key`, a unique column) so that a repeated run does not repeat the effect. Opaque:
   * compare it, do not parse it; at most a few hundred characters of `[A-Za-z0-9_.:-]` when the
   * execution id is a UUID.
   */
  idempotencyKey: string;
  /** Sub-workflow nesting level (0 at the top). */
  depth: number;
  /** The execution that started this one, for sub-workflows. */
  parentExecutionId?: string;
  /** Aborted when the execution is cancelled while the node runs. */
  signal?: AbortSignal;
}

/** What an executor returns. */
export interface ExecutionResult<TOutput = unknown> {
  /** False marks the attempt as failed; it is retried like a thrown error. */
  success: boolean;
  /** The node's output, given to its children. */
  data?: TOutput;
  /** Why it failed, when `success` is false. */
  error?: string;
  /**
   * With `success: false`: `false` fails the node at once, without the remaining attempts of its
   * retry policy, as throwing a `NonRetryableError` does.
   * @defaultValue true
   */
  retryable?: boolean;
  /** For branching: only these children run; the others (and everything only below them) are skipped. */
  nextNodes?: string[];
}

/**
 * Runs one kind of node.
 *
 * @example
 * ```ts
 * class Uppercase implements INodeExecutor {
 *   async execute(ctx: ExecutionContext): Promise<ExecutionResult> {
 *     return { success: true, data: String(ctx.inputData.text).toUpperCase() };
 *   }
 * }
 * ```
 */
export interface INodeExecutor {
  /** Runs the node once. Throwing and returning `{ success: false }` are both failures. */
  execute(context: ExecutionContext): Promise<ExecutionResult>;
}

/**
 * Symbol under which a built workflow carries the executors of its node kinds. Symbol-keyed, so
 * `JSON.stringify` leaves it out and the definition stays plain JSON.
 */
export const NODE_EXECUTORS: unique symbol = Symbol.for('spane.nodeExecutors');

/** An executor a built workflow brings along for one node type. */
export interface CarriedExecutor {
  /** The node type it runs. */
  type: string;
  /** The executor. */
  executor: INodeExecutor;
  /** A rate limit for the type: at most `max` runs per `duration` ms across all workers. */
  rateLimit?: { max: number; duration: number };
}

/**
 * Symbol under which a DSL-built workflow carries the schema of its input (from
 * `workflow(id, { input })`). The engine checks the data of every start against it.
 */
export const WORKFLOW_INPUT_SCHEMA: unique symbol = Symbol.for('spane.workflowInputSchema');

/** One problem a schema reports: a message and the path of the refused field. */
export interface SchemaIssue {
  /** What is wrong. */
  readonly message: string;
  /** Where: keys and indexes from the root (absent or empty for the value itself). */
  readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
}

/**
 * A schema the engine can check a workflow's input with: any [Standard
 * Schema](https://standardschema.dev) (zod 4, valibot, arktype ...). Only `validate` is used; its
 * result's `value` is not: the execution starts with the data as given.
 */
export interface WorkflowInputSchema {
  /** The Standard Schema interface. */
  readonly '~standard': {
    /** Checks a value; `issues` is present when it is refused. */
    readonly validate: (value: unknown) => { readonly issues?: readonly SchemaIssue[] | undefined } | Promise<{ readonly issues?: readonly SchemaIssue[] | undefined }>;
  };
}

/**
 * A definition that may carry executors and an input schema (the typed DSL's `build()` returns
 * one). {@link WorkflowEngine.registerWorkflow} registers the carried executors before validating,
 * and remembers the input schema for every later start.
 */
export type WorkflowDefinitionWithExecutors = WorkflowDefinition & {
  readonly [NODE_EXECUTORS]?: readonly CarriedExecutor[];
  readonly [WORKFLOW_INPUT_SCHEMA]?: WorkflowInputSchema;
};
