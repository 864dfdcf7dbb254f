/**
 * `spane/dsl`: the typed DSL alone (node kinds, the builder, built-in kinds, docs rendering) and
 * the errors it throws. The same functions and classes as `spane`'s (`instanceof` holds across
 * the import paths); its declarations leave out the engine, the stores and their dependencies'
 * types, so a module that only defines workflows type-checks with less to load.
 *
 * @module
 */
export * from '../dsl/index.js';
export { MappingError, NodeInputError, NodeOutputError, WorkflowInputError, WorkflowValidationError, ZodVersionError } from '../errors.js';
export type { ExecutionContext, NodeDefinition, WorkflowDefinition, WorkflowTrigger } from '../definition/types.js';
