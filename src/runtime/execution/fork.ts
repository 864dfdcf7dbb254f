/**
 * Forking an execution: a new execution of the same workflow (or of another registered version
 * of it) that keeps the results of the nodes above a chosen node and runs that node and
 * everything below it again. The engine's `forkExecution` calls {@link forkExecution}.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { isEdgeActive, readiness, resultOf } from '../../definition/graph.js';
import type { WorkflowGraph } from '../../definition/graph.js';
import { setOwn } from '../../definition/own.js';
import { assertJson, kindOf } from '../../definition/json-check.js';
import type { ExecutionStatus, NodeDefinition, NodeResult, WorkflowExecution } from '../../definition/types.js';
import { z } from '../../definition/zod.js';
import { ExecutionNotFoundError, ExecutionNotForkableError, ForkInputError, ForkNodeError, InvalidArgumentError } from '../../errors.js';
import type { Runtime } from '../engine/runtime.js';
import { continuesOnFail } from '../resilience/retry.js';
import { advance, target } from './advance.js';
import { newExecution } from './lifecycle.js';
import { createExecutionChecked, offloadNodeInput, resolved, saveNodeResultChecked } from './payloads.js';

/** At most this many schema issues are listed in a {@link ForkInputError}. */
const MAX_ISSUES = 20;

const OPTION_KEYS: ReadonlySet<string> = new Set(['fromNodeId', 'input', 'version']);

/**
 * Options of `engine.forkExecution`.
 *
 * @example
 * ```ts
 * const options: ForkOptions = { fromNodeId: 'charge', input: { amount: 42 }, version: 3 };
 * ```
 */
export interface ForkOptions {
  /** The node to re-run from: it and every node below it run again; the others keep their results. */
  fromNodeId: string;
  /**
   * What `fromNodeId` runs on, instead of what its parents' (copied) results or the initial data
   * give it. Checked against the node's input schema when the workflow is DSL-built.
   * @defaultValue the input the node would get from its parents (the initial data for the entry node)
   */
  input?: unknown;
  /**
   * The registered workflow version the fork runs: fixed code re-running old data. Results of
   * nodes this version does not have are dropped.
   * @defaultValue the version the original execution ran
   */
  version?: number;
}

/** The statuses a fork may start from. */
const FORKABLE: readonly ExecutionStatus[] = ['completed', 'failed', 'cancelled'];

/**
 * Creates the fork of `executionId` and queues its first jobs; returns the new execution's id.
 * Every check (arguments, the execution and its status, the version, the node, the input) runs
 * before anything is stored. The new execution is written `pending` with its copied results,
 * then its first jobs are queued, then it becomes `running`: the reconciler leaves a pending
 * execution alone, so it never queues a node of a half-written fork, nor the node given `input`
 * without it.
 */
export async function forkExecution(rt: Runtime, executionId: string, options: ForkOptions): Promise<string> {
  const { fromNodeId, input, version, hasInput } = checkForkOptions(executionId, options);
  const original = await rt.store.getExecution(executionId);
  if (original === null) throw new ExecutionNotFoundError(executionId);
  if (!FORKABLE.includes(original.status)) throw new ExecutionNotForkableError(executionId, original.status as 'pending' | 'running' | 'paused');
  const runVersion = version ?? original.workflowVersion;
  const graph = await rt.workflows.get(original.workflowId, runVersion);
  const from = graph.nodes.get(fromNodeId);
  if (from === undefined) throw new ForkNodeError({ workflowId: original.workflowId, version: runVersion, nodeId: fromNodeId, reason: 'unknown-node' });
  // Large values come back from the payload table; the fork stores its own copies.
  const full = await resolved(rt, original);
  const copied = copiedResults(graph, full.nodeResults, rerunSet(graph, fromNodeId));
  let jobInput: unknown;
  if (hasInput) {
    if (readiness(from, copied) !== 'run') throw new ForkNodeError({ workflowId: original.workflowId, version: runVersion, nodeId: fromNodeId, reason: 'not-ready' });
    await checkNodeInput(graph, from, input);
    jobInput = joinJobInput(from, copied, input);
  }

  const forkId = randomUUID();
  const exec: WorkflowExecution = {
    ...newExecution({ executionId: forkId, graph, initialData: full.initialData, status: 'pending' }),
    forkedFrom: { executionId, nodeId: fromNodeId },
    nodeResults: {},
  };
  const { nodeResults: _none, ...row } = exec;
  await createExecutionChecked(rt, row);
  try {
    await Promise.all(
      Object.entries(copied).map(async ([nodeId, result]) => setOwn(exec.nodeResults, nodeId, await saveNodeResultChecked(rt, { executionId: forkId, nodeId, result }))),
    );
    await queueFirstJobs(rt, { graph, exec, from, jobInput: hasInput ? await offloadNodeInput(rt, { executionId: forkId, nodeId: fromNodeId, input: jobInput }) : undefined });
  } catch (err) {
    // Best effort: the caller must see the first error, not this one's.
    await rt.store.transitionExecution(forkId, ['pending', 'running'], 'failed', { error: `the fork could not be started: ${String(err)}` }).catch(() => undefined);
    throw err;
  }
  return forkId;
}

