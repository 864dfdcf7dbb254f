/**
 * How a thread other than the store's own reaches an {@link ExecutionStore}: what a store
 * declares so that worker threads (`useWorkerThreads`) use it correctly without the engine
 * looking inside it.
 *
 * @module
 */
import type { ExecutionStore } from './store.js';

/**
 * How another thread of this process reaches a store:
 *
 * - `this-thread`: the state lives in this thread (its memory, or an embedded database such as
 *   PGlite), so another thread cannot open it. Worker threads then send each store call to the
 *   engine, which answers it with this store (one message each way).
 * - `postgres`: a PostgreSQL server at `url`, with SPANE's schema migrated; each worker thread
 *   opens its own `DrizzleStore` there. The URL may carry a password: it is passed to the threads
 *   in their environment, and never logged.
 *
 * A store that declares nothing is unknown: threads use `SPANE_DATABASE_URL` or `DATABASE_URL`
 * when set, else the engine serves the store as for `this-thread` (docs/worker-threads.md).
 */
export type StoreThreadAccess = { readonly kind: 'this-thread' } | { readonly kind: 'postgres'; readonly url: string };

/** The access of a store in this thread: threads go through the engine. */
export const THIS_THREAD: StoreThreadAccess = Object.freeze({ kind: 'this-thread' });

/**
 * What a store declares: its {@link ExecutionStore.threadAccess}, else `this-thread` for a store
 * that says its state is in this process's memory (`inProcess: true`), which no other thread can
 * open; else undefined (unknown).
 */
export function threadAccessOf(store: ExecutionStore): StoreThreadAccess | undefined {
  return store.threadAccess ?? (store.inProcess === true ? THIS_THREAD : undefined);
}
