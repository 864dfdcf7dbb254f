/**
 * `createTestEngine`: a real SPANE engine (real BullMQ, on its PostgreSQL backend in an
 * in-process PGlite, with an in-memory store) for one test, with node mocks and a virtual clock.
 *
 * @module
 */
import { Queue } from 'bullmq';
import type { NodeResult, WorkflowDefinitionWithExecutors, WorkflowExecution } from '../definition/types.js';
import type { WorkflowResult } from '../definition/typed-workflow.js';
import { EngineClosedError, InvalidArgumentError, InvalidStateError } from '../errors.js';
import type { SerializedError } from '../errors.js';
import type { EngineConfig } from '../runtime/engine/config.js';
import type { NodeExecutorLike, NodeRegistry } from '../runtime/engine/registry.js';
import type { Logger } from '../runtime/engine/runtime.js';
import { engineInternals } from '../runtime/engine/test-hooks.js';
import type { StartArgs, WorkflowRef } from '../runtime/engine/typed-client.js';
import { WorkflowEngine } from '../runtime/engine/workflow-engine.js';
import type { SqlBackend } from '../runtime/queues/backends/sql-backend.js';
import { DLQ_QUEUE } from '../runtime/queues/jobs.js';
import { InMemoryExecutionStore } from '../store/memory.js';
import { asPglite } from '../store/pglite-client.js';
import { durationMs } from './duration.js';
import type { Duration } from './duration.js';
import { MockingRegistry } from './mocks.js';
import type { MockCall, MockImpl, NodeMock } from './mocks.js';
import { leaseBackend, returnBackend } from './shared-backend.js';
import { TimeSkipper, VirtualClock } from './time-skip.js';

/** Options of {@link createTestEngine}. */
export interface TestEngineOptions {
  /** Workflows to register (DSL-built ones bring their executors; JSON ones need `nodes` or `registry`). */
  workflows?: readonly WorkflowDefinitionWithExecutors[];
  /** Mocks by node id or node type, installed before anything runs (see {@link TestEngine.mockNode}). */
  mocks?: Readonly<Record<string, MockImpl<never>>>;
  /** Executors for the node types of JSON workflows, by type. */
  nodes?: Readonly<Record<string, NodeExecutorLike>>;
  /** A registry whose executors (and rate limits) are copied into the test engine's own. */
  registry?: NodeRegistry;
  /**
   * Engine options over the test engine's defaults (`eagerChains: true`, `reconcileIntervalMs: false`,
   * `events: false`: no event stream, which halves a run's cost on PGlite; `engine.observeEvents`
   * still sees every event, and `config: { events: true }` brings `engine.subscribe` back).
   * `prefix` cannot be set: every test engine has a database of its own.
   */
  config?: Omit<EngineConfig, 'prefix'>;
  /** Where the virtual clock starts (epoch ms or a Date). @defaultValue now */
  now?: number | Date;
  /** How long {@link TestEngine.run} and {@link TestEngine.advanceTime} wait for the engine to settle, in real ms. @defaultValue 10000 */
  timeoutMs?: number;
  /** Where worker-side faults are reported. @defaultValue silent: they show in the executions' results */
  logger?: Logger;
}

/** A finished run, as {@link TestEngine.run} returns it. */
export type TestRun<R> =
  | (TestRunBase & {
      /** Completed: every node settled. */
      status: 'completed';
      /** The workflow's result (its final node's output, or `{ finalNodeId: output }` for several), typed by a DSL workflow. */
      output: R;
      error?: undefined;
    })
  | (TestRunBase & {
      /** Failed or cancelled. */
      status: 'failed' | 'cancelled';
      output?: undefined;
      /** Why it failed (undefined when cancelled). */
      error: SerializedError | undefined;
    });

/** What every {@link TestRun} has. */
export interface TestRunBase {
  /** The execution's id. */
  executionId: string;
  /** Node results by node id (nodes that never ran are absent). */
  nodes: Record<string, NodeResult>;
  /** The whole execution record. */
  execution: WorkflowExecution;
}

/** The result type of a run of `W`: typed by a DSL workflow, `unknown` for an id. */
export type RunOutput<W> = W extends string ? unknown : WorkflowResult<W>;

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const silent: Logger = { warn: () => undefined, error: () => undefined };
/** How soon (real ms) a delayed job must fall due for `wait` to wait for it rather than call the engine idle. */
const SOON_MS = 1000;

/**
 * A SPANE engine for one test: real BullMQ on an in-process PGlite, an in-memory store, node
 * mocks and a virtual clock. Needs no Redis or PostgreSQL. Close it (or `await using`) at the end
 * of the test. See {@link createTestEngine}.
 */
