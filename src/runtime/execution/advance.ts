import type { Job } from 'bullmq';
import { DelayedError } from 'bullmq';
import { readiness, resultOf } from '../../definition/graph.js';
import { setOwn } from '../../definition/own.js';
import { readExecutionHead } from '../../store/store.js';
import type { ExecutionHead } from '../../store/store.js';
import type { WorkflowGraph } from '../../definition/graph.js';
import type { NodeDefinition, NodeResult, WorkflowExecution } from '../../definition/types.js';
import type { SerializedError } from '../../errors.js';
import { serializeError } from '../../errors.js';
import { delayMs } from '../../definition/validate.js';
import { BUILTIN_NODE_KINDS } from '../../definition/node-kinds.js';
import { dlqJobId, nodeJobId, waitTimeoutJobId } from '../queues/jobs.js';
import type { NodeJobData } from '../queues/jobs.js';
import type { Runtime } from '../engine/runtime.js';
import { continuesOnFail } from '../resilience/retry.js';
import { notifyParent } from './sub-workflows.js';
import { saveNodeResultChecked } from './payloads.js';
import { inLiveChain } from './eager.js';

/** How far in the future a parked job sleeps; resume or DLQ retry wakes it long before. */
const PARK_MS = 365 * 24 * 3600 * 1000;

/** What {@link advance} moves forward from. */
export interface AdvanceStep {
  /** The execution's workflow graph. */
  graph: WorkflowGraph;
  /** The execution as last read; re-read from the store whenever it may be stale. */
  exec: WorkflowExecution;
  /** Ids of the nodes whose results were just written. */
  settled: readonly string[];
  /** The job that settled them, which events are attributed to. @defaultValue none */
  job?: Job | undefined;
  /**
   * When the settled node's status was read from the store (epoch ms), given only by the run that
   * has just written its result; enables the handoff to single-parent children. @defaultValue none
   */
  handoffReadAt?: number | undefined;
  /**
   * Picks, from the children the first round finds ready, one to keep out of the queue because
   * the caller runs it at once (an eager chain, see eager.ts). @defaultValue none: all are enqueued
   */
  claim?: ((ready: readonly NodeDefinition[]) => NodeDefinition | undefined) | undefined;
}

/** What {@link advance} did that its caller goes on from. */
export interface AdvanceOutcome {
  /** The child `claim` picked: not enqueued, the caller must run it (or enqueue it). */
  claimed?: NodeDefinition;
}

/**
 * Moves an execution forward after `settled` nodes got their results (already written):
 * enqueues every child that became ready, records children whose incoming edges are all
 * inactive as `skipped` (transitively), and completes the execution once every node is settled.
 *
 * Idempotent and safe to run concurrently: jobs have deterministic ids, skips are upserts and
 * completion is a compare-and-set. Every writer re-reads the store after writing, so of two
 * parents finishing together at least one sees both results and enqueues their join.
 *
 * `handoffReadAt` is given only by a node's run that has just written its result (not by a
 * redelivery that found it written): when its
 * status came from the store (epoch ms). The view is then offered to the children that have
 * this node as their only parent (see handoff.ts).
 */
export async function advance(rt: Runtime, step: AdvanceStep): Promise<AdvanceOutcome> {
  const { graph, exec: snapshot, settled, job, handoffReadAt } = step;
  const outcome: AdvanceOutcome = {};
  let claim = step.claim;
  let exec: WorkflowExecution = snapshot;
  /** The last head read here, when no write of this advance came after it. */
  let head: ExecutionHead | undefined;
  let frontier = settled;
  let fresh = !needsFreshRead(graph, settled);
  let readAt = handoffReadAt;
  for (;;) {
    if (!fresh) {
      if (readAt !== undefined) readAt = Date.now();
      const read = await readExecutionHead(rt.store, snapshot.executionId, frontierIds(graph, frontier));
      if (read === null) return outcome;
      exec = head = read;
    }
    if (exec.status === 'cancelled' || exec.status === 'completed') return outcome;
    const results = exec.nodeResults;
    const run: NodeDefinition[] = [];
    const skip: NodeDefinition[] = [];
    const seen = new Set<string>();
    for (const parentId of frontier) {
      for (const childId of graph.nodes.get(parentId)?.outputs ?? []) {
        if (seen.has(childId) || resultOf(results, childId) !== undefined) continue;
        seen.add(childId);
        const child = graph.nodes.get(childId)!;
        const r = readiness(child, results);
        if (r === 'run') run.push(child);
        else if (r === 'skip') skip.push(child);
      }
    }
    // Before enqueueing: this process's worker may pick a child up at once.
    if (readAt !== undefined && rt.handoff.enabled) offerToOnlyChildren(rt, { exec, readAt, run });
    // After the offer: a claimed child takes the view too (the chain runs it in this process).
    const claimed = claim?.(run);
    claim = undefined;
    if (claimed !== undefined) {
      outcome.claimed = claimed;
      run.splice(run.indexOf(claimed), 1);
    }
    await rt.queues.enqueueNodes(target(exec), run);
    publishDelays(rt, { exec, queued: run, job });
    if (skip.length === 0) {
      // A child just enqueued has no result yet: the execution cannot be complete, and the
      // child's own advance decides that when it settles (a claimed one too).
      if (run.length > 0 || outcome.claimed !== undefined) return outcome;
      break;
    }
    const now = Date.now();
    const skipped: NodeResult = { status: 'skipped', attempts: 0, completedAt: now };
    await Promise.all(skip.map((n) => rt.store.saveNodeResult(exec.executionId, n.id, skipped)));
    for (const n of skip) rt.events.publish({ type: 'node:skipped', executionId: exec.executionId, workflowId: exec.workflowId, nodeId: n.id, nodeType: n.type }, job);
    frontier = skip.map((n) => n.id);
    fresh = false;
    head = undefined;
  }
  await completeIfSettled(rt, { graph, exec, head, job });
  return outcome;
}

