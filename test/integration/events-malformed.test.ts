/**
 * Entries on the event stream that are not SPANE events (another writer, a corrupted entry):
 * subscribers never see them, and the engine's logger says so once per kind, without the entry.
 */
import { randomUUID } from 'node:crypto';
import { QueueEventsProducer } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryExecutionStore, NodeRegistry, WorkflowEngine } from '../../src/index.js';
import type { SpaneEvent } from '../../src/index.js';
import { deleteKeys, memoryLogger, REDIS_URL, until } from '../helpers.js';

describe('malformed event stream entries', () => {
  const redis = new Redis(REDIS_URL);
  const prefix = `{spane-test-${randomUUID().slice(0, 8)}}`;
  let engine: WorkflowEngine | undefined;
  let producer: QueueEventsProducer | undefined;

  afterEach(async () => {
    await producer?.close();
    await engine?.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('are dropped with a warning per kind that holds no part of the entry', async () => {
    const logger = memoryLogger();
    engine = new WorkflowEngine({ registry: new NodeRegistry(), store: new InMemoryExecutionStore(), connection: redis, config: { prefix }, logger });
    const seen: SpaneEvent[] = [];
    engine.subscribe((e) => seen.push(e));
    await engine.eventsReady();
    producer = new QueueEventsProducer('spane-events', { connection: redis, prefix });
    const publish = (payload: string) => producer!.publishEvent({ eventName: 'spane', payload });
    await publish('{"secret": "s3cr3t"');
    await publish('{"secret": "s3cr3t"');
    await publish('{"secret": "s3cr3t"}');
    // Entries are delivered in stream order: once this one arrives, the three before it were read.
    await publish(JSON.stringify({ id: 'e1', type: 'workflow:started', executionId: 'x', workflowId: 'w', timestamp: 1 }));
    await until(() => seen.length > 0, 5000, 'the well-formed event');
    expect(seen.map((e) => e.id)).toEqual(['e1']);
    const warnings = logger.lines.filter((l) => l.includes('malformed'));
    expect(warnings).toHaveLength(2);
    expect(warnings.some((l) => l.includes('not JSON'))).toBe(true);
    expect(warnings.some((l) => l.includes('not an event'))).toBe(true);
    expect(logger.lines.join('\n')).not.toContain('s3cr3t');
  });
});
