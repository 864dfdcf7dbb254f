import type { Job } from 'bullmq';
import { DelayedError, UnrecoverableError } from 'bullmq';
import { match, P } from 'ts-pattern';
import { buildInput, resultOf } from '../../definition/graph.js';
import { setOwn } from '../../definition/own.js';
import type { WorkflowGraph } from '../../definition/graph.js';
import type { ExecutionContext, ExecutionResult, NodeDefinition, NodeResult, WorkflowExecution } from '../../definition/types.js';
import { DataTooDeepError, NodeExecutionError, NonRetryableError, serializeError, SpaneError, UnknownNodeTypeError } from '../../errors.js';
import type { SerializedError } from '../../errors.js';
import { readExecutionHead } from '../../store/store.js';
import { advance, failExecution, parkJob, settleFailure, target } from './advance.js';
import { chainFrontier, eagerChild, keepLock, retryAfterEagerAttempt } from './eager.js';
import type { ChainState } from './eager.js';
import { idempotencyKey, nodeJobId } from '../queues/jobs.js';
import type { NodeJobData } from '../queues/jobs.js';
import { jsonProblem, kindOf, MAX_DATA_DEPTH } from '../../definition/json-check.js';
import { BUILTIN_NODE_KIND_FACTS, BUILTIN_NODE_KINDS, isBuiltinNodeKind } from '../../definition/node-kinds.js';
import { resolved, resolvedValue, saveNodeResultChecked } from './payloads.js';
import { escapedErrorRetry, infraRetryDelayMs, isFinalAttempt, isRetryableError, isRetryableResult, jobRetryOptions, stalledTooOften } from '../resilience/retry.js';
import { aggregate, AGGREGATOR_NODE_ID, stepSubWorkflow } from './sub-workflows.js';
import { stepEvent } from './events-wait.js';
import { fireWaitTimeout, stepWait } from './waits.js';
import type { Runtime } from '../engine/runtime.js';
import type { NodeSpan } from '../observe/tracing.js';

/** How one attempt of a node ended. */
type Outcome =
  | { kind: 'success'; data: unknown; nextNodes?: string[] | undefined }
  | { kind: 'failure'; error: string; details: SerializedError; retryable: boolean; data?: unknown }
  | { kind: 'waiting' }
  /** Done with the job without a result: a signal node waits in the store, or its timeout came too late. */
  | { kind: 'suspended'; status: 'waiting' | 'not-run'; reason?: string | undefined };

/** What a node job returns to BullMQ (kept small: results live in the store). @internal */
export interface NodeJobReturn {
  status: 'completed' | 'failed' | 'settled-before' | 'not-run' | 'waiting';
  reason?: string;
  /** Final results the aggregator of a sub-workflow flow collected. */
  collected?: number;
}

/** One delivery of a node's job: what the processor's steps work on. */
interface NodeRun {
  /** The execution's workflow graph. */
  graph: WorkflowGraph;
  /** The node the job runs. */
  node: NodeDefinition;
  /** The execution, as read for this delivery. */
  exec: WorkflowExecution;
  /** The node's job. */
  job: Job<NodeJobData>;
}

/** One attempt of a node's executor. */
interface NodeAttempt extends NodeRun {
  /** The worker's lock token for the job. */
  token: string | undefined;
  /** The attempt's number, from 1. */
  attempt: number;
  /** Input given by `enqueueNode`, used instead of the computed one. */
  inputData: unknown;
  /** The attempt's span's `traceparent`, when traced (the parent of a sub-workflow it starts). */
  traceparent?: string | undefined;
}

/** A node that just completed in a job, for {@link NodeProcessor.advanceAndChain}. */
interface Completed {
  /** The execution's workflow graph. */
  graph: WorkflowGraph;
  /** The execution, with the node's result. */
  exec: WorkflowExecution;
  /** The settled nodes to advance from (the node just completed, or a redelivered chain's frontier). */
  settled: string[];
  /** The job they ran in. */
  job: Job<NodeJobData>;
  /** The worker's lock token for the job. */
  token: string | undefined;
  /** When the node's status was read (see `advance`'s `handoffReadAt`). */
  readAt?: number | undefined;
  /**
   * A redelivery that found the nodes settled: their children may have been enqueued before
   * the crash, so a child with a job of its own is left to that job instead of chained.
   */
  redelivered?: boolean;
}

