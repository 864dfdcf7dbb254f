/**
 * Events on both transports, run inline and in worker threads (see test/fixtures/modes.ts);
 * executors are in test/fixtures/executors/events.ts.
 * Executors report through a probe in Redis (REDIS_URL), whatever the queue backend.
 */
import { describe, expect, it } from 'vitest';
import type { SpaneEvent } from '../../src/index.js';
import { createRegistry } from '../fixtures/executors/events.js';
import { forEachMode } from '../fixtures/modes.js';
import { graph, node, TEST_BACKEND, until } from '../helpers.js';
import type { TestEngine } from '../helpers.js';
import { engineInternals } from '../../src/runtime/engine/test-hooks.js';

forEachMode({ module: new URL('../fixtures/executors/events.ts', import.meta.url), createRegistry }, (h) => {
  describe.each([
    ['event stream', false],
    ['job progress', true],
  ])('events (%s)', (_mode, useSimplifiedEventStream) => {
    let t: TestEngine;
    function setup() {
      t = h.engine({ config: { useSimplifiedEventStream } });
      return t;
    }

    it('delivers node and workflow events across engines, filtered exactly by execution', async () => {
      setup();
      // route -> left -> wait(delay) -> flaky ; route -> right (skipped)
      await t.engine.registerWorkflow(
        graph(
          'evented',
          [
            node('route', 'route'),
            node('left', 'ok'),
            node('right', 'ok'),
            node('wait', 'delay', { config: { duration: 50 } }),
            node('flaky', 'flaky', { retryPolicy: { maxAttempts: 2, backoff: { type: 'fixed', delay: 10 } } }),
          ],
          ['route->left', 'route->right', 'left->wait', 'wait->flaky'],
        ),
      );
      // The subscriber lives on another engine: events cross instances through Redis.
      const watcher = t.sibling({ useSimplifiedEventStream });
      const other: SpaneEvent[] = [];
      const mine: SpaneEvent[] = [];
      t.engine.startWorkers(3);
      const otherId = await t.engine.enqueueWorkflow('evented', {});
      await t.engine.waitForExecution(otherId);
      const id = await t.engine.enqueueWorkflow('evented', {}, { delay: 300 });
      const stop = watcher.subscribe((e) => mine.push(e), { executionId: id });
      watcher.subscribe((e) => other.push(e), { executionId: otherId });
      await watcher.eventsReady();
      await t.engine.waitForExecution(id);
      await until(() => mine.some((e) => e.type === 'workflow:completed'), h.patience(5000), 'completion event');
      stop();
      expect(mine.every((e) => e.executionId === id && e.workflowId === 'evented' && e.timestamp > 0 && e.id.length > 0)).toBe(true);
      const seen = mine.map((e) => `${e.type}${e.nodeId ? `:${e.nodeId}` : ''}`);
      for (const expected of [
        'node:started:route',
        'node:completed:route',
        'node:skipped:right',
        'node:delayed:wait',
        'node:retrying:flaky',
        'node:completed:flaky',
        'workflow:completed',
      ]) {
        expect(seen).toContain(expected);
      }
      expect(mine.find((e) => e.type === 'node:retrying')).toMatchObject({ error: 'try again', attempt: 1 });
      expect(mine.find((e) => e.type === 'node:completed' && e.nodeId === 'flaky')).toMatchObject({ data: 'second time', attempt: 2 });
      expect(mine.find((e) => e.type === 'node:delayed')?.data).toEqual({ delayMs: 50 });
      // On a PostgreSQL server the last events of an execution that just ended may commit after the
      // subscriber read its starting event id, and then reach it (docs/backends.md, Events).
      if (TEST_BACKEND === 'postgres') expect(other.every((e) => e.executionId === otherId)).toBe(true);
      else expect(other).toEqual([]);
    });

    it('reports failures, pause, resume and cancel', async () => {
      setup();
      await t.engine.registerWorkflow(graph('fails', [node('b', 'boom')], []));
      await t.engine.registerWorkflow(graph('holds', [node('h', 'hold'), node('after', 'ok')], ['h->after']));
      const events: SpaneEvent[] = [];
      t.engine.subscribe((e) => events.push(e));
      await t.engine.eventsReady();
      t.engine.startWorkers(2);
      const failing = await t.engine.enqueueWorkflow('fails', {});
      await t.engine.waitForExecution(failing);
      const held = await t.engine.enqueueWorkflow('holds', {});
      await until(() => events.some((e) => e.type === 'node:started' && e.executionId === held), h.patience(5000));
      await t.engine.pauseWorkflow(held);
      await t.engine.resumeWorkflow(held);
      await t.engine.cancelWorkflow(held);
      await until(() => events.some((e) => e.type === 'workflow:cancelled'), h.patience(5000));
      const types = (id: string) => events.filter((e) => e.executionId === id).map((e) => e.type);
      const expected = ['workflow:started', 'node:started', 'node:failed', 'workflow:failed'];
      // With job progress, the start (published by the API call) and the node events take
      // different streams, so only events from the same stream keep their order.
      if (useSimplifiedEventStream) expect([...types(failing)].sort()).toEqual([...expected].sort());
      else expect(types(failing)).toEqual(expected);
      expect(events.find((e) => e.type === 'workflow:failed')).toMatchObject({ nodeId: 'b', error: 'kaput' });
      expect(types(held)).toEqual(expect.arrayContaining(['workflow:started', 'workflow:paused', 'workflow:resumed', 'workflow:cancelled']));
    });

    it('offers an async iterable that unsubscribes when the loop ends', async () => {
      setup();
      await t.engine.registerWorkflow(graph('iter', [node('a', 'ok'), node('b', 'ok')], ['a->b']));
      t.engine.startWorkers(2);
      const iterator = t.engine.events({ types: ['node:completed', 'workflow:completed'] });
      await t.engine.eventsReady();
      const id = await t.engine.enqueueWorkflow('iter', {});
      const got: string[] = [];
      for await (const e of iterator) {
        if (e.executionId !== id) continue;
        got.push(`${e.type}${e.nodeId ? `:${e.nodeId}` : ''}`);
        if (e.type === 'workflow:completed') break;
      }
      expect(got).toEqual(['node:completed:a', 'node:completed:b', 'workflow:completed']);
      expect(engineInternals(t.engine).rt.events.subscriberCount).toBe(0);
    });
  });
});
