/**
 * Every retry decision of the runtime, in one place: the BullMQ attempts and backoff a node's job
 * gets, which failures are worth another attempt, whether a failed attempt was the last, what
 * the workflow does after a node's final failure, and how faults of the infrastructure (which use
 * no attempt) are waited out. Callers (queue-manager, node-processor, advance, sandbox/host) ask
 * these functions and keep no rule of their own, so changing how retries work is a change here.
 *
 * What a failure *is* stays where it is found (an error's class or `retryable` data, a missing
 * payload, a sub-workflow child that failed or was cancelled); this file decides what to do with
 * it.
 *
 * @module
 */
import { DelayedError, UnrecoverableError } from 'bullmq';
import type { JobsOptions } from 'bullmq';
import { BUILTIN_NODE_KINDS } from '../../definition/node-kinds.js';
import type { ExecutionResult, NodeDefinition, RetryPolicy } from '../../definition/types.js';
import { isRetryable, NodeExecutionError, SpaneError, StoreUnavailableError } from '../../errors.js';

/** Longest wait between reschedules of a job whose store or Redis did not answer. */
const MAX_INFRA_BACKOFF_MS = 30_000;

/** The effective retry policy of a node: `node.retryPolicy` over `node.config.retryPolicy`. */
export function retryPolicyOf(node: NodeDefinition): RetryPolicy {
  return node.retryPolicy ?? node.config.retryPolicy ?? {};
}

/**
 * The BullMQ options that make a node's job retry: `maxAttempts` attempts (one when unset) and
 * the policy's backoff (BullMQ's immediate retry when unset).
 */
export function jobRetryOptions(node: NodeDefinition): Pick<JobsOptions, 'attempts' | 'backoff'> {
  const policy = retryPolicyOf(node);
  const opts: Pick<JobsOptions, 'attempts' | 'backoff'> = { attempts: policy.maxAttempts ?? 1 };
  if (policy.backoff !== undefined) opts.backoff = { type: policy.backoff.type, delay: policy.backoff.delay };
  return opts;
}

/** Whether the workflow goes on after this node fails for good (`config.continueOnFail` also counts for sub-workflows). */
export function continuesOnFail(node: NodeDefinition): boolean {
  return retryPolicyOf(node).continueOnFail === true || (node.type === BUILTIN_NODE_KINDS.subWorkflow && node.config['continueOnFail'] === true);
}

/**
 * Whether an error an executor threw is worth another attempt: everything but errors that say
 * otherwise (by brand or name, see {@link isRetryable}).
 */
export function isRetryableError(err: unknown): boolean {
  return isRetryable(err);
}

/** Whether a returned `{ success: false }` is worth another attempt: unless it says `retryable: false`. */
export function isRetryableResult(result: ExecutionResult): boolean {
  return result.retryable !== false;
}

/**
 * Whether a failed attempt is the node's last: it is not worth another, or it used the job's
 * last attempt.
 *
 * @param failed - the 1-based number of the attempt that failed, and whether its failure is
 *   worth another attempt
 * @param maxAttempts - the job's `opts.attempts` (one when unset)
 */
export function isFinalAttempt(failed: { attempt: number; retryable: boolean }, maxAttempts: number | undefined): boolean {
  return !failed.retryable || failed.attempt >= (maxAttempts ?? 1);
}

/**
 * Whether the workers of a node's job stopped mid-run (crash, out of memory, lost lock) more
 * often than `maxStalledCount` allows: the node then fails as on a final attempt.
 */
export function stalledTooOften(stalledCounter: number, maxStalledCount: number): boolean {
  return stalledCounter > maxStalledCount;
}

/**
 * What becomes of an error that escaped a node job's run (not an executor's failure, which the
 * attempt judged already):
 * - `rethrow`: BullMQ handles it as it is (its control-flow errors; a failed attempt that is
 *   retried by the job's attempts and backoff);
 * - `fail`: a SPANE error, the same on every attempt, fails the job without a retry;
 * - `reschedule`: a fault of the store or Redis, waited out with {@link infraRetryDelayMs}
 *   without using an attempt.
 */
export function escapedErrorRetry(err: unknown): 'rethrow' | 'fail' | 'reschedule' {
  if (isBullControl(err) || err instanceof NodeExecutionError) return 'rethrow';
  // A store that does not answer is an outage to wait out, like Redis away, not a bug.
  if (err instanceof SpaneError && !(err instanceof StoreUnavailableError)) return 'fail';
  return 'reschedule';
}

/** How long a job waits before its `retries`-th reschedule after an infrastructure fault. */
export function infraRetryDelayMs(retries: number): number {
  return Math.min(MAX_INFRA_BACKOFF_MS, 250 * 2 ** retries);
}

/**
 * Whether BullMQ will not retry a job that threw `err`, by class or by name: another copy of
 * bullmq (a store's, a module's, a worker thread's) has other classes, and BullMQ checks the
 * name too.
 */
export function isUnrecoverable(err: unknown): boolean {
  return err instanceof UnrecoverableError || (err as { name?: unknown } | null)?.name === 'UnrecoverableError';
}

/** BullMQ's control-flow errors (move to delayed, fail without retry), of any copy of bullmq. */
function isBullControl(err: unknown): boolean {
  return err instanceof DelayedError || (err as { name?: unknown } | null)?.name === 'DelayedError' || isUnrecoverable(err);
}
