/**
 * The claim check: large values (an execution's initial data, node outputs, node inputs given to
 * `enqueueNode`) are written to a {@link PayloadStore}, and what the store's execution rows, the
 * BullMQ jobs and the events carry is a small {@link PayloadReference} in their place.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { setOwn } from '../../definition/own.js';
import type { NodeResult, WorkflowExecution } from '../../definition/types.js';
import { InvalidArgumentError, PayloadNotFoundError } from '../../errors.js';
import { isPayloadStore } from '../../store/payload-store.js';
import type { PayloadStore } from '../../store/payload-store.js';
import type { NewExecution } from '../../store/store.js';
import type { Runtime } from '../engine/runtime.js';

/** Key of the payload id in a {@link PayloadReference}. */
export const PAYLOAD_REFERENCE_KEY = '$spanePayload';

/** Default {@link PayloadManagerOptions.thresholdBytes}: 50 KB of JSON. */
export const DEFAULT_PAYLOAD_THRESHOLD_BYTES = 50 * 1024;

/**
 * What stands in for an offloaded value: the payload's id within its execution and the size of
 * its JSON in bytes. It appears in raw store reads (`getExecution(id, { raw: true })`), in node
 * job data and in events (`node:completed` data); executors and resolved reads never see one.
 */
export interface PayloadReference {
  /** Id of the payload within its execution (for example `output:fetch`). */
  $spanePayload: string;
  /** Size of the value's JSON text (UTF-8 bytes). */
  bytes: number;
}

/** Whether `value` is a {@link PayloadReference} (an object with exactly its two fields). */
export function isPayloadReference(value: unknown): value is PayloadReference {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  const ref = value as Partial<PayloadReference>;
  return keys.length === 2 && typeof ref.$spanePayload === 'string' && typeof ref.bytes === 'number';
}

/** Options of {@link PayloadManager}. */
export interface PayloadManagerOptions {
  /**
   * Values whose JSON is larger than this many bytes (UTF-8) are offloaded; a value of exactly
   * this size stays inline. `false` never offloads (references already stored still resolve).
   * @defaultValue 51200 (50 KB)
   */
  thresholdBytes?: number | false;
}

/** A value ready to be stored: `inline` goes into the row or job; `json` (when set) is the payload to write. */
interface Prepared {
  inline: unknown;
  json: string | undefined;
}

/** Payload id of an execution's initial data. */
export const INITIAL_PAYLOAD_ID = 'initial';

/** Payload id of a node's result data (one per node: a re-run replaces it, as its result is). */
export function outputPayloadId(nodeId: string): string {
  return `output:${nodeId}`;
}

/**
 * Claim check for large payloads. The engine makes one by default over its store's payload
 * storage (every built-in store implements {@link PayloadStore}); pass your own to change the
 * threshold or the storage.
 *
 * - Writing: a value whose JSON exceeds {@link PayloadManager.thresholdBytes} is written to the
 *   payload store under its execution, and a {@link PayloadReference} is stored, queued or
 *   published instead.
 * - Reading: {@link PayloadManager.resolveExecution} and {@link PayloadManager.resolve} put the
 *   values back, in one batched read per execution; a reference whose payload is gone throws
 *   {@link PayloadNotFoundError}.
 *
 * Payloads are deleted with their execution (`pruneExecutions`). Values are resolved afresh on
 * every read (no cache), so executors may mutate their input safely.
 *
 * @example
 * ```ts
 * const store = await DrizzleStore.pglite();
 * const payloads = new PayloadManager(store, { thresholdBytes: 256 * 1024 });
 * const engine = new WorkflowEngine({ registry, store, connection: redis, payloads });
 * ```
 */
export class PayloadManager {
  /** Size (UTF-8 bytes of JSON) above which values are offloaded; `false` when never. */
  readonly thresholdBytes: number | false;

