/**
 * # observe/
 *
 * What an engine tells the outside world: {@link SpaneEvent}s published on a BullMQ event stream
 * (or job progress) and the subscriptions that read them (`events.ts`, {@link EventStreamManager}),
 * server-sent events over those subscriptions (`sse.ts`), Prometheus metrics fed by the
 * engine's local events and queue counts (`metrics.ts`, {@link MetricsCollector}) and
 * OpenTelemetry spans of executions and node attempts (`tracing.ts`, `@opentelemetry/api` loaded
 * lazily; docs/tracing.md).
 *
 * Entry points: `EventStreamManager.publish` / `subscribe`, `streamEvents`, `MetricsCollector`.
 *
 * May import: queues/ (the BullMQ binding, connection-error logging, queue names), engine/ for
 * types only (config, `Logger`, queue counts), `src/errors`. Must not import: execution/,
 * triggers/, sandbox/: observing never drives an execution, so every other folder can depend on
 * it without a cycle.
 *
 * Imported by: engine/ (builds the event stream), execution/ and queues/ (event types), sandbox/
 * (a thread's publisher), by file. Rules and diagram: docs/architecture.md.
 *
 * @module
 */
export { EventStreamManager } from './events.js';
export type { EventStreamManagerOptions } from './events.js';
export type { EventHandler, NodeEventType, RepairEventData, SpaneEvent, SubscribeOptions, WorkflowEventType } from './events.js';
export { eventsResponse, streamEvents } from './sse.js';
export type { AuthorizedEventsOptions, EventSource, SSEAuthorize, SSEOptions, StreamEventsOptions } from './sse.js';
export { DEFAULT_DURATION_BUCKETS, MetricsCollector } from './metrics.js';
export type { MetricsCollectorOptions, MetricsSource } from './metrics.js';
export type { TracerLike, TracingOption } from './tracing.js';
