import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, MetricsCollector } from '../../src/index.js';
import type { MetricsSource, QueueStats } from '../../src/index.js';
import { graph, node, testEngine, until } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

const engines: TestEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((t) => t.cleanup()));
});

function setup(): TestEngine {
  const t = testEngine();
  engines.push(t);
  t.registry.register('ok', async () => ({ success: true, data: 'fine' }));
  t.registry.register('flaky', async (ctx) => (ctx.attempt === 1 ? { success: false, error: 'try again' } : { success: true, data: 'second time' }));
  t.registry.register('boom', async () => ({ success: false, error: 'kaput' }));
  t.registry.register('route', async () => ({ success: true, nextNodes: ['left'] }));
  return t;
}

/** ok -> flaky (fails once, then succeeds) -> boom (fails for good): the execution fails. */
const mixed = graph(
  'mixed',
  [node('first', 'ok'), node('second', 'flaky', { retryPolicy: { maxAttempts: 3, backoff: { type: 'fixed', delay: 10 } } }), node('third', 'boom')],
  ['first->second', 'second->third'],
);

/** The value of one series in the text exposition, or undefined when it is not there. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (have.size === want.length && want.every(([k, v]) => have.get(k) === v)) return Number(m[3]);
  }
  return undefined;
}

describe('MetricsCollector', () => {
  it('counts workflow and node outcomes and times attempts', async () => {
    const t = setup();
    const metrics = new MetricsCollector();
    metrics.attach(t.engine);
    await t.engine.registerWorkflow(mixed);
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('mixed', {});
    const exec = await t.engine.waitForExecution(id);
    expect(exec.status).toBe('failed');

    const text = await metrics.toPrometheus();
    const wf = (status: string) => sample(text, 'spane_workflow_executions_total', { workflow: 'mixed', status });
    expect(wf('started')).toBe(1);
    expect(wf('failed')).toBe(1);
    expect(wf('completed')).toBeUndefined();

    const nodes = (node_type: string, status: string) => sample(text, 'spane_node_executions_total', { workflow: 'mixed', node_type, status });
    expect(nodes('ok', 'completed')).toBe(1);
    expect(nodes('flaky', 'retrying')).toBe(1);
    expect(nodes('flaky', 'completed')).toBe(1);
    expect(nodes('boom', 'failed')).toBe(1);
    expect(nodes('ok', 'failed')).toBeUndefined();
    // Exactly these four series, nothing else (no execution or node ids in labels).
    const nodeLines = text.split('\n').filter((l) => l.startsWith('spane_node_executions_total{'));
    expect(nodeLines).toHaveLength(4);
    expect(text).not.toContain(id);
    expect(text).not.toContain('node="');

    // One histogram observation per counted attempt (skips excluded), with matching counts.
    for (const [node_type, status] of [
      ['ok', 'completed'],
      ['flaky', 'retrying'],
      ['flaky', 'completed'],
      ['boom', 'failed'],
    ] as const) {
      const labels = { workflow: 'mixed', node_type, status };
      expect(sample(text, 'spane_node_duration_seconds_count', labels)).toBe(nodes(node_type, status));
      expect(sample(text, 'spane_node_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(1);
      const sum = sample(text, 'spane_node_duration_seconds_sum', labels)!;
      expect(sum).toBeGreaterThanOrEqual(0);
      expect(sum).toBeLessThan(5);
    }
    expect(metrics.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await metrics.metrics()).toContain('# TYPE spane_node_duration_seconds histogram');
  });

  it('counts skipped nodes, and completed, paused, resumed and cancelled executions', async () => {
    const t = setup();
    const metrics = new MetricsCollector();
    metrics.attach(t.engine);
    await t.engine.registerWorkflow(graph('branchy', [node('route', 'route'), node('left', 'ok'), node('right', 'ok')], ['route->left', 'route->right']));
    t.engine.startWorkers(2);
    await t.engine.waitForExecution(await t.engine.enqueueWorkflow('branchy', {}));
    // A delayed execution is held (paused, resumed) and cancelled before it runs.
    const held = await t.engine.enqueueWorkflow('branchy', {}, { delay: 60_000 });
    expect(await t.engine.pauseWorkflow(held)).toBe(true);
    expect(await t.engine.resumeWorkflow(held)).toBe(true);
    expect(await t.engine.cancelWorkflow(held)).toBe(true);

    const text = await metrics.toPrometheus();
    const wf = (status: string) => sample(text, 'spane_workflow_executions_total', { workflow: 'branchy', status });
    expect([wf('started'), wf('completed'), wf('paused'), wf('resumed'), wf('cancelled'), wf('failed')]).toEqual([2, 1, 1, 1, 1, undefined]);
    expect(sample(text, 'spane_node_executions_total', { workflow: 'branchy', node_type: 'route', status: 'completed' })).toBe(1);
    expect(sample(text, 'spane_node_executions_total', { workflow: 'branchy', node_type: 'ok', status: 'completed' })).toBe(1);
    // `node:skipped` events carry no node type yet, so the series may be labelled `unknown`.
    const skipped = text.split('\n').filter((l) => l.startsWith('spane_node_executions_total{') && l.includes('status="skipped"'));
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatch(/workflow="branchy".* 1$/);
    expect(text).not.toMatch(/spane_node_duration_seconds_count\{[^}]*status="skipped"/);
  });

  it('reads queue depths on scrape', async () => {
    const t = setup();
    const metrics = new MetricsCollector();
    metrics.attach(t.engine);
    await t.engine.registerWorkflow(mixed);
    await t.engine.enqueueBulkWorkflows([{ workflowId: 'mixed' }, { workflowId: 'mixed' }, { workflowId: 'mixed' }]);
    await t.engine.enqueueWorkflow('mixed', {}, { delay: 60_000 });

    let text = await metrics.toPrometheus();
    const q = (queue: string, state: string) => sample(text, 'spane_queue_jobs', { queue, state });
    expect(q('node-execution', 'waiting')).toBe(3);
    expect(q('node-execution', 'delayed')).toBe(1);
    expect(q('node-execution', 'active')).toBe(0);
    expect(q('workflow-execution', 'waiting')).toBe(0);
    expect(q('dlq-execution', 'waiting')).toBe(0);
    for (const queue of ['node-execution', 'workflow-execution', 'dlq-execution']) {
      for (const state of ['waiting', 'active', 'completed', 'failed', 'delayed', 'paused']) expect(q(queue, state)).toBeTypeOf('number');
    }

    // Once workers ran them, the waiting jobs are gone and the failures sit in the DLQ.
    t.engine.startWorkers(2);
    await until(async () => (await t.engine.getQueueStats()).queues['dlq-execution'].waiting === 3, 10_000, 'three DLQ items');
    text = await metrics.toPrometheus();
    expect(q('node-execution', 'waiting')).toBe(0);
    expect(q('node-execution', 'delayed')).toBe(1);
    expect(q('dlq-execution', 'waiting')).toBe(3);
  });

  it('adds up several attached engines and reads shared queues once', async () => {
    const t = setup();
    const sibling = t.sibling();
    const other = setup(); // another prefix: queues of its own
    const metrics = new MetricsCollector();
    metrics.attach(t.engine);
    metrics.attach(sibling);
    metrics.attach(other.engine);
    await t.engine.registerWorkflow(mixed);
    await other.engine.registerWorkflow(mixed);

    // Waiting jobs: two in the shared queues (seen by both siblings), one in the other prefix.
    await t.engine.enqueueWorkflow('mixed', {});
    await sibling.enqueueWorkflow('mixed', {});
    await other.engine.enqueueWorkflow('mixed', {});
    let text = await metrics.toPrometheus();
    expect(sample(text, 'spane_queue_jobs', { queue: 'node-execution', state: 'waiting' })).toBe(3);

    // Only the sibling works on the shared queues; each engine counts what it published.
    sibling.startWorkers(2);
    other.engine.startWorkers(2);
    await until(
      async () => {
        const a = await t.engine.getQueueStats();
        const b = await other.engine.getQueueStats();
        return a.queues['dlq-execution'].waiting === 2 && b.queues['dlq-execution'].waiting === 1;
      },
      10_000,
      'three failed executions',
    );
    text = await metrics.toPrometheus();
    expect(sample(text, 'spane_workflow_executions_total', { workflow: 'mixed', status: 'started' })).toBe(3);
    expect(sample(text, 'spane_workflow_executions_total', { workflow: 'mixed', status: 'failed' })).toBe(3);
    expect(sample(text, 'spane_node_executions_total', { workflow: 'mixed', node_type: 'flaky', status: 'retrying' })).toBe(3);
    expect(sample(text, 'spane_node_duration_seconds_count', { workflow: 'mixed', node_type: 'boom', status: 'failed' })).toBe(3);
    expect(sample(text, 'spane_queue_jobs', { queue: 'node-execution', state: 'waiting' })).toBe(0);
    expect(sample(text, 'spane_queue_jobs', { queue: 'dlq-execution', state: 'waiting' })).toBe(3);
  });

  it('stops counting after detach', async () => {
    const t = setup();
    const metrics = new MetricsCollector();
    const detach = metrics.attach(t.engine);
    expect(() => metrics.attach(t.engine)).toThrow(InvalidArgumentError);
    await t.engine.registerWorkflow(mixed);
    t.engine.startWorkers(2);
    await t.engine.waitForExecution(await t.engine.enqueueWorkflow('mixed', {}));
    detach();
    detach(); // a second call does nothing
    await t.engine.waitForExecution(await t.engine.enqueueWorkflow('mixed', {}));
    await t.engine.enqueueWorkflow('mixed', {}, { delay: 60_000 });

    const text = await metrics.toPrometheus();
    expect(sample(text, 'spane_workflow_executions_total', { workflow: 'mixed', status: 'started' })).toBe(1);
    expect(sample(text, 'spane_node_executions_total', { workflow: 'mixed', node_type: 'boom', status: 'failed' })).toBe(1);
    // No engine left: the queue gauge has no series.
    expect(text).not.toMatch(/^spane_queue_jobs\{/m);

    // It can be attached again, and counts from then on.
    metrics.attach(t.engine);
    await t.engine.waitForExecution(await t.engine.enqueueWorkflow('mixed', {}));
    const again = await metrics.toPrometheus();
    expect(sample(again, 'spane_workflow_executions_total', { workflow: 'mixed', status: 'started' })).toBe(2);
    expect(sample(again, 'spane_queue_jobs', { queue: 'node-execution', state: 'delayed' })).toBe(1);
  });

  it('uses the given registry and prefix, and keeps scraping when an engine fails', async () => {
    const t = setup();
    const registry = new Registry();
    const errors: unknown[] = [];
    const metrics = new MetricsCollector({ registry, prefix: 'orders_', queueStatsTimeoutMs: 200, onScrapeError: (e) => errors.push(e) });
    expect(metrics.registry).toBe(registry);
    metrics.attach(t.engine);
    // A source whose queue counts fail or never arrive.
    const broken = (stats: () => Promise<QueueStats>): MetricsSource => ({
      observeEvents: () => () => undefined,
      getQueueStats: stats,
      getConfig: () => ({ prefix: 'elsewhere' }),
    });
    metrics.attach(broken(() => Promise.reject(new Error('redis down'))));
    metrics.attach({ ...broken(() => new Promise<QueueStats>(() => undefined)), getConfig: () => ({ prefix: 'nowhere' }) });
    await t.engine.registerWorkflow(mixed);
    t.engine.startWorkers(2);
    await t.engine.waitForExecution(await t.engine.enqueueWorkflow('mixed', {}));

    const text = await registry.metrics();
    expect(sample(text, 'orders_workflow_executions_total', { workflow: 'mixed', status: 'failed' })).toBe(1);
    expect(sample(text, 'orders_queue_jobs', { queue: 'dlq-execution', state: 'waiting' })).toBe(1);
    expect(text).not.toContain('spane_');
    expect(errors.map(String).sort()).toEqual(['Error: queue stats took longer than 200 ms', 'Error: redis down']);
    // The same names cannot be registered twice in one registry; another prefix can.
    expect(() => new MetricsCollector({ registry, prefix: 'orders_' })).toThrow(/already been registered/);
    expect(() => new MetricsCollector({ registry, prefix: 'billing_' })).not.toThrow();
    expect(() => new MetricsCollector({ prefix: 'bad-prefix' })).toThrow(InvalidArgumentError);
  });
});
