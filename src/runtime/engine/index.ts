/**
 * # engine/
 *
 * The engine's front door and the context its parts share: the {@link WorkflowEngine} facade
 * (`workflow-engine.ts`), its options (`engine-options.ts`) and config (`config.ts`), the
 * {@link NodeRegistry} of executors (`registry.ts`), the {@link Runtime} context every other
 * folder is handed (`runtime.ts`), the definition cache (`workflow-cache.ts`), argument checks of
 * the public methods (`input-checks.ts`) and {@link createEngine}, which opens a queue backend and
 * a store beside it (`create-engine.ts`).
 *
 * Entry points: `WorkflowEngine`, `createEngine`, `NodeRegistry`, `resolveEngineConfig`.
 *
 * May import: every other runtime folder (the facade wires them together), `src/definition`,
 * `src/store` (the `ExecutionStore` interface; `create-engine.ts` also builds the concrete stores)
 * and `src/errors`.
 *
 * Must not import it: the facade (`workflow-engine.ts`, `create-engine.ts`) is imported only from
 * engine/ itself, `src/index.ts` and `src/cli`. Other runtime folders import the shared pieces
 * (`runtime.ts`, `config.ts`, `engine-options.ts`, `registry.ts`) by file, mostly as types, and
 * never through this index. Rules and diagram: docs/architecture.md.
 *
 * @module
 */
export { WorkflowEngine } from './workflow-engine.js';
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
} from './engine-options.js';
export { createEngine, databaseUrlFromEnv } from './create-engine.js';
export type { CreateEngineOptions } from './create-engine.js';
export { DEFAULT_EXTERNAL_NODES, NodeRegistry } from './registry.js';
export type { CircuitBreakerKeyExtractor, NodeExecutorLike } from './registry.js';
export { engineConfigSchema, resolveEngineConfig } from './config.js';
export type { EngineConfig, EngineConfigInput, ResolvedEngineConfig, WorkerThreadsConfig } from './config.js';
export type { WorkflowCacheOptions } from './workflow-cache.js';
export type { Clock, Logger } from './runtime.js';
export type { InputFor, StartArgs, TypedExecution, TypedForkOptions, WorkflowRef } from './typed-client.js';
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
} from './typed-events.js';
