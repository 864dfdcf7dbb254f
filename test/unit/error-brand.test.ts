/**
 * SPANE's errors are recognised by a brand that survives a second copy of the library (a module
 * loaded by another loader, the ESM and CommonJS builds side by side, two installed copies): a
 * NonRetryableError thrown by one copy is `instanceof NonRetryableError` of the other, and its
 * retry decision, name, code and cause are kept when it is serialised.
 */
import { describe, expect, it } from 'vitest';
import { UnrecoverableError } from 'bullmq';
import * as here from '../../src/errors.js';
import { loadSecondCopy } from '../fixtures/second-copy.js';

const other = await loadSecondCopy();

describe('error brand across copies', () => {
  it('the second copy is a separate module instance', () => {
    expect(other.NonRetryableError).not.toBe(here.NonRetryableError);
    expect(Object.getPrototypeOf(new other.NonRetryableError('x'))).not.toBe(here.NonRetryableError.prototype);
  });

  it.each([
    ['NonRetryableError', () => new other.NonRetryableError('no')],
    ['NodeInputError', () => new other.NodeInputError({ workflowId: 'w', nodeId: 'n', part: 'input', path: 'a', received: '1', issues: [] })],
    ['NodeOutputError', () => new other.NodeOutputError({ workflowId: 'w', nodeId: 'n', path: 'a', received: '1', issues: [] })],
    ['MaxDepthExceededError', () => new other.MaxDepthExceededError(['a', 'b'], 10)],
    ['PayloadNotFoundError', () => new other.PayloadNotFoundError('e', 'p')],
  ])('a %s of the other copy is a NonRetryableError and a SpaneError here, and not retryable', (name, make) => {
    const err = make();
    expect(err instanceof here.NonRetryableError).toBe(true);
    expect(err instanceof here.SpaneError).toBe(true);
    expect(err.name).toBe(name);
    expect(here.isRetryable(err)).toBe(false);
    expect(here.serializeError(err)).toMatchObject({ name, code: err.code, retryable: false });
  });

  it('the subclass checks stay exact: a NonRetryableError is not a NodeInputError, a CircuitOpenError is not a NonRetryableError', () => {
    expect(new other.NonRetryableError('x') instanceof here.NodeInputError).toBe(false);
    expect(new other.CircuitOpenError('k') instanceof here.NonRetryableError).toBe(false);
    expect(new other.CircuitOpenError('k') instanceof here.CircuitOpenError).toBe(true);
    expect(new other.CircuitOpenError('k') instanceof here.SpaneError).toBe(true);
    expect(new Error('plain') instanceof here.SpaneError).toBe(false);
    expect(new TypeError('plain') instanceof here.NonRetryableError).toBe(false);
    const nothing: unknown = null;
    expect(nothing instanceof here.SpaneError).toBe(false);
    expect({ name: 'NonRetryableError' } instanceof here.NonRetryableError).toBe(false);
    expect(here.isRetryable(new other.CircuitOpenError('k'))).toBe(true);
    expect(here.isRetryable(new TypeError('x'))).toBe(true);
  });

  it('a user subclass without a brand of its own is checked by its prototype chain', () => {
    class Mine extends here.NonRetryableError {}
    expect(new Mine('m') instanceof Mine).toBe(true);
    expect(new Mine('m') instanceof here.NonRetryableError).toBe(true);
    expect(new here.NonRetryableError('n') instanceof Mine).toBe(false);
    expect(here.isRetryable(new Mine('m'))).toBe(false);
  });

  it("BullMQ's UnrecoverableError and errors that say so as data are not retryable", () => {
    expect(here.isRetryable(new UnrecoverableError('stop'))).toBe(false);
    expect(here.isRetryable(Object.assign(new Error('x'), { name: 'UnrecoverableError' }))).toBe(false);
    expect(here.isRetryable(Object.assign(new Error('x'), { retryable: false }))).toBe(false);
    expect(here.isRetryable(Object.assign(new Error('x'), { nonRetryable: true }))).toBe(false);
    expect(here.isRetryable(Object.assign(new Error('x'), { retryable: true }))).toBe(true);
    expect(here.isRetryable('a string')).toBe(true);
  });
});

describe('serializeError', () => {
  it('keeps name, code, retryable and the cause chain, bounded and JSON-safe', () => {
    const inner = new TypeError('bad type');
    const mid = new other.NodeInputError({ workflowId: 'w', nodeId: 'n', part: 'input', path: 'a', received: '1', issues: [] }, { cause: inner });
    const outer = new here.SubWorkflowError('child-1', 'child failed', { cause: mid });
    const s = here.serializeError(outer);
    expect(s).toMatchObject({
      name: 'SubWorkflowError',
      code: 'SUB_WORKFLOW_FAILED',
      retryable: true,
      cause: { name: 'NodeInputError', code: 'NODE_INPUT_INVALID', retryable: false, cause: { name: 'TypeError', message: 'bad type', retryable: true } },
    });
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    let deep: Error = new Error('0');
    for (let i = 1; i < 20; i++) deep = new Error(String(i), { cause: deep });
    let depth = 0;
    for (let c: here.SerializedError | undefined = here.serializeError(deep); c !== undefined; c = c.cause) depth++;
    expect(depth).toBe(here.MAX_CAUSE_DEPTH + 1);
    const circular = new Error('loop');
    (circular as { cause?: unknown }).cause = circular;
    expect(() => JSON.stringify(here.serializeError(circular))).not.toThrow();
  });

  it('serialises an error of another realm, which instanceof Error does not see', async () => {
    const { runInNewContext } = await import('node:vm');
    const foreign = runInNewContext("const e = new RangeError('out of range'); e.code = 'E_RANGE'; e") as unknown;
    expect(foreign instanceof Error).toBe(false);
    expect(here.serializeError(foreign)).toMatchObject({ name: 'RangeError', message: 'out of range', code: 'E_RANGE', retryable: true });
  });

  it('does not copy a non-Error cause into the stored error', () => {
    const s = here.serializeError(new Error('outer', { cause: { password: 'hunter2' } }));
    expect(JSON.stringify(s)).not.toContain('hunter2');
    expect(s.cause).toMatchObject({ name: 'Error', retryable: true });
  });

  it('deserializeError gives back an Error with the same name, code, retryable and cause', () => {
    const s = here.serializeError(new here.NodeExecutionError('n', 'outer', { cause: new here.CircuitOpenError('http:x') }));
    const e = here.deserializeError(s);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: 'NodeExecutionError', message: 'outer', code: 'NODE_EXECUTION_FAILED', retryable: true });
    expect(e.cause).toMatchObject({ name: 'CircuitOpenError', code: 'CIRCUIT_OPEN' });
    expect(here.serializeError(e)).toEqual(s);
  });
});
