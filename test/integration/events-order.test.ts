/**
 * Event order under a burst: many executions run at once on two engines (separate connections,
 * both with workers), and two other engines subscribe. Every event reaches both subscribers,
 * once, in the order the stream holds them, and each execution's events come in causal order
 * (a node starts before it completes, a parent completes before its child starts, the workflow
 * starts first and completes last), whichever engine ran which node.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryExecutionStore, NodeRegistry, WorkflowEngine } from '../../src/index.js';
import type { SpaneEvent } from '../../src/index.js';
import { deleteKeys, graph, memoryLogger, node, REDIS_URL, until } from '../helpers.js';

const CHAIN = 6;
const EXECUTIONS = 30;

describe('event order under a burst', () => {
  const prefix = `{spane-test-${randomUUID().slice(0, 8)}}`;
  const admin = new Redis(REDIS_URL);
  const engines: WorkflowEngine[] = [];

  afterEach(async () => {
    await Promise.all(engines.map((e) => e.close()));
    await deleteKeys(admin, prefix);
    admin.disconnect();
  });

  it('delivers every event to subscribers on other engines, in stream order and per execution in causal order', async () => {
    const registry = new NodeRegistry();
    // Some nodes finish at once, some after a timer: events of different executions interleave.
    registry.register('step', async (ctx) => {
      if (ctx.nodeId.endsWith('1')) await new Promise((r) => setTimeout(r, 1));
      return { success: true, data: ctx.nodeId };
    });
    const store = new InMemoryExecutionStore();
    const logger = memoryLogger();
    const make = () => {
      const e = new WorkflowEngine({ registry, store, connection: REDIS_URL, config: { prefix }, logger });
      engines.push(e);
      return e;
    };
    const [runA, runB, watchA, watchB] = [make(), make(), make(), make()];
    const chainNodes = Array.from({ length: CHAIN }, (_, i) => node(`s${i}`, 'step'));
    const chainEdges = chainNodes.slice(1).map((_, i) => `s${i}->s${i + 1}`);
    await runA.registerWorkflow(graph('chain', chainNodes, chainEdges));
    const fanNodes = [node('root', 'step'), ...[1, 2, 3, 4].map((i) => node(`b${i}`, 'step')), node('join', 'step')];
    await runA.registerWorkflow(graph('fan', fanNodes, ['root->b1', 'root->b2', 'root->b3', 'root->b4', 'b1->join', 'b2->join', 'b3->join', 'b4->join']));
    const edges = new Map<string, [string, string][]>([
      ['chain', chainEdges.map((e) => e.split('->') as [string, string])],
      [
        'fan',
        [1, 2, 3, 4].flatMap((i): [string, string][] => [
          ['root', `b${i}`],
          [`b${i}`, 'join'],
        ]),
      ],
    ]);
    const nodeIds = new Map([
      ['chain', chainNodes.map((n) => n.id)],
      ['fan', fanNodes.map((n) => n.id)],
    ]);

    const seenA: SpaneEvent[] = [];
    const seenB: SpaneEvent[] = [];
    watchA.subscribe((e) => seenA.push(e));
    watchB.subscribe((e) => seenB.push(e));
    await Promise.all([watchA.eventsReady(), watchB.eventsReady()]);
    runA.startWorkers(20);
    runB.startWorkers(20);
    await Promise.all([runA.waitUntilReady(), runB.waitUntilReady()]);

    const ids = [
      ...(await runA.enqueueBulkWorkflows(Array.from({ length: EXECUTIONS }, () => ({ workflowId: 'chain', initialData: {} })))),
      ...(await runB.enqueueBulkWorkflows(Array.from({ length: EXECUTIONS }, () => ({ workflowId: 'fan', initialData: {} })))),
    ];
    for (const id of ids) expect((await runA.waitForExecution(id, { timeoutMs: 60_000 })).status).toBe('completed');
    const expectedCount = (wf: string) => 2 + 2 * nodeIds.get(wf)!.length;
    const total = EXECUTIONS * (expectedCount('chain') + expectedCount('fan'));
    const ours = (list: SpaneEvent[]) => list.filter((e) => ids.includes(e.executionId));
    await until(() => ours(seenA).length >= total && ours(seenB).length >= total, 20_000, `${total} events on both subscribers`);

    // Both subscribers saw the same entries in the same order: the stream's.
    expect(ours(seenA).map((e) => e.id)).toEqual(ours(seenB).map((e) => e.id));
    expect(new Set(ours(seenA).map((e) => e.id)).size).toBe(total);

    const byExecution = new Map<string, SpaneEvent[]>();
    for (const e of ours(seenA)) byExecution.set(e.executionId, [...(byExecution.get(e.executionId) ?? []), e]);
    for (const id of ids) {
      const events = byExecution.get(id) ?? [];
      const wf = events[0]?.workflowId ?? '?';
      const labels = events.map((e) => `${e.type}${e.nodeId === undefined ? '' : `:${e.nodeId}`}`);
      expect(labels.length, `${id}: ${labels.join(', ')}`).toBe(expectedCount(wf));
      expect(labels[0]).toBe('workflow:started');
      expect(labels.at(-1)).toBe('workflow:completed');
      const at = (label: string) => {
        const i = labels.indexOf(label);
        expect(i, `${id}: ${label} missing from ${labels.join(', ')}`).toBeGreaterThanOrEqual(0);
        return i;
      };
      for (const n of nodeIds.get(wf)!) expect(at(`node:started:${n}`)).toBeLessThan(at(`node:completed:${n}`));
      for (const [parent, child] of edges.get(wf)!) expect(at(`node:completed:${parent}`), `${id}: ${labels.join(', ')}`).toBeLessThan(at(`node:started:${child}`));
    }
    expect(logger.lines.filter((l) => l.includes('could not publish'))).toEqual([]);
  });
});
