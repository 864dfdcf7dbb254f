import { createRequire } from 'node:module';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OpenMetricsContentType, PrometheusContentType } from 'prom-client';
import { InvalidArgumentError } from '../../errors.js';
import type { RepairEventData, SpaneEvent } from './events.js';
import type { QueueCounts, QueueStats } from '../engine/engine-options.js';

/**
 * prom-client, required on the first collector: loading it costs a cold start that never makes a
 * collector (`spane run`) tens of ms, so it is not imported with this module.
 */
const promClient = (): typeof import('prom-client') => createRequire(import.meta.url)('prom-client') as typeof import('prom-client');

/**
 * What {@link MetricsCollector.attach} needs from an engine: its local event hook, its queue
 * counts and its prefix. {@link WorkflowEngine} has all three.
 *
 * @example
 * ```ts
 * const source: MetricsSource = engine; // a WorkflowEngine
 * metrics.attach(source);
 * ```
 */
export interface MetricsSource {
  /** Calls the observer synchronously for every event the engine publishes; returns the function that stops it. */
  observeEvents(observer: (event: SpaneEvent) => void): () => void;
  /** Job counts per queue, read when metrics are scraped. */
  getQueueStats(): Promise<QueueStats>;
  /** The engine's configuration; `prefix` tells which engines share queues. */
  getConfig(): { prefix: string };
}

/**
 * Options of {@link MetricsCollector}.
 *
 * @example
 * ```ts
 * import promClient from 'prom-client';
 * const options: MetricsCollectorOptions = { registry: promClient.register, prefix: 'orders_' };
 * const metrics = new MetricsCollector(options);
 * ```
 */
export interface MetricsCollectorOptions {
  /**
   * The prom-client registry to register the metrics in. Pass `promClient.register` (the global
   * registry) to serve them next to other metrics of the process.
   * @defaultValue a new `Registry` of its own
   */
  registry?: Registry<PrometheusContentType> | Registry<OpenMetricsContentType>;
  /**
   * Prepended to every metric name. Two collectors in one registry need different prefixes.
   * @defaultValue 'spane_'
   */
  prefix?: string;
  /**
   * Upper bounds (seconds) of the buckets of the node duration histogram.
   * @defaultValue {@link DEFAULT_DURATION_BUCKETS}
   */
  durationBuckets?: readonly number[];
  /**
   * How long a scrape waits for one engine's queue counts (ms). An engine that fails or takes
   * longer is left out of that scrape's queue gauge and reported to `onScrapeError`.
   * @defaultValue 5000
   */
  queueStatsTimeoutMs?: number;
  /**
   * Called when reading an engine's queue counts fails during a scrape; the scrape itself
   * still succeeds.
   * @defaultValue ignore the error
   */
  onScrapeError?: (error: unknown) => void;
}

/**
 * Bucket bounds (seconds) of `spane_node_duration_seconds` unless `durationBuckets` is given:
 * from 5 ms up to 10 minutes, since nodes range from in-memory transforms to slow HTTP calls.
 *
 * @example
 * ```ts
 * new MetricsCollector({ durationBuckets: [...DEFAULT_DURATION_BUCKETS, 1800] });
 * ```
 */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]);

/** Label value used when an event does not name its node type. */
const UNKNOWN = 'unknown';

const WORKFLOW_STATUS: Partial<Record<SpaneEvent['type'], string>> = {
  'workflow:started': 'started',
  'workflow:completed': 'completed',
  'workflow:failed': 'failed',
  'workflow:cancelled': 'cancelled',
  'workflow:paused': 'paused',
  'workflow:resumed': 'resumed',
};

const NODE_STATUS: Partial<Record<SpaneEvent['type'], string>> = {
  'node:completed': 'completed',
  'node:failed': 'failed',
  'node:retrying': 'retrying',
  'node:skipped': 'skipped',
};

/**
 * Prometheus metrics of SPANE engines, on prom-client. Counts come from the events each attached
 * engine publishes in its own process ({@link WorkflowEngine.observeEvents}, so they work with
 * `events: false` and need no Redis round trip); queue depths are read from Redis on each scrape.
 *
 * Exported (names with the default `spane_` prefix):
 * - `spane_workflow_executions_total{workflow,status}`: counter; status is `started`,
 *   `completed`, `failed`, `cancelled`, `paused` or `resumed`.
 * - `spane_node_executions_total{workflow,node_type,status}`: counter; status is `completed`,
 *   `failed` (for good), `retrying` (an attempt failed and another follows) or `skipped`.
 * - `spane_node_duration_seconds{workflow,node_type,status}`: histogram of attempt durations;
 *   status is `completed`, `failed` or `retrying`.
 * - `spane_queue_jobs{queue,state}`: gauge of BullMQ job counts, read on scrape.
 * - `spane_reconciler_repaired_executions_total{workflow}`: counter of executions the
 *   reconciler repaired (their queued work was lost), and
 *   `spane_reconciler_requeued_nodes_total{workflow}`: the node jobs it enqueued again.
 *
 * Labels hold workflow ids and node types only, never execution or node ids, so the number of
 * series stays bounded by what is registered. Each process counts what its own engines did:
 * Prometheus sums over processes.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * const metrics = new MetricsCollector();
 * const detach = metrics.attach(engine);
 * createServer(async (_req, res) => {
 *   res.setHeader('Content-Type', metrics.contentType);
 *   res.end(await metrics.toPrometheus());
 * }).listen(9464);
 * // later: detach();
 * ```
 */
