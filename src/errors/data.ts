/**
 * Data that cannot be stored or mapped: too deep, or a malformed mapping.
 *
 * @module
 */
import { InvalidArgumentError, NonRetryableError } from './common.js';
import { brand } from './brand.js';

/**
 * A value nests deeper than the limit (`MAX_DATA_DEPTH`, 256 levels of objects and arrays), so it
 * is refused before anything is stored or enqueued: deeper values overflow the call stack of
 * `JSON.stringify` and `structuredClone` on their way to the store and the queues. An
 * {@link InvalidArgumentError} with its own code; an HTTP layer answers 400.
 */
export class DataTooDeepError extends InvalidArgumentError {
  static {
    brand(this, 'DataTooDeepError');
  }

  override readonly code = 'DATA_TOO_DEEP' as const;
  /** The limit that was exceeded, in levels. */
  readonly maxDepth: number;
  constructor(message: string, maxDepth: number) {
    super(message);
    this.maxDepth = maxDepth;
  }
}

/**
 * A dotted-path mapping (`applyMapping`: a sub-workflow's `inputMapping` or `outputMapping`) is
 * malformed, or the data it maps is not an object. Not retried: the same mapping of the same data
 * fails the same way.
 */
export class MappingError extends NonRetryableError {
  static {
    brand(this, 'MappingError');
  }

  constructor(message: string) {
    super(message, {}, 'MAPPING_INVALID');
  }
}
