/**
 * Why an execution has no result to give: it has not finished, it failed, or it was cancelled.
 * Thrown by `engine.result(flow, executionId)`.
 *
 * @module
 */
import { SpaneError } from './base.js';
import type { SpaneErrorOptions } from './base.js';
import { brand } from './brand.js';

/**
 * The execution has not finished (it is pending, running or paused), so it has no result yet.
 * Wait for it first (`engine.waitForExecution(flow, id)`), then ask again.
 *
 * @example
 * ```ts
 * async function resultIfDone(executionId: string) {
 *   try {
 *     return await engine.result(onboarding, executionId);
 *   } catch (err) {
 *     if (err instanceof ExecutionNotFinishedError) return undefined;
 *     throw err;
 *   }
 * }
 * ```
 */
export class ExecutionNotFinishedError extends SpaneError {
  static {
    brand(this, 'ExecutionNotFinishedError');
  }

  /** The execution asked about. */
  readonly executionId: string;
  /** Its status when it was read. */
  readonly status: 'pending' | 'running' | 'paused';
  constructor(executionId: string, status: 'pending' | 'running' | 'paused') {
    super('EXECUTION_NOT_FINISHED', `Execution '${executionId}' is still ${status}; it has no result yet`);
    this.executionId = executionId;
    this.status = status;
  }
}

/**
 * The execution failed, so it has no result. `message` is the execution's error, `nodeId` the
 * node whose failure ended it (when one did), and `cause` that node's error rebuilt from the
 * stored structured error (`deserializeError`): match on `cause.code` or `cause.name`.
 *
 * @example
 * ```ts
 * try {
 *   await engine.result(onboarding, executionId);
 * } catch (err) {
 *   if (err instanceof ExecutionFailedError) console.error(err.nodeId, err.cause);
 * }
 * ```
 */
export class ExecutionFailedError extends SpaneError {
  static {
    brand(this, 'ExecutionFailedError');
  }

  /** The execution asked about. */
  readonly executionId: string;
  /** The node whose failure ended the execution, when one did. */
  readonly nodeId: string | undefined;
  constructor(executionId: string, details: { error: string; nodeId?: string | undefined }, options?: SpaneErrorOptions) {
    super('EXECUTION_FAILED', `Execution '${executionId}' failed: ${details.error}`, options);
    this.executionId = executionId;
    this.nodeId = details.nodeId;
  }
}

/** The execution was cancelled, so it has no result. */
export class ExecutionCancelledError extends SpaneError {
  static {
    brand(this, 'ExecutionCancelledError');
  }

  /** The execution asked about. */
  readonly executionId: string;
  constructor(executionId: string) {
    super('EXECUTION_CANCELLED', `Execution '${executionId}' was cancelled; it has no result`);
    this.executionId = executionId;
  }
}