export class TestEngine implements AsyncDisposable {
  /** The engine itself, for everything the test engine does not wrap. */
  readonly engine: WorkflowEngine;
  private readonly registry: MockingRegistry;
  private readonly clock: VirtualClock;
  private readonly backend: SqlBackend;
  private readonly skipper: TimeSkipper;
  private readonly queues = new Map<string, Queue>();
  private readonly timeoutMs: number;
  private closing: Promise<void> | undefined;

  /** @internal Use {@link createTestEngine}. */
  constructor(parts: { engine: WorkflowEngine; registry: MockingRegistry; clock: VirtualClock; backend: SqlBackend; timeoutMs: number }) {
    this.engine = parts.engine;
    this.registry = parts.registry;
    this.clock = parts.clock;
    this.backend = parts.backend;
    this.timeoutMs = parts.timeoutMs;
    this.skipper = new TimeSkipper(
      asPglite(parts.backend.pglite!),
      this.clock,
      (name) => this.queue(name),
      () => this.settle(),
    );
  }

  /** The virtual time, epoch ms: what the engine stamps results with. */
  now(): number {
    return this.clock.now();
  }

  /**
   * Replaces the executor of a node (by node id) or of every node of a type, until `restore()`
   * or the end of the test engine. A node id wins over a type. The mock gets the node's input and
   * returns its output; throwing fails the attempt (retried under the node's retry policy).
   *
   * @example
   * ```ts
   * const t = await createTestEngine({ workflows: [onboarding] });
   * const fetch = t.mockNode('fetch', (input: { userId: number }) => ({ id: input.userId, email: 'ada@example.test' }));
   * await t.run(onboarding, { userId: 1 });
   * console.log(fetch.calls); // [{ input: { userId: 1 }, attempt: 1, nodeId: 'fetch', executionId: '…' }]
   * ```
   */
  mockNode<I = unknown>(typeOrNodeId: string, impl: MockImpl<I>): NodeMock {
    this.assertOpen('mock a node');
    return this.registry.install(typeOrNodeId, impl as MockImpl<never>);
  }

  /** The calls recorded by the mock of `typeOrNodeId` (from `mocks` or {@link mockNode}); throws when there is none. */
  calls(typeOrNodeId: string): readonly MockCall[] {
    const calls = this.registry.calls(typeOrNodeId);
    if (calls === undefined) throw new InvalidArgumentError(`calls: no mock is installed for '${typeOrNodeId}'`);
    return calls;
  }

  /** Registers another workflow (see `WorkflowEngine.registerWorkflow`). */
  async register(workflow: WorkflowDefinitionWithExecutors): Promise<number> {
    this.assertOpen('register a workflow');
    const version = await this.engine.registerWorkflow(workflow);
    await this.skipper.observe();
    return version;
  }

  /**
   * Starts `workflow` (a DSL workflow, or a registered JSON workflow's id) and waits until its
   * execution ends; returns its typed output and node results. A failed or cancelled execution
   * is returned too (`status`, `error`), not thrown. Throws an `InvalidStateError` when the
   * engine has nothing left to run but the execution is still waiting (a delay, a retry backoff,
   * a scheduled start): start it with {@link start}, move time with {@link advanceTime}, then
   * {@link wait}.
   *
   * @example
   * ```ts
   * const t = await createTestEngine({ workflows: [onboarding], mocks: { 'send-email': { sent: true } } });
   * const run = await t.run(onboarding, { userId: 1 });
   * if (run.status === 'completed') console.log(run.output.sent); // typed: boolean
   * ```
   */
  async run<W extends WorkflowRef>(workflow: W, ...args: StartArgs<W>): Promise<TestRun<RunOutput<W>>> {
    const executionId = await this.start(workflow, ...args);
    return this.wait<W>(executionId);
  }

  /** Starts `workflow` and returns its execution id without waiting (see `WorkflowEngine.enqueueWorkflow`). */
  async start<W extends WorkflowRef>(workflow: W, ...args: StartArgs<W>): Promise<string> {
    this.assertOpen('start a workflow');
    if (typeof workflow === 'object' && workflow !== null) await this.ensureRegistered(workflow as unknown as WorkflowDefinitionWithExecutors);
    return this.engine.enqueueWorkflow(workflow, ...args);
  }

