/**
 * OpenTelemetry spans (docs/tracing.md), recorded with the SDK's in-memory exporter: one trace
 * per execution across two worker processes and a sub-workflow, spans per node attempt with
 * their status and error code, the trace id on the execution, and the DrizzleStore round trip
 * of the trace columns.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { context, ProxyTracerProvider, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { BullMQOtel } from 'bullmq-otel';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DrizzleStore, InvalidArgumentError, NodeRegistry, NonRetryableError, WorkflowEngine } from '../../src/index.js';
import { createTestDatabase } from '../contract/databases.js';
import type { TestDatabase } from '../contract/databases.js';
import { FAN, LEAF, registerTracingExecutors, spanRecord } from '../fixtures/tracing-workflow.js';
import type { SpanRecord } from '../fixtures/tracing-workflow.js';
import { graph, memoryLogger, node, REDIS_URL, testEngine, until } from '../helpers.js';
import { childProcessSuite } from '../fixtures/child-process-suite.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager().enable();

beforeAll(() => {
  // Registered before any engine exists: the default (`tracing` left out) then turns tracing on.
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(contextManager);
});

afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});

beforeEach(() => exporter.reset());

const spans = (): SpanRecord[] => exporter.getFinishedSpans().map(spanRecord);
const named = (all: SpanRecord[], name: string) => all.filter((s) => s.name === name);
const nodeSpans = (all: SpanRecord[], nodeId: string) => named(all, 'spane.node').filter((s) => s.attributes['spane.node.id'] === nodeId);

/** An error with its own string `code`, as Node's system errors have. */
class FlakyError extends Error {
  override readonly name = 'FlakyError';
  readonly code = 'EFLAKY';
  constructor() {
    super('not yet');
  }
}

