import { TERMINAL_STATUSES } from '../definition/types.js';
import type { ExecutionStatus, NodeResult, WorkflowDefinition, WorkflowExecution } from '../definition/types.js';
import { setOwn } from '../definition/own.js';
import { ExecutionNotFoundError, InvalidArgumentError } from '../errors.js';
import { canonicalJson } from './canonical-json.js';
import type { PayloadStore } from './payload-store.js';
import { THIS_THREAD } from './thread-access.js';
import type { StoreThreadAccess } from './thread-access.js';
import {
  assertRecord,
  checkExecutionFilter,
  checkNodeResult,
  checkSaveWorkflowOptions,
  checkWorkflowLookup,
  resolvePruneCriteria,
  resolveUnfinishedQuery,
  storeJson,
  unfinishedCursor,
} from './store.js';
import type {
  ExecutionFilter,
  ExecutionLogEntry,
  ExecutionPage,
  ExecutionStore,
  NewExecution,
  PruneCriteria,
  SaveWorkflowOptions,
  TransitionPatch,
  UnfinishedExecutionQuery,
  WorkflowVersionInfo,
} from './store.js';

/** Options of {@link InMemoryExecutionStore}. */
export interface InMemoryStoreOptions {
  /**
   * Terminal executions kept; the oldest finished ones are evicted past this. Running, paused
   * and pending executions are never evicted.
   * @defaultValue 10000
   */
  maxFinishedExecutions?: number;
}

/**
 * An {@link ExecutionStore} in this process's memory: fast, and lost when the process exits.
 * It is for one process only: workers in other processes cannot see it, so use a shared store
 * (PostgreSQL) when workers run elsewhere. Values are copied as JSON on the way in and out, as a
 * database would store them.
 *
 * @example
 * ```ts
 * const engine = new WorkflowEngine(registry, new InMemoryExecutionStore(), redis);
 * ```
 */
export class InMemoryExecutionStore implements ExecutionStore, PayloadStore {
  /** Reads are copies in this process: the engine does not hand views between node jobs. */
  readonly inProcess: boolean = true;
  /** Its maps are in this thread's heap: worker threads reach it through the engine. */
  readonly threadAccess: StoreThreadAccess = THIS_THREAD;
  private readonly workflows = new Map<string, WorkflowDefinition[]>();
  private readonly versionInfo = new Map<string, WorkflowVersionInfo[]>();
  /** Claim-check payloads: execution id → payload id → JSON text. */
  private readonly payloads = new Map<string, Map<string, string>>();
  private readonly executions = new Map<string, WorkflowExecution>();
  private readonly logs = new Map<string, ExecutionLogEntry[]>();
  /** Terminal executions in the order they finished, for eviction. */
  private readonly finished = new Set<string>();
  private readonly maxFinished: number;

  constructor(options: InMemoryStoreOptions = {}) {
    this.maxFinished = options.maxFinishedExecutions ?? 10_000;
    if (!Number.isInteger(this.maxFinished) || this.maxFinished < 0) {
      throw new InvalidArgumentError(`maxFinishedExecutions must be a non-negative integer, got ${String(options.maxFinishedExecutions)}`);
    }
  }

  async saveWorkflow(definition: WorkflowDefinition, options?: SaveWorkflowOptions): Promise<number> {
    assertRecord('saveWorkflow', 'definition', definition);
    checkSaveWorkflowOptions(options);
    const versions = this.workflows.get(definition.id) ?? [];
    const latest = versions.at(-1);
    const { version: _ignored, ...body } = definition;
    if (latest !== undefined) {
      const { version: latestVersion, ...latestBody } = latest;
      if (canonicalJson(latestBody) === canonicalJson(body)) return latestVersion!;
    }
    const version = versions.length + 1;
    versions.push(clone({ ...body, version }));
    this.workflows.set(definition.id, versions);
    const info: WorkflowVersionInfo = { version, createdAt: Date.now() };
    if (options?.changeNotes !== undefined) info.changeNotes = options.changeNotes;
    this.versionInfo.set(definition.id, [...(this.versionInfo.get(definition.id) ?? []), info]);
    return version;
  }

  async getWorkflowVersions(workflowId: string): Promise<WorkflowVersionInfo[]> {
    return clone(this.versionInfo.get(workflowId) ?? []);
  }

  async getWorkflow(workflowId: string, version?: number): Promise<WorkflowDefinition | null> {
    checkWorkflowLookup(workflowId, version);
    const versions = this.workflows.get(workflowId);
    const found = version === undefined ? versions?.at(-1) : versions?.[version - 1];
    return found === undefined ? null : clone(found);
  }

  async getLatestWorkflowVersion(workflowId: string): Promise<number | null> {
    return this.workflows.get(workflowId)?.length ?? null;
  }

  async listWorkflows(): Promise<WorkflowDefinition[]> {
    return [...this.workflows.values()].map((v) => clone(v.at(-1)!));
  }

  async createExecution(execution: NewExecution): Promise<void> {
    assertRecord('createExecution', 'execution', execution);
    if (this.executions.has(execution.executionId)) {
      throw new InvalidArgumentError(`Execution '${execution.executionId}' already exists`);
    }
    this.executions.set(execution.executionId, { ...clone(execution), nodeResults: {} });
  }

  async getExecution(executionId: string): Promise<WorkflowExecution | null> {
    const found = this.executions.get(executionId);
    return found === undefined ? null : clone(found);
  }

