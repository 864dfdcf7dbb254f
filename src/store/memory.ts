import { TERMINAL_STATUSES } from '../definition/types.js';
import type { ExecutionStatus, NodeResult, WorkflowDefinition, WorkflowExecution } from '../definition/types.js';
import { ownValue, setOwn } from '../definition/own.js';
import { ExecutionNotFoundError, InvalidArgumentError } from '../errors.js';
import { canonicalJson } from './canonical-json.js';
import type { PayloadStore } from './payload-store.js';
import { THIS_THREAD } from './thread-access.js';
import {
  emptyStatusCounts,
  executionPageCursor,
  matchesExecutionQuery,
  newestFirst,
  resolveExecutionCountQuery,
  resolveExecutionListQuery,
  summarizeExecution,
} from './execution-listing.js';
import type { ExecutionCountQuery, ExecutionListQuery, ExecutionStatusCounts, ExecutionSummaryPage } from './execution-listing.js';
import type { StoreThreadAccess } from './thread-access.js';
import { checkNewWait, checkWaitMatchQuery, checkWaitRef, checkWaitUpdate } from './waits.js';
import type { CreatedWait, NewWait, WaitMatchQuery, WaitPatch, WaitRecord, WaitRef, WaitState } from './waits.js';
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
  ExecutionHead,
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
  /**
   * Size of the terminal executions kept, counted as the length of their JSON (fields, node
   * results, logs and claim-check payloads); past it the oldest finished ones are evicted, as
   * past {@link InMemoryStoreOptions.maxFinishedExecutions}. Unfinished executions never are.
   * @defaultValue {@link DEFAULT_MAX_FINISHED_BYTES} (128 MiB)
   */
  maxFinishedBytes?: number;
  /**
   * Where the store reads the time it stamps (`completedAt`, a workflow version's `createdAt`):
   * give it the engine's clock when that is virtual (`spane/testing` does).
   * @defaultValue `Date.now`
   */
  clock?: () => number;
}

/** Default {@link InMemoryStoreOptions.maxFinishedBytes}: 128 MiB of JSON. */
export const DEFAULT_MAX_FINISHED_BYTES = 128 * 1024 * 1024;

/** An execution as held, with what its reads and eviction need without walking its results. */
interface Held {
  readonly exec: WorkflowExecution;
  /** JSON size of each node result: its keys are the settled nodes. */
  readonly resultBytes: Map<string, number>;
  /** JSON size of everything held for the execution (fields, results, logs, payloads). */
  bytes: number;
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
  private readonly executions = new Map<string, Held>();
  private readonly logs = new Map<string, ExecutionLogEntry[]>();
  /** Waits: execution id → `kind key` → wait. */
  private readonly waits = new Map<string, Map<string, WaitRecord>>();
  /**
   * The `waiting` waits that have a match value, by `kind key matchValue` → execution id → wait
   * (the same objects as in `waits`): what {@link findWaitingByMatch} reads, in O(values asked).
   */
  private readonly waitingByMatch = new Map<string, Map<string, WaitRecord>>();
  /** Terminal executions in the order they finished, for eviction. */
  private readonly finished = new Set<string>();
  private readonly clock: () => number;
  private readonly maxFinished: number;
  private readonly maxFinishedBytes: number;
  /** Sum of `bytes` over the finished executions. */
  private finishedBytes = 0;

