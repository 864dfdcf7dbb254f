/**
 * `spane/engine/workflow-engine`: the engine ({@link WorkflowEngine}, and {@link createEngine}
 * that builds one with its backend) and the types of its options and answers. The classes are the
 * ones `spane` exports: the builds share them, so `instanceof` holds across the import paths.
 *
 * @module
 */
export { createEngine, WorkflowEngine } from '../../runtime/engine/index.js';
export type {
  BulkWorkflowEnqueue,
  CreateEngineOptions,
  EnqueueOptions,
  GetExecutionOptions,
  Logger,
  QueueCounts,
  QueueStats,
  RedisConnectionInput,
  RegisterWorkflowOptions,
  WaitOptions,
  WorkflowCacheOptions,
  WorkflowEngineOptions,
} from '../../runtime/engine/index.js';
export type { ForkOptions } from '../../runtime/execution/index.js';
export type { TypedForkOptions } from '../../runtime/engine/index.js';
