/**
 * What a {@link DrizzleStore} lets out of a failed statement. Driver errors carry the statement's
 * parameters: drizzle's `DrizzleQueryError` puts them in its message (`params: ...`) and stack,
 * PGlite's errors carry enumerable `query` and `params` properties, and postgres.js keeps them on
 * its errors too. Those parameters are node outputs, initial data and payloads, so no driver error
 * leaves the store as it is: each is replaced by an error that keeps only the driver's code, its
 * class and (where PostgreSQL does not echo values into it) the server's message.
 *
 * Faults of the database's availability (connection refused or dropped, timeouts, the server
 * shutting down or out of resources) become {@link StoreUnavailableError}, which callers can
 * retry and node jobs wait out. Everything else (constraint violations, type errors, a missing
 * table) is a bug or bad data, not an outage: it is thrown as a {@link DatabaseError}, sanitised
 * the same way.
 *
 * @module
 */
import { SpaneError, StoreUnavailableError } from '../../errors.js';

/** What is kept of the driver's own error: its class name and code, nothing else. */
export interface DriverErrorSummary {
  /** The driver error's class, e.g. `PostgresError`. */
  readonly name: string;
  /** Its code (SQLSTATE or socket/driver code). */
  readonly code: string;
}

/** What a {@link DatabaseError} reports, parameters already stripped. @internal */
export interface DatabaseFault {
  /** The store operation that failed, e.g. `saveNodeResult`. */
  operation: string;
  /** SQLSTATE, socket error or driver code; `unknown` when none. */
  code: string;
  /** What PostgreSQL said, only when its message cannot hold values. */
  detail: string | undefined;
  /** The driver error's name and code, kept as the `cause`. @defaultValue none */
  driver?: DriverErrorSummary;
}

/**
 * A database error with the statement's parameters stripped: `code` is the SQLSTATE (or the
 * driver's code), the message names the operation and what PostgreSQL said when that cannot hold
 * values, and `cause` keeps only the driver error's name and code. @internal
 */
export class DatabaseError extends Error {
  /** SQLSTATE (e.g. `23505`), socket error (`ECONNRESET`) or driver code (`CONNECTION_CLOSED`); `unknown` when none. */
  readonly code: string;
  constructor(fault: DatabaseFault) {
    const { operation, code, detail, driver } = fault;
    super(`${operation} failed: database error ${code}${detail === undefined ? '' : ` (${detail})`}`, driver === undefined ? undefined : { cause: driver });
    this.name = 'DatabaseError';
    this.code = code;
  }
}

/** SQLSTATE classes that mean the database is unavailable rather than the statement wrong. */
const UNAVAILABLE_CLASSES = new Set([
  '08', // connection exception
  '53', // insufficient resources (too many connections, disk full, out of memory)
  '57', // operator intervention (admin shutdown 57P01, crash shutdown 57P02, cannot connect now 57P03)
  '58', // system error (I/O)
]);

/** Socket, DNS and driver codes of a connection that failed or went away. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  // postgres.js
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

/**
 * SQLSTATE classes whose server message never quotes a value, so it may be kept. Class 22 (data
 * exception) quotes the refused value (`invalid input syntax for type json: "..."`); unknown
 * classes may too.
 */
const SAFE_MESSAGE_CLASSES = new Set(['08', '0A', '23', '25', '28', '3D', '3F', '40', '42', '53', '54', '55', '57', '58']);

/** PGlite's error once it has been closed (it has no code). */
const PGLITE_CLOSED = /^PGlite is closed$/;

interface Found {
  code: string | undefined;
  /** Class name of the error that had the code. */
  owner: string | undefined;
  sqlState: string | undefined;
  serverMessage: string | undefined;
  closed: boolean;
}

/** The driver's code and the server's message, looked for along the `cause` chain. */
function inspect(err: unknown): Found {
  const found: Found = { code: undefined, owner: undefined, sqlState: undefined, serverMessage: undefined, closed: false };
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && found.code === undefined) {
      found.code = code;
      found.owner = e.name;
      if (/^[0-9A-Z]{5}$/.test(code)) {
        found.sqlState = code;
        found.serverMessage = e.message;
      }
    }
    if (PGLITE_CLOSED.test(e.message)) found.closed = true;
    // An AggregateError (one per address tried) carries the socket code on its members.
    if (found.code === undefined && e instanceof AggregateError) {
      const inner = e.errors.find((x: unknown) => x instanceof Error && typeof (x as { code?: unknown }).code === 'string') as { code: string } | undefined;
      if (inner !== undefined) {
        found.code = inner.code;
        found.owner = e.name;
      }
    }
  }
  return found;
}

/** Whether `err` (a driver error, possibly wrapped by drizzle) says the database is unavailable. */
export function isUnavailable(err: unknown): boolean {
  const f = inspect(err);
  if (f.closed) return true;
  if (f.sqlState !== undefined) return UNAVAILABLE_CLASSES.has(f.sqlState.slice(0, 2));
  return f.code !== undefined && UNAVAILABLE_CODES.has(f.code);
}

/**
 * The error a store call throws for `err`: SPANE's own errors unchanged; an availability fault as
 * {@link StoreUnavailableError} (its cause a {@link DatabaseError}); any other driver error as a
 * {@link DatabaseError}. None of them carries the statement's parameters.
 */
export function storeError(err: unknown, operation: string, executionId?: string): Error {
  if (err instanceof SpaneError) return err;
  if (!(err instanceof Error)) return new DatabaseError({ operation, code: 'unknown', detail: undefined });
  const f = inspect(err);
  const code = f.closed ? 'PGLITE_CLOSED' : (f.code ?? 'unknown');
  const detail = f.sqlState !== undefined && SAFE_MESSAGE_CLASSES.has(f.sqlState.slice(0, 2)) ? f.serverMessage : undefined;
  const sanitised = new DatabaseError({ operation, code, detail, driver: { name: f.owner ?? err.name, code } });
  if (!isUnavailable(err)) {
    // Not a driver error at all (a JSON parse of a row, a programming error): nothing to strip,
    // unless it is drizzle's wrapper, whose message holds the parameters.
    if (f.code === undefined && !f.closed && !isDrizzleQueryError(err)) return err;
    return sanitised;
  }
  const reason = f.sqlState !== undefined ? `SQLSTATE ${f.sqlState}` : code;
  return new StoreUnavailableError({ operation, executionId, reason }, { cause: sanitised });
}

/** drizzle's `DrizzleQueryError` (checked by shape: its message embeds `params:`). */
function isDrizzleQueryError(err: Error): boolean {
  return 'query' in err && 'params' in err;
}

/**
 * Runs one store call and translates what it throws with {@link storeError}.
 *
 * @example
 * ```ts
 * const execution = await guard('getExecution', executionId, () => store.getExecution(executionId));
 * ```
 */
export async function guard<T>(operation: string, executionId: string | undefined, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw storeError(err, operation, executionId);
  }
}
