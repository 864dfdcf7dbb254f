import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { InMemoryExecutionStore, NodeRegistry, WorkflowEngine } from '../src/index.js';
import type { BackendKind, SqlBackend } from '../src/index.js';
import type { EngineConfig, ExecutionStore, Logger, NodeDefinition, NodeResult, SpaneEvent, WorkflowDefinition } from '../src/index.js';
import { nodeJobId } from '../src/index.js';
import { engineInternals } from '../src/runtime/engine/test-hooks.js';
import type { DisposableRedisCluster } from './fixtures/redis-cluster.js';

export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/**
 * Queue backend the integration suites run on: `SPANE_TEST_BACKEND` (redis | postgres |
 * embedded), set per vitest project. On postgres and embedded, test/backends/sql-suite.ts opens
 * the backend for each file and testEngine() builds engines on it.
 */
export const TEST_BACKEND = (process.env['SPANE_TEST_BACKEND'] ?? 'redis') as BackendKind;

let testSqlBackend: SqlBackend | undefined;
let testRedisCluster: DisposableRedisCluster | undefined;

/** Set by test/backends/cluster-suite.ts: the Redis Cluster this file's engines run on. */
export function setTestRedisCluster(cluster: DisposableRedisCluster | undefined): void {
  testRedisCluster = cluster;
}

/** Whether this file's engines run on a Redis Cluster (the `redis-cluster` vitest project). */
export const ON_REDIS_CLUSTER = process.env['SPANE_TEST_REDIS_CLUSTER'] === '1';

/** Set by test/backends/sql-suite.ts: the backend of this test file's engines. */
export function setTestSqlBackend(backend: SqlBackend | undefined): void {
  testSqlBackend = backend;
}

/** Why a test that reads or writes Redis itself cannot run on this backend (for `it.skipIf`). */
export const NEEDS_REDIS = TEST_BACKEND === 'redis' ? false : `inspects Redis directly; skipped on the ${TEST_BACKEND} backend`;

/** Stands in for `TestEngine.redis` on the PostgreSQL backends: any use fails with the reason. */
function noRedis(): Redis {
  return new Proxy({} as Redis, {
    get(_, key) {
      throw new Error(`this test uses Redis directly (redis.${String(key)}), which the ${TEST_BACKEND} backend does not have; skip it with it.skipIf(NEEDS_REDIS)`);
    },
  });
}

/** A logger that keeps what it is told, so tests stay quiet and can assert on warnings. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (m) => void lines.push(`warn ${m}`), error: (m) => void lines.push(`error ${m}`) };
}

export interface TestEngine {
  engine: WorkflowEngine;
  registry: NodeRegistry;
  store: ExecutionStore;
  redis: Redis;
  /** The engine option that puts another engine on the same queues: `{ connection }` (Redis) or `{ backend }`. */
  link: { connection: Redis } | { backend: SqlBackend };
  prefix: string;
  /** Another engine on the same queues and store (a second worker). */
  sibling(config?: EngineConfig): WorkflowEngine;
  cleanup(): Promise<void>;
}

