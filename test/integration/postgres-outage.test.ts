/**
 * The execution store's PostgreSQL goes away mid-run and comes back. Runs on a disposable cluster
 * of its own (test/fixtures/disposable-postgres.ts: initdb into a temp dir, a free port, stopped
 * by PID), never the shared server; queues are on the shared Redis under a prefix of its own.
 * Skipped, with the reason, when there are no PostgreSQL binaries or Redis does not answer.
 * spane-test: probes its servers
 */
import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrizzleStore, NodeRegistry, serializeError, StoreUnavailableError, WorkflowEngine } from '../../src/index.js';
import type { Logger } from '../../src/index.js';
import { REDIS_URL, redisAnswers } from '../backends/probe.js';
import { DisposablePostgres, findPostgresBinaries } from '../fixtures/disposable-postgres.js';
import { deleteKeys, graph, node, until } from '../helpers.js';

const SECRET = 'sk_live_SECRET123';
const binaries = findPostgresBinaries();
const redisUp = await redisAnswers();
const skip = typeof binaries === 'string' ? binaries : !redisUp ? `Redis does not answer at ${REDIS_URL}` : false;

/** Everything the engine logged, message and details, as text. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const record = (level: string) => (message: string, details?: Record<string, unknown>) => void lines.push(`${level} ${message} ${inspect(details ?? {}, { depth: 6 })}`);
  return { lines, warn: record('warn'), error: record('error') };
}

/** Every way an error could be printed: message, cause chain, own properties, serialised form. */
function everyRendering(err: unknown): string {
  return [inspect(err, { depth: 8, showHidden: true }), JSON.stringify(serializeError(err)), String(err), JSON.stringify(err)].join('\n');
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe.skipIf(skip !== false)(`PostgreSQL outage under the store${skip === false ? '' : ` (skipped: ${skip})`}`, () => {
  let pg: DisposablePostgres;
  let store: DrizzleStore;
  let engine: WorkflowEngine;
  let redis: Redis;
  const prefix = `{spane-pgout-${randomUUID().slice(0, 8)}}`;
  const logger = recordingLogger();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered = 0;

  beforeAll(async () => {
    pg = await DisposablePostgres.start(binaries as Exclude<typeof binaries, string>);
    store = await DrizzleStore.postgres(pg.url);
    const registry = new NodeRegistry();
    // Holds the first node of every execution until the test has stopped PostgreSQL, so their
    // results (which carry the secret) are written during the outage.
    registry.register('hold', async (ctx) => {
      entered += 1;
      await gate;
      return { success: true, data: { echoed: ctx.inputData } };
    });
    registry.register('echo', async (ctx) => ({ success: true, data: ctx.inputData }));
    redis = new Redis(REDIS_URL);
    engine = new WorkflowEngine({ registry, store, connection: redis, config: { prefix }, logger });
    await engine.registerWorkflow(graph('outage', [node('first', 'hold'), node('second', 'echo')], ['first->second']));
    engine.startWorkers(4);
    await engine.waitUntilReady();
  }, 120_000);

  afterAll(async () => {
    release?.();
    await engine?.close();
    await store?.close();
    await pg?.destroy();
    if (redis !== undefined) {
      await deleteKeys(redis, prefix);
      redis.disconnect();
    }
  }, 60_000);

  it('gives callers a StoreUnavailableError without parameter values, logs none, and finishes accepted executions once it is back', { timeout: 120_000 }, async () => {
    const accepted = await Promise.all([1, 2, 3].map((n) => engine.enqueueWorkflow('outage', { apiKey: SECRET, n })));
    await until(() => entered === accepted.length, 30_000, 'every execution to reach its held node');

    await pg.stop();

    // Callers: reads, starts, and the store's own writes carrying the secret as a parameter.
    const failures = [
      await rejection(engine.enqueueWorkflow('outage', { apiKey: SECRET })),
      await rejection(engine.getExecution(accepted[0]!)),
      await rejection(
        store.createExecution({
          executionId: randomUUID(),
          workflowId: 'outage',
          workflowVersion: 1,
          status: 'running',
          initialData: { apiKey: SECRET },
          depth: 0,
          startedAt: Date.now(),
        }),
      ),
      await rejection(store.saveNodeResult(accepted[0]!, 'first', { status: 'completed', data: { apiKey: SECRET }, attempts: 1, completedAt: Date.now() })),
      await rejection(store.putPayload(accepted[0]!, 'p', JSON.stringify({ apiKey: SECRET }))),
    ];
    for (const err of failures) expect(everyRendering(err)).not.toContain(SECRET);
    for (const err of failures) {
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect((err as StoreUnavailableError).code).toBe('STORE_UNAVAILABLE');
    }
    const saveFault = failures[3] as StoreUnavailableError;
    expect(saveFault.operation).toBe('saveNodeResult');
    expect(saveFault.executionId).toBe(accepted[0]);
    expect(saveFault.message).toContain(accepted[0]!);

    // The held nodes now finish while the database is away: their results cannot be written.
    release();
    await until(() => logger.lines.filter((l) => l.includes('infrastructure fault')).length >= accepted.length, 30_000, 'the workers to meet the outage');

    await pg.resume();
    for (const id of accepted) {
      const done = await engine.waitForExecution(id, { timeoutMs: 60_000 });
      expect(done.status).toBe('completed');
      // The secret did travel through the failed statements' parameters.
      expect(done.nodeResults['second']?.data).toEqual({ echoed: { apiKey: SECRET, n: accepted.indexOf(id) + 1 } });
    }
    expect(logger.lines.length).toBeGreaterThan(0);
    for (const line of logger.lines) expect(line).not.toContain(SECRET);
  });
});
