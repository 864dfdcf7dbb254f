import type { Redis } from 'ioredis';
import { InvalidArgumentError, PrefixConflictError } from '../../../errors.js';
import { ConnectionErrors } from '../connection-errors.js';
import { COMMAND_RETRIES, openConnection } from '../../engine/engine-options.js';
import type { WorkflowEngineOptions } from '../../engine/engine-options.js';
import type { Logger } from '../../engine/runtime.js';
import { BullBinding } from './bull-binding.js';
import { SqlBackend } from './sql-backend.js';

/** The queue side of one engine: BullMQ's classes bound to Redis or to a {@link SqlBackend}. */
export interface OpenedBackend {
  binding: BullBinding;
  /** Where the rate limiter keeps its counters. */
  rateLimits: Redis | SqlBackend;
  /** Redis only: the workers' connection, which waits out outages. */
  connection?: Redis;
  /** Redis only: queues, events and rate limits; fails after a few retries, so callers see outages. */
  commands?: Redis;
  /** The SQL backend, when the engine runs on one. */
  sqlBackend?: SqlBackend;
}

/**
 * Opens what an engine's queues run on: the given {@link SqlBackend}, or two connections of its
 * own to Redis (copies of the caller's instance, or new ones from options or a URL). Their errors,
 * and those of the BullMQ objects built on the binding, go to `logger` at a bounded rate
 * (connection-errors.ts).
 */
export function openBackend(options: Pick<WorkflowEngineOptions, 'backend' | 'connection'>, logger: Logger, prefix: string): OpenedBackend {
  if (options.backend !== undefined) {
    const backend: unknown = options.backend;
    if (!(backend instanceof SqlBackend)) throw new InvalidArgumentError("WorkflowEngine: 'backend' must be a SqlBackend (SqlBackend.postgres or SqlBackend.embedded)");
    if (options.connection !== undefined) throw new InvalidArgumentError("WorkflowEngine: pass either 'connection' (Redis) or 'backend', not both");
    if (backend.closed) throw new InvalidArgumentError("WorkflowEngine: the 'backend' given is closed");
    // Its queues are shared by every prefix (one schema); the backend's database belongs to one.
    if (prefix !== backend.prefix) {
      throw new PrefixConflictError({
        prefix,
        claimedBy: backend.prefix,
        where: `this ${backend.kind} backend`,
        remedy: `Open the backend with { prefix: '${prefix}' } on a database of its own, or give the engine prefix '${backend.prefix}'.`,
      });
    }
    return { binding: BullBinding.sql(backend, new ConnectionErrors(logger)), rateLimits: backend, sqlBackend: backend };
  }
  const input = options.connection ?? 'redis://127.0.0.1:6379';
  const connection = openConnection(input, null);
  const commands = openConnection(input, COMMAND_RETRIES);
  const errors = new ConnectionErrors(logger);
  errors.watchRedis(connection, 'workers');
  errors.watchRedis(commands, 'commands');
  return { binding: BullBinding.redis(commands, connection, errors), rateLimits: commands, connection, commands };
}