describe('tracing in one process', () => {
  it('gives one span per attempt: failed attempts carry ERROR and the error code, the execution its trace id', async () => {
    const t = testEngine();
    try {
      let calls = 0;
      t.registry.register('flaky', async () => {
        calls += 1;
        if (calls < 3) throw new FlakyError();
        return { success: true, data: { calls } };
      });
      t.registry.register('step', async () => {
        provider.getTracer('test').startSpan('inside the executor').end();
        return { success: true, data: 1 };
      });
      const fast = { maxAttempts: 3, backoff: { type: 'fixed' as const, delay: 10 } };
      await t.engine.registerWorkflow(graph('trace-retry', [node('first', 'step'), node('flaky', 'flaky', { retryPolicy: fast })], ['first->flaky']));
      t.engine.startWorkers(2);
      const id = await t.engine.enqueueWorkflow('trace-retry', {});
      const done = await t.engine.waitForExecution(id);
      expect(done.status).toBe('completed');
      await until(() => named(spans(), 'spane.execution.settled').length === 1, 10_000, 'the settled span');
      const all = spans();
      const [exec] = named(all, 'spane.execution');
      expect(exec).toBeDefined();
      expect(done.traceId).toBe(exec!.traceId);
      expect(exec!.parentSpanId).toBeUndefined();
      expect(exec!.kind).toBe(SpanKind.INTERNAL);
      expect(exec!.attributes).toMatchObject({ 'spane.workflow.id': 'trace-retry', 'spane.workflow.version': 1, 'spane.execution.id': id });
      expect(all.every((s) => s.traceId === exec!.traceId)).toBe(true);
      expect(all).toHaveLength(7); // execution, first, inside the executor, three attempts of flaky, settled

      const attempts = nodeSpans(all, 'flaky').sort((a, b) => Number(a.attributes['spane.node.attempt']) - Number(b.attributes['spane.node.attempt']));
      expect(attempts.map((s) => s.attributes['spane.node.attempt'])).toEqual([1, 2, 3]);
      expect(attempts.map((s) => s.attributes['spane.status'])).toEqual(['retrying', 'retrying', 'completed']);
      expect(attempts.map((s) => s.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.ERROR, SpanStatusCode.UNSET]);
      expect(attempts.slice(0, 2).map((s) => s.attributes['spane.error.code'])).toEqual(['EFLAKY', 'EFLAKY']);
      expect(attempts[0]!.exceptions).toEqual([{ 'exception.type': 'FlakyError', 'exception.message': 'not yet' }]);
      for (const s of named(all, 'spane.node')) {
        expect(s.parentSpanId).toBe(exec!.spanId);
        expect(s.kind).toBe(SpanKind.CONSUMER);
        expect(s.attributes).toMatchObject({ 'spane.execution.id': id, 'spane.workflow.id': 'trace-retry', 'spane.workflow.version': 1 });
      }
      // The attempt's span is the active one while the executor runs.
      expect(named(all, 'inside the executor')[0]!.parentSpanId).toBe(nodeSpans(all, 'first')[0]!.spanId);
      expect(nodeSpans(all, 'first')[0]!.attributes).toMatchObject({ 'spane.node.type': 'step', 'spane.node.attempt': 1, 'spane.status': 'completed' });
      const [settled] = named(all, 'spane.execution.settled');
      expect(settled).toMatchObject({ parentSpanId: exec!.spanId, attributes: { 'spane.status': 'completed' }, status: { code: SpanStatusCode.UNSET } });
      // It starts when the execution did: its length is the execution's run time.
      expect(Math.round(settled!.startMs)).toBe(done.startedAt);
    } finally {
      await t.cleanup();
    }
  });

  it('marks a node that fails for good and its execution with ERROR', async () => {
    const t = testEngine();
    try {
      t.registry.register('bad', async () => {
        throw new NonRetryableError('gave up');
      });
      await t.engine.registerWorkflow(graph('trace-fail', [node('bad', 'bad', { retryPolicy: { maxAttempts: 3 } })], []));
      t.engine.startWorkers(1);
      const id = await t.engine.enqueueWorkflow('trace-fail', {});
      expect((await t.engine.waitForExecution(id)).status).toBe('failed');
      await until(() => named(spans(), 'spane.execution.settled').length === 1, 10_000, 'the settled span');
      const all = spans();
      expect(nodeSpans(all, 'bad')).toHaveLength(1);
      expect(nodeSpans(all, 'bad')[0]).toMatchObject({ attributes: { 'spane.status': 'failed', 'spane.error.code': 'NON_RETRYABLE' }, status: { code: SpanStatusCode.ERROR } });
      expect(named(all, 'spane.execution.settled')[0]).toMatchObject({
        attributes: { 'spane.status': 'failed', 'spane.error.code': 'NON_RETRYABLE' },
        status: { code: SpanStatusCode.ERROR },
      });
    } finally {
      await t.cleanup();
    }
  });

  it("parents the execution span to the caller's active span", async () => {
    const t = testEngine();
    try {
      t.registry.register('step', async () => ({ success: true }));
      await t.engine.registerWorkflow(graph('trace-caller', [node('only', 'step')], []));
      const caller = provider.getTracer('test').startSpan('http request');
      const id = await context.with(trace.setSpan(context.active(), caller), () => t.engine.enqueueWorkflow('trace-caller', {}));
      caller.end();
      const exec = named(spans(), 'spane.execution')[0]!;
      expect(exec.parentSpanId).toBe(caller.spanContext().spanId);
      expect((await t.engine.getExecution(id))?.traceId).toBe(caller.spanContext().traceId);
    } finally {
      await t.cleanup();
    }
  });

  it("hands bullmqTelemetry to the engine's queues and workers", async () => {
    const t = testEngine();
    const instrumented = new WorkflowEngine({
      registry: t.registry,
      store: t.store,
      ...t.link,
      config: { prefix: t.prefix },
      logger: memoryLogger(),
      bullmqTelemetry: new BullMQOtel({ tracerName: 'bullmq' }),
    });
    try {
      t.registry.register('step', async () => ({ success: true }));
      await instrumented.registerWorkflow(graph('trace-bullmq', [node('only', 'step')], []));
      instrumented.startWorkers(1);
      const id = await instrumented.enqueueWorkflow('trace-bullmq', {});
      expect((await instrumented.waitForExecution(id)).status).toBe('completed');
      // The queue's add of the entry job and the worker's processing of it.
      const operations = () =>
        new Set(
          spans()
            .filter((s) => s.attributes['bullmq.queue.name'] === 'node-execution')
            .map((s) => s.attributes['bullmq.queue.operation']),
        );
      await until(() => operations().has('addBulk') && operations().has('process'), 10_000, "BullMQ's spans of the node job");
    } finally {
      await instrumented.close();
      await t.cleanup();
    }
  });

  it('records through the tracer given as { tracer }, and stores no trace for a tracer that names none', async () => {
    const t = testEngine();
    const own = new InMemorySpanExporter();
    const ownProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(own)] });
    const given = new WorkflowEngine({
      registry: t.registry,
      store: t.store,
      ...t.link,
      config: { prefix: t.prefix },
      logger: memoryLogger(),
      tracing: { tracer: ownProvider.getTracer('mine') },
    });
    // A proxy with no provider behind it: every span it starts has an invalid (all-zero) context.
    const noop = new WorkflowEngine({
      registry: t.registry,
      store: t.store,
      ...t.link,
      config: { prefix: t.prefix },
      logger: memoryLogger(),
      tracing: { tracer: new ProxyTracerProvider().getTracer('none') },
    });
    try {
      t.registry.register('step', async () => ({ success: true }));
      await given.registerWorkflow(graph('trace-given', [node('only', 'step')], []));
      given.startWorkers(1);
      const id = await given.enqueueWorkflow('trace-given', {});
      const done = await given.waitForExecution(id);
      await until(() => own.getFinishedSpans().some((s) => s.name === 'spane.execution.settled'), 10_000, 'the settled span');
      expect(
        own
          .getFinishedSpans()
          .map((s) => s.name)
          .sort(),
      ).toEqual(['spane.execution', 'spane.execution.settled', 'spane.node']);
      expect(done.traceId).toBe(own.getFinishedSpans()[0]!.spanContext().traceId);
      const untraced = await noop.enqueueWorkflow('trace-given', {});
      const stored = await given.waitForExecution(untraced);
      expect(stored.status).toBe('completed');
      expect(stored.traceId).toBeUndefined();
      expect(stored.traceParent).toBeUndefined();
    } finally {
      await given.close();
      await noop.close();
      await ownProvider.shutdown();
      await t.cleanup();
    }
  });

  it('records nothing with tracing: false, and refuses a tracing option of the wrong shape', async () => {
    const t = testEngine();
    const off = new WorkflowEngine({ registry: t.registry, store: t.store, ...t.link, config: { prefix: t.prefix }, logger: memoryLogger(), tracing: false });
    try {
      t.registry.register('step', async () => ({ success: true }));
      await off.registerWorkflow(graph('trace-off', [node('only', 'step')], []));
      off.startWorkers(1);
      const id = await off.enqueueWorkflow('trace-off', {});
      const done = await off.waitForExecution(id);
      expect(done.status).toBe('completed');
      expect(done.traceId).toBeUndefined();
      expect(spans()).toEqual([]);
      const bad = (tracing: unknown) => () => new WorkflowEngine({ registry: t.registry, store: t.store, ...t.link, tracing: tracing as boolean });
      expect(bad('yes')).toThrow(InvalidArgumentError);
      expect(bad({ tracer: {} })).toThrow(InvalidArgumentError);
      expect(() => new WorkflowEngine({ registry: t.registry, store: t.store, ...t.link, bullmqTelemetry: {} as never })).toThrow(InvalidArgumentError);
    } finally {
      await off.close();
      await t.cleanup();
    }
  });
});

