/**
 * The error a webhook request is refused with, and the HTTP status it maps to.
 *
 * @module
 */
import { SpaneError } from './base.js';
import { brand } from './brand.js';

/** The codes of a {@link WebhookRequestError}. */
export type WebhookErrorCode = 'WEBHOOK_SIGNATURE' | 'PAYLOAD_TOO_LARGE' | 'INVALID_BODY' | 'WEBHOOK_REQUEST_INVALID' | 'WEBHOOK_PATH_TOO_LONG' | 'WEBHOOK_IN_PROGRESS';

const WEBHOOK_STATUS = {
  WEBHOOK_SIGNATURE: 401,
  PAYLOAD_TOO_LARGE: 413,
  INVALID_BODY: 400,
  WEBHOOK_REQUEST_INVALID: 400,
  WEBHOOK_PATH_TOO_LONG: 414,
  WEBHOOK_IN_PROGRESS: 409,
} as const satisfies Record<WebhookErrorCode, number>;

/**
 * A webhook request was refused before anything was enqueued. `httpStatus` is what an HTTP
 * layer should answer: 401 (no such webhook, or a bad, missing or expired signature: one answer
 * for all of them), 413 (body too large), 400 (malformed request or body), 414 (path too long),
 * 409 (the same delivery is being started by another request right now: retry).
 */
export class WebhookRequestError extends SpaneError {
  static {
    brand(this, 'WebhookRequestError');
  }

  /** The HTTP status to answer with. */
  readonly httpStatus: (typeof WEBHOOK_STATUS)[WebhookErrorCode];
  /**
   * Why a request was refused with the uniform 401, for your logs only (never send it to the
   * caller: it says whether the path exists). Not enumerable, so serialising the error leaves
   * it out.
   */
  declare readonly reason: string | undefined;
  constructor(code: WebhookErrorCode, message: string, reason?: string) {
    super(code, message);
    this.httpStatus = WEBHOOK_STATUS[code];
    Object.defineProperty(this, 'reason', { value: reason, enumerable: false });
  }
}
