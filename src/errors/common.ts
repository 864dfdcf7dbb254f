/**
 * The errors the engine, the stores and the definitions throw for the cases a caller handles.
 *
 * @module
 */
import { SpaneError } from './base.js';
import type { SpaneErrorCode, SpaneErrorOptions } from './base.js';
import { brand } from './brand.js';

/** One problem found while validating a workflow definition. */
export interface ValidationIssue {
  /** What kind of problem it is. */
  readonly rule:
    | 'schema'
    | 'duplicate-node'
    | 'unsafe-id'
    | 'missing-node'
    | 'edge-mismatch'
    | 'missing-entry'
    | 'cycle'
    | 'unreachable'
    | 'unknown-type'
    | 'invalid-config'
    | 'invalid-trigger';
  /** Dotted path into the definition where the problem is, e.g. `nodes[2].outputs`. */
  readonly path: string;
  /** Human-readable description naming the offending ids. */
  readonly message: string;
}

/**
 * A workflow definition was refused. `issues` lists every problem found, not only the first,
 * and nothing was stored or scheduled.
 */
export class WorkflowValidationError extends SpaneError {
  static {
    brand(this, 'WorkflowValidationError');
  }

  /** The id of the refused workflow, when it had one. */
  readonly workflowId: string | undefined;
  /** Every problem found. */
  readonly issues: readonly ValidationIssue[];

  constructor(workflowId: string | undefined, issues: readonly ValidationIssue[]) {
    const head = `Workflow ${workflowId === undefined ? '(no id)' : `'${workflowId}'`} is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'}):`;
    super('WORKFLOW_VALIDATION', [head, ...issues.map((i) => `  - ${i.path}: ${i.message}`)].join('\n'));
    this.workflowId = workflowId;
    this.issues = issues;
  }
}

/** No workflow with this id (and version, when given) is registered. */
export class WorkflowNotFoundError extends SpaneError {
  static {
    brand(this, 'WorkflowNotFoundError');
  }

  /** The id that was asked for. */
  readonly workflowId: string;
  constructor(workflowId: string, version?: number) {
    super('WORKFLOW_NOT_FOUND', `Workflow '${workflowId}'${version === undefined ? '' : ` version ${version}`} is not registered`);
    this.workflowId = workflowId;
  }
}

/** No execution with this id exists in the store. */
export class ExecutionNotFoundError extends SpaneError {
  static {
    brand(this, 'ExecutionNotFoundError');
  }

  /** The id that was asked for. */
  readonly executionId: string;
  constructor(executionId: string, options?: SpaneErrorOptions) {
    super('EXECUTION_NOT_FOUND', `Execution '${executionId}' does not exist`, options);
    this.executionId = executionId;
  }
}

/** An engine option is unknown or has the wrong type; thrown at construction. */
export class InvalidConfigError extends SpaneError {
  static {
    brand(this, 'InvalidConfigError');
  }

  constructor(message: string, options?: SpaneErrorOptions) {
    super('INVALID_CONFIG', message, options);
  }
}

/** A method argument is malformed (for example a date in the past or a non-serialisable payload). */
export class InvalidArgumentError extends SpaneError {
  static {
    brand(this, 'InvalidArgumentError');
  }

  constructor(message: string, options?: SpaneErrorOptions) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** The operation does not apply to the execution's current status. */
export class InvalidStateError extends SpaneError {
  static {
    brand(this, 'InvalidStateError');
  }

  constructor(message: string) {
    super('INVALID_STATE', message);
  }
}

/** A node's `type` has no executor in the registry. */
export class UnknownNodeTypeError extends SpaneError {
  static {
    brand(this, 'UnknownNodeTypeError');
  }

  /** The type without an executor. */
  readonly nodeType: string;
  constructor(nodeType: string, nodeId?: string) {
    super('UNKNOWN_NODE_TYPE', `No executor is registered for node type '${nodeType}'${nodeId === undefined ? '' : ` (node '${nodeId}')`}`);
    this.nodeType = nodeType;
  }
}

/** A node's executor failed: it threw or returned `{ success: false }`. */
export class NodeExecutionError extends SpaneError {
  static {
    brand(this, 'NodeExecutionError');
  }

  /** The node that failed. */
  readonly nodeId: string;
  constructor(nodeId: string, message: string, options?: SpaneErrorOptions) {
    super('NODE_EXECUTION_FAILED', message, options);
    this.nodeId = nodeId;
  }
}

/**
 * Throw this from an executor to fail the node at once, without the remaining attempts of its
 * retry policy (for faults that a retry cannot fix, such as invalid input).
 */
export class NonRetryableError extends SpaneError {
  static {
    brand(this, 'NonRetryableError');
  }

  /** `code` lets subclasses keep their own stable code while staying non-retryable. */
  constructor(message: string, options?: SpaneErrorOptions, code: SpaneErrorCode = 'NON_RETRYABLE') {
    super(code, message, options);
  }
}

/** The engine was closed; it cannot take new work. */
export class EngineClosedError extends SpaneError {
  static {
    brand(this, 'EngineClosedError');
  }

