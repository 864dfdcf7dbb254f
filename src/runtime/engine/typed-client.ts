/**
 * The run-time side of the engine's typed client: a typed workflow given in place of its id
 * resolves to that id, and a finished execution yields its result or a typed error. The types
 * the client checks calls with live in `src/definition/typed-workflow.ts`, so the runtime reads a
 * DSL-built workflow's types without importing the DSL.
 *
 * @module
 */
import { workflowOutput } from '../../definition/graph.js';
import type { WorkflowGraph } from '../../definition/graph.js';
import type { TypedWorkflow, WorkflowIdOf, WorkflowInput, WorkflowNodeId } from '../../definition/typed-workflow.js';
import type { WorkflowExecution } from '../../definition/types.js';
import { deserializeError, ExecutionCancelledError, ExecutionFailedError, ExecutionNotFinishedError, InvalidArgumentError } from '../../errors.js';
import { continuesOnFail } from '../resilience/retry.js';
import type { EnqueueOptions } from './engine-options.js';

/**
 * A workflow as the engine's start methods take it: its id (JSON workflows, as in the spec), or
 * the workflow itself (a DSL-built one types the input). The workflow must have been registered;
 * the latest registered version of its id runs.
 */
export type WorkflowRef = string | TypedWorkflow;

/**
 * The arguments after the workflow in `enqueueWorkflow`: the input, typed by the workflow's input
 * schema when a typed workflow is given (required unless the schema accepts `undefined`), and the
 * enqueue options.
 *
 * @example
 * ```ts
 * const args: StartArgs<typeof onboarding> = [{ userId: 1 }, { priority: 1 }];
 * ```
 */
export type StartArgs<W> = [W] extends [string]
  ? [initialData?: unknown, options?: EnqueueOptions]
  : undefined extends WorkflowInput<W>
    ? [initialData?: WorkflowInput<W>, options?: EnqueueOptions]
    : [initialData: WorkflowInput<W>, options?: EnqueueOptions];

/**
 * The input a start method takes for `W`: anything for an id, the typed input for a typed workflow.
 *
 * @example
 * ```ts
 * const input: InputFor<typeof onboarding> = { userId: 1 };
 * ```
 */
export type InputFor<W> = [W] extends [string] ? unknown : WorkflowInput<W>;

/**
 * An execution read for a typed workflow: its `workflowId` and `initialData` carry the
 * workflow's types. Node results are read with `nodeOutput(flow, execution, nodeId)` and the
 * result with `engine.result(flow, executionId)`.
 *
 * @example
 * ```ts
 * const done: TypedExecution<typeof onboarding> = await engine.waitForExecution(onboarding, executionId);
 * done.initialData.userId; // number
 * ```
 */
export interface TypedExecution<W> extends WorkflowExecution {
  /** The workflow it runs. */
  workflowId: WorkflowIdOf<W>;
  /** The data it started with. */
  initialData: WorkflowInput<W>;
}

/**
 * The id `workflow` stands for; refuses anything that is neither an id nor a definition with one.
 * A string is returned as it is, so the id form is checked where it always was.
 */
export function workflowIdOf(method: string, workflow: unknown): string {
  if (typeof workflow === 'string') return workflow;
  if (typeof workflow === 'object' && workflow !== null && !Array.isArray(workflow)) {
    const id = (workflow as { id?: unknown }).id;
    if (typeof id === 'string' && id.length > 0) return id;
  }
  throw new InvalidArgumentError(`${method}: the workflow must be a workflow id or a workflow definition (a built workflow) with an id, got ${describeValue(workflow)}`);
}

/** Refuses an execution of another workflow than the one the caller typed it with. */
export function assertRunsWorkflow(method: string, exec: WorkflowExecution, workflowId: string): void {
  if (exec.workflowId !== workflowId) throw new InvalidArgumentError(`${method}: execution '${exec.executionId}' runs workflow '${exec.workflowId}', not '${workflowId}'`);
}

/**
 * What a finished execution yields, the value `spane run` prints and a parent's sub-workflow node
 * receives ({@link workflowOutput}); `exec` must be resolved (claim-checked values loaded). Throws
 * {@link ExecutionNotFinishedError} while it is pending, running or paused,
 * {@link ExecutionFailedError} (its node's error as `cause`) when it failed, and
 * {@link ExecutionCancelledError} when it was cancelled.
 */
export function executionResult(graph: WorkflowGraph, exec: WorkflowExecution): unknown {
  switch (exec.status) {
    case 'completed':
      return workflowOutput(graph.definition, exec.nodeResults);
    case 'failed': {
      const nodeId = Object.entries(exec.nodeResults).find(([id, r]) => {
        const node = graph.nodes.get(id);
        return r.status === 'failed' && node !== undefined && !continuesOnFail(node);
      })?.[0];
      const cause = exec.errorDetails === undefined ? undefined : deserializeError(exec.errorDetails);
      throw new ExecutionFailedError(exec.executionId, { error: exec.error ?? 'unknown error', nodeId }, { cause });
    }
    case 'cancelled':
      throw new ExecutionCancelledError(exec.executionId);
    default:
      throw new ExecutionNotFinishedError(exec.executionId, exec.status);
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object without an id' : typeof value;
}

/**
 * The options of `forkExecution(workflow, executionId, options)`: `fromNodeId` is one of the
 * workflow's node ids. The built workflow's types record node outputs, not node inputs, so
 * `input` is checked at run time (against the node's input schema), not at compile time.
 *
 * @example
 * ```ts
 * const options: TypedForkOptions<typeof onboarding> = { fromNodeId: 'welcome' };
 * ```
 */
export interface TypedForkOptions<W> {
  /** The node to re-run from; one of the workflow's node ids. */
  fromNodeId: W extends unknown ? WorkflowNodeId<W> & string : never;
  /** What `fromNodeId` runs on instead of its parents' data. @defaultValue what its parents give it */
  input?: unknown;
  /** The registered version the fork runs. @defaultValue the original execution's version */
  version?: number;
}
