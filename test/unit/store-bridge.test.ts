import { afterEach, describe, expect, it } from 'vitest';
import { remoteStore, serveStore } from '../../src/runtime/sandbox/store-bridge.js';
import { InMemoryExecutionStore } from '../../src/store/memory.js';
import type { ExecutionStore } from '../../src/store/store.js';
import { executionFixture as execution, resultFixture as result } from '../contract/execution-store.contract.js';

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

const logger = { warn: () => {}, error: () => {} };

/** A thread's store on `store`, over the same BroadcastChannels a worker thread uses. */
function bridged(store: ExecutionStore, name: string) {
  stops.push(serveStore(store, name, logger));
  const remote = remoteStore({ channelName: name, threadKey: 't1', hasPayloads: false });
  stops.push(() => remote.close());
  return remote;
}

describe('worker-thread store bridge: getExecutionHead', () => {
  it("answers with the store's own getExecutionHead", async () => {
    const store = new InMemoryExecutionStore();
    await store.createExecution(execution('e'));
    for (const id of ['a', 'b']) await store.saveNodeResult('e', id, result(id));
    const remote = bridged(store, `bridge-head-${process.pid}-1`);
    expect(await remote.getExecutionHead!('e', ['b'])).toEqual(await store.getExecutionHead('e', ['b']));
    expect(await remote.getExecutionHead!('none', ['b'])).toBeNull();
  });

  it('answers from getExecution for a store without the method', async () => {
    const store = new InMemoryExecutionStore();
    await store.createExecution(execution('e'));
    for (const id of ['a', 'b', 'c']) await store.saveNodeResult('e', id, result(id));
    const plain = new Proxy(store, { get: (target, key) => (key === 'getExecutionHead' ? undefined : Reflect.get(target, key, target)) }) as ExecutionStore;
    const remote = bridged(plain, `bridge-head-${process.pid}-2`);
    expect(await remote.getExecutionHead!('e', ['a', 'c'])).toEqual(await store.getExecutionHead('e', ['a', 'c']));
  });
});
