/**
 * `spane fork <executionId> --from <nodeId>`: forks a finished execution in a shared store and
 * prints the new execution's id; workers (`spane worker`) run it.
 *
 * @module
 */
import { InvalidArgumentError } from '../../errors.js';
import { databaseUrlFromEnv } from '../../runtime/engine/create-engine.js';
import { NodeRegistry } from '../../runtime/engine/registry.js';
import type { CliBackend } from '../choices.js';
import { openEngine } from '../engine.js';
import type { CliIO } from '../io.js';
import { println } from '../io.js';

/** Options of {@link forkCommand}. */
export interface ForkCommandOptions {
  /** `--from`: the node to re-run from. */
  from: string;
  /** `--input`: the input of that node, as JSON. */
  input?: string | undefined;
  /** `--workflow-version`: the registered version the fork runs. */
  workflowVersion?: number | undefined;
  /** `--backend`: the queues the fork's jobs go to. */
  backend: CliBackend;
  /** `--redis-url` (redis backend). */
  redisUrl?: string | undefined;
  /** `--database-url`: the shared store holding the execution. */
  databaseUrl?: string | undefined;
  /** `--data-dir` (embedded backend): the PGlite folder holding the execution. */
  dataDir?: string | undefined;
  /** `--prefix`: key prefix of the queues. */
  prefix?: string | undefined;
}

/**
 * Parses `--input` (before connecting to anything), forks the execution and prints the new id.
 * Returns 0, or throws: the caller prints the error (a typed `SpaneError`: unknown execution,
 * unknown node, an input the node's schema refuses, an execution still running) and exits with 1.
 */
export async function forkCommand(executionId: string, options: ForkCommandOptions, io: CliIO): Promise<number> {
  let input: unknown;
  if (options.input !== undefined) {
    try {
      input = JSON.parse(options.input);
    } catch {
      throw new InvalidArgumentError('spane fork: --input is not valid JSON');
    }
  }
  // An in-memory store (the default without a database) holds no execution of another process.
  if (options.backend === 'embedded' && options.dataDir === undefined) {
    throw new InvalidArgumentError('spane fork: --backend embedded needs --data-dir, the PGlite folder holding the execution');
  }
  if (options.backend === 'redis' && options.databaseUrl === undefined && databaseUrlFromEnv() === undefined) {
    throw new InvalidArgumentError('spane fork: the execution is read from the shared store: pass --database-url <url> or set SPANE_DATABASE_URL (or DATABASE_URL)');
  }
  const engine = await openEngine({
    backend: options.backend,
    registry: new NodeRegistry(),
    redisUrl: options.redisUrl,
    databaseUrl: options.databaseUrl,
    dataDir: options.dataDir,
    prefix: options.prefix,
  });
  try {
    const forkId = await engine.forkExecution(executionId, {
      fromNodeId: options.from,
      ...(input !== undefined && { input }),
      ...(options.workflowVersion !== undefined && { version: options.workflowVersion }),
    });
    println(io.stdout, forkId);
  } finally {
    await engine.close();
  }
  return 0;
}
