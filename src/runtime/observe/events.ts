import { randomUUID } from 'node:crypto';
import { QueueEvents, QueueEventsProducer, QueueKeys } from 'bullmq';
import type { Job, QueueEventsListener } from 'bullmq';
import type { Redis } from 'ioredis';
import { ConnectionErrors } from '../queues/connection-errors.js';
import { BullBinding } from '../queues/backends/bull-binding.js';
import type { ListenerConnection } from '../queues/backends/bull-binding.js';
import type { ResolvedEngineConfig } from '../engine/config.js';
import { NODE_QUEUE } from '../queues/jobs.js';
import { InvalidArgumentError } from '../../errors.js';
import type { SerializedError } from '../../errors.js';
import type { Logger } from '../engine/runtime.js';

/** Events about one node of an execution. */
export type NodeEventType = 'node:started' | 'node:completed' | 'node:failed' | 'node:skipped' | 'node:delayed' | 'node:retrying';
/** Events about a whole execution; `workflow:repaired` means the reconciler re-enqueued lost work (`data` is a {@link RepairEventData}). */
export type WorkflowEventType = 'workflow:started' | 'workflow:completed' | 'workflow:failed' | 'workflow:paused' | 'workflow:resumed' | 'workflow:cancelled' | 'workflow:repaired';

/** The `data` of a `workflow:repaired` event: what the reconciler did to the execution. */
export interface RepairEventData {
  /** Nodes whose lost jobs were enqueued again. */
  nodes: string[];
  /** Whether an interrupted advance (skips, completion) was finished too. */
  advanced: boolean;
}

/** Something that happened to an execution, as subscribers receive it. */
export interface SpaneEvent {
  /** Unique id of this event. */
  id: string;
  /** What happened. */
  type: NodeEventType | WorkflowEventType;
  /** The execution. */
  executionId: string;
  /** Its workflow. */
  workflowId: string;
  /** The node, for node events. */
  nodeId?: string;
  /** When it happened (epoch ms). */
  timestamp: number;
  /** Event details: a node's output, a delay's length, ... */
  data?: unknown;
  /** How long the attempt took (ms), for `node:completed`, `node:failed` and `node:retrying`. */
  durationMs?: number;
  /** The node's type, for node events. */
  nodeType?: string;
  /** The error message, for failures and retries. */
  error?: string;
  /** The structured error (name, code, retryable, cause), for `node:failed`, `node:retrying` and `workflow:failed`. */
  errorDetails?: SerializedError;
  /** The attempt number, for node events. */
  attempt?: number;
}

/** What to receive. */
export interface SubscribeOptions {
  /** Only events of this execution (exact match). */
  executionId?: string;
  /** Only events of this workflow (exact match). */
  workflowId?: string;
  /** Only these event types. */
  types?: readonly SpaneEvent['type'][];
}

/** A function that receives events. */
export type EventHandler = (event: SpaneEvent) => void;

/** How long one read of the event stream blocks on the PostgreSQL backends (BullMQ's default is 10 s). */
const SQL_EVENT_READ_MS = 1000;
const EVENTS_QUEUE = 'spane-events';
const EVENT_NAME = 'spane';
/** Events kept in the Redis stream for subscribers to catch up (approximate cap). */
const MAX_STREAM_EVENTS = 10_000;
/** Most entries one batched write adds to the stream (a longer batch takes more writes, in order). */
const MAX_BATCH = 500;
/**
 * Adds every entry of a batch to the stream, as BullMQ's `publishEvent` adds one (fields `event`
 * and `payload`, the same approximate cap): one round trip for the whole batch. KEYS[1] the
 * stream, ARGV[1] the cap, ARGV[2] the event name, ARGV[3..] the payloads, in order.
 */
const XADD_BATCH = `local n = 0
for i = 3, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'event', ARGV[2], 'payload', ARGV[i])
  n = n + 1
end
return n`;
/** How often, at most, dropping malformed entries of one kind is logged. */
const DROP_LOG_INTERVAL_MS = 60_000;

/** Why an entry read from an event stream was not delivered. */
type DropReason = 'not JSON' | 'not an event';

// BullMQ keeps the event name in the stream field `event`, so the payload needs another field.
type Listener = QueueEventsListener & { [EVENT_NAME]: (args: { payload: string }, id: string) => void };

