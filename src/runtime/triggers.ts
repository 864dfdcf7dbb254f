import { createHmac, timingSafeEqual } from 'node:crypto';
import type { JobSchedulerJson } from 'bullmq';
import { normaliseWebhookPath } from '../definition/triggers.js';
import type { ScheduleTrigger, WebhookTrigger, WorkflowDefinition } from '../definition/types.js';
import { WebhookRequestError, WorkflowNotFoundError, WorkflowValidationError } from '../errors.js';
import { cronProblem, timezoneProblem } from '../definition/triggers.js';
import { WORKFLOW_JOB } from './jobs.js';
import type { WorkflowJobData } from './jobs.js';
import type { Runtime } from './runtime.js';

/** A job scheduler, as {@link TriggerManager.getJobSchedulers} lists it. */
export interface ScheduleInfo {
  /** `schedule:{workflowId}:{cron}`. */
  id: string;
  /** The cron pattern. */
  pattern?: string | undefined;
  /** Repeat interval in ms, for interval schedulers. */
  every?: number | undefined;
  /** IANA timezone. */
  tz?: string | undefined;
  /** Next run (epoch ms). */
  next?: number | undefined;
  /** When the scheduler stops (epoch ms). */
  endDate?: number | undefined;
}

/** A webhook call as an HTTP layer received it, before parsing. */
export interface WebhookRequest {
  /** The webhook path (leading and trailing slashes are ignored). */
  path: string;
  /** The HTTP method. */
  method: string;
  /** The body exactly as received: signatures are computed over these bytes. */
  rawBody: string | Uint8Array;
  /** Request headers; names are matched case-insensitively. */
  headers?: Record<string, string | string[] | undefined>;
}

/** Options of webhook handling. */
export interface WebhookOptions {
  /**
   * Largest accepted body in bytes.
   * @defaultValue 1048576
   */
  maxBodyBytes?: number;
}

/** Header that carries the signature: `sha256=<hex>`. */
export const SIGNATURE_HEADER = 'x-spane-signature';
/** Header that carries the unix time a request was signed, for triggers with `toleranceSeconds`. */
export const TIMESTAMP_HEADER = 'x-spane-timestamp';

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

/** Scheduler id of a workflow's cron schedule. */
export function schedulerId(workflowId: string, cron: string): string {
  return `schedule:${workflowId}:${cron}`;
}

/** Schedules (BullMQ job schedulers on `workflow-execution`) and webhooks of an engine. */
export class TriggerManager {
  constructor(
    private readonly rt: Runtime,
    private readonly start: (workflowId: string, initialData: unknown) => Promise<string>,
  ) {}

  /**
   * Creates or updates the schedule of `workflowId` for `cron` (idempotent: registering the same
   * schedule twice leaves one scheduler). Refuses an invalid cron or timezone before writing.
   */
  async upsertSchedule(workflowId: string, cron: string, timezone?: string, data?: unknown): Promise<void> {
    const problems = [timezone === undefined ? undefined : timezoneProblem(timezone), cronProblem(cron, timezone)].filter((p) => p !== undefined);
    if (problems.length > 0) {
      throw new WorkflowValidationError(workflowId, problems.map((message) => ({ rule: 'invalid-trigger' as const, path: 'schedule', message })));
    }
    if ((await this.rt.store.getWorkflow(workflowId)) === null) throw new WorkflowNotFoundError(workflowId);
    const template: { name: string; data: WorkflowJobData } = { name: WORKFLOW_JOB, data: { workflowId } };
    if (data !== undefined) template.data.initialData = data;
    await this.rt.queues.workflowQueue.upsertJobScheduler(schedulerId(workflowId, cron), timezone === undefined ? { pattern: cron } : { pattern: cron, tz: timezone }, template);
  }

  /** Makes the workflow's schedulers match its schedule triggers: upserts them, removes the rest. */
  async syncSchedules(def: WorkflowDefinition): Promise<void> {
    const wanted = (def.triggers ?? []).filter((t): t is ScheduleTrigger => t.type === 'schedule');
    const keep = new Set(wanted.map((t) => schedulerId(def.id, t.config.cron)));
    for (const s of await this.workflowSchedulers(def.id)) {
      if (!keep.has(s.id)) await this.rt.queues.workflowQueue.removeJobScheduler(s.id);
    }
    for (const t of wanted) await this.upsertSchedule(def.id, t.config.cron, t.config.timezone, t.config.data);
  }

  /** Every scheduler, in the order BullMQ keeps them (by next run). */
  async getJobSchedulers(start = 0, end = -1, asc = true): Promise<ScheduleInfo[]> {
    return (await this.rt.queues.workflowQueue.getJobSchedulers(start, end, asc)).map(toInfo);
  }

  /** One scheduler by id, or null. */
  async getJobScheduler(id: string): Promise<ScheduleInfo | null> {
    const found = await this.rt.queues.workflowQueue.getJobScheduler(id);
    return found === undefined ? null : toInfo(found);
  }

  /** Removes every scheduler of `workflowId`; returns how many there were. */
  async removeWorkflowSchedulers(workflowId: string): Promise<number> {
    const mine = await this.workflowSchedulers(workflowId);
    const removed = await Promise.all(mine.map((s) => this.rt.queues.workflowQueue.removeJobScheduler(s.id)));
    return removed.filter(Boolean).length;
  }

