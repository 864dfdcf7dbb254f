/**
 * How the `spane` command gets an engine for a backend.
 *
 * @module
 */
import { InMemoryExecutionStore } from '../store/memory.js';
import { DrizzleStore } from '../store/drizzle/store.js';
import { NotSupportedError } from '../errors.js';
import type { NodeRegistry } from '../runtime/registry.js';
import type { Logger } from '../runtime/runtime.js';
import { WorkflowEngine } from '../runtime/workflow-engine.js';
import type { CliBackend } from './choices.js';

/** What the command passes on to the engine factory. */
export interface CliEngineOptions {
  backend: CliBackend;
  registry: NodeRegistry;
  /** Redis URL (redis backend); else SPANE_REDIS_URL, REDIS_URL, then redis://127.0.0.1:6379. */
  redisUrl?: string | undefined;
  /** PostgreSQL URL; else SPANE_DATABASE_URL, then DATABASE_URL. */
  databaseUrl?: string | undefined;
  /** Embedded backend's data directory; in memory when undefined. */
  dataDir?: string | undefined;
  /** Redis key prefix of the queues. */
  prefix?: string | undefined;
  logger?: Logger | undefined;
}

/** An open engine and how to release everything opened for it. */
export interface CliEngine {
  engine: WorkflowEngine;
  close(): Promise<void>;
}

/** Opens an engine on the chosen backend. */
export async function openEngine(options: CliEngineOptions): Promise<CliEngine> {
  const env = process.env;
  const databaseUrl = options.databaseUrl ?? env['SPANE_DATABASE_URL'] ?? env['DATABASE_URL'];
  if (options.backend !== 'redis') {
    throw new NotSupportedError(`--backend ${options.backend} is not available in this build yet; use --backend redis`);
  }
  const redisUrl = options.redisUrl ?? env['SPANE_REDIS_URL'] ?? env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const store = databaseUrl !== undefined && databaseUrl !== '' ? await DrizzleStore.postgres(databaseUrl) : new InMemoryExecutionStore();
  const engine = new WorkflowEngine({
    registry: options.registry,
    store,
    connection: redisUrl,
    ...(options.prefix !== undefined && { config: { prefix: options.prefix } }),
    ...(options.logger !== undefined && { logger: options.logger }),
  });
  return {
    engine,
    async close() {
      try {
        await engine.close();
      } finally {
        if (store instanceof DrizzleStore) await store.close();
      }
    },
  };
}