  constructor(
    /** Where payloads are written and read. */
    readonly storage: PayloadStore,
    options: PayloadManagerOptions = {},
  ) {
    const t = options.thresholdBytes ?? DEFAULT_PAYLOAD_THRESHOLD_BYTES;
    if (t !== false && (typeof t !== 'number' || !Number.isInteger(t) || t < 0)) {
      throw new InvalidArgumentError(`PayloadManager: thresholdBytes must be a non-negative integer or false, got ${String(t)}`);
    }
    this.thresholdBytes = t;
  }

  /**
   * Returns what to store in place of `value` for the execution: `value` itself when it is small
   * (or undefined), else a reference, after writing the payload under `payloadId` (an upsert).
   */
  async offload(executionId: string, payloadId: string, value: unknown): Promise<unknown> {
    const p = this.prepare(payloadId, value);
    if (p.json !== undefined) await this.storage.putPayload(executionId, payloadId, p.json);
    return p.inline;
  }

  /**
   * `value` with the payload put back when it is a reference of the execution; other values are
   * returned as they are. `nodeId` names the node that needed it in a {@link PayloadNotFoundError}.
   */
  async resolve(executionId: string, value: unknown, nodeId?: string): Promise<unknown> {
    if (!isPayloadReference(value)) return value;
    const found = await this.storage.getPayloads(executionId, [value.$spanePayload]);
    if (!found.has(value.$spanePayload)) throw new PayloadNotFoundError(executionId, value.$spanePayload, nodeId);
    return found.get(value.$spanePayload);
  }

  /**
   * A copy of the execution with every reference (initial data, node result data) replaced by its
   * value, read in one batch. Returns the execution itself when it holds no reference.
   * `nodeId` names the node that needed the data in a {@link PayloadNotFoundError}.
   */
  async resolveExecution(exec: WorkflowExecution, nodeId?: string): Promise<WorkflowExecution> {
    const wanted: { id: string; owner: string | undefined }[] = [];
    if (isPayloadReference(exec.initialData)) wanted.push({ id: exec.initialData.$spanePayload, owner: undefined });
    for (const [id, r] of Object.entries(exec.nodeResults)) if (isPayloadReference(r.data)) wanted.push({ id: r.data.$spanePayload, owner: id });
    if (wanted.length === 0) return exec;
    const found = await this.storage.getPayloads(
      exec.executionId,
      wanted.map((w) => w.id),
    );
    const missing = wanted.find((w) => !found.has(w.id));
    if (missing !== undefined) throw new PayloadNotFoundError(exec.executionId, missing.id, nodeId ?? missing.owner);
    const nodeResults: Record<string, NodeResult> = { ...exec.nodeResults };
    for (const [id, r] of Object.entries(nodeResults)) if (isPayloadReference(r.data)) setOwn(nodeResults, id, { ...r, data: found.get(r.data.$spanePayload) });
    const out: WorkflowExecution = { ...exec, nodeResults };
    if (isPayloadReference(exec.initialData)) out.initialData = found.get(exec.initialData.$spanePayload);
    return out;
  }

  /** Measures `value`; when it is over the threshold, returns its JSON and the reference to store. */
  prepare(payloadId: string, value: unknown): Prepared {
    if (value === undefined || this.thresholdBytes === false) return { inline: value, json: undefined };
    const json = JSON.stringify(value);
    // A short string cannot be over the threshold in bytes (at most 3 bytes per UTF-16 unit).
    if (json === undefined || json.length * 3 <= this.thresholdBytes) return { inline: value, json: undefined };
    const bytes = Buffer.byteLength(json);
    if (bytes <= this.thresholdBytes) return { inline: value, json: undefined };
    const ref: PayloadReference = { $spanePayload: payloadId, bytes };
    return { inline: ref, json };
  }
}

/** Duck-typed check, so a manager from another copy of the package is accepted too. */
export function isPayloadManager(value: unknown): value is PayloadManager {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Partial<Record<keyof PayloadManager, unknown>>;
  return typeof m.offload === 'function' && typeof m.resolveExecution === 'function' && typeof m.prepare === 'function';
}

