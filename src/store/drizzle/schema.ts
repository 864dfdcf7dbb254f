/**
 * The PostgreSQL schema of {@link DrizzleStore}, shared by the `postgres` and PGlite drivers.
 * Every table lives in the `spane` schema so that SPANE can share a database with an
 * application without its table names (`workflows`, `executions`) colliding.
 *
 * Changing this file means running `npm run db:generate` and committing the new migration.
 *
 * JSON columns use SQL `NULL` for an absent value and JSON `null` for a `null` value, so that
 * `{ data: null }` and `{}` stay different; {@link DrizzleStore} writes and reads them as text to
 * keep that difference (and JSON strings such as `"123"`) intact across drivers.
 *
 * @module
 */
import { sql } from 'drizzle-orm';
import { bigint, check, foreignKey, index, integer, jsonb, pgSchema, primaryKey, text } from 'drizzle-orm/pg-core';

/** The PostgreSQL schema (namespace) that holds SPANE's tables and its migrations journal. */
export const spaneSchema = pgSchema('spane');

/** Where drizzle's migrator records applied migrations (inside {@link spaneSchema}). */
export const MIGRATIONS_TABLE = '__drizzle_migrations';

/** Epoch milliseconds, as the store interface uses them. */
const epochMs = (name: string) => bigint(name, { mode: 'number' });

