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
  | 'WEBHOOK_REQUEST_INVALID'
  | 'WEBHOOK_PATH_TOO_LONG'
  | 'WEBHOOK_IN_PROGRESS'
  | 'STORE_UNAVAILABLE'
  | 'DATA_TOO_DEEP'
  | 'MAPPING_INVALID'
  | 'HTTP_ERROR';

/** Options every {@link SpaneError} accepts. */
export interface SpaneErrorOptions {
  /** The underlying error, kept for diagnostics. */
  cause?: unknown;
}

/** Where a branded class keeps the symbol its instances carry (on their prototype). */
const CLASS_BRAND: unique symbol = Symbol.for('spane.error.brand');

/**
 * Brands an error class: its prototype carries `Symbol.for('spane.error:<name>')`, the same symbol
 * in every copy of SPANE loaded in the process (ESM and CommonJS builds, a module with its own
 * installed copy, a module the CLI loaded with another loader), and `instanceof` checks for it.
 * Subclasses inherit the prototype marks of their ancestors, so one instance answers `instanceof`
 * for its whole class chain. As in Temporal's `SymbolBasedInstanceOfError`.
 */
function brand(cls: abstract new (...args: never[]) => Error, name: string): void {
  const mark = Symbol.for(`spane.error:${name}`);
  Object.defineProperty(cls, CLASS_BRAND, { value: mark });
  Object.defineProperty(cls.prototype, mark, { value: true });
}

/**
 * Base class of every error SPANE throws deliberately.
 *
 * `instanceof` works across copies of the library: an error thrown by another copy of SPANE (an
 * executors module that bundles or installs its own) is still `instanceof SpaneError` and of its
 * own class here, because each class checks for a brand (`Symbol.for('spane.error:<ClassName>')`)
 * rather than for its constructor. A subclass you write without a brand is checked the ordinary way.
 *
 * @example
 * ```ts
 * try { await engine.enqueueWorkflow('nope', {}); }
 * catch (err) { if (err instanceof SpaneError && err.code === 'WORKFLOW_NOT_FOUND') { ... } }
 * ```
 */
export class SpaneError extends Error {
  static {
    brand(this, 'SpaneError');
  }

  /**
   * `value instanceof Class`: by the class's brand when it has one of its own (every SPANE class),
   * else (a subclass you wrote) by the prototype chain, as plain `instanceof` does.
   */
  static override [Symbol.hasInstance]<T>(this: abstract new (...args: never[]) => T, value: unknown): value is T {
    const mark = Object.hasOwn(this, CLASS_BRAND) ? (this as unknown as { [CLASS_BRAND]: symbol })[CLASS_BRAND] : undefined;
    if (mark === undefined) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[mark] === true;
  }

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
    super(`Payload '${payloadId}' of execution '${executionId}'${nodeId === undefined ? '' : ` (needed by node '${nodeId}')`} is missing from the payload store`, {}, 'PAYLOAD_NOT_FOUND');
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

/** The codes of a {@link WebhookRequestError}. */
export type WebhookErrorCode = 'WEBHOOK_SIGNATURE' | 'PAYLOAD_TOO_LARGE' | 'INVALID_BODY' | 'WEBHOOK_REQUEST_INVALID' | 'WEBHOOK_PATH_TOO_LONG' | 'WEBHOOK_IN_PROGRESS';

const WEBHOOK_STATUS = {
  WEBHOOK_SIGNATURE: 401,
  PAYLOAD_TOO_LARGE: 413,
  INVALID_BODY: 400,
  WEBHOOK_REQUEST_INVALID: 400,
  WEBHOOK_PATH_TOO_LONG: 414,
  WEBHOOK_IN_PROGRESS: 409,
} as const satisfies Record<WebhookErrorCode, number>;

/**
 * A webhook request was refused before anything was enqueued. `httpStatus` is what an HTTP
 * layer should answer: 401 (no such webhook, or a bad, missing or expired signature: one answer
 * for all of them), 413 (body too large), 400 (malformed request or body), 414 (path too long),
 * 409 (the same delivery is being started by another request right now: retry).
 */
export class WebhookRequestError extends SpaneError {
  static {
    brand(this, 'WebhookRequestError');
  }

