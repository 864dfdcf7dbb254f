/**
 * SPANE's error hierarchy. Every error the library throws on purpose is a {@link SpaneError}
 * with a stable string `code`, so callers branch on `err.code` (or `instanceof`) rather than on
 * message text.
 *
 * @module
 */

/** Every stable error code SPANE uses. */
export type SpaneErrorCode =
  | 'NODE_INPUT_INVALID'
  | 'NODE_OUTPUT_INVALID'
  | 'WORKFLOW_VALIDATION'
  | 'WORKFLOW_NOT_FOUND'
  | 'EXECUTION_NOT_FOUND'
  | 'INVALID_CONFIG'
  | 'INVALID_ARGUMENT'
  | 'INVALID_STATE'
  | 'UNKNOWN_NODE_TYPE'
  | 'NODE_EXECUTION_FAILED'
  | 'NON_RETRYABLE'
  | 'ENGINE_CLOSED'
  | 'NOT_SUPPORTED'
  | 'MAX_DEPTH_EXCEEDED'
  | 'REDIS_UNAVAILABLE'
  | 'BACKEND_UNAVAILABLE'
  | 'CIRCUIT_OPEN'
  | 'WEBHOOK_SIGNATURE'
  | 'PAYLOAD_TOO_LARGE'
  | 'INVALID_BODY'
  | 'SUB_WORKFLOW_FAILED'
  | 'WORKFLOW_MODULE_INVALID'
  | 'PAYLOAD_NOT_FOUND'
  | 'DATA_TOO_DEEP'
  | 'MAPPING_INVALID'
  | 'HTTP_ERROR';

/** Options every {@link SpaneError} accepts. */
export interface SpaneErrorOptions {
  /** The underlying error, kept for diagnostics. */
  cause?: unknown;
}

/**
 * Base class of every error SPANE throws deliberately.
 *
 * @example
 * ```ts
 * try { await engine.enqueueWorkflow('nope', {}); }
 * catch (err) { if (err instanceof SpaneError && err.code === 'WORKFLOW_NOT_FOUND') { ... } }
 * ```
 */
export class SpaneError extends Error {
  /** Stable, machine-readable identifier of the failure. */
  readonly code: SpaneErrorCode;

