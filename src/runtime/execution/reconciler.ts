import type { JobsOptions } from 'bullmq';
import { isSettled, readiness } from '../../definition/graph.js';
import type { WorkflowGraph } from '../../definition/graph.js';
import type { NodeDefinition, WorkflowExecution } from '../../definition/types.js';
import { delayMs } from '../../definition/validate.js';
import { BUILTIN_NODE_KINDS } from '../../definition/node-kinds.js';
import { InvalidArgumentError, serializeError } from '../../errors.js';
import type { ExecutionPage } from '../../store/store.js';
import { advance, target } from './advance.js';
import type { RepairEventData } from '../observe/events.js';
import { nodeJobId } from '../queues/jobs.js';
import type { NodeJobData } from '../queues/jobs.js';
import { startJobId } from './lifecycle.js';
import { inLiveChain } from './eager.js';
import { signalledWithoutResult } from './waits.js';
import type { Runtime } from '../engine/runtime.js';

/** What one reconcile pass found and did, as {@link WorkflowEngine.reconcile} returns it. */
export interface ReconcileSummary {
  /** Unfinished executions (running or pending) the pass looked at. */
  checked: number;
  /** Executions it repaired: lost node jobs enqueued again, or an interrupted advance finished. */
  repaired: number;
  /** Node jobs it enqueued again. */
  nodesEnqueued: number;
  /** Job schedulers (cron schedules this engine registered, retention) it created again. */
  schedulesRestored: number;
  /**
   * Scheduled executions (`pending`) whose start job is gone. The store does not hold their
   * start time, so they are left pending and logged: cancel and schedule them again.
   */
  lostScheduledStarts: number;
  /** Whether the pass stopped at `reconcileBatchSize`; the next pass goes on from there. */
  truncated: boolean;
  /**
   * Executions the pass could not check (their workflow definition is gone, the queue or the
   * store failed for them); the pass goes on with the others and logs the first error.
   */
  failed: number;
}

/** Options of one pass of {@link WorkflowEngine.reconcile}. */
export interface ReconcileOptions {
  /**
   * How long (ms) a node must have been ready before its missing job counts as lost.
   * @defaultValue the engine's `reconcileGraceMs`
   */
  graceMs?: number;
  /**
   * Executions checked at most.
   * @defaultValue the engine's `reconcileBatchSize`
   */
  limit?: number;
}

/** Executions looked at side by side within a pass. */
const PARALLEL_CHECKS = 8;
/** Executions read from the store per page. */
const PAGE_SIZE = 100;
/** A pass asked for by a Redis reconnect runs this long after it, once connections settle. */
const KICK_DELAY_MS = 1000;

/**
 * Finds unfinished executions whose queued work is gone (Redis restarted empty or was flushed,
 * job rows were deleted) and enqueues exactly what is missing. The store is the record: a node
 * without a result whose parents have all settled must have a job; when it has none, it gets one.
 *
 * Safe on every engine at once, without a lock: node job ids are deterministic, so of two engines
 * enqueueing the same lost node one adds the job and the other's add is a no-op; the execution is
 * read again after the job lookups, so a node whose job completed (and was removed) meanwhile has
 * its result and is left alone; and a job that still runs into a result only advances.
 */
