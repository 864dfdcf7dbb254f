/**
 * Waiting nodes, what signal nodes (signals.ts) and event nodes (events-wait.ts) share: a node
 * that waits for something sent from outside, with an optional timeout.
 *
 * The wait lives in the store (a wait record keyed by the node kind and the signal's or event's
 * name; see store/waits.ts), never in a worker: the node's job records that it waits, schedules
 * the timeout as a delayed job and completes. Whoever moves the wait on does it with a
 * compare-and-set on its state, so a wait resolves exactly once:
 *
 * - the sender (`engine.signal`, `engine.sendEvent`) on a `waiting` wait: `waiting → resolved`,
 *   then it writes the node's result and advances the execution itself ({@link completeSignalled}).
 * - a signal sent before the node ran: it creates the wait as `delivered`; the node's job takes it
 *   (`delivered → resolved`) and completes with the payload. (Events are never kept this way.)
 * - the timeout job: `waiting → resolved` (by the timeout); the node fails (`onTimeout: 'fail'`)
 *   or completes with `onTimeout.value`, on the timeout job, through the usual failure path.
 *
 * @module
 */
import type { Job } from 'bullmq';
import type { WorkflowGraph } from '../../definition/graph.js';
import { eventConfigOf } from '../../definition/event.js';
import { BUILTIN_NODE_KINDS } from '../../definition/node-kinds.js';
import { signalConfigOf } from '../../definition/signal.js';
import type { SignalTimeoutAction } from '../../definition/signal.js';
import type { NodeDefinition, NodeResult, WorkflowExecution } from '../../definition/types.js';
import { EventTimeoutError, NotSupportedError, SignalTimeoutError } from '../../errors.js';
import type { SpaneError } from '../../errors.js';
import { readExecutionHead } from '../../store/store.js';
import type { ExecutionStore } from '../../store/store.js';
import type { WaitRecord, WaitRef } from '../../store/waits.js';
import { NODE_JOB, waitTimeoutJobId } from '../queues/jobs.js';
import type { NodeJobData } from '../queues/jobs.js';
import type { Runtime } from '../engine/runtime.js';
import { advance, target } from './advance.js';
import { saveNodeResultChecked } from './payloads.js';

/** What one run of a waiting node's job comes to. */
export type SignalStep =
  | { kind: 'success'; data: unknown }
  | { kind: 'failure'; error: SpaneError }
  /** The node waits (`waiting`), or a timeout job found the wait already resolved (`not-run`). */
  | { kind: 'suspended'; status: 'waiting' | 'not-run'; reason?: string };

/** A waiting node's job, as {@link stepWait} and {@link fireWaitTimeout} take it. */
export interface SignalRun {
  /** The signal or event node. */
  node: NodeDefinition;
  /** Its execution. */
  exec: WorkflowExecution;
  /** The job (the node's own, or its timeout job). */
  job: Job<NodeJobData>;
}

/** The store's wait methods, all present. */
export type WaitStore = Required<Pick<ExecutionStore, 'createWait' | 'getWait' | 'updateWait'>>;

/** The store's wait methods, or a NotSupportedError when it lacks them. */
export function waitStore(store: ExecutionStore): WaitStore {
  if (typeof store.createWait !== 'function' || typeof store.getWait !== 'function' || typeof store.updateWait !== 'function') {
    throw new NotSupportedError('signal and event nodes need a store with waits (createWait, getWait, updateWait); InMemoryExecutionStore and DrizzleStore have them');
  }
  return store as WaitStore;
}

/** What the wait machinery reads of a signal or event node's config. */
interface WaitingNode {
  /** The wait's kind: the node's type. */
  kind: 'signal' | 'event';
  /** The signal's or the event's name: the wait's key. */
  name: string;
  timeoutMs: number | undefined;
  onTimeout: SignalTimeoutAction;
}

/** The waiting side of a signal or event node's config; undefined for any other node. */
function waitingNodeOf(node: NodeDefinition): WaitingNode | undefined {
  if (node.type === BUILTIN_NODE_KINDS.signal) return { kind: 'signal', ...signalConfigOf(node) };
  if (node.type === BUILTIN_NODE_KINDS.event) return { kind: 'event', ...eventConfigOf(node) };
  return undefined;
}

function waitingNode(node: NodeDefinition): WaitingNode {
  const waiting = waitingNodeOf(node);
  if (waiting === undefined) throw new Error(`node '${node.id}' of type '${node.type}' does not wait`);
  return waiting;
}

