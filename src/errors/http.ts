/**
 * The errors of the `http` node: an answer it cannot use, retryable or not.
 *
 * @module
 */
import { SpaneError } from './base.js';
import { NonRetryableError } from './common.js';
import { brand } from './brand.js';

/** What {@link HttpError} and {@link NonRetryableHttpError} tell about the failed call. */
export interface HttpErrorDetails {
  /** The HTTP status of the answer. */
  readonly status: number;
  /** The request method. */
  readonly method: string;
  /** The URL without its query string, fragment or credentials (those may hold secrets). */
  readonly url: string;
}

function httpErrorMessage(d: HttpErrorDetails, statusText: string, why: string | undefined): string {
  return `${d.method} ${d.url} -> ${d.status}${statusText === '' ? '' : ` ${statusText}`}${why === undefined ? '' : `: ${why}`}`;
}

/**
 * An `http` node's call got an answer it cannot use: a 5xx, 408 or 429 status (or a body that is
 * not JSON). Retried per the node's retry policy. The message (`GET https://api.example.com/v1/users
 * -> 503 Service Unavailable`) leaves out the query string and both bodies. Other 4xx answers are
 * a {@link NonRetryableHttpError}; both have the code `HTTP_ERROR`.
 */
export class HttpError extends SpaneError implements HttpErrorDetails {
  static {
    brand(this, 'HttpError');
  }

  /** The HTTP status of the answer. */
  readonly status: number;
  /** The request method. */
  readonly method: string;
  /** The URL without its query string, fragment or credentials. */
  readonly url: string;
  /** Whether a retry may help: true for this class. */
  readonly retryable: boolean = true;
  constructor(details: HttpErrorDetails, statusText = '', why?: string) {
    super('HTTP_ERROR', httpErrorMessage(details, statusText, why));
    ({ status: this.status, method: this.method, url: this.url } = details);
  }
}

/**
 * An `http` node's call was answered with a 4xx status other than 408 and 429: the request itself
 * is wrong (404, 401, 400, ...), so it fails after one attempt whatever the retry policy says.
 * Code `HTTP_ERROR`, like {@link HttpError}; the message leaves out the query string and bodies.
 */
export class NonRetryableHttpError extends NonRetryableError implements HttpErrorDetails {
  static {
    brand(this, 'NonRetryableHttpError');
  }

  /** The HTTP status of the answer. */
  readonly status: number;
  /** The request method. */
  readonly method: string;
  /** The URL without its query string, fragment or credentials. */
  readonly url: string;
  /** Whether a retry may help: false for this class. */
  readonly retryable: boolean = false;
  constructor(details: HttpErrorDetails, statusText = '') {
    super(httpErrorMessage(details, statusText, undefined), {}, 'HTTP_ERROR');
    ({ status: this.status, method: this.method, url: this.url } = details);
  }
}