/**
 * The node ids an advance from `frontier` reads: the frontier's children and every parent of
 * those (the frontier included), which is all that readiness looks at.
 */
function frontierIds(graph: WorkflowGraph, frontier: readonly string[]): string[] {
  const ids = new Set<string>(frontier);
  for (const parentId of frontier) {
    for (const childId of graph.nodes.get(parentId)?.outputs ?? []) {
      ids.add(childId);
      for (const p of graph.nodes.get(childId)?.inputs ?? []) ids.add(p);
    }
  }
  return [...ids];
}

/** A view to hand to children, for {@link offerToOnlyChildren}. */
interface Offer {
  /** The execution as read, with the parent's result in it. */
  exec: WorkflowExecution;
  /** When the read behind `exec.status` was sent. */
  readAt: number;
  /** The children about to be enqueued. */
  run: readonly NodeDefinition[];
}

/**
 * Hands the children that have a single parent a view holding only that parent's result (all
 * such a child reads), so the view costs the same whatever the workflow's size.
 */
function offerToOnlyChildren(rt: Runtime, offer: Offer): void {
  const { exec, readAt, run } = offer;
  const byParent = new Map<string, string[]>();
  for (const c of run) {
    if (c.inputs.length !== 1) continue;
    const parentId = c.inputs[0]!;
    byParent.set(parentId, [...(byParent.get(parentId) ?? []), c.id]);
  }
  const { nodeResults, settledCount: _count, ...fields } = exec as ExecutionHead;
  for (const [parentId, childIds] of byParent) {
    const result = resultOf(nodeResults, parentId);
    if (result === undefined) continue;
    const only: Record<string, NodeResult> = {};
    setOwn(only, parentId, result);
    rt.handoff.offer({ ...fields, nodeResults: only }, readAt, childIds);
  }
}

/** An execution that may have settled its last node, for {@link completeIfSettled}. */
export interface CompletionCheck {
  /** The execution's workflow graph. */
  graph: WorkflowGraph;
  /** The execution. */
  exec: WorkflowExecution;
  /** A head read after the last result this caller wrote; read here when absent. @defaultValue none */
  head?: ExecutionHead | undefined;
  /** The job the `workflow:completed` event is attributed to. @defaultValue none */
  job?: Job | undefined;
}

/**
 * Completes the execution when every node of its workflow has a result, by the store's count of
 * them (`settledCount`), without reading the results. The transition is a compare-and-set, so
 * of several callers that see the last result exactly one completes it and announces the end.
 */
export async function completeIfSettled(rt: Runtime, check: CompletionCheck): Promise<void> {
  const { graph, exec, job } = check;
  const head = check.head ?? (await readExecutionHead(rt.store, exec.executionId, []));
  if (head === null || head.settledCount !== graph.nodes.size) return;
  if (head.status === 'cancelled' || head.status === 'completed') return;
  if (await hasBlockingFailure(rt, graph, exec.executionId)) return;
  if (await rt.store.transitionExecution(exec.executionId, ['running', 'paused', 'pending'], 'completed')) {
    await announceEnd(rt, { exec, event: { type: 'workflow:completed' }, job });
  }
}

