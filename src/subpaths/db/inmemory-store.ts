/**
 * `spane/db/inmemory-store`: {@link InMemoryExecutionStore}, the store that keeps executions in
 * the process (tests and development), and its options. The class is the one `spane` exports.
 *
 * @module
 */
export { InMemoryExecutionStore } from '../../store/memory.js';
export type { InMemoryStoreOptions } from '../../store/memory.js';
