/**
 * How many Redis writes the engine's events take: 200 executions of a 10-node chain at concurrency
 * 50, counting the event stream writes (the batch script and lone `XADD`s) on ioredis' prototype.
 *
 *   npx tsx bench/event-writes.ts
 *
 * Before batching every event was its own `XADD` (writes = events).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { InMemoryExecutionStore, NodeRegistry, WorkflowEngine } from '../src/index.js';
import { envInt, linearWorkflow, loadAvg, observed } from './lib.js';
import { deleteKeys } from '../test/helpers.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const CHAINS = envInt('BENCH_CHAINS', 200);
const STEPS = envInt('BENCH_STEPS', 10);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 50);

let scripts = 0;
let xadds = 0;
let entries = 0;
type Method = (this: Redis, ...args: unknown[]) => unknown;
const proto = Redis.prototype as unknown as Record<'eval' | 'xadd', Method>;
const { eval: evalOriginal, xadd: xaddOriginal } = proto;
proto.eval = function (...args) {
  if (typeof args[0] === 'string' && args[0].includes("'XADD'")) {
    scripts++;
    entries += args.length - 5;
  }
  return evalOriginal.apply(this, args);
};
proto.xadd = function (...args) {
  xadds++;
  entries++;
  return xaddOriginal.apply(this, args);
};

process.stdout.write(`load average at start: ${loadAvg()}\n`);
const prefix = `{bench-writes-${randomUUID().slice(0, 8)}}`;
const registry = new NodeRegistry();
registry.register('step', async () => ({ success: true, data: 1 }));
const store = observed(new InMemoryExecutionStore());
const engine = new WorkflowEngine({ registry, store, connection: REDIS_URL, config: { prefix } });
await engine.registerWorkflow(linearWorkflow('chain', STEPS));
engine.startWorkers(CONCURRENCY);
await engine.waitUntilReady();
const done = store.completions.waitForMore(CHAINS);
await engine.enqueueBulkWorkflows(Array.from({ length: CHAINS }, () => ({ workflowId: 'chain', initialData: {} })));
await done;
await engine.close();
const writes = scripts + xadds;
process.stdout.write(
  `${CHAINS} × ${STEPS}-node executions: ${entries} events in ${writes} writes (${scripts} batch scripts, ${xadds} lone XADDs), ${(entries / writes).toFixed(2)} events per write, ${(writes / (CHAINS * STEPS)).toFixed(2)} writes per node\n`,
);
const admin = new Redis(REDIS_URL);
await deleteKeys(admin, prefix);
admin.disconnect();
process.stdout.write(`load average at end: ${loadAvg()}\n`);