/**
 * Whether a settled node failed for good without `continueOnFail`. Its job records the result
 * before it fails the execution, so a sibling settling last in between must leave the execution
 * to that job (or to its retry after a crash) instead of completing it. Read once per
 * execution, when every node has settled.
 */
async function hasBlockingFailure(rt: Runtime, graph: WorkflowGraph, executionId: string): Promise<boolean> {
  const all = await rt.store.getExecution(executionId);
  if (all === null) return false;
  return Object.entries(all.nodeResults).some(([nodeId, r]) => {
    if (r.status !== 'failed') return false;
    const node = graph.nodes.get(nodeId);
    return node !== undefined && !continuesOnFail(node);
  });
}

/** An execution that reached a terminal status, for {@link announceEnd}. */
export interface EndAnnouncement {
  /** The execution that ended. */
  exec: WorkflowExecution;
  /** The workflow event to publish (the execution's ids are added). */
  event: { type: 'workflow:completed' | 'workflow:failed' | 'workflow:cancelled'; nodeId?: string; error?: string; errorDetails?: SerializedError };
  /** The job the event is attributed to. @defaultValue none */
  job?: Job | undefined;
}

/**
 * What follows an execution reaching a terminal status, whoever moved it there: waiters in this
 * process wake, the workflow event goes out, and a sub-workflow parent waiting on it is woken.
 */
export async function announceEnd(rt: Runtime, end: EndAnnouncement): Promise<void> {
  const { exec, event, job } = end;
  rt.settled.notify(exec.executionId);
  rt.tracing.current?.executionSettled(exec, event.type.slice('workflow:'.length), event.errorDetails);
  rt.events.publish({ ...event, executionId: exec.executionId, workflowId: exec.workflowId }, job);
  await notifyParent(rt, exec);
}

/** A node's final failure, for {@link settleFailure}. */
export interface SettleFailureStep {
  /** The execution's workflow graph. */
  graph: WorkflowGraph;
  /** The execution; its `nodeResults` get the stored result. */
  exec: WorkflowExecution;
  /** The node that failed for good. */
  node: NodeDefinition;
  /** The failed result to store. */
  result: NodeResult & { status: 'failed' };
  /** The node's job. */
  job: Job;
  /** What the `node:failed` event and the DLQ item carry besides the result. @defaultValue `{}` */
  details?: { attempt?: number; durationMs?: number; stack?: string | undefined };
}

/**
 * Records a node's final failure (its last attempt failed, or its workers kept dying): the failed
 * result and `node:failed`, then either the children run (`continueOnFail`) or the execution
 * fails into the DLQ. Returns which of the two happened.
 */
export async function settleFailure(rt: Runtime, step: SettleFailureStep): Promise<'continued' | 'failed'> {
  const { graph, exec, node, result, job, details = {} } = step;
  exec.nodeResults[node.id] = await saveNodeResultChecked(rt, { executionId: exec.executionId, nodeId: node.id, result });
  const continued = continuesOnFail(node);
  rt.events.publish(
    {
      type: 'node:failed',
      executionId: exec.executionId,
      workflowId: exec.workflowId,
      nodeId: node.id,
      nodeType: node.type,
      ...(details.attempt !== undefined && { attempt: details.attempt }),
      ...(details.durationMs !== undefined && { durationMs: details.durationMs }),
      ...(result.error !== undefined && { error: result.error }),
      ...(result.errorDetails !== undefined && { errorDetails: result.errorDetails }),
      data: { continued },
    },
    job,
  );
  if (continued) {
    await advance(rt, { graph, exec, settled: [node.id], job });
    return 'continued';
  }
  await failExecution(rt, { exec, node, result, stack: details.stack, job });
  return 'failed';
}

/** Nodes just queued, for {@link publishDelays}. */
export interface QueuedNodes {
  /** The execution they belong to. */
  exec: { executionId: string; workflowId: string };
  /** The nodes just queued; only the delay nodes among them are announced. */
  queued: readonly NodeDefinition[];
  /** The job the events are attributed to. @defaultValue none */
  job?: Job | undefined;
}

/** Announces the delay nodes just queued, with how long they wait. */
export function publishDelays(rt: Runtime, nodes: QueuedNodes): void {
  const { exec, queued, job } = nodes;
  for (const n of queued) {
    if (n.type !== BUILTIN_NODE_KINDS.delay) continue;
    rt.events.publish(
      { type: 'node:delayed', executionId: exec.executionId, workflowId: exec.workflowId, nodeId: n.id, nodeType: n.type, data: { delayMs: delayMs(n.config) } },
      job,
    );
  }
}