  constructor(options: InMemoryStoreOptions = {}) {
    if (options.clock !== undefined && typeof options.clock !== 'function') throw new InvalidArgumentError('clock must be a function returning epoch ms');
    this.clock = options.clock ?? (() => Date.now());
    this.maxFinished = options.maxFinishedExecutions ?? 10_000;
    if (!Number.isInteger(this.maxFinished) || this.maxFinished < 0) {
      throw new InvalidArgumentError(`maxFinishedExecutions must be a non-negative integer, got ${String(options.maxFinishedExecutions)}`);
    }
    this.maxFinishedBytes = options.maxFinishedBytes ?? DEFAULT_MAX_FINISHED_BYTES;
    if (!Number.isInteger(this.maxFinishedBytes) || this.maxFinishedBytes < 0) {
      throw new InvalidArgumentError(`maxFinishedBytes must be a non-negative integer, got ${String(options.maxFinishedBytes)}`);
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
    const info: WorkflowVersionInfo = { version, createdAt: this.clock() };
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
    const json = storeJson(execution)!;
    const exec = { ...(JSON.parse(json) as NewExecution), nodeResults: {} };
    this.executions.set(execution.executionId, { exec, resultBytes: new Map(), bytes: json.length });
  }

  async getExecution(executionId: string): Promise<WorkflowExecution | null> {
    const found = this.executions.get(executionId);
    return found === undefined ? null : clone(found.exec);
  }

  /** Copies the execution's fields and the asked-for results only: the cost does not grow with the workflow. */
  async getExecutionHead(executionId: string, nodeIds: readonly string[]): Promise<ExecutionHead | null> {
    const found = this.executions.get(executionId);
    if (found === undefined) return null;
    const { nodeResults: all, ...fields } = found.exec;
    const nodeResults: Record<string, NodeResult> = {};
    for (const id of nodeIds) {
      const r = ownValue(all, id);
      if (r !== undefined) setOwn(nodeResults, id, clone(r));
    }
    return { ...clone(fields), nodeResults, settledCount: found.resultBytes.size };
  }

  async listExecutions(filter: ExecutionFilter = {}): Promise<WorkflowExecution[]> {
    checkExecutionFilter(filter);
    const statuses = filter.status === undefined ? undefined : ([] as ExecutionStatus[]).concat(filter.status);
    const out: WorkflowExecution[] = [];
    for (const { exec: e } of [...this.executions.values()].reverse()) {
      if (filter.workflowId !== undefined && e.workflowId !== filter.workflowId) continue;
      if (statuses !== undefined && !statuses.includes(e.status)) continue;
      out.push(clone(e));
      if (out.length >= (filter.limit ?? 100)) break;
    }
    return out;
  }

  /** Filters and sorts what it holds (at most `maxFinishedExecutions` plus the unfinished ones). */
  async listExecutionPage(query: ExecutionListQuery = {}): Promise<ExecutionSummaryPage> {
    const q = resolveExecutionListQuery(query);
    const { before } = q;
    const older = (e: WorkflowExecution) => before === undefined || newestFirst(before, e) < 0;
    const matching = [...this.executions.values()]
      .map((h) => h.exec)
      .filter((e) => matchesExecutionQuery(e, q) && older(e))
      .sort(newestFirst);
    const page = matching.slice(0, q.limit).map((e) => clone(summarizeExecution(e)));
    return matching.length > q.limit ? { executions: page, nextCursor: executionPageCursor(page.at(-1)!) } : { executions: page };
  }

  async countExecutions(query: ExecutionCountQuery = {}): Promise<ExecutionStatusCounts> {
    const q = resolveExecutionCountQuery(query);
    const counts = emptyStatusCounts();
    for (const { exec } of this.executions.values()) if (matchesExecutionQuery(exec, q)) counts[exec.status]++;
    return counts;
  }

  async listUnfinishedExecutions(query: UnfinishedExecutionQuery = {}): Promise<ExecutionPage> {
    const { statuses, startedBefore, after, limit } = resolveUnfinishedQuery(query);
    const later = (e: WorkflowExecution) => after === undefined || e.startedAt > after.startedAt || (e.startedAt === after.startedAt && e.executionId > after.executionId);
    const matching = [...this.executions.values()]
      .map((h) => h.exec)
      .filter((e) => statuses.includes(e.status) && (startedBefore === undefined || e.startedAt < startedBefore) && later(e))
      .sort((a, b) => a.startedAt - b.startedAt || (a.executionId < b.executionId ? -1 : a.executionId > b.executionId ? 1 : 0));
    const page = matching.slice(0, limit).map(clone);
    return matching.length > limit ? { executions: page, nextCursor: unfinishedCursor(page.at(-1)!) } : { executions: page };
  }

  async getChildExecutions(parentExecutionId: string): Promise<WorkflowExecution[]> {
    return [...this.executions.values()].filter((h) => h.exec.parentExecutionId === parentExecutionId).map((h) => clone(h.exec));
  }

  async transitionExecution(executionId: string, from: readonly ExecutionStatus[], to: ExecutionStatus, patch: TransitionPatch = {}): Promise<boolean> {
    const held = this.executions.get(executionId);
    if (held === undefined) throw new ExecutionNotFoundError(executionId);
    const e = held.exec;
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
      e.completedAt = this.clock();
      if (!this.finished.has(executionId)) {
        this.finished.add(executionId);
        this.finishedBytes += held.bytes;
      }
      this.evict();
    } else {
      delete e.completedAt;
      this.unfinish(executionId);
      if (to === 'running') {
        delete e.error;
        delete e.errorDetails;
      }
    }
    return true;
  }

