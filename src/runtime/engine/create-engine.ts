/**
 * `createEngine`: one call that opens a queue backend (Redis, PostgreSQL or an embedded PGlite),
 * a state store beside it, and the engine on top.
 *
 * @module
 */
import { Redis } from 'ioredis';
import { BackendUnavailableError, InvalidArgumentError } from '../../errors.js';
import { InMemoryExecutionStore } from '../../store/memory.js';
import type { ExecutionStore } from '../../store/store.js';
import { DrizzleStore } from '../../store/drizzle/store.js';
import type { EngineConfig } from './config.js';
import { OWNED_RESOURCES } from './engine-options.js';
import { isRedisCluster } from './engine-options.js';
import type { OwningEngineOptions, RedisConnectionInput, WorkflowEngineOptions } from './engine-options.js';
import type { NodeRegistry } from './registry.js';
import type { Logger } from './runtime.js';
import type { WebhookSecretResolver } from '../triggers/webhooks.js';
import { WorkflowEngine } from './workflow-engine.js';
import { redactUrl, SqlBackend } from '../queues/backends/sql-backend.js';
import type { BackendKind } from '../queues/backends/sql-backend.js';

/** Options of {@link createEngine}. */
export interface CreateEngineOptions {
  /** Executors by node type. */
  registry: NodeRegistry;
  /**
   * Where the queues live: `redis` (fastest; the production default of the constructor),
   * `postgres` (BullMQ's PostgreSQL backend on a server), or `embedded` (BullMQ's PostgreSQL
   * backend on an in-process PGlite: no server at all).
   * @defaultValue 'embedded'
   */
  backend?: BackendKind;
  /**
   * `redis` only: a URL, ioredis options, or an ioredis instance (copied, left open).
   * @defaultValue `SPANE_REDIS_URL` ?? `REDIS_URL` ?? 'redis://127.0.0.1:6379'
   */
  redis?: RedisConnectionInput;
  /**
   * `postgres` only: the connection string. Also where the `redis` backend keeps its state
   * (DrizzleStore) when set through the environment and no `store` is given.
   * @defaultValue `SPANE_DATABASE_URL` ?? `DATABASE_URL`
   */
  databaseUrl?: string;
  /**
   * `embedded` only: the PGlite data directory (kept across restarts).
   * @defaultValue in memory
   */
  dataDir?: string;
  /**
   * Where definitions and executions live. Given a store, the caller keeps it (and closes it).
   * @defaultValue `embedded`: a DrizzleStore on the same PGlite; `postgres`: a DrizzleStore on the
   * same database; `redis`: a DrizzleStore on `SPANE_DATABASE_URL`/`DATABASE_URL` when set, else
   * an InMemoryExecutionStore
   */
  store?: ExecutionStore;
  /** Engine options; see {@link EngineConfig}. */
  config?: EngineConfig;
  /**
   * Where worker-side faults are reported.
   * @defaultValue console
   */
  logger?: Logger;
  /**
   * Resolves `{ ref }` webhook secrets on each request; see `WorkflowEngineOptions.resolveWebhookSecret`.
   * @defaultValue none
   */
  resolveWebhookSecret?: WebhookSecretResolver;
  /** OpenTelemetry spans; see `WorkflowEngineOptions.tracing`. @defaultValue on when a tracer provider is registered */
  tracing?: WorkflowEngineOptions['tracing'];
  /** BullMQ's own instrumentation; see `WorkflowEngineOptions.bullmqTelemetry`. @defaultValue none */
  bullmqTelemetry?: WorkflowEngineOptions['bullmqTelemetry'];
}

const KINDS: readonly BackendKind[] = ['redis', 'postgres', 'embedded'];
const KEYS = new Set(['registry', 'backend', 'redis', 'databaseUrl', 'dataDir', 'store', 'config', 'logger', 'resolveWebhookSecret', 'tracing', 'bullmqTelemetry']);

/** How long `createEngine` waits for Redis to answer before giving up. */
const REDIS_PROBE_MS = 5_000;

function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** `SPANE_DATABASE_URL`, else `DATABASE_URL` (empty values count as unset). @internal */
export function databaseUrlFromEnv(): string | undefined {
  return env('SPANE_DATABASE_URL') ?? env('DATABASE_URL');
}

/**
 * Opens a backend (migrations included), a store, and returns a ready {@link WorkflowEngine};
 * `engine.close()` then closes everything this call opened (never a `store` or ioredis instance
 * passed in). Bad options throw an `InvalidArgumentError` naming the option; an unreachable
 * backend throws a {@link BackendUnavailableError} naming it, and nothing stays open.
 *
 * @example
 * ```ts
 * const engine = await createEngine({ registry, backend: 'embedded', dataDir: './.spane' });
 * await engine.registerWorkflow(workflow('hello').then('greet', transform('greet', () => 'hello')).build());
 * engine.startWorkers();
 * const done = await engine.waitForExecution(await engine.enqueueWorkflow('hello', {}));
 * await engine.close();
 * ```
 */
