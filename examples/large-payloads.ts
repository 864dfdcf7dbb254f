/**
 * Claim check: a workflow whose nodes pass 2 MB values to each other, with the values kept in the
 * store's payload table (embedded PGlite here) and only small references in Redis.
 *
 *   npm run example:payloads      (or: npx tsx examples/large-payloads.ts)
 *
 * Needs Redis on 127.0.0.1:6379, or set REDIS_URL. Uses its own key prefix and deletes its keys
 * at the end.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { DrizzleStore, isPayloadReference, NodeRegistry, WorkflowEngine } from '../src/index.js';
import type { WorkflowDefinition } from '../src/index.js';

const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const prefix = `{spane-example-${randomUUID().slice(0, 8)}}`;
const store = await DrizzleStore.pglite(); // in memory; pass { dataDir } to keep it

const registry = new NodeRegistry();
// 2 MB of rows: far over the 50 KB default threshold.
registry.register('generate', async () => ({
  success: true,
  data: { rows: Array.from({ length: 20_000 }, (_, i) => ({ id: i, text: `row ${i} `.padEnd(90, '.') })) },
}));
// Executors always see values, never references.
registry.register('enrich', async (ctx) => {
  const { rows } = ctx.inputData as { rows: { id: number; text: string }[] };
  return { success: true, data: { rows: rows.map((r) => ({ ...r, even: r.id % 2 === 0 })) } };
});
registry.register('count', async (ctx) => {
  const { rows } = ctx.inputData as { rows: { even: boolean }[] };
  return { success: true, data: { total: rows.length, even: rows.filter((r) => r.even).length } };
});

const workflow: WorkflowDefinition = {
  id: 'large-payloads',
  name: 'Large payloads',
  entryNodeId: 'generate',
  nodes: [
    { id: 'generate', type: 'generate', config: {}, inputs: [], outputs: ['enrich'] },
    { id: 'enrich', type: 'enrich', config: {}, inputs: ['generate'], outputs: ['count'] },
    { id: 'count', type: 'count', config: {}, inputs: ['enrich'], outputs: [] },
  ],
};

const engine = new WorkflowEngine({ registry, store, connection: redis, config: { prefix } });
try {
  await engine.registerWorkflow(workflow, { changeNotes: 'first version' });
  engine.startWorkers(2);
  const executionId = await engine.enqueueWorkflow('large-payloads');
  const done = await engine.waitForExecution(executionId, { timeoutMs: 60_000 });
  console.log('status:', done.status, '| count result:', done.nodeResults['count']?.data);

  // What the store holds: references in place of the two large outputs.
  const raw = await engine.getExecution(executionId, { raw: true });
  for (const [nodeId, result] of Object.entries(raw!.nodeResults)) {
    console.log(`  ${nodeId}:`, isPayloadReference(result.data) ? `reference ${JSON.stringify(result.data)}` : 'inline');
  }

  // The largest value under our prefix in Redis (job hashes, sets, event streams).
  let largest = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      if ((await redis.type(key)) !== 'hash') continue;
      for (const value of Object.values(await redis.hgetall(key))) largest = Math.max(largest, value.length);
    }
  } while (cursor !== '0');
  console.log(`largest Redis hash field: ${largest} bytes`);

  console.log('pruned executions:', await engine.pruneExecutions({ keepLast: 0 }));
  console.log('payloads left:', (await store.getPayloads(executionId, ['output:generate', 'output:enrich'])).size);
  if (done.status !== 'completed' || largest > 50 * 1024) process.exitCode = 1;
} finally {
  await engine.close();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
  await store.close();
}
