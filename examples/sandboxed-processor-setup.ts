/**
 * Sandboxed processors: running node executors in worker threads (`useWorkerThreads: true`).
 *
 *   npx tsx examples/sandboxed-processor-setup.ts
 *
 * Needs Redis (REDIS_URL, default redis://127.0.0.1:6379) and PostgreSQL (DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres; SPANE keeps its tables in the `spane` schema).
 * Everything here runs under its own queue prefix, whose Redis keys are deleted at the end.
 *
 * What it shows, in order:
 *   1. Basic setup: a store, an executors module, `useWorkerThreads` (PostgreSQL, then in memory).
 *   2. CPU isolation: a 1.5 s busy loop in a thread while the main thread keeps ticking.
 *   3. Serialisation at the thread boundary: Date, BigInt, Map, Set, Buffer, functions.
 *   4. Error handling: what startWorkers refuses, and a thread that dies mid-job.
 *   5. A custom processor file built with createSandboxProcessor.
 *   6. Combining with other options: metrics, events, native rate limiting, resource limits.
 *
 * This file is also the executors module: worker threads import it to get `registry`, and
 * `startWorkers` imports it once in the main thread to check it. Its top level therefore only
 * defines things; the demo runs when the file is the entry point of the main thread.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread, threadId } from 'node:worker_threads';
import { Redis } from 'ioredis';
import { deserialize, DrizzleStore, InMemoryExecutionStore, InvalidConfigError, MetricsCollector, NodeRegistry, WorkflowEngine } from 'spane';
import type { EngineConfig, SpaneEvent, WorkflowDefinition } from 'spane';

// ---------------------------------------------------------------------------------------------
// The executors. Threads share nothing with the main thread but Redis and the database, so
// executors must not rely on module state set up by the main thread.

export const registry = new NodeRegistry()
  .register('hash', async (ctx) => {
    // CPU-bound on purpose: a busy loop of `ms` milliseconds.
    const until = Date.now() + Number(ctx.nodeConfig['ms'] ?? 1500);
    let rounds = 0;
    while (Date.now() < until) rounds++;
    return { success: true, data: { rounds, threadId, isMainThread } };
  })
  .register('rich', async () => ({
    success: true,
    data: {
      createdAt: new Date(Date.UTC(2025, 0, 1)), // -> ISO string
      total: 2n ** 64n, // -> { __spane_type: 'bigint', value: '18446744073709551616' }
      byRegion: new Map([
        ['eu', 3],
        ['us', 5],
      ]), // -> { __spane_type: 'Map', entries: [...] }
      tags: new Set(['a', 'b']), // -> { __spane_type: 'Set', values: [...] }
      blob: Buffer.from('hello'), // -> { __spane_type: 'Buffer', base64: 'aGVsbG8=' }
      format: () => 'lost', // functions are removed (with a warning unless NODE_ENV=production)
    },
  }))
  .register('consume', async (ctx) => ({
    success: true,
    // Inside a thread, the input comes back as real Map / BigInt / Buffer values.
    data: { regions: ctx.inputData.byRegion instanceof Map ? [...ctx.inputData.byRegion.keys()] : 'not a Map', total: String(ctx.inputData.total) },
  }))
  .register('fragile', async (ctx) => {
    // The first attempt takes its whole thread down; BullMQ retries the job in a fresh thread.
    if (ctx.attempt === 1) process.exit(1);
    return { success: true, data: `survived on attempt ${ctx.attempt}` };
  })
  .register('echo', async (ctx) => ({ success: true, data: ctx.inputData }));

// ---------------------------------------------------------------------------------------------
// The demo (main thread only)

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PREFIX = '{spane-example-threads}';
const THIS_FILE = fileURLToPath(import.meta.url);

const node = (id: string, type: string, inputs: string[], outputs: string[], config: Record<string, unknown> = {}) => ({ id, type, inputs, outputs, config });

const workflows: WorkflowDefinition[] = [
  { id: 'example-threads-cpu', name: 'CPU-bound', entryNodeId: 'hash', nodes: [node('hash', 'hash', [], [])] },
  {
    id: 'example-threads-rich',
    name: 'Rich data',
    entryNodeId: 'make',
    nodes: [node('make', 'rich', [], ['use']), node('use', 'consume', ['make'], [])],
  },
  {
    id: 'example-threads-fragile',
    name: 'A crashing node',
    entryNodeId: 'fragile',
    nodes: [node('fragile', 'fragile', [], ['after'], { retryPolicy: { maxAttempts: 2, backoff: { type: 'fixed', delay: 100 } } }), node('after', 'echo', ['fragile'], [])],
  },
  { id: 'example-threads-echo', name: 'Echo', entryNodeId: 'a', nodes: [node('a', 'echo', [], ['b']), node('b', 'echo', ['a'], [])] },
];

function section(title: string): void {
  console.log(`\n== ${title}`);
}

async function main(): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const store = await DrizzleStore.postgres(DATABASE_URL);
  const engines: WorkflowEngine[] = [];
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'spane-example-'));
  const make = (config: EngineConfig) => {
    const engine = new WorkflowEngine({ registry, store, connection: redis, config: { prefix: PREFIX, ...config } });
    engines.push(engine);
    return engine;
  };
  try {
    // 1. Basic setup ------------------------------------------------------------------------
    section('1. Basic setup');
    // - the store: with DrizzleStore on PostgreSQL (here) each thread opens its own connection;
    //   it learns the URL from the store itself (or SPANE_DATABASE_URL / DATABASE_URL). Any
    //   other store (the in-memory one below) is served to the threads by the engine;
    // - Redis: the threads get the engine's host/port (or SPANE_REDIS_URL / REDIS_URL);
    // - executorsModule: what the threads import to get their NodeRegistry. The main thread uses
    //   the same registry, so registerWorkflow knows the node types.
    const metrics = new MetricsCollector();
    const engine = make({ useWorkerThreads: true, executorsModule: THIS_FILE, workerConcurrency: 2 });
    metrics.attach(engine);
    for (const wf of workflows) await engine.registerWorkflow(wf);
    engine.startWorkers(); // checks the store, URLs, processor file and module; throws on a problem
    await engine.waitUntilReady(); // rejects if the executors module cannot be imported
    const echo = await engine.waitForExecution(await engine.enqueueWorkflow('example-threads-echo', { hello: 'threads' }), { timeoutMs: 30_000 });
    console.log(`echo workflow ${echo.status}: ${JSON.stringify(echo.nodeResults['b']?.data)}`);
    // The spec's own setup: an InMemoryExecutionStore. Its threads call that store through the
    // main thread (one message each way per call), so they share one state.
    const memoryStore = new InMemoryExecutionStore();
    const inMemory = new WorkflowEngine({
      registry,
      store: memoryStore,
      connection: redis,
      config: { prefix: `${PREFIX}-mem`, useWorkerThreads: true, executorsModule: THIS_FILE },
    });
    engines.push(inMemory);
    for (const wf of workflows) await inMemory.registerWorkflow(wf);
    inMemory.startWorkers(2);
    const fromMemory = await inMemory.waitForExecution(await inMemory.enqueueWorkflow('example-threads-echo', { hello: 'in-memory store' }), { timeoutMs: 30_000 });
    console.log(`same workflow on an InMemoryExecutionStore engine: ${fromMemory.status}: ${JSON.stringify(fromMemory.nodeResults['b']?.data)}`);

    // 2. CPU isolation ----------------------------------------------------------------------
    section('2. CPU isolation');
    let ticks = 0;
    const heartbeat = setInterval(() => ticks++, 50);
    const t0 = Date.now();
    const cpu = await engine.waitForExecution(await engine.enqueueWorkflow('example-threads-cpu', {}), { timeoutMs: 30_000 });
    clearInterval(heartbeat);
    const elapsed = Date.now() - t0;
    console.log(`busy node ran in thread ${JSON.stringify(cpu.nodeResults['hash']?.data)}`);
    console.log(`main thread heartbeat (every 50 ms) ticked ${ticks} times in ${elapsed} ms: it was never blocked`);

    // 3. Serialisation ----------------------------------------------------------------------
    section('3. Serialisation at the thread boundary');
    const rich = await engine.waitForExecution(await engine.enqueueWorkflow('example-threads-rich', {}), { timeoutMs: 30_000 });
    const stored = rich.nodeResults['make']?.data;
    console.log('stored (JSON-safe, with type markers):', JSON.stringify(stored));
    const revived = deserialize(stored) as { byRegion: Map<string, number>; total: bigint; blob: Buffer };
    console.log(
      `deserialize() in the main thread: byRegion is a Map (${revived.byRegion instanceof Map}), total is ${typeof revived.total}, blob says '${revived.blob.toString()}'`,
    );
    console.log('the child node, in a thread, got real values back:', JSON.stringify(rich.nodeResults['use']?.data));

    // 4. Error handling ---------------------------------------------------------------------
    section('4. Error handling');
    // Refused at startWorkers, before any thread starts:
    const missing = make({ useWorkerThreads: true, executorsModule: './no/such/module.js' });
    try {
      missing.startWorkers();
    } catch (err) {
      console.log(`missing executors module -> ${(err as InvalidConfigError).name}: ${(err as Error).message}`);
    }
    // A thread that dies mid-job fails only that job; BullMQ retries it in a new thread.
    const fragile = await engine.waitForExecution(await engine.enqueueWorkflow('example-threads-fragile', {}), { timeoutMs: 30_000 });
    console.log(
      `crashing node: execution ${fragile.status}, node ${JSON.stringify(fragile.nodeResults['fragile']?.data)} after ${fragile.nodeResults['fragile']?.attempts} attempts`,
    );

    // 5. A custom processor file ------------------------------------------------------------
    section('5. Custom processor file');
    // Its default export is a BullMQ sandboxed processor; createSandboxProcessor builds SPANE's,
    // here with the registry chosen in code instead of executorsModule. The file lives in a
    // scratch folder, so it imports SPANE by the URL 'spane' resolves to from here; a processor
    // file inside your project can simply import from 'spane'.
    const customFile = path.join(scratch, 'my-processor.mts');
    await writeFile(
      customFile,
      [
        `import { createSandboxProcessor } from '${import.meta.resolve('spane')}';`,
        `export default createSandboxProcessor({ registry: async () => (await import('${pathToFileURL(THIS_FILE).href}')).registry });`,
      ].join('\n'),
    );
    await engine.close(); // one engine per prefix consumes the queue at a time in this demo
    const custom = make({ useWorkerThreads: true, processorFile: customFile });
    custom.startWorkers(1);
    await custom.waitUntilReady();
    const viaCustom = await custom.waitForExecution(await custom.enqueueWorkflow('example-threads-echo', { via: 'custom processor' }), { timeoutMs: 30_000 });
    console.log(`through ${path.basename(customFile)}: ${viaCustom.status}, ${JSON.stringify(viaCustom.nodeResults['b']?.data)}`);
    await custom.close();

    // 6. Combining with other options -------------------------------------------------------
    section('6. Combining with other options');
    const combined = make({
      useWorkerThreads: true,
      executorsModule: THIS_FILE,
      workerConcurrency: 2,
      useNativeRateLimiting: true, // BullMQ's limiter applies to the sandboxed worker as usual
      rateLimiter: { max: 50, duration: 1000 },
      useSimplifiedEventStream: true, // node events ride on job progress, from the threads too
      workerThreadsOptions: { resourceLimits: { maxOldGenerationSizeMb: 256 } }, // per thread
    });
    metrics.attach(combined);
    const seen: SpaneEvent['type'][] = [];
    await combined.eventsReady();
    const stop = combined.subscribe((e) => void seen.push(e.type));
    combined.startWorkers();
    await combined.waitUntilReady();
    await combined.waitForExecution(await combined.enqueueWorkflow('example-threads-echo', { combined: true }), { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 300));
    stop();
    console.log(`events seen by subscribe(): ${[...new Set(seen)].join(', ')}`);
    // Node events published in threads reach the main thread's MetricsCollector as well.
    const nodes = await metrics.nodeExecutions.get();
    const byType = nodes.values.map((v) => `${String(v.labels['node_type'])}/${String(v.labels['status'])}=${v.value}`);
    console.log(`metrics (spane_node_executions_total): ${byType.join(', ')}`);
  } finally {
    await Promise.all(engines.map((e) => e.close()));
    await store.close();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    await redis.quit();
    await rm(scratch, { recursive: true, force: true });
  }
}

// Run the demo only as the main thread's entry point, once, and without a top-level await:
// startWorkers imports this very module to check it (a second instance of it, with the same
// process.argv), which must neither start the demo again nor wait for it to finish.
const isEntry = process.argv[1] !== undefined && path.resolve(process.argv[1]) === THIS_FILE;
const STARTED = Symbol.for('spane.examples.sandboxed-processor-setup');
const marks = globalThis as { [STARTED]?: true };
if (isMainThread && isEntry && marks[STARTED] === undefined) {
  marks[STARTED] = true;
  main().then(
    () => undefined,
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