/** What an {@link EventStreamManager} publishes and listens with. */
export interface EventStreamManagerOptions {
  /** A Redis connection that publishes, or the engine's backend binding (any backend). */
  connection: Redis | BullBinding;
  /** With a Redis `connection`: the connection each blocking listener copies; else undefined. */
  listenerBase: Redis | undefined;
  /** The engine's resolved config (`events`, `prefix`, `useSimplifiedEventStream`). */
  config: ResolvedEngineConfig;
  /** Where publish and subscriber failures are logged. */
  logger: Logger;
  /** Where event timestamps are read (the engine's clock). @defaultValue `Date.now` */
  clock?: () => number;
}

/**
 * Publishes execution events and delivers them to subscribers in every engine that shares the
 * Redis. Events travel on a BullMQ event stream (`QueueEventsProducer` → `QueueEvents`); with
 * `useSimplifiedEventStream`, node events ride on the node job's `updateProgress` instead and
 * arrive through the node queue's `progress` events (what a node job announces, including the
 * completion of its execution, keeps its order; events from API calls such as pause take the
 * event stream). Delivery is at most once, in publishing order per engine and stream; a
 * subscriber sees events published after it subscribed.
 *
 * On Redis, the event stream entries published in one run of the event loop's microtasks go out
 * together, as one script that adds them all (`XADD_BATCH`; a lone entry as its `XADD`):
 * one round trip instead of one per event. The batch is written before any command issued after
 * the events' publication (it is sent from a microtask queued by the first of them), so a node
 * job enqueued after its parent's `node:completed` still reaches Redis after that event, and
 * another engine running the child publishes after it. (Waiting for the end of the event loop's
 * turn would batch ~50 entries per write instead of ~1.6, but let such commands overtake events.)
 */
export class EventStreamManager {
  private producer: QueueEventsProducer | undefined;
  private listeners: QueueEvents[] = [];
  private listenerConnections: ListenerConnection[] = [];
  /** Set once listening started; resolves when every listener exists (at once on Redis). */
  private listening: Promise<void> | undefined;
  /** Publishes in flight: chained on PostgreSQL (see {@link publish}), the last batch on Redis. */
  private publishing: Promise<unknown> = Promise.resolve();
  /** Redis: entries waiting for this microtask checkpoint's batch, in publishing order. */
  private batch: { type: SpaneEvent['type']; payload: string }[] = [];
  private readonly binding: BullBinding;
  private readonly subscribers = new Set<{ handler: EventHandler; options: SubscribeOptions }>();
  private readonly localObservers = new Set<EventHandler>();
  private closed = false;
  private readonly config: ResolvedEngineConfig;
  private readonly logger: Logger;
  private readonly clock: () => number;
  /** Per reason: when a drop was last logged, and how many were dropped since. */
  private readonly drops = new Map<DropReason, { loggedAt: number; since: number }>();

  /**
   * On Redis, `connection` publishes; listeners block on reads, so each gets a copy of
   * `listenerBase` (a connection that waits out outages, as BullMQ's QueueEvents requires). On any
   * backend, pass the engine's backend binding (and no `listenerBase`) instead.
   */
  constructor(options: EventStreamManagerOptions) {
    const { connection, listenerBase, config, logger } = options;
    this.config = config;
    this.logger = logger;
    this.clock = options.clock ?? (() => Date.now());
    if (connection instanceof BullBinding) this.binding = connection;
    else if (listenerBase !== undefined) this.binding = BullBinding.redis(connection, listenerBase, new ConnectionErrors(logger));
    else throw new InvalidArgumentError('EventStreamManager: a Redis connection needs a listenerBase connection too');
  }

  /** Publishes an event without waiting for Redis; a failure to publish is logged, never thrown. */
  publish(event: Omit<SpaneEvent, 'id' | 'timestamp'>, job?: Job): void {
    if (this.closed) return;
    const full: SpaneEvent = { id: randomUUID(), timestamp: this.clock(), ...event };
    for (const observe of this.localObservers) {
      try {
        observe(full);
      } catch (err) {
        this.logger.warn('event observer threw', { error: String(err) });
      }
    }
    if (!this.config.events) return;
    const onProgress = job !== undefined && this.config.useSimplifiedEventStream;
    if (!onProgress && this.binding.kind === 'redis') {
      if (this.batch.length === 0) queueMicrotask(() => this.flush());
      this.batch.push({ type: event.type, payload: JSON.stringify(full) });
      return;
    }
    const send = () =>
      onProgress
        ? job.updateProgress(full as unknown as Record<string, unknown>)
        : this.producerFor().publishEvent({ eventName: EVENT_NAME, payload: JSON.stringify(full) }, MAX_STREAM_EVENTS);
    // BullMQ's PostgreSQL event reader moves a cursor over event ids; an event whose transaction
    // commits after a later id was read is never delivered. Publishing one at a time keeps this
    // engine's events in commit order (Redis orders one connection's commands by itself).
    const sent = this.binding.eventCursor === undefined ? send() : (this.publishing = this.publishing.then(send, send));
    sent.catch((err: unknown) => this.logger.warn(`could not publish ${event.type} event`, { error: String(err) }));
  }

