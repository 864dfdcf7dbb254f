/**
 * `spane/engine/registry`: {@link NodeRegistry}, which maps node types to executors, and its
 * types. The class is the one `spane` exports (`instanceof` holds across the import paths).
 *
 * @module
 */
export { DEFAULT_EXTERNAL_NODES, NodeRegistry } from '../../runtime/engine/index.js';
export type { CircuitBreakerKeyExtractor, NodeExecutorLike } from '../../runtime/engine/index.js';
