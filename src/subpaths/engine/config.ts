/**
 * `spane/engine/config`: the engine's configuration, as passed ({@link EngineConfig}) and with
 * every default filled in ({@link ResolvedEngineConfig}), and the schema that checks it.
 *
 * @module
 */
export { engineConfigSchema, resolveEngineConfig } from '../../runtime/engine/index.js';
export type { EngineConfig, EngineConfigInput, ResolvedEngineConfig, WorkerThreadsConfig } from '../../runtime/engine/index.js';
