/**
 * SPANE: typed DAG workflows on BullMQ.
 *
 * @categoryDescription Engine internals
 * The parts a {@link WorkflowEngine} builds and runs for itself: its queues, workers, dead letter
 * queue and node processor. They are exported for tools that inspect a running engine; an
 * application goes through the engine's own methods instead.
 *
 * @packageDocumentation
 */

export { WorkflowEngine } from './runtime/engine/index.js';
export type {
  BulkWorkflowEnqueue,
  EnqueueOptions,
  GetExecutionOptions,
  QueueCounts,
  QueueStats,
  RedisConnectionInput,
  RegisterWorkflowOptions,
  WaitOptions,
  WorkflowEngineOptions,
} from './runtime/engine/index.js';
// --- Typed client: a typed workflow (DSL-built) in place of its id, typed results and events ---
export type { InputFor, StartArgs, TypedExecution, WorkflowRef } from './runtime/engine/index.js';
export type {
  EventOfType,
  NodeCompletedEvent,
  NodeDelayedEvent,
  NodeFailedEvent,
  NodeRetryingEvent,
  NodeSkippedEvent,
  NodeStartedEvent,
  SpaneEventType,
  TypedEventHandler,
  TypedSpaneEvent,
  TypedSubscribeOptions,
  WorkflowCancelledEvent,
  WorkflowCompletedEvent,
  WorkflowFailedEvent,
  WorkflowPausedEvent,
  WorkflowRepairedEvent,
  WorkflowResumedEvent,
  WorkflowStartedEvent,
} from './runtime/engine/index.js';
export type { TypedWorkflow, WorkflowIdOf, WorkflowNodeId, WorkflowTypes } from './definition/typed-workflow.js';
export { ExecutionCancelledError, ExecutionFailedError, ExecutionNotFinishedError } from './errors.js';
export { ExecutionNotForkableError, ForkInputError, ForkNodeError } from './errors.js';
export type { ForkedFrom } from './definition/types.js';
export type { ForkOptions } from './runtime/execution/index.js';
export type { TypedForkOptions } from './runtime/engine/index.js';
export { createEngine } from './runtime/engine/index.js';
export type { CreateEngineOptions } from './runtime/engine/index.js';
export { SQL_BACKEND_SCHEMA, SqlBackend } from './runtime/queues/index.js';
export type { BackendKind, EmbeddedBackendOptions, PostgresBackendOptions } from './runtime/queues/index.js';
export type { BackendThreadAccess } from './runtime/queues/index.js';
export { DEFAULT_EXTERNAL_NODES, NodeRegistry } from './runtime/engine/index.js';
export type { CircuitBreakerKeyExtractor, NodeExecutorLike } from './runtime/engine/index.js';
export { CircuitBreakerRegistry, DEFAULT_CIRCUIT_BREAKER_OPTIONS } from './runtime/resilience/index.js';
export type { CircuitBreaker, CircuitBreakerOptions, CircuitBreakerStats } from './runtime/resilience/index.js';
export { RateLimiter } from './runtime/resilience/index.js';
export type { GcraStore, RateLimit } from './runtime/resilience/index.js';
export { NodeProcessor } from './runtime/execution/index.js';
export type { NodeJobReturn } from './runtime/execution/index.js';
export { QueueManager } from './runtime/queues/index.js';
export { WorkerManager } from './runtime/queues/index.js';
export type { WorkerManagerOptions } from './runtime/queues/index.js';
export { DLQManager } from './runtime/queues/index.js';
export type { DLQItem } from './runtime/queues/index.js';
export { engineConfigSchema, resolveEngineConfig } from './runtime/engine/index.js';
export type { EngineConfig, EngineConfigInput, ResolvedEngineConfig } from './runtime/engine/index.js';
export type { WorkflowCacheOptions } from './runtime/engine/index.js';
export type { Clock, Logger } from './runtime/engine/index.js';
export { EventStreamManager } from './runtime/observe/index.js';
export type { EventStreamManagerOptions } from './runtime/observe/index.js';
export { eventsResponse, streamEvents } from './runtime/observe/index.js';
export type { AuthorizedEventsOptions, EventSource, SSEAuthorize, SSEOptions, StreamEventsOptions } from './runtime/observe/index.js';
export type { EventHandler, NodeEventType, SpaneEvent, SubscribeOptions, WorkflowEventType } from './runtime/observe/index.js';
export { schedulerId, SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER, TriggerManager } from './runtime/triggers/index.js';
export type { ScheduleInfo, WebhookOptions, WebhookRequest } from './runtime/triggers/index.js';
export { cronProblem, MAX_WEBHOOK_PATH_LENGTH, normaliseWebhookPath, timezoneProblem } from './definition/triggers.js';
export type { WebhookMethod } from './definition/triggers.js';
export { MAX_WEBHOOK_BODY_DEPTH } from './runtime/triggers/index.js';
export type { WebhookSecretResolver } from './runtime/triggers/index.js';
export { applyMapping, getPath, pathProblem } from './definition/mapping.js';
export { AGGREGATOR_NODE_ID, MAX_SUB_WORKFLOW_DEPTH } from './runtime/execution/index.js';
export type { SubWorkflowConfig } from './runtime/execution/index.js';
export { DLQ_QUEUE, NODE_QUEUE, WORKFLOW_QUEUE, nodeJobId } from './runtime/queues/index.js';
export type { DLQJobData, NodeJobData, WorkflowJobData } from './runtime/queues/index.js';