  async saveNodeResult(executionId: string, nodeId: string, result: NodeResult): Promise<void> {
    checkNodeResult(nodeId, result);
    const held = this.executions.get(executionId);
    if (held === undefined) throw new ExecutionNotFoundError(executionId);
    const json = storeJson(result)!;
    setOwn(held.exec.nodeResults, nodeId, JSON.parse(json) as NodeResult);
    this.grow(executionId, held, json.length - (held.resultBytes.get(nodeId) ?? 0));
    held.resultBytes.set(nodeId, json.length);
  }

  async deleteNodeResult(executionId: string, nodeId: string): Promise<void> {
    const held = this.executions.get(executionId);
    if (held === undefined) throw new ExecutionNotFoundError(executionId);
    if (!Object.hasOwn(held.exec.nodeResults, nodeId)) return;
    delete held.exec.nodeResults[nodeId];
    this.grow(executionId, held, -(held.resultBytes.get(nodeId) ?? 0));
    held.resultBytes.delete(nodeId);
  }

  async putPayload(executionId: string, payloadId: string, json: string): Promise<void> {
    const held = this.executions.get(executionId);
    if (held === undefined) throw new ExecutionNotFoundError(executionId);
    let byId = this.payloads.get(executionId);
    if (byId === undefined) this.payloads.set(executionId, (byId = new Map()));
    this.grow(executionId, held, json.length - (byId.get(payloadId)?.length ?? 0));
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
    const byId = this.payloads.get(executionId);
    const n = byId?.size ?? 0;
    const held = this.executions.get(executionId);
    if (byId !== undefined && held !== undefined) this.grow(executionId, held, -[...byId.values()].reduce((sum, json) => sum + json.length, 0));
    this.payloads.delete(executionId);
    return n;
  }

  async addLog(executionId: string, entry: ExecutionLogEntry): Promise<void> {
    const held = this.executions.get(executionId);
    if (held === undefined) throw new ExecutionNotFoundError(executionId);
    const list = this.logs.get(executionId) ?? [];
    const json = storeJson(entry)!;
    list.push(JSON.parse(json) as ExecutionLogEntry);
    this.grow(executionId, held, json.length);
    this.logs.set(executionId, list);
  }

  async getLogs(executionId: string): Promise<ExecutionLogEntry[]> {
    return clone(this.logs.get(executionId) ?? []);
  }

  async createWait(wait: NewWait): Promise<CreatedWait> {
    checkNewWait(wait);
    if (!this.executions.has(wait.executionId)) throw new ExecutionNotFoundError(wait.executionId);
    let byKey = this.waits.get(wait.executionId);
    if (byKey === undefined) this.waits.set(wait.executionId, (byKey = new Map()));
    const k = `${wait.kind} ${wait.key}`;
    const existing = byKey.get(k);
    if (existing !== undefined) return { created: false, wait: clone(existing) };
    const now = this.clock();
    const record: WaitRecord = { executionId: wait.executionId, kind: wait.kind, key: wait.key, state: wait.state, createdAt: now, updatedAt: now };
    if (wait.nodeId !== undefined) record.nodeId = wait.nodeId;
    if (wait.payload !== undefined) record.payload = clone(wait.payload);
    if (wait.matchValue !== undefined) record.matchValue = wait.matchValue;
    byKey.set(k, record);
    this.indexWait(record);
    return { created: true, wait: clone(record) };
  }

  async getWait(ref: WaitRef): Promise<WaitRecord | null> {
    checkWaitRef('getWait', ref);
    const found = this.waits.get(ref.executionId)?.get(`${ref.kind} ${ref.key}`);
    return found === undefined ? null : clone(found);
  }

