/**
 * spane/testing end to end: createTestEngine runs real BullMQ on an in-process PGlite with an
 * in-memory store, so this file needs no server (spane-test: probes its servers — here, none).
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNode, delay, transform, waitForEvent, waitForSignal, workflow } from '../../src/index.js';
import type { WorkflowDefinition } from '../../src/index.js';
import { createTestEngine } from '../../src/testing/index.js';
import type { TestEngine } from '../../src/testing/index.js';
import { runNode } from '../helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const double = transform('double', (n: number) => n * 2);
const inc = transform('inc', (n: number) => n + 1);

/** input n → n*2 → +1 → ... ten nodes. */
const chain = workflow('chain', { input: z.number() })
  .node('n0', double)
  .then('n1', inc)
  .then('n2', inc)
  .then('n3', inc)
  .then('n4', inc)
  .then('n5', inc)
  .then('n6', inc)
  .then('n7', inc)
  .then('n8', inc)
  .then('n9', inc)
  .build();

const lookup = defineNode({
  type: 'lookup-user',
  input: z.object({ userId: z.number() }),
  output: z.object({ name: z.string() }),
  run: async ({ input }) => ({ name: `real-${input.userId}` }),
});
const greet = transform('greet', (u: { name: string }) => `hello ${u.name}`);
const greeting = workflow('greeting', { input: z.object({ userId: z.number() }) })
  .node('lookup', lookup())
  .then('greet', greet)
  .build();

