/**
 * The webhook entry points behind `engine.triggerWebhook` and `engine.handleWebhook`: request
 * checks, the path index, signatures, secret references, replay records, then one start.
 *
 * @module
 */
import type { Redis } from 'ioredis';
import { normaliseWebhookPath } from '../../definition/triggers.js';
import type { WebhookSecret, WorkflowDefinition } from '../../definition/types.js';
import { InvalidArgumentError, WebhookRequestError, WorkflowInputError } from '../../errors.js';
import type { SqlBackend } from '../queues/backends/sql-backend.js';
import type { Logger } from '../engine/runtime.js';
import type { ExecutionStore } from '../../store/store.js';
import { WebhookIndex } from './webhook-index.js';
import type { WebhookMatch } from './webhook-index.js';
import { deliverOnce, deliveryKey, deliveryStore } from './webhook-replay.js';
import type { DeliveryStore } from './webhook-replay.js';
import { checkBodyValue, checkedRequest, checkPathAndMethod, parseBody } from './webhook-request.js';
import { verifySignature } from './webhook-signature.js';
import type { Delivery } from './webhook-signature.js';

/**
 * Resolves a `{ ref }` webhook secret on each request: the secret, or undefined when there is
 * none (the request is then refused like a bad signature).
 */
export type WebhookSecretResolver = (ref: string, workflowId: string) => string | undefined | Promise<string | undefined>;

/** Options of webhook handling. */
export interface WebhookOptions {
  /**
   * Largest accepted body in bytes.
   * @defaultValue 1048576
   */
  maxBodyBytes?: number;
  /**
   * How long a signed request without a timestamp (X-Spane-Signature on a trigger without
   * `toleranceSeconds`) is remembered, in seconds: a repeat within it answers with the same
   * executions; after it, the same request starts new ones. Requests with a timestamp are
   * remembered for as long as their timestamp is accepted.
   * @defaultValue 300
   */
  replayWindowSeconds?: number;
}

/** What every engine-side caller of the webhook entry points provides. */
export interface WebhookDeps {
  store: ExecutionStore;
  /** The queue backend's Redis connection or SQL backend: where replay records live. */
  backend: Redis | SqlBackend;
  /** The engine's Redis key prefix. */
  prefix: string;
  logger: Logger;
  /** Starts all of them or none (the engine's `enqueueBulkWorkflows`). */
  start: (items: { workflowId: string; initialData: unknown }[]) => Promise<string[]>;
  resolveSecret: WebhookSecretResolver | undefined;
}

/** The one answer to "no such webhook" and to every signature failure: neither says which it was. */
const REFUSED = 'webhook refused: no such webhook, or a missing, invalid or expired signature';
/** A missing secret is warned about at most this often per trigger. */
const WARN_EVERY_MS = 60_000;

/** Webhook matching and handling for one engine. */
export class WebhookManager {
  private readonly index: WebhookIndex;
  private readonly deliveries: DeliveryStore;
  private readonly warned = new Map<string, number>();

  constructor(private readonly deps: WebhookDeps) {
    this.index = new WebhookIndex(deps.store);
    this.deliveries = deliveryStore(deps.backend);
  }

  /** Keeps the path index current for a definition this engine stored. */
  remember(def: WorkflowDefinition): void {
    this.index.remember(def);
  }

  /** See `WorkflowEngine.triggerWebhook`. */
  async trigger(path: unknown, method: unknown, body: unknown): Promise<string[]> {
    const checked = checkPathAndMethod(path, method, 'triggerWebhook');
    checkBodyValue(body);
    const matches = await this.index.matching(normaliseWebhookPath(checked.path), checked.method);
    const signed = matches.find((m) => m.trigger.config.secret !== undefined);
    if (signed !== undefined) {
      throw new WebhookRequestError(
        'WEBHOOK_SIGNATURE',
        `webhook '${normaliseWebhookPath(checked.path)}' of workflow '${signed.workflowId}' requires a signature: use handleWebhook with the raw body`,
      );
    }
    return this.startAll(matches, body);
  }

