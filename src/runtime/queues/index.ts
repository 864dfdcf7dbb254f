/**
 * # queues/
 *
 * SPANE's BullMQ side: queue names, job data shapes and deterministic job ids (`jobs.ts`), the
 * {@link QueueManager} that owns the three queues and turns a node into a job
 * (`queue-manager.ts`), the {@link WorkerManager} that runs the `node-execution` and
 * `workflow-execution` workers (`worker-manager.ts`), the {@link DLQManager} (`dlq-manager.ts`)
 * and rate-limited logging of connection errors (`connection-errors.ts`).
 *
 * `backends/` is where the queues live: `bull-binding.ts` (what every BullMQ object is built
 * with, per backend, so nothing else branches on it), `open-backend.ts` (Redis or a
 * {@link SqlBackend}), `sql-backend.ts` (BullMQ's PostgreSQL backend on a server or an embedded
 * PGlite) and `pglite-pool.ts` (a `pg.Pool` look-alike over one PGlite).
 *
 * Entry points: `QueueManager`, `WorkerManager`, `openBackend`, `SqlBackend`, `nodeJobId`.
 *
 * May import: engine/ (config, options, the {@link Runtime} type), execution/ (the DLQ retry
 * wakes an execution; the worker runs the node processor), observe/ types, sandbox/ (only
 * `worker-manager.ts`, which starts worker threads when asked), `src/definition`, `src/errors`.
 *
 * Imported by: nearly every runtime folder, by file (job shapes, the queue manager); never
 * through this index from inside `src/runtime`. Rules and diagram: docs/architecture.md.
 *
 * @module
 */
export { QueueManager } from './queue-manager.js';
export { WorkerManager } from './worker-manager.js';
export type { WorkerManagerOptions } from './worker-manager.js';
export { DLQManager } from './dlq-manager.js';
export type { DLQItem } from './dlq-manager.js';
export { DLQ_QUEUE, NODE_QUEUE, WORKFLOW_QUEUE, nodeJobId } from './jobs.js';
export type { DLQJobData, NodeJobData, WorkflowJobData } from './jobs.js';
export { SQL_BACKEND_SCHEMA, SqlBackend } from './backends/sql-backend.js';
export type { BackendKind, EmbeddedBackendOptions, PostgresBackendOptions } from './backends/sql-backend.js';
export type { BackendThreadAccess } from './backends/thread-access.js';