  constructor(code: SpaneErrorCode, message: string, options: SpaneErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

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
  /** The id that was asked for. */
  readonly workflowId: string;
  constructor(workflowId: string, version?: number) {
    super('WORKFLOW_NOT_FOUND', `Workflow '${workflowId}'${version === undefined ? '' : ` version ${version}`} is not registered`);
    this.workflowId = workflowId;
  }
}

/** No execution with this id exists in the store. */
export class ExecutionNotFoundError extends SpaneError {
  /** The id that was asked for. */
  readonly executionId: string;
  constructor(executionId: string, options?: SpaneErrorOptions) {
    super('EXECUTION_NOT_FOUND', `Execution '${executionId}' does not exist`, options);
    this.executionId = executionId;
  }
}

/** An engine option is unknown or has the wrong type; thrown at construction. */
export class InvalidConfigError extends SpaneError {
  constructor(message: string, options?: SpaneErrorOptions) {
    super('INVALID_CONFIG', message, options);
  }
}

/** A method argument is malformed (for example a date in the past or a non-serialisable payload). */
export class InvalidArgumentError extends SpaneError {
  constructor(message: string, options?: SpaneErrorOptions) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** The operation does not apply to the execution's current status. */
export class InvalidStateError extends SpaneError {
  constructor(message: string) {
    super('INVALID_STATE', message);
  }
}

/** A node's `type` has no executor in the registry. */
export class UnknownNodeTypeError extends SpaneError {
  /** The type without an executor. */
  readonly nodeType: string;
  constructor(nodeType: string, nodeId?: string) {
    super('UNKNOWN_NODE_TYPE', `No executor is registered for node type '${nodeType}'${nodeId === undefined ? '' : ` (node '${nodeId}')`}`);
    this.nodeType = nodeType;
  }
}

/** A node's executor failed: it threw or returned `{ success: false }`. */
export class NodeExecutionError extends SpaneError {
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
  /** `code` lets subclasses keep their own stable code while staying non-retryable. */
  constructor(message: string, options?: SpaneErrorOptions, code: SpaneErrorCode = 'NON_RETRYABLE') {
    super(code, message, options);
  }
}

/** The engine was closed; it cannot take new work. */
export class EngineClosedError extends SpaneError {
  constructor(operation: string) {
    super('ENGINE_CLOSED', `Cannot ${operation}: the engine is closed`);
  }
}

/** The feature exists in the spec's API but this build does not provide it yet. */
export class NotSupportedError extends SpaneError {
  constructor(message: string) {
    super('NOT_SUPPORTED', message);
  }
}

/**
 * A sub-workflow would nest deeper than the limit (10). `chain` lists the workflow ids from the
 * top-level execution down to the one that was refused. Not retried.
 */
export class MaxDepthExceededError extends NonRetryableError {
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
  /** The execution the reference belongs to. */
  readonly executionId: string;
  /** The missing payload's id. */
  readonly payloadId: string;
  /** The node whose result or input needed the payload, when known. */
  readonly nodeId: string | undefined;
  constructor(executionId: string, payloadId: string, nodeId?: string) {
    super(`Payload '${payloadId}' of execution '${executionId}'${nodeId === undefined ? '' : ` (needed by node '${nodeId}')`} is missing from the payload store`, {}, 'PAYLOAD_NOT_FOUND');
    this.executionId = executionId;
    this.payloadId = payloadId;
    this.nodeId = nodeId;
  }
}

/** A sub-workflow's child execution failed or was cancelled. Retried per the node's policy. */
export class SubWorkflowError extends SpaneError {
  /** The child execution. */
  readonly childExecutionId: string;
  constructor(childExecutionId: string, message: string) {
    super('SUB_WORKFLOW_FAILED', message);
    this.childExecutionId = childExecutionId;
  }
}

/**
 * A webhook request was refused before anything was enqueued. `httpStatus` is what an HTTP
 * layer should answer: 401 (bad or missing signature), 413 (body too large), 400 (invalid JSON).
 */
export class WebhookRequestError extends SpaneError {
  /** The HTTP status to answer with. */
  readonly httpStatus: 400 | 401 | 413;
  constructor(code: 'WEBHOOK_SIGNATURE' | 'PAYLOAD_TOO_LARGE' | 'INVALID_BODY', message: string) {
    super(code, message);
    this.httpStatus = code === 'WEBHOOK_SIGNATURE' ? 401 : code === 'PAYLOAD_TOO_LARGE' ? 413 : 400;
  }
}

/** A node's circuit breaker is open: the call was not made. Retried per the node's retry policy. */
export class CircuitOpenError extends SpaneError {
  /** The breaker's key, e.g. `http:api.example.com`. */
  readonly breakerKey: string;
  constructor(breakerKey: string) {
    super('CIRCUIT_OPEN', `Circuit '${breakerKey}' is open: the call was not made`);
    this.breakerKey = breakerKey;
  }
}

/** Redis did not answer in time; nothing was written. */
export class RedisUnavailableError extends SpaneError {
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
  /** `redis`, `postgres` or `embedded`. */
  readonly backend: string;
  constructor(backend: string, where: string, cause?: unknown) {
    const reason = cause instanceof Error ? `: ${cause.message}` : '';
    super('BACKEND_UNAVAILABLE', `Cannot open the ${backend} backend (${where})${reason}`, { cause });
    this.backend = backend;
  }
}

/** The error as SPANE stores it (in node results, executions and DLQ items). */
export interface SerializedError {
  /** The error's message. */
  message: string;
  /** The error class name. */
  name: string;
  /** The {@link SpaneErrorCode} when it was a SpaneError. */
  code?: string;
  /** The stack trace, when known. */
  stack?: string;
}

/** Turns any thrown value into a plain, JSON-safe {@link SerializedError}. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const out: SerializedError = { message: err.message, name: err.name };
    if (err instanceof SpaneError) out.code = err.code;
    if (err.stack !== undefined) out.stack = err.stack;
    return out;
  }
  return { message: typeof err === 'string' ? err : safeString(err), name: 'Error' };
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

// --- DSL: node input/output validation errors ---

/** Where a typed-DSL node's value failed its zod schema. */
export interface NodeValidationDetails {
  /** The workflow being run. */
  readonly workflowId: string;
  /** The node whose value was refused. */
  readonly nodeId: string;
  /** Which value was refused: the node's input, its config, or what its `run` returned. */
  readonly part: 'input' | 'config' | 'output';
  /** Path of the first refused field inside that value, e.g. `user.email`; `(root)` for the value itself. */
  readonly path: string;
  /** The refused value at `path`, as JSON truncated to about 200 characters. */
  readonly received: string;
  /** Every problem the schema reported, one line each (`path: message`). */
  readonly issues: readonly string[];
}

function nodeValidationMessage(d: NodeValidationDetails): string {
  const head = `Workflow '${d.workflowId}', node '${d.nodeId}': ${d.part} does not match its schema at ${d.path} (received ${d.received})`;
  return [head, ...d.issues.map((i) => `  - ${i}`)].join('\n');
}

/**
 * A typed-DSL node received input (or config) that its zod schema refuses. A retry cannot fix
 * that, so it is a {@link NonRetryableError}: the node fails after one attempt, whatever its
 * retry policy says.
 */
export class NodeInputError extends NonRetryableError implements NodeValidationDetails {
  override readonly code = 'NODE_INPUT_INVALID' as const;
  readonly workflowId: string;
  readonly nodeId: string;
  readonly part: 'input' | 'config';
  readonly path: string;
  readonly received: string;
  readonly issues: readonly string[];
  constructor(details: NodeValidationDetails & { part: 'input' | 'config' }, options?: SpaneErrorOptions) {
    super(nodeValidationMessage(details), options);
    ({ workflowId: this.workflowId, nodeId: this.nodeId, part: this.part, path: this.path, received: this.received, issues: this.issues } = details);
  }
}

/**
 * A typed-DSL node's `run` returned a value its output schema refuses. Non-retryable like
 * {@link NodeInputError}: running the same code again returns the same kind of value.
 */
export class NodeOutputError extends NonRetryableError implements NodeValidationDetails {
  override readonly code = 'NODE_OUTPUT_INVALID' as const;
  readonly workflowId: string;
  readonly nodeId: string;
  readonly part = 'output' as const;
  readonly path: string;
  readonly received: string;
  readonly issues: readonly string[];
  constructor(details: Omit<NodeValidationDetails, 'part'>, options?: SpaneErrorOptions) {
    super(nodeValidationMessage({ ...details, part: 'output' }), options);
    ({ workflowId: this.workflowId, nodeId: this.nodeId, path: this.path, received: this.received, issues: this.issues } = details);
  }
}

/**
 * A value nests deeper than the limit (`MAX_DATA_DEPTH`, 256 levels of objects and arrays), so it
 * is refused before anything is stored or enqueued: deeper values overflow the call stack of
 * `JSON.stringify` and `structuredClone` on their way to the store and the queues. An
 * {@link InvalidArgumentError} with its own code; an HTTP layer answers 400.
 */
export class DataTooDeepError extends InvalidArgumentError {
  override readonly code = 'DATA_TOO_DEEP' as const;
  /** The limit that was exceeded, in levels. */
  readonly maxDepth: number;
  constructor(message: string, maxDepth: number) {
    super(message);
    this.maxDepth = maxDepth;
  }
}

/**
 * A dotted-path mapping (`applyMapping`: a sub-workflow's `inputMapping` or `outputMapping`) is
 * malformed, or the data it maps is not an object. Not retried: the same mapping of the same data
 * fails the same way.
 */
export class MappingError extends NonRetryableError {
  constructor(message: string) {
    super(message, {}, 'MAPPING_INVALID');
  }
}

/** What {@link HttpError} and {@link NonRetryableHttpError} tell about the failed call. */
export interface HttpErrorDetails {
  /** The HTTP status of the answer. */
  readonly status: number;
  /** The request method. */
  readonly method: string;
  /** The URL without its query string, fragment or credentials (those may hold secrets). */
  readonly url: string;
}

function httpErrorMessage(d: HttpErrorDetails, statusText: string, why: string | undefined): string {
  return `${d.method} ${d.url} -> ${d.status}${statusText === '' ? '' : ` ${statusText}`}${why === undefined ? '' : `: ${why}`}`;
}

/**
 * An `http` node's call got an answer it cannot use: a 5xx, 408 or 429 status (or a body that is
 * not JSON). Retried per the node's retry policy. The message (`GET https://api.example.com/v1/users
 * -> 503 Service Unavailable`) leaves out the query string and both bodies. Other 4xx answers are
 * a {@link NonRetryableHttpError}; both have the code `HTTP_ERROR`.
 */
export class HttpError extends SpaneError implements HttpErrorDetails {
  /** The HTTP status of the answer. */
  readonly status: number;
  /** The request method. */
  readonly method: string;
  /** The URL without its query string, fragment or credentials. */
  readonly url: string;
  /** Whether a retry may help: true for this class. */
  readonly retryable: boolean = true;
  constructor(details: HttpErrorDetails, statusText = '', why?: string) {
    super('HTTP_ERROR', httpErrorMessage(details, statusText, why));
    ({ status: this.status, method: this.method, url: this.url } = details);
  }
}

/**
 * An `http` node's call was answered with a 4xx status other than 408 and 429: the request itself
 * is wrong (404, 401, 400, ...), so it fails after one attempt whatever the retry policy says.
 * Code `HTTP_ERROR`, like {@link HttpError}; the message leaves out the query string and bodies.
 */
export class NonRetryableHttpError extends NonRetryableError implements HttpErrorDetails {
  /** The HTTP status of the answer. */
  readonly status: number;
  /** The request method. */
  readonly method: string;
  /** The URL without its query string, fragment or credentials. */
  readonly url: string;
  /** Whether a retry may help: false for this class. */
  readonly retryable: boolean = false;
  constructor(details: HttpErrorDetails, statusText = '') {
    super(httpErrorMessage(details, statusText, undefined), {}, 'HTTP_ERROR');
    ({ status: this.status, method: this.method, url: this.url } = details);
  }
}
