/**
 * Every public method of the engine, given wrong types, out-of-range numbers, unknown ids,
 * finished executions and oversized values: each gets a SpaneError with the expected code, and
 * nothing is stored or enqueued. The table is what docs/reliability.md, "Bad input", lists; cases
 * that older tests already cover (engine-api.test.ts "enqueueing") are not repeated.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_DATA_DEPTH, SpaneError } from '../../src/index.js';
import { dlqJobId } from '../../src/runtime/queues/jobs.js';
import type { SpaneErrorCode, WorkflowEngine } from '../../src/index.js';
import { graph, node, testEngine, until } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

/** `levels` nested objects: `{ a: { a: ... } }`. */
function nested(levels: number): unknown {
  let v: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) v = { a: v };
  return v;
}

/** The code of the SpaneError `call` rejects with; fails the test for any other outcome. */
async function codeOf(call: () => unknown): Promise<SpaneErrorCode> {
  let outcome: unknown;
  try {
    await call();
    outcome = 'resolved';
  } catch (err) {
    outcome = err;
  }
  if (!(outcome instanceof SpaneError)) throw new Error(`expected a SpaneError, got ${outcome instanceof Error ? `${outcome.name}: ${outcome.message}` : String(outcome)}`);
  return outcome.code;
}

/** Executions in the store and jobs in every queue: what a refused call must leave unchanged. */
async function footprint(t: TestEngine): Promise<{ executions: number; jobs: Record<string, unknown> }> {
  const stats = await t.engine.getQueueStats();
  return { executions: (await t.store.listExecutions()).length, jobs: stats.queues };
}

type Case = readonly [label: string, call: (e: WorkflowEngine) => unknown, code: SpaneErrorCode];

/** Runs each case, checking its code and that it stored and enqueued nothing. */
async function refuseAll(t: TestEngine, cases: readonly Case[]): Promise<void> {
  const before = await footprint(t);
  const got: [string, SpaneErrorCode | string][] = [];
  for (const [label, call] of cases) got.push([label, await codeOf(() => call(t.engine)).catch((e: Error) => e.message)]);
  expect(got).toEqual(cases.map(([label, , code]) => [label, code]));
  expect(await footprint(t)).toEqual(before);
}

const future = () => Date.now() + 60_000;

describe('enqueue options and data are checked before anything is stored', () => {
  it('refuses bad delay, priority and options, and deep data, at every enqueue entry point', async () => {
    t = testEngine();
    t.registry.register('x', async () => ({ success: true }));
    await t.engine.registerWorkflow(graph('ok', [node('a', 'x')], []));
    const deep = nested(10_000);
    const badOptions: [string, unknown][] = [
      ['delay -1', { delay: -1 }],
      ['delay NaN', { delay: Number.NaN }],
      ['delay Infinity', { delay: Infinity }],
      ['delay string', { delay: '100' }],
      ['priority -1', { priority: -1 }],
      ['priority 1.5', { priority: 1.5 }],
      ['priority string', { priority: '1' }],
      ['priority over BullMQ limit', { priority: 2 ** 21 }],
      ['options null', null],
      ['options string', 'fast'],
      ['options number', 5],
      ['options array', []],
      ['unknown option', { dealy: 100 }],
    ];
    await refuseAll(t, [
      ...badOptions.map(([label, options]): Case => [`enqueueWorkflow ${label}`, (e) => e.enqueueWorkflow('ok', {}, options as never), 'INVALID_ARGUMENT']),
      ...badOptions.map(([label, options]): Case => [
        `enqueueBulkWorkflows ${label}`,
        (e) => e.enqueueBulkWorkflows([{ workflowId: 'ok' }, { workflowId: 'ok', options: options as never }]),
        'INVALID_ARGUMENT',
      ]),
      ['enqueueBulkWorkflows workflowId number', (e) => e.enqueueBulkWorkflows([{ workflowId: 42 as never }]), 'INVALID_ARGUMENT'],
      ['enqueueWorkflow 10,000 levels', (e) => e.enqueueWorkflow('ok', deep), 'DATA_TOO_DEEP'],
      [`enqueueWorkflow ${MAX_DATA_DEPTH + 1} levels`, (e) => e.enqueueWorkflow('ok', nested(MAX_DATA_DEPTH + 1)), 'DATA_TOO_DEEP'],
      ['enqueueWorkflow deep array', (e) => e.enqueueWorkflow('ok', JSON.parse('['.repeat(10_000) + ']'.repeat(10_000))), 'DATA_TOO_DEEP'],
      ['enqueueBulkWorkflows 10,000 levels', (e) => e.enqueueBulkWorkflows([{ workflowId: 'ok' }, { workflowId: 'ok', initialData: deep }]), 'DATA_TOO_DEEP'],
      ['scheduleWorkflow 10,000 levels', (e) => e.scheduleWorkflow('ok', deep, future()), 'DATA_TOO_DEEP'],
      ['scheduleWorkflow executeAt string', (e) => e.scheduleWorkflow('ok', {}, 'tomorrow' as never), 'INVALID_ARGUMENT'],
      ['scheduleWorkflow executeAt NaN', (e) => e.scheduleWorkflow('ok', {}, Number.NaN), 'INVALID_ARGUMENT'],
      ['scheduleWorkflow invalid Date', (e) => e.scheduleWorkflow('ok', {}, new Date('not a date')), 'INVALID_ARGUMENT'],
      ['scheduleWorkflow beyond the Date range', (e) => e.scheduleWorkflow('ok', {}, 1e300), 'INVALID_ARGUMENT'],
      ['scheduleWorkflow workflowId number', (e) => e.scheduleWorkflow(42 as never, {}, future()), 'INVALID_ARGUMENT'],
      ['scheduleWorkflow unknown workflow', (e) => e.scheduleWorkflow('nope', {}, future()), 'WORKFLOW_NOT_FOUND'],
    ]);
  });

  it('takes data exactly at the depth limit', async () => {
    t = testEngine();
    t.registry.register('x', async () => ({ success: true }));
    await t.engine.registerWorkflow(graph('ok', [node('a', 'x')], []));
    const id = await t.engine.enqueueWorkflow('ok', nested(MAX_DATA_DEPTH), { delay: 0, priority: 1 });
    expect((await t.engine.getExecution(id))?.initialData).toEqual(nested(MAX_DATA_DEPTH));
  });
});

