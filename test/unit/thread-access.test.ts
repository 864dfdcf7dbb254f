/**
 * How worker threads reach the store and the queues is what the store and the backend declare
 * (`threadAccess`): the decisions planSandbox takes from those declarations and the environment,
 * and that no URL (which may hold a password) reaches a log line or an error.
 */
import { describe, expect, it } from 'vitest';
import { InMemoryExecutionStore, InvalidConfigError, NotSupportedError } from '../../src/index.js';
import type { BackendThreadAccess, ExecutionStore, StoreThreadAccess } from '../../src/index.js';
import { resolveEngineConfig } from '../../src/runtime/engine/config.js';
import type { Runtime } from '../../src/runtime/engine/runtime.js';
import { SANDBOX_ENV } from '../../src/runtime/sandbox/env.js';
import { planSandbox } from '../../src/runtime/sandbox/host.js';
import { threadAccessOf } from '../../src/store/thread-access.js';

const SECRET = 's3cr3t-pw';
const QUEUE_URL = `redis://:${SECRET}@cache.internal:6380/2`;
const QUEUES: BackendThreadAccess = { kind: 'redis', url: QUEUE_URL };

/** A store that only declares what the test gives it (planSandbox calls none of its methods). */
function declaring(declared: { threadAccess?: StoreThreadAccess; inProcess?: boolean }): ExecutionStore {
  return { ...declared } as unknown as ExecutionStore;
}

function plan(store: ExecutionStore, env: Record<string, string> = {}, queues: { access: BackendThreadAccess | undefined } = { access: QUEUES }) {
  const lines: string[] = [];
  const logger = { warn: (m: string) => void lines.push(m), error: (m: string) => void lines.push(m) };
  // A package name: planSandbox checks files exist, not packages.
  const config = resolveEngineConfig({ useWorkerThreads: true, executorsModule: 'spane-test-executors' });
  const rt = { config, store, logger } as unknown as Runtime;
  const result = planSandbox(rt, queues.access, env);
  return { ...result, env: result.threadOptions.env, lines };
}

describe('what each store declares', () => {
  it('InMemoryExecutionStore lives in this thread', () => {
    expect(new InMemoryExecutionStore().threadAccess).toEqual({ kind: 'this-thread' });
  });

  it('a store that declares nothing is unknown; one that says its state is in process memory counts as this-thread', () => {
    expect(threadAccessOf(declaring({}))).toBeUndefined();
    expect(threadAccessOf(declaring({ inProcess: false }))).toBeUndefined();
    expect(threadAccessOf(declaring({ inProcess: true }))).toEqual({ kind: 'this-thread' });
    const url = 'postgres://app@db.internal/app';
    expect(threadAccessOf(declaring({ inProcess: true, threadAccess: { kind: 'postgres', url } }))).toEqual({ kind: 'postgres', url });
  });
});

describe('planSandbox: the store', () => {
  const dbUrl = (name: string) => `postgres://app:${SECRET}@db.internal:5432/${name}`;

  it('serves a this-thread store to the threads, whatever the environment says', () => {
    const p = plan(declaring({ threadAccess: { kind: 'this-thread' } }), { [SANDBOX_ENV.databaseUrl]: dbUrl('app'), DATABASE_URL: dbUrl('app') });
    expect(p.storeChannel).toBeDefined();
    expect(p.env[SANDBOX_ENV.storeChannel]).toBe(p.storeChannel);
  });

  it('gives threads the URL a postgres store declares', () => {
    const p = plan(declaring({ threadAccess: { kind: 'postgres', url: dbUrl('app') } }));
    expect(p.storeChannel).toBeUndefined();
    expect(p.env[SANDBOX_ENV.databaseUrl]).toBe(dbUrl('app'));
    expect(p.env[SANDBOX_ENV.storeChannel]).toBeUndefined();
  });

  it('lets SPANE_DATABASE_URL override a postgres store, warning without the password when the databases differ', () => {
    const p = plan(declaring({ threadAccess: { kind: 'postgres', url: dbUrl('app') } }), { [SANDBOX_ENV.databaseUrl]: dbUrl('other') });
    expect(p.env[SANDBOX_ENV.databaseUrl]).toBe(dbUrl('other'));
    expect(p.lines).toHaveLength(1);
    expect(p.lines[0]).toMatch(/database 'other'.*store is on 'app'/);
    expect(p.lines.join('\n')).not.toContain(SECRET);
  });

  it("keeps today's fallback for a store that declares nothing: SPANE_DATABASE_URL, then DATABASE_URL, then the engine serves it", () => {
    expect(plan(declaring({}), { [SANDBOX_ENV.databaseUrl]: dbUrl('a'), DATABASE_URL: dbUrl('b') }).env[SANDBOX_ENV.databaseUrl]).toBe(dbUrl('a'));
    expect(plan(declaring({}), { DATABASE_URL: dbUrl('b') }).env[SANDBOX_ENV.databaseUrl]).toBe(dbUrl('b'));
    const served = plan(declaring({}));
    expect(served.storeChannel).toBeDefined();
    expect(served.env[SANDBOX_ENV.databaseUrl]).toBeUndefined();
  });

  it('serves an undeclared store with inProcess: true even when DATABASE_URL is set', () => {
    expect(plan(declaring({ inProcess: true }), { DATABASE_URL: dbUrl('b') }).storeChannel).toBeDefined();
  });
});

describe('planSandbox: the queues', () => {
  const store = new InMemoryExecutionStore();

  it('gives threads the Redis URL the backend declares, unless SPANE_REDIS_URL is set', () => {
    expect(plan(store).env[SANDBOX_ENV.redisUrl]).toBe(QUEUE_URL);
    expect(plan(store, { [SANDBOX_ENV.redisUrl]: 'redis://elsewhere:6379/0' }).env[SANDBOX_ENV.redisUrl]).toBe('redis://elsewhere:6379/0');
  });

  it('throws InvalidConfigError when the backend has no URL to declare and the environment none either', () => {
    expect(() => plan(store, {}, { access: undefined })).toThrow(InvalidConfigError);
    expect(plan(store, { [SANDBOX_ENV.redisUrl]: 'redis://elsewhere:6379/0' }, { access: undefined }).env[SANDBOX_ENV.redisUrl]).toBe('redis://elsewhere:6379/0');
  });

  it.each<[string, BackendThreadAccess]>([
    ['embedded', { kind: 'this-thread' }],
    ['PostgreSQL', { kind: 'postgres', url: `postgres://app:${SECRET}@db.internal/app` }],
    ['Redis Cluster', { kind: 'redis-cluster' }],
  ])('refuses a %s queue backend with NotSupportedError, naming no URL', (_, queues) => {
    expect(() => plan(store, {}, { access: queues })).toThrow(NotSupportedError);
    expect(() => plan(store, {}, { access: queues })).toThrow(/run on a single Redis server only/);
    expect(() => plan(store, {}, { access: queues })).not.toThrow(new RegExp(SECRET));
  });
});
