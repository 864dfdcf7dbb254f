/**
 * Errors as SPANE stores them (`errorDetails`): serialising, reading back, and the retry decision.
 *
 * @module
 */
import { NonRetryableError } from './common.js';

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
 * const failed = (await engine.getExecution(executionId))?.nodeResults['charge'];
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
    // A cycle or a BigInt: a rougher rendering is still a rendering.
    return String(value);
  }
}