describe('definitions', () => {
  it('refuses a definition nested deeper than the data limit, storing nothing', async () => {
    t = testEngine();
    t.registry.register('x', async () => ({ success: true }));
    await refuseAll(t, [
      ['node config 10,000 levels', (e) => e.registerWorkflow(graph('deep-def', [node('a', 'x', { config: { tree: nested(10_000) } })], [])), 'DATA_TOO_DEEP'],
      [
        `trigger data ${MAX_DATA_DEPTH + 10} levels`,
        (e) => e.registerWorkflow(graph('deep-def', [node('a', 'x')], [], { triggers: [{ type: 'schedule', config: { cron: '0 9 * * *', data: nested(MAX_DATA_DEPTH + 10) } }] })),
        'DATA_TOO_DEEP',
      ],
    ]);
    expect(await t.engine.getWorkflow('deep-def')).toBeUndefined();
    expect(await t.engine.getJobSchedulers()).toEqual([]);
  });
});

describe('ids and names that reach BullMQ keys are checked first', () => {
  it('refuses BullMQ key names and malformed DLQ ids; an unknown well-formed DLQ id is not found (false)', async () => {
    t = testEngine();
    const bullKeys = [
      'events',
      'meta',
      'id',
      'stalled-check',
      'limiter',
      'marker',
      'pc',
      'wait',
      'paused',
      'active',
      'delayed',
      'prioritized',
      'completed',
      'failed',
      'stalled',
      'repeat',
      'de',
    ];
    await refuseAll(t, [
      ...bullKeys.map((k): Case => [`retryDLQItem '${k}'`, (e) => e.retryDLQItem(k), 'INVALID_ARGUMENT']),
      ['retryDLQItem a node job id', (e) => e.retryDLQItem('0b5e2c1e-4a5d-4c59-9a0e-1f9f1d2f3a4b__a'), 'INVALID_ARGUMENT'],
      ['retryDLQItem dlq__ without a node', (e) => e.retryDLQItem('dlq__abc'), 'INVALID_ARGUMENT'],
      ['retryDLQItem with a colon', (e) => e.retryDLQItem('dlq__a:b__c'), 'INVALID_ARGUMENT'],
      ['retryDLQItem empty', (e) => e.retryDLQItem(''), 'INVALID_ARGUMENT'],
    ]);
    expect(await t.engine.retryDLQItem(dlqJobId('0b5e2c1e-4a5d-4c59-9a0e-1f9f1d2f3a4b', 'a'))).toBe(false);
  });

  it('refuses non-string ids of executions, workflows and schedulers', async () => {
    t = testEngine();
    t.registry.register('x', async () => ({ success: true }));
    await t.engine.registerWorkflow(graph('ok', [node('a', 'x')], []));
    await refuseAll(t, [
      ['getExecution number', (e) => e.getExecution(42 as never), 'INVALID_ARGUMENT'],
      ['getExecution options string', (e) => e.getExecution('x', 'raw' as never), 'INVALID_ARGUMENT'],
      ['pauseWorkflow number', (e) => e.pauseWorkflow(42 as never), 'INVALID_ARGUMENT'],
      ['resumeWorkflow object', (e) => e.resumeWorkflow({} as never), 'INVALID_ARGUMENT'],
      ['cancelWorkflow null', (e) => e.cancelWorkflow(null as never), 'INVALID_ARGUMENT'],
      ['replayWorkflow number', (e) => e.replayWorkflow(1 as never), 'INVALID_ARGUMENT'],
      ['replayWorkflow unknown', (e) => e.replayWorkflow('nope'), 'EXECUTION_NOT_FOUND'],
      ['waitForExecution number', (e) => e.waitForExecution(1 as never), 'INVALID_ARGUMENT'],
      ['waitForExecution timeoutMs -1', (e) => e.waitForExecution('x', { timeoutMs: -1 }), 'INVALID_ARGUMENT'],
      ['waitForExecution timeoutMs string', (e) => e.waitForExecution('x', { timeoutMs: '10' as never }), 'INVALID_ARGUMENT'],
      ['waitForExecution intervalMs 0', (e) => e.waitForExecution('x', { intervalMs: 0 }), 'INVALID_ARGUMENT'],
      ['waitForExecution unknown', (e) => e.waitForExecution('nope', { timeoutMs: 10 }), 'EXECUTION_NOT_FOUND'],
      ['enqueueNode executionId number', (e) => e.enqueueNode(42 as never, 'ok', 'a'), 'INVALID_ARGUMENT'],
      ['enqueueNode unknown execution', (e) => e.enqueueNode('nope', 'ok', 'a'), 'EXECUTION_NOT_FOUND'],
      ['getWorkflow number', (e) => e.getWorkflow(42 as never), 'INVALID_ARGUMENT'],
      ['getWorkflow version 0', (e) => e.getWorkflow('ok', 0), 'INVALID_ARGUMENT'],
      ['getWorkflow version 1.5', (e) => e.getWorkflow('ok', 1.5), 'INVALID_ARGUMENT'],
      ['getWorkflow version string', (e) => e.getWorkflow('ok', '1' as never), 'INVALID_ARGUMENT'],
      ['getJobScheduler number', (e) => e.getJobScheduler(42 as never), 'INVALID_ARGUMENT'],
      ['getJobScheduler empty', (e) => e.getJobScheduler(''), 'INVALID_ARGUMENT'],
      ['getJobSchedulers asc string', (e) => e.getJobSchedulers(0, -1, 'yes' as never), 'INVALID_ARGUMENT'],
      ['removeWorkflowSchedulers number', (e) => e.removeWorkflowSchedulers(42 as never), 'INVALID_ARGUMENT'],
      ['pruneExecutions null', (e) => e.pruneExecutions(null as never), 'INVALID_ARGUMENT'],
      ['subscribe handler string', (e) => e.subscribe('log' as never), 'INVALID_ARGUMENT'],
      ['subscribe executionId number', (e) => e.subscribe(() => undefined, { executionId: 42 as never }), 'INVALID_ARGUMENT'],
      ['subscribe types string', (e) => e.subscribe(() => undefined, { types: 'node:completed' as never }), 'INVALID_ARGUMENT'],
      ['observeEvents handler number', (e) => e.observeEvents(42 as never), 'INVALID_ARGUMENT'],
      ['events options string', (e) => e.events('all' as never), 'INVALID_ARGUMENT'],
      ['startWorkers 0', (e) => e.startWorkers(0), 'INVALID_ARGUMENT'],
      ['startWorkers string', (e) => e.startWorkers('2' as never), 'INVALID_ARGUMENT'],
    ]);
    // Ids nobody uses are answered as before: not found, nothing to do.
    expect(await t.engine.getJobScheduler('events')).toBeNull();
    expect(await t.engine.removeWorkflowSchedulers('events')).toBe(0);
    expect(await t.engine.getExecution('events')).toBeUndefined();
  });

  it('refuses a null, non-string or invalid cron and an invalid timezone before Redis', async () => {
    t = testEngine();
    t.registry.register('x', async () => ({ success: true }));
    await t.engine.registerWorkflow(graph('ok', [node('a', 'x')], []));
    await refuseAll(t, [
      ['cron null', (e) => e.registerScheduleWithUpsert('ok', null as never), 'INVALID_ARGUMENT'],
      ['cron number', (e) => e.registerScheduleWithUpsert('ok', 5 as never), 'INVALID_ARGUMENT'],
      ['cron empty', (e) => e.registerScheduleWithUpsert('ok', ''), 'INVALID_ARGUMENT'],
      ['cron invalid', (e) => e.registerScheduleWithUpsert('ok', '61 * * * *'), 'WORKFLOW_VALIDATION'],
      ['cron with a colon', (e) => e.registerScheduleWithUpsert('ok', '0 9 * * *:x'), 'WORKFLOW_VALIDATION'],
      ['timezone number', (e) => e.registerScheduleWithUpsert('ok', '0 9 * * *', 1 as never), 'INVALID_ARGUMENT'],
      ['timezone unknown', (e) => e.registerScheduleWithUpsert('ok', '0 9 * * *', 'Mars/Olympus_Mons'), 'WORKFLOW_VALIDATION'],
      ['workflowId number', (e) => e.registerScheduleWithUpsert(42 as never, '0 9 * * *'), 'INVALID_ARGUMENT'],
      ['workflowId unknown', (e) => e.registerScheduleWithUpsert('nope', '0 9 * * *'), 'WORKFLOW_NOT_FOUND'],
    ]);
    expect(await t.engine.getJobSchedulers()).toEqual([]);
  });
});