export { DEFAULT_MAX_FINISHED_BYTES, InMemoryExecutionStore } from './store/memory.js';
export type { InMemoryStoreOptions } from './store/memory.js';
export { readExecutionHead } from './store/store.js';
export type { ExecutionHead } from './store/store.js';
export type { StoreThreadAccess } from './store/thread-access.js';
export type { ExecutionFilter, ExecutionLogEntry, ExecutionStore, NewExecution, PruneCriteria, SaveWorkflowOptions, TransitionPatch, WorkflowVersionInfo } from './store/store.js';

// --- recovery ---
export type { ReconcileOptions, ReconcileSummary } from './runtime/execution/index.js';
export type { RepairEventData } from './runtime/observe/index.js';
export type { ExecutionPage, UnfinishedExecutionQuery, UnfinishedStatus } from './store/store.js';
// --- end recovery ---

// --- claim check ---
export { DEFAULT_PAYLOAD_THRESHOLD_BYTES, isPayloadReference, PAYLOAD_REFERENCE_KEY, PayloadManager } from './runtime/execution/index.js';
export type { PayloadManagerOptions, PayloadReference } from './runtime/execution/index.js';
export { isPayloadStore } from './store/payload-store.js';
export type { PayloadStore } from './store/payload-store.js';
// --- end claim check ---

export type {
  CircuitBreakerConfig,
  ExecutionContext,
  ExecutionResult,
  ExecutionStatus,
  INodeExecutor,
  NodeConfig,
  NodeDefinition,
  NodeResult,
  NodeResultStatus,
  RetryPolicy,
  ScheduleTrigger,
  WebhookSecret,
  WebhookTrigger,
  CarriedExecutor,
  WorkflowDefinition,
  WorkflowDefinitionWithExecutors,
  WorkflowInputSchema,
  SchemaIssue,
  WorkflowExecution,
  WorkflowTrigger,
} from './definition/types.js';
export { NODE_EXECUTORS, TERMINAL_STATUSES, WORKFLOW_INPUT_SCHEMA } from './definition/types.js';
export { BUILT_IN_NODE_TYPES, delayMs, findWorkflowIssues, validateWorkflow } from './definition/validate.js';
export type { ValidateOptions } from './definition/validate.js';
export { workflowDefinitionSchema } from './definition/schema.js';

export {
  CircuitOpenError,
  EngineClosedError,
  ExecutionNotFoundError,
  InvalidArgumentError,
  InvalidConfigError,
  InvalidStateError,
  MaxDepthExceededError,
  NodeExecutionError,
  NonRetryableError,
  NotSupportedError,
  PayloadNotFoundError,
  RedisUnavailableError,
  BackendUnavailableError,
  deserializeError,
  isRetryable,
  MAX_CAUSE_DEPTH,
  serializeError,
  SpaneError,
  SubWorkflowError,
  UnknownNodeTypeError,
  WebhookRequestError,
  WorkflowModuleError,
  WorkflowNotFoundError,
  WorkflowValidationError,
  StoreUnavailableError,
  PrefixConflictError,
  ZodVersionError,
  UnknownSignalError,
  SignalAlreadyConsumedError,
  SignalPayloadError,
  SignalTimeoutError,
  ExecutionFinishedError,
  EventTimeoutError,
  EventMatchError,
} from './errors.js';
export type { DeserializedError, SerializedError, SpaneErrorCode, SpaneErrorOptions, ValidationIssue, WebhookErrorCode } from './errors.js';
export type { StoreFaultDetails } from './errors.js';
export type { PrefixConflict } from './errors.js';

