/**
 * Typed access to node results of a built workflow's execution.
 *
 * @module
 */
import { resultOf } from '../definition/graph.js';
import { InvalidArgumentError } from '../errors.js';
import type { NodeResult } from '../definition/types.js';
import type { WorkflowOutputs } from './compile.js';

/**
 * The output of node `nodeId` in an execution of `workflow`, typed from the builder, or
 * `undefined` when that node did not complete. The value is what the node's output schema
 * accepted in the worker (for nodes without one, the type is what their code declares).
 *
 * @example
 * ```ts
 * const done = await engine.waitForExecution(await engine.enqueueWorkflow(onboarding.id, { userId: 1 }));
 * const user = nodeOutput(onboarding, done, 'fetch');   // { id: number; email: string } | undefined
 * ```
 */
export function nodeOutput<W, const K extends keyof WorkflowOutputs<W> & string>(
  workflow: W,
  execution: { readonly nodeResults: Readonly<Record<string, NodeResult>> },
  nodeId: K,
): WorkflowOutputs<W>[K] | undefined {
  void workflow; // only its type matters
  if (typeof execution?.nodeResults !== 'object' || execution.nodeResults === null) throw new InvalidArgumentError('nodeOutput expects an execution (with nodeResults)');
  const result = resultOf(execution.nodeResults, nodeId);
  return result?.status === 'completed' ? (result.data as WorkflowOutputs<W>[K]) : undefined;
}
