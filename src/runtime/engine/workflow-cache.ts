import { indexWorkflow } from '../../definition/graph.js';
import type { WorkflowGraph } from '../../definition/graph.js';
import type { ExecutionStore } from '../../store/store.js';
import { WorkflowNotFoundError } from '../../errors.js';
import type { WorkflowInputSchema } from '../../definition/types.js';

/** Options of the engine's definition cache. */
export interface WorkflowCacheOptions {
  /**
   * Definitions (id and version) kept in memory.
   * @defaultValue 500
   */
  maxSize?: number;
}

/**
 * Definitions by id and version, indexed for node jobs. Versions never change once stored, so
 * entries need no expiry; the least recently used one is dropped past `maxSize`.
 */
export class WorkflowCache {
  private readonly entries = new Map<string, WorkflowGraph>();
  /** Input schemas of the workflows registered here (DSL-built ones), by id; never evicted. */
  private readonly inputSchemas = new Map<string, WorkflowInputSchema>();
  private readonly maxSize: number;

  constructor(
    private readonly store: ExecutionStore,
    options: WorkflowCacheOptions = {},
  ) {
    this.maxSize = Math.max(1, options.maxSize ?? 500);
  }

  /** The indexed definition of `workflowId` at `version`, from memory or the store. */
  async get(workflowId: string, version: number): Promise<WorkflowGraph> {
    const key = `${workflowId}@${version}`;
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const def = await this.store.getWorkflow(workflowId, version);
    if (def === null) throw new WorkflowNotFoundError(workflowId, version);
    const graph = indexWorkflow(def);
    this.put(key, graph);
    return graph;
  }

  /** Adds a definition that was just stored. */
  remember(graph: WorkflowGraph, version: number): void {
    this.put(`${graph.definition.id}@${version}`, graph);
  }

  /**
   * Records the input schema of the workflow registered last under `workflowId` (or forgets it,
   * when that one has none): every later start of the workflow is checked against it.
   */
  rememberInputSchema(workflowId: string, schema: WorkflowInputSchema | undefined): void {
    if (schema === undefined) this.inputSchemas.delete(workflowId);
    else this.inputSchemas.set(workflowId, schema);
  }

  /** The input schema registered for `workflowId` in this process, if any. */
  inputSchema(workflowId: string): WorkflowInputSchema | undefined {
    return this.inputSchemas.get(workflowId);
  }

  /** Number of cached definitions. */
  get size(): number {
    return this.entries.size;
  }

  private put(key: string, graph: WorkflowGraph): void {
    this.entries.set(key, graph);
    if (this.entries.size > this.maxSize) this.entries.delete(this.entries.keys().next().value!);
  }
}
