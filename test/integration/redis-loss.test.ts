/**
 * Redis restarts empty (no persistence) in the middle of a batch: the store (DrizzleStore on an
 * in-memory PGlite) is the record, and the engines' reconcilers re-enqueue exactly the node jobs
 * that were lost, without a pause + resume. Runs on a disposable redis-server of its own (temp
 * dir, free port, stopped by PID); the shared Redis is never touched, and the file skips when the
 * machine has no redis-server binary. spane-test: probes its servers
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrizzleStore, MetricsCollector, NodeRegistry, WorkflowEngine } from '../../src/index.js';
import type { SpaneEvent } from '../../src/index.js';
import { redisServerBinary, startDisposableRedis } from '../fixtures/disposable-redis.js';
import type { DisposableRedis } from '../fixtures/disposable-redis.js';
import { graph, memoryLogger, node, sleep, until } from '../helpers.js';

const noRedisServer = redisServerBinary() === undefined;
const EXECUTIONS = 40;
const SLOW_MS = 600;

/**
 *   start ─┬─ fast ──┐
 *          ├─ slow ──┼─ join ── end
 *          └─ delay ─┘      (delay: 300 ms)
 */
const fanOut = graph(
  'fan-out',
  [node('start', 'step'), node('fast', 'step'), node('slow', 'slow'), node('wait', 'delay', { config: { duration: 300 } }), node('join', 'step'), node('end', 'step')],
  ['start->fast', 'start->slow', 'start->wait', 'fast->join', 'slow->join', 'wait->join', 'join->end'],
);

describe.skipIf(noRedisServer)('Redis restarts empty mid-run (disposable redis-server, DrizzleStore on PGlite)', () => {
  let redis: DisposableRedis;
  let store: DrizzleStore;

  beforeAll(async () => {
    [redis, store] = await Promise.all([startDisposableRedis(), DrizzleStore.pglite()]);
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await redis?.stop();
  });

  it('completes every execution, runs each node at most once unless it was mid-run at the loss, and every join once', { timeout: 180_000 }, async () => {
    const runs = new Map<string, number>();
    const inFlight = new Set<string>();
    const registry = new NodeRegistry();
    const record = async (key: string, work: () => Promise<void>) => {
      runs.set(key, (runs.get(key) ?? 0) + 1);
      inFlight.add(key);
      try {
        await work();
      } finally {
        inFlight.delete(key);
      }
    };
    registry.register('step', async (ctx) => {
      await record(`${ctx.executionId}/${ctx.nodeId}`, () => sleep(5));
      return { success: true, data: { node: ctx.nodeId } };
    });
    registry.register('slow', async (ctx) => {
      await record(`${ctx.executionId}/${ctx.nodeId}`, () => sleep(SLOW_MS));
      return { success: true, data: { node: ctx.nodeId } };
    });
    // Two engines, both reconciling on their own: what several worker processes do.
    const config = { prefix: '{loss}', lockDuration: 4000, stalledInterval: 3000, reconcileIntervalMs: 500, reconcileGraceMs: 1500 };
    const engines = [0, 1].map(() => new WorkflowEngine({ registry, store, connection: redis.url, config, logger: memoryLogger() }));
    const metrics = new MetricsCollector();
    const repaired: SpaneEvent[] = [];
    try {
      for (const e of engines) {
        metrics.attach(e);
        e.observeEvents((ev) => void (ev.type === 'workflow:repaired' && repaired.push(ev)));
      }
      await engines[0]!.registerWorkflow(fanOut);
      for (const e of engines) e.startWorkers(4);
      await Promise.all(engines.map((e) => e.waitUntilReady()));
      const ids = await engines[0]!.enqueueBulkWorkflows(Array.from({ length: EXECUTIONS }, (_, i) => ({ workflowId: 'fan-out', initialData: { i } })));

      // Lose Redis's data once some executions finished and many are mid-way.
      const completed = async () => (await store.listExecutions({ status: 'completed', limit: EXECUTIONS })).length;
      await until(async () => (await completed()) >= 5, 60_000, 'a few executions to complete');
      const midRun = new Set(inFlight);
      const oldPid = redis.pid;
      await redis.restart();
      const restartedAt = Date.now();
      expect(redis.pid).not.toBe(oldPid);
      const before = await completed();
      expect(before).toBeLessThan(EXECUTIONS);

      await until(async () => (await completed()) === EXECUTIONS, 120_000, 'every execution to complete after the loss');
      const recoveryMs = Date.now() - restartedAt;

      for (const id of ids) {
        const exec = (await store.getExecution(id))!;
        expect(exec.status).toBe('completed');
        expect(Object.keys(exec.nodeResults).sort()).toEqual(['end', 'fast', 'join', 'slow', 'start', 'wait']);
        for (const n of ['start', 'fast', 'slow', 'join', 'end']) {
          const key = `${id}/${n}`;
          // A node mid-run when the data went can run again (its job was lost with it); no other.
          expect(runs.get(key), key).toBeLessThanOrEqual(midRun.has(key) ? 2 : 1);
        }
        expect(runs.get(`${id}/join`), `${id}/join`).toBe(1);
      }
      // Recovery came from the reconciler (no pause/resume here), and it said so.
      expect(repaired.length).toBeGreaterThan(0);
      expect(new Set(repaired.map((e) => e.executionId)).size).toBeLessThanOrEqual(EXECUTIONS - before);
      expect(await metrics.metrics()).toMatch(/spane_reconciler_repaired_executions_total\{workflow="fan-out"\} [1-9]/);
      console.info(`redis-loss: ${EXECUTIONS - before} executions unfinished at the loss, ${midRun.size} nodes mid-run; all completed ${recoveryMs} ms after the restart`);
    } finally {
      metrics.detachAll();
      await Promise.all(engines.map((e) => e.close()));
    }
  });
});