  /**
   * Calls `handler` for every matching event from now on; returns the function that stops it.
   * The first subscription starts listening to Redis.
   */
  subscribe(handler: EventHandler, options: SubscribeOptions = {}): () => void {
    const entry = { handler, options };
    this.subscribers.add(entry);
    this.listen();
    return () => void this.subscribers.delete(entry);
  }

  /** Resolves once the listeners are connected, so events published after it are delivered. */
  async ready(): Promise<void> {
    this.listen();
    await this.listening;
    await Promise.all(this.listeners.map((l) => l.waitUntilReady()));
  }

  /**
   * Matching events as an async iterable; leaving the loop (break, return, throw) unsubscribes.
   *
   * @example
   * ```ts
   * for await (const event of engine.events({ executionId })) {
   *   if (event.type === 'workflow:completed') break;
   * }
   * ```
   */
  iterate(options: SubscribeOptions = {}): AsyncIterableIterator<SpaneEvent> {
    const queue: SpaneEvent[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const stop = this.subscribe((event) => {
      queue.push(event);
      wake?.();
    }, options);
    const finish = (): IteratorReturnResult<undefined> => {
      done = true;
      stop();
      wake?.();
      return { done: true, value: undefined };
    };
    const iterator: AsyncIterableIterator<SpaneEvent> = {
      async next() {
        while (queue.length === 0 && !done) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        const event = queue.shift();
        return event === undefined ? finish() : { done: false, value: event };
      },
      async return() {
        return finish();
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /**
   * Calls `observer` synchronously for every event this engine publishes itself (also with
   * `events: false`), without Redis: for in-process consumers such as metrics. Returns the
   * function that stops it.
   */
  observeLocal(observer: EventHandler): () => void {
    this.localObservers.add(observer);
    return () => void this.localObservers.delete(observer);
  }

  /** Number of active subscriptions (for leak checks). */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Stops publishing and listening. */
  async close(): Promise<void> {
    this.closed = true;
    this.flush();
    this.subscribers.clear();
    // Both were logged when they failed (listen(), publish()); closing only waits for them.
    await this.listening?.catch(() => undefined);
    await this.publishing.catch(() => undefined);
    const closing = [...this.listeners.map((l) => l.close()), this.producer?.close()];
    this.listeners = [];
    await Promise.allSettled(closing);
    await Promise.all(this.listenerConnections.splice(0).map((c) => c.release()));
  }

  /**
   * Redis: writes the waiting entries to the stream, {@link MAX_BATCH} per script call, now (the
   * calls are written to the connection synchronously, in order). A failure is logged, never
   * thrown, once per call.
   */
  private flush(): void {
    const entries = this.batch;
    if (entries.length === 0) return;
    this.batch = [];
    const redis = this.binding.commands as Redis;
    const key = this.producerFor().toKey('events');
    const sent: Promise<unknown>[] = [];
    for (let i = 0; i < entries.length; i += MAX_BATCH) {
      const chunk = entries.slice(i, i + MAX_BATCH);
      // One entry alone is cheaper as the XADD itself (no script to hash and run).
      const call =
        chunk.length === 1
          ? redis.xadd(key, 'MAXLEN', '~', MAX_STREAM_EVENTS, '*', 'event', EVENT_NAME, 'payload', chunk[0]!.payload)
          : redis.eval(XADD_BATCH, 1, key, MAX_STREAM_EVENTS, EVENT_NAME, ...chunk.map((e) => e.payload));
      call.catch((err: unknown) => {
        const what = chunk.length === 1 ? `${chunk[0]!.type} event` : `${chunk.length} events (${[...new Set(chunk.map((e) => e.type))].join(', ')})`;
        this.logger.warn(`could not publish ${what}`, { error: String(err) });
      });
      sent.push(call);
    }
    this.publishing = Promise.allSettled(sent);
  }

  private producerFor(): QueueEventsProducer {
    this.producer ??= new QueueEventsProducer(EVENTS_QUEUE, { connection: this.binding.commands, prefix: this.config.prefix }, this.binding.factory);
    return this.producer;
  }

  private listen(): void {
    if (this.listening !== undefined || this.closed) return;
    const cursor = this.binding.eventCursor ?? (this.binding.kind === 'redis' ? (name: string) => this.redisCursor(name) : undefined);
    if (cursor === undefined) {
      this.openListeners(() => undefined);
      this.listening = Promise.resolve();
      return;
    }
    // A new listener starts from the newest entry it reads in its own loop (`$` on Redis), which
    // may come after `ready()` resolved, and on Redis each of its reads that returns nothing
    // starts from `$` again; reading the newest id first makes "after ready()" exact.
    const names = this.config.useSimplifiedEventStream ? [EVENTS_QUEUE, NODE_QUEUE] : [EVENTS_QUEUE];
    this.listening = Promise.all(names.map((n) => cursor(n))).then((ids) => {
      if (!this.closed) this.openListeners((name) => ids[names.indexOf(name)]);
    });
    this.listening.catch((err: unknown) => this.logger.warn('event stream error', { error: String(err) }));
  }

  /**
   * Redis: the id of the newest entry of `queue`'s event stream (`0-0` while it has none). If
   * Redis does not answer, undefined: the listener then starts from `$` and waits out the outage.
   */
  private async redisCursor(queue: string): Promise<string | undefined> {
    const key = new QueueKeys(this.config.prefix).toKey(queue, 'events');
    try {
      const [newest] = await (this.binding.commands as Redis).xrevrange(key, '+', '-', 'COUNT', 1);
      return newest?.[0] ?? '0-0';
    } catch (err) {
      this.logger.warn('event stream error', { error: String(err) });
      return undefined;
    }
  }

  private openListeners(lastEventId: (queue: string) => string | undefined): void {
    const options = (name: string) => {
      const listener = this.binding.listener();
      this.listenerConnections.push(listener);
      const from = lastEventId(name);
      // On the PostgreSQL backends an event that lands while the reader is between reads can wait
      // out the whole blocking read (10 s by default, measured here): a shorter read bounds that
      // delay, at one read a second per listener when idle.
      const blocking = this.binding.kind === 'redis' ? {} : { blockingTimeout: SQL_EVENT_READ_MS };
      return { connection: listener.connection, prefix: this.config.prefix, ...blocking, ...(from === undefined ? {} : { lastEventId: from }) };
    };
    const stream = new QueueEvents(EVENTS_QUEUE, options(EVENTS_QUEUE), this.binding.factory);
    stream.on<Listener>(EVENT_NAME, ({ payload }: { payload: string }) => this.deliver(payload));
    this.listeners.push(stream);
    if (this.config.useSimplifiedEventStream) {
      const progress = new QueueEvents(NODE_QUEUE, options(NODE_QUEUE), this.binding.factory);
      progress.on('progress', ({ data }) => this.deliver(data));
      this.listeners.push(progress);
    }
    for (const l of this.listeners) this.binding.errors.watch(l, `event listener ${l.name}`, 'event stream error');
  }

  private deliver(raw: unknown): void {
    let event: SpaneEvent;
    try {
      event = (typeof raw === 'string' ? JSON.parse(raw) : raw) as SpaneEvent;
    } catch {
      return this.drop('not JSON');
    }
    if (typeof event !== 'object' || event === null || typeof event.type !== 'string') return this.drop('not an event');
    for (const { handler, options } of this.subscribers) {
      if (options.executionId !== undefined && options.executionId !== event.executionId) continue;
      if (options.workflowId !== undefined && options.workflowId !== event.workflowId) continue;
      if (options.types !== undefined && !options.types.includes(event.type)) continue;
      try {
        handler(event);
      } catch (err) {
        this.logger.warn('event subscriber threw', { error: String(err) });
      }
    }
  }

  /**
   * Skips an entry that is no SPANE event (another writer on the stream, a corrupted entry), and
   * says so at most once a minute per reason: a flood of them must not flood the log. The entry
   * itself is never logged, as it may hold user data.
   */
  private drop(reason: DropReason): void {
    const now = Date.now();
    const last = this.drops.get(reason);
    if (last !== undefined && now - last.loggedAt < DROP_LOG_INTERVAL_MS) {
      last.since += 1;
      return;
    }
    this.drops.set(reason, { loggedAt: now, since: 0 });
    this.logger.warn(`dropped a malformed event stream entry (${reason})`, { reason, droppedSinceLastWarning: (last?.since ?? 0) + 1 });
  }
}