/**
 * Runs node jobs. For each job it reads the execution, and then: skips nodes that already have
 * a result (finishing their advance instead), parks jobs of paused or failed executions, runs
 * the executor, writes the result, and advances the execution.
 *
 * Executor failures follow the node's retry policy (BullMQ attempts and backoff). Faults of
 * the store or Redis around the executor do not use up those attempts: the job is rescheduled
 * with backoff until the infrastructure answers again. Every retry decision is asked of
 * resilience/retry.ts.
 */
export class NodeProcessor {
  private readonly inFlight = new Map<string, Set<AbortController>>();
  private closing = false;

  constructor(private readonly rt: Runtime) {}

  /** BullMQ processor entry point. */
  async processNodeJob(job: Job<NodeJobData>, token?: string): Promise<NodeJobReturn> {
    try {
      return await this.run(job, token);
    } catch (err) {
      const retry = escapedErrorRetry(err);
      if (retry === 'rethrow') throw err;
      if (retry === 'fail') throw new UnrecoverableError((err as Error).message);
      return this.rescheduleAfterInfraFault(job, token, err);
    }
  }

  /** Called when the worker starts (`false`) and starts closing (`true`): a closing worker starts no new chained node. */
  setClosing(closing: boolean): void {
    this.closing = closing;
  }

  /** Aborts the signals of this process's in-flight nodes of an execution. */
  abortExecution(executionId: string): void {
    for (const controller of this.inFlight.get(executionId) ?? []) controller.abort(new Error(`Execution '${executionId}' was cancelled`));
  }

