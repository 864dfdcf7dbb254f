import { createHash } from 'node:crypto';
import type { FlowJob, Job } from 'bullmq';
import { workflowOutput } from '../../definition/graph.js';
import type { WorkflowGraph } from '../../definition/graph.js';
import { applyMapping } from '../../definition/mapping.js';
import { setOwn } from '../../definition/own.js';
import type { NodeDefinition, WorkflowDefinition, WorkflowExecution } from '../../definition/types.js';
import { subWorkflowIds } from '../../definition/validate.js';
import { BUILTIN_NODE_KIND_FACTS, isBuiltinNodeKind } from '../../definition/node-kinds.js';
import type { ExecutionStore, NewExecution } from '../../store/store.js';
import { TERMINAL_STATUSES } from '../../definition/types.js';
import {
  DataTooDeepError,
  deserializeError,
  MappingError,
  MaxDepthExceededError,
  NonRetryableError,
  serializeError,
  SpaneError,
  SubWorkflowError,
  WorkflowNotFoundError,
  WorkflowInputError,
} from '../../errors.js';
import { checkInputAgainst } from '../../definition/workflow-input.js';
import { assertJson } from '../../definition/json-check.js';
import { NODE_QUEUE, nodeJobId } from '../queues/jobs.js';
import type { NodeJobData } from '../queues/jobs.js';
import { createExecutionChecked, resolved } from './payloads.js';
import type { Runtime } from '../engine/runtime.js';

/** Deepest nesting allowed: a top-level execution is depth 0. */
export const MAX_SUB_WORKFLOW_DEPTH = 10;

/**
 * How long a waiting sub-workflow node sleeps before it checks its child again by itself. The
 * child wakes it as soon as it ends; this poll only matters if that wake-up was lost (a crash
 * between the child's last write and the wake-up).
 */
export const SUB_WORKFLOW_POLL_MS = 60_000;

/** The `config` of a `sub-workflow` node. */
export interface SubWorkflowConfig {
  /** The workflow to run as the child. */
  workflowId: string;
  /** `{ childInputKey: 'path.in.parent.input' }`; without it the whole input is passed. */
  inputMapping?: Record<string, string>;
  /** `{ parentKey: 'path.in.child.result' }`; without it the child's result is passed. */
  outputMapping?: Record<string, string>;
  /** Continue the parent when the child fails (the node records the error and partial results). */
  continueOnFail?: boolean;
}

/** Node id of the aggregator job that closes a sub-workflow flow (FlowProducer mode). @internal */
export const AGGREGATOR_NODE_ID = '__aggregator__';

/** What a sub-workflow node's job concluded this time. */
export type SubWorkflowStep = { kind: 'success'; data: unknown } | { kind: 'failure'; error: unknown; retryable: boolean; data?: unknown } | { kind: 'waiting' };

/**
 * Id of the child execution of one attempt of a sub-workflow node. Deterministic, so a job that
 * is delivered again (after a crash) finds the child it already started instead of starting a
 * second one; a new attempt or a DLQ retry (a new job) starts a new child.
 */
