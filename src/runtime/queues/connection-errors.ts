/**
 * Connection errors, reported to the engine's logger at a bounded rate. ioredis emits an `error`
 * per failed reconnect attempt on every connection (several a second during an outage), and a
 * connection without an `error` listener prints `[ioredis] Unhandled error event` to stderr for
 * each. So every connection the engine opens, and every BullMQ object (workers, event listeners)
 * that re-emits its connections' errors, gets a listener that routes here; here the first error
 * of each kind is logged at once and the rest are counted, with at most one summary line per
 * kind every {@link QUIET_MS}.
 *
 * @module
 */
import type { Logger } from '../engine/runtime.js';

/** An outage ends after this long without an error; also the spacing of summary lines. */
export const QUIET_MS = 30_000;

interface KindState {
  /** When the last error of this kind came. */
  lastError: number;
  /** When a line about this kind was last logged. */
  lastLine: number;
  /** Errors since that line. */
  suppressed: number;
}

/** Anything with a Node-style `on('error')`: an ioredis connection, a BullMQ worker, ... */
export interface ErrorSource {
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** The error as logged: its message and code (a connection error carries no user data). */
function details(err: unknown, extra: Record<string, unknown>): Record<string, unknown> {
  const code = (err as { code?: unknown } | null)?.code;
  return { ...extra, error: err instanceof Error ? err.message : String(err), ...(typeof code === 'string' ? { code } : {}) };
}

/** One connection error, for {@link ConnectionErrors.report}. */
export interface ConnectionErrorReport {
  /** What failed (`redis:workers`, a BullMQ object's kind): errors are rate-limited per kind. */
  kind: string;
  /** The log line. */
  message: string;
  /** The error. */
  err: unknown;
  /** More fields for the log entry. */
  extra: Record<string, unknown>;
}

/** See the module comment. One per engine (or worker thread). */
export class ConnectionErrors {
  private readonly kinds = new Map<string, KindState>();

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Routes an ioredis connection's errors here (logged as `Redis connection error; retrying`
   * with the connection's `kind`); its `ready` after an outage ends the outage of every kind.
   */
  watchRedis(connection: ErrorSource & { on(event: 'ready', listener: () => void): unknown }, kind: string): void {
    connection.on('error', (err) => this.report({ kind: `redis:${kind}`, message: 'Redis connection error; retrying', err, extra: { connection: kind } }));
    connection.on('ready', () => this.recovered());
  }

  /** Routes a BullMQ object's `error` events here, logged with `message`. */
  watch(source: ErrorSource, kind: string, message: string): void {
    source.on('error', (err) => this.report({ kind, message, err, extra: {} }));
  }

  /** One error: logged when it starts an outage of its kind, else counted (and summarised now and then). */
  report(error: ConnectionErrorReport): void {
    const { kind, message, err, extra } = error;
    const now = this.now();
    const state = this.kinds.get(kind);
    if (state === undefined || now - state.lastError >= QUIET_MS) {
      this.kinds.set(kind, { lastError: now, lastLine: now, suppressed: 0 });
      this.logger.error(message, details(err, extra));
      return;
    }
    state.lastError = now;
    state.suppressed += 1;
    if (now - state.lastLine < QUIET_MS) return;
    this.logger.error(`${message} (${state.suppressed} more in the last ${Math.round((now - state.lastLine) / 1000)} s)`, details(err, extra));
    state.lastLine = now;
    state.suppressed = 0;
  }

  /** A connection is back: the next error of any kind is a new outage, logged at once. */
  recovered(): void {
    if (this.kinds.size === 0) return;
    const suppressed = [...this.kinds.values()].reduce((n, s) => n + s.suppressed, 0);
    this.kinds.clear();
    this.logger.warn('Redis connection restored', { unloggedErrors: suppressed });
  }
}
