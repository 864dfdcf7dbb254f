/**
 * What the engine's BullMQ objects (queues, flow producer, workers, event producer and
 * listeners) are constructed with, per backend: BullMQ's backend factory and the connection for
 * each role. One seam, so queue-manager, worker-manager and events never branch on the backend.
 *
 * @module
 */
import { createRedisBackend } from 'bullmq';
import type { BackendFactory, ConnectionOptions, RedisQueueBackend } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ConnectionErrors } from '../connection-errors.js';
import type { BackendKind, SqlBackend } from './sql-backend.js';
import { CLUSTER_SETTLE_MS, clusterConnected } from '../../engine/engine-options.js';
import { redisThreadAccess } from './thread-access.js';
import type { BackendThreadAccess } from './thread-access.js';

/** A connection for one blocking listener, and how to let it go. */
export interface ListenerConnection {
  connection: ConnectionOptions;
  release(): void | Promise<void>;
}

/** What a {@link BullBinding} is made of, for its private constructor (fields as on the class). */
interface BullBindingParts {
  /** Which backend. */
  kind: BackendKind;
  /** BullMQ's backend factory. */
  factory: BackendFactory<RedisQueueBackend>;
  /** The connection for queues, the flow producer and the event producer. */
  commands: ConnectionOptions;
  /** The connection for workers. */
  workers: ConnectionOptions;
  /** Opens a connection for one blocking listener. */
  openListener: () => ListenerConnection;
  /** The newest event id of a queue's event stream (PostgreSQL server), else undefined. */
  eventCursor: ((queue: string) => Promise<string>) | undefined;
  /** Where errors are reported. */
  errors: ConnectionErrors;
}

/**
 * BullMQ constructors' backend argument and connections. The factory is typed as BullMQ's Redis
 * one whatever the backend: the runtime calls only methods every BullMQ backend implements
 * (`IQueueBackend` is the contract), and keeping one static type keeps `Queue<NodeJobData>` one
 * type across the code. @internal
 */
export class BullBinding {
  /** Set by the factories: how a worker thread reaches the backend, asked when threads start. */
  #threadAccess: () => BackendThreadAccess | undefined = () => undefined;

  /** Which backend. */
  readonly kind: BackendKind;
  /** Third argument of BullMQ's Queue/QueueEvents/... constructors (fourth of Worker's). */
  readonly factory: BackendFactory<RedisQueueBackend>;
  /** Queues, flow producer, event producer: commands that should fail rather than hang. */
  readonly commands: ConnectionOptions;
  /** Workers: a connection that waits out outages. */
  readonly workers: ConnectionOptions;
  private readonly openListener: () => ListenerConnection;
  /**
   * PostgreSQL server: the newest event id of a queue's event stream, for a listener to start
   * after (and the sign that publishes must be serialised). Undefined on Redis and PGlite.
   */
  readonly eventCursor: ((queue: string) => Promise<string>) | undefined;
  /** Where the connections' and BullMQ objects' errors are reported, rate-limited. */
  readonly errors: ConnectionErrors;

  private constructor(parts: BullBindingParts) {
    this.kind = parts.kind;
    this.factory = parts.factory;
    this.commands = parts.commands;
    this.workers = parts.workers;
    this.openListener = parts.openListener;
    this.eventCursor = parts.eventCursor;
    this.errors = parts.errors;
  }

  /**
   * Redis: `commands` for queues and events, `workers` for workers; each listener gets a copy of
   * `workers`, whose errors go to `errors` (BullMQ does not keep a listener on a connection it
   * is handed for the whole of an outage).
   */
  static redis(commands: Redis, workers: Redis, errors: ConnectionErrors): BullBinding {
    const binding = new BullBinding({
      kind: 'redis',
      factory: createRedisBackend,
      commands,
      workers,
      openListener: () => {
        const connection = workers.duplicate();
        errors.watchRedis(connection, 'events listener');
        // A Cluster copy still connecting when it is let go would stay open (clusterConnected).
        return { connection, release: async () => clusterConnected(connection, CLUSTER_SETTLE_MS).then(() => connection.disconnect()) };
      },
      eventCursor: undefined,
      errors,
    });
    // The binding's own connection says where it goes (host, port, credentials, db).
    binding.#threadAccess = () => redisThreadAccess(workers);
    return binding;
  }

  /** BullMQ's PostgreSQL backend on the backend's shared pool. */
  static sql(backend: SqlBackend, errors: ConnectionErrors): BullBinding {
    const { factory, connection } = backend.bullmq;
    const pool = connection as unknown as ConnectionOptions;
    const binding = new BullBinding({
      kind: backend.kind,
      factory: factory as unknown as BackendFactory<RedisQueueBackend>,
      commands: pool,
      workers: pool,
      openListener: () => ({ connection: pool, release: () => undefined }),
      // PGlite has one session: statements run in the order they are issued, so events commit in
      // id order and a listener's first read is ordered with later publishes by itself.
      eventCursor: backend.kind === 'postgres' ? (queue) => backend.lastEventId(queue) : undefined,
      errors,
    });
    binding.#threadAccess = () => backend.threadAccess;
    return binding;
  }

  /** How a worker thread reaches this backend; undefined when no URL describes it. */
  get threadAccess(): BackendThreadAccess | undefined {
    return this.#threadAccess();
  }

  /** A connection for one QueueEvents (they block on reads). */
  listener(): ListenerConnection {
    return this.openListener();
  }
}