  /** The HTTP status to answer with. */
  readonly httpStatus: (typeof WEBHOOK_STATUS)[WebhookErrorCode];
  /**
   * Why a request was refused with the uniform 401, for your logs only (never send it to the
   * caller: it says whether the path exists). Not enumerable, so serialising the error leaves
   * it out.
   */
  declare readonly reason: string | undefined;
  constructor(code: WebhookErrorCode, message: string, reason?: string) {
    super(code, message);
    this.httpStatus = WEBHOOK_STATUS[code];
    Object.defineProperty(this, 'reason', { value: reason, enumerable: false });
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

/**
 * The error as SPANE stores it: on failed node results, failed executions and DLQ items (as
 * `errorDetails`), and on `node:failed`, `node:retrying` and `workflow:failed` events. Plain JSON,
 * so it reads back the same from every store and across worker threads; match on `code` (or
 * `name`) after the fact. Nothing is added beyond what the error itself says: its message, class
 * name, code, whether SPANE would retry it, its cause chain and stack.
 */
export interface SerializedError {
  /** The error's message. */
  message: string;
  /** The error's class name (`err.name`): `NodeInputError`, `TypeError`, ... */
  name: string;
  /**
   * The {@link SpaneErrorCode} of a SpaneError; for another error, its own string `code` when it
   * has one (Node's `ECONNREFUSED`, a driver's SQLSTATE, ...).
   */
  code?: string;
  /**
   * Whether a retry could help: false for a {@link NonRetryableError} (and its subclasses, from any
   * copy of SPANE), BullMQ's `UnrecoverableError`, an error with `retryable: false` or
   * `nonRetryable: true`, and failures the runtime itself does not retry (see {@link isRetryable}).
   */
  retryable: boolean;
  /** The error's `cause`, serialised the same way, at most {@link MAX_CAUSE_DEPTH} levels deep. */
  cause?: SerializedError;
  /** The stack trace, when known (at most 4,000 characters). */
  stack?: string;
}

/** How many levels of `cause` {@link serializeError} keeps below the error itself. */
export const MAX_CAUSE_DEPTH = 5;

const MAX_STACK_CHARS = 4000;
const MAX_CODE_CHARS = 100;

/**
 * Whether SPANE retries `err` when an executor throws it (under the node's retry policy). False
 * for a {@link NonRetryableError} or a subclass (recognised by brand, so also from another copy of
 * SPANE), for BullMQ's `UnrecoverableError` (by name, as BullMQ itself checks), and for any error
 * that says so as data: `retryable: false` or `nonRetryable: true`. True for everything else.
 *
 * @example
 * ```ts
 * throw Object.assign(new Error('card declined'), { retryable: false }); // runs once
 * ```
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof NonRetryableError) return false;
  if (typeof err !== 'object' || err === null) return true;
  const e = err as { name?: unknown; retryable?: unknown; nonRetryable?: unknown };
  return !(e.name === 'UnrecoverableError' || e.retryable === false || e.nonRetryable === true);
}

/**
 * Turns any thrown value into a plain, JSON-safe {@link SerializedError}, with its cause chain
 * (at most {@link MAX_CAUSE_DEPTH} levels; a cycle ends it). `retryable` is {@link isRetryable}'s
 * answer. A thrown non-Error becomes its text; a non-Error `cause` is not copied (it may hold
 * data), only noted.
 */
export function serializeError(err: unknown): SerializedError {
  return serializeLevel(err, 0, new Set());
}

function serializeLevel(err: unknown, depth: number, seen: Set<unknown>): SerializedError {
  if (!isErrorLike(err)) {
    const message = typeof err === 'string' ? err : depth === 0 ? safeString(err) : `a non-Error cause (${err === null ? 'null' : typeof err})`;
    return { message, name: 'Error', retryable: isRetryable(err) };
  }
  seen.add(err);
  const out: SerializedError = { message: String(err.message), name: String(err.name), retryable: isRetryable(err) };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.length <= MAX_CODE_CHARS) out.code = code;
  if (typeof err.stack === 'string') out.stack = err.stack.slice(0, MAX_STACK_CHARS);
  const cause = (err as { cause?: unknown }).cause;
  if (cause !== undefined && depth < MAX_CAUSE_DEPTH && !seen.has(cause)) out.cause = serializeLevel(cause, depth + 1, seen);
  return out;
}

/**
 * The stored form of an error read from untrusted JSON (a job, an event, a row written by another
 * version), or undefined when it is not one. Unknown keys are dropped.
 */
export function asSerializedError(value: unknown, depth = 0): SerializedError | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v['message'] !== 'string' || typeof v['name'] !== 'string') return undefined;
  const out: SerializedError = { message: v['message'], name: v['name'], retryable: v['retryable'] !== false };
  if (typeof v['code'] === 'string') out.code = v['code'];
  if (typeof v['stack'] === 'string') out.stack = v['stack'];
  const cause = depth < MAX_CAUSE_DEPTH ? asSerializedError(v['cause'], depth + 1) : undefined;
  if (cause !== undefined) out.cause = cause;
  return out;
}

