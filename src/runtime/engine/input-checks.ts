/**
 * Argument checks of the engine's public methods, run before anything is stored, enqueued or
 * sent to Redis: a wrong type or an out-of-range number gets an {@link InvalidArgumentError}
 * naming the method and the argument (never its value when that could be user data).
 *
 * @module
 */
import { PRIORITY_LIMIT } from 'bullmq';
import { kindOf } from '../../definition/json-check.js';
import { InvalidArgumentError } from '../../errors.js';
import type { EnqueueOptions, GetExecutionOptions, WaitOptions } from './engine-options.js';
import type { SubscribeOptions } from '../observe/events.js';

/** Largest epoch millisecond a `Date` can hold (ECMAScript's time value range). */
const MAX_EPOCH_MS = 8.64e15;

const ENQUEUE_OPTION_KEYS: ReadonlySet<string> = new Set(['delay', 'priority']);

/** Numbers are shown (they are option values such as a delay); anything else only by its kind. */
function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : kindOf(value);
}

/** Throws unless `value` is a non-empty string. */
export function assertString(method: string, name: string, value: unknown): asserts value is string {
  if (typeof value === 'string' && value.length > 0) return;
  throw new InvalidArgumentError(`${method}: ${name} must be a non-empty string, got ${typeof value === 'string' ? 'an empty string' : describe(value)}`);
}

/** Throws unless `value` is undefined or a plain options object (not null, not an array). */
export function assertOptionsObject(method: string, value: unknown): void {
  if (value === undefined || (typeof value === 'object' && value !== null && !Array.isArray(value))) return;
  throw new InvalidArgumentError(`${method}: options must be an object, got ${describe(value)}`);
}

/**
 * Checks the options of `enqueueWorkflow` (and of each `enqueueBulkWorkflows` item): an object
 * with only `delay` (a finite number of ms ≥ 0) and `priority` (an integer from 0 to BullMQ's
 * limit, 2,097,151; 1 is the highest, 0 none). Returns them, `{}` for undefined.
 */
export function checkEnqueueOptions(method: string, options: unknown): EnqueueOptions {
  assertOptionsObject(method, options);
  if (options === undefined) return {};
  const o = options as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !ENQUEUE_OPTION_KEYS.has(k));
  if (unknown.length > 0)
    throw new InvalidArgumentError(`${method}: unknown option${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => `'${k}'`).join(', ')} (known: delay, priority)`);
  const { delay, priority } = o;
  if (delay !== undefined && !(typeof delay === 'number' && Number.isFinite(delay) && delay >= 0 && delay <= MAX_EPOCH_MS)) {
    throw new InvalidArgumentError(`${method}: delay must be a finite number of milliseconds ≥ 0, got ${describe(delay)}`);
  }
  if (priority !== undefined && !(typeof priority === 'number' && Number.isInteger(priority) && priority >= 0 && priority <= PRIORITY_LIMIT)) {
    throw new InvalidArgumentError(`${method}: priority must be an integer from 0 to ${PRIORITY_LIMIT} (1 is the highest), got ${describe(priority)}`);
  }
  return o as EnqueueOptions;
}

/** The epoch ms of `executeAt` (a Date or a number), refusing what no Date can hold. */
export function checkEpochMs(method: string, name: string, value: unknown): number {
  const at = value instanceof Date ? value.getTime() : value;
  if (typeof at === 'number' && Number.isFinite(at) && Math.abs(at) <= MAX_EPOCH_MS) return at;
  throw new InvalidArgumentError(`${method}: ${name} must be a valid Date or epoch milliseconds, got ${value instanceof Date ? 'an invalid Date' : describe(value)}`);
}

/** Throws unless `version` is undefined or a positive integer. */
export function assertVersion(method: string, version: unknown): void {
  if (version === undefined || (typeof version === 'number' && Number.isInteger(version) && version > 0)) return;
  throw new InvalidArgumentError(`${method}: version must be a positive integer, got ${describe(version)}`);
}

/** Checks the options of `getExecution`. */
export function checkGetExecutionOptions(method: string, options: unknown): GetExecutionOptions {
  assertOptionsObject(method, options);
  return (options ?? {}) as GetExecutionOptions;
}

/** Checks the options of `waitForExecution`: `timeoutMs` ≥ 0 and `intervalMs` > 0, finite. */
export function checkWaitOptions(options: unknown): WaitOptions {
  assertOptionsObject('waitForExecution', options);
  const o = (options ?? {}) as WaitOptions;
  const bad = (v: unknown, min: number, strict: boolean) => v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && (strict ? v > min : v >= min));
  if (bad(o.timeoutMs, 0, false)) throw new InvalidArgumentError(`waitForExecution: timeoutMs must be a finite number ≥ 0, got ${describe(o.timeoutMs)}`);
  if (bad(o.intervalMs, 0, true)) throw new InvalidArgumentError(`waitForExecution: intervalMs must be a finite number > 0, got ${describe(o.intervalMs)}`);
  return o;
}

/** Checks an event handler and the options of `subscribe` / `events`. */
export function checkSubscription(method: string, handler: unknown, options: unknown): SubscribeOptions {
  if (handler !== undefined && typeof handler !== 'function') throw new InvalidArgumentError(`${method}: the handler must be a function, got ${describe(handler)}`);
  assertOptionsObject(method, options);
  const o = (options ?? {}) as SubscribeOptions;
  if (o.executionId !== undefined) assertString(method, 'executionId', o.executionId);
  if (o.workflowId !== undefined) assertString(method, 'workflowId', o.workflowId);
  if (o.types !== undefined && !(Array.isArray(o.types) && o.types.every((t) => typeof t === 'string'))) {
    throw new InvalidArgumentError(`${method}: types must be an array of event types, got ${describe(o.types)}`);
  }
  return o;
}

/**
 * The shape of SPANE's DLQ job ids, `dlq__{executionId}__{nodeId}` (see `dlqJobId`). Anything
 * else is refused before it reaches BullMQ: `getJob` reads the hash at `{prefix}:{queue}:{id}`,
 * and ids such as `events`, `meta` or `id` name BullMQ's own keys there (a stream, a hash, a
 * counter), which Redis answers with WRONGTYPE or BullMQ misreads.
 */
const DLQ_JOB_ID = /^dlq__[^:]+__[A-Za-z0-9_.-]+$/;

/** Throws unless `id` has the shape of a SPANE DLQ job id. */
export function assertDlqJobId(id: unknown): asserts id is string {
  assertString('retryDLQItem', 'dlqJobId', id);
  if (!DLQ_JOB_ID.test(id)) throw new InvalidArgumentError("retryDLQItem: dlqJobId must be the jobId of a DLQ item ('dlq__{executionId}__{nodeId}', as getDLQItems lists it)");
}