  async listExecutions(filter: ExecutionFilter = {}): Promise<WorkflowExecution[]> {
    checkExecutionFilter(filter);
    const statuses = filter.status === undefined ? undefined : ([] as ExecutionStatus[]).concat(filter.status);
    const out: WorkflowExecution[] = [];
    for (const e of [...this.executions.values()].reverse()) {
      if (filter.workflowId !== undefined && e.workflowId !== filter.workflowId) continue;
      if (statuses !== undefined && !statuses.includes(e.status)) continue;
      out.push(clone(e));
      if (out.length >= (filter.limit ?? 100)) break;
    }
    return out;
  }

  async listUnfinishedExecutions(query: UnfinishedExecutionQuery = {}): Promise<ExecutionPage> {
    const { statuses, startedBefore, after, limit } = resolveUnfinishedQuery(query);
    const later = (e: WorkflowExecution) => after === undefined || e.startedAt > after.startedAt || (e.startedAt === after.startedAt && e.executionId > after.executionId);
    const matching = [...this.executions.values()]
      .filter((e) => statuses.includes(e.status) && (startedBefore === undefined || e.startedAt < startedBefore) && later(e))
      .sort((a, b) => a.startedAt - b.startedAt || (a.executionId < b.executionId ? -1 : a.executionId > b.executionId ? 1 : 0));
    const page = matching.slice(0, limit).map(clone);
    return matching.length > limit ? { executions: page, nextCursor: unfinishedCursor(page.at(-1)!) } : { executions: page };
  }

  async getChildExecutions(parentExecutionId: string): Promise<WorkflowExecution[]> {
    return [...this.executions.values()].filter((e) => e.parentExecutionId === parentExecutionId).map(clone);
  }

  async transitionExecution(executionId: string, from: readonly ExecutionStatus[], to: ExecutionStatus, patch: TransitionPatch = {}): Promise<boolean> {
    const e = this.executions.get(executionId);
    if (e === undefined) throw new ExecutionNotFoundError(executionId);
    if (!from.includes(e.status)) return false;
    e.status = to;
    if (patch.error !== undefined) {
      e.error = patch.error;
      // A new error replaces the old one's details, also with none.
      if (patch.errorDetails !== undefined) e.errorDetails = clone(patch.errorDetails);
      else delete e.errorDetails;
    }
    if (to === 'paused') e.pausedAt = patch.pausedAt ?? Date.now();
    else delete e.pausedAt;
    if (TERMINAL_STATUSES.includes(to)) {
      e.completedAt = Date.now();
      this.finished.add(executionId);
      this.evict();
    } else {
      delete e.completedAt;
      this.finished.delete(executionId);
      if (to === 'running') {
        delete e.error;
        delete e.errorDetails;
      }
    }
    return true;
  }

  async saveNodeResult(executionId: string, nodeId: string, result: NodeResult): Promise<void> {
    checkNodeResult(nodeId, result);
    const e = this.executions.get(executionId);
    if (e === undefined) throw new ExecutionNotFoundError(executionId);
    setOwn(e.nodeResults, nodeId, clone(result));
  }

  async deleteNodeResult(executionId: string, nodeId: string): Promise<void> {
    const e = this.executions.get(executionId);
    if (e === undefined) throw new ExecutionNotFoundError(executionId);
    delete e.nodeResults[nodeId];
  }

  async putPayload(executionId: string, payloadId: string, json: string): Promise<void> {
    if (!this.executions.has(executionId)) throw new ExecutionNotFoundError(executionId);
    let byId = this.payloads.get(executionId);
    if (byId === undefined) this.payloads.set(executionId, (byId = new Map()));
    byId.set(payloadId, json);
  }

  async getPayloads(executionId: string, payloadIds: readonly string[]): Promise<Map<string, unknown>> {
    const byId = this.payloads.get(executionId);
    const out = new Map<string, unknown>();
    for (const id of payloadIds) {
      const json = byId?.get(id);
      if (json !== undefined) out.set(id, JSON.parse(json));
    }
    return out;
  }

  async deletePayloads(executionId: string): Promise<number> {
    const n = this.payloads.get(executionId)?.size ?? 0;
    this.payloads.delete(executionId);
    return n;
  }

  async addLog(executionId: string, entry: ExecutionLogEntry): Promise<void> {
    if (!this.executions.has(executionId)) throw new ExecutionNotFoundError(executionId);
    const list = this.logs.get(executionId) ?? [];
    list.push(clone(entry));
    this.logs.set(executionId, list);
  }

  async getLogs(executionId: string): Promise<ExecutionLogEntry[]> {
    return clone(this.logs.get(executionId) ?? []);
  }

  async pruneExecutions(criteria: PruneCriteria): Promise<number> {
    const { olderThanMs, keepLast, statuses } = resolvePruneCriteria(criteria);
    const candidates = [...this.executions.values()].filter((e) => statuses.includes(e.status) && e.completedAt !== undefined).sort((a, b) => b.completedAt! - a.completedAt!);
    const cutoff = olderThanMs === undefined ? Infinity : Date.now() - olderThanMs;
    const doomed = candidates.slice(keepLast ?? 0).filter((e) => e.completedAt! < cutoff);
    for (const e of doomed) {
      this.executions.delete(e.executionId);
      this.logs.delete(e.executionId);
      this.payloads.delete(e.executionId);
      this.finished.delete(e.executionId);
    }
    return doomed.length;
  }

  /** Number of executions held, for tests and monitoring. */
  get size(): number {
    return this.executions.size;
  }

  private evict(): void {
    for (const id of this.finished) {
      if (this.finished.size <= this.maxFinished) break;
      this.finished.delete(id);
      this.executions.delete(id);
      this.logs.delete(id);
      this.payloads.delete(id);
    }
  }
}

/** Copies with JSON semantics, as a database would store the value (Dates become strings). */
function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(storeJson(value)!) as T);
}
