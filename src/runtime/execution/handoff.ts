import type { WorkflowExecution } from '../../definition/types.js';

/**
 * How long a handed-off view stays usable, counted from the store read its status came from.
 * It bounds how late this process can notice a pause or cancel made by another process: a node
 * may start up to this long after such a call returned (one made in this process is seen at
 * once). Past it, the next job reads the store again.
 */
export const HANDOFF_TTL_MS = 200;

/** Entries kept before expired ones are swept (at most once per TTL). */
const SWEEP_ABOVE = 1_000;
/** Entries kept at most: past it, nothing more is offered until a sweep frees room. */
const MAX_ENTRIES = 20_000;

interface Entry {
  readonly exec: WorkflowExecution;
  /** When the read that gave `exec.status` was sent (epoch ms). */
  readonly readAt: number;
  readonly expiresAt: number;
  /** Offered to several children: each taker gets its own copy. */
  readonly shared: boolean;
}

/** What a node job gets instead of reading the store. */
export interface HandedOff {
  /** A private copy of the execution as the parent saw it, with the parent's result in it. */
  readonly exec: WorkflowExecution;
  /** When the store read behind `exec.status` was sent; a handed-on view keeps this time. */
  readonly readAt: number;
}

/**
 * Hands a finished node's view of its execution to the child jobs it just enqueued, when this
 * process picks them up, so that each child skips the store read a node job starts with.
 *
 * Only a view that is safe to reuse is offered: the parent's run that has just written its
 * result (so no child of it can have run yet), for children whose only parent it is. A child takes
 * its entry once, on its own first delivery, and only while the status in it is younger than
 * {@link HANDOFF_TTL_MS}. Pause, cancel and failure in this process drop the execution's entries.
 * Results are immutable once written, so the only thing a view can miss is a status change made
 * elsewhere, which is what the age bound is for. Everything else (another process, a retry, a
 * redelivery after a stall, an expired view) reads the store as before.
 */
export class ExecutionHandoff {
  /** Views by `executionId \u0000 nodeId`, in the order offered. */
  private readonly entries = new Map<string, Entry>();
  /** When each execution's views were last dropped: a view read before that is never used. */
  private readonly dropped = new Map<string, number>();
  private lastSweep = 0;

  constructor(private readonly ttlMs: number = HANDOFF_TTL_MS) {}

  /** False when views are never kept (TTL 0): callers can skip preparing an offer. */
  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  /** Offers `exec` (copied now) to the given children of one execution. */
  offer(exec: WorkflowExecution, readAt: number, childIds: readonly string[]): void {
    if (!this.enabled || childIds.length === 0 || exec.status !== 'running') return;
    const expiresAt = readAt + this.ttlMs;
    if (expiresAt <= Date.now() || this.droppedSince(exec.executionId, readAt)) return;
    this.maybeSweep();
    if (this.entries.size + childIds.length > MAX_ENTRIES) return;
    const entry: Entry = { exec: structuredClone(exec), readAt, expiresAt, shared: childIds.length > 1 };
    for (const id of childIds) this.entries.set(key(exec.executionId, id), entry);
  }

  /** The view offered to this node, once; undefined when there is none or it is too old. */
  take(executionId: string, nodeId: string): HandedOff | undefined {
    const k = key(executionId, nodeId);
    const entry = this.entries.get(k);
    if (entry === undefined) return undefined;
    this.entries.delete(k);
    if (entry.expiresAt <= Date.now() || this.droppedSince(executionId, entry.readAt)) return undefined;
    return { exec: entry.shared ? structuredClone(entry.exec) : entry.exec, readAt: entry.readAt };
  }

  /**
   * Refuses every view of an execution read before now, kept or offered later (a parent that
   * read `running` before this call may finish after it). Call it after a status change in this
   * process has been written.
   */
  drop(executionId: string): void {
    if (!this.enabled) return;
    this.dropped.set(executionId, Date.now());
    this.maybeSweep();
  }

  /** Number of views kept (taken, refused and expired ones go at the next sweep). */
  get pending(): number {
    return this.entries.size;
  }

  private droppedSince(executionId: string, readAt: number): boolean {
    const at = this.dropped.get(executionId);
    return at !== undefined && readAt <= at;
  }

  private maybeSweep(): void {
    if ((this.entries.size >= SWEEP_ABOVE || this.dropped.size >= SWEEP_ABOVE) && Date.now() - this.lastSweep >= this.ttlMs) this.sweep();
  }

  private sweep(): void {
    const now = Date.now();
    this.lastSweep = now;
    // A view read before now - ttl is refused by its age already.
    for (const [executionId, at] of this.dropped) if (at + this.ttlMs <= now) this.dropped.delete(executionId);
    for (const [k, entry] of this.entries) if (entry.expiresAt <= now || this.droppedSince(entry.exec.executionId, entry.readAt)) this.entries.delete(k);
  }
}

function key(executionId: string, nodeId: string): string {
  return `${executionId}\u0000${nodeId}`;
}
