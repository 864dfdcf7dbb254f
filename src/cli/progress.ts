/**
 * Per-node progress of one execution, as `spane run` shows it: on a terminal, one line per node
 * rewritten in place (status and duration); elsewhere (pipes, CI logs), one plain line per change.
 *
 * @module
 */
import type { SpaneEvent } from '../runtime/observe/events.js';

/** Where progress is written: a stream, with `isTTY` when it is a terminal. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** What a node is doing, as shown. */
export type NodeDisplayStatus = 'pending' | 'running' | 'retrying' | 'delayed' | 'completed' | 'failed' | 'skipped';

interface NodeLine {
  id: string;
  type: string;
  status: NodeDisplayStatus;
  startedAt?: number;
  durationMs?: number;
  attempt?: number;
  error?: string;
}

/** Shows the progress of one execution's nodes. */
export interface ProgressView {
  /** Feeds an event (events of other executions are ignored). */
  onEvent(event: SpaneEvent): void;
  /** Starts following `executionId` and replays what arrived for it before. */
  follow(executionId: string): void;
  /** Draws the final state and stops redrawing. */
  stop(): void;
}

/** Options of {@link createProgressView}. */
export interface ProgressOptions {
  /** The nodes, in the order shown. */
  nodes: readonly { id: string; type: string }[];
  stream: ProgressStream;
  /**
   * Live lines rewritten in place; plain lines otherwise.
   * @defaultValue `stream.isTTY`
   */
  live?: boolean;
  /** Clock, for tests. @defaultValue Date.now */
  now?: () => number;
}

const SYMBOLS: Record<NodeDisplayStatus, string> = {
  pending: '·',
  running: '…',
  retrying: '↻',
  delayed: '⏸',
  completed: '✓',
  failed: '✗',
  skipped: '-',
};

/** Formats milliseconds for people: `850 ms`, `1.2 s`, `2 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A progress view for `nodes` on `stream`. */
export function createProgressView(options: ProgressOptions): ProgressView {
  const now = options.now ?? Date.now;
  const live = options.live ?? options.stream.isTTY === true;
  const lines = new Map<string, NodeLine>(options.nodes.map((n) => [n.id, { id: n.id, type: n.type, status: 'pending' }]));
  const width = Math.max(...options.nodes.map((n) => n.id.length), 4);
  const early: SpaneEvent[] = [];
  let executionId: string | undefined;
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const text = (l: NodeLine): string => {
    // A plain line is written once, so a running node's time so far would only ever read 0 ms.
    const took = l.durationMs ?? (live && l.startedAt !== undefined && (l.status === 'running' || l.status === 'retrying') ? now() - l.startedAt : undefined);
    const parts = [`${SYMBOLS[l.status]} ${l.id.padEnd(width)}`, l.status.padEnd(9)];
    if (took !== undefined) parts.push(formatDuration(took).padStart(8));
    if (l.attempt !== undefined && l.attempt > 1) parts.push(`attempt ${l.attempt}`);
    if (l.error !== undefined) parts.push(l.error);
    const line = parts.join('  ').trimEnd();
    const max = options.stream.columns;
    // Cut to the terminal's width (a wrapped line would break the cursor arithmetic); a pty without
    // a size reports 0 columns.
    return live && max !== undefined && max > 0 && line.length > max - 1 ? `${line.slice(0, Math.max(max - 2, 1))}…` : line;
  };

  const redraw = (): void => {
    // Move up over what was drawn, rewrite each line and clear its rest.
    let out = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const l of lines.values()) out += `\r${text(l)}\x1b[K\n`;
    drawn = lines.size;
    options.stream.write(out);
  };

  const apply = (event: SpaneEvent): void => {
    const l = event.nodeId === undefined ? undefined : lines.get(event.nodeId);
    if (l === undefined) return;
    const at = event.timestamp;
    switch (event.type) {
      case 'node:started':
        l.status = 'running';
        l.startedAt ??= at;
        l.attempt = event.attempt;
        break;
      case 'node:retrying':
        l.status = 'retrying';
        l.attempt = event.attempt;
        if (event.error !== undefined) l.error = event.error;
        break;
      case 'node:delayed':
        l.status = 'delayed';
        break;
      case 'node:completed':
      case 'node:failed':
      case 'node:skipped':
        l.status = event.type === 'node:completed' ? 'completed' : event.type === 'node:failed' ? 'failed' : 'skipped';
        l.durationMs = event.durationMs ?? (l.startedAt !== undefined ? at - l.startedAt : undefined);
        if (event.type === 'node:completed') delete l.error;
        else if (event.error !== undefined) l.error = event.error;
        if (event.type === 'node:skipped') delete l.durationMs;
        break;
      default:
        return;
    }
    if (live) redraw();
    else options.stream.write(`${text(l)}\n`);
  };

  return {
    onEvent(event) {
      if (stopped) return;
      if (executionId === undefined) early.push(event);
      else if (event.executionId === executionId) apply(event);
    },
    follow(id) {
      executionId = id;
      if (live) {
        redraw();
        timer = setInterval(redraw, 200);
        timer.unref();
      }
      for (const e of early.splice(0)) if (e.executionId === id) apply(e);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
      if (live && executionId !== undefined) redraw();
    },
  };
}
