/**
 * Signal nodes (`{ type: 'signal', config: { name, timeout?, onTimeout?, schema? } }`): a node
 * that waits for `engine.signal(executionId, name, payload)` and outputs the payload.
 *
 * The node's job and its timeout job are those of every waiting node (waits.ts). What is a
 * signal's own is its delivery: `engine.signal` on a `waiting` wait resolves it
 * (`waiting → resolved`), then writes the node's result and advances the execution itself; before
 * the node ran, it creates the wait as `delivered`, and the node's job takes it. A later
 * resolution is refused (SignalAlreadyConsumedError) or, for the timeout job, dropped.
 *
 * @module
 */
import { resultOf } from '../../definition/graph.js';
import { jsonProblem } from '../../definition/json-check.js';
import { payloadValidator, signalConfigOf, signalNodes } from '../../definition/signal.js';
import { TERMINAL_STATUSES } from '../../definition/types.js';
import {
  ExecutionFinishedError,
  ExecutionNotFoundError,
  InvalidArgumentError,
  InvalidStateError,
  SignalAlreadyConsumedError,
  SignalPayloadError,
  UnknownSignalError,
} from '../../errors.js';
import { readExecutionHead } from '../../store/store.js';
import type { WaitRecord, WaitRef } from '../../store/waits.js';
import type { Runtime } from '../engine/runtime.js';
import { completeSignalled, waitStore } from './waits.js';

/** What `engine.signal` sends, for {@link deliverSignal}. */
export interface SignalDelivery {
  /** The execution. */
  executionId: string;
  /** The signal's name. */
  name: string;
  /** Its payload. */
  payload: unknown;
  /** The workflow the caller typed the call with; the execution must run it. */
  workflowId?: string | undefined;
}

/**
 * `engine.signal(executionId, name, payload)`: checks the signal, then resolves the node's wait
 * (or keeps the signal for a node that has not run yet) and advances the execution. Throws a
 * typed error, before anything is stored, for an unknown or finished execution, a name the
 * workflow has no signal node for, a payload its schema refuses, and a signal already received.
 */
export async function deliverSignal(rt: Runtime, signal: SignalDelivery): Promise<void> {
  const { executionId, name, workflowId } = signal;
  let payload = signal.payload;
  if (typeof executionId !== 'string' || executionId.length === 0) throw new InvalidArgumentError('signal: executionId must be a non-empty string');
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('signal: name must be a non-empty string');
  const problem = jsonProblem(payload, 'payload', { strict: true });
  if (problem !== undefined) throw new InvalidArgumentError(`signal '${name}': the payload cannot be stored as JSON: ${problem.message}`);
  const head = await readExecutionHead(rt.store, executionId, []);
  if (head === null) throw new ExecutionNotFoundError(executionId);
  if (workflowId !== undefined && head.workflowId !== workflowId)
    throw new InvalidArgumentError(`signal: execution '${executionId}' runs workflow '${head.workflowId}', not '${workflowId}'`);
  if (TERMINAL_STATUSES.includes(head.status)) throw new ExecutionFinishedError(executionId, head.status as 'completed' | 'failed' | 'cancelled', `signal '${name}'`);
  const graph = await rt.workflows.get(head.workflowId, head.workflowVersion);
  const nodes = signalNodes(graph.nodes.values());
  const node = nodes.get(name);
  if (node === undefined) throw new UnknownSignalError(executionId, head.workflowId, name, [...nodes.keys()]);
  const { schema } = signalConfigOf(node);
  if (schema !== undefined) {
    const checked = payloadValidator(schema)?.(payload);
    if (checked !== undefined && checked.issues.length > 0) throw new SignalPayloadError(executionId, name, checked.issues);
    if (checked !== undefined) payload = checked.value; // with the schema's defaults
  }
  const store = waitStore(rt.store);
  // A signal node on a branch that was not taken never runs: nothing would consume the signal.
  const own = await readExecutionHead(rt.store, executionId, [node.id]);
  if (own !== null && resultOf(own.nodeResults, node.id)?.status === 'skipped')
    throw new InvalidStateError(`Signal '${name}' of execution '${executionId}' is refused: its node '${node.id}' was skipped (its branch was not taken)`);
  const ref: WaitRef = { executionId, kind: 'signal', key: name };
  const { created, wait } = await store.createWait({ ...ref, state: 'delivered', ...(payload !== undefined && { payload }) });
  if (created) return; // the node has not run yet: it takes the signal when it does
  let current: WaitRecord | null = wait;
  if (wait.state === 'waiting') {
    const taken = await store.updateWait(ref, ['waiting'], { state: 'resolved', resolution: 'signal', ...(payload !== undefined && { payload }) });
    if (taken !== null) return completeSignalled(rt, { graph, node, executionId, wait: taken });
    current = await store.getWait(ref);
  }
  throw new SignalAlreadyConsumedError(executionId, name, current?.resolution === 'timeout' ? 'timeout' : 'signal');
}