const reminder = workflow('reminder', { input: z.object({ userId: z.number() }) })
  .node('wait', delay(86_400_000))
  .then('lookup', lookup())
  .build();

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('createTestEngine', () => {
  it('runs a DSL workflow and returns its typed output and node results', async () => {
    t = await createTestEngine({ workflows: [chain] });
    const run = await t.run(chain, 5);
    expect(run.status).toBe('completed');
    expect(run.output).toBe(19);
    expect(Object.keys(run.nodes).sort()).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8', 'n9']);
    expect(run.nodes['n0']).toMatchObject({ status: 'completed', data: 10 });
  });

  it('starts from an empty database: another test engine sees none of the last one', async () => {
    t = await createTestEngine({ workflows: [chain] });
    const first = await t.run(chain, 1);
    await t.close();
    t = await createTestEngine({ workflows: [chain] });
    expect(await t.engine.getExecution(first.executionId)).toBeUndefined();
    expect((await t.engine.getQueueStats()).queues['node-execution']).toMatchObject({ completed: 0, failed: 0, delayed: 0 });
  });

  it('runs two test engines open at once apart', async () => {
    t = await createTestEngine({ workflows: [chain] });
    const other = await createTestEngine({ workflows: [chain], mocks: { n9: 'other' } });
    try {
      const [a, b] = await Promise.all([t.run(chain, 1), other.run(chain, 1)]);
      expect(a.output).toBe(11);
      expect(b.output).toBe('other');
      await expect(t.engine.getExecution(b.executionId)).resolves.toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('stamps results and events with the virtual clock; observeEvents sees events without the stream', async () => {
    const start = Date.UTC(2031, 5, 1);
    t = await createTestEngine({ workflows: [chain], now: start });
    const seen: { type: string; timestamp: number }[] = [];
    t.engine.observeEvents((e) => seen.push({ type: e.type, timestamp: e.timestamp }));
    const run = await t.run(chain, 1);
    expect(run.execution.startedAt).toBeGreaterThanOrEqual(start);
    expect(run.execution.startedAt).toBeLessThan(start + 60_000);
    expect(run.execution.completedAt).toBeLessThan(start + 60_000);
    expect(seen.filter((e) => e.type === 'node:completed')).toHaveLength(10);
    expect(seen.every((e) => e.timestamp >= start && e.timestamp < start + 60_000)).toBe(true);
  });

  it('runs a JSON workflow by id with executors from `nodes`', async () => {
    const def: WorkflowDefinition = {
      id: 'json-echo',
      name: 'echo',
      entryNodeId: 'a',
      nodes: [
        { id: 'a', type: 'upper', config: {}, inputs: [], outputs: ['b'] },
        { id: 'b', type: 'upper', config: {}, inputs: ['a'], outputs: [] },
      ],
    };
    t = await createTestEngine({ workflows: [def], nodes: { upper: async (ctx) => ({ success: true, data: `${String(ctx.inputData)}!` }) } });
    const run = await t.run('json-echo', 'hi');
    expect(run.output).toBe('hi!!');
  });

  it('refuses bad options with typed errors', async () => {
    await expect(createTestEngine({ config: { prefix: 'x' } as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(createTestEngine({ workflows: 'chain' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(createTestEngine({ timeoutMs: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('mocks', () => {
  it('replaces a node by id, records its calls, and restores it', async () => {
    t = await createTestEngine({ workflows: [greeting] });
    const mock = t.mockNode('lookup', (input: { userId: number }) => ({ name: `mock-${input.userId}` }));
    const run = await t.run(greeting, { userId: 7 });
    expect(run.output).toBe('hello mock-7');
    expect(mock.calls).toEqual([{ input: { userId: 7 }, attempt: 1, nodeId: 'lookup', executionId: run.executionId }]);
    mock.restore();
    expect((await t.run(greeting, { userId: 7 })).output).toBe('hello real-7');
  });

  it('replaces every node of a type from `mocks`, a value as the output', async () => {
    t = await createTestEngine({ workflows: [greeting], mocks: { 'lookup-user': { name: 'Ada' } } });
    expect((await t.run(greeting, { userId: 1 })).output).toBe('hello Ada');
    expect(t.calls('lookup-user')).toHaveLength(1);
    expect(() => t!.calls('nothing')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('a throwing mock fails attempts, retried under the retry policy; the run reports the failure', async () => {
    const flaky = workflow('flaky', { input: z.object({ userId: z.number() }) })
      .node('lookup', lookup(), { retryPolicy: { maxAttempts: 2, backoff: { type: 'fixed', delay: 60_000 } } })
      .build();
    t = await createTestEngine({ workflows: [flaky] });
    const mock = t.mockNode('lookup', () => {
      throw new Error('down');
    });
    const id = await t.start(flaky, { userId: 1 });
    // The retry waits a minute: nothing runs until time moves.
    await expect(t.wait(id)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await t.advanceTime('1m');
    const run = await t.wait(id);
    expect(run.status).toBe('failed');
    expect(run.error?.message).toContain('down');
    expect(mock.calls.map((c) => c.attempt)).toEqual([1, 2]);
  });
});

describe('advanceTime', () => {
  it('fires a delay node without waiting, with the clock at its due time', async () => {
    const start = Date.UTC(2030, 0, 1);
    t = await createTestEngine({ workflows: [reminder], now: start, mocks: { lookup: { name: 'x' } } });
    const id = await t.start(reminder, { userId: 1 });
    await expect(t.wait(id)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await t.advanceTime('23h');
    expect((await t.engine.getExecution(id))?.status).toBe('running');
    await t.advanceTime('1h');
    const run = await t.wait(id);
    expect(run.status).toBe('completed');
    // Stamped in virtual time: the lookup ran a day after the start.
    expect(run.nodes['lookup']!.startedAt).toBeGreaterThanOrEqual(start + 86_400_000);
    expect(run.nodes['lookup']!.startedAt).toBeLessThan(start + 86_400_000 + 60_000);
    expect(t.now()).toBeGreaterThanOrEqual(start + 86_400_000);
  });

  it('starts scheduled executions that fall due', async () => {
    t = await createTestEngine({ workflows: [greeting], mocks: { lookup: { name: 'later' } } });
    const id = await t.engine.scheduleWorkflow(greeting, { userId: 1 }, t.now() + 3_600_000);
    await t.advanceTime('59m');
    expect((await t.engine.getExecution(id))?.status).toBe('pending');
    await t.advanceTime('1m');
    expect((await t.wait(id)).output).toBe('hello later');
  });

  it('starts one execution per cron occurrence in the span', async () => {
    const hourly = workflow('hourly', { input: z.object({ userId: z.number() }) })
      .trigger({ type: 'schedule', cron: '0 * * * *', data: { userId: 3 } })
      .node('lookup', lookup())
      .build();
    t = await createTestEngine({ workflows: [hourly], now: Date.UTC(2030, 0, 1, 0, 30), mocks: { lookup: { name: 'c' } } });
    await t.advanceTime('3h');
    expect(t.calls('lookup').map((c) => c.input)).toEqual([{ userId: 3 }, { userId: 3 }, { userId: 3 }]);
  });

  it('a delay after a delay fires in the same advance', async () => {
    const twice = workflow('twice', { input: z.object({ userId: z.number() }) })
      .node('w1', delay(60_000))
      .then('w2', delay(60_000))
      .then('lookup', lookup())
      .build();
    t = await createTestEngine({ workflows: [twice], mocks: { lookup: { name: 'z' } } });
    const id = await t.start(twice, { userId: 1 });
    // The second delay starts when the first fired (plus the real ms its job took): 3 minutes cover both.
    await t.advanceTime('3m');
    expect((await t.wait(id)).status).toBe('completed');
  });

  it('refuses a duration that is not one', async () => {
    t = await createTestEngine();
    await expect(t.advanceTime('soon' as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(t.advanceTime(-1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

const approval = workflow('approval', { input: z.object({ amount: z.number() }) })
  .node('approve', waitForSignal('approval', { schema: z.object({ approved: z.boolean() }), timeout: '24h', onTimeout: { value: { approved: false } } }))
  .then(
    'decide',
    transform('decide', (a: { approved: boolean }) => (a.approved ? 'paid' : 'refused')),
  )
  .build();

const checkout = workflow('checkout', { input: z.object({ orderId: z.string() }) })
  .node(
    'paid',
    waitForEvent('order.paid', {
      schema: z.object({ orderId: z.string(), amount: z.number() }),
      match: { field: 'orderId', equals: '$.input.orderId' },
      timeout: '7d',
      onTimeout: { value: { orderId: '', amount: 0 } },
    }),
  )
  .then(
    'charge',
    transform('charge', (p: { amount: number }) => p.amount),
  )
  .build();

describe('signals and forks on a test engine', () => {
  it('t.signal completes a waiting node, typed by the flow', async () => {
    t = await createTestEngine({ workflows: [approval] });
    const id = await t.start(approval, { amount: 120 });
    await t.signal(approval, id, 'approval', { approved: true });
    const run = await t.wait<typeof approval>(id);
    expect(run.status).toBe('completed');
    if (run.status === 'completed') expect(run.output).toBe('paid');
  });

  it('advanceTime fires a signal timeout without waiting a day', async () => {
    t = await createTestEngine({ workflows: [approval] });
    const id = await t.start(approval, { amount: 120 });
    await expect(t.wait(id)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await t.advanceTime('25h');
    const run = await t.wait<typeof approval>(id);
    expect(run.status).toBe('completed');
    if (run.status === 'completed') expect(run.output).toBe('refused');
  });

  it('t.sendEvent wakes the execution waiting for the matching event; advanceTime fires an event timeout', async () => {
    t = await createTestEngine({ workflows: [checkout] });
    const paid = await t.start(checkout, { orderId: 'o-1' });
    const other = await t.start(checkout, { orderId: 'o-2' });
    // An event is not kept: wait until both executions wait (the harness has nothing left to run).
    await expect(t.wait(paid)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect(await t.sendEvent('order.paid', { orderId: 'o-1', amount: 30 })).toEqual({ woken: 1, executionIds: [paid] });
    const run = await t.wait<typeof checkout>(paid);
    expect(run.status).toBe('completed');
    if (run.status === 'completed') expect(run.output).toBe(30);
    await t.advanceTime('8d');
    const late = await t.wait<typeof checkout>(other);
    expect(late.status).toBe('completed');
    if (late.status === 'completed') expect(late.output).toBe(0);
  });

  it('t.fork re-runs a failed execution from a node after the mock is fixed', async () => {
    t = await createTestEngine({ workflows: [greeting] });
    const failing = t.mockNode('lookup', () => {
      throw new Error('directory down');
    });
    const first = await t.run(greeting, { userId: 7 });
    expect(first.status).toBe('failed');
    failing.restore();
    t.mockNode('lookup', { name: 'ada' });
    const forkId = await t.fork(greeting, first.executionId, { fromNodeId: 'lookup' });
    const run = await t.wait<typeof greeting>(forkId);
    expect(run.status).toBe('completed');
    if (run.status === 'completed') expect(run.output).toBe('hello ada');
    expect(run.execution.forkedFrom).toEqual({ executionId: first.executionId, nodeId: 'lookup' });
  });
});

describe('node:test', () => {
  it('runs test engines under `node --test` (tsx loader), and the process exits when the tests end', async () => {
    const r = await runNode(['--import', 'tsx', '--test', '--test-reporter=tap', 'test/fixtures/testing/harness.node-test.ts'], root);
    expect(r.out, r.err).toMatch(/^# pass 2$/m);
    expect(r.out).toMatch(/^# fail 0$/m);
    expect(r.code, r.out + r.err).toBe(0);
  }, 120_000);

  it('runs examples/testing.test.ts (spane/testing as a user imports it)', async () => {
    const r = await runNode(['--import', 'tsx', '--test', '--test-reporter=tap', 'examples/testing.test.ts'], root);
    expect(r.out, r.err).toMatch(/^# pass 2$/m);
    expect(r.code, r.out + r.err).toBe(0);
  }, 120_000);
});