/** Versioned workflow definitions: one row per (id, version). */
export const workflows = spaneSchema.table(
  'workflows',
  {
    id: text('id').notNull(),
    version: integer('version').notNull(),
    /** The definition without its `version` key. */
    definition: jsonb('definition').notNull(),
    /** Free text about what changed, given to `saveWorkflow` (`registerWorkflow(def, { changeNotes })`). */
    changeNotes: text('change_notes'),
    createdAt: epochMs('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.id, t.version] }), check('workflows_version_positive', sql`version > 0`)],
);

/** One row per execution; node results and logs hang off it. */
export const executions = spaneSchema.table(
  'executions',
  {
    executionId: text('execution_id').primaryKey(),
    /** Insertion order: "newest first" must not depend on clocks or on equal `started_at`. */
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity().notNull(),
    workflowId: text('workflow_id').notNull(),
    workflowVersion: integer('workflow_version').notNull(),
    status: text('status').notNull(),
    /** SQL NULL when the execution was created without initial data. */
    initialData: jsonb('initial_data'),
    parentExecutionId: text('parent_execution_id'),
    parentNodeId: text('parent_node_id'),
    depth: integer('depth').notNull().default(0),
    startedAt: epochMs('started_at').notNull(),
    completedAt: epochMs('completed_at'),
    error: text('error'),
    /** The failed node's error as a SerializedError (name, code, retryable, cause); written with `error`. */
    errorDetails: jsonb('error_details'),
    pausedAt: epochMs('paused_at'),
    /** For a fork (`engine.forkExecution`): the execution it was forked from, and the node it re-ran from. */
    forkedFromExecutionId: text('forked_from_execution_id'),
    forkedFromNodeId: text('forked_from_node_id'),
    /** The OpenTelemetry trace id of a traced execution (docs/tracing.md). */
    traceId: text('trace_id'),
    /** The W3C `traceparent` of its `spane.execution` span, the parent of its node spans. */
    traceParent: text('trace_parent'),
  },
  (t) => [
    index('executions_parent_idx').on(t.parentExecutionId),
    // Listing (listExecutionPage, countExecutions): newest first by (started_at, execution_id),
    // read backwards in index order; one index per filter a dashboard combines.
    index('executions_started_idx').on(t.startedAt, t.executionId),
    index('executions_workflow_started_idx').on(t.workflowId, t.startedAt, t.executionId),
    index('executions_status_started_idx').on(t.status, t.startedAt, t.executionId),
    index('executions_workflow_status_idx').on(t.workflowId, t.status, t.startedAt, t.executionId),
    // Id prefix search (`like 'abc%'`) in any collation.
    index('executions_id_prefix_idx').on(t.executionId.op('text_pattern_ops')),
    index('executions_seq_idx').on(t.seq),
    // The reconciler pages through unfinished executions oldest first; finished ones (the bulk of
    // the table) stay out of the index.
    index('executions_unfinished_idx')
      .on(t.startedAt, t.executionId)
      .where(sql`status in ('pending', 'running', 'paused')`),

    check('executions_status_valid', sql`status in ('pending', 'running', 'paused', 'completed', 'failed', 'cancelled')`),
  ],
);

/** The settled result of one node of one execution. */
export const nodeResults = spaneSchema.table(
  'node_results',
  {
    executionId: text('execution_id').notNull(),
    nodeId: text('node_id').notNull(),
    status: text('status').notNull(),
    /** SQL NULL when the node produced no data; JSON `null` when it produced `null`. */
    data: jsonb('data'),
    error: text('error'),
    /** The error as a SerializedError (name, code, retryable, cause), on failed results. */
    errorDetails: jsonb('error_details'),
    nextNodes: jsonb('next_nodes'),
    attempts: integer('attempts').notNull(),
    startedAt: epochMs('started_at'),
    completedAt: epochMs('completed_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.executionId, t.nodeId] }),
    foreignKey({ name: 'node_results_execution_fk', columns: [t.executionId], foreignColumns: [executions.executionId] }).onDelete('cascade'),
    check('node_results_status_valid', sql`status in ('completed', 'failed', 'skipped')`),
  ],
);

/** Append-only log lines of an execution. */
export const executionLogs = spaneSchema.table(
  'execution_logs',
  {
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity().primaryKey(),
    executionId: text('execution_id').notNull(),
    at: epochMs('at').notNull(),
    level: text('level').notNull(),
    message: text('message').notNull(),
    nodeId: text('node_id'),
  },
  (t) => [
    index('execution_logs_execution_idx').on(t.executionId, t.id),
    foreignKey({ name: 'execution_logs_execution_fk', columns: [t.executionId], foreignColumns: [executions.executionId] }).onDelete('cascade'),
    check('execution_logs_level_valid', sql`level in ('info', 'warn', 'error')`),
  ],
);

/**
 * Claim-check payloads: the large values (initial data, node outputs, node inputs given to
 * `enqueueNode`) that executions, node results and jobs refer to instead of holding them. They go
 * with their execution (ON DELETE CASCADE), so pruning an execution deletes its payloads.
 */
export const payloads = spaneSchema.table(
  'payloads',
  {
    executionId: text('execution_id').notNull(),
    payloadId: text('payload_id').notNull(),
    data: jsonb('data').notNull(),
    /** Size of the JSON text in bytes (UTF-8), for monitoring. */
    bytes: integer('bytes').notNull(),
    createdAt: epochMs('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.executionId, t.payloadId] }),
    foreignKey({ name: 'payloads_execution_fk', columns: [t.executionId], foreignColumns: [executions.executionId] }).onDelete('cascade'),
  ],
);

/**
 * Waits of executions (see store/waits.ts): a node waiting for a signal, or a signal that came
 * before its node ran. One row per (execution, kind, key); state changes are compare-and-set
 * updates. They go with their execution (ON DELETE CASCADE). `match_value` is for waits that are
 * looked up by a value rather than by execution (events); its index serves that lookup.
 */
export const waits = spaneSchema.table(
  'waits',
  {
    executionId: text('execution_id').notNull(),
    kind: text('kind').notNull(),
    key: text('key').notNull(),
    state: text('state').notNull(),
    nodeId: text('node_id'),
    /** SQL NULL when no data was delivered; JSON `null` when `null` was. */
    payload: jsonb('payload'),
    resolution: text('resolution'),
    /** A value a delivery matches on (events); NULL for signals. */
    matchValue: text('match_value'),
    createdAt: epochMs('created_at').notNull(),
    updatedAt: epochMs('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.executionId, t.kind, t.key] }),
    foreignKey({ name: 'waits_execution_fk', columns: [t.executionId], foreignColumns: [executions.executionId] }).onDelete('cascade'),
    index('waits_match_idx')
      .on(t.kind, t.key, t.matchValue)
      .where(sql`state = 'waiting'`),
    check('waits_state_valid', sql`state in ('waiting', 'delivered', 'resolved')`),
    check('waits_resolution_valid', sql`resolution is null or resolution in ('signal', 'timeout')`),
  ],
);
