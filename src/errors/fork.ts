/**
 * Why `engine.forkExecution` refused a fork. Every check runs before anything is stored or
 * enqueued, so a refused fork leaves no execution behind.
 *
 * @module
 */
import { InvalidArgumentError, InvalidStateError } from './common.js';
import { brand } from './brand.js';

/**
 * The execution is still pending, running or paused: only a finished one (completed, failed or
 * cancelled) can be forked, as Temporal's reset takes a closed workflow. Wait for it, or cancel
 * it, and fork then.
 *
 * @example
 * ```ts
 * try {
 *   await engine.forkExecution(executionId, { fromNodeId: 'charge' });
 * } catch (err) {
 *   if (err instanceof ExecutionNotForkableError) await engine.waitForExecution(executionId);
 * }
 * ```
 */
export class ExecutionNotForkableError extends InvalidStateError {
  static {
    brand(this, 'ExecutionNotForkableError');
  }

  override readonly code = 'EXECUTION_NOT_FORKABLE' as const;
  /** The execution asked about. */
  readonly executionId: string;
  /** Its status when it was read. */
  readonly status: 'pending' | 'running' | 'paused';
  constructor(executionId: string, status: 'pending' | 'running' | 'paused') {
    super(`Execution '${executionId}' is ${status}; only a completed, failed or cancelled execution can be forked`);
    this.executionId = executionId;
    this.status = status;
  }
}

/**
 * `fromNodeId` cannot start the fork: the workflow version the fork runs has no such node
 * (`reason: 'unknown-node'`), or an `input` was given for a node that its parents' copied results
 * do not let run (`reason: 'not-ready'`: a parent has no result, or every edge into it is
 * inactive; fork from a node above it instead).
 */
export class ForkNodeError extends InvalidArgumentError {
  static {
    brand(this, 'ForkNodeError');
  }

  override readonly code = 'FORK_NODE_INVALID' as const;
  /** The node asked for. */
  readonly nodeId: string;
  /** Why it was refused. */
  readonly reason: 'unknown-node' | 'not-ready';
  constructor(details: { workflowId: string; version: number; nodeId: string; reason: 'unknown-node' | 'not-ready' }) {
    const { workflowId, version, nodeId, reason } = details;
    super(
      reason === 'unknown-node'
        ? `forkExecution: workflow '${workflowId}' version ${version} has no node '${nodeId}'`
        : `forkExecution: node '${nodeId}' of workflow '${workflowId}' version ${version} cannot run on a given input: its parents' results do not make it ready (a parent has no result, or no edge into it is active); fork from a node above it`,
    );
    this.nodeId = nodeId;
    this.reason = reason;
  }
}

/**
 * The `input` given for `fromNodeId` does not match the node's input schema (the JSON Schema a
 * DSL-built workflow embeds for it). `issues` lists each refused field as `path: message`, never
 * the value.
 */
export class ForkInputError extends InvalidArgumentError {
  static {
    brand(this, 'ForkInputError');
  }

  override readonly code = 'FORK_INPUT_INVALID' as const;
  /** The node the input was for. */
  readonly nodeId: string;
  /** Each problem, as `path: message`. */
  readonly issues: readonly string[];
  constructor(nodeId: string, issues: readonly string[]) {
    super(`forkExecution: the input for node '${nodeId}' does not match its input schema:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.nodeId = nodeId;
    this.issues = issues;
  }
}
