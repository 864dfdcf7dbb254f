/**
 * # execution/
 *
 * What happens to one execution once it runs: the {@link NodeProcessor} that handles each node
 * job (`node-processor.ts`), moving an execution forward after nodes settle, failing it, parking
 * and waking jobs (`advance.ts`), the view a finished node hands to its children (`handoff.ts`),
 * eager chains, which run a node's single ready child in the same job (`eager.ts`),
 * `sub-workflow` nodes (`sub-workflows.ts`), the claim check for large values (`payloads.ts`),
 * start, pause, resume and cancel (`lifecycle.ts`), forks of finished executions (`fork.ts`) and the repair of executions whose jobs were
 * lost (`reconciler.ts`).
 *
 * Entry points: `NodeProcessor.processNodeJob`, `advance`, `ExecutionLifecycle`, `Reconciler`.
 *
 * May import: queues/ (job ids and shapes, the queue manager), engine/ and observe/ for types
 * only (each function is handed the {@link Runtime} context, events go through `rt.events`),
 * `src/definition`, the `ExecutionStore` and `PayloadStore` interfaces of `src/store`, and
 * `src/errors`. Must not import: triggers/, sandbox/, the engine facade.
 *
 * Imported by: engine/ (the facade), queues/ (the DLQ retry wakes an execution and waits for an
 * eager chain, the worker runs the processor) and sandbox/ (a worker thread runs the same processor), each by file, never
 * through this index. Rules and diagram: docs/architecture.md.
 *
 * @module
 */
export { NodeProcessor } from './node-processor.js';
export type { NodeJobReturn } from './node-processor.js';
export { AGGREGATOR_NODE_ID, MAX_SUB_WORKFLOW_DEPTH } from './sub-workflows.js';
export type { SubWorkflowConfig } from './sub-workflows.js';
export type { ReconcileOptions, ReconcileSummary } from './reconciler.js';
export { DEFAULT_PAYLOAD_THRESHOLD_BYTES, isPayloadReference, PAYLOAD_REFERENCE_KEY, PayloadManager } from './payloads.js';
export type { PayloadManagerOptions, PayloadReference } from './payloads.js';
export type { ForkOptions } from './fork.js';
