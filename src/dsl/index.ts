/**
 * The typed DSL: node kinds with zod-typed IO, a builder whose compile-time checks catch wrong
 * graphs, compilation to plain WorkflowDefinition JSON, and Markdown docs.
 *
 * @module
 */
export { defineNode } from './node.js';
export { workflow } from './workflow.js';
export type { PlacementOptions, WorkflowBuilder, WorkflowOptions } from './workflow.js';
export { fragment } from './fragment.js';
export type { FragmentBuilder, FragmentOptions } from './fragment.js';
export type { BuiltWorkflow, JsonSchema, NodeSchemas, TriggerInput, WorkflowInput, WorkflowOutputs, WorkflowResult, WorkflowSchemas } from './compile.js';
export type { Paths, TypeAtPath, Unflatten } from './paths.js';
export { registerNodeKinds, RESERVED_CONFIG_KEYS } from './executor.js';
export type { ExecutorRegistryLike } from './executor.js';
export { nodeOutput } from './output.js';
export { renderMarkdown as renderWorkflowMarkdown, renderMermaid } from './docs.js';
export type { RenderOptions } from './docs.js';
export { http, defineHttpNode, httpConfigSchema } from './nodes/http.js';
export type { HttpConfig } from './nodes/http.js';
export { transform } from './nodes/transform.js';
export type { TransformSchemas } from './nodes/transform.js';
export { router } from './nodes/router.js';
export { delay } from './nodes/delay.js';
export { subWorkflow } from './nodes/sub-workflow.js';
export { waitForSignal } from './nodes/signal.js';
export { waitForEvent } from './nodes/event.js';
export type { EventMatch, EventMatchPath, WaitForEventOptions } from './nodes/event.js';
export type { SignalDuration, WaitForSignalOptions } from './nodes/signal.js';
export type { SubWorkflowChecks, SubWorkflowFailure, SubWorkflowInput, SubWorkflowOptions, SubWorkflowOutput } from './nodes/sub-workflow.js';
export type {
  AnyNodeKind,
  AnyNodeSpec,
  KindRuntime,
  MaybePromise,
  NodeContext,
  NodeFailure,
  NodeKind,
  NodeKindDefinition,
  NodeOptions,
  NodeSpec,
  NoAny,
  RouterSpec,
  RunArgs,
  SameAsInput,
} from './node.types.js';
export type { BuilderState, CompileError, EmptyState } from './workflow.types.js';