/** What {@link queueFirstJobs} starts a fork from. */
interface FirstJobs {
  graph: WorkflowGraph;
  /** The fork, with its copied results. */
  exec: WorkflowExecution;
  /** The node the fork re-runs from. */
  from: NodeDefinition;
  /** The job input of `from`, when the caller gave one (claim-checked). */
  jobInput: unknown;
}

/**
 * Queues every node that can run now (the re-run node, the entry node when nothing was copied,
 * nodes the original never reached), marks the fork running, then lets {@link advance} skip what
 * the copied branches leave inactive and complete the fork when nothing is left to run.
 */
async function queueFirstJobs(rt: Runtime, first: FirstJobs): Promise<void> {
  const { graph, exec, from, jobInput } = first;
  const ready: NodeDefinition[] = [];
  const skipFrontier = new Set<string>();
  for (const node of graph.nodes.values()) {
    if (Object.hasOwn(exec.nodeResults, node.id)) continue;
    const r = readiness(node, exec.nodeResults);
    if (r === 'run') ready.push(node);
    else if (r === 'skip') for (const p of node.inputs) skipFrontier.add(p);
  }
  // The node given an input first: a later enqueue of its job id (by an advance) is a no-op.
  if (jobInput !== undefined) await rt.queues.enqueueNodes(target(exec), [from], { inputData: jobInput });
  await rt.queues.enqueueNodes(
    target(exec),
    ready.filter((n) => jobInput === undefined || n.id !== from.id),
  );
  if (await rt.store.transitionExecution(exec.executionId, ['pending'], 'running')) {
    rt.events.publish({ type: 'workflow:started', executionId: exec.executionId, workflowId: exec.workflowId });
  }
  exec.status = 'running';
  if (skipFrontier.size > 0) await advance(rt, { graph, exec, settled: [...skipFrontier] });
}

/** `fromNodeId` and every node below it. */
export function rerunSet(graph: WorkflowGraph, fromNodeId: string): Set<string> {
  const out = new Set<string>([fromNodeId]);
  const todo = [fromNodeId];
  for (let id = todo.pop(); id !== undefined; id = todo.pop()) {
    for (const child of graph.nodes.get(id)?.outputs ?? []) {
      if (out.has(child)) continue;
      out.add(child);
      todo.push(child);
    }
  }
  return out;
}

/**
 * The original results the fork keeps: those of nodes outside the re-run set that the fork's
 * version still has. A failure the original stopped at (no `continueOnFail` in the fork's
 * version) is not kept: the node never produced anything to go on from, so it runs again.
 * The nodes outside the re-run set include every parent of each of them, so what is kept is a
 * consistent upper part of the graph.
 */