export async function createEngine(options: CreateEngineOptions): Promise<WorkflowEngine> {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('createEngine expects an options object');
  for (const key of Object.keys(options)) if (!KEYS.has(key)) throw new InvalidArgumentError(`createEngine: unknown option '${key}'`);
  const kind = options.backend ?? 'embedded';
  if (!KINDS.includes(kind)) throw new InvalidArgumentError(`createEngine: 'backend' must be one of ${KINDS.join(', ')}; got ${JSON.stringify(options.backend)}`);
  const misplaced = (
    [
      ['redis', 'redis'],
      ['databaseUrl', 'postgres'],
      ['dataDir', 'embedded'],
    ] as const
  ).find(([key, only]) => options[key] !== undefined && kind !== only && !(key === 'databaseUrl' && kind === 'redis'));
  if (misplaced !== undefined) throw new InvalidArgumentError(`createEngine: '${misplaced[0]}' applies to the ${misplaced[1]} backend, not '${kind}'`);

  const owned: { close(): Promise<void> }[] = [];
  const closeOwned = async () => {
    // The error that made the engine fail to start is the one to report, not a cleanup's.
    for (const r of owned.reverse()) await r.close().catch(() => undefined);
  };
  try {
    const base = {
      registry: options.registry,
      ...(options.config === undefined ? {} : { config: options.config }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.tracing === undefined ? {} : { tracing: options.tracing }),
      ...(options.bullmqTelemetry === undefined ? {} : { bullmqTelemetry: options.bullmqTelemetry }),
      ...(options.resolveWebhookSecret === undefined ? {} : { resolveWebhookSecret: options.resolveWebhookSecret }),
    };
    if (kind === 'redis') {
      const redis = options.redis ?? env('SPANE_REDIS_URL') ?? env('REDIS_URL') ?? 'redis://127.0.0.1:6379';
      await probeRedis(redis);
      const store = options.store ?? (await storeFromEnv(options.databaseUrl, owned));
      const engineOptions: OwningEngineOptions = { ...base, store, connection: redis, [OWNED_RESOURCES]: owned };
      return new WorkflowEngine(engineOptions);
    }
    // The backend claims its database for the engine's prefix (see SqlBackend).
    const prefix = options.config?.prefix === undefined ? {} : { prefix: options.config.prefix };
    const backend =
      kind === 'postgres'
        ? await SqlBackend.postgres({ url: requireUrl(options.databaseUrl), ...prefix })
        : await SqlBackend.embedded({ ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }), ...prefix });
    owned.push(backend);
    let store = options.store;
    if (store === undefined) {
      const drizzle = backend.pglite !== undefined ? await DrizzleStore.pglite({ client: backend.pglite }) : await DrizzleStore.postgres(requireUrl(options.databaseUrl));
      owned.push(drizzle);
      store = drizzle;
    }
    // The engine closes these after itself, store before backend (the store may use its PGlite).
    const engineOptions: OwningEngineOptions = { ...base, store, backend, [OWNED_RESOURCES]: [...owned].reverse() };
    return new WorkflowEngine(engineOptions);
  } catch (err) {
    await closeOwned();
    throw err;
  }
}

function requireUrl(given: string | undefined): string {
  const url = given ?? databaseUrlFromEnv();
  if (url === undefined) throw new InvalidArgumentError("createEngine: the postgres backend needs 'databaseUrl' (or SPANE_DATABASE_URL / DATABASE_URL)");
  if (typeof url !== 'string') throw new InvalidArgumentError("createEngine: 'databaseUrl' must be a string");
  return url;
}

/** A DrizzleStore on the given URL or the environment's, else an in-memory store. */
async function storeFromEnv(given: string | undefined, owned: { close(): Promise<void> }[]): Promise<ExecutionStore> {
  const url = given ?? databaseUrlFromEnv();
  if (url === undefined) return new InMemoryExecutionStore();
  let store: DrizzleStore;
  try {
    store = await DrizzleStore.postgres(url);
  } catch (err) {
    throw new BackendUnavailableError('postgres', 'the state store database', err);
  }
  owned.push(store);
  return store;
}

/** Fails fast with a typed error when Redis does not answer, instead of an engine that waits for ever. */
async function probeRedis(input: RedisConnectionInput): Promise<void> {
  const options = { maxRetriesPerRequest: 0, lazyConnect: true, connectTimeout: REDIS_PROBE_MS, retryStrategy: () => null };
  let probe: Redis;
  if (isRedisCluster(input)) {
    // A cluster copy that tries each startup node once: ready means it read the slot map.
    const { lazyConnect, retryStrategy, ...nodeOptions } = options;
    probe = input.duplicate([], {
      lazyConnect,
      clusterRetryStrategy: retryStrategy,
      enableOfflineQueue: false,
      redisOptions: { ...input.options.redisOptions, ...nodeOptions },
    }) as unknown as Redis;
  } else if (input instanceof Redis) probe = input.duplicate(options);
  else if (typeof input === 'string') probe = new Redis(input, options);
  else if (typeof input === 'object' && input !== null && typeof (input as { duplicate?: unknown }).duplicate === 'function')
    probe = (input as unknown as Redis).duplicate(options);
  else if (typeof input === 'object' && input !== null) probe = new Redis({ ...input, ...options });
  else throw new InvalidArgumentError("createEngine: 'redis' must be a URL, ioredis options or an ioredis instance");
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    throw new BackendUnavailableError('redis', typeof input === 'string' ? redactUrl(input) : 'the given connection', err);
  } finally {
    probe.disconnect();
  }
}
