import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import { resultOf } from '../../definition/graph.js';
import type { WorkflowGraph } from '../../definition/graph.js';
import type { ExecutionStatus, NodeDefinition, WorkflowExecution } from '../../definition/types.js';
import { TERMINAL_STATUSES } from '../../definition/types.js';
import { ExecutionNotFoundError } from '../../errors.js';
import { checkInputAgainst } from '../../definition/workflow-input.js';
import { announceEnd, publishDelays, target, wakeExecution } from './advance.js';
import type { EnqueueOptions } from '../engine/engine-options.js';
import { nodeJobId, waitTimeoutJobId } from '../queues/jobs.js';
import { BUILTIN_NODE_KINDS } from '../../definition/node-kinds.js';
import type { WorkflowJobData } from '../queues/jobs.js';
import type { NodeProcessor } from './node-processor.js';
import { INITIAL_PAYLOAD_ID } from './payloads.js';
import type { Runtime } from '../engine/runtime.js';
import type { NewExecution } from '../../store/store.js';

/** Starting, pausing, resuming and cancelling executions. The engine's public methods call these. */
export class ExecutionLifecycle {
  constructor(
    private readonly rt: Runtime,
    private readonly processor: NodeProcessor,
    private readonly startLatest: (workflowId: string, initialData: unknown) => Promise<string>,
  ) {}

  async pause(executionId: string): Promise<boolean> {
    const exec = await this.requireExecution(executionId);
    const changed = await this.rt.store.transitionExecution(executionId, ['running', 'pending'], 'paused', { pausedAt: Date.now() });
    if (changed) {
      this.rt.handoff.drop(executionId);
      this.rt.events.publish({ type: 'workflow:paused', executionId, workflowId: exec.workflowId });
    }
    await this.forEachLiveChild(executionId, (child) => this.pause(child));
    return changed;
  }

  async resume(executionId: string): Promise<boolean> {
    const exec = await this.requireExecution(executionId);
    if (exec.status !== 'paused') return false;
    if (!(await this.rt.store.transitionExecution(executionId, ['paused'], 'running'))) return false;
    this.rt.events.publish({ type: 'workflow:resumed', executionId, workflowId: exec.workflowId });
    const graph = await this.rt.workflows.get(exec.workflowId, exec.workflowVersion);
    const pausedFor = exec.pausedAt === undefined ? 0 : Date.now() - exec.pausedAt;
    // A scheduled execution whose start job has not fired yet has nothing to wake: the start job
    // queues the entry node when it fires. Once it has fired (its record may linger), wake.
    const start = await this.rt.queues.workflowQueue.getJob(startJobId(executionId));
    const notStartedYet = start !== undefined && ((await start.isDelayed()) || (await start.isWaiting()) || (await start.isActive()));
    if (!notStartedYet) await wakeExecution(this.rt, { graph, exec, pausedForMs: pausedFor });
    await this.forEachLiveChild(executionId, (child) => this.resume(child));
    return true;
  }

  async cancel(executionId: string): Promise<boolean> {
    const exec = await this.requireExecution(executionId);
    const changed = await this.rt.store.transitionExecution(executionId, ['pending', 'running', 'paused', 'failed'], 'cancelled');
    if (!changed) return false;
    this.rt.handoff.drop(executionId);
    this.processor.abortExecution(executionId);
    // The parent (if this is a sub-workflow) decides with continueOnFail what a cancelled child means.
    await announceEnd(this.rt, { exec, event: { type: 'workflow:cancelled' } });
    await this.forEachLiveChild(executionId, (child) => this.cancel(child));
    const graph = await this.rt.workflows.get(exec.workflowId, exec.workflowVersion);
    const unsettled = [...graph.nodes.values()].filter((n) => resultOf(exec.nodeResults, n.id) === undefined);
    // A waiting signal or event node's timeout job goes too.
    const timeouts = unsettled.filter((n) => n.type === BUILTIN_NODE_KINDS.signal || n.type === BUILTIN_NODE_KINDS.event).map((n) => waitTimeoutJobId(executionId, n.id));
    const ids = [startJobId(executionId), ...unsettled.map((n) => nodeJobId(executionId, n.id)), ...timeouts];
    await Promise.all(
      ids.map(async (id) => {
        const queue = id === ids[0] ? this.rt.queues.workflowQueue : this.rt.queues.nodeQueue;
        const job = await queue.getJob(id);
        if (job === undefined) return;
        // An active job holds a lock and cannot be removed; it sees `cancelled` when it ends.
        await job.remove().catch(() => undefined);
      }),
    );
    return true;
  }