export class MetricsCollector {
  /** The prom-client registry that holds the metrics. */
  readonly registry: Registry<PrometheusContentType> | Registry<OpenMetricsContentType>;
  /** `spane_workflow_executions_total` (or with the configured prefix). */
  readonly workflowExecutions: Counter<'workflow' | 'status'>;
  /** `spane_node_executions_total` (or with the configured prefix). */
  readonly nodeExecutions: Counter<'workflow' | 'node_type' | 'status'>;
  /** `spane_node_duration_seconds` (or with the configured prefix). */
  readonly nodeDuration: Histogram<'workflow' | 'node_type' | 'status'>;
  /** `spane_queue_jobs` (or with the configured prefix). */
  readonly queueJobs: Gauge<'queue' | 'state'>;
  /** `spane_reconciler_repaired_executions_total` (or with the configured prefix). */
  readonly reconcilerRepairs: Counter<'workflow'>;
  /** `spane_reconciler_requeued_nodes_total` (or with the configured prefix). */
  readonly reconcilerNodes: Counter<'workflow'>;

  private readonly sources = new Map<MetricsSource, () => void>();
  private readonly timeoutMs: number;
  private readonly onScrapeError: (error: unknown) => void;
  private refreshing: Promise<void> | undefined;

  /**
   * Creates the metrics and registers them in the registry; nothing is counted until
   * {@link attach}.
   *
   * @example
   * ```ts
   * const metrics = new MetricsCollector({ prefix: 'spane_' });
   * ```
   */
  constructor(options: MetricsCollectorOptions = {}) {
    const prefix = options.prefix ?? 'spane_';
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix) && prefix !== '') {
      throw new InvalidArgumentError(`MetricsCollector: prefix must be a valid start of a Prometheus metric name, got '${prefix}'`);
    }
    const timeoutMs = options.queueStatsTimeoutMs ?? 5000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new InvalidArgumentError(`MetricsCollector: queueStatsTimeoutMs must be a positive number, got ${String(options.queueStatsTimeoutMs)}`);
    }
    this.timeoutMs = timeoutMs;
    this.onScrapeError = options.onScrapeError ?? (() => undefined);
    const { Counter, Gauge, Histogram, Registry } = promClient();
    this.registry = options.registry ?? new Registry();
    const registers = [this.registry];
    this.workflowExecutions = new Counter({
      name: `${prefix}workflow_executions_total`,
      help: 'Workflow execution lifecycle events, by workflow id and status (started, completed, failed, cancelled, paused, resumed).',
      labelNames: ['workflow', 'status'] as const,
      registers,
    });
    this.nodeExecutions = new Counter({
      name: `${prefix}node_executions_total`,
      help: 'Node outcomes, by workflow id, node type and status (completed, failed, retrying, skipped).',
      labelNames: ['workflow', 'node_type', 'status'] as const,
      registers,
    });
    this.nodeDuration = new Histogram({
      name: `${prefix}node_duration_seconds`,
      help: 'Duration of node attempts in seconds, by workflow id, node type and status (completed, failed, retrying).',
      labelNames: ['workflow', 'node_type', 'status'] as const,
      buckets: [...(options.durationBuckets ?? DEFAULT_DURATION_BUCKETS)],
      registers,
    });
    this.reconcilerRepairs = new Counter({
      name: `${prefix}reconciler_repaired_executions_total`,
      help: 'Executions whose lost queued work the reconciler repaired, by workflow id.',
      labelNames: ['workflow'] as const,
      registers,
    });
    this.reconcilerNodes = new Counter({
      name: `${prefix}reconciler_requeued_nodes_total`,
      help: 'Node jobs the reconciler enqueued again after they were lost, by workflow id.',
      labelNames: ['workflow'] as const,
      registers,
    });
    // prom-client calls `collect` with the gauge as `this`; an arrow keeps the collector instead.
    const refresh = () => this.refreshQueueJobs();
    this.queueJobs = new Gauge({
      name: `${prefix}queue_jobs`,
      help: 'BullMQ jobs per SPANE queue and state, read when scraped.',
      labelNames: ['queue', 'state'] as const,
      registers,
      collect: refresh,
    });
  }

  /**
   * Starts counting the events of `engine` and reading its queues on scrape. May be called for
   * several engines (their counts add up; engines with the same `prefix` share queues, so their
   * queues are read once). Returns the function that stops it; calling that again does nothing.
   * Throws {@link InvalidArgumentError} when the engine is already attached.
   *
   * @example
   * ```ts
   * const detachA = metrics.attach(engineA);
   * const detachB = metrics.attach(engineB);
   * // before closing an engine:
   * detachA();
   * await engineA.close();
   * ```
   */
  attach(engine: MetricsSource): () => void {
    if (this.sources.has(engine)) throw new InvalidArgumentError('MetricsCollector.attach: this engine is already attached');
    const stop = engine.observeEvents((event) => this.record(event));
    let attached = true;
    const detach = () => {
      if (!attached) return;
      attached = false;
      stop();
      this.sources.delete(engine);
    };
    this.sources.set(engine, detach);
    return detach;
  }

  /**
   * Detaches every engine. The values counted so far stay in the registry.
   *
   * @example
   * ```ts
   * metrics.detachAll();
   * await Promise.all(engines.map((e) => e.close()));
   * ```
   */
  detachAll(): void {
    for (const detach of [...this.sources.values()]) detach();
  }

  /**
   * The registry's metrics in the Prometheus text format (this reads the queue counts of the
   * attached engines). With a shared registry it includes the other metrics registered there.
   *
   * @example
   * ```ts
   * const body = await metrics.metrics();
   * ```
   */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * Same as {@link metrics}.
   *
   * @example
   * ```ts
   * res.setHeader('Content-Type', metrics.contentType);
   * res.end(await metrics.toPrometheus());
   * ```
   */
  toPrometheus(): Promise<string> {
    return this.metrics();
  }

  /**
   * The `Content-Type` header for the text of {@link metrics}.
   *
   * @example
   * ```ts
   * res.setHeader('Content-Type', metrics.contentType); // text/plain; version=0.0.4; charset=utf-8
   * ```
   */
  get contentType(): string {
    return this.registry.contentType;
  }

  private record(event: SpaneEvent): void {
    if (event.type === 'workflow:repaired') {
      const nodes = (event.data as Partial<RepairEventData> | undefined)?.nodes;
      this.reconcilerRepairs.inc({ workflow: event.workflowId });
      if (Array.isArray(nodes) && nodes.length > 0) this.reconcilerNodes.inc({ workflow: event.workflowId }, nodes.length);
      return;
    }
    const workflowStatus = WORKFLOW_STATUS[event.type];
    if (workflowStatus !== undefined) {
      this.workflowExecutions.inc({ workflow: event.workflowId, status: workflowStatus });
      return;
    }
    const nodeStatus = NODE_STATUS[event.type];
    if (nodeStatus === undefined) return;
    const labels = { workflow: event.workflowId, node_type: event.nodeType ?? UNKNOWN, status: nodeStatus };
    this.nodeExecutions.inc(labels);
    const ms = event.durationMs;
    if (nodeStatus !== 'skipped' && typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) this.nodeDuration.observe(labels, ms / 1000);
  }

  /** One read at a time: concurrent scrapes share it. */
  private refreshQueueJobs(): Promise<void> {
    this.refreshing ??= this.readQueues().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async readQueues(): Promise<void> {
    // Engines with the same prefix see the same queues: try them in turn, count each prefix once.
    const byPrefix = new Map<string, MetricsSource[]>();
    for (const source of this.sources.keys()) {
      const prefix = source.getConfig().prefix;
      byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), source]);
    }
    const results = await Promise.all([...byPrefix.values()].map((engines) => this.firstStats(engines)));
    const totals = new Map<string, QueueCounts>();
    for (const stats of results) {
      if (stats === undefined) continue;
      for (const [queue, counts] of Object.entries(stats.queues) as [string, QueueCounts][]) {
        const sum = totals.get(queue);
        if (sum === undefined) {
          totals.set(queue, { ...counts });
          continue;
        }
        for (const state of Object.keys(counts) as (keyof QueueCounts)[]) sum[state] += counts[state];
      }
    }
    // Set every series rather than resetting first, so a concurrent reader never sees it empty.
    if (totals.size === 0) this.queueJobs.reset();
    for (const [queue, counts] of totals) {
      for (const [state, value] of Object.entries(counts)) this.queueJobs.set({ queue, state }, value);
    }
  }

  private async firstStats(engines: readonly MetricsSource[]): Promise<QueueStats | undefined> {
    for (const engine of engines) {
      try {
        return await withTimeout(engine.getQueueStats(), this.timeoutMs);
      } catch (err) {
        try {
          this.onScrapeError(err);
        } catch {
          // A throwing error handler must not break the scrape.
        }
      }
    }
    return undefined;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`queue stats took longer than ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
