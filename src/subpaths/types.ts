/**
 * `spane/types`: the types of workflow definitions, executors and executions, for code written
 * against that import path. Types only; `spane` exports the same names (and everything else).
 *
 * @module
 */
export type {
  CarriedExecutor,
  CircuitBreakerConfig,
  ExecutionContext,
  ExecutionResult,
  ExecutionStatus,
  ForkedFrom,
  INodeExecutor,
  NodeConfig,
  NodeDefinition,
  NodeResult,
  NodeResultStatus,
  RetryPolicy,
  ScheduleTrigger,
  WebhookSecret,
  WebhookTrigger,
  WorkflowDefinition,
  WorkflowDefinitionWithExecutors,
  WorkflowExecution,
  WorkflowTrigger,
} from '../definition/types.js';
export type { ExecutionStore } from '../store/store.js';
