/**
 * The base of SPANE's error hierarchy: every error code, and {@link SpaneError}.
 *
 * @module
 */
import { CLASS_BRAND, brand } from './brand.js';

/** Every stable error code SPANE uses. */
export type SpaneErrorCode =
  | 'NODE_INPUT_INVALID'
  | 'NODE_OUTPUT_INVALID'
  | 'WORKFLOW_INPUT_INVALID'
  | 'WORKFLOW_VALIDATION'
  | 'WORKFLOW_NOT_FOUND'
  | 'EXECUTION_NOT_FOUND'
  | 'EXECUTION_NOT_FINISHED'
  | 'EXECUTION_FAILED'
  | 'EXECUTION_CANCELLED'
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
  | 'HTTP_ERROR'
  | 'ZOD_UNSUPPORTED'
  | 'EXECUTION_NOT_FORKABLE'
  | 'FORK_NODE_INVALID'
  | 'FORK_INPUT_INVALID'
  | 'EXECUTION_QUERY_INVALID'
  | 'UNKNOWN_SIGNAL'
  | 'SIGNAL_ALREADY_CONSUMED'
  | 'SIGNAL_PAYLOAD_INVALID'
  | 'SIGNAL_TIMEOUT'
  | 'EVENT_TIMEOUT'
  | 'EVENT_MATCH_MISSING'
  | 'EXECUTION_FINISHED';

/** Options every {@link SpaneError} accepts. */
export interface SpaneErrorOptions {
  /** The underlying error, kept for diagnostics. */
  cause?: unknown;
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
 * try {
 *   await engine.enqueueWorkflow('nope', {});
 * } catch (err) {
 *   if (!(err instanceof SpaneError && err.code === 'WORKFLOW_NOT_FOUND')) throw err;
 *   console.warn(err.message); // not registered yet
 * }
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