function refOf(executionId: string, waiting: WaitingNode): WaitRef {
  return { executionId, kind: waiting.kind, key: waiting.name };
}

/** What a resolved wait makes of its node: the payload, the timeout's value, or the timeout's failure. */
function fromResolved(node: NodeDefinition, waiting: WaitingNode, wait: WaitRecord): SignalStep {
  if (wait.resolution !== 'timeout') return { kind: 'success', data: wait.payload };
  if (waiting.onTimeout === 'fail') {
    const timeoutMs = waiting.timeoutMs ?? 0;
    const error = waiting.kind === 'signal' ? new SignalTimeoutError(node.id, waiting.name, timeoutMs) : new EventTimeoutError(node.id, waiting.name, timeoutMs);
    return { kind: 'failure', error };
  }
  return { kind: 'success', data: waiting.onTimeout.value };
}

/**
 * The node's own job: consumes a signal that came first, or records that the node waits (with
 * `matchValue`, the stored match value of an event node) and schedules its timeout. A wait its
 * timeout resolved (the node is run again: a DLQ retry) starts over as a new wait; a wait the
 * sender resolved (it died before writing the result) completes with the payload.
 */
export async function stepWait(rt: Runtime, run: SignalRun, matchValue?: string): Promise<SignalStep> {
  const { node, exec } = run;
  const store = waitStore(rt.store);
  const waiting = waitingNode(node);
  const ref = refOf(exec.executionId, waiting);
  for (let round = 0; round < 3; round++) {
    const { created, wait } = await store.createWait({ ...ref, state: 'waiting', nodeId: node.id, ...(matchValue !== undefined && { matchValue }) });
    if (created || wait.state === 'waiting') return suspend(rt, run, waiting, wait);
    if (wait.state === 'delivered') {
      // Only a signal is delivered ahead of its node.
      const taken = await store.updateWait(ref, ['delivered'], { state: 'resolved', nodeId: node.id, resolution: 'signal' });
      if (taken !== null) return fromResolved(node, waiting, taken);
      continue; // moved on meanwhile: look again
    }
    if (wait.resolution === 'timeout') {
      // Run again after its timeout settled it (a DLQ retry): wait afresh, with a new timeout.
      const again = await store.updateWait(ref, ['resolved'], { state: 'waiting', nodeId: node.id });
      if (again === null) continue;
      await (await rt.queues.nodeQueue.getJob(waitTimeoutJobId(exec.executionId, node.id)))?.remove().catch(() => undefined);
      return suspend(rt, run, waiting, again);
    }
    // Resolved by a sender that is writing the result (or died doing so): finish it here.
    return fromResolved(node, waiting, wait);
  }
  throw new Error(`the wait of ${waiting.kind} '${waiting.name}' of execution '${exec.executionId}' kept changing under node '${node.id}'`);
}

/** Records that the node waits: schedules its timeout (an idempotent job id) and announces it. */
async function suspend(rt: Runtime, run: SignalRun, waiting: WaitingNode, wait: WaitRecord): Promise<SignalStep> {
  const { node, exec, job } = run;
  const { kind, name, timeoutMs } = waiting;
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
      data: { reason: kind, [kind]: name, ...(timeoutMs !== undefined && { timeoutMs }) },
    },
    job,
  );
  return { kind: 'suspended', status: 'waiting' };
}

/**
 * The timeout job: resolves the wait as timed out when it still waits. A wait the sender resolved
 * first is left alone; a wait this job resolved before it died is settled again.
 */
export async function fireWaitTimeout(rt: Runtime, run: SignalRun): Promise<SignalStep> {
  const { node, exec } = run;
  const store = waitStore(rt.store);
  const waiting = waitingNode(node);
  const ref = refOf(exec.executionId, waiting);
  const fired = await store.updateWait(ref, ['waiting'], { state: 'resolved', resolution: 'timeout' });
  if (fired !== null) return fromResolved(node, waiting, fired);
  const wait = await store.getWait(ref);
  if (wait?.state === 'resolved' && wait.resolution === 'timeout') return fromResolved(node, waiting, wait);
  return { kind: 'suspended', status: 'not-run', reason: `the ${waiting.kind} came first` };
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
  const waiting = waitingNodeOf(node);
  if (waiting === undefined || job === undefined || typeof rt.store.getWait !== 'function') return false;
  if (!(await job.isCompleted())) return false;
  const wait = await rt.store.getWait(refOf(executionId, waiting));
  if (wait?.state !== 'resolved' || wait.resolution !== 'signal') return false;
  await job.remove();
  return true;
}
