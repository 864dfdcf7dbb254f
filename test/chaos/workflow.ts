/**
 * The workflow the chaos run executes, its executors, and the value each execution must end with.
 * Shared by the runner (test/chaos/run.ts) and the worker processes (test/chaos/worker.ts).
 *
 *   start ─┬─ a ─┐
 *          ├─ b ─┼─ join1 ─┬─ d ─┐
 *          └─ c ─┘         └─ e ─┴─ join2 ── route ─┬─ x ─┐
 *                                                   └─ y ─┴─ end
 *
 * `route` picks `x` for an even value and `y` for an odd one, so the other one is skipped and
 * `end` (a join) runs with one active parent. 12 nodes, 11 executor runs per execution.
 */
import { randomUUID } from 'node:crypto';
import type { ExecutionContext, ExecutionResult, NodeDefinition, NodeRegistry, WorkflowDefinition } from '../../src/index.js';

export const WORKFLOW_ID = 'chaos-dag';
export const NODE_TYPE = 'chaos-step';

const EDGES: readonly (readonly [string, string])[] = [
  ['start', 'a'],
  ['start', 'b'],
  ['start', 'c'],
  ['a', 'join1'],
  ['b', 'join1'],
  ['c', 'join1'],
  ['join1', 'd'],
  ['join1', 'e'],
  ['d', 'join2'],
  ['e', 'join2'],
  ['join2', 'route'],
  ['route', 'x'],
  ['route', 'y'],
  ['x', 'end'],
  ['y', 'end'],
];

export const NODE_IDS = ['start', 'a', 'b', 'c', 'join1', 'd', 'e', 'join2', 'route', 'x', 'y', 'end'] as const;
export type ChaosNodeId = (typeof NODE_IDS)[number];
/** Nodes with more than one parent. */
export const JOIN_NODES: readonly ChaosNodeId[] = ['join1', 'join2', 'end'];

export function chaosWorkflow(): WorkflowDefinition {
  const nodes: NodeDefinition[] = NODE_IDS.map((id) => ({
    id,
    type: NODE_TYPE,
    config: {},
    inputs: EDGES.filter(([, to]) => to === id).map(([from]) => from),
    outputs: EDGES.filter(([from]) => from === id).map(([, to]) => to),
  }));
  return { id: WORKFLOW_ID, name: 'Chaos DAG', entryNodeId: 'start', nodes };
}

/** The value a node computes from the values of its (active) parents. */
function step(nodeId: string, parents: readonly number[], initial: number): number {
  const sum = parents.reduce((s, v) => s + v, 0);
  const one = parents[0] ?? 0;
  switch (nodeId) {
    case 'start':
      return initial;
    case 'a':
      return one + 1;
    case 'b':
      return one * 2;
    case 'c':
      return one + 3;
    case 'd':
      return one * 3;
    case 'e':
      return one - 1;
    case 'x':
      return one + 10;
    case 'y':
      return one + 20;
    case 'end':
      return one + 100;
    default: // join1, join2, route
      return sum;
  }
}

/** What `end` must hold for an execution started with `{ n }`: the DAG above computed directly. */
export function expectedEnd(n: number): number {
  const a = n + 1;
  const b = n * 2;
  const c = n + 3;
  const join1 = a + b + c;
  const join2 = join1 * 3 + (join1 - 1);
  const branch = join2 % 2 === 0 ? join2 + 10 : join2 + 20;
  return branch + 100;
}

/** The branch `route` takes for an execution started with `{ n }`. */
export function expectedBranch(n: number): 'x' | 'y' {
  const join1 = n + 1 + n * 2 + n + 3;
  return (join1 * 3 + (join1 - 1)) % 2 === 0 ? 'x' : 'y';
}

/** What each node returns as `data`. */
export interface StepData {
  v: number;
  /** The run (executor invocation) that produced this result, as recorded in `chaos_runs`. */
  runId: string;
}

/** Parent values from a node's input: one parent's data as is, or `{ [parentId]: data }`. */
function parentValues(nodeId: string, input: unknown): number[] {
  if (nodeId === 'start') return [];
  if (typeof input !== 'object' || input === null) throw new Error(`node '${nodeId}' got input ${JSON.stringify(input)}`);
  if (typeof (input as Partial<StepData>).v === 'number') return [(input as StepData).v];
  return Object.entries(input as Record<string, Partial<StepData>>).map(([parent, d]) => {
    if (typeof d?.v !== 'number') throw new Error(`node '${nodeId}' got no value from '${parent}': ${JSON.stringify(input)}`);
    return d.v;
  });
}

/** One executor invocation, as the worker records it before doing the work. */
export interface RunRecord {
  runId: string;
  executionId: string;
  nodeId: string;
  attempt: number;
  jobId: string;
  pid: number;
  startedAt: number;
}

/**
 * Registers the chaos executor. `record` is awaited before the executor sleeps, so a run that
 * is killed during its sleep is already on record.
 */
export function registerChaosExecutors(registry: NodeRegistry, record: (run: RunRecord) => Promise<void>): void {
  registry.register(NODE_TYPE, async (ctx: ExecutionContext): Promise<ExecutionResult> => {
    const runId = randomUUID();
    await record({
      runId,
      executionId: ctx.executionId,
      nodeId: ctx.nodeId,
      attempt: ctx.attempt,
      jobId: `${ctx.executionId}__${ctx.nodeId}`,
      pid: process.pid,
      startedAt: Date.now(),
    });
    // 5–50 ms of "work": widens the window in which a kill finds the node mid-run.
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 45));
    const initial = (ctx.initialData as { n?: unknown } | undefined)?.n;
    if (typeof initial !== 'number') throw new Error(`initialData.n missing: ${JSON.stringify(ctx.initialData)}`);
    const v = step(ctx.nodeId, parentValues(ctx.nodeId, ctx.inputData), initial);
    const data: StepData = { v, runId };
    if (ctx.nodeId === 'route') return { success: true, data, nextNodes: [v % 2 === 0 ? 'x' : 'y'] };
    return { success: true, data };
  });
}

/** DDL of the table the executors record their runs in. */
export const CHAOS_RUNS_DDL = `
create table if not exists chaos_runs (
  id bigserial primary key,
  run_id uuid not null unique,
  execution_id text not null,
  node_id text not null,
  attempt int not null,
  job_id text not null,
  pid int not null,
  started_at bigint not null
);
create index if not exists chaos_runs_exec_node on chaos_runs (execution_id, node_id);
`;
