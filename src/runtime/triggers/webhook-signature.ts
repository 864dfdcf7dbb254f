/**
 * Signature schemes of signed webhook triggers: SPANE's `X-Spane-Signature` (HMAC-SHA256 of the
 * body, or of `<timestamp>.<body>` with `X-Spane-Timestamp`) and Standard Webhooks
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature`). Each accepted request also yields
 * what identifies its delivery and until when a repeat must be recognised.
 *
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { header } from './webhook-request.js';
import type { WebhookHeaders } from './webhook-request.js';

/** Header that carries the signature: `sha256=<hex>`. */
export const SIGNATURE_HEADER = 'x-spane-signature';
/** Header that carries the unix time a request was signed, for triggers with `toleranceSeconds`. */
export const TIMESTAMP_HEADER = 'x-spane-timestamp';

/** Standard Webhooks' fixed timestamp tolerance (the `standardwebhooks` package enforces it). */
export const STANDARD_TOLERANCE_SECONDS = 5 * 60;

/**
 * The signature header value for `body`: `sha256=` and the hex HMAC-SHA256 of the body (or of
 * `<timestamp>.<body>` when a timestamp is given). For senders and tests.
 */
export function signWebhook(secret: string, body: string | Uint8Array, timestamp?: number): string {
  const hmac = createHmac('sha256', secret);
  if (timestamp !== undefined) hmac.update(`${timestamp}.`);
  hmac.update(body);
  return `sha256=${hmac.digest('hex')}`;
}

/** What identifies an accepted delivery, and until when (epoch ms) a repeat is recognised. */
export interface Delivery {
  /** Which header the id comes from. */
  kind: 'webhook-id' | 'x-spane-signature';
  /** The id: Standard Webhooks' `webhook-id`, or the X-Spane-Signature value itself. */
  id: string;
  /** Epoch ms after which the request would be refused anyway (its timestamp is too old); undefined without a timestamp. */
  until: number | undefined;
}

/** An accepted delivery, or why the request was refused (for logs, never for the caller). */
export type Verdict = { ok: true; delivery: Delivery } | { ok: false; reason: string };

const refuse = (reason: string): Verdict => ({ ok: false, reason });

/** A request to check against one trigger's secret, for {@link verifySignature}. */
export interface SignatureCheck {
  /** The trigger's secret, resolved. */
  secret: string;
  /** How far the request's timestamp may be from now (s); without it X-Spane-Signature needs none. */
  toleranceSeconds: number | undefined;
  /** The raw request body. */
  raw: Buffer;
  /** The request's headers. */
  headers: WebhookHeaders;
  /** Now, in epoch ms. @defaultValue `Date.now()` */
  nowMs?: number;
}

/**
 * Checks a request against one trigger's secret: Standard Webhooks when it carries
 * `webhook-signature`, else X-Spane-Signature. Comparisons take constant time.
 */
export function verifySignature(check: SignatureCheck): Verdict {
  const at = { ...check, nowMs: check.nowMs ?? Date.now() };
  return header(check.headers, 'webhook-signature') !== undefined ? verifyStandard(at) : verifySpane(at);
}

function verifyStandard(check: Required<SignatureCheck>): Verdict {
  const { secret, toleranceSeconds, raw, headers, nowMs } = check;
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signature = header(headers, 'webhook-signature');
  if (id === undefined || id === '' || timestamp === undefined || signature === undefined) return refuse('missing webhook-id or webhook-timestamp header');
  let hook: Webhook;
  try {
    // A `whsec_` secret is base64 (the Standard Webhooks form); any other is used as its bytes.
    hook = secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(Buffer.from(secret), { format: 'raw' });
  } catch {
    return refuse('the trigger secret starts with whsec_ but is not valid base64');
  }
  try {
    hook.verify(raw, { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature }, { jsonParse: false });
  } catch (err) {
    return refuse(`Standard Webhooks verification failed: ${err instanceof Error ? err.message : 'unknown'}`);
  }
  const ts = Number.parseInt(timestamp, 10);
  const tolerance = Math.min(STANDARD_TOLERANCE_SECONDS, toleranceSeconds ?? STANDARD_TOLERANCE_SECONDS);
  if (Math.abs(nowMs / 1000 - ts) > tolerance) return refuse(`webhook-timestamp is more than ${tolerance} s away from now`);
  return { ok: true, delivery: { kind: 'webhook-id', id, until: (ts + tolerance) * 1000 } };
}

function verifySpane(check: Required<SignatureCheck>): Verdict {
  const { secret, toleranceSeconds, raw, headers, nowMs } = check;
  let timestamp: number | undefined;
  if (toleranceSeconds !== undefined) {
    const ts = header(headers, TIMESTAMP_HEADER);
    timestamp = ts === undefined || !/^\d{1,12}$/.test(ts) ? NaN : Number(ts);
    if (!Number.isInteger(timestamp)) return refuse(`missing or invalid ${TIMESTAMP_HEADER} header`);
    if (Math.abs(nowMs / 1000 - timestamp) > toleranceSeconds) return refuse(`timestamp is more than ${toleranceSeconds} s away from now`);
  }
  const given = header(headers, SIGNATURE_HEADER);
  if (given === undefined) return refuse(`missing ${SIGNATURE_HEADER} header`);
  const expected = Buffer.from(signWebhook(secret, raw, timestamp));
  const actual = Buffer.from(given);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return refuse('signature does not match');
  return { ok: true, delivery: { kind: 'x-spane-signature', id: given, until: timestamp === undefined ? undefined : (timestamp + toleranceSeconds!) * 1000 } };
}