  private async run(job: Job<NodeJobData>, token: string | undefined): Promise<NodeJobReturn> {
    const { rt } = this;
    const data = job.data;
    if (!rt.tracing.settled) await rt.tracing.ready();
    if (data.nodeId === AGGREGATOR_NODE_ID) return aggregate(rt, job);
    // A parent that just ran in this process may have handed its view over (see handoff.ts);
    // only a first delivery takes it.
    const handed = job.attemptsMade === 0 && job.stalledCounter === 0 ? rt.handoff.take(data.executionId, data.nodeId) : undefined;
    const readAt = handed?.readAt ?? Date.now();
    const read = handed === undefined ? await this.readHead(data) : { exec: handed.exec, graph: undefined };
    const exec = read.exec;
    if (exec === null) return { status: 'not-run', reason: 'execution not found' };
    if (exec.status === 'cancelled' || exec.status === 'completed') return { status: 'not-run', reason: `execution ${exec.status}` };
    const graph = read.graph ?? (await rt.workflows.get(data.workflowId, data.workflowVersion));
    const node = graph.nodes.get(data.nodeId);
    if (node === undefined) throw new UnrecoverableError(`Workflow '${data.workflowId}' v${data.workflowVersion} has no node '${data.nodeId}'`);

    const existing = resultOf(exec.nodeResults, node.id);
    // A signal node's timeout job that finds the node settled (by its signal) has nothing to do.
    if (data.waitTimeout === true && existing !== undefined) return { status: 'not-run', reason: 'node already settled' };
    if (existing !== undefined) {
      // Settled by an earlier delivery of this job that died before it finished advancing.
      // The job may also have run an eager chain below the node: go on after its last settled node.
      // The head holds the node's neighbours only; a chain may have settled nodes further down,
      // so this rare path reads the whole execution.
      const whole = (await rt.store.getExecution(exec.executionId)) ?? exec;
      const frontier = chainFrontier(graph, whole, node.id);
      if (frontier.failed !== undefined) await failExecution(rt, { exec: whole, node: frontier.failed.node, result: frontier.failed.result, job });
      else await this.advanceAndChain({ graph, exec: whole, settled: frontier.settled, job, token, redelivered: true });
      return { status: 'settled-before' };
    }
    if (stalledTooOften(job.stalledCounter, rt.config.maxStalledCount)) return this.giveUpAfterStalls({ graph, node, exec, job });
    if (exec.status === 'paused' || exec.status === 'failed') await parkJob(rt, { job, token, exec });
    if (exec.status === 'pending' && (await rt.store.transitionExecution(exec.executionId, ['pending'], 'running'))) {
      rt.events.publish({ type: 'workflow:started', executionId: exec.executionId, workflowId: exec.workflowId });
    }
    exec.status = 'running';

    const attempt = job.attemptsMade + 1 + (data.eagerAttempts ?? 0);
    const startedAt = rt.clock();
    const ids = { executionId: exec.executionId, workflowId: exec.workflowId, nodeId: node.id, nodeType: node.type, attempt };
    const limit = rt.registry.getRateLimit(node.type);
    if (limit !== undefined && token !== undefined) {
      const wait = await rt.rateLimiter.acquire(node.type, limit);
      if (wait > 0) {
        // Over the limit: back to the delayed set for the next window, without using an attempt.
        await job.moveToDelayed(Date.now() + wait, token);
        rt.events.publish({ type: 'node:delayed', ...ids, data: { reason: 'rate-limit', delayMs: wait } }, job);
        throw new DelayedError();
      }
    }
    const announces = !isBuiltinNodeKind(node.type) || BUILTIN_NODE_KIND_FACTS[node.type].announcesStart;
    if (announces && data.waitTimeout !== true) rt.events.publish({ type: 'node:started', ...ids }, job);
    const { outcome, span } = await this.tracedAttempt({ graph, node, exec, job, token, attempt, inputData: data.inputData });
    if (outcome.kind === 'waiting') throw new DelayedError();
    if (outcome.kind === 'suspended') return { status: outcome.status, ...(outcome.reason !== undefined && { reason: outcome.reason }) };
    const completedAt = rt.clock();
    const durationMs = completedAt - startedAt;
    span?.end(
      outcome.kind === 'success' ? 'completed' : isFinalAttempt({ attempt, retryable: outcome.retryable }, job.opts.attempts) ? 'failed' : 'retrying',
      outcome.kind === 'failure' ? outcome.details : undefined,
    );

    if (outcome.kind === 'success') {
      await recordSuccess(rt, { exec, job, ids, outcome, startedAt, completedAt });
      await this.advanceAndChain({ graph, exec, settled: [node.id], job, token, readAt });
      return { status: 'completed' };
    }

    if (!isFinalAttempt({ attempt, retryable: outcome.retryable }, job.opts.attempts)) {
      rt.events.publish({ type: 'node:retrying', ...ids, durationMs, error: outcome.error, errorDetails: outcome.details }, job);
      throw new NodeExecutionError(node.id, outcome.error);
    }
    const result: NodeResult & { status: 'failed' } = { status: 'failed', error: outcome.error, errorDetails: outcome.details, attempts: attempt, startedAt, completedAt };
    if (outcome.data !== undefined) result.data = outcome.data;
    const settled = await settleFailure(rt, { graph, exec, node, result, job, details: { attempt, durationMs, stack: outcome.details.stack } });
    if (settled === 'continued') return { status: 'failed', reason: outcome.error };
    throw new UnrecoverableError(outcome.error);
  }

  /**
   * Reads what the node's job needs of its execution: the fields, and the results of the node's
   * parents (its input), of itself (already settled?) and of its children (what advancing looks
   * at first), never the whole execution. The graph says which ids those are; when the workflow
   * cannot be found the job still learns whether its execution exists.
   */
  private async readHead(data: NodeJobData): Promise<{ exec: WorkflowExecution | null; graph: WorkflowGraph | undefined }> {
    let graph: WorkflowGraph;
    try {
      graph = await this.rt.workflows.get(data.workflowId, data.workflowVersion);
    } catch (err) {
      const exec = await readExecutionHead(this.rt.store, data.executionId, [data.nodeId]);
      if (exec === null || exec.status === 'cancelled' || exec.status === 'completed') return { exec, graph: undefined };
      throw err;
    }
    const node = graph.nodes.get(data.nodeId);
    const ids = node === undefined ? [data.nodeId] : [...node.inputs, node.id, ...node.outputs];
    return { exec: await readExecutionHead(this.rt.store, data.executionId, ids), graph };
  }

