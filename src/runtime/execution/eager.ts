/**
 * Eager chains (engine option `eagerChains`, `eager` on workflows and nodes): a node whose single
 * ready child can run in the same worker runs that child in its own BullMQ job, right after
 * itself, instead of enqueueing it. Each node's result is still written to the store when it
 * settles, so a chain is as durable as separate jobs; only the queue round trip is saved.
 *
 * What this file decides: whether a child may join the chain ({@link eagerChild}), where a
 * redelivered chain job goes on from ({@link chainFrontier}), whether a node without a job is in
 * a live chain ({@link inLiveChain}, for the reconciler and resume), and keeping the chain job's
 * lock ({@link keepLock}). The node processor runs the chained nodes.
 *
 * @module
 */
import type { Job } from 'bullmq';
import type { WorkflowGraph } from '../../definition/graph.js';
import { resultOf } from '../../definition/graph.js';
import { isBuiltinNodeKind } from '../../definition/node-kinds.js';
import type { NodeDefinition, NodeResult, WorkflowExecution } from '../../definition/types.js';
import { serializeError } from '../../errors.js';
import type { ResolvedEngineConfig } from '../engine/config.js';
import type { Runtime } from '../engine/runtime.js';
import { nodeJobId } from '../queues/jobs.js';
import type { NodeJobData } from '../queues/jobs.js';
import { continuesOnFail, jobRetryOptions } from '../resilience/retry.js';

/** The chain length `eagerChains` allows when it gives none. */
export const DEFAULT_EAGER_CHAIN_LENGTH = 32;

/**
 * How eager chains apply under a config: `undefined` when they cannot (worker threads, the
 * native rate limiter), otherwise whether nodes chain by default (a workflow or node `eager`
 * overrides it) and the longest chain (nodes run in one job, the first included).
 */
export function eagerChainSettings(config: ResolvedEngineConfig): { byDefault: boolean; maxLength: number } | undefined {
  if (config.useWorkerThreads || config.useNativeRateLimiting) return undefined;
  const eager = config.eagerChains;
  const maxLength = typeof eager === 'object' ? (eager.maxLength ?? DEFAULT_EAGER_CHAIN_LENGTH) : DEFAULT_EAGER_CHAIN_LENGTH;
  return { byDefault: eager !== false, maxLength };
}

/** The job a chain runs in, and how far it got. */
export interface ChainState {
  /** The chain's BullMQ job: the job of the chain's first node. */
  job: Job<NodeJobData>;
  /** Nodes run in the job so far, the first included. */
  length: number;
  /** Whether the worker is closing: no new node joins a chain then. */
  closing: boolean;
}

/**
 * Whether `node` may run eagerly under the engine's config: its own `eager`, else its
 * workflow's, else the engine's `eagerChains`. Never with worker threads or the native limiter.
 */
export function isEager(rt: Runtime, graph: WorkflowGraph, node: NodeDefinition): boolean {
  const settings = eagerChainSettings(rt.config);
  if (settings === undefined) return false;
  return node.eager ?? graph.definition.eager ?? settings.byDefault;
}

/**
 * The child the chain runs next, out of the children an advance just found ready, or undefined
 * when they go to the queue as usual. A child joins only when it is the only one ready, has this
 * chain's node as its single parent (a join could be enqueued by its other parent too), is not
 * a built-in kind (a delay waits in the queue, a sub-workflow waits for its child), has an
 * executor in this engine, and the chain is below `maxLength`, outside a BullMQ flow, in a worker
 * that is not closing.
 */
export function eagerChild(rt: Runtime, graph: WorkflowGraph, chain: ChainState, ready: readonly NodeDefinition[]): NodeDefinition | undefined {
  if (ready.length !== 1 || chain.closing) return undefined;
  const child = ready[0]!;
  const settings = eagerChainSettings(rt.config);
  if (settings === undefined || chain.length >= settings.maxLength) return undefined;
  if (chain.job.parentKey !== undefined || child.inputs.length !== 1) return undefined;
  if (isBuiltinNodeKind(child.type) || rt.registry.get(child.type) === undefined) return undefined;
  return isEager(rt, graph, child) ? child : undefined;
}

