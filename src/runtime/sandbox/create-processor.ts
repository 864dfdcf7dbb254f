/**
 * The BullMQ sandboxed processor SPANE runs in worker threads, and the factory for custom ones.
 *
 * @module
 */
import { isMainThread, threadId } from 'node:worker_threads';
import type { BroadcastChannel } from 'node:worker_threads';
import { Job } from 'bullmq';
import type { JobJson, SandboxedJob } from 'bullmq';
import { InvalidConfigError } from '../../errors.js';
import type { ExecutionStore } from '../../store/store.js';
import type { NodeJobData } from '../queues/jobs.js';
import type { NodeRegistry } from '../engine/registry.js';
import { channelLogger, openChannel, post } from './channel.js';
import { readThreadSettings, SANDBOX_ENV } from './env.js';
import { importModule, isRegistryLike, registryFromModule, withinTimeout } from './load-module.js';
import { serialize } from './serialize.js';
import { createThreadRuntime } from './thread-runtime.js';
import type { ThreadRuntime } from './thread-runtime.js';

/** Property set on errors that SPANE's processor threw on purpose (retry, park, final failure). */
export const PROCESSED_MARK = 'spaneSandbox';

/** Options of {@link createSandboxProcessor}. */
export interface SandboxProcessorOptions {
  /**
   * The thread's executors: a NodeRegistry or a (possibly async) function returning one.
   * @defaultValue the registry of the module named by `SPANE_EXECUTORS_MODULE` (the engine's `executorsModule`)
   */
  registry?: NodeRegistry | (() => NodeRegistry | Promise<NodeRegistry>);
  /**
   * The store, shared with the main thread: a store or a (possibly async) function returning one.
   * The thread does not close it.
   * @defaultValue a DrizzleStore on `SPANE_DATABASE_URL` (or `DATABASE_URL`)
   */
  store?: ExecutionStore | (() => ExecutionStore | Promise<ExecutionStore>);
  /**
   * Where settings are read from.
   * @defaultValue process.env
   */
  env?: Record<string, string | undefined>;
}

/** A BullMQ sandboxed processor for the `node-execution` queue. */
export type SandboxProcessor = (job: SandboxedJob<NodeJobData>, token?: string, signal?: AbortSignal) => Promise<unknown>;

/**
 * Makes a sandboxed processor: on its first job it builds the thread's runtime (settings from the
 * environment the engine passes to its threads: `SPANE_REDIS_URL`, `SPANE_DATABASE_URL` and the
 * rest, listed in docs/worker-threads.md), then runs each job through the ordinary NodeProcessor. A custom processor file exports the result as default:
 *
 * @example
 * ```ts
 * // my-processor.ts, compiled to my-processor.js; engine config:
 * // { useWorkerThreads: true, processorFile: '/abs/path/my-processor.js' }
 * import { createSandboxProcessor, NodeRegistry } from 'spane';
 * const registry = new NodeRegistry().register('echo', async (ctx) => ({ success: true, data: ctx.inputData }));
 * export default createSandboxProcessor({ registry });
 * ```
 */
export function createSandboxProcessor(options: SandboxProcessorOptions = {}): SandboxProcessor {
  const channelName = (options.env ?? process.env)[SANDBOX_ENV.channel];
  const channel = channelName === undefined || channelName === '' ? undefined : openChannel(channelName);
  let state: Promise<ThreadRuntime> | undefined;
  const getState = () => {
    state ??= init(options, channel).catch((err: unknown) => {
      state = undefined; // the next job tries again
      throw err;
    });
    return state;
  };
  let currentJob: string | undefined;
  exitOnUncaughtException(channel, () => currentJob);
  return async function spaneSandboxProcessor(sandboxJob, token, signal) {
    currentJob = sandboxJob.id;
    let thread: ThreadRuntime;
    try {
      thread = await getState();
    } catch (err) {
      const e = asError(err);
      e.message = `SPANE worker thread could not start: ${e.message}`;
      throw e;
    }
    const job = realJob(thread, sandboxJob);
    const onAbort = () => thread.processor.abortExecution(job.data.executionId);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await thread.processor.processNodeJob(job, token);
      return serialize(result, { onWarning: (message) => thread.rt.logger.warn(`job ${job.id} return value: ${message}`) });
    } catch (err) {
      const e = asError(err);
      Object.defineProperty(e, PROCESSED_MARK, { value: true, enumerable: true });
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      currentJob = undefined;
    }
  };
}

/**
 * Replaces BullMQ's handler of uncaught exceptions in the thread. BullMQ's reports the job as
 * failed and then exits, and in between it may hand the dying thread to the next job, which then
 * fails too. Exiting at once makes the thread's exit fail the current job alone (BullMQ sees the
 * exit before it could reuse the thread); the error itself goes to the engine's logger.
 */
function exitOnUncaughtException(channel: BroadcastChannel | undefined, currentJob: () => string | undefined): void {
  if (isMainThread) return;
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', (err: unknown) => {
    const e = asError(err);
    post(channel, { kind: 'crash', jobId: currentJob(), threadId, error: `uncaught exception: ${e.message}`, stack: e.stack });
    process.exit(1);
  });
}

async function init(options: SandboxProcessorOptions, channel: BroadcastChannel | undefined): Promise<ThreadRuntime> {
  const settings = readThreadSettings(options.env ?? process.env, { needDatabase: options.store === undefined });
  const logger = channelLogger(channel, threadId);
  let registry: unknown = typeof options.registry === 'function' ? await options.registry() : options.registry;
  if (registry === undefined) {
    if (settings.executorsModule === undefined) {
      throw new InvalidConfigError("no executors: set the engine option 'executorsModule' (or SPANE_EXECUTORS_MODULE), or pass a registry to createSandboxProcessor");
    }
    const spec = settings.executorsModule;
    registry = await withinTimeout(async () => registryFromModule(await importModule(spec), spec), settings.executorsTimeoutMs, spec);
  }
  if (!isRegistryLike(registry)) throw new InvalidConfigError('createSandboxProcessor: registry is not a NodeRegistry');
  const store = typeof options.store === 'function' ? await options.store() : options.store;
  const thread = await createThreadRuntime(settings, { registry, logger, store });
  // The engine's local observers (metrics) see this thread's events too.
  if (channel !== undefined) thread.rt.events.observeLocal((event) => void post(channel, { kind: 'event', event }));
  return thread;
}

/** A real BullMQ Job (on the thread's own queue connection) for the sandboxed job's JSON. */
function realJob(thread: ThreadRuntime, s: SandboxedJob<NodeJobData>): Job<NodeJobData> {
  const json: JobJson = {
    id: s.id,
    name: s.name,
    data: JSON.stringify(s.data ?? {}),
    opts: s.opts,
    progress: s.progress,
    attemptsMade: s.attemptsMade,
    attemptsStarted: s.attemptsStarted,
    stalledCounter: s.stalledCounter,
    timestamp: s.timestamp,
    failedReason: '',
    returnvalue: 'null',
  };
  if (s.processedOn !== undefined) json.processedOn = s.processedOn;
  if (s.delay !== undefined) json.delay = s.delay;
  if (s.priority !== undefined) json.priority = s.priority;
  if (s.parent !== undefined) json.parent = s.parent;
  if (s.parentKey !== undefined) json.parentKey = s.parentKey;
  return Job.fromJSON<NodeJobData>(thread.rt.queues.nodeQueue, json);
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