  /**
   * Starts every workflow with a webhook trigger on `path` whose method matches (a trigger without
   * a method takes any). Returns the new execution ids; `[]` when nothing matches. Refuses
   * (before starting anything) when a matching trigger has a secret: signed webhooks go through
   * {@link handleWebhook}, which can check the signature over the raw body.
   */
  async triggerWebhook(path: string, method: string, body: unknown): Promise<string[]> {
    const matches = await this.matching(path, method);
    const signed = matches.find((m) => m.trigger.config.secret !== undefined);
    if (signed !== undefined) {
      throw new WebhookRequestError('WEBHOOK_SIGNATURE', `webhook '${normaliseWebhookPath(path)}' of workflow '${signed.workflowId}' requires a signature: use handleWebhook with the raw body`);
    }
    return this.startAll(matches, body);
  }

  /**
   * The whole webhook path for an HTTP layer: checks the body size, the signatures of triggers
   * with a secret (constant-time) and timestamps where required, parses the JSON body, then starts
   * the matching workflows. Throws {@link WebhookRequestError} (401/413/400) with nothing started.
   */
  async handleWebhook(request: WebhookRequest, options: WebhookOptions = {}): Promise<string[]> {
    const raw = typeof request.rawBody === 'string' ? Buffer.from(request.rawBody) : Buffer.from(request.rawBody);
    const max = options.maxBodyBytes ?? 1024 * 1024;
    if (raw.byteLength > max) throw new WebhookRequestError('PAYLOAD_TOO_LARGE', `webhook body is ${raw.byteLength} bytes, more than the limit of ${max}`);
    const matches = await this.matching(request.path, request.method);
    if (matches.length === 0) return [];
    for (const { trigger, workflowId } of matches) verify(trigger, workflowId, raw, request.headers ?? {});
    let body: unknown;
    try {
      body = raw.byteLength === 0 ? undefined : JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw new WebhookRequestError('INVALID_BODY', `webhook body is not valid JSON: ${(err as Error).message}`);
    }
    return this.startAll(matches, body);
  }

  private async startAll(matches: readonly { workflowId: string }[], body: unknown): Promise<string[]> {
    const ids: string[] = [];
    for (const m of matches) ids.push(await this.start(m.workflowId, body));
    return ids;
  }

  /** Webhook triggers on `path` and `method`, from the store so every engine sharing it sees them. */
  private async matching(path: string, method: string): Promise<{ workflowId: string; trigger: WebhookTrigger }[]> {
    const wantedPath = normaliseWebhookPath(path);
    const wantedMethod = method.toUpperCase();
    const out: { workflowId: string; trigger: WebhookTrigger }[] = [];
    for (const def of await this.rt.store.listWorkflows()) {
      for (const t of def.triggers ?? []) {
        if (t.type !== 'webhook' || normaliseWebhookPath(t.config.path) !== wantedPath) continue;
        if (t.config.method !== undefined && t.config.method.toUpperCase() !== wantedMethod) continue;
        out.push({ workflowId: def.id, trigger: t });
        break;
      }
    }
    return out;
  }

  private async workflowSchedulers(workflowId: string): Promise<ScheduleInfo[]> {
    const prefix = schedulerId(workflowId, '');
    return (await this.getJobSchedulers()).filter((s) => s.id.startsWith(prefix));
  }
}

function verify(trigger: WebhookTrigger, workflowId: string, raw: Buffer, headers: Record<string, string | string[] | undefined>): void {
  const { secret, toleranceSeconds } = trigger.config;
  if (secret === undefined) return;
  const header = (name: string): string | undefined => {
    const entry = Object.entries(headers).find(([k]) => k.toLowerCase() === name);
    const v = entry?.[1];
    return Array.isArray(v) ? v[0] : v;
  };
  const refuse = (why: string): never => {
    throw new WebhookRequestError('WEBHOOK_SIGNATURE', `webhook of workflow '${workflowId}': ${why}`);
  };
  let timestamp: number | undefined;
  if (toleranceSeconds !== undefined) {
    const ts = header(TIMESTAMP_HEADER);
    timestamp = ts === undefined ? NaN : Number(ts);
    if (!Number.isInteger(timestamp)) refuse(`missing or invalid ${TIMESTAMP_HEADER} header`);
    if (Math.abs(Date.now() / 1000 - timestamp!) > toleranceSeconds) refuse(`timestamp is more than ${toleranceSeconds} s away from now`);
  }
  const given = header(SIGNATURE_HEADER);
  if (given === undefined) refuse(`missing ${SIGNATURE_HEADER} header`);
  const expected = Buffer.from(signWebhook(secret, raw, timestamp));
  const actual = Buffer.from(given!);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) refuse('signature does not match');
}

function toInfo(s: JobSchedulerJson): ScheduleInfo {
  return { id: s.id ?? s.key, pattern: s.pattern ?? undefined, every: s.every === undefined ? undefined : Number(s.every), tz: s.tz ?? undefined, next: s.next, endDate: s.endDate ?? undefined };
}
