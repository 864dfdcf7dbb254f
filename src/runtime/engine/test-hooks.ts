/**
 * The one door through which SPANE's own tests reach an engine's internals, so they never index
 * private fields by string (`engine['rt']`). Nothing here is part of the public API: it is not
 * exported from `src/index.ts`, may change in any release, and user code must not import it.
 */
import type { Worker } from 'bullmq';
import type { SqlBackend } from '../queues/backends/sql-backend.js';
import type { EngineConfig } from './config.js';
import type { Runtime } from './runtime.js';
import type { WorkflowEngine } from './workflow-engine.js';

/**
 * What a test may reach inside an engine.
 *
 * @internal Exposed only for SPANE's own tests.
 */
export interface EngineInternals {
  /** The engine's runtime: store, queues, event stream, logger, ... */
  readonly rt: Runtime;
  /** The engine's node worker while its workers run (a test closes it to simulate a crash). */
  nodeWorker(): Worker | undefined;
  /** The PostgreSQL-family backend the engine runs on; undefined on Redis. */
  readonly sqlBackend: SqlBackend | undefined;
}

// A WeakMap, not a property: the engine's fields stay private to users and nothing leaks when an
// engine is dropped.
const registered = new WeakMap<WorkflowEngine, EngineInternals>();

/**
 * Called once by the {@link WorkflowEngine} constructor.
 *
 * @internal Exposed only for SPANE's own tests.
 */
export function registerEngineInternals(engine: WorkflowEngine, internals: EngineInternals): void {
  registered.set(engine, internals);
}

/**
 * The internals of `engine`, for SPANE's own tests (import it from this source path).
 *
 * @internal Exposed only for SPANE's own tests; not part of the public API.
 * @example
 * ```ts
 * const job = await engineInternals(engine).rt.queues.nodeQueue.getJob(nodeJobId(executionId, 'wait'));
 * ```
 */
export function engineInternals(engine: WorkflowEngine): EngineInternals {
  const internals = registered.get(engine);
  if (internals === undefined) throw new Error('engineInternals: not a WorkflowEngine built by this copy of SPANE');
  return internals;
}

let testDefaults: EngineConfig = {};

/**
 * Sets engine options that every engine created afterwards in this process starts from (its own
 * `config` wins over them), so a whole test suite can run with an option on; `{}` clears them.
 * test/setup/eager-chains.ts uses it for `SPANE_TEST_EAGER_CHAINS=0` and `=1`.
 *
 * @internal Exposed only for SPANE's own tests; not part of the public API.
 */
export function setTestEngineDefaults(config: EngineConfig): void {
  testDefaults = { ...config };
}

/**
 * `config` over the defaults set by {@link setTestEngineDefaults}; called where engine options
 * are checked.
 *
 * @internal Exposed only for SPANE's own tests.
 */
export function withTestEngineDefaults(config: EngineConfig): EngineConfig {
  // A config that is not an object is left for the engine's checks to refuse.
  if (Object.keys(testDefaults).length === 0 || typeof config !== 'object' || config === null || Array.isArray(config)) return config;
  return { ...testDefaults, ...config };
}