  constructor(operation: string) {
    super('ENGINE_CLOSED', `Cannot ${operation}: the engine is closed`);
  }
}

/** The feature exists in the spec's API but this build does not provide it yet. */
export class NotSupportedError extends SpaneError {
  static {
    brand(this, 'NotSupportedError');
  }

  constructor(message: string) {
    super('NOT_SUPPORTED', message);
  }
}

/**
 * A sub-workflow would nest deeper than the limit (10). `chain` lists the workflow ids from the
 * top-level execution down to the one that was refused. Not retried.
 */
export class MaxDepthExceededError extends NonRetryableError {
  static {
    brand(this, 'MaxDepthExceededError');
  }

  /** Workflow ids from the top-level execution to the refused child. */
  readonly chain: readonly string[];
  constructor(chain: readonly string[], maxDepth: number) {
    super(`Sub-workflow nesting deeper than ${maxDepth} levels: ${chain.join(' -> ')}`, {}, 'MAX_DEPTH_EXCEEDED');
    this.chain = chain;
  }
}

/**
 * A claim-check reference points at a payload the store does not hold (deleted by hand, or the
 * write that should have stored it never completed). Names the execution, the payload and, when
 * known, the node whose data it is or whose input needed it. Not retried: the data is gone.
 */
export class PayloadNotFoundError extends NonRetryableError {
  static {
    brand(this, 'PayloadNotFoundError');
  }

  /** The execution the reference belongs to. */
  readonly executionId: string;
  /** The missing payload's id. */
  readonly payloadId: string;
  /** The node whose result or input needed the payload, when known. */
  readonly nodeId: string | undefined;
  constructor(executionId: string, payloadId: string, nodeId?: string) {
    super(
      `Payload '${payloadId}' of execution '${executionId}'${nodeId === undefined ? '' : ` (needed by node '${nodeId}')`} is missing from the payload store`,
      {},
      'PAYLOAD_NOT_FOUND',
    );
    this.executionId = executionId;
    this.payloadId = payloadId;
    this.nodeId = nodeId;
  }
}

/** A sub-workflow's child execution failed or was cancelled. Retried per the node's policy. */
export class SubWorkflowError extends SpaneError {
  static {
    brand(this, 'SubWorkflowError');
  }

  /** The child execution. */
  readonly childExecutionId: string;
  /** `options.cause`: the child's failure (its execution's `errorDetails`, via {@link deserializeError}). */
  constructor(childExecutionId: string, message: string, options?: SpaneErrorOptions) {
    super('SUB_WORKFLOW_FAILED', message, options);
    this.childExecutionId = childExecutionId;
  }
}

/** A node's circuit breaker is open: the call was not made. Retried per the node's retry policy. */
export class CircuitOpenError extends SpaneError {
  static {
    brand(this, 'CircuitOpenError');
  }

  /** The breaker's key, e.g. `http:api.example.com`. */
  readonly breakerKey: string;
  constructor(breakerKey: string) {
    super('CIRCUIT_OPEN', `Circuit '${breakerKey}' is open: the call was not made`);
    this.breakerKey = breakerKey;
  }
}

/** Redis did not answer in time; nothing was written. */
export class RedisUnavailableError extends SpaneError {
  static {
    brand(this, 'RedisUnavailableError');
  }

  constructor(operation: string, waitedMs: number) {
    super('REDIS_UNAVAILABLE', `Cannot ${operation}: Redis did not answer within ${waitedMs} ms`);
  }
}

/**
 * A workflow module (the file given to the `spane` command) could not be used: it does not exist,
 * failed to load, exports no workflow, or exports something of the wrong shape. `file` is the
 * path as given; the message says what was expected.
 */
export class WorkflowModuleError extends SpaneError {
  static {
    brand(this, 'WorkflowModuleError');
  }

  /** The module, as given on the command line. */
  readonly file: string;
  constructor(file: string, message: string, options?: SpaneErrorOptions) {
    super('WORKFLOW_MODULE_INVALID', `${file}: ${message}`, options);
    this.file = file;
  }
}

/**
 * A queue backend could not be opened: the PostgreSQL server did not answer, BullMQ's migrations
 * failed, or PGlite could not open its data directory. `backend` names which one.
 */
export class BackendUnavailableError extends SpaneError {
  static {
    brand(this, 'BackendUnavailableError');
  }

  /** `redis`, `postgres` or `embedded`. */
  readonly backend: string;
  constructor(backend: string, where: string, cause?: unknown) {
    const reason = cause instanceof Error ? `: ${cause.message}` : '';
    super('BACKEND_UNAVAILABLE', `Cannot open the ${backend} backend (${where})${reason}`, { cause });
    this.backend = backend;
  }
}