/**
 * Creates the execution with its initial data claim-checked: the row first (the payload table
 * refers to it), then the payload. When the payload cannot be written the execution is marked
 * failed and the error thrown. With `existingOk`, an execution that already exists (a job
 * delivered again) is kept and its payload written again (an upsert of the same value).
 * Internal.
 */
export async function createExecutionChecked(rt: Runtime, execution: NewExecution, existingOk = false): Promise<void> {
  const p = rt.payloads?.prepare(INITIAL_PAYLOAD_ID, execution.initialData);
  const json = p?.json;
  const row = json === undefined ? execution : { ...execution, initialData: p!.inline };
  try {
    await rt.store.createExecution(row);
  } catch (err) {
    if (!existingOk || (await rt.store.getExecution(execution.executionId)) === null) throw err;
  }
  if (json === undefined) return;
  try {
    await rt.payloads!.storage.putPayload(execution.executionId, INITIAL_PAYLOAD_ID, json);
  } catch (err) {
    // Best effort: the caller must see the payload's error, not this one's.
    await rt.store
      .transitionExecution(execution.executionId, ['pending', 'running'], 'failed', { error: `its initial data could not be stored: ${String(err)}` })
      .catch(() => undefined);
    throw err;
  }
}

/** A node result to store, for {@link saveNodeResultChecked}. Internal. */
export interface NodeResultWrite {
  /** The node's execution. */
  executionId: string;
  /** The node. */
  nodeId: string;
  /** Its result; large `data` is claim-checked. */
  result: NodeResult;
}

/** Stores a node result with its data claim-checked; returns what was stored (with the reference). Internal. */
export async function saveNodeResultChecked(rt: Runtime, write: NodeResultWrite): Promise<NodeResult> {
  const { executionId, nodeId, result } = write;
  let stored = result;
  if (rt.payloads !== undefined && result.data !== undefined) {
    const data = await rt.payloads.offload(executionId, outputPayloadId(nodeId), result.data);
    if (data !== result.data) stored = { ...result, data };
  }
  await rt.store.saveNodeResult(executionId, nodeId, stored);
  return stored;
}

/** The input `enqueueNode` gives a node, for {@link offloadNodeInput}. Internal. */
export interface NodeInputOffload {
  /** The node's execution. */
  executionId: string;
  /** The node. */
  nodeId: string;
  /** The input; offloaded when large. */
  input: unknown;
}

/** Offloads the input `enqueueNode` gives a node; a fresh id each time, since the job may already exist. Internal. */
export async function offloadNodeInput(rt: Runtime, offload: NodeInputOffload): Promise<unknown> {
  const { executionId, nodeId, input } = offload;
  if (rt.payloads === undefined) return input;
  return rt.payloads.offload(executionId, `input:${nodeId}:${randomUUID()}`, input);
}

/** The execution with its references resolved (itself when claim check is off). Internal. */
export async function resolved(rt: Runtime, exec: WorkflowExecution, nodeId?: string): Promise<WorkflowExecution> {
  return rt.payloads === undefined ? exec : rt.payloads.resolveExecution(exec, nodeId);
}

/** A value to resolve, for {@link resolvedValue}. Internal. */
export interface ValueToResolve {
  /** The execution the value belongs to. */
  executionId: string;
  /** The value, possibly a payload reference. */
  value: unknown;
  /** The node reading it, named when its payload is missing. @defaultValue none */
  nodeId?: string | undefined;
}

/** One value of the execution, resolved. Internal. */
export async function resolvedValue(rt: Runtime, resolve: ValueToResolve): Promise<unknown> {
  const { executionId, value, nodeId } = resolve;
  return rt.payloads === undefined ? value : rt.payloads.resolve(executionId, value, nodeId);
}

/** The default claim check of a runtime: over the store's payload storage, when it has one. Internal. */
export function defaultPayloadManager(store: unknown, thresholdBytes: number | false): PayloadManager | undefined {
  return isPayloadStore(store) ? new PayloadManager(store, { thresholdBytes }) : undefined;
}
