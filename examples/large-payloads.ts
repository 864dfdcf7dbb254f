/**
 * Claim check: a workflow whose nodes pass 2 MB values to each other, with the values kept in the
 * store's payload table and only small references on the queue.
 *
 *   npx spane run examples/large-payloads.ts    # offline, embedded backend: prints { total, even }
 *   npm run example:payloads                    # the script part below, against Redis
 *
 * `spane run` needs no server: the embedded backend's store (PGlite) keeps the payloads. The
 * script part (`npx tsx examples/large-payloads.ts`) needs Redis on 127.0.0.1:6379, or set
 * REDIS_URL: it measures the largest value SPANE left in Redis, under its own key prefix, whose
 * keys it deletes at the end.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { DrizzleStore, isPayloadReference, NodeRegistry, WorkflowEngine } from 'spane';
import type { WorkflowDefinition } from 'spane';

/** The executors; `spane run` reads this registry. */
export const registry = new NodeRegistry();
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

const largePayloads: WorkflowDefinition = {
  id: 'large-payloads',
  name: 'Large payloads',
  entryNodeId: 'generate',
  nodes: [
    { id: 'generate', type: 'generate', config: {}, inputs: [], outputs: ['enrich'] },
    { id: 'enrich', type: 'enrich', config: {}, inputs: ['generate'], outputs: ['count'] },
    { id: 'count', type: 'count', config: {}, inputs: ['enrich'], outputs: [] },
  ],
};

/** The workflows `spane run` registers. */
export const workflows = [largePayloads];
/** The workflow needs no input: `generate` makes the data. */
export const input = {};

/** The script part: an engine on Redis and an in-memory PGlite store, with what each holds printed. */
async function main(): Promise<void> {
  // Imported here, so that `spane run` works in a project without ioredis (the embedded backend needs none).
  const { Redis } = await import('ioredis');
  const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
  const prefix = `{spane-example-${randomUUID().slice(0, 8)}}`;
  const store = await DrizzleStore.pglite(); // in memory; pass { dataDir } to keep it
  const engine = new WorkflowEngine({ registry, store, connection: redis, config: { prefix } });
  try {
    await engine.registerWorkflow(largePayloads, { changeNotes: 'first version' });
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
}

// Only when started directly (`npx tsx examples/large-payloads.ts`), not when `spane run` imports it.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