/** An engine on the real Redis, under a prefix of its own so test files never share queues. */
export function testEngine(options: { config?: EngineConfig; store?: ExecutionStore; registry?: NodeRegistry } = {}): TestEngine {
  const sql = TEST_BACKEND === 'redis' ? undefined : testSqlBackend;
  // A SQL backend's database belongs to one prefix; its tables are emptied between tests instead.
  const prefix = sql?.prefix ?? `{spane-test-${randomUUID().slice(0, 8)}}`;
  if (TEST_BACKEND !== 'redis' && sql === undefined)
    throw new Error(`SPANE_TEST_BACKEND=${TEST_BACKEND} but no backend is open: run this file in the ${TEST_BACKEND} vitest project`);
  if (ON_REDIS_CLUSTER && testRedisCluster === undefined) throw new Error('SPANE_TEST_REDIS_CLUSTER=1 but no cluster is open: run this file in the redis-cluster vitest project');
  // A Cluster client has the commands of a Redis one; the tests use it as one.
  const redis = sql !== undefined ? noRedis() : testRedisCluster !== undefined ? (testRedisCluster.client() as unknown as Redis) : new Redis(REDIS_URL);
  const link = sql === undefined ? { connection: redis } : { backend: sql };
  const registry = options.registry ?? new NodeRegistry();
  const store = options.store ?? new InMemoryExecutionStore();
  const engines: WorkflowEngine[] = [];
  const make = (config?: EngineConfig) => {
    const e = new WorkflowEngine({ registry, store, ...link, config: { prefix, ...options.config, ...config }, logger: memoryLogger() });
    engines.push(e);
    return e;
  };
  const engine = make();
  return {
    engine,
    registry,
    store,
    redis,
    link,
    prefix,
    sibling: make,
    async cleanup() {
      await Promise.all(engines.map((e) => e.close()));
      // On the PostgreSQL backends the suite's setup file empties the queue tables.
      if (sql !== undefined) return;
      await deleteKeys(redis, prefix);
      redis.disconnect();
    },
  };
}

/** The masters of a Redis Cluster client, or the client itself: where a SCAN must run to see every key. */
function scanTargets(redis: Redis): Redis[] {
  const cluster = redis as unknown as { isCluster?: boolean; nodes?: (role: 'master') => Redis[] };
  return cluster.isCluster === true && cluster.nodes !== undefined ? cluster.nodes('master') : [redis];
}

