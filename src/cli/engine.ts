/**
 * How the `spane` command gets an engine: `createEngine` with the command's options, after
 * checking that each connection option fits the chosen backend (named as the command spells it).
 *
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import { createEngine, databaseUrlFromEnv } from '../runtime/engine/create-engine.js';
import type { NodeRegistry } from '../runtime/engine/registry.js';
import type { Logger } from '../runtime/engine/runtime.js';
import type { WorkflowEngine } from '../runtime/engine/workflow-engine.js';
import type { CliBackend } from './choices.js';

/** What the command passes on to {@link createEngine}. */
export interface CliEngineOptions {
  backend: CliBackend;
  registry: NodeRegistry;
  /** `--redis-url` (redis backend); else SPANE_REDIS_URL, REDIS_URL, then redis://127.0.0.1:6379. */
  redisUrl?: string | undefined;
  /** `--database-url` (postgres backend, and the redis backend's state store); else SPANE_DATABASE_URL, DATABASE_URL. */
  databaseUrl?: string | undefined;
  /** `--data-dir` (embedded backend); in memory when undefined. */
  dataDir?: string | undefined;
  /** `--prefix`: key prefix of the queues. */
  prefix?: string | undefined;
  logger?: Logger | undefined;
}

const ONLY_FOR: readonly [keyof CliEngineOptions, string, readonly CliBackend[]][] = [
  ['redisUrl', '--redis-url', ['redis']],
  ['databaseUrl', '--database-url', ['redis', 'postgres']],
  ['dataDir', '--data-dir', ['embedded']],
];

/**
 * Opens an engine on the chosen backend; `engine.close()` closes everything opened for it.
 * Throws an {@link InvalidArgumentError} for an option that does not apply to the backend, and
 * passes on createEngine's typed errors (an unreachable backend names it).
 */
export async function openEngine(options: CliEngineOptions): Promise<WorkflowEngine> {
  for (const [key, flag, backends] of ONLY_FOR) {
    if (options[key] !== undefined && !backends.includes(options.backend)) {
      throw new InvalidArgumentError(`${flag} applies to --backend ${backends.join(' or ')}, not ${options.backend}`);
    }
  }
  // createEngine would name its own option (`databaseUrl`); say it as the command spells it.
  if (options.backend === 'postgres' && options.databaseUrl === undefined && databaseUrlFromEnv() === undefined) {
    throw new InvalidArgumentError('--backend postgres needs a database: pass --database-url <url> or set SPANE_DATABASE_URL (or DATABASE_URL)');
  }
  return createEngine({
    registry: options.registry,
    backend: options.backend,
    ...(options.redisUrl !== undefined && { redis: options.redisUrl }),
    ...(options.databaseUrl !== undefined && { databaseUrl: options.databaseUrl }),
    ...(options.dataDir !== undefined && { dataDir: options.dataDir }),
    ...(options.prefix !== undefined && { config: { prefix: options.prefix } }),
    ...(options.logger !== undefined && { logger: options.logger }),
  });
}