  /** Runs a `workflow-execution` job: a scheduled start or a cron trigger. */
  async runWorkflowJob(job: Job<WorkflowJobData>): Promise<string | undefined> {
    const { workflowId, executionId, initialData, prune } = job.data;
    if (prune !== undefined) {
      const removed = await this.rt.store.pruneExecutions(prune);
      return `pruned ${removed}`;
    }
    if (executionId === undefined) return this.startLatest(workflowId, initialData);
    const exec = await this.rt.store.getExecution(executionId);
    if (exec === null || exec.status === 'cancelled' || TERMINAL_STATUSES.includes(exec.status)) return undefined;
    const graph = await this.rt.workflows.get(exec.workflowId, exec.workflowVersion);
    // A paused scheduled execution still gets its entry job; the job parks until resumed.
    await this.rt.queues.enqueueNodes(target(exec), [entryOf(graph)]);
    return executionId;
  }

  /**
   * Creates executions (status `running`) and queues their entry jobs in one round trip; when
   * queueing fails they are marked failed and the error is thrown. Data a workflow's input schema
   * refuses throws a `WorkflowInputError` before anything is stored.
   */
  async start(items: readonly StartItem[]): Promise<string[]> {
    const { store, queues } = this.rt;
    // Every item's data against its workflow's input schema first: either all start or none does.
    for (const { graph, initialData, replay } of items)
      if (replay !== true) await checkInputAgainst(graph.definition.id, this.rt.workflows.inputSchema(graph.definition.id), initialData);
    const tracing = await this.rt.tracing.ready();
    const started = items.map((item) => {
      const exec: NewExecution = newExecution({ executionId: randomUUID(), graph: item.graph, initialData: item.initialData, status: 'running' }, this.rt.clock);
      const span = tracing?.traceExecution(exec);
      // Claim check: the row holds the reference; the payload is written once the row exists.
      const prepared = this.rt.payloads?.prepare(INITIAL_PAYLOAD_ID, item.initialData);
      const payload = prepared?.json;
      if (payload !== undefined) exec.initialData = prepared!.inline;
      return { ...item, exec, payload, span };
    });
    await Promise.all(started.map((s) => store.createExecution(s.exec)));
    const entries = started.map(({ graph }) => entryOf(graph));
    try {
      await Promise.all(started.map((s) => (s.payload === undefined ? undefined : this.rt.payloads!.storage.putPayload(s.exec.executionId, INITIAL_PAYLOAD_ID, s.payload))));
      await queues.nodeQueue.addBulk(
        started.map(({ exec, graph, options }) => {
          const job = queues.nodeJob(target(exec as WorkflowExecution), entryOf(graph));
          if (options.delay !== undefined) job.opts.delay = (job.opts.delay ?? 0) + options.delay;
          if (options.priority !== undefined) job.opts.priority = options.priority;
          return job;
        }),
      );
    } catch (err) {
      await Promise.all(started.map((s) => store.transitionExecution(s.exec.executionId, ['running'], 'failed', { error: `could not be queued: ${String(err)}` })));
      for (const s of started) s.span?.end(err);
      throw err;
    }
    for (const s of started) s.span?.end();
    started.forEach(({ exec }, i) => {
      this.rt.events.publish({ type: 'workflow:started', executionId: exec.executionId, workflowId: exec.workflowId });
      publishDelays(this.rt, { exec, queued: [entries[i]!] });
    });
    return started.map((s) => s.exec.executionId);
  }

  private async forEachLiveChild(executionId: string, action: (childId: string) => Promise<unknown>): Promise<void> {
    const children = await this.rt.store.getChildExecutions(executionId);
    await Promise.all(children.filter((c) => !TERMINAL_STATUSES.includes(c.status)).map((c) => action(c.executionId)));
  }

  private async requireExecution(executionId: string): Promise<WorkflowExecution> {
    const exec = await this.rt.store.getExecution(executionId);
    if (exec === null) throw new ExecutionNotFoundError(executionId);
    return exec;
  }
}

/** One execution for {@link ExecutionLifecycle.start} to create. */
export interface StartItem {
  /** The workflow version to run. */
  graph: WorkflowGraph;
  /** The data it starts with. */
  initialData: unknown;
  /** Delay and priority of the entry job. */
  options: EnqueueOptions;
  /** A replay of an earlier execution: its data was checked when that one started. */
  replay?: boolean;
}

/** What {@link newExecution} builds a record from. */
export interface ExecutionSeed {
  /** The new execution's id. */
  executionId: string;
  /** The workflow it runs (id and version). */
  graph: WorkflowGraph;
  /** The workflow's input. */
  initialData: unknown;
  /** The status it starts in. */
  status: ExecutionStatus;
}

/** A new execution record for `graph`. */
export function newExecution(seed: ExecutionSeed, clock: () => number = Date.now) {
  const { executionId, graph, initialData, status } = seed;
  return {
    executionId,
    workflowId: graph.definition.id,
    workflowVersion: graph.definition.version ?? 1,
    status,
    initialData,
    depth: 0,
    startedAt: clock(),
  };
}

/** The entry node of a graph. */
export function entryOf(graph: WorkflowGraph): NodeDefinition {
  return graph.nodes.get(graph.definition.entryNodeId)!;
}

/** Id of the `workflow-execution` job that starts a scheduled execution. */
export function startJobId(executionId: string): string {
  return `start__${executionId}`;
}