describe('tracing across two worker processes', () => {
  const suite = childProcessSuite('tracing');
  const { prefix } = suite;
  let child: ChildProcessWithoutNullStreams | undefined;

  it('stores traceId and traceParent (DrizzleStore round trip)', async () => {
    const { store } = suite;
    const traceId = 'ab'.repeat(16);
    const traceParent = `00-${traceId}-${'cd'.repeat(8)}-01`;
    const executionId = randomUUID();
    await store.createExecution({ executionId, workflowId: 'w', workflowVersion: 1, status: 'running', initialData: null, depth: 0, startedAt: Date.now(), traceId, traceParent });
    expect(await store.getExecution(executionId)).toMatchObject({ traceId, traceParent });
    expect(await store.getExecutionHead(executionId, [])).toMatchObject({ traceId, traceParent });
    const untraced = randomUUID();
    await store.createExecution({ executionId: untraced, workflowId: 'w', workflowVersion: 1, status: 'running', initialData: null, depth: 0, startedAt: Date.now() });
    const read = await store.getExecution(untraced);
    expect(read).not.toHaveProperty('traceId');
    expect(read).not.toHaveProperty('traceParent');
  });

  it('makes one trace of a fan-out/join run by two processes and its sub-workflow', { timeout: 120_000 }, async () => {
    const { store, redis } = suite;
    child = suite.spawnChild('test/fixtures/tracing-child.ts');
    const remote: SpanRecord[] = [];
    let buffer = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      child!.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) {
          if (line === 'READY') resolve();
          else if (line.startsWith('SPAN ')) remote.push(JSON.parse(line.slice('SPAN '.length)) as SpanRecord);
        }
      });
      child!.once('exit', (code) => reject(new Error(`the second worker exited (${String(code)}) before it was ready: ${stderr}`)));
    });
    const closed = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
    await ready;

    const registry = new NodeRegistry();
    registerTracingExecutors(registry, redis, prefix);
    const engine = new WorkflowEngine({ registry, store, connection: REDIS_URL, config: { prefix, reconcileIntervalMs: false }, logger: memoryLogger() });
    try {
      await engine.registerWorkflow(LEAF);
      await engine.registerWorkflow(FAN);
      engine.startWorkers(1);
      await engine.waitUntilReady();
      const id = await engine.enqueueWorkflow(FAN.id, {});
      const done = await engine.waitForExecution(id, { timeoutMs: 60_000 });
      expect(done.status).toBe('completed');
      // The two branches met in different processes.
      expect(new Set([(done.nodeResults['b']?.data as { pid: number }).pid, (done.nodeResults['c']?.data as { pid: number }).pid]).size).toBe(2);

      child.stdin.end();
      await closed;
      await until(() => [...spans(), ...remote].filter((s) => s.name === 'spane.execution.settled').length === 2, 10_000, 'both settled spans');
      const all = [...spans(), ...remote];
      expect(new Set(all.map((s) => s.pid)).size).toBe(2);
      expect(new Set(all.map((s) => s.traceId))).toEqual(new Set([done.traceId]));

      const executions = named(all, 'spane.execution');
      const parent = executions.find((s) => s.attributes['spane.execution.id'] === id)!;
      expect(parent.parentSpanId).toBeUndefined();
      for (const n of ['a', 'b', 'c', 'join', 'sub']) {
        const found = nodeSpans(all, n).filter((s) => s.attributes['spane.execution.id'] === id);
        expect(found.length, `spans of ${n}`).toBeGreaterThan(0);
        for (const s of found) expect(s.parentSpanId).toBe(parent.spanId);
      }
      // The child execution's span is a child of the span of the sub-workflow node's attempt that started it.
      const childId = (await store.getChildExecutions(id))[0]!.executionId;
      const childExec = executions.find((s) => s.attributes['spane.execution.id'] === childId)!;
      expect(nodeSpans(all, 'sub').map((s) => s.spanId)).toContain(childExec.parentSpanId);
      expect((await store.getExecution(childId))?.traceId).toBe(done.traceId);
      const leaf = nodeSpans(all, 'x');
      expect(leaf).toHaveLength(1);
      expect(leaf[0]!.parentSpanId).toBe(childExec.spanId);
    } finally {
      await engine.close();
    }
  });
});

