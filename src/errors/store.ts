/**
 * Store faults and prefix conflicts of the PostgreSQL-family backends.
 *
 * @module
 */
import { SpaneError } from './base.js';
import type { SpaneErrorOptions } from './base.js';
import { InvalidConfigError } from './common.js';
import { brand } from './brand.js';

/** What a {@link StoreUnavailableError} says about the call that failed. */
export interface StoreFaultDetails {
  /** The store method that failed, e.g. `saveNodeResult`. */
  readonly operation: string;
  /** The execution the call was about, when it was about one. */
  readonly executionId?: string | undefined;
  /**
   * What the driver reported, without the statement's parameters: a SQLSTATE (`57P01`), a
   * socket error (`ECONNREFUSED`) or a driver code (`CONNECTION_CLOSED`).
   */
  readonly reason: string;
}

/**
 * The execution store's database did not answer (refused or dropped connection, timeout, server
 * shutting down). Nothing can be assumed written by the failed call; retrying it once the database
 * is back is safe. The message and `cause` name the operation, the execution and the driver's
 * error code, never the statement's parameter values (node data, initial data). Node jobs that
 * meet it are rescheduled rather than failed.
 */
export class StoreUnavailableError extends SpaneError implements StoreFaultDetails {
  static {
    brand(this, 'StoreUnavailableError');
  }

  readonly operation: string;
  readonly executionId: string | undefined;
  readonly reason: string;
  constructor(details: StoreFaultDetails, options?: SpaneErrorOptions) {
    const about = details.executionId === undefined ? '' : ` (execution '${details.executionId}')`;
    super('STORE_UNAVAILABLE', `Cannot ${details.operation}${about}: the store's database is unavailable (${details.reason})`, options);
    this.operation = details.operation;
    this.executionId = details.executionId;
    this.reason = details.reason;
  }
}

/** What {@link PrefixConflictError} reports. */
export interface PrefixConflict {
  /** The prefix that was refused. */
  prefix: string;
  /** The prefix the backend or database belongs to. */
  claimedBy: string;
  /** What the prefix cannot use, e.g. `this postgres backend`. */
  where: string;
  /** What to do instead, one or more sentences. */
  remedy: string;
}

/**
 * An engine's `prefix` is not the one its PostgreSQL-family queue backend belongs to. BullMQ's
 * PostgreSQL backend keeps every queue in one schema whatever the prefix, so engines with
 * different prefixes on one database would take each other's jobs; instead the first prefix that
 * opens a database claims it, and an engine or backend with another prefix is refused at start.
 * A {@link InvalidConfigError} (`INVALID_CONFIG`).
 */
export class PrefixConflictError extends InvalidConfigError {
  static {
    brand(this, 'PrefixConflictError');
  }

  /** The prefix that was refused. */
  readonly prefix: string;
  /** The prefix the backend or database belongs to. */
  readonly claimedBy: string;
  constructor(conflict: PrefixConflict) {
    const { prefix, claimedBy, where, remedy } = conflict;
    super(`Prefix '${prefix}' cannot use ${where}: it belongs to prefix '${claimedBy}'. ${remedy}`);
    this.prefix = prefix;
    this.claimedBy = claimedBy;
  }
}