  async updateWait(ref: WaitRef, from: readonly WaitState[], patch: WaitPatch): Promise<WaitRecord | null> {
    checkWaitUpdate(ref, from, patch);
    const found = this.waits.get(ref.executionId)?.get(`${ref.kind} ${ref.key}`);
    if (found === undefined || !from.includes(found.state)) return null;
    const payload = patch.payload === undefined ? undefined : clone(patch.payload);
    found.state = patch.state;
    found.updatedAt = this.clock();
    if (patch.nodeId !== undefined) found.nodeId = patch.nodeId;
    if (payload !== undefined) found.payload = payload;
    if (patch.resolution !== undefined) found.resolution = patch.resolution;
    this.indexWait(found);
    return clone(found);
  }

  async findWaitingByMatch(query: WaitMatchQuery): Promise<WaitRecord[]> {
    checkWaitMatchQuery(query);
    const found = new Map<string, WaitRecord>();
    for (const value of query.matchValues) {
      for (const wait of this.waitingByMatch.get(`${query.kind} ${query.key} ${value}`)?.values() ?? []) found.set(wait.executionId, wait);
    }
    return clone([...found.values()].sort((a, b) => a.createdAt - b.createdAt));
  }

  /** Keeps {@link waitingByMatch} in step with a wait's state. */
  private indexWait(wait: WaitRecord): void {
    if (wait.matchValue === undefined) return;
    const k = `${wait.kind} ${wait.key} ${wait.matchValue}`;
    let bucket = this.waitingByMatch.get(k);
    if (wait.state === 'waiting') {
      if (bucket === undefined) this.waitingByMatch.set(k, (bucket = new Map()));
      bucket.set(wait.executionId, wait);
    } else if (bucket !== undefined) {
      bucket.delete(wait.executionId);
      if (bucket.size === 0) this.waitingByMatch.delete(k);
    }
  }

  async listWaits(executionId: string): Promise<WaitRecord[]> {
    return clone([...(this.waits.get(executionId)?.values() ?? [])]);
  }

  async pruneExecutions(criteria: PruneCriteria): Promise<number> {
    const { olderThanMs, keepLast, statuses } = resolvePruneCriteria(criteria);
    const candidates = [...this.executions.values()]
      .map((h) => h.exec)
      .filter((e) => statuses.includes(e.status) && e.completedAt !== undefined)
      .sort((a, b) => b.completedAt! - a.completedAt!);
    const cutoff = olderThanMs === undefined ? Infinity : Date.now() - olderThanMs;
    const doomed = candidates.slice(keepLast ?? 0).filter((e) => e.completedAt! < cutoff);
    for (const e of doomed) this.forget(e.executionId);
    return doomed.length;
  }

  /** Number of executions held, for tests and monitoring. */
  get size(): number {
    return this.executions.size;
  }

  /** JSON size of the finished executions held, for tests and monitoring. */
  get finishedSizeBytes(): number {
    return this.finishedBytes;
  }

  /** Adds `delta` to the execution's size (and to the finished total when it has finished). */
  private grow(executionId: string, held: Held, delta: number): void {
    held.bytes += delta;
    if (this.finished.has(executionId)) {
      this.finishedBytes += delta;
      this.evict();
    }
  }

  private unfinish(executionId: string): void {
    if (!this.finished.delete(executionId)) return;
    this.finishedBytes -= this.executions.get(executionId)?.bytes ?? 0;
  }

  private forget(executionId: string): void {
    this.unfinish(executionId);
    this.executions.delete(executionId);
    this.logs.delete(executionId);
    this.payloads.delete(executionId);
    for (const wait of this.waits.get(executionId)?.values() ?? []) this.indexWait({ ...wait, state: 'resolved' });
    this.waits.delete(executionId);
  }

  /** Evicts the oldest finished executions until both bounds hold. */
  private evict(): void {
    for (const id of this.finished) {
      if (this.finished.size <= this.maxFinished && this.finishedBytes <= this.maxFinishedBytes) break;
      this.forget(id);
    }
  }
}

/** Copies with JSON semantics, as a database would store the value (Dates become strings). */
function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(storeJson(value)!) as T);
}
