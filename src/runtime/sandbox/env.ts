/**
 * The environment variables through which the main thread configures a worker thread, and how
 * the thread reads them.
 *
 * @module
 */
import { InvalidConfigError } from '../../errors.js';
import { resolveEngineConfig } from '../engine/config.js';
import { DEFAULT_EXECUTORS_TIMEOUT_MS } from './load-module.js';
import type { ResolvedEngineConfig } from '../engine/config.js';

/** Environment variables a sandboxed processor reads. */
export const SANDBOX_ENV = {
  /** Redis URL (required; `REDIS_URL` is the fallback). */
  redisUrl: 'SPANE_REDIS_URL',
  /**
   * PostgreSQL URL of the shared store (`DATABASE_URL` is the fallback). Without one, and always
   * for a store whose `threadAccess` is `this-thread` (`InMemoryExecutionStore`, `DrizzleStore`
   * on PGlite), threads use the engine's own store through the main thread.
   */
  databaseUrl: 'SPANE_DATABASE_URL',
  /** Engine config as JSON, validated with resolveEngineConfig. */
  engineConfig: 'SPANE_ENGINE_CONFIG',
  /** Module (path, file URL or package) whose export is the thread's NodeRegistry. */
  executorsModule: 'SPANE_EXECUTORS_MODULE',
  /** How long loading the executors module may take, in ms (default 60000), in the main thread and in each thread. */
  executorsTimeoutMs: 'SPANE_EXECUTORS_TIMEOUT_MS',
  /** Connections of each thread's PostgreSQL pool (default 2: a thread runs one job at a time). */
  databasePoolSize: 'SPANE_DATABASE_POOL_SIZE',
  /** Internal: BroadcastChannel name on which a thread reports logs and events to its engine. */
  channel: 'SPANE_SANDBOX_CHANNEL',
  /** Internal: BroadcastChannel on which the engine serves its store to threads (see store-bridge.ts). */
  storeChannel: 'SPANE_SANDBOX_STORE_CHANNEL',
  /** Internal: `1` when that store keeps claim-check payloads. */
  storePayloads: 'SPANE_SANDBOX_STORE_PAYLOADS',
  /** Internal: the TypeScript processor file the jiti bootstrap loads. */
  tsProcessor: 'SPANE_SANDBOX_TS_PROCESSOR',
} as const;

/** What a worker thread needs to build its runtime. */
export interface ThreadSettings {
  redisUrl: string;
  databaseUrl: string;
  config: ResolvedEngineConfig;
  executorsModule: string | undefined;
  databasePoolSize: number;
  channel: string | undefined;
  executorsTimeoutMs: number;
  /** When set, the store is the engine's, served on this channel; `databaseUrl` is then unused. */
  storeChannel: string | undefined;
  /** Whether the served store keeps claim-check payloads. */
  storePayloads: boolean;
}

type Env = Record<string, string | undefined>;

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/**
 * Reads and checks the settings; throws an {@link InvalidConfigError} naming the variable that is
 * missing or malformed. `needDatabase: false` skips the database URL (a custom processor that
 * brings its own store).
 */
export function readThreadSettings(env: Env, options: { needDatabase?: boolean } = {}): ThreadSettings {
  const redisUrl = nonEmpty(env[SANDBOX_ENV.redisUrl]) ?? nonEmpty(env['REDIS_URL']);
  if (redisUrl === undefined) {
    throw new InvalidConfigError(`SPANE worker thread: no Redis URL; set ${SANDBOX_ENV.redisUrl} (or REDIS_URL) in the thread's environment`);
  }
  const storeChannel = nonEmpty(env[SANDBOX_ENV.storeChannel]);
  const databaseUrl = nonEmpty(env[SANDBOX_ENV.databaseUrl]) ?? nonEmpty(env['DATABASE_URL']);
  if (databaseUrl === undefined && storeChannel === undefined && options.needDatabase !== false) {
    throw new InvalidConfigError(
      `SPANE worker thread: no store; set ${SANDBOX_ENV.databaseUrl} (or DATABASE_URL) to the PostgreSQL database the engine's DrizzleStore uses, or start the thread from an engine (which serves its store)`,
    );
  }
  let rawConfig: unknown = {};
  const configJson = nonEmpty(env[SANDBOX_ENV.engineConfig]);
  if (configJson !== undefined) {
    try {
      rawConfig = JSON.parse(configJson);
    } catch (err) {
      throw new InvalidConfigError(`SPANE worker thread: ${SANDBOX_ENV.engineConfig} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  const config = resolveEngineConfig(rawConfig);
  const poolRaw = nonEmpty(env[SANDBOX_ENV.databasePoolSize]);
  const databasePoolSize = poolRaw === undefined ? 2 : Number(poolRaw);
  if (!Number.isInteger(databasePoolSize) || databasePoolSize < 1) {
    throw new InvalidConfigError(`SPANE worker thread: ${SANDBOX_ENV.databasePoolSize} must be a positive integer, got '${poolRaw}'`);
  }
  return {
    executorsTimeoutMs: readExecutorsTimeout(env),
    redisUrl,
    databaseUrl: databaseUrl ?? '',
    config,
    executorsModule: nonEmpty(env[SANDBOX_ENV.executorsModule]) ?? config.executorsModule,
    databasePoolSize,
    channel: nonEmpty(env[SANDBOX_ENV.channel]),
    storeChannel,
    storePayloads: env[SANDBOX_ENV.storePayloads] === '1',
  };
}

/** `SPANE_EXECUTORS_TIMEOUT_MS`, checked: a positive integer, 60000 when unset. */
export function readExecutorsTimeout(env: Env): number {
  const raw = nonEmpty(env[SANDBOX_ENV.executorsTimeoutMs]);
  if (raw === undefined) return DEFAULT_EXECUTORS_TIMEOUT_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 1) throw new InvalidConfigError(`${SANDBOX_ENV.executorsTimeoutMs} must be a positive integer (milliseconds), got '${raw}'`);
  return ms;
}