  /**
   * {@link attempt} inside the attempt's `spane.node` span when tracing is on (observe/tracing.ts).
   * The caller ends the span, knowing whether a failure is retried; a waiting node's ends here.
   */
  private async tracedAttempt(run: NodeAttempt): Promise<{ outcome: Outcome; span: NodeSpan | undefined }> {
    const tracing = this.rt.tracing.current;
    if (tracing === undefined) return { outcome: await this.attempt(run), span: undefined };
    const { exec, node, job, attempt } = run;
    const ids = { executionId: exec.executionId, workflowId: exec.workflowId, workflowVersion: exec.workflowVersion, nodeId: node.id, nodeType: node.type, attempt };
    const span = tracing.startNode(ids, job.data.traceparent ?? exec.traceParent);
    try {
      const outcome = await span.run(() => this.attempt({ ...run, traceparent: span.traceparent }));
      if (outcome.kind === 'waiting') span.end('waiting');
      return { outcome, span };
    } catch (err) {
      span.end('failed', err);
      throw err;
    }
  }

  private async attempt(run: NodeAttempt): Promise<Outcome> {
    const { graph, node, exec, job, token, attempt, inputData, traceparent } = run;
    // Claim-checked values are loaded here, so executors never see a reference. A missing payload
    // fails the node (not retried: the data is gone), naming the execution and the node.
    let full: WorkflowExecution;
    let input: unknown;
    try {
      // Only the parents' results: what the input is built from and what `previousResults` shows.
      const parents: Record<string, NodeResult> = {};
      for (const p of node.inputs) {
        const r = resultOf(exec.nodeResults, p);
        if (r !== undefined) setOwn(parents, p, r);
      }
      full = await resolved(this.rt, { ...exec, nodeResults: parents }, node.id);
      input =
        inputData !== undefined
          ? await resolvedValue(this.rt, { executionId: exec.executionId, value: inputData, nodeId: node.id })
          : buildInput(node, full.nodeResults, full.initialData);
    } catch (err) {
      if (err instanceof SpaneError) return failure(err, false);
      throw err;
    }
    if (isBuiltinNodeKind(node.type)) {
      switch (node.type) {
        // The wait itself was the job's BullMQ delay; the input goes on unchanged.
        case BUILTIN_NODE_KINDS.delay:
          return { kind: 'success', data: input };
        case BUILTIN_NODE_KINDS.signal: {
          const step = job.data.waitTimeout === true ? await fireWaitTimeout(this.rt, { node, exec, job }) : await stepWait(this.rt, { node, exec, job });
          return match(step)
            .with({ kind: 'failure' }, (f): Outcome => failure(f.error, false))
            .otherwise((other) => other);
        }
        case BUILTIN_NODE_KINDS.event: {
          // `full`: a `$.nodes.<parent>` match reads the parent's (resolved) output.
          const step = job.data.waitTimeout === true ? await fireWaitTimeout(this.rt, { node, exec, job }) : await stepEvent(this.rt, { node, exec: full, job });
          return match(step)
            .with({ kind: 'failure' }, (f): Outcome => failure(f.error, false))
            .otherwise((other) => other);
        }
        case BUILTIN_NODE_KINDS.subWorkflow: {
          const step = await stepSubWorkflow(this.rt, { node, exec, input, job, token, traceparent });
          return match(step)
            .with({ kind: 'failure' }, (f): Outcome => ({ ...failure(f.error, f.retryable), data: f.data }))
            .otherwise((other) => other);
        }
        default: {
          // A kind added to node-kinds.ts without a case here stops the build.
          const unhandled: never = node.type;
          return failure(new UnknownNodeTypeError(unhandled, node.id), false);
        }
      }
    }
    const executor = this.rt.registry.get(node.type);
    if (executor === undefined) return failure(new UnknownNodeTypeError(node.type, node.id), false);

    const controller = new AbortController();
    const context: ExecutionContext = {
      workflowId: exec.workflowId,
      executionId: exec.executionId,
      nodeId: node.id,
      nodeType: node.type,
      inputData: input,
      nodeConfig: node.config,
      previousResults: full.nodeResults,
      initialData: full.initialData,
      attempt,
      idempotencyKey: idempotencyKey(exec.executionId, node.id),
      depth: exec.depth,
      signal: controller.signal,
    };
    if (exec.parentExecutionId !== undefined) context.parentExecutionId = exec.parentExecutionId;
    let returned: unknown;
    const breakerKey = this.rt.registry.getCircuitBreakerKey(node.type, node.config);
    // A returned `{ success: false }` must count as a failure for the breaker too.
    const call = async () => {
      const r: unknown = await executor.execute(context);
      if (typeof r === 'object' && r !== null && (r as ExecutionResult).success === false) throw new ReturnedFailure(r);
      return r;
    };
    this.track(exec.executionId, controller, true);
    try {
      returned = breakerKey === null ? await call() : await this.rt.breakers.execute(breakerKey, node.config.circuitBreaker ?? {}, call);
    } catch (err) {
      if (err instanceof ReturnedFailure) returned = err.result;
      // By brand and by name, so an error class from another copy of SPANE (or BullMQ) counts too.
      else return failure(err, isRetryableError(err));
    } finally {
      this.track(exec.executionId, controller, false);
    }
    return interpret(graph, node, returned);
  }