export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  private kickTimer: NodeJS.Timeout | undefined;
  private current: Promise<ReconcileSummary> | undefined;
  /** Where the last pass that hit its limit stopped. */
  private cursor: string | undefined;
  private stopped = false;

  constructor(
    private readonly rt: Runtime,
    /** Creates again the job schedulers the engine knows of; returns how many it created. */
    private readonly restoreSchedules: () => Promise<number>,
  ) {}

  /** Runs a pass now and then every `reconcileIntervalMs` (nothing when it is 0 or false). */
  start(): void {
    const every = this.rt.config.reconcileIntervalMs;
    if (this.timer !== undefined || every === false || every === 0) return;
    this.stopped = false;
    this.background();
    this.timer = setInterval(() => this.background(), every);
    this.timer.unref();
  }

  /** Asks for a pass soon (Redis reconnected: whatever it held may be gone); only while started. */
  kick(): void {
    if (this.timer === undefined || this.kickTimer !== undefined) return;
    this.kickTimer = setTimeout(() => {
      this.kickTimer = undefined;
      this.background();
    }, KICK_DELAY_MS);
    this.kickTimer.unref();
  }

  /** Stops the periodic passes and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.kickTimer);
    this.timer = undefined;
    this.kickTimer = undefined;
    // Only waits for the pass to end: its fault goes to whoever started it (background() logs).
    await this.current?.catch(() => undefined);
  }

  /** One pass. A pass already in progress is waited for first, so passes never overlap. */
  async reconcile(options: ReconcileOptions = {}): Promise<ReconcileSummary> {
    const graceMs = options.graceMs ?? this.rt.config.reconcileGraceMs;
    const limit = options.limit ?? this.rt.config.reconcileBatchSize;
    if (!Number.isInteger(graceMs) || graceMs < 0) throw new InvalidArgumentError(`reconcile: graceMs must be a non-negative integer, got ${String(options.graceMs)}`);
    if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError(`reconcile: limit must be a positive integer, got ${String(options.limit)}`);
    // The previous pass's fault belongs to its own caller; this pass only waits for it to end.
    const previous = this.current?.catch(() => undefined);
    const run = (async () => {
      await previous;
      return this.pass(graceMs, limit);
    })();
    this.current = run;
    try {
      return await run;
    } finally {
      if (this.current === run) this.current = undefined;
    }
  }

  /** A timer's pass: skipped while one runs; faults are logged (the next pass tries again). */
  private background(): void {
    if (this.current !== undefined || this.stopped) return;
    this.reconcile().catch((err: unknown) => this.rt.logger.warn('reconcile pass failed; the next one tries again', { error: serializeError(err).message }));
  }

  private async pass(graceMs: number, limit: number): Promise<ReconcileSummary> {
    const now = Date.now();
    const summary: ReconcileSummary = { checked: 0, repaired: 0, nodesEnqueued: 0, schedulesRestored: 0, lostScheduledStarts: 0, truncated: false, failed: 0 };
    let firstFailure: string | undefined;
    // One execution that cannot be checked must not stop the repair of the others (nor, as the
    // oldest, block every later pass at the same place).
    const checkOne = (exec: WorkflowExecution) =>
      this.check(exec, now - graceMs, summary).catch((err: unknown) => {
        summary.failed += 1;
        firstFailure ??= `execution ${exec.executionId}: ${serializeError(err).message}`;
      });
    summary.schedulesRestored = await this.restoreSchedules();
    let cursor = this.cursor;
    for (;;) {
      const page = await this.page(now - graceMs, Math.min(PAGE_SIZE, limit - summary.checked), cursor);
      for (let i = 0; i < page.executions.length; i += PARALLEL_CHECKS) {
        await Promise.all(page.executions.slice(i, i + PARALLEL_CHECKS).map(checkOne));
      }
      summary.checked += page.executions.length;
      cursor = page.nextCursor;
      if (cursor === undefined) break;
      if (summary.checked >= limit) {
        summary.truncated = true;
        break;
      }
    }
    this.cursor = cursor;
    if (summary.failed > 0)
      this.rt.logger.warn(`reconciler: ${summary.failed} of ${summary.checked} unfinished executions could not be checked; the next pass tries again (first: ${firstFailure})`);
    if (summary.repaired > 0 || summary.schedulesRestored > 0 || summary.lostScheduledStarts > 0) {
      this.rt.logger.warn(
        `reconciler: ${summary.repaired} of ${summary.checked} unfinished executions had lost work (${summary.nodesEnqueued} node jobs enqueued again), ` +
          `${summary.schedulesRestored} job schedulers restored, ${summary.lostScheduledStarts} scheduled starts lost`,
      );
    }
    return summary;
  }

  private async page(startedBefore: number, limit: number, cursor: string | undefined): Promise<ExecutionPage> {
    const { store } = this.rt;
    const status: ('running' | 'pending')[] = ['running', 'pending'];
    if (store.listUnfinishedExecutions !== undefined) {
      return store.listUnfinishedExecutions({ status, startedBefore, limit, ...(cursor === undefined ? {} : { cursor }) });
    }
    // A store without the paged query: its newest unfinished executions, one page per pass.
    const newest = await store.listExecutions({ status, limit });
    return { executions: newest.filter((e) => e.startedAt < startedBefore) };
  }

  private async check(exec: WorkflowExecution, readyBefore: number, summary: ReconcileSummary): Promise<void> {
    if (exec.status === 'pending') {
      if (await this.startIsLost(exec)) {
        summary.lostScheduledStarts += 1;
        this.rt.logger.warn(`reconciler: scheduled execution ${exec.executionId} (workflow ${exec.workflowId}) lost its start job; it stays pending`);
      }
      return;
    }
    const graph = await this.rt.workflows.get(exec.workflowId, exec.workflowVersion);
    const due = lostCandidates(graph, exec, readyBefore);
    if (due.run.length === 0 && !due.advance) return;
    const jobs = await Promise.all(due.run.map((n) => this.rt.queues.nodeQueue.getJob(nodeJobId(exec.executionId, n.id))));
    const orphaned = await Promise.all(due.run.map((n, i) => signalledWithoutResult(this.rt, exec.executionId, n, jobs[i])));
    const jobless = due.run.filter((_, i) => jobs[i] === undefined || orphaned[i]);
    if (jobless.length === 0 && !due.advance) return;
    // Read again after the lookups: a job that completed (and was removed) before its lookup
    // wrote its result first, so this read sees it; paused or finished executions are not ours.
    const fresh = await this.rt.store.getExecution(exec.executionId);
    if (fresh === null || fresh.status !== 'running') return;
    const ready = jobless.filter((n) => fresh.nodeResults[n.id] === undefined && readiness(n, fresh.nodeResults) === 'run');
    // A node run by an eager chain has no job of its own while the chain's job is active.
    const live = await Promise.all(ready.map((n) => inLiveChain(this.rt, graph, fresh.executionId, n)));
    const missing = ready.filter((_, i) => !live[i]);
    const still = lostCandidates(graph, fresh, readyBefore);
    if (missing.length === 0 && !still.advance) return;
    if (missing.length > 0) await this.rt.queues.nodeQueue.addBulk(await Promise.all(missing.map((n) => this.lostJob(fresh, n))));
    // Skips below an untaken branch, or the completion, that a crash cut short (advance is idempotent).
    if (still.advance) await advance(this.rt, { graph, exec: fresh, settled: still.frontier });
    summary.repaired += 1;
    summary.nodesEnqueued += missing.length;
    const data: RepairEventData = { nodes: missing.map((n) => n.id), advanced: still.advance };
    this.rt.events.publish({ type: 'workflow:repaired', executionId: fresh.executionId, workflowId: fresh.workflowId, data });
  }

  /** The job a lost node gets: a delay node keeps its original end, a sub-workflow node its child. */
  private async lostJob(exec: WorkflowExecution, node: NodeDefinition): Promise<{ name: string; data: NodeJobData; opts: JobsOptions }> {
    const extra: Partial<NodeJobData> = {};
    if (node.type === BUILTIN_NODE_KINDS.delay) extra.delayUntil = readySince(node, exec) + delayMs(node.config);
    if (node.type === BUILTIN_NODE_KINDS.subWorkflow) {
      // The child the lost job waited on (or got its result from). A failed child is not adopted:
      // the lost job would have retried with a new child, which the new job's attempt does too.
      const children = (await this.rt.store.getChildExecutions(exec.executionId)).filter((c) => c.parentNodeId === node.id);
      const latest = children.reduce<WorkflowExecution | undefined>((a, c) => (a === undefined || c.startedAt >= a.startedAt ? c : a), undefined);
      if (latest !== undefined && latest.status !== 'failed') extra.childExecutionId = latest.executionId;
    }
    const job = this.rt.queues.nodeJob(target(exec), node, extra);
    if (extra.delayUntil !== undefined) job.opts.delay = Math.max(0, extra.delayUntil - Date.now());
    return job;
  }

  /** A pending execution has neither its start job nor its entry job (the start already fired). */
  private async startIsLost(exec: WorkflowExecution): Promise<boolean> {
    if (Object.keys(exec.nodeResults).length > 0) return false;
    const graph = await this.rt.workflows.get(exec.workflowId, exec.workflowVersion);
    const [start, entry] = await Promise.all([
      this.rt.queues.workflowQueue.getJob(startJobId(exec.executionId)),
      this.rt.queues.nodeQueue.getJob(nodeJobId(exec.executionId, graph.definition.entryNodeId)),
    ]);
    if (start !== undefined || entry !== undefined) return false;
    const fresh = await this.rt.store.getExecution(exec.executionId);
    return fresh !== null && fresh.status === 'pending' && Object.keys(fresh.nodeResults).length === 0;
  }
}

