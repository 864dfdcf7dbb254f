import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_MAX_FINISHED_BYTES, InMemoryExecutionStore } from '../../src/store/memory.js';
import { readExecutionHead } from '../../src/store/store.js';
import type { ExecutionStore } from '../../src/store/store.js';
import { executionFixture as execution } from '../contract/execution-store.contract.js';
import { InvalidArgumentError } from '../../src/errors.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('constructor', () => {
  it.each([[-1], [1.5], [Number.NaN]])('refuses maxFinishedExecutions %j with InvalidArgumentError', (value) => {
    expect(() => new InMemoryExecutionStore({ maxFinishedExecutions: value })).toThrow(InvalidArgumentError);
    try {
      new InMemoryExecutionStore({ maxFinishedExecutions: value });
    } catch (err) {
      expect((err as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
    }
  });

  it('accepts 0 and the default', () => {
    expect(() => new InMemoryExecutionStore({ maxFinishedExecutions: 0 })).not.toThrow();
    expect(new InMemoryExecutionStore().size).toBe(0);
  });
});

// Behaviour every store shares (versioning, compare-and-set, upserts, listing, copies) is in the
// contract suite, test/contract/execution-store.contract.ts, which runs for this store too.

describe('eviction of finished executions', () => {
  it('evicts the oldest finished execution past maxFinishedExecutions, never a running one', async () => {
    const s = new InMemoryExecutionStore({ maxFinishedExecutions: 2 });
    await s.createExecution(execution('running-old'));
    for (const id of ['f1', 'f2', 'f3']) await s.createExecution(execution(id));
    await s.createExecution(execution('paused', { status: 'paused' }));
    await s.createExecution(execution('pending', { status: 'pending' }));

    await s.transitionExecution('f2', ['running'], 'completed');
    await s.transitionExecution('f1', ['running'], 'failed');
    expect(s.size).toBe(6);
    await s.transitionExecution('f3', ['running'], 'cancelled');

    // f2 finished first, so it goes; the others stay
    expect(s.size).toBe(5);
    expect(await s.getExecution('f2')).toBeNull();
    expect(await s.getExecution('f1')).not.toBeNull();
    expect(await s.getExecution('f3')).not.toBeNull();
    expect(await s.getExecution('running-old')).toMatchObject({ status: 'running' });
    expect(await s.getExecution('paused')).not.toBeNull();
    expect(await s.getExecution('pending')).not.toBeNull();
  });

  it('forgets an execution that leaves a terminal status, so it is not evicted while running', async () => {
    const s = new InMemoryExecutionStore({ maxFinishedExecutions: 1 });
    for (const id of ['a', 'b', 'c']) await s.createExecution(execution(id));
    await s.transitionExecution('a', ['running'], 'failed');
    await s.transitionExecution('a', ['failed'], 'running'); // retried
    await s.transitionExecution('b', ['running'], 'completed');
    await s.transitionExecution('c', ['running'], 'completed');
    expect(await s.getExecution('a')).toMatchObject({ status: 'running' });
    expect(await s.getExecution('b')).toBeNull();
    expect(await s.getExecution('c')).toMatchObject({ status: 'completed' });
  });

  it('with maxFinishedExecutions 0 drops executions as soon as they finish', async () => {
    const s = new InMemoryExecutionStore({ maxFinishedExecutions: 0 });
    await s.createExecution(execution('a'));
    await s.createExecution(execution('b'));
    expect(await s.transitionExecution('a', ['running'], 'completed')).toBe(true);
    expect(await s.getExecution('a')).toBeNull();
    expect(await s.getExecution('b')).not.toBeNull();
  });

  it('never evicts when nothing has finished, however many executions there are', async () => {
    const s = new InMemoryExecutionStore({ maxFinishedExecutions: 1 });
    for (let i = 0; i < 20; i++) await s.createExecution(execution(`r${i}`));
    expect(s.size).toBe(20);
  });
});

describe('eviction by size (maxFinishedBytes)', () => {
  const big = (n: number) => ({ status: 'completed' as const, data: 'x'.repeat(n), attempts: 1, completedAt: 2000 });

  it('uses 128 MiB by default and refuses a bad bound', () => {
    expect(DEFAULT_MAX_FINISHED_BYTES).toBe(128 * 1024 * 1024);
    for (const value of [-1, 1.5, Number.NaN]) expect(() => new InMemoryExecutionStore({ maxFinishedBytes: value })).toThrow(InvalidArgumentError);
  });

  it('evicts the oldest finished executions once their JSON passes the bound, never an unfinished one', async () => {
    const s = new InMemoryExecutionStore({ maxFinishedBytes: 25_000 });
    for (const id of ['f1', 'f2', 'f3', 'live']) {
      await s.createExecution(execution(id));
      await s.saveNodeResult(id, 'a', big(10_000));
    }
    await s.transitionExecution('f1', ['running'], 'completed');
    await s.transitionExecution('f2', ['running'], 'failed');
    expect(s.size).toBe(4);
    expect(s.finishedSizeBytes).toBeGreaterThan(20_000);
    await s.transitionExecution('f3', ['running'], 'completed');
    expect(await s.getExecution('f1')).toBeNull();
    expect(await s.getExecution('f2')).not.toBeNull();
    expect(await s.getExecution('f3')).not.toBeNull();
    expect(await s.getExecution('live')).toMatchObject({ status: 'running' });
    expect(s.finishedSizeBytes).toBeLessThanOrEqual(25_000);
  });

  it('counts what is written after an execution finished, and forgets what leaves with it', async () => {
    const s = new InMemoryExecutionStore({ maxFinishedBytes: 15_000 });
    for (const id of ['a', 'b']) await s.createExecution(execution(id));
    await s.transitionExecution('a', ['running'], 'completed');
    await s.transitionExecution('b', ['running'], 'completed');
    const small = s.finishedSizeBytes;
    await s.putPayload('b', 'output:x', JSON.stringify('y'.repeat(8_000)));
    expect(s.finishedSizeBytes).toBeGreaterThan(small + 8_000);
    await s.addLog('a', { at: 1, level: 'info', message: 'z'.repeat(8_000) });
    // a finished first: the log pushed the total over, so a went
    expect(await s.getExecution('a')).toBeNull();
    expect(await s.getExecution('b')).not.toBeNull();
    await s.deletePayloads('b');
    await s.transitionExecution('b', ['completed'], 'running');
    expect(s.finishedSizeBytes).toBe(0);
  });
});

describe('getExecutionHead', () => {
  it('counts settled nodes without reading them; readExecutionHead gives the same from a store without the method', async () => {
    const s = new InMemoryExecutionStore();
    await s.createExecution(execution('e'));
    for (const id of ['a', 'b', 'c']) await s.saveNodeResult('e', id, { status: 'completed', data: id, attempts: 1, completedAt: 2 });
    const plain = { getExecution: s.getExecution.bind(s) } as unknown as ExecutionStore;
    const direct = await readExecutionHead(s, 'e', ['b']);
    expect(direct).toMatchObject({ executionId: 'e', nodeResults: { b: { data: 'b' } }, settledCount: 3 });
    expect(await readExecutionHead(plain, 'e', ['b'])).toEqual(direct);
    expect(await readExecutionHead(plain, 'none', ['b'])).toBeNull();
  });
});