  /**
   * Advances from nodes that settled in `job`, and while that leaves exactly one child that may
   * chain (see eager.ts), runs it here and goes on from it. Stops at the first child that goes
   * to the queue instead; the chain's job then completes.
   */
  private async advanceAndChain(done: Completed): Promise<void> {
    const { rt } = this;
    const { graph, job, token } = done;
    const chain: ChainState = { job, length: 1, closing: this.closing };
    let { exec, settled, readAt } = done;
    let mayHaveJob = done.redelivered === true;
    let release: (() => void) | undefined;
    try {
      for (;;) {
        chain.closing = this.closing;
        const { claimed } = await advance(rt, { graph, exec, settled, job, handoffReadAt: readAt, claim: (ready) => eagerChild(rt, graph, chain, ready) });
        if (claimed === undefined) return;
        if (mayHaveJob) {
          // Enqueued before the crash: its job runs it. Otherwise nobody has touched it yet.
          if ((await rt.queues.nodeQueue.getJobState(nodeJobId(exec.executionId, claimed.id))) !== 'unknown') return;
          mayHaveJob = false;
        }
        release ??= keepLock(rt, job, token);
        const next = await this.runChained({ graph, node: claimed, job, token });
        if (next === undefined) return;
        chain.length += 1;
        ({ exec } = next);
        settled = [claimed.id];
        readAt = next.readAt;
      }
    } finally {
      release?.();
    }
  }

