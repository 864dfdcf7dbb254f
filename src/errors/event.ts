/**
 * The errors an event node (`waitForEvent`, `{ type: 'event' }`) fails with. Messages name the
 * node and the event, never the execution's data or the event's payload.
 *
 * @module
 */
import { brand } from './brand.js';
import { NonRetryableError } from './common.js';

/**
 * The error an event node fails with when its timeout fires before a matching event came
 * (`onTimeout: 'fail'`, the default). Not retried; `continueOnFail` and the DLQ apply.
 *
 * @example
 * ```ts
 * const exec = await engine.waitForExecution(executionId);
 * if (exec.nodeResults['paid']?.errorDetails?.code === 'EVENT_TIMEOUT') console.log('the order was never paid');
 * ```
 */
export class EventTimeoutError extends NonRetryableError {
  static {
    brand(this, 'EventTimeoutError');
  }

  /** The event that did not come. */
  readonly eventName: string;
  /** How long the node waited (ms). */
  readonly timeoutMs: number;
  constructor(nodeId: string, eventName: string, timeoutMs: number) {
    super(`node '${nodeId}' waited ${timeoutMs} ms for event '${eventName}', which did not come`, undefined, 'EVENT_TIMEOUT');
    this.eventName = eventName;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The event node's `match.equals` path found no value in the execution's data (the input, or the
 * parent's output, has no such field), so no event could ever match it. Not retried.
 *
 * @example
 * ```ts
 * // waitForEvent('order.paid', { match: { field: 'orderId', equals: '$.input.orderId' } }), started without an orderId:
 * const exec = await engine.waitForExecution(await engine.enqueueWorkflow('checkout', {}));
 * exec.nodeResults['paid']?.errorDetails?.code; // 'EVENT_MATCH_MISSING'
 * ```
 */
export class EventMatchError extends NonRetryableError {
  static {
    brand(this, 'EventMatchError');
  }

  /** The event the node would have waited for. */
  readonly eventName: string;
  /** The path that found nothing. */
  readonly equals: string;
  constructor(nodeId: string, eventName: string, equals: string) {
    super(`node '${nodeId}' cannot wait for event '${eventName}': match.equals '${equals}' finds no value in the execution's data`, undefined, 'EVENT_MATCH_MISSING');
    this.eventName = eventName;
    this.equals = equals;
  }
}
