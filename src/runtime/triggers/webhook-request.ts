/**
 * Checks of what an HTTP layer hands to `handleWebhook` and `triggerWebhook`, before anything is
 * looked up: the request's shape, the path's length, the body's size, nesting depth and JSON
 * safety. Every refusal is a {@link WebhookRequestError} with the status to answer.
 *
 * @module
 */
import { MAX_WEBHOOK_PATH_LENGTH } from '../../definition/triggers.js';
import { InvalidArgumentError, WebhookRequestError } from '../../errors.js';
import { assertJson } from '../../definition/json-check.js';

/** Deepest nesting of arrays and objects accepted in a webhook body (serde_json's default limit). */
export const MAX_WEBHOOK_BODY_DEPTH = 128;

/** An RFC 9110 method token. */
const METHOD_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,32}$/;

/** Request headers, as {@link checkedRequest} accepts them. */
export type WebhookHeaders = Record<string, string | string[] | undefined>;

/** A request whose every field has the type it should have. */
export interface CheckedRequest {
  path: string;
  method: string;
  raw: Buffer;
  headers: WebhookHeaders;
}

function invalid(message: string): never {
  throw new WebhookRequestError('WEBHOOK_REQUEST_INVALID', message);
}

/** Refuses a path or method that is not a string (or not an HTTP method), and a path over the cap. */
export function checkPathAndMethod(path: unknown, method: unknown, what: string): { path: string; method: string } {
  if (typeof path !== 'string' || typeof method !== 'string') invalid(`${what}: path and method must be strings`);
  if (!METHOD_TOKEN.test(method)) invalid(`${what}: method is not an HTTP method token`);
  if (path.length > MAX_WEBHOOK_PATH_LENGTH)
    throw new WebhookRequestError('WEBHOOK_PATH_TOO_LONG', `${what}: the path is ${path.length} characters long, more than ${MAX_WEBHOOK_PATH_LENGTH}`);
  return { path, method: method.toUpperCase() };
}

/** The request of `handleWebhook`, checked field by field; the body as bytes. */
export function checkedRequest(request: unknown): CheckedRequest {
  if (typeof request !== 'object' || request === null) invalid('handleWebhook expects a request object { path, method, rawBody, headers? }');
  const r = request as Record<string, unknown>;
  const { path, method } = checkPathAndMethod(r['path'], r['method'], 'handleWebhook');
  const body = r['rawBody'];
  let raw: Buffer;
  if (typeof body === 'string') raw = Buffer.from(body);
  else if (body instanceof Uint8Array) raw = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  else if (body instanceof ArrayBuffer) raw = Buffer.from(body);
  else invalid('handleWebhook: rawBody must be a string, a Uint8Array or an ArrayBuffer (the bytes as received)');
  const headers = r['headers'] ?? {};
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) invalid('handleWebhook: headers must be an object of header names to values');
  for (const value of Object.values(headers)) {
    if (value === undefined || typeof value === 'string') continue;
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) continue;
    invalid('handleWebhook: every header value must be a string or an array of strings');
  }
  return { path, method, raw, headers: headers as WebhookHeaders };
}

/** The first value of a header (names match case-insensitively), or undefined. */
export function header(headers: WebhookHeaders, name: string): string | undefined {
  const direct = headers[name];
  const value = direct !== undefined ? direct : Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The JSON body (undefined when empty). The nesting depth is counted in one pass over the text
 * before parsing, so a 10,000-level body is a 400 here rather than a stack overflow further on.
 */
export function parseBody(raw: Buffer): unknown {
  if (raw.byteLength === 0) return undefined;
  const text = raw.toString('utf8');
  if (jsonDepth(text) > MAX_WEBHOOK_BODY_DEPTH) throw new WebhookRequestError('INVALID_BODY', `webhook body nests deeper than ${MAX_WEBHOOK_BODY_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch {
    // The parser's message quotes the body: say where it failed without it.
    throw new WebhookRequestError('INVALID_BODY', 'webhook body is not valid JSON');
  }
}

/** Refuses a parsed body that nests too deep or that JSON cannot carry (see `assertJson`). */
export function checkBodyValue(body: unknown): void {
  if (valueDepth(body) > MAX_WEBHOOK_BODY_DEPTH) throw new WebhookRequestError('INVALID_BODY', `webhook body nests deeper than ${MAX_WEBHOOK_BODY_DEPTH} levels`);
  try {
    assertJson(body, 'webhook body');
  } catch (err) {
    if (err instanceof InvalidArgumentError)
      throw new WebhookRequestError('INVALID_BODY', 'webhook body cannot be stored as JSON (a cycle, function, symbol, BigInt, Map, Set or non-finite number)');
    throw err;
  }
}

/** Largest bracket nesting of JSON text, ignoring brackets inside strings; stops counting past the cap. */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
      if (max > MAX_WEBHOOK_BODY_DEPTH) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * Nesting depth of a value, iteratively, stopping past the cap. An object reached again is
 * walked again only when reached deeper (so shared subtrees cost at most the cap each, and a
 * cycle counts as too deep).
 */
function valueDepth(value: unknown): number {
  const stack: [unknown, number][] = [[value, 1]];
  const seen = new Map<object, number>();
  let max = 0;
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null || (seen.get(v) ?? 0) >= d) continue;
    seen.set(v, d);
    if (d > max) max = d;
    if (max > MAX_WEBHOOK_BODY_DEPTH) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}