  /**
   * Runs one attempt of `node` in the chain's job, as its own job's first attempt would: the same
   * pause/cancel checks, rate limit, events, result and retry decision. Returns the execution to
   * go on from when the node completed; undefined when it failed for good (settled here) or went
   * to the queue (paused or failed execution, closing worker, rate limited, attempt to retry).
   */
  private async runChained(run: Omit<NodeRun, 'exec'> & { token: string | undefined }): Promise<{ exec: WorkflowExecution; readAt: number } | undefined> {
    const { rt } = this;
    const { graph, node, job, token } = run;
    // The view its parent's advance just offered, under the handoff's rules (see handoff.ts).
    const handed = rt.handoff.take(job.data.executionId, node.id);
    const readAt = handed?.readAt ?? Date.now();
    // Otherwise what its own job would read: the head with its parents, itself and its children.
    const exec = handed?.exec ?? (await readExecutionHead(rt.store, job.data.executionId, [...node.inputs, node.id, ...node.outputs]));
    if (exec === null || exec.status === 'cancelled' || exec.status === 'completed') return undefined;
    if (resultOf(exec.nodeResults, node.id) !== undefined) return undefined;
    const toQueue = async (extra?: { delay: number }): Promise<undefined> => {
      const queued = rt.queues.nodeJob(target(exec), node);
      if (extra !== undefined) queued.opts.delay = extra.delay;
      await rt.queues.nodeQueue.add(queued.name, queued.data, queued.opts);
      return undefined;
    };
    // Its own job parks (paused or failed execution) or is picked up by another worker (closing).
    if (exec.status !== 'running' || this.closing) return toQueue();

    const attempt = 1;
    const startedAt = rt.clock();
    const ids = { executionId: exec.executionId, workflowId: exec.workflowId, nodeId: node.id, nodeType: node.type, attempt };
    const limit = rt.registry.getRateLimit(node.type);
    if (limit !== undefined) {
      const wait = await rt.rateLimiter.acquire(node.type, limit);
      if (wait > 0) {
        await toQueue({ delay: wait });
        rt.events.publish({ type: 'node:delayed', ...ids, data: { reason: 'rate-limit', delayMs: wait } }, job);
        return undefined;
      }
    }
    rt.events.publish({ type: 'node:started', ...ids }, job);
    const { outcome, span } = await this.tracedAttempt({ graph, node, exec, job, token, attempt, inputData: undefined });
    // Only built-in kinds wait, and those never chain.
    if (outcome.kind === 'waiting') return toQueue();
    if (outcome.kind === 'suspended') return undefined;
    const completedAt = rt.clock();
    const durationMs = completedAt - startedAt;
    const attempts = jobRetryOptions(node).attempts;
    span?.end(
      outcome.kind === 'success' ? 'completed' : isFinalAttempt({ attempt, retryable: outcome.retryable }, attempts) ? 'failed' : 'retrying',
      outcome.kind === 'failure' ? outcome.details : undefined,
    );
    if (outcome.kind === 'success') {
      await recordSuccess(rt, { exec, job, ids, outcome, startedAt, completedAt });
      return { exec, readAt };
    }
    if (!isFinalAttempt({ attempt, retryable: outcome.retryable }, attempts)) {
      rt.events.publish({ type: 'node:retrying', ...ids, durationMs, error: outcome.error, errorDetails: outcome.details }, job);
      const retry = retryAfterEagerAttempt(rt, exec, node);
      await rt.queues.nodeQueue.add(retry.name, retry.data, retry.opts);
      return undefined;
    }
    const result: NodeResult & { status: 'failed' } = { status: 'failed', error: outcome.error, errorDetails: outcome.details, attempts: attempt, startedAt, completedAt };
    if (outcome.data !== undefined) result.data = outcome.data;
    await settleFailure(rt, { graph, exec, node, result, job, details: { attempt, durationMs, stack: outcome.details.stack } });
    return undefined;
  }

  /**
   * The node's workers kept stopping mid-run (crash, out of memory, lost lock): fail the node the
   * way a last failed attempt does, so the execution fails (or continues) instead of hanging.
   */
  private async giveUpAfterStalls(run: NodeRun): Promise<NodeJobReturn> {
    const { graph, node, exec, job } = run;
    const { rt } = this;
    const error = `node '${node.id}' was interrupted ${job.stalledCounter} times (its worker stopped or lost its lock); the limit is maxStalledCount = ${rt.config.maxStalledCount}`;
    const errorDetails: SerializedError = { message: error, name: 'Error', retryable: false };
    const result: NodeResult & { status: 'failed' } = {
      status: 'failed',
      error,
      errorDetails,
      attempts: job.attemptsMade + 1 + (job.data.eagerAttempts ?? 0),
      completedAt: rt.clock(),
    };
    if ((await settleFailure(rt, { graph, exec, node, result, job })) === 'continued') return { status: 'failed', reason: error };
    throw new UnrecoverableError(error);
  }

  private track(executionId: string, controller: AbortController, add: boolean): void {
    let set = this.inFlight.get(executionId);
    if (add) {
      if (set === undefined) this.inFlight.set(executionId, (set = new Set()));
      set.add(controller);
    } else if (set !== undefined) {
      set.delete(controller);
      if (set.size === 0) this.inFlight.delete(executionId);
    }
  }

  private async rescheduleAfterInfraFault(job: Job<NodeJobData>, token: string | undefined, fault: unknown): Promise<never> {
    const retries = (job.data.infraRetries ?? 0) + 1;
    const wait = infraRetryDelayMs(retries);
    this.rt.logger.warn(`node job ${job.id} hit an infrastructure fault; retrying in ${wait} ms`, { error: serializeError(fault).message });
    if (token === undefined) throw fault;
    try {
      await job.updateData({ ...job.data, infraRetries: retries });
      await job.moveToDelayed(Date.now() + wait, token);
    } catch {
      throw fault; // Redis itself is away: let BullMQ's stalled-job recovery bring the job back.
    }
    throw new DelayedError();
  }
}