/** An Error rebuilt by {@link deserializeError}: the stored fields, and the cause chain as Errors. */
export interface DeserializedError extends Error {
  /** {@link SerializedError.code}. */
  code?: string;
  /** {@link SerializedError.retryable}. */
  retryable: boolean;
}

/**
 * Turns a {@link SerializedError} back into an `Error` with the same `name`, `message`, `code`,
 * `retryable`, `stack` and `cause` chain. It is a plain `Error`, not an instance of the original
 * class (whose other fields were not stored): match on `code` or `name`.
 * `serializeError(deserializeError(s))` equals `s`.
 *
 * @example
 * ```ts
 * const failed = (await engine.getExecution(id))!.nodeResults['charge'];
 * if (failed?.errorDetails) throw deserializeError(failed.errorDetails);
 * ```
 */
export function deserializeError(serialized: SerializedError): DeserializedError {
  const err = new Error(serialized.message) as DeserializedError;
  Object.defineProperty(err, 'name', { value: serialized.name, writable: true, configurable: true });
  if (serialized.code !== undefined) err.code = serialized.code;
  err.retryable = serialized.retryable;
  if (serialized.stack !== undefined) err.stack = serialized.stack;
  else delete err.stack;
  if (serialized.cause !== undefined) err.cause = deserializeError(serialized.cause);
  return err;
}

/** An Error, also one of another realm (a `vm` context) that `instanceof Error` does not see. */
function isErrorLike(value: unknown): value is Error {
  if (value instanceof Error) return true;
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { name?: unknown; message?: unknown; stack?: unknown };
  return typeof v.name === 'string' && typeof v.message === 'string' && (v.stack === undefined || typeof v.stack === 'string');
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
  /**
   * The refused value at `path`, as JSON truncated to about 200 characters. It stays on the error
   * object, for the code that caught it: the message names only its kind (`a string`, `an
   * object`, ...), and the property is not enumerable, so logging the error, `JSON.stringify` and
   * the stored `errorDetails` leave the data out.
   */
  readonly received: string;
  /** Every problem the schema reported, one line each (`path: message`). */
  readonly issues: readonly string[];
}

function nodeValidationMessage(d: NodeValidationDetails): string {
  const head = `Workflow '${d.workflowId}', node '${d.nodeId}': ${d.part} does not match its schema at ${d.path} (received ${kindOfJson(d.received)})`;
  return [head, ...d.issues.map((i) => `  - ${i}`)].join('\n');
}

/** What kind of JSON value `json` (possibly truncated) is, for messages that must not quote it. */
function kindOfJson(json: string): string {
  const c = json.trimStart()[0];
  if (c === '"') return 'a string';
  if (c === '{') return 'an object';
  if (c === '[') return 'an array';
  if (c === 't' || c === 'f') return 'a boolean';
  if (c === 'n') return 'null';
  if (c !== undefined && /[-\d]/.test(c)) return 'a number';
  return json === '' || json === 'undefined' ? 'nothing' : 'a value that is not shown';
}