export function childExecutionId(parentExecutionId: string, nodeId: string, job: Job<NodeJobData>): string {
  const h = createHash('sha256').update(`${parentExecutionId}\0${nodeId}\0${job.timestamp}\0${job.attemptsMade}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A sub-workflow node's job, for {@link stepSubWorkflow}. */
export interface SubWorkflowJob {
  /** The `sub-workflow` node. */
  node: NodeDefinition;
  /** The parent execution. */
  exec: WorkflowExecution;
  /** The node's input, mapped into the child's. */
  input: unknown;
  /** The node's job, parked while the child runs. */
  job: Job<NodeJobData>;
  /** The worker's lock token for the job. */
  token: string | undefined;
  /** The `traceparent` of the node attempt's span, when traced: the child execution's span is its child. */
  traceparent?: string | undefined;
}

/**
 * One step of a `sub-workflow` node (checkpoint/resume): start the child if it does not exist,
 * finish the node if the child ended, else park the job until the child wakes it. No worker slot
 * is held while the child runs.
 */
export async function stepSubWorkflow(rt: Runtime, step: SubWorkflowJob): Promise<SubWorkflowStep> {
  const { node, exec, input, job, token, traceparent } = step;
  const config = node.config as SubWorkflowConfig;
  // A job the reconciler re-created after the original was lost carries the child to adopt.
  const adopted = job.attemptsMade === 0 ? job.data.childExecutionId : undefined;
  const childId = adopted ?? childExecutionId(exec.executionId, node.id, job);
  let child = await rt.store.getExecution(childId);
  if (child === null) {
    const started = await startChild(rt, { node, config, exec, input, childId, traceparent });
    if (started.kind !== 'waiting') return started;
    rt.events.publish({
      type: 'node:started',
      executionId: exec.executionId,
      workflowId: exec.workflowId,
      nodeId: node.id,
      attempt: job.attemptsMade + 1,
      data: { childExecutionId: childId },
    });
    rt.events.publish({ type: 'workflow:started', executionId: childId, workflowId: config.workflowId, data: { parentExecutionId: exec.executionId, parentNodeId: node.id } });
    child = await rt.store.getExecution(childId);
    if (child === null) return { kind: 'failure', error: new Error(`child execution ${childId} vanished`), retryable: true };
  }
  if (!TERMINAL_STATUSES.includes(child.status)) {
    await job.moveToDelayed(Date.now() + SUB_WORKFLOW_POLL_MS, token);
    // The child may have ended between our read and the park, before it could wake us.
    const latest = await rt.store.getExecution(childId);
    // A failed promote (the job is no longer delayed, or Redis is away) only costs one poll.
    if (latest !== null && TERMINAL_STATUSES.includes(latest.status)) await job.promote().catch(() => undefined);
    return { kind: 'waiting' };
  }
  // The child's large outputs are loaded here and claim-checked again as this node's result.
  return settleFromChild(rt, config, await resolved(rt, child, node.id));
}

/** A child execution to start, for {@link startChild}. */
interface ChildStart {
  /** The parent's `sub-workflow` node. */
  node: NodeDefinition;
  /** The node's config. */
  config: SubWorkflowConfig;
  /** The parent execution. */
  exec: WorkflowExecution;
  /** The node's input, before `inputMapping`. */
  input: unknown;
  /** The child execution's id. */
  childId: string;
  /** See {@link SubWorkflowJob.traceparent}. */
  traceparent?: string | undefined;
}

async function startChild(rt: Runtime, start: ChildStart): Promise<SubWorkflowStep> {
  const { node, config, exec, input, childId } = start;
  if (exec.depth + 1 > MAX_SUB_WORKFLOW_DEPTH) {
    const chain = [...(await ancestry(rt, exec)), config.workflowId];
    return { kind: 'failure', error: new MaxDepthExceededError(chain, MAX_SUB_WORKFLOW_DEPTH), retryable: false };
  }
  const def = await rt.store.getWorkflow(config.workflowId);
  if (def === null) return { kind: 'failure', error: new WorkflowNotFoundError(config.workflowId), retryable: false };
  let childInput: unknown;
  try {
    childInput = applyMapping(input, config.inputMapping, 'inputMapping');
    // A dotted target nests the mapped value deeper than it was: check it as enqueueWorkflow would.
    assertJson(childInput, 'inputMapping result', { strict: false });
  } catch (err) {
    const message = `sub-workflow node '${node.id}': ${serializeError(err).message}`;
    return { kind: 'failure', error: err instanceof DataTooDeepError ? new DataTooDeepError(message, err.maxDepth) : new MappingError(message), retryable: false };
  }
  try {
    await checkInputAgainst(def.id, rt.workflows.inputSchema(def.id), childInput);
  } catch (err) {
    if (err instanceof WorkflowInputError) return { kind: 'failure', error: err, retryable: false };
    throw err;
  }
  const graph = await rt.workflows.get(def.id, def.version ?? 1);
  // An earlier delivery of this job may have created the child: carry on with that one.
  const existingOk = true;
  const child: NewExecution = {
    executionId: childId,
    workflowId: def.id,
    workflowVersion: def.version ?? 1,
    status: 'running',
    initialData: childInput,
    parentExecutionId: exec.executionId,
    parentNodeId: node.id,
    depth: exec.depth + 1,
    startedAt: rt.clock(),
  };
  // The child's span is a child of the span of the node that starts it.
  let span = start.traceparent === undefined ? undefined : rt.tracing.current?.traceExecution(child, start.traceparent);
  try {
    await createExecutionChecked(rt, child, existingOk);
    return await enqueueChild(rt, { ...start, def, graph, child });
  } catch (err) {
    span?.end(err);
    span = undefined;
    throw err;
  } finally {
    span?.end();
  }
}

/** Queues a created child execution's first work: its entry node, or the whole chain as a BullMQ flow. */
async function enqueueChild(rt: Runtime, start: ChildStart & { def: WorkflowDefinition; graph: WorkflowGraph; child: NewExecution }): Promise<SubWorkflowStep> {
  const { node, config, exec, def, graph, child } = start;
  const at = { executionId: child.executionId, workflowId: def.id, workflowVersion: def.version ?? 1 };
  const childTarget = child.traceParent === undefined ? at : { ...at, traceparent: child.traceParent };
  if (rt.config.useFlowProducerForSubWorkflows) {
    const problem = flowProblem(graph);
    if (problem === undefined) {
      await rt.queues.addFlow(chainFlow(rt, { graph, childTarget, continueOnFail: config.continueOnFail === true }));
      return { kind: 'waiting' };
    }
    await rt.store.addLog(exec.executionId, {
      at: Date.now(),
      level: 'info',
      nodeId: node.id,
      message: `sub-workflow '${def.id}' runs with checkpoint/resume instead of a BullMQ flow: ${problem}`,
    });
  }
  await rt.queues.enqueueNodes(childTarget, [entryNode(graph)]);
  return { kind: 'waiting' };
}

/**
 * Why a child workflow cannot run as a BullMQ flow, or undefined when it can. A flow is a tree
 * whose children run before their parent, so the workflow must be a chain (with one entry node
 * and every node reachable, that is the only DAG whose reverse is a tree) of executor nodes.
 */
export function flowProblem(graph: WorkflowGraph): string | undefined {
  for (const n of graph.definition.nodes) {
    if (n.outputs.length > 1) return `node '${n.id}' has ${n.outputs.length} children, and BullMQ flows are trees`;
    if (n.inputs.length > 1) return `node '${n.id}' joins ${n.inputs.length} parents, and BullMQ flows are trees`;
    if (isBuiltinNodeKind(n.type) && !BUILTIN_NODE_KIND_FACTS[n.type].runsInFlow) return `node '${n.id}' is a ${n.type} node`;
  }
  return undefined;
}

/** A chain child run as a BullMQ flow, for {@link chainFlow}. */
interface ChainChild {
  /** The child workflow's graph, a chain. */
  graph: WorkflowGraph;
  /** The child execution's queue target. */
  childTarget: { executionId: string; workflowId: string; workflowVersion: number };
  /** Whether the parent continues when the child fails: the flow then ignores a failed dependency. */
  continueOnFail: boolean;
}

/**
 * The flow of a chain child: the aggregator at the root, the last node below it, down to the
 * entry node as the deepest leaf (BullMQ runs children first). Jobs keep their usual ids, so
 * the runtime's own enqueue of a chain node finds the flow's job and adds nothing.
 */
function chainFlow(rt: Runtime, chain: ChainChild): FlowJob {
  const { graph, childTarget, continueOnFail } = chain;
  const dependency = continueOnFail ? { ignoreDependencyOnFailure: true } : { failParentOnFailure: true };
  let below: FlowJob | undefined;
  for (let n: NodeDefinition | undefined = entryNode(graph); n !== undefined; n = graph.nodes.get(n.outputs[0] ?? '')) {
    const job = rt.queues.nodeJob(childTarget, n);
    const opts = { ...job.opts, ...dependency };
    below =
      below === undefined ? { name: job.name, queueName: NODE_QUEUE, data: job.data, opts } : { name: job.name, queueName: NODE_QUEUE, data: job.data, opts, children: [below] };
  }
  return {
    name: 'aggregate-sub-workflow',
    queueName: NODE_QUEUE,
    data: { ...childTarget, nodeId: AGGREGATOR_NODE_ID },
    opts: { jobId: nodeJobId(childTarget.executionId, AGGREGATOR_NODE_ID) },
    children: [below!],
  };
}

/**
 * The aggregator job of a flow: runs once the child's final node job completed, collects the
 * flow children's values (BullMQ `getChildrenValues`) into the child's log, and wakes the parent
 * node (which maps the child's result from the store).
 */
export async function aggregate(rt: Runtime, job: Job<NodeJobData>): Promise<{ status: 'completed'; collected: number }> {
  const values = await job.getChildrenValues();
  const child = await rt.store.getExecution(job.data.executionId);
  if (child === null) return { status: 'completed', collected: 0 };
  const collected = Object.keys(values).length;
  await rt.store.addLog(child.executionId, { at: Date.now(), level: 'info', message: `aggregator collected ${collected} final result(s)` });
  await notifyParent(rt, child);
  return { status: 'completed', collected };
}

async function settleFromChild(rt: Runtime, config: SubWorkflowConfig, child: WorkflowExecution): Promise<SubWorkflowStep> {
  const graph = await rt.workflows.get(child.workflowId, child.workflowVersion);
  if (child.status === 'completed') {
    try {
      const data = applyMapping(finalOutput(graph, child), config.outputMapping, 'outputMapping');
      assertJson(data, 'outputMapping result', { strict: false });
      return { kind: 'success', data };
    } catch (err) {
      return { kind: 'failure', error: err instanceof SpaneError ? err : new NonRetryableError(serializeError(err).message, { cause: err }), retryable: false };
    }
  }
  const reason = child.error ?? child.status;
  // The child's own failure is the cause, so the parent's stored error still names its code.
  const cause = child.errorDetails === undefined ? undefined : deserializeError(child.errorDetails);
  const error = new SubWorkflowError(child.executionId, `Sub-workflow '${child.workflowId}' (execution ${child.executionId}) ${child.status}: ${reason}`, { cause });
  const partialResults: Record<string, unknown> = {};
  for (const [id, r] of Object.entries(child.nodeResults)) if (r.status === 'completed') setOwn(partialResults, id, r.data);
  // A cancelled child was stopped on purpose: starting another one would undo that.
  return { kind: 'failure', error, retryable: child.status === 'failed', data: { error: error.message, partialResults } };
}

/** A finished child's result: its final node's data, or `{ finalNodeId: data }` when it has several. */
export function finalOutput(graph: WorkflowGraph, exec: WorkflowExecution): unknown {
  return workflowOutput(graph.definition, exec.nodeResults);
}

/** Wakes the parent's waiting sub-workflow job after this child execution ended. */
export async function notifyParent(rt: Runtime, child: Pick<WorkflowExecution, 'parentExecutionId' | 'parentNodeId'>): Promise<void> {
  if (child.parentExecutionId === undefined || child.parentNodeId === undefined) return;
  const job = (await rt.queues.nodeQueue.getJob(nodeJobId(child.parentExecutionId, child.parentNodeId))) as Job<NodeJobData> | undefined;
  // A parked parent (paused) is woken by its own resume instead.
  if (job === undefined || job.data.parked !== undefined) return;
  // A parent that is not delayed (running, waiting) needs no wake; one that stays delayed after a
  // failed promote finds the child's end at its next poll (SUB_WORKFLOW_POLL_MS).
  await job.promote().catch(() => undefined);
}

/** Workflow ids from the top-level execution down to `exec`. */
async function ancestry(rt: Runtime, exec: WorkflowExecution): Promise<string[]> {
  const chain = [exec.workflowId];
  let parentId = exec.parentExecutionId;
  while (parentId !== undefined && chain.length <= MAX_SUB_WORKFLOW_DEPTH + 1) {
    const parent = await rt.store.getExecution(parentId);
    if (parent === null) break;
    chain.unshift(parent.workflowId);
    parentId = parent.parentExecutionId;
  }
  return chain;
}

function entryNode(graph: WorkflowGraph): NodeDefinition {
  return graph.nodes.get(graph.definition.entryNodeId)!;
}

/** A chain of sub-workflow calls from `def` back to itself through the stored workflows, or undefined. */
export async function findSubWorkflowCycle(store: ExecutionStore, def: WorkflowDefinition): Promise<string[] | undefined> {
  const seen = new Set<string>();
  const walk = async (id: string, path: string[]): Promise<string[] | undefined> => {
    if (id === def.id) return [...path, id];
    if (seen.has(id)) return undefined;
    seen.add(id);
    const callee = await store.getWorkflow(id);
    for (const next of callee === null ? [] : subWorkflowIds(callee)) {
      const found = await walk(next, [...path, id]);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  for (const next of subWorkflowIds(def)) {
    const found = await walk(next, [def.id]);
    if (found !== undefined) return found;
  }
  return undefined;
}