  /**
   * Waits until the execution ends and returns it as a {@link TestRun}; throws an
   * `InvalidStateError` when the engine has nothing left to run but the execution still waits
   * for time to pass (see {@link advanceTime}).
   */
  async wait<W extends WorkflowRef = string>(executionId: string): Promise<TestRun<RunOutput<W>>> {
    this.assertOpen('wait for an execution');
    const { rt } = engineInternals(this.engine);
    const deadline = Date.now() + this.timeoutMs;
    let idleChecks = 0;
    for (let round = 0; ; round++) {
      // An execution that ends in this process wakes the waiter at once; the engine's own
      // queries go first on PGlite's one session, so the idle check waits a few rounds.
      const woken = rt.settled.wait(executionId, 10);
      const exec = await this.engine.getExecution(executionId);
      if (exec === undefined) throw new InvalidArgumentError(`wait: no execution '${executionId}'`);
      if (TERMINAL.has(exec.status)) return this.toRun(exec);
      if (round >= 2) idleChecks = (await this.busy()) ? 0 : idleChecks + 1;
      // A delayed job due within moments of real time (a short delay node, a quick retry) fires
      // on its own: waiting for it is not waiting for time to pass.
      if (idleChecks >= 3 && (await this.dueSoon())) idleChecks = 0;
      if (idleChecks >= 3) {
        throw new InvalidStateError(
          `Execution '${executionId}' is ${exec.status} and waits for time to pass (a delay, a retry backoff or a scheduled start): start it with t.start(), call t.advanceTime(), then t.wait()`,
        );
      }
      if (Date.now() >= deadline) throw new InvalidStateError(`Execution '${executionId}' is still ${exec.status} after ${this.timeoutMs} ms`);
      await woken;
    }
  }

  /**
   * Moves the virtual clock forward by `duration` (ms, or `'1h'`, `'30m'`, `'1d12h'`...) without
   * waiting in real time: delay nodes, scheduled starts, retry backoffs and any other delayed job
   * due in the span run, in time order, with the clock at their due time, and cron schedules start
   * one execution per occurrence in the span. Resolves once the engine has settled at the end.
   *
   * @example
   * ```ts
   * const t = await createTestEngine({ workflows: [onboarding] });
   * const id = await t.start(onboarding, { userId: 1 });
   * await t.advanceTime('1d'); // delays, backoffs and schedules due within the day run now
   * console.log((await t.wait<typeof onboarding>(id)).status);
   * ```
   */
  async advanceTime(duration: Duration): Promise<void> {
    const ms = durationMs('advanceTime', duration);
    this.assertOpen('advance time');
    await this.skipper.advance(ms);
  }

  /**
   * Sends a signal to a waiting node of an execution: `WorkflowEngine.signal`, in both its forms
   * (the typed one takes the DSL workflow first). Then {@link wait} for the execution.
   *
   * @example
   * ```ts
   * const t = await createTestEngine();
   * const id = await t.start('expense-approval', { amount: 120 }); // a JSON workflow registered on t.engine
   * await t.signal(id, 'approval', { approved: true });
   * console.log((await t.wait(id)).status);
   * ```
   */
  get signal(): WorkflowEngine['signal'] {
    return this.engine.signal.bind(this.engine);
  }

  /**
   * Sends an event to every node waiting for it whose match holds: `WorkflowEngine.sendEvent`.
   * Returns `{ woken, executionIds }`; then {@link wait} for the executions.
   *
   * @example
   * ```ts
   * const t = await createTestEngine();
   * const id = await t.start('checkout', { orderId: 'o-1' }); // a JSON workflow registered on t.engine
   * await t.sendEvent('order.paid', { orderId: 'o-1' });
   * console.log((await t.wait(id)).status);
   * ```
   */
  get sendEvent(): WorkflowEngine['sendEvent'] {
    return this.engine.sendEvent.bind(this.engine);
  }

  /**
   * Forks a finished execution from a node: `WorkflowEngine.forkExecution`, in both its forms;
   * returns the fork's execution id, to {@link wait} for.
   *
   * @example
   * ```ts
   * const t = await createTestEngine({ workflows: [onboarding] });
   * const first = await t.run(onboarding, { userId: 1 });
   * const forkId = await t.fork(onboarding, first.executionId, { fromNodeId: 'welcome' });
   * console.log((await t.wait(forkId)).status);
   * ```
   */
  get fork(): WorkflowEngine['forkExecution'] {
    return this.engine.forkExecution.bind(this.engine);
  }

  /** Stops the engine and hands its database back (emptied) for the next test engine. Safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.engine.close();
      await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
      await returnBackend(this.backend);
    })();
    return this.closing;
  }

  /** `await using t = await createTestEngine(...)` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Registers a DSL workflow given to run/start that the test did not register (so its executors are known). */
  private async ensureRegistered(workflow: WorkflowDefinitionWithExecutors): Promise<void> {
    if (typeof workflow.id !== 'string' || (await this.engine.getWorkflow(workflow.id)) !== undefined) return;
    await this.register(workflow);
  }

  /** Whether any job is waiting or running (DLQ items wait for a person, not a worker: they do not count). */
  /** Whether a delayed job falls due within {@link SOON_MS} of real time. */
  private async dueSoon(): Promise<boolean> {
    const next = await this.skipper.nextRealDue();
    return next !== undefined && next - Date.now() <= SOON_MS;
  }