// --- DSL ---
export {
  defineHttpNode,
  defineNode,
  delay,
  http,
  httpConfigSchema,
  nodeOutput,
  registerNodeKinds,
  renderMermaid,
  renderWorkflowMarkdown,
  fragment,
  RESERVED_CONFIG_KEYS,
  router,
  subWorkflow,
  transform,
  waitForSignal,
  waitForEvent,
  workflow,
} from './dsl/index.js';
export type { SignalDuration, WaitForSignalOptions } from './dsl/index.js';
export type { EventMatch, EventMatchPath, WaitForEventOptions } from './dsl/index.js';
export type { EventMatchSource, EventNodeConfig } from './definition/event.js';
export type { SendEventResult } from './runtime/execution/events-wait.js';
export type { Signalled, SignalMark, WorkflowSignalName, WorkflowSignalPayload } from './definition/typed-signals.js';
export type { SignalNodeConfig, SignalTimeoutAction } from './definition/signal.js';
export type { CreatedWait, NewWait, WaitKind, WaitMatchQuery, WaitPatch, WaitRecord, WaitRef, WaitResolution, WaitState } from './store/waits.js';
export type {
  AnyNodeKind,
  AnyNodeSpec,
  BuilderState,
  BuiltWorkflow,
  CompileError,
  EmptyState,
  ExecutorRegistryLike,
  FragmentBuilder,
  FragmentOptions,
  HttpConfig,
  JsonSchema,
  KindRuntime,
  MaybePromise,
  NodeContext,
  NodeFailure,
  NodeKind,
  NodeKindDefinition,
  NodeOptions,
  NodeSchemas,
  NodeSpec,
  NoAny,
  PlacementOptions,
  RenderOptions,
  RouterSpec,
  RunArgs,
  SameAsInput,
  SubWorkflowOptions,
  TransformSchemas,
  TriggerInput,
  WorkflowBuilder,
  WorkflowInput,
  WorkflowOptions,
  WorkflowOutputs,
  WorkflowResult,
  WorkflowSchemas,
  SubWorkflowFailure,
  SubWorkflowInput,
  SubWorkflowOutput,
  SubWorkflowChecks,
  Paths,
  TypeAtPath,
  Unflatten,
} from './dsl/index.js';
export { NodeInputError, NodeOutputError, WorkflowInputError } from './errors.js';
export type { NodeValidationDetails } from './errors.js';
// --- end DSL ---

// --- metrics ---
export { DEFAULT_DURATION_BUCKETS, MetricsCollector } from './runtime/observe/index.js';
export type { MetricsCollectorOptions, MetricsSource } from './runtime/observe/index.js';
export type { TracerLike, TracingOption } from './runtime/observe/index.js';
// --- end metrics ---

// --- react flow ---
export { fromReactFlow, toReactFlow } from './definition/react-flow.js';
export type { FromReactFlowOptions, ReactFlowEdge, ReactFlowGraph, ReactFlowGraphOut, ReactFlowNode, ReactFlowNodeData, ToReactFlowOptions } from './definition/react-flow.js';
// --- end react flow ---

// --- drizzle ---
export { DrizzleStore } from './store/drizzle/store.js';
export type { DrizzleConnectOptions, DrizzlePgDatabase, DrizzlePgliteOptions, DrizzleStoreOptions } from './store/drizzle/store.js';
export { defaultMigrationsFolder, migratePglite, migratePostgres } from './store/drizzle/migrate.js';
export type { MigrateOptions } from './store/drizzle/migrate.js';
export type { PgliteClient } from './store/pglite-client.js';
// --- end drizzle ---

// --- worker threads ---
export { createSandboxProcessor } from './runtime/sandbox/index.js';
export type { SandboxProcessor, SandboxProcessorOptions } from './runtime/sandbox/index.js';
export { deserialize, serialize, TYPE_KEY as SERIALIZED_TYPE_KEY } from './runtime/sandbox/index.js';
export type { SerializeOptions } from './runtime/sandbox/index.js';
export { SANDBOX_ENV } from './runtime/sandbox/index.js';
export type { WorkerThreadsConfig } from './runtime/engine/index.js';
// --- end worker threads ---

// --- Bad input: data depth, mappings, HTTP node errors ---
export { DataTooDeepError, HttpError, MappingError, NonRetryableHttpError } from './errors.js';
export type { HttpErrorDetails } from './errors.js';
export { MAX_DATA_DEPTH } from './definition/json-check.js';

// --- Dashboard: a Fetch handler serving the UI and its API ---
export { createDashboard, toNodeListener } from './dashboard/index.js';
export type { ConnectionInfo, Dashboard, DashboardAuthorize, DashboardOptions, FetchHandler } from './dashboard/index.js';
// --- execution listing ---
export { DEFAULT_EXECUTION_PAGE_LIMIT, EXECUTION_STATUSES, MAX_EXECUTION_PAGE_LIMIT } from './store/execution-listing.js';
export type { ExecutionCountQuery, ExecutionListQuery, ExecutionStatusCounts, ExecutionSummary, ExecutionSummaryPage, NodeStatusCounts } from './store/execution-listing.js';
export { ExecutionQueryError } from './errors.js';
export type { ExecutionQueryField } from './errors.js';
// --- end execution listing ---
// --- Testing (also `spane/testing`): test engines with mocks and a virtual clock ---
export { createTestEngine, TestEngine } from './testing/index.js';
export type { Duration, MockCall, MockContext, MockImpl, NodeMock, RunOutput, TestEngineOptions, TestRun, TestRunBase } from './testing/index.js';
