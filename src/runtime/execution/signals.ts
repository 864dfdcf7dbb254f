/**
 * Signal nodes (`{ type: 'signal', config: { name, timeout?, onTimeout?, schema? } }`): a node
 * that waits for `engine.signal(executionId, name, payload)` and outputs the payload.
 *
 * The wait lives in the store (a wait record of kind `signal`, keyed by the name; see
 * store/waits.ts), never in a worker: the node's job records that it waits, schedules the
 * timeout as a delayed job and completes. Whoever moves the wait on does it with a
 * compare-and-set on its state, so a wait resolves exactly once:
 *
 * - `engine.signal` on a `waiting` wait: `waiting → resolved` (by the signal), then it writes the
 *   node's result and advances the execution itself.
 * - `engine.signal` before the node ran: it creates the wait as `delivered`; the node's job
 *   takes it (`delivered → resolved`) and completes with the payload.
 * - the timeout job: `waiting → resolved` (by the timeout); the node fails (`onTimeout: 'fail'`)
 *   or completes with `onTimeout.value`, on the timeout job, through the usual failure path.
 *
 * A later resolution is refused (SignalAlreadyConsumedError) or, for the timeout job, dropped.
 *
 * @module
 */
import type { Job } from 'bullmq';
import { resultOf } from '../../definition/graph.js';
import type { WorkflowGraph } from '../../definition/graph.js';
import { jsonProblem } from '../../definition/json-check.js';
import { BUILTIN_NODE_KINDS } from '../../definition/node-kinds.js';
import { payloadValidator, signalConfigOf, signalNodes } from '../../definition/signal.js';
import type { NodeDefinition, NodeResult, WorkflowExecution } from '../../definition/types.js';
import { TERMINAL_STATUSES } from '../../definition/types.js';
import {
  ExecutionFinishedError,
  ExecutionNotFoundError,
  InvalidArgumentError,
  InvalidStateError,
  NotSupportedError,
  SignalAlreadyConsumedError,
  SignalPayloadError,
  SignalTimeoutError,
  UnknownSignalError,
} from '../../errors.js';
import type { SpaneError } from '../../errors.js';
import { readExecutionHead } from '../../store/store.js';
import type { ExecutionStore } from '../../store/store.js';
import type { WaitRecord, WaitRef } from '../../store/waits.js';
import { NODE_JOB, waitTimeoutJobId } from '../queues/jobs.js';
import type { NodeJobData } from '../queues/jobs.js';
import type { Runtime } from '../engine/runtime.js';
import { advance, target } from './advance.js';
import { saveNodeResultChecked } from './payloads.js';

/** What one run of a signal node's job comes to. */
export type SignalStep =
  | { kind: 'success'; data: unknown }
  | { kind: 'failure'; error: SpaneError }
  /** The node waits (`waiting`), or a timeout job found the wait already resolved (`not-run`). */
  | { kind: 'suspended'; status: 'waiting' | 'not-run'; reason?: string };

/** The store's wait methods, all present. */
export type WaitStore = Required<Pick<ExecutionStore, 'createWait' | 'getWait' | 'updateWait'>>;

/** The store's wait methods, or a NotSupportedError when it lacks them. */
export function waitStore(store: ExecutionStore): WaitStore {
  if (typeof store.createWait !== 'function' || typeof store.getWait !== 'function' || typeof store.updateWait !== 'function') {
    throw new NotSupportedError('signal and event nodes need a store with waits (createWait, getWait, updateWait); InMemoryExecutionStore and DrizzleStore have them');
  }
  return store as WaitStore;
}

function refOf(executionId: string, name: string): WaitRef {
  return { executionId, kind: 'signal', key: name };
}

/** What a resolved wait makes of its node: the payload, the timeout's value, or the timeout's failure. */
function fromResolved(node: NodeDefinition, wait: WaitRecord): SignalStep {
  const config = signalConfigOf(node);
  if (wait.resolution !== 'timeout') return { kind: 'success', data: wait.payload };
  if (config.onTimeout === 'fail') return { kind: 'failure', error: new SignalTimeoutError(node.id, config.name, config.timeoutMs ?? 0) };
  return { kind: 'success', data: config.onTimeout.value };
}

/** A signal node's job, as {@link stepSignal} and {@link fireTimeout} take it. */
export interface SignalRun {
  /** The signal node. */
  node: NodeDefinition;
  /** Its execution. */
  exec: WorkflowExecution;
  /** The job (the node's own, or its timeout job). */
  job: Job<NodeJobData>;
}

/**
 * The node's own job: consumes a signal that came first, or records that the node waits (and
 * schedules its timeout). A wait its timeout resolved (the node is run again: a DLQ retry) starts
 * over as a new wait.
 */