  private async busy(): Promise<boolean> {
    const { rows } = await asPglite(this.backend.pglite!).query<{ n: number }>(`SELECT count(*)::int AS n FROM bullmq.job WHERE state IN ('waiting', 'active') AND queue <> $1`, [
      DLQ_QUEUE,
    ]);
    return (rows[0]?.n ?? 0) > 0;
  }

  /** Resolves once no job has been waiting or running for a few checks in a row. */
  private async settle(): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    let quiet = 0;
    while (quiet < 2) {
      quiet = (await this.busy()) ? 0 : quiet + 1;
      if (Date.now() >= deadline) throw new InvalidStateError(`advanceTime: the engine was still running jobs after ${this.timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (queue === undefined) {
      const { factory, connection } = this.backend.bullmq;
      queue = new Queue(name, { connection: connection as never, prefix: this.backend.prefix }, factory as never);
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
    return queue;
  }

  private async toRun<W>(exec: WorkflowExecution): Promise<TestRun<RunOutput<W>>> {
    const base: TestRunBase = { executionId: exec.executionId, nodes: exec.nodeResults, execution: exec };
    if (exec.status === 'completed') {
      const output = (await this.engine.result(exec.workflowId, exec.executionId)) as RunOutput<W>;
      return { ...base, status: 'completed', output };
    }
    return {
      ...base,
      status: exec.status as 'failed' | 'cancelled',
      error: exec.errorDetails ?? (exec.error === undefined ? undefined : { message: exec.error, name: 'Error', retryable: false }),
    };
  }

  private assertOpen(operation: string): void {
    if (this.closing !== undefined) throw new EngineClosedError(operation);
  }
}

/**
 * A test engine for one test: a real {@link WorkflowEngine} in this process (BullMQ's PostgreSQL
 * backend on PGlite, an in-memory store, eager chains on), with no Redis or PostgreSQL server,
 * the given workflows registered and mocks installed, and its workers started. The first test
 * engine of a process opens the embedded database (from the template cache: about half a second);
 * later ones reuse it, emptied. Close it at the end of the test (`await t.close()`, or
 * `await using t = ...`).
 *
 * @example
 * ```ts
 * await using t = await createTestEngine({ workflows: [onboarding], mocks: { fetch: { id: 1, email: 'ada@example.test' } } });
 * const run = await t.run(onboarding, { userId: 1 });
 * console.log(run.status, run.nodes['fetch']?.data); // completed { id: 1, email: 'ada@example.test' }
 * ```
 */
export async function createTestEngine(options: TestEngineOptions = {}): Promise<TestEngine> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError('createTestEngine: options must be an object');
  const { workflows = [], mocks = {}, nodes = {}, registry: source, config = {}, now, timeoutMs = 10_000, logger = silent } = options;
  if (!Array.isArray(workflows)) throw new InvalidArgumentError("createTestEngine: 'workflows' must be an array of workflows");
  if (typeof mocks !== 'object' || mocks === null || Array.isArray(mocks)) throw new InvalidArgumentError("createTestEngine: 'mocks' must be an object of node id or type to mock");
  if (typeof nodes !== 'object' || nodes === null || Array.isArray(nodes)) throw new InvalidArgumentError("createTestEngine: 'nodes' must be an object of node type to executor");
  if (typeof config !== 'object' || config === null || 'prefix' in config) throw new InvalidArgumentError("createTestEngine: 'config' must be an object without 'prefix'");
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new InvalidArgumentError("createTestEngine: 'timeoutMs' must be a positive number of ms");
  const start = now instanceof Date ? now.getTime() : now;
  if (start !== undefined && !Number.isFinite(start)) throw new InvalidArgumentError("createTestEngine: 'now' must be a Date or epoch ms");

  const registry = new MockingRegistry();
  if (source !== undefined) {
    for (const type of source.getRegisteredTypes()) {
      registry.register(type, source.get(type)!);
      const limit = source.getRateLimit(type);
      if (limit !== undefined) registry.registerRateLimit(type, limit);
    }
  }
  for (const [type, executor] of Object.entries(nodes)) registry.register(type, executor);
  for (const [key, impl] of Object.entries(mocks)) registry.install(key, impl);

  const clock = new VirtualClock(start);
  const backend = await leaseBackend();
  let engine: WorkflowEngine | undefined;
  try {
    engine = new WorkflowEngine({
      registry,
      store: new InMemoryExecutionStore({ clock: clock.now }),
      backend,
      clock: clock.now,
      logger,
      config: { eagerChains: true, reconcileIntervalMs: false, events: false, ...config },
    });
    const t = new TestEngine({ engine, registry, clock, backend, timeoutMs });
    for (const workflow of workflows) await t.register(workflow);
    engine.startWorkers();
    return t;
  } catch (err) {
    await engine?.close().catch(() => undefined);
    await returnBackend(backend);
    throw err;
  }
}