/** Carries a returned failure through the circuit breaker, which only sees thrown errors. */
class ReturnedFailure extends Error {
  constructor(readonly result: unknown) {
    super('executor returned success: false');
  }
}

/** A failed attempt; `retryable` is the runtime's decision, and what the stored error says. */
function failure(err: unknown, retryable: boolean): Extract<Outcome, { kind: 'failure' }> {
  const details = { ...serializeError(err), retryable };
  return { kind: 'failure', error: details.message, details, retryable };
}

/** Checks what an executor returned, including that `nextNodes` only names the node's children. */
function interpret(graph: WorkflowGraph, node: NodeDefinition, returned: unknown): Outcome {
  return match(returned)
    .with({ success: true }, (r: ExecutionResult) => {
      if (r.nextNodes !== undefined) {
        if (!Array.isArray(r.nextNodes) || r.nextNodes.some((n) => typeof n !== 'string')) {
          return failure(`node '${node.id}' returned nextNodes that is not an array of node ids`, false);
        }
        const strangers = r.nextNodes.filter((n) => !node.outputs.includes(n));
        if (strangers.length > 0) {
          return failure(
            `node '${node.id}' of workflow '${graph.definition.id}' chose ${strangers.map((s) => `'${s}'`).join(', ')} in nextNodes, but its outputs are [${node.outputs.join(', ')}]`,
            false,
          );
        }
      }
      const problem = outputProblem(node, r.data);
      if (problem !== undefined) return failure(problem, false);
      return { kind: 'success' as const, data: r.data, nextNodes: r.nextNodes };
    })
    .with({ success: false }, (r: ExecutionResult) =>
      failure(typeof r.error === 'string' && r.error.length > 0 ? r.error : `node '${node.id}' returned success: false`, isRetryableResult(r)),
    )
    .with(P._, (r) => failure(`executor of node '${node.id}' must return { success: boolean, ... }, got ${describe(r)}`, false))
    .exhaustive();
}

/**
 * Why a node's output cannot be stored (a cycle, a BigInt, nesting beyond MAX_DATA_DEPTH), as an
 * error naming the node and the path, never the data. Lenient like JSON otherwise: what it drops
 * or turns into null is stored as it stores it.
 */
function outputProblem(node: NodeDefinition, data: unknown): SpaneError | undefined {
  const problem = jsonProblem(data, 'data', { strict: false });
  if (problem === undefined) return undefined;
  if (problem.kind === 'too-deep')
    return new DataTooDeepError(`node '${node.id}' returned data that nests deeper than ${MAX_DATA_DEPTH} levels: ${problem.message}`, MAX_DATA_DEPTH);
  return new NonRetryableError(`node '${node.id}' returned data that cannot be stored as JSON: ${problem.message}`);
}

/** What kind of value an executor returned, without the value (it may be user data). */
function describe(value: unknown): string {
  const kind = kindOf(value);
  return kind === 'an object' ? `an object without a boolean 'success'` : kind;
}

/** A node attempt that succeeded, for {@link recordSuccess}. */
interface Success {
  exec: WorkflowExecution;
  job: Job<NodeJobData>;
  /** The attempt's event fields (execution, workflow, node, type, attempt). */
  ids: { executionId: string; workflowId: string; nodeId: string; nodeType: string; attempt: number };
  outcome: Extract<Outcome, { kind: 'success' }>;
  startedAt: number;
  completedAt: number;
}

/**
 * Writes a completed node's result (its own job's or a chained run's), puts it in `exec` and
 * publishes `node:completed`. Large data goes to the payload table; the snapshot and the event
 * (Redis) keep the reference.
 */
async function recordSuccess(rt: Runtime, success: Success): Promise<void> {
  const { exec, job, ids, outcome, startedAt, completedAt } = success;
  const result: NodeResult = { status: 'completed', data: outcome.data, attempts: ids.attempt, startedAt, completedAt };
  if (outcome.nextNodes !== undefined) result.nextNodes = outcome.nextNodes;
  const stored = await saveNodeResultChecked(rt, { executionId: exec.executionId, nodeId: ids.nodeId, result });
  exec.nodeResults[ids.nodeId] = stored;
  rt.events.publish({ type: 'node:completed', ...ids, durationMs: completedAt - startedAt, data: stored.data }, job);
}
