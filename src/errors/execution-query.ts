/**
 * A refused execution listing query.
 *
 * @module
 */
import { InvalidArgumentError } from './common.js';
import { brand } from './brand.js';

/** The option of an execution listing query that was refused (`range`: `from` after `to`). */
export type ExecutionQueryField = 'query' | 'workflowId' | 'version' | 'status' | 'from' | 'to' | 'range' | 'executionId' | 'cursor' | 'limit';

/**
 * An execution listing query (`listExecutionPage`, `countExecutions`) was refused before the
 * store was read: an unknown status, a cursor the store did not return, a limit out of range,
 * `from` after `to`, ... `field` names the option. An {@link InvalidArgumentError} with its own
 * code; an HTTP layer answers 400. The message names the option, never the value given.
 */
export class ExecutionQueryError extends InvalidArgumentError {
  static {
    brand(this, 'ExecutionQueryError');
  }

  override readonly code = 'EXECUTION_QUERY_INVALID' as const;
  /** The refused option. */
  readonly field: ExecutionQueryField;
  constructor(field: ExecutionQueryField, message: string) {
    super(message);
    this.field = field;
  }
}