describe('tracing in worker threads', () => {
  let database: TestDatabase;
  let store: DrizzleStore;
  let dir: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = await DrizzleStore.postgres(database.url);
    dir = await mkdtemp(path.join(os.tmpdir(), 'spane-tracing-threads-'));
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await database?.drop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("records the threads' node spans in the execution's trace when the executors module registers a provider", { timeout: 120_000 }, async () => {
    const spansFile = path.join(dir, 'spans.jsonl');
    const executorsModule = path.join(dir, 'executors.mts');
    const url = (p: string) => pathToFileURL(path.resolve(root, p)).href;
    // Threads share the OpenTelemetry globals with nobody: the module registers a provider in
    // each thread (not in the main thread, which imports it too), exporting to a file.
    await writeFile(
      executorsModule,
      `
import { appendFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { trace } from '${import.meta.resolve('@opentelemetry/api')}';
import { BasicTracerProvider, SimpleSpanProcessor } from '${import.meta.resolve('@opentelemetry/sdk-trace-base')}';
import { NodeRegistry } from '${url('src/runtime/engine/registry.ts')}';
import { spanRecord } from '${url('test/fixtures/tracing-workflow.ts')}';

if (!isMainThread) {
  const exporter = {
    export(spans, done) {
      for (const span of spans) appendFileSync(${JSON.stringify(spansFile)}, JSON.stringify({ ...spanRecord(span), thread: true }) + '\\n');
      done({ code: 0 });
    },
    shutdown: async () => undefined,
  };
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
}
export const registry = new NodeRegistry();
registry.register('step', async () => ({ success: true, data: { isMainThread } }));
`,
    );
    const { registry } = (await import(pathToFileURL(executorsModule).href)) as { registry: NodeRegistry };
    const t = testEngine({ store, registry, config: { useWorkerThreads: true, executorsModule } });
    try {
      await t.engine.registerWorkflow(graph('trace-threads', [node('one', 'step'), node('two', 'step')], ['one->two']));
      t.engine.startWorkers(1);
      await t.engine.waitUntilReady();
      const id = await t.engine.enqueueWorkflow('trace-threads', {});
      const done = await t.engine.waitForExecution(id, { timeoutMs: 60_000 });
      expect(done.status).toBe('completed');
      expect(done.nodeResults['two']?.data).toEqual({ isMainThread: false });
      const threadSpans = async () =>
        (await readFile(spansFile, 'utf8').catch(() => ''))
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as SpanRecord);
      await until(async () => (await threadSpans()).length >= 2, 20_000, 'the threads to export their node spans');
      const exec = named(spans(), 'spane.execution').find((s) => s.attributes['spane.execution.id'] === id)!;
      expect(exec.traceId).toBe(done.traceId);
      const fromThreads = named(await threadSpans(), 'spane.node');
      expect(fromThreads.map((s) => s.attributes['spane.node.id']).sort()).toEqual(['one', 'two']);
      for (const s of fromThreads) expect(s).toMatchObject({ traceId: done.traceId, parentSpanId: exec.spanId });
    } finally {
      await t.cleanup();
    }
  });
});