export async function stepSignal(rt: Runtime, run: SignalRun): Promise<SignalStep> {
  const { node, exec } = run;
  const store = waitStore(rt.store);
  const { name } = signalConfigOf(node);
  const ref = refOf(exec.executionId, name);
  for (let round = 0; round < 3; round++) {
    const { created, wait } = await store.createWait({ ...ref, state: 'waiting', nodeId: node.id });
    if (created || wait.state === 'waiting') return suspend(rt, run, wait);
    if (wait.state === 'delivered') {
      const taken = await store.updateWait(ref, ['delivered'], { state: 'resolved', nodeId: node.id, resolution: 'signal' });
      if (taken !== null) return fromResolved(node, taken);
      continue; // moved on meanwhile: look again
    }
    if (wait.resolution === 'timeout') {
      // Run again after its timeout settled it (a DLQ retry): wait afresh, with a new timeout.
      const again = await store.updateWait(ref, ['resolved'], { state: 'waiting', nodeId: node.id });
      if (again === null) continue;
      await (await rt.queues.nodeQueue.getJob(waitTimeoutJobId(exec.executionId, node.id)))?.remove().catch(() => undefined);
      return suspend(rt, run, again);
    }
    // Resolved by a signal whose sender is writing the result (or died doing so): finish it here.
    return fromResolved(node, wait);
  }
  throw new Error(`the wait of signal '${name}' of execution '${exec.executionId}' kept changing under node '${node.id}'`);
}

/** Records that the node waits: schedules its timeout (an idempotent job id) and announces it. */
async function suspend(rt: Runtime, run: SignalRun, wait: WaitRecord): Promise<SignalStep> {
  const { node, exec, job } = run;
  const { name, timeoutMs } = signalConfigOf(node);
  if (timeoutMs !== undefined) {
    const data: NodeJobData = { ...target(exec), nodeId: node.id, waitTimeout: true };
    const delay = Math.max(0, wait.updatedAt + timeoutMs - rt.clock());
    await rt.queues.nodeQueue.add(NODE_JOB, data, { jobId: waitTimeoutJobId(exec.executionId, node.id), delay, attempts: 1 });
  }
  rt.events.publish(
    {
      type: 'node:delayed',
      executionId: exec.executionId,
      workflowId: exec.workflowId,
      nodeId: node.id,
      nodeType: node.type,
      data: { reason: 'signal', signal: name, ...(timeoutMs !== undefined && { timeoutMs }) },
    },
    job,
  );
  return { kind: 'suspended', status: 'waiting' };
}

/**
 * The timeout job: resolves the wait as timed out when it still waits. A wait a signal resolved
 * first is left alone; a wait this job resolved before it died is settled again.
 */
export async function fireTimeout(rt: Runtime, run: SignalRun): Promise<SignalStep> {
  const { node, exec } = run;
  const store = waitStore(rt.store);
  const ref = refOf(exec.executionId, signalConfigOf(node).name);
  const fired = await store.updateWait(ref, ['waiting'], { state: 'resolved', resolution: 'timeout' });
  if (fired !== null) return fromResolved(node, fired);
  const wait = await store.getWait(ref);
  if (wait?.state === 'resolved' && wait.resolution === 'timeout') return fromResolved(node, wait);
  return { kind: 'suspended', status: 'not-run', reason: 'the signal came first' };
}

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
  const ref = refOf(executionId, name);
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

/** A wait a signal (or an event) just resolved, for {@link completeSignalled}. */
export interface Signalled {
  /** The execution's workflow graph. */
  graph: WorkflowGraph;
  /** The node that waited. */
  node: NodeDefinition;
  /** Its execution. */
  executionId: string;
  /** The resolved wait. */
  wait: WaitRecord;
}

/** Writes the signalled (or evented) node's result (the payload) and advances the execution from it. */
export async function completeSignalled(rt: Runtime, done: Signalled): Promise<void> {
  const { graph, node, executionId, wait } = done;
  const completedAt = rt.clock();
  const result: NodeResult = { status: 'completed', data: wait.payload, attempts: 1, startedAt: wait.createdAt, completedAt };
  const stored = await saveNodeResultChecked(rt, { executionId, nodeId: node.id, result });
  await (await rt.queues.nodeQueue.getJob(waitTimeoutJobId(executionId, node.id)))?.remove().catch(() => undefined);
  const exec = await readExecutionHead(rt.store, executionId, [node.id, ...node.outputs]);
  if (exec === null) return;
  rt.events.publish({
    type: 'node:completed',
    executionId,
    workflowId: exec.workflowId,
    nodeId: node.id,
    nodeType: node.type,
    durationMs: completedAt - wait.createdAt,
    data: stored.data,
  });
  await advance(rt, { graph, exec, settled: [node.id] });
}

/**
 * For the reconciler: whether `node` is a signal (or event) node whose job completed (it waited) and whose
 * wait a signal resolved, yet it has no result: the `engine.signal` call died between the two.
 * The completed job is removed then, so that the node gets a job again, which writes the payload.
 */
export async function signalledWithoutResult(rt: Runtime, executionId: string, node: NodeDefinition, job: Job | undefined): Promise<boolean> {
  const waits = node.type === BUILTIN_NODE_KINDS.signal || node.type === BUILTIN_NODE_KINDS.event;
  if (!waits || job === undefined || typeof rt.store.getWait !== 'function') return false;
  if (!(await job.isCompleted())) return false;
  const ref: WaitRef = node.type === BUILTIN_NODE_KINDS.signal ? refOf(executionId, signalConfigOf(node).name) : { executionId, kind: 'event', key: node.config['name'] as string };
  const wait = await rt.store.getWait(ref);
  if (wait?.state !== 'resolved' || wait.resolution !== 'signal') return false;
  await job.remove();
  return true;
}
