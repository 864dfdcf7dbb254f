/**
 * The engine's store, served to its worker threads over BroadcastChannels, for stores threads
 * cannot open themselves: `InMemoryExecutionStore` and PGlite live in the main thread's memory,
 * and a store of the application's own may have no URL to open it by. Threads then share the
 * main thread's state exactly (one store, no copies), at the price of a message round trip per
 * store call.
 *
 * Requests go to one channel only the main thread listens on; each thread gets its replies on a
 * channel of its own, so threads do not see each other's traffic. Values cross as structured
 * clones (store values are JSON); errors keep their class when it is one of SPANE's.
 *
 * @module
 */
import type { BroadcastChannel } from 'node:worker_threads';
import * as errors from '../../errors.js';
import { SpaneError } from '../../errors.js';
import type { PayloadStore } from '../../store/payload-store.js';
import { readExecutionHead } from '../../store/store.js';
import type { ExecutionStore } from '../../store/store.js';
import type { Logger } from '../engine/runtime.js';
import { openChannel } from './channel.js';

/** The store methods a thread may call: the whole ExecutionStore and PayloadStore interfaces. */
const STORE_METHODS = [
  'saveWorkflow',
  'getWorkflow',
  'getLatestWorkflowVersion',
  'listWorkflows',
  'getWorkflowVersions',
  'createExecution',
  'getExecution',
  'getExecutionHead',
  'listExecutions',
  'listExecutionPage',
  'countExecutions',
  'getChildExecutions',
  'transitionExecution',
  'saveNodeResult',
  'deleteNodeResult',
  'pruneExecutions',
  'addLog',
  'getLogs',
  'createWait',
  'getWait',
  'updateWait',
  'listWaits',
  'findWaitingByMatch',
  'putPayload',
  'getPayloads',
  'deletePayloads',
] as const satisfies readonly (keyof ExecutionStore | keyof PayloadStore)[];

type StoreMethod = (typeof STORE_METHODS)[number];

/** A call from a thread. */
interface StoreRequest {
  id: number;
  /** The channel the reply goes to. */
  replyTo: string;
  method: StoreMethod;
  args: unknown[];
}

/** The answer to one call. */
type StoreReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

interface WireError {
  name: string;
  message: string;
  code?: string | undefined;
  stack?: string | undefined;
}

/** How long a thread waits for an answer before it treats the call as failed (a store fault). */
const CALL_TIMEOUT_MS = 30_000;

/** The channel names for one engine's threads. */
export function storeChannelName(sandboxChannel: string): string {
  return `${sandboxChannel}-store`;
}