/** Where a redelivered job goes on from, for {@link chainFrontier}. */
export interface ChainFrontier {
  /** Settled nodes to advance from: the job's node and the chain it ran (all settled). */
  settled: string[];
  /** A node of the chain that failed for good (without `continueOnFail`); its execution must fail. */
  failed?: { node: NodeDefinition; result: NodeResult };
}

/**
 * The settled nodes reachable from `fromId` through settled nodes: what a chain that started at
 * `fromId` may have run before its worker died. Advancing from all of them (idempotent) goes on
 * after the last settled one. Without chains this is `fromId`'s settled descendants, whose
 * advances already ran; advancing from them again changes nothing.
 */
export function chainFrontier(graph: WorkflowGraph, exec: WorkflowExecution, fromId: string): ChainFrontier {
  const settled: string[] = [];
  const seen = new Set<string>([fromId]);
  const todo = [fromId];
  const frontier: ChainFrontier = { settled };
  while (todo.length > 0) {
    const id = todo.pop()!;
    const node = graph.nodes.get(id);
    const result = resultOf(exec.nodeResults, id);
    if (node === undefined || result === undefined) continue;
    settled.push(id);
    if (result.status === 'failed' && !continuesOnFail(node)) {
      frontier.failed ??= { node, result };
      continue;
    }
    for (const c of node.outputs) {
      if (seen.has(c)) continue;
      seen.add(c);
      todo.push(c);
    }
  }
  return frontier;
}

/**
 * Whether `node` (ready, without a job of its own) may be running in a chain: the job of one of
 * its single-parent ancestors, up to `maxLength` back, is active. That job runs or hands on the
 * node itself, so the reconciler and a resume must not enqueue it; if its worker dies the job is
 * redelivered and goes on from its last settled node.
 */
export async function inLiveChain(rt: Runtime, graph: WorkflowGraph, executionId: string, node: NodeDefinition): Promise<boolean> {
  // Another engine may run chains even when this one does not: look as far as the default then.
  const maxLength = eagerChainSettings(rt.config)?.maxLength ?? DEFAULT_EAGER_CHAIN_LENGTH;
  let current = node;
  for (let i = 1; i < maxLength && current.inputs.length === 1; i++) {
    const parent = graph.nodes.get(current.inputs[0]!);
    if (parent === undefined) return false;
    if ((await rt.queues.nodeQueue.getJobState(nodeJobId(executionId, parent.id))) === 'active') return true;
    current = parent;
  }
  return false;
}

/**
 * The job a child that fell out of a chain after a failed first attempt gets: delayed by the
 * backoff its own job would have waited after attempt 1, with that attempt counted
 * (`eagerAttempts`), and an exponential backoff scaled so later retries wait what they would have.
 */
export function retryAfterEagerAttempt(rt: Runtime, exec: WorkflowExecution, child: NodeDefinition): ReturnType<Runtime['queues']['nodeJob']> {
  const at = { executionId: exec.executionId, workflowId: exec.workflowId, workflowVersion: exec.workflowVersion };
  const job = rt.queues.nodeJob(exec.traceParent === undefined ? at : { ...at, traceparent: exec.traceParent }, child, { eagerAttempts: 1 });
  const backoff = jobRetryOptions(child).backoff;
  if (typeof backoff === 'object' && backoff.delay !== undefined && backoff.delay > 0) {
    job.opts.delay = backoff.delay;
    if (backoff.type === 'exponential') job.opts.backoff = { type: 'exponential', delay: backoff.delay * 2 };
  }
  return job;
}

/**
 * Extends the chain job's lock every `lockDuration / 4` until the returned function is called,
 * so a long chain never looks stalled. BullMQ renews active jobs' locks too; this keeps the
 * margin when a chained node keeps the event loop busy. A failed extension is logged: the stall
 * check then redelivers the job, which goes on from the last settled node.
 */
export function keepLock(rt: Runtime, job: Job, token: string | undefined): () => void {
  if (token === undefined) return () => undefined;
  const { lockDuration } = rt.config;
  const timer = setInterval(
    () => {
      job.extendLock(token, lockDuration).catch((err: unknown) => {
        rt.logger.warn(`eager chain: could not extend the lock of job ${job.id}`, { error: serializeError(err).message });
      });
    },
    Math.max(250, Math.floor(lockDuration / 4)),
  );
  timer.unref();
  return () => clearInterval(timer);
}
