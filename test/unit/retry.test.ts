/** resilience/retry.ts: the runtime's retry decisions, each from its inputs alone. */
import { DelayedError, UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { NodeDefinition } from '../../src/definition/types.js';
import { NodeExecutionError, NonRetryableError, StoreUnavailableError, WorkflowNotFoundError } from '../../src/errors.js';
import {
  continuesOnFail,
  escapedErrorRetry,
  infraRetryDelayMs,
  isFinalAttempt,
  isRetryableError,
  isRetryableResult,
  isUnrecoverable,
  jobRetryOptions,
  retryPolicyOf,
  stalledTooOften,
} from '../../src/runtime/resilience/retry.js';

function node(rest: Partial<NodeDefinition> = {}): NodeDefinition {
  return { id: 'n', type: 'work', config: {}, inputs: [], outputs: [], ...rest };
}

describe('retry decisions', () => {
  it('job options: one attempt by default, the policy of the node over that of its config', () => {
    expect(jobRetryOptions(node())).toEqual({ attempts: 1 });
    expect(jobRetryOptions(node({ config: { retryPolicy: { maxAttempts: 3, backoff: { type: 'fixed', delay: 10 } } } }))).toEqual({
      attempts: 3,
      backoff: { type: 'fixed', delay: 10 },
    });
    const both = node({ retryPolicy: { maxAttempts: 2 }, config: { retryPolicy: { maxAttempts: 5, backoff: { type: 'exponential', delay: 1 } } } });
    expect(jobRetryOptions(both)).toEqual({ attempts: 2 });
    expect(retryPolicyOf(both)).toEqual({ maxAttempts: 2 });
  });

  it('continueOnFail from the policy, or from a sub-workflow node config', () => {
    expect(continuesOnFail(node())).toBe(false);
    expect(continuesOnFail(node({ config: { retryPolicy: { continueOnFail: true } } }))).toBe(true);
    expect(continuesOnFail(node({ type: 'sub-workflow', config: { continueOnFail: true } }))).toBe(true);
    expect(continuesOnFail(node({ config: { continueOnFail: true } }))).toBe(false);
  });

  it('retries thrown errors unless they say otherwise, and returned failures unless retryable: false', () => {
    expect(isRetryableError(new TypeError('x'))).toBe(true);
    expect(isRetryableError(new NonRetryableError('x'))).toBe(false);
    expect(isRetryableError(Object.assign(new Error('x'), { retryable: false }))).toBe(false);
    expect(isRetryableResult({ success: false })).toBe(true);
    expect(isRetryableResult({ success: false, retryable: false })).toBe(false);
  });

  it('the final attempt: not retryable, or the last of the job', () => {
    expect(isFinalAttempt({ attempt: 1, retryable: true }, undefined)).toBe(true);
    expect(isFinalAttempt({ attempt: 1, retryable: true }, 3)).toBe(false);
    expect(isFinalAttempt({ attempt: 3, retryable: true }, 3)).toBe(true);
    expect(isFinalAttempt({ attempt: 1, retryable: false }, 3)).toBe(true);
    expect(stalledTooOften(1, 1)).toBe(false);
    expect(stalledTooOften(2, 1)).toBe(true);
  });

  it('escaped errors: BullMQ control and attempt failures pass, SPANE errors fail, the rest waits out the outage', () => {
    expect(escapedErrorRetry(new DelayedError())).toBe('rethrow');
    expect(escapedErrorRetry(Object.assign(new Error('x'), { name: 'UnrecoverableError' }))).toBe('rethrow');
    expect(escapedErrorRetry(new NodeExecutionError('n', 'x'))).toBe('rethrow');
    expect(escapedErrorRetry(new WorkflowNotFoundError('w'))).toBe('fail');
    expect(escapedErrorRetry(new StoreUnavailableError({ operation: 'getExecution', reason: 'ECONNREFUSED' }))).toBe('reschedule');
    expect(escapedErrorRetry(new Error('ECONNREFUSED'))).toBe('reschedule');
    expect(isUnrecoverable(new UnrecoverableError('x'))).toBe(true);
    expect(isUnrecoverable(new Error('x'))).toBe(false);
  });

  it('infrastructure backoff doubles from 500 ms up to 30 s', () => {
    expect([1, 2, 3, 7, 20].map(infraRetryDelayMs)).toEqual([500, 1000, 2000, 30_000, 30_000]);
  });
});