describe('finished executions', () => {
  it('enqueueNode refuses a completed execution; pause, resume and cancel answer false and change nothing', async () => {
    t = testEngine();
    t.registry.register('x', async () => ({ success: true, data: 1 }));
    await t.engine.registerWorkflow(graph('ok', [node('a', 'x')], []));
    t.engine.startWorkers(1);
    const id = await t.engine.enqueueWorkflow('ok', {});
    expect((await t.engine.waitForExecution(id)).status).toBe('completed');
    await until(async () => (await t!.engine.getQueueStats()).active === 0, 10_000, 'the node job to finish');
    await refuseAll(t, [
      ['enqueueNode completed', (e) => e.enqueueNode(id, 'ok', 'a'), 'INVALID_STATE'],
      ['enqueueNode deep input', (e) => e.enqueueNode(id, 'ok', 'a', nested(10_000)), 'DATA_TOO_DEEP'],
    ]);
    expect([await t.engine.pauseWorkflow(id), await t.engine.resumeWorkflow(id), await t.engine.cancelWorkflow(id)]).toEqual([false, false, false]);
    expect((await t.engine.getExecution(id))?.status).toBe('completed');
  });
});

describe('values produced at run time', () => {
  it('a node returning data 10,000 levels deep fails once, naming the node, without the data', async () => {
    t = testEngine();
    let runs = 0;
    t.registry.register('deep', async () => {
      runs++;
      return { success: true, data: { secret: 'S3CRET', tree: nested(10_000) } };
    });
    await t.engine.registerWorkflow(graph('deep-out', [node('a', 'deep', { config: { retryPolicy: { maxAttempts: 3 } } })], []));
    t.engine.startWorkers(1);
    const id = await t.engine.enqueueWorkflow('deep-out', {});
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('failed');
    expect(runs).toBe(1);
    const error = done.nodeResults['a']?.error ?? '';
    expect(error).toMatch(new RegExp(`node 'a' returned data .*nests deeper than ${MAX_DATA_DEPTH} levels`));
    expect(error).not.toContain('S3CRET');
    const [item] = await t.engine.getDLQItems(0, -1);
    expect(item?.error).toBe(error);
  });

  it('a sub-workflow whose mapped input nests too deep fails the node without retrying', async () => {
    t = testEngine();
    t.registry.register('x', async (ctx) => ({ success: true, data: ctx.inputData }));
    await t.engine.registerWorkflow(graph('child', [node('c', 'x')], []));
    // The parent's data is within the limit; the mapping's dotted target nests it 10 levels deeper.
    const target = Array.from({ length: 10 }, (_, i) => `k${i}`).join('.');
    const sub = node('s', 'sub-workflow', { config: { workflowId: 'child', inputMapping: { [target]: 'data' }, retryPolicy: { maxAttempts: 3 } } });
    await t.engine.registerWorkflow(graph('parent', [sub], []));
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('parent', { data: nested(MAX_DATA_DEPTH - 1) });
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('failed');
    expect(done.nodeResults['s']?.attempts).toBe(1);
    expect(done.nodeResults['s']?.error).toMatch(/sub-workflow node 's'.*nests deeper than/);
    expect(await t.store.getChildExecutions(id)).toEqual([]);
  });
});
