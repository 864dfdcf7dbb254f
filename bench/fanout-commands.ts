/**
 * Redis commands and process CPU per execution of the fan-out 1→8→1 (the bench:redis row), for
 * SPANE (eager chains on, in-memory store, events on) or raw BullMQ with a FlowProducer, counted
 * on ioredis' prototype while N executions run at concurrency 50:
 *
 *   N=300 npx tsx bench/fanout-commands.ts spane
 *   N=300 npx tsx bench/fanout-commands.ts raw
 *
 * Scripts are listed as `evalsha:<key count>:<end of the first key>`: 9 keys is BullMQ's add of a
 * standard job, 14 its moveToFinished, 11 its moveToActive; `eval:1:…events` and `xadd` are
 * SPANE's event writes.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { FlowProducer, Queue, Worker } from 'bullmq';
import { InMemoryExecutionStore, NodeRegistry, WorkflowEngine } from '../src/index.js';
import { observed } from './lib.js';
import { deleteKeys } from '../test/helpers.js';
const counts = new Map<string, number>();
let on = false;
interface Sent {
  name: string;
  args?: unknown[];
}
type SendCommand = (this: Redis, cmd: Sent, ...rest: unknown[]) => unknown;
const proto = Redis.prototype as unknown as { sendCommand: SendCommand };
const orig = proto.sendCommand;
proto.sendCommand = function (cmd, ...rest) {
  if (on) {
    let name = cmd.name;
    if (name === 'evalsha' || name === 'eval') name += ':' + (cmd.args?.[1] ?? '') + ':' + String(cmd.args?.[2] ?? '').slice(-30);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return orig.call(this, cmd, ...rest);
};
const N = Number(process.env.N ?? 50);
let cpu0: NodeJS.CpuUsage;
let t0: number;
let cpuMs: number;
let wall: number;
const admin = new Redis({ maxRetriesPerRequest: null });
const which = process.argv[2];
if (which === 'spane') {
  const prefix = `{fc-${randomUUID().slice(0, 8)}}`;
  const registry = new NodeRegistry();
  registry.register('step', async () => ({ success: true, data: { step: 1 } }));
  const store = observed(new InMemoryExecutionStore());
  const connection = new Redis({ maxRetriesPerRequest: null });
  const engine = new WorkflowEngine({ registry, store, connection, config: { prefix, eagerChains: true } });
  const branches = Array.from({ length: 8 }, (_, i) => `b${i}`);
  await engine.registerWorkflow({
    id: 'fan',
    name: 'fan',
    entryNodeId: 'root',
    nodes: [
      { id: 'root', type: 'step', config: {}, inputs: [], outputs: branches },
      ...branches.map((b) => ({ id: b, type: 'step', config: {}, inputs: ['root'], outputs: ['join'] })),
      { id: 'join', type: 'step', config: {}, inputs: branches, outputs: [] },
    ],
  });
  engine.startWorkers(50);
  await engine.waitUntilReady();
  await new Promise((r) => setTimeout(r, 500));
  on = true;
  cpu0 = process.cpuUsage();
  t0 = performance.now();
  const done = store.completions.waitForMore(N);
  await engine.enqueueBulkWorkflows(Array.from({ length: N }, () => ({ workflowId: 'fan', initialData: {} })));
  await done;
  on = false;
  {
    const c = process.cpuUsage(cpu0);
    cpuMs = (c.user + c.system) / 1000;
    wall = performance.now() - t0;
  }
  await engine.close();
  await connection.quit();
  await deleteKeys(admin, prefix);
} else {
  const prefix = `{fcr-${randomUUID().slice(0, 8)}}`;
  const connection = new Redis({ maxRetriesPerRequest: null });
  const queue = new Queue('chain', { connection, prefix });
  const flows = new FlowProducer({ connection, prefix });
  let left = N;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const worker = new Worker(
    'chain',
    async (job) => {
      if (job.name === 'root')
        await flows.add({ name: 'join', queueName: 'chain', data: {}, children: Array.from({ length: 8 }, () => ({ name: 'branch', queueName: 'chain', data: {} })) });
      else if (job.name === 'join') {
        if (--left === 0) resolve();
      }
      return {};
    },
    { connection, prefix, concurrency: 50 },
  );
  await worker.waitUntilReady();
  await new Promise((r) => setTimeout(r, 500));
  on = true;
  cpu0 = process.cpuUsage();
  t0 = performance.now();
  await queue.addBulk(Array.from({ length: N }, () => ({ name: 'root', data: {} })));
  await done;
  on = false;
  {
    const c = process.cpuUsage(cpu0);
    cpuMs = (c.user + c.system) / 1000;
    wall = performance.now() - t0;
  }
  await worker.close();
  await flows.close();
  await queue.close();
  await connection.quit();
  await deleteKeys(admin, prefix);
}
await admin.quit();
const total = [...counts.values()].reduce((a, b) => a + b, 0);
console.log(which, 'total commands per execution', (total / N).toFixed(2), 'cpu ms/exec', (cpuMs / N).toFixed(3), 'wall ms', wall.toFixed(0));
for (const [k, v] of [...counts].sort((a, b) => b[1] - a[1])) console.log((v / N).toFixed(2).padStart(7), k);
process.exit(0);