/** Keeps the refused value on the error but out of its enumerable properties (logs, JSON). */
function hideReceived(error: NodeValidationDetails): void {
  Object.defineProperty(error, 'received', { enumerable: false });
}

/**
 * A typed-DSL node received input (or config) that its zod schema refuses. A retry cannot fix
 * that, so it is a {@link NonRetryableError}: the node fails after one attempt, whatever its
 * retry policy says.
 */
export class NodeInputError extends NonRetryableError implements NodeValidationDetails {
  static {
    brand(this, 'NodeInputError');
  }

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
    hideReceived(this);
  }
}

/**
 * A typed-DSL node's `run` returned a value its output schema refuses. Non-retryable like
 * {@link NodeInputError}: running the same code again returns the same kind of value.
 */
export class NodeOutputError extends NonRetryableError implements NodeValidationDetails {
  static {
    brand(this, 'NodeOutputError');
  }

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
    hideReceived(this);
  }
}

/** What a {@link StoreUnavailableError} says about the call that failed. */
export interface StoreFaultDetails {
  /** The store method that failed, e.g. `saveNodeResult`. */
  readonly operation: string;
  /** The execution the call was about, when it was about one. */
  readonly executionId?: string | undefined;
  /**
   * What the driver reported, without the statement's parameters: a SQLSTATE (`57P01`), a
   * socket error (`ECONNREFUSED`) or a driver code (`CONNECTION_CLOSED`).
   */
  readonly reason: string;
}

/**
 * The execution store's database did not answer (refused or dropped connection, timeout, server
 * shutting down). Nothing can be assumed written by the failed call; retrying it once the database
 * is back is safe. The message and `cause` name the operation, the execution and the driver's
 * error code, never the statement's parameter values (node data, initial data). Node jobs that
 * meet it are rescheduled rather than failed.
 */
export class StoreUnavailableError extends SpaneError implements StoreFaultDetails {
  static {
    brand(this, 'StoreUnavailableError');
  }

  readonly operation: string;
  readonly executionId: string | undefined;
  readonly reason: string;
  constructor(details: StoreFaultDetails, options?: SpaneErrorOptions) {
    const about = details.executionId === undefined ? '' : ` (execution '${details.executionId}')`;
    super('STORE_UNAVAILABLE', `Cannot ${details.operation}${about}: the store's database is unavailable (${details.reason})`, options);
    this.operation = details.operation;
    this.executionId = details.executionId;
    this.reason = details.reason;
  }
}

/**
 * An engine's `prefix` is not the one its PostgreSQL-family queue backend belongs to. BullMQ's
 * PostgreSQL backend keeps every queue in one schema whatever the prefix, so engines with
 * different prefixes on one database would take each other's jobs; instead the first prefix that
 * opens a database claims it, and an engine or backend with another prefix is refused at start.
 * A {@link InvalidConfigError} (`INVALID_CONFIG`).
 */
export class PrefixConflictError extends InvalidConfigError {
  static {
    brand(this, 'PrefixConflictError');
  }

  /** The prefix that was refused. */
  readonly prefix: string;
  /** The prefix the backend or database belongs to. */
  readonly claimedBy: string;
  constructor(prefix: string, claimedBy: string, where: string, remedy: string) {
    super(`Prefix '${prefix}' cannot use ${where}: it belongs to prefix '${claimedBy}'. ${remedy}`);
    this.prefix = prefix;
    this.claimedBy = claimedBy;
  }
}

/**
 * A value nests deeper than the limit (`MAX_DATA_DEPTH`, 256 levels of objects and arrays), so it
 * is refused before anything is stored or enqueued: deeper values overflow the call stack of
 * `JSON.stringify` and `structuredClone` on their way to the store and the queues. An
 * {@link InvalidArgumentError} with its own code; an HTTP layer answers 400.
 */
export class DataTooDeepError extends InvalidArgumentError {
  static {
    brand(this, 'DataTooDeepError');
  }

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
  static {
    brand(this, 'MappingError');
  }

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
  static {
    brand(this, 'HttpError');
  }

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
  static {
    brand(this, 'NonRetryableHttpError');
  }

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