  /** See `WorkflowEngine.handleWebhook`. */
  async handle(request: unknown, options: WebhookOptions = {}): Promise<string[]> {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('handleWebhook: options must be an object');
    const max = positive(options.maxBodyBytes, 1024 * 1024, 'maxBodyBytes');
    const windowSeconds = positive(options.replayWindowSeconds, 300, 'replayWindowSeconds');
    const { path, method, raw, headers } = checkedRequest(request);
    if (raw.byteLength > max) throw new WebhookRequestError('PAYLOAD_TOO_LARGE', `webhook body is ${raw.byteLength} bytes, more than the limit of ${max}`);
    const wanted = normaliseWebhookPath(path);
    const matches = await this.index.matching(wanted, method);
    if (matches.length === 0) throw refused('no webhook trigger on this path and method');
    const now = Date.now();
    let delivery: Delivery | undefined;
    for (const { trigger, workflowId } of matches) {
      const { secret, toleranceSeconds } = trigger.config;
      if (secret === undefined) continue;
      const resolved = await this.secretOf(secret, workflowId, wanted);
      if (resolved === undefined) throw refused(`the secret of workflow '${workflowId}' could not be resolved`);
      const verdict = verifySignature({ secret: resolved, toleranceSeconds, raw, headers, nowMs: now });
      if (!verdict.ok) throw refused(`workflow '${workflowId}': ${verdict.reason}`);
      if (delivery === undefined || (verdict.delivery.until ?? Infinity) > (delivery.until ?? Infinity)) delivery = verdict.delivery;
    }
    const body = parseBody(raw);
    // Unsigned webhooks are not deduplicated: anyone may call them, so anyone could also claim
    // a delivery id ahead of the real sender.
    if (delivery === undefined) return this.startAll(matches, body);
    const ttl = delivery.until === undefined ? windowSeconds * 1000 : delivery.until - now;
    // Engines' clocks differ a little; keep the record a minute past the timestamp's expiry.
    const key = deliveryKey(this.deps.prefix, { kind: delivery.kind, path: `${method} ${wanted}`, id: delivery.id });
    return deliverOnce(this.deliveries, { key, ttlMs: ttl + 60_000, start: () => this.startAll(matches, body), logger: this.deps.logger });
  }

  private async startAll(matches: readonly WebhookMatch[], body: unknown): Promise<string[]> {
    if (matches.length === 0) return [];
    try {
      return await this.deps.start(matches.map((m) => ({ workflowId: m.workflowId, initialData: body })));
    } catch (err) {
      // The workflow's input schema or the engine's own data checks (JSON safety, depth) refused
      // the body: a 400, not a 500. Schema issues name fields and rules, never the data.
      if (err instanceof WorkflowInputError) throw new WebhookRequestError('INVALID_BODY', `webhook body does not match the workflow's input schema: ${err.issues.join('; ')}`);
      if (err instanceof InvalidArgumentError) throw new WebhookRequestError('INVALID_BODY', 'webhook body was refused as initial data');
      throw err;
    }
  }

  /** The secret of a trigger, resolving a reference now; undefined (with a warning) when it has none. */
  private async secretOf(secret: WebhookSecret, workflowId: string, path: string): Promise<string | undefined> {
    if (typeof secret === 'string') return secret;
    if ('env' in secret) {
      const value = process.env[secret.env];
      if (value !== undefined && value !== '') return value;
      this.warn(workflowId, `webhook '${path}' of workflow '${workflowId}': environment variable '${secret.env}' (its secret) is not set; requests are refused`);
      return undefined;
    }
    const resolve = this.deps.resolveSecret;
    if (resolve === undefined) {
      this.warn(workflowId, `webhook '${path}' of workflow '${workflowId}' names secret '${secret.ref}', but the engine has no resolveWebhookSecret option; requests are refused`);
      return undefined;
    }
    try {
      const value = await resolve(secret.ref, workflowId);
      if (typeof value === 'string' && value !== '') return value;
      this.warn(workflowId, `webhook '${path}' of workflow '${workflowId}': resolveWebhookSecret found no secret '${secret.ref}'; requests are refused`);
    } catch {
      this.warn(workflowId, `webhook '${path}' of workflow '${workflowId}': resolveWebhookSecret threw for secret '${secret.ref}'; requests are refused`);
    }
    return undefined;
  }

  private warn(workflowId: string, message: string): void {
    const now = Date.now();
    if (now - (this.warned.get(workflowId) ?? Number.NEGATIVE_INFINITY) < WARN_EVERY_MS) return;
    this.warned.set(workflowId, now);
    this.deps.logger.warn(message);
  }
}

function refused(reason: string): WebhookRequestError {
  return new WebhookRequestError('WEBHOOK_SIGNATURE', REFUSED, reason);
}

function positive(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new InvalidArgumentError(`handleWebhook: ${name} must be a positive number`);
  return value;
}