/**
 * What the store says should be queued for a running execution: nodes without a result that are
 * ready to run and have been for long enough (`readyBefore`), and whether an advance must be
 * finished (a node to skip, or every node settled). `frontier` is what that advance starts from.
 */
export function lostCandidates(graph: WorkflowGraph, exec: WorkflowExecution, readyBefore: number): { run: NodeDefinition[]; advance: boolean; frontier: string[] } {
  const run: NodeDefinition[] = [];
  const frontier = new Set<string>();
  for (const node of graph.nodes.values()) {
    if (exec.nodeResults[node.id] !== undefined) continue;
    const r = readiness(node, exec.nodeResults);
    if (r === 'waiting' || readySince(node, exec) >= readyBefore) continue;
    if (r === 'run') run.push(node);
    else for (const p of node.inputs) frontier.add(p);
  }
  // Every node settled yet still running: the last node's advance died before the completion.
  const lastSettledAt = Math.max(0, ...Object.values(exec.nodeResults).map((r) => r.completedAt));
  const completionLost = isSettled(graph, exec.nodeResults) && lastSettledAt < readyBefore;
  return { run, advance: frontier.size > 0 || completionLost, frontier: [...frontier] };
}

/** When a node became ready: its last parent settled, or (a root) the execution was created. */
export function readySince(node: NodeDefinition, exec: WorkflowExecution): number {
  let at = node.inputs.length === 0 ? exec.startedAt : 0;
  for (const p of node.inputs) at = Math.max(at, exec.nodeResults[p]?.completedAt ?? Infinity);
  return at;
}