/** Main thread: answers the threads' store calls with `store`. Returns the function that stops it. */
export function serveStore(store: ExecutionStore, channelName: string, logger: Logger): () => void {
  const requests = openChannel(channelName);
  const replies = new Map<string, BroadcastChannel>();
  const allowed = new Set<string>(STORE_METHODS.filter((m) => typeof (store as unknown as Record<string, unknown>)[m] === 'function'));
  // Threads always read heads; a store without the method answers them from getExecution.
  allowed.add('getExecutionHead');
  const head = (executionId: unknown, nodeIds: unknown) => readExecutionHead(store, executionId as string, nodeIds as string[]);
  requests.onmessage = (message: unknown) => {
    const req = (message as { data: StoreRequest }).data;
    if (typeof req?.id !== 'number' || typeof req.replyTo !== 'string') return;
    let channel = replies.get(req.replyTo);
    if (channel === undefined) replies.set(req.replyTo, (channel = openChannel(req.replyTo)));
    const reply = channel;
    const answer = (r: StoreReply) => {
      try {
        reply.postMessage(r);
      } catch (err) {
        // A value that cannot be cloned: the caller gets an error instead of waiting.
        reply.postMessage({ id: r.id, ok: false, error: toWire(err) } satisfies StoreReply);
      }
    };
    if (!allowed.has(req.method)) {
      answer({ id: req.id, ok: false, error: toWire(new errors.NotSupportedError(`the engine's store has no method '${String(req.method)}'`)) });
      return;
    }
    const method = req.method === 'getExecutionHead' ? head : (store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[req.method]!;
    Promise.resolve()
      .then(() => method.apply(store, req.args))
      .then(
        (value) => answer({ id: req.id, ok: true, value }),
        (err: unknown) => answer({ id: req.id, ok: false, error: toWire(err) }),
      )
      .catch((err: unknown) => logger.error('worker-thread store bridge: could not answer a call', { method: req.method, error: String(err) }));
  };
  return () => {
    requests.close();
    for (const c of replies.values()) c.close();
    replies.clear();
  };
}

/** A thread's view of the engine's store; `close()` stops listening. */
export type RemoteStore = ExecutionStore & PayloadStore & { close(): void };

/** Where a thread's {@link remoteStore} sends its calls. */
export interface RemoteStoreOptions {
  /** The main thread's store channel. */
  channelName: string;
  /** This thread's key, unique among the threads, naming its reply channel. */
  threadKey: string;
  /** Whether the main thread's store keeps claim-check payloads (the thread then does too). */
  hasPayloads: boolean;
  /** How long a call waits for its answer. @defaultValue `30_000` (30 s) */
  timeoutMs?: number;
}

/**
 * Thread side: a store whose every call is answered by the main thread's store. `hasPayloads`
 * says whether that store keeps claim-check payloads (the thread then does too).
 */
export function remoteStore(options: RemoteStoreOptions): RemoteStore {
  const { channelName, threadKey, hasPayloads, timeoutMs = CALL_TIMEOUT_MS } = options;
  const requests = openChannel(channelName);
  const replyTo = `${channelName}-reply-${threadKey}`;
  const replies = openChannel(replyTo);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout }>();
  let next = 0;
  replies.onmessage = (message: unknown) => {
    const r = (message as { data: StoreReply }).data;
    const call = pending.get(r?.id);
    if (call === undefined) return;
    pending.delete(r.id);
    clearTimeout(call.timer);
    if (r.ok) call.resolve(r.value);
    else call.reject(fromWire(r.error));
  };
  const call = (method: StoreMethod, args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`worker-thread store bridge: no answer to ${method} from the main thread within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      pending.set(id, { resolve, reject, timer });
      try {
        requests.postMessage({ id, replyTo, method, args } satisfies StoreRequest);
      } catch (err) {
        pending.delete(id);
        clearTimeout(timer);
        reject(err);
      }
    });
  const store: Record<string, unknown> = {
    close() {
      requests.close();
      replies.close();
      for (const [id, p] of pending) {
        clearTimeout(p.timer);
        p.reject(new Error('worker-thread store bridge: closed'));
        pending.delete(id);
      }
    },
  };
  for (const method of STORE_METHODS) {
    if (!hasPayloads && (method === 'putPayload' || method === 'getPayloads' || method === 'deletePayloads')) continue;
    store[method] = (...args: unknown[]) => call(method, args);
  }
  return store as unknown as RemoteStore;
}

function toWire(err: unknown): WireError {
  if (err instanceof Error) {
    const wire: WireError = { name: err.name, message: err.message };
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') wire.code = code;
    if (err.stack !== undefined) wire.stack = err.stack;
    return wire;
  }
  return { name: 'Error', message: String(err) };
}

/** The error again, as an instance of its SPANE class when it was one (so `instanceof` still works). */
function fromWire(wire: WireError): Error {
  const ctor = (errors as Record<string, unknown>)[wire.name];
  const isSpane = typeof ctor === 'function' && (ctor === SpaneError || (ctor as { prototype: unknown }).prototype instanceof SpaneError);
  const err: Error = isSpane ? (Object.create((ctor as { prototype: object }).prototype) as Error) : new Error(wire.message);
  Object.defineProperty(err, 'message', { value: wire.message, writable: true, configurable: true });
  Object.defineProperty(err, 'name', { value: wire.name, writable: true, configurable: true });
  if (wire.code !== undefined) Object.defineProperty(err, 'code', { value: wire.code, writable: true, configurable: true, enumerable: true });
  if (wire.stack !== undefined) Object.defineProperty(err, 'stack', { value: wire.stack, writable: true, configurable: true });
  return err;
}
