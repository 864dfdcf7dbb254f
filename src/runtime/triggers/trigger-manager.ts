import type { JobSchedulerJson } from 'bullmq';
import type { ScheduleTrigger, WorkflowDefinition } from '../../definition/types.js';
import { serializeError, WorkflowNotFoundError, WorkflowValidationError } from '../../errors.js';
import { cronProblem, timezoneProblem } from '../../definition/triggers.js';
import { WORKFLOW_JOB } from '../queues/jobs.js';
import type { WorkflowJobData } from '../queues/jobs.js';
import type { Runtime } from '../engine/runtime.js';
import type { WebhookManager, WebhookOptions } from './webhooks.js';

/** A job scheduler, as {@link WorkflowEngine.getJobSchedulers} lists it. */
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
  /** The webhook path (leading and trailing slashes are ignored); at most 2,048 characters. */
  path: string;
  /** The HTTP method. */
  method: string;
  /** The body exactly as received: signatures are computed over these bytes. */
  rawBody: string | Uint8Array | ArrayBuffer;
  /** Request headers; names are matched case-insensitively. */
  headers?: Record<string, string | string[] | undefined>;
}

export type { WebhookOptions } from './webhooks.js';
export { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './webhook-signature.js';

/** Scheduler id of a workflow's cron schedule. */
export function schedulerId(workflowId: string, cron: string): string {
  return `schedule:${workflowId}:${cron}`;
}

/** Schedules (BullMQ job schedulers on `workflow-execution`) and webhooks of an engine. @internal */
export class TriggerManager {
  /**
   * The schedulers this engine created, as it created them: they live in Redis only, so after
   * Redis lost its data {@link restoreSchedules} creates them again.
   */
  private readonly registered = new Map<string, { repeat: { pattern: string; tz?: string } | { every: number }; template: { name: string; data: WorkflowJobData } }>();

  constructor(
    private readonly rt: Runtime,
    private readonly webhooks: WebhookManager,
  ) {}

  /**
   * Creates or updates the schedule of `workflowId` for `schedule.cron`, with its timezone and
   * initial data (idempotent: registering the same schedule twice leaves one scheduler). Refuses
   * an invalid cron or timezone before writing.
   */
  async upsertSchedule(workflowId: string, schedule: ScheduleTrigger['config']): Promise<void> {
    const { cron, timezone, data } = schedule;
    const problems = [timezone === undefined ? undefined : timezoneProblem(timezone), cronProblem(cron, timezone)].filter((p) => p !== undefined);
    if (problems.length > 0) {
      throw new WorkflowValidationError(
        workflowId,
        problems.map((message) => ({ rule: 'invalid-trigger' as const, path: 'schedule', message })),
      );
    }
    if ((await this.rt.store.getWorkflow(workflowId)) === null) throw new WorkflowNotFoundError(workflowId);
    const template: { name: string; data: WorkflowJobData } = { name: WORKFLOW_JOB, data: { workflowId } };
    if (data !== undefined) template.data.initialData = data;
    const id = schedulerId(workflowId, cron);
    const repeat = timezone === undefined ? { pattern: cron } : { pattern: cron, tz: timezone };
    await this.rt.queues.workflowQueue.upsertJobScheduler(id, repeat, template);
    this.registered.set(id, { repeat, template });
  }

  /**
   * Creates or updates the scheduler of the engine's `retention` option. It is remembered before
   * the upsert, unlike a cron schedule (whose caller gets the error): retention is configuration,
   * so a first upsert that failed (Redis down at `startWorkers`) is made by the next reconcile pass.
   */
  async scheduleRetention(id: string, everyMs: number, prune: NonNullable<WorkflowJobData['prune']>): Promise<void> {
    const repeat = { every: everyMs };
    const template = { name: 'prune-executions', data: { workflowId: '', prune } };
    this.registered.set(id, { repeat, template });
    await this.rt.queues.workflowQueue.upsertJobScheduler(id, repeat, template);
  }

  /**
   * Creates again the schedulers this engine registered that are gone (Redis restarted empty);
   * returns how many. Schedulers removed through this engine are not brought back; one removed
   * through another engine is, while this engine still remembers registering it.
   */
  async restoreSchedules(): Promise<number> {
    let restored = 0;
    for (const [id, { repeat, template }] of this.registered) {
      try {
        if ((await this.rt.queues.workflowQueue.getJobScheduler(id)) !== undefined) continue;
        await this.rt.queues.workflowQueue.upsertJobScheduler(id, repeat, template);
        restored += 1;
      } catch (err) {
        // One scheduler that cannot be restored must not stop the repair of the others.
        this.rt.logger.warn(`could not restore job scheduler '${id}'`, { error: serializeError(err).message });
      }
    }
    return restored;
  }

  /** Makes the workflow's schedulers match its schedule triggers: upserts them, removes the rest. */
  async syncSchedules(def: WorkflowDefinition): Promise<void> {
    const wanted = (def.triggers ?? []).filter((t): t is ScheduleTrigger => t.type === 'schedule');
    const keep = new Set(wanted.map((t) => schedulerId(def.id, t.config.cron)));
    this.forget(def.id, keep);
    for (const s of await this.workflowSchedulers(def.id)) {
      if (!keep.has(s.id)) await this.removeScheduler(s.id);
    }
    for (const t of wanted) await this.upsertSchedule(def.id, t.config);
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
    this.forget(workflowId, new Set());
    const mine = await this.workflowSchedulers(workflowId);
    const removed = await Promise.all(mine.map((s) => this.removeScheduler(s.id)));
    return removed.filter(Boolean).length;
  }

  /**
   * Starts every workflow with an unsigned webhook trigger on `path` whose method matches (a
   * trigger without a method takes any). Returns the new execution ids; `[]` when nothing
   * matches. Refuses (before starting anything) when a matching trigger has a secret: signed
   * webhooks go through {@link handleWebhook}, which can check the signature over the raw body.
   */
  async triggerWebhook(path: string, method: string, body: unknown): Promise<string[]> {
    return this.webhooks.trigger(path, method, body);
  }

  /**
   * The whole webhook path for an HTTP layer (see `WorkflowEngine.handleWebhook`). Throws a
   * `WebhookRequestError` with nothing started.
   */
  async handleWebhook(request: WebhookRequest, options: WebhookOptions = {}): Promise<string[]> {
    return this.webhooks.handle(request, options);
  }

  /** Stops remembering the workflow's schedulers, except those in `keep`. */
  private forget(workflowId: string, keep: ReadonlySet<string>): void {
    const prefix = schedulerId(workflowId, '');
    for (const id of [...this.registered.keys()]) if (id.startsWith(prefix) && !keep.has(id)) this.registered.delete(id);
  }

  private async removeScheduler(id: string): Promise<boolean> {
    this.registered.delete(id);
    return this.rt.queues.workflowQueue.removeJobScheduler(id);
  }

  private async workflowSchedulers(workflowId: string): Promise<ScheduleInfo[]> {
    const prefix = schedulerId(workflowId, '');
    return (await this.getJobSchedulers()).filter((s) => s.id.startsWith(prefix));
  }
}

function toInfo(s: JobSchedulerJson): ScheduleInfo {
  return {
    id: s.id ?? s.key,
    pattern: s.pattern ?? undefined,
    every: s.every === undefined ? undefined : Number(s.every),
    tz: s.tz ?? undefined,
    next: s.next,
    endDate: s.endDate ?? undefined,
  };
}
