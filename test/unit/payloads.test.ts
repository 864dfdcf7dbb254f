import { describe, expect, it } from 'vitest';
import { InMemoryExecutionStore, InvalidArgumentError, isPayloadReference, isPayloadStore, PayloadManager, PayloadNotFoundError } from '../../src/index.js';
import type { WorkflowExecution } from '../../src/index.js';

async function storeWith(executionId = 'e1'): Promise<InMemoryExecutionStore> {
  const store = new InMemoryExecutionStore();
  await store.createExecution({ executionId, workflowId: 'wf', workflowVersion: 1, status: 'running', depth: 0, startedAt: 1, initialData: undefined });
  return store;
}

describe('PayloadManager', () => {
  it('offloads values whose JSON is over the threshold in UTF-8 bytes, not characters', async () => {
    const store = await storeWith();
    const m = new PayloadManager(store, { thresholdBytes: 10 });
    expect(await m.offload('e1', 'p1', 'x'.repeat(8))).toBe('x'.repeat(8)); // "xxxxxxxx" is 10 bytes
    expect(await m.offload('e1', 'p2', 'x'.repeat(9))).toEqual({ $spanePayload: 'p2', bytes: 11 });
    // 5 characters, 12 bytes of JSON.
    expect(await m.offload('e1', 'p3', 'ééééé')).toEqual({ $spanePayload: 'p3', bytes: 12 });
    expect(await m.resolve('e1', { $spanePayload: 'p3', bytes: 12 })).toBe('ééééé');
    expect((await store.getPayloads('e1', ['p1', 'p2', 'p3'])).size).toBe(2);
  });

  it('keeps undefined, and everything with thresholdBytes: false, inline', async () => {
    const store = await storeWith();
    expect(await new PayloadManager(store, { thresholdBytes: 0 }).offload('e1', 'u', undefined)).toBeUndefined();
    const off = new PayloadManager(store, { thresholdBytes: false });
    expect(await off.offload('e1', 'big', 'y'.repeat(100_000))).toBe('y'.repeat(100_000));
    expect(new PayloadManager(store).thresholdBytes).toBe(50 * 1024);
  });

  it('refuses a threshold that is not a non-negative integer', async () => {
    const store = await storeWith();
    for (const bad of [-1, 1.5, Number.NaN, '10']) {
      expect(() => new PayloadManager(store, { thresholdBytes: bad as number })).toThrow(InvalidArgumentError);
    }
  });

  it('resolves every reference of an execution in one go, leaving the stored copy as it was', async () => {
    const store = await storeWith();
    const m = new PayloadManager(store, { thresholdBytes: 5 });
    const exec: WorkflowExecution = {
      executionId: 'e1',
      workflowId: 'wf',
      workflowVersion: 1,
      status: 'running',
      depth: 0,
      startedAt: 1,
      initialData: await m.offload('e1', 'initial', { start: 'here' }),
      nodeResults: {
        a: { status: 'completed', attempts: 1, completedAt: 2, data: await m.offload('e1', 'output:a', [1, 2, 3, 4, 5]) },
        b: { status: 'completed', attempts: 1, completedAt: 2, data: 1 },
        c: { status: 'skipped', attempts: 0, completedAt: 2 },
      },
    };
    expect(isPayloadReference(exec.initialData)).toBe(true);
    const full = await m.resolveExecution(exec);
    expect(full.initialData).toEqual({ start: 'here' });
    expect(full.nodeResults['a']!.data).toEqual([1, 2, 3, 4, 5]);
    expect(full.nodeResults['b']!.data).toBe(1);
    expect('data' in full.nodeResults['c']!).toBe(false);
    expect(isPayloadReference(exec.nodeResults['a']!.data)).toBe(true);
    const plain = { ...exec, initialData: 1, nodeResults: {} };
    expect(await m.resolveExecution(plain)).toBe(plain);
  });

  it('throws PayloadNotFoundError naming the execution, the payload and the node', async () => {
    const store = await storeWith();
    const m = new PayloadManager(store);
    const exec = {
      executionId: 'e1',
      nodeResults: { a: { status: 'completed' as const, attempts: 1, completedAt: 1, data: { $spanePayload: 'output:a', bytes: 99 } } },
    } as unknown as WorkflowExecution;
    const err = await m.resolveExecution(exec).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadNotFoundError);
    expect(err).toMatchObject({ code: 'PAYLOAD_NOT_FOUND', executionId: 'e1', payloadId: 'output:a', nodeId: 'a' });
    expect(String((err as Error).message)).toMatch(/Payload 'output:a' of execution 'e1' \(needed by node 'a'\)/);
    await expect(m.resolve('e1', { $spanePayload: 'gone', bytes: 1 }, 'b')).rejects.toMatchObject({ payloadId: 'gone', nodeId: 'b' });
  });

  it('recognises references exactly', () => {
    expect(isPayloadReference({ $spanePayload: 'x', bytes: 1 })).toBe(true);
    expect(isPayloadReference({ $spanePayload: 'x', bytes: 1, more: true })).toBe(false);
    expect(isPayloadReference({ $spanePayload: 1, bytes: 1 })).toBe(false);
    expect(isPayloadReference([{ $spanePayload: 'x', bytes: 1 }])).toBe(false);
    expect(isPayloadReference(null)).toBe(false);
    expect(isPayloadStore(new InMemoryExecutionStore())).toBe(true);
    expect(isPayloadStore({ putPayload() {} })).toBe(false);
  });
});
