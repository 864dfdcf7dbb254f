/**
 * Why `engine.signal(executionId, name, payload)` refused a signal. Each is thrown before anything
 * is stored, and names the execution and the signal, never the payload.
 *
 * @module
 */
import { SpaneError } from './base.js';
import type { SpaneErrorOptions } from './base.js';
import { brand } from './brand.js';
import { NonRetryableError } from './common.js';

/**
 * The execution's workflow has no signal node (`{ type: 'signal', config: { name } }`, or
 * `waitForSignal(name)` in the DSL) with this name, so no node could ever consume the signal.
 *
 * @example
 * ```ts
 * try {
 *   await engine.signal(executionId, 'aproval', { approved: true });
 * } catch (err) {
 *   if (err instanceof UnknownSignalError) console.error(err.signalName, 'is not a signal of', err.workflowId);
 * }
 * ```
 */
export class UnknownSignalError extends SpaneError {
  static {
    brand(this, 'UnknownSignalError');
  }

  /** The execution the signal was sent to. */
  readonly executionId: string;
  /** The execution's workflow. */
  readonly workflowId: string;
  /** The name that matched no signal node. */
  readonly signalName: string;
  constructor(executionId: string, workflowId: string, signalName: string, known: readonly string[]) {
    super(
      'UNKNOWN_SIGNAL',
      `Execution '${executionId}' (workflow '${workflowId}') waits for no signal named '${signalName}'; its signals: ${known.length === 0 ? 'none' : known.map((k) => `'${k}'`).join(', ')}`,
    );
    this.executionId = executionId;
    this.workflowId = workflowId;
    this.signalName = signalName;
  }
}

/**
 * The signal was already received for this execution: a wait resolves exactly once, by the first
 * signal (whether it came before or while the node waited) or by its timeout. `resolvedBy` says
 * which.
 *
 * @example
 * ```ts
 * await engine.signal(executionId, 'approval', { approved: true });
 * await engine.signal(executionId, 'approval', { approved: false }); // throws SignalAlreadyConsumedError
 * ```
 */
export class SignalAlreadyConsumedError extends SpaneError {
  static {
    brand(this, 'SignalAlreadyConsumedError');
  }

  /** The execution the signal was sent to. */
  readonly executionId: string;
  /** The signal's name. */
  readonly signalName: string;
  /** What resolved the wait first: an earlier signal, or the node's timeout. */
  readonly resolvedBy: 'signal' | 'timeout';
  constructor(executionId: string, signalName: string, resolvedBy: 'signal' | 'timeout') {
    super(
      'SIGNAL_ALREADY_CONSUMED',
      resolvedBy === 'timeout'
        ? `Signal '${signalName}' of execution '${executionId}' is refused: the node waiting for it timed out`
        : `Signal '${signalName}' of execution '${executionId}' was already received; a signal is consumed once`,
    );
    this.executionId = executionId;
    this.signalName = signalName;
    this.resolvedBy = resolvedBy;
  }
}

/**
 * The payload does not match the signal node's schema (`config.schema`, a JSON Schema; from the
 * zod schema given to `waitForSignal` in the DSL). Lists each refused field with the schema's
 * message, never the payload.
 *
 * @example
 * ```ts
 * try {
 *   await engine.signal(executionId, 'approval', { approved: 'yes' });
 * } catch (err) {
 *   if (err instanceof SignalPayloadError) console.error(err.issues); // ['approved: Invalid input: expected boolean, received string']
 * }
 * ```
 */
export class SignalPayloadError extends SpaneError {
  static {
    brand(this, 'SignalPayloadError');
  }

  /** The execution the signal was sent to. */
  readonly executionId: string;
  /** The signal's name. */
  readonly signalName: string;
  /** Every problem the schema reported, one line each (`path: message`). */
  readonly issues: readonly string[];
  constructor(executionId: string, signalName: string, issues: readonly string[], options?: SpaneErrorOptions) {
    super(
      'SIGNAL_PAYLOAD_INVALID',
      [`Signal '${signalName}' of execution '${executionId}': payload does not match the signal's schema`, ...issues.map((i) => `  - ${i}`)].join('\n'),
      options,
    );
    this.executionId = executionId;
    this.signalName = signalName;
    this.issues = issues;
  }
}

/**
 * The execution has finished (completed, failed or cancelled), so nothing in it waits any more.
 *
 * @example
 * ```ts
 * await engine.cancelWorkflow(executionId);
 * await engine.signal(executionId, 'approval', { approved: true }); // throws ExecutionFinishedError
 * ```
 */
export class ExecutionFinishedError extends SpaneError {
  static {
    brand(this, 'ExecutionFinishedError');
  }

  /** The execution asked about. */
  readonly executionId: string;
  /** Its status when it was read. */
  readonly status: 'completed' | 'failed' | 'cancelled';
  constructor(executionId: string, status: 'completed' | 'failed' | 'cancelled', action: string) {
    super('EXECUTION_FINISHED', `Execution '${executionId}' is ${status}; cannot ${action}`);
    this.executionId = executionId;
    this.status = status;
  }
}

/**
 * A signal node's timeout fired before its signal came, and its `onTimeout` is `'fail'` (the
 * default): the node fails with this error, without retries, and the execution fails into the
 * DLQ unless the node has `continueOnFail`.
 *
 * @example
 * ```ts
 * const done = await engine.waitForExecution(executionId);
 * if (done.nodeResults['approval']?.errorDetails?.code === 'SIGNAL_TIMEOUT') console.log('nobody approved in time');
 * ```
 */
export class SignalTimeoutError extends NonRetryableError {
  static {
    brand(this, 'SignalTimeoutError');
  }

  /** The signal that did not come. */
  readonly signalName: string;
  /** How long the node waited (ms). */
  readonly timeoutMs: number;
  constructor(nodeId: string, signalName: string, timeoutMs: number) {
    super(`node '${nodeId}' waited ${timeoutMs} ms for signal '${signalName}', which did not come`, undefined, 'SIGNAL_TIMEOUT');
    this.signalName = signalName;
    this.timeoutMs = timeoutMs;
  }
}