/**
 * A snapshot taken before the node ran is enough only when every child has that node as its
 * single parent (readiness depends on this node alone) and some child will run (so this node
 * cannot be the one that completes the execution).
 */
function needsFreshRead(graph: WorkflowGraph, settled: readonly string[]): boolean {
  if (settled.length !== 1) return true;
  const node = graph.nodes.get(settled[0]!);
  if (node === undefined || node.outputs.length === 0) return true;
  return node.outputs.some((c) => (graph.nodes.get(c)?.inputs.length ?? 0) > 1);
}

/** The queue target of an execution's node jobs. */
export function target(exec: WorkflowExecution): { executionId: string; workflowId: string; workflowVersion: number; traceparent?: string } {
  const t = { executionId: exec.executionId, workflowId: exec.workflowId, workflowVersion: exec.workflowVersion };
  return exec.traceParent === undefined ? t : { ...t, traceparent: exec.traceParent };
}

/** A node's failure that fails its execution, for {@link failExecution}. */
export interface FailExecutionStep {
  /** The execution to fail. */
  exec: WorkflowExecution;
  /** The node that failed for good. */
  node: NodeDefinition;
  /** The node's failed result (its error becomes the execution's). */
  result: NodeResult;
  /** The error's stack, kept in the DLQ item. @defaultValue none */
  stack?: string | undefined;
  /** The job the `workflow:failed` event is attributed to. @defaultValue none */
  job?: Job | undefined;
}

/**
 * Fails the execution because `node` failed for good: records a DLQ item (one per execution
 * and node) and moves the execution to `failed`. Idempotent, so a job retried after a crash
 * in here simply finishes the job.
 */
export async function failExecution(rt: Runtime, step: FailExecutionStep): Promise<void> {
  const { exec, node, result, stack, job } = step;
  await rt.queues.addToDLQ(dlqJobId(exec.executionId, node.id), {
    executionId: exec.executionId,
    workflowId: exec.workflowId,
    workflowVersion: exec.workflowVersion,
    nodeId: node.id,
    nodeType: node.type,
    error: result.error ?? 'unknown error',
    ...(result.errorDetails !== undefined && { errorDetails: result.errorDetails }),
    stack,
    attempts: result.attempts,
    failedAt: result.completedAt,
  });
  // The execution keeps the failed node's error as its own: its code tells why the execution failed.
  const errorDetails = result.errorDetails;
  const failed = await rt.store.transitionExecution(exec.executionId, ['running', 'paused', 'pending'], 'failed', {
    error: `Node '${node.id}' failed: ${result.error ?? 'unknown error'}`,
    ...(errorDetails !== undefined && { errorDetails }),
  });
  rt.handoff.drop(exec.executionId);
  if (failed) {
    await announceEnd(rt, {
      exec,
      event: { type: 'workflow:failed', nodeId: node.id, error: result.error ?? 'unknown error', ...(errorDetails !== undefined && { errorDetails }) },
      job,
    });
  }
  // Another delivery made the transition and died before waking the parent.
  else if (exec.status === 'failed') await notifyParent(rt, exec);
}

/** A job to park, for {@link parkJob}. */
export interface ParkedJob {
  /** The node job to park. */
  job: Job<NodeJobData>;
  /** The worker's lock token for the job. */
  token: string | undefined;
  /** The job's execution, paused or failed. */
  exec: WorkflowExecution;
}

/**
 * Parks a job whose execution is paused or failed: the job goes back to the delayed set under
 * its own id, remembering how much of a delay node's wait was left. Always throws
 * {@link DelayedError}, which tells the worker the job was moved, not finished.
 */
export async function parkJob(rt: Runtime, parked: ParkedJob): Promise<never> {
  const { job, token, exec } = parked;
  const now = Date.now();
  const until = job.data.delayUntil;
  const remainingMs = until === undefined ? 0 : Math.max(0, until - (exec.pausedAt ?? now));
  await job.updateData({ ...job.data, parked: { remainingMs } });
  await job.moveToDelayed(now + PARK_MS, token);
  // A resume that ran between our status read and the park would not have seen this job.
  const latest = await readExecutionHead(rt.store, exec.executionId, []);
  if (latest !== null && latest.status !== 'paused' && latest.status !== 'failed') await unparkJob(job);
  throw new DelayedError();
}

