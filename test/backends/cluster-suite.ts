/**
 * The integration suites on a Redis Cluster. Loaded as a vitest setup file by the `redis-cluster`
 * project (vitest.config.ts): each test file gets a three-master cluster of its own (three
 * `redis-server --cluster-enabled yes` on free ports, test/fixtures/redis-cluster.ts) in
 * `beforeAll`, and `testEngine()` builds its engines on an ioredis `Cluster` client of it. Each
 * test still has its own `{spane-test-…}` prefix, a hash tag, so its keys share one slot.
 */
import { afterAll, beforeAll } from 'vitest';
import { setTestRedisCluster } from '../helpers.js';
import { startRedisCluster } from '../fixtures/redis-cluster.js';
import type { DisposableRedisCluster } from '../fixtures/redis-cluster.js';

let cluster: DisposableRedisCluster | undefined;

beforeAll(async () => {
  cluster = await startRedisCluster();
  setTestRedisCluster(cluster);
}, 60_000);

afterAll(async () => {
  setTestRedisCluster(undefined);
  await cluster?.stop();
}, 60_000);
