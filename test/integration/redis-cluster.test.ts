/**
 * What is particular to a Redis Cluster connection (the integration suites themselves also run on
 * a cluster: the `redis-cluster` vitest project). Runs on a three-master cluster of its own
 * (test/fixtures/redis-cluster.ts: free ports, temp dirs, stopped by PID) and skips when the
 * machine lacks redis-server or redis-cli. spane-test: probes its servers
 */
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, InMemoryExecutionStore, InvalidConfigError, NodeRegistry, NotSupportedError, WorkflowEngine } from '../../src/index.js';
import type { SpaneEvent } from '../../src/index.js';
import { duplicateConnection } from '../../src/runtime/engine/engine-options.js';
import { redisClusterPossible, startRedisCluster } from '../fixtures/redis-cluster.js';
import type { DisposableRedisCluster } from '../fixtures/redis-cluster.js';
import { deleteKeys, findKeys, graph, memoryLogger, node, until } from '../helpers.js';

describe.skipIf(!redisClusterPossible())('a Redis Cluster connection (three masters of its own)', () => {
  let cluster: DisposableRedisCluster;
  let client: Cluster;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = cluster.client();
  }, 60_000);
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  }, 60_000);

  const registry = new NodeRegistry();
  registry.register('step', async (ctx) => ({ success: true, data: { seen: [...((ctx.inputData as { seen?: string[] })?.seen ?? []), ctx.nodeId] } }));
  const chain = graph('chain', [node('a', 'step'), node('b', 'step'), node('c', 'step')], ['a->b', 'b->c']);

  it('refuses a prefix without a hash tag with InvalidConfigError, before opening anything', () => {
    for (const prefix of ['spane', 'sp{}ane', 'no-braces']) {
      expect(() => new WorkflowEngine({ registry, store: new InMemoryExecutionStore(), connection: client, config: { prefix } })).toThrow(InvalidConfigError);
    }
    expect(() => new WorkflowEngine({ registry, store: new InMemoryExecutionStore(), connection: client, config: { prefix: 'spane' } })).toThrow(/hash tag/);
  });

  it("copies a Cluster for workers with maxRetriesPerRequest: null on every node's connection", async () => {
    const copy = duplicateConnection(client, { maxRetriesPerRequest: null }) as unknown as Cluster;
    try {
      await new Promise((resolve) => copy.once('ready', resolve));
      expect(copy.isCluster).toBe(true);
      expect(copy.options.redisOptions?.maxRetriesPerRequest).toBeNull();
      expect(client.options.redisOptions?.maxRetriesPerRequest).toBeUndefined();
    } finally {
      copy.disconnect();
    }
  });

  it('runs a workflow through createEngine({ backend: "redis", redis: cluster }), its keys in one slot', async () => {
    const prefix = '{spane-cluster-create}';
    const engine = await createEngine({ backend: 'redis', redis: client, registry, store: new InMemoryExecutionStore(), config: { prefix }, logger: memoryLogger() });
    try {
      await engine.registerWorkflow(chain);
      engine.startWorkers(2);
      const id = await engine.enqueueWorkflow('chain', {});
      const done = await engine.waitForExecution(id, { timeoutMs: 15_000 });
      expect(done.status).toBe('completed');
      expect(done.nodeResults['c']?.data).toEqual({ seen: ['a', 'b', 'c'] });
      const keys = await findKeys(client as never, `${prefix}*`);
      expect(keys.length).toBeGreaterThan(0);
      expect(new Set(keys.map((k) => slotOf(k))).size).toBe(1);
    } finally {
      await engine.close();
      await deleteKeys(client as never, prefix);
    }
  });

  it('delivers events published by one engine to a listener on another', async () => {
    const prefix = '{spane-cluster-events}';
    const make = () => new WorkflowEngine({ registry, store, connection: client, config: { prefix }, logger: memoryLogger() });
    const store = new InMemoryExecutionStore();
    const [worker, watcher] = [make(), make()];
    const seen: SpaneEvent[] = [];
    try {
      const off = watcher.subscribe((e) => void seen.push(e));
      await watcher.eventsReady();
      await worker.registerWorkflow(chain);
      worker.startWorkers(2);
      const id = await worker.enqueueWorkflow('chain', {});
      await worker.waitForExecution(id, { timeoutMs: 15_000 });
      await until(() => seen.some((e) => e.type === 'workflow:completed' && e.executionId === id), 10_000, 'workflow:completed on the other engine');
      expect(seen.filter((e) => e.type === 'node:completed' && e.executionId === id).map((e) => (e as { nodeId: string }).nodeId)).toEqual(['a', 'b', 'c']);
      off();
    } finally {
      await Promise.all([worker.close(), watcher.close()]);
      await deleteKeys(client as never, prefix);
    }
  });

  it('refuses worker threads on a cluster with NotSupportedError', async () => {
    const engine = new WorkflowEngine({
      registry,
      store: new InMemoryExecutionStore(),
      connection: client,
      config: { prefix: '{spane-cluster-threads}', useWorkerThreads: true, executorsModule: './nowhere.js' },
      logger: memoryLogger(),
    });
    try {
      expect(() => engine.startWorkers(1)).toThrow(NotSupportedError);
      expect(() => engine.startWorkers(1)).toThrow(/Redis Cluster/);
    } finally {
      await engine.close();
    }
  });
});

/** CRC16 slot of a key (its hash tag if it has one), for ioredis versions without keySlot. */
function slotOf(key: string): number {
  const open = key.indexOf('{');
  const close = open >= 0 ? key.indexOf('}', open + 1) : -1;
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  let crc = 0;
  for (const byte of Buffer.from(hashed)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