/** Every Redis key matching `pattern`, on a server or across a cluster's masters (SCAN, not KEYS). */
export async function findKeys(redis: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  for (const target of scanTargets(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await target.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  return found;
}

/** Deletes every Redis key under `prefix` (a test's or a benchmark's queues) and returns how many. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  for (const target of scanTargets(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await target.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await target.del(...keys);
    } while (cursor !== '0');
  }
  return deleted;
}

/** Shorthand for a node; `inputs`/`outputs` default to none. */
export function node(id: string, type: string, rest: Partial<NodeDefinition> = {}): NodeDefinition {
  return { id, type, config: {}, inputs: [], outputs: [], ...rest };
}

/** Builds a workflow from nodes and `a->b` edges, filling in both sides of each edge. */
export function graph(id: string, nodes: NodeDefinition[], edges: string[], extra: Partial<WorkflowDefinition> = {}): WorkflowDefinition {
  const byId = new Map(nodes.map((n) => [n.id, { ...n, inputs: [...n.inputs], outputs: [...n.outputs] }]));
  for (const e of edges) {
    const [from, to] = e.split('->') as [string, string];
    byId.get(from)!.outputs.push(to);
    byId.get(to)!.inputs.push(from);
  }
  return { id, name: id, entryNodeId: nodes[0]!.id, nodes: [...byId.values()], ...extra };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until `check` returns true (or throws after `timeoutMs`). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** What {@link recordEvents} returns. */
export interface EventLog {
  /** Every event seen so far, in publishing order. */
  readonly events: SpaneEvent[];
  /** The first event that matches, already seen or still to come (throws after `timeoutMs`). */
  next(match: (e: SpaneEvent) => boolean, timeoutMs?: number, what?: string): Promise<SpaneEvent>;
  /** Stops recording. */
  stop(): void;
}

/**
 * Records every event `engine` publishes from now on, worker threads' included
 * (`observeEvents`: synchronous, no Redis round trip, so nothing is missed). Start it before
 * the action whose events a test waits for.
 */
export function recordEvents(engine: WorkflowEngine): EventLog {
  const events: SpaneEvent[] = [];
  const waiters = new Set<{ match: (e: SpaneEvent) => boolean; resolve: (e: SpaneEvent) => void }>();
  const stop = engine.observeEvents((e) => {
    events.push(e);
    for (const w of waiters) if (w.match(e)) w.resolve(e);
  });
  return {
    events,
    stop,
    next(match, timeoutMs = 10_000, what = 'an event') {
      const seen = events.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          match,
          resolve: (e: SpaneEvent) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(e);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`timed out waiting for ${what}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
  };
}

/** Matches the event `type` (of node `nodeId`, when given). */
export function isEvent(type: SpaneEvent['type'], nodeId?: string): (e: SpaneEvent) => boolean {
  return (e) => e.type === type && (nodeId === undefined || e.nodeId === nodeId);
}

/** Waits until node `nodeId` of the execution has a stored result, and returns it. */
export async function waitForNodeResult(engine: WorkflowEngine, executionId: string, nodeId: string, timeoutMs = 10_000): Promise<NodeResult> {
  let result: NodeResult | undefined;
  await until(async () => (result = (await engine.getExecution(executionId))?.nodeResults[nodeId]) !== undefined, timeoutMs, `a result of node '${nodeId}'`);
  return result!;
}

/** The node job of `nodeId` in the execution, as BullMQ has it now (undefined when there is none). */
export async function nodeJob(engine: WorkflowEngine, executionId: string, nodeId: string) {
  return engineInternals(engine).rt.queues.nodeQueue.getJob(nodeJobId(executionId, nodeId));
}

/**
 * Waits until the node job of `nodeId` is parked: back in the delayed set with `parked` data,
 * which the worker writes when it takes the job of a paused execution instead of running it.
 */
export async function waitForParked(engine: WorkflowEngine, executionId: string, nodeId: string, timeoutMs = 10_000) {
  await until(
    async () => {
      const job = await nodeJob(engine, executionId, nodeId);
      return job?.data.parked !== undefined && (await job.getState()) === 'delayed';
    },
    timeoutMs,
    `node '${nodeId}' to be parked`,
  );
  return (await nodeJob(engine, executionId, nodeId))!;
}

/** Hooks a {@link SpyStore} calls around the real store's methods. */
export interface StoreHooks {
  /** Runs after a node result was written; throwing simulates a crash right after the write. */
  afterSaveNodeResult?: (executionId: string, nodeId: string) => void | Promise<void>;
  /** Runs after a successful status transition, before the caller sees it. */
  afterTransition?: (executionId: string, to: string) => void | Promise<void>;
}

/** An in-memory store that counts what happens and can inject faults. */
export class SpyStore extends InMemoryExecutionStore {
  readonly transitions: { executionId: string; to: string; ok: boolean }[] = [];
  readonly resultWrites: { executionId: string; nodeId: string; status: string }[] = [];
  hooks: StoreHooks = {};

  override async transitionExecution(...args: Parameters<InMemoryExecutionStore['transitionExecution']>): Promise<boolean> {
    const ok = await super.transitionExecution(...args);
    this.transitions.push({ executionId: args[0], to: args[2], ok });
    if (ok) await this.hooks.afterTransition?.(args[0], args[2]);
    return ok;
  }

  override async saveNodeResult(...args: Parameters<InMemoryExecutionStore['saveNodeResult']>): Promise<void> {
    await super.saveNodeResult(...args);
    this.resultWrites.push({ executionId: args[0], nodeId: args[1], status: args[2].status });
    await this.hooks.afterSaveNodeResult?.(args[0], args[1]);
  }

  /** Successful transitions of one execution to `to`. */
  count(executionId: string, to: string): number {
    return this.transitions.filter((t) => t.executionId === executionId && t.to === to && t.ok).length;
  }
}

/** Builds the package (tsup) in `root` unless `cli` exists already, for tests that run the built binary. */
export function ensureBuilt(root: string, cli: string): void {
  if (existsSync(cli)) return;
  const build = spawnSync('npx', ['tsup'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed:\n${build.stdout}\n${build.stderr}`);
}

/** How a child process ended, with everything it printed. */
export interface NodeRun {
  code: number | null;
  out: string;
  err: string;
}

/** Runs `node <args>` in `cwd` to its end (for tests of the built binary and of user projects). */
export function runNode(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<NodeRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, out, err }));
  });
}