/** Wakes a parked job: a delay node gets back the wait it had left, any other job runs now. */
export async function unparkJob(job: Job<NodeJobData>): Promise<void> {
  const { parked, ...data } = job.data;
  if (parked === undefined) return;
  if (parked.remainingMs > 0) data.delayUntil = Date.now() + parked.remainingMs;
  else delete data.delayUntil;
  try {
    await job.updateData(data);
    if (parked.remainingMs > 0) await job.changeDelay(parked.remainingMs);
    else await job.promote();
  } catch (err) {
    // Another waker got there first and the job is no longer delayed. When Redis cannot say,
    // the first error stands: returning would leave the job parked for PARK_MS.
    if (!(await job.isDelayed().catch(() => true))) return;
    throw err;
  }
}

/**
 * A signal node without a result, on wake: its parked timeout job is woken, and a job of its own
 * that completed (the node waits in the store, or a DLQ retry runs it again) is removed, so that
 * the node runs again and looks at its wait (see signals.ts). Returns the node's job that is left.
 */
async function wakeSignalNode(rt: Runtime, exec: WorkflowExecution, node: NodeDefinition, job: Job<NodeJobData> | undefined): Promise<Job<NodeJobData> | undefined> {
  const timeout = (await rt.queues.nodeQueue.getJob(waitTimeoutJobId(exec.executionId, node.id))) as Job<NodeJobData> | undefined;
  if (timeout?.data.parked !== undefined) await unparkJob(timeout);
  if (job === undefined || !(await job.isCompleted())) return job;
  await job.remove();
  return undefined;
}

/** An execution to wake, for {@link wakeExecution}. */
export interface WakeStep {
  /** The execution's workflow graph. */
  graph: WorkflowGraph;
  /** The execution to wake. */
  exec: WorkflowExecution;
  /** How long it was paused (ms); still-sleeping delay nodes wait that much longer. */
  pausedForMs: number;
}

/**
 * A sleeping delay node's job could not be pushed back by the paused time. When the job is no
 * longer delayed its wait ended meanwhile (the timer won the race) and it runs now, which is
 * fine. Otherwise it is logged, not thrown: the job still runs, only as early as it would have
 * without the pause, while a throw would abort the rest of the wake and leave the execution's
 * other parked jobs asleep.
 */
async function delayNotShifted(rt: Runtime, job: Job<NodeJobData>, err: unknown): Promise<void> {
  // When Redis cannot say either, the failure is logged like any other.
  if (!(await job.isDelayed().catch(() => true))) return;
  const { executionId, nodeId } = job.data;
  rt.logger.warn(`could not push back the delay of node '${nodeId}' of execution ${executionId} by its paused time; it ends at its old time`, {
    executionId,
    nodeId,
    error: serializeError(err).message,
  });
}

/**
 * Wakes every parked job of an execution, shifts the still-sleeping delay nodes by the time the
 * execution was paused, and enqueues ready nodes that have no job (repair after a crash). Cost is
 * proportional to the execution's nodes, not to the queue.
 */
export async function wakeExecution(rt: Runtime, step: WakeStep): Promise<void> {
  const { graph, exec, pausedForMs } = step;
  const pending = [...graph.nodes.values()].filter((n) => resultOf(exec.nodeResults, n.id) === undefined);
  const missing: NodeDefinition[] = [];
  await Promise.all(
    pending.map(async (node) => {
      let job = (await rt.queues.nodeQueue.getJob(nodeJobId(exec.executionId, node.id))) as Job<NodeJobData> | undefined;
      if (node.type === BUILTIN_NODE_KINDS.signal || node.type === BUILTIN_NODE_KINDS.event) job = await wakeSignalNode(rt, exec, node, job);
      if (job !== undefined && (await job.isFailed())) {
        // Failed with its flow parent or before a crash: it has no result, so run it afresh.
        await job.remove();
      } else if (job !== undefined) {
        if (job.data.parked !== undefined) return unparkJob(job);
        const until = job.data.delayUntil;
        if (until !== undefined && pausedForMs > 0 && (await job.isDelayed())) {
          const shifted = until + pausedForMs;
          await job.updateData({ ...job.data, delayUntil: shifted });
          await job.changeDelay(Math.max(0, shifted - Date.now())).catch((err: unknown) => delayNotShifted(rt, job, err));
        }
        return;
      }
      // A node running in a chain has no job of its own; the chain's job runs it.
      if (readiness(node, exec.nodeResults) === 'run' && !(await inLiveChain(rt, graph, exec.executionId, node))) missing.push(node);
    }),
  );
  await rt.queues.enqueueNodes(target(exec), missing);
  // Finish any advance a crash cut short: ready children, skips below untaken branches, and the
  // completion of an execution whose nodes have all settled.
  const settled = [...graph.nodes.keys()].filter((id) => resultOf(exec.nodeResults, id) !== undefined);
  if (settled.length > 0) await advance(rt, { graph, exec, settled });
}
