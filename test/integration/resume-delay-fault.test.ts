/**
 * Resuming shifts a sleeping delay node by the paused time. When moving its job fails for
 * another reason than the wait having ended, the engine's logger names the execution and node,
 * and the rest of the wake goes on (the delay node then ends at its old time).
 */
import { randomUUID } from 'node:crypto';
import { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InMemoryExecutionStore, NodeRegistry, WorkflowEngine } from '../../src/index.js';
import type { SpaneEvent } from '../../src/index.js';
import { deleteKeys, graph, memoryLogger, node, REDIS_URL, until } from '../helpers.js';

describe('resume with a delay node whose job cannot be moved', () => {
  const redis = new Redis(REDIS_URL);
  const prefix = `{spane-test-${randomUUID().slice(0, 8)}}`;
  let engine: WorkflowEngine | undefined;

  afterEach(async () => {
    vi.restoreAllMocks();
    await engine?.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('logs the failed move with the execution and node, and the execution still completes', async () => {
    const logger = memoryLogger();
    const store = new InMemoryExecutionStore();
    engine = new WorkflowEngine({ registry: new NodeRegistry(), store, connection: redis, config: { prefix }, logger });
    await engine.registerWorkflow(graph('resume-fault', [node('wait', 'delay', { config: { duration: 800 } })], []));
    const events: SpaneEvent[] = [];
    engine.subscribe((e) => events.push(e));
    await engine.eventsReady();
    engine.startWorkers(1);
    const id = await engine.enqueueWorkflow('resume-fault', {});
    await until(() => events.some((e) => e.type === 'node:delayed' && e.executionId === id), 5000, 'the delay node to sleep');
    expect(await engine.pauseWorkflow(id)).toBe(true);
    const pausedAt = (await store.getExecution(id))!.pausedAt!;
    await until(() => Date.now() > pausedAt, 1000, 'a paused millisecond');
    vi.spyOn(Job.prototype, 'changeDelay').mockRejectedValueOnce(new Error('connection lost'));
    expect(await engine.resumeWorkflow(id)).toBe(true);
    const line = logger.lines.find((l) => l.includes('could not push back'));
    expect(line).toBeDefined();
    expect(line).toContain(id);
    expect(line).toContain("'wait'");
    expect((await engine.waitForExecution(id)).status).toBe('completed');
  });
});