export function copiedResults(graph: WorkflowGraph, results: Readonly<Record<string, NodeResult>>, rerun: ReadonlySet<string>): Record<string, NodeResult> {
  const out: Record<string, NodeResult> = {};
  for (const [nodeId, result] of Object.entries(results)) {
    const node = graph.nodes.get(nodeId);
    if (node === undefined || rerun.has(nodeId)) continue;
    if (result.status === 'failed' && !continuesOnFail(node)) continue;
    setOwn(out, nodeId, result);
  }
  return out;
}

/**
 * The input to put on the node's job. A DSL join below a branch (`config.$join`) wraps the data of
 * a single active parent as `{ [parentId]: data }` itself, so the job carries that parent's part
 * of the given join object, and the node receives the object it was given.
 */
function joinJobInput(node: NodeDefinition, copied: Readonly<Record<string, NodeResult>>, input: unknown): unknown {
  const join = node.config['$join'];
  if (!Array.isArray(join) || typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const active = node.inputs.filter((p) => {
    const r = resultOf(copied, p);
    return r !== undefined && isEdgeActive(r, node.id);
  });
  if (active.length !== 1) return input;
  const key = active[0]!;
  if (!Object.hasOwn(input, key)) throw new ForkInputError(node.id, [`${key}: required (the only parent that ran)`]);
  return (input as Record<string, unknown>)[key];
}

/**
 * Checks a given input against the node's input JSON Schema, as a DSL-built definition embeds it
 * under `schemas.nodes[id].input` (a JSON definition has none: any JSON input is taken).
 */
async function checkNodeInput(graph: WorkflowGraph, node: NodeDefinition, input: unknown): Promise<void> {
  const schemas = (graph.definition as { schemas?: { nodes?: Record<string, { input?: unknown }> } }).schemas;
  const nodeSchemas = schemas?.nodes !== undefined && Object.hasOwn(schemas.nodes, node.id) ? schemas.nodes[node.id] : undefined;
  const json = nodeSchemas?.input;
  if (typeof json !== 'object' || json === null) return;
  let schema: z.ZodType;
  try {
    schema = z.fromJSONSchema(json as Parameters<typeof z.fromJSONSchema>[0]);
  } catch {
    // A schema zod cannot rebuild is checked by the node itself when it runs.
    return;
  }
  const result = await schema.safeParseAsync(input);
  if (result.success) return;
  const issues = result.error.issues.slice(0, MAX_ISSUES).map((i) => `${i.path.length === 0 ? '(root)' : i.path.map(String).join('.')}: ${i.message}`);
  if (result.error.issues.length > MAX_ISSUES) issues.push(`... and ${result.error.issues.length - MAX_ISSUES} more`);
  throw new ForkInputError(node.id, issues);
}

/** Checks the arguments of `forkExecution` before anything is read. */
function checkForkOptions(executionId: unknown, options: unknown): { fromNodeId: string; input: unknown; version: number | undefined; hasInput: boolean } {
  if (typeof executionId !== 'string' || executionId.length === 0)
    throw new InvalidArgumentError(`forkExecution: executionId must be a non-empty string, got ${kindOf(executionId)}`);
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new InvalidArgumentError(`forkExecution: options must be an object { fromNodeId, input?, version? }, got ${kindOf(options)}`);
  const o = options as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !OPTION_KEYS.has(k));
  if (unknown.length > 0)
    throw new InvalidArgumentError(
      `forkExecution: unknown option${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => `'${k}'`).join(', ')} (known: fromNodeId, input, version)`,
    );
  const { fromNodeId, input, version } = o;
  if (typeof fromNodeId !== 'string' || fromNodeId.length === 0) throw new InvalidArgumentError(`forkExecution: fromNodeId must be a non-empty string, got ${kindOf(fromNodeId)}`);
  if (version !== undefined && !(typeof version === 'number' && Number.isInteger(version) && version > 0))
    throw new InvalidArgumentError(`forkExecution: version must be a positive integer, got ${typeof version === 'number' ? String(version) : kindOf(version)}`);
  const hasInput = input !== undefined;
  if (hasInput) assertJson(input, 'forkExecution: input');
  return { fromNodeId, input, version: version as number | undefined, hasInput };
}
