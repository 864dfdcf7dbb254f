/**
 * Time skipping for a test engine: a virtual clock the engine reads (see `WorkflowEngineOptions.clock`)
 * and the promotion of the delayed BullMQ jobs that the skipped span makes due.
 *
 * BullMQ keeps real time: a job delayed by `d` while the clock was `offset` ahead of real time has
 * the real due time `r + d`, and the virtual one `r + offset + d`. So each delayed job is seen once
 * before the clock moves and remembered with the offset of that moment; a job created later was
 * created under the newer offset. That covers every kind of delayed job the engine makes (delay
 * nodes, scheduled starts, retry backoffs, timeouts) without knowing its kind. Cron schedules are
 * not delayed jobs here: their occurrences in the span are computed with cron-parser and started,
 * and the schedulers' own real-time jobs are held back so a schedule fires only through
 * `advanceTime`.
 *
 * @module
 * @internal
 */
import { createRequire } from 'node:module';
import type { PGlite } from '@electric-sql/pglite';
import type { Queue } from 'bullmq';
import { InvalidStateError } from '../errors.js';

/** Where a scheduler's held-back job waits: far beyond any test. */
const HELD_BACK_MS = 8_000_000_000_000_000;
/** Steps one `advanceTime` may take before it gives up (a delay that keeps rescheduling itself). */
const MAX_STEPS = 10_000;

/** A clock `offset` ms ahead of real time, moved only forward. @internal */
export class VirtualClock {
  private offset: number;

  constructor(start?: number) {
    this.offset = start === undefined ? 0 : start - Date.now();
  }

  /** Virtual now, epoch ms. */
  readonly now = (): number => Date.now() + this.offset;

  /** How far ahead of real time the clock is. */
  get offsetMs(): number {
    return this.offset;
  }

  /** Moves the clock to `virtual` (never back). */
  moveTo(virtual: number): void {
    this.offset = Math.max(this.offset, virtual - Date.now());
  }
}

interface DelayedRow {
  queue: string;
  id: string;
  process_at_ms: string | number;
}

interface SchedulerRow {
  queue: string;
  name: string | null;
  pattern: string;
  tz: string | null;
  template_data: unknown;
  end_date_ms: string | number | null;
}

/** One thing due in the span: a delayed job to promote, or a cron occurrence to start. */
type Due = { at: number; kind: 'job'; queue: string; id: string } | { at: number; kind: 'cron'; queue: string; name: string; data: unknown };

/** Promotes what a skipped span makes due, in time order, letting the engine settle after each step. @internal */
export class TimeSkipper {
  /** Offset of the clock when each delayed job (queue, id, real due time) was first seen. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly db: PGlite,
    private readonly clock: VirtualClock,
    private readonly queue: (name: string) => Queue,
    private readonly settle: () => Promise<void>,
  ) {}

  /** Remembers the delayed jobs that exist now with the current offset, and holds back the schedulers' jobs. */
  async observe(): Promise<void> {
    await this.db.query(`UPDATE bullmq.job SET process_at_ms = $1 WHERE state = 'delayed' AND scheduler_id IS NOT NULL AND process_at_ms < $1`, [HELD_BACK_MS]);
    await this.delayed();
  }

  /** Moves the clock `ms` forward, promoting and starting what falls due, step by step. */
  async advance(ms: number): Promise<void> {
    await this.settle();
    await this.observe();
    const from = this.clock.now();
    const target = from + ms;
    const occurrences = await this.cronOccurrences(from, target);
    for (let step = 0; ; step++) {
      if (step >= MAX_STEPS) throw new InvalidStateError(`advanceTime: more than ${MAX_STEPS} steps of due work in the span (a delay that keeps rescheduling itself?)`);
      const jobs = (await this.delayed()).filter((d) => d.at <= target);
      const due: Due[] = [...jobs, ...occurrences].sort((a, b) => a.at - b.at);
      const first = due[0];
      if (first === undefined) break;
      this.clock.moveTo(first.at);
      for (const item of due) {
        if (item.at > first.at) break;
        if (item.kind === 'job') {
          const job = await this.queue(item.queue).getJob(item.id);
          // Gone or moved meanwhile (cancelled, removed): nothing to promote.
          if (job !== undefined && (await job.isDelayed())) await job.promote();
        } else {
          occurrences.splice(occurrences.indexOf(item), 1);
          await this.queue(item.queue).add(item.name, item.data);
        }
      }
      await this.settle();
      await this.observe();
    }
    this.clock.moveTo(target);
  }

  /** The real time (epoch ms) the first delayed job that is not held back falls due at, or undefined when there is none. */
  async nextRealDue(): Promise<number | undefined> {
    const { rows } = await this.db.query<{ at: string | number | null }>(
      `SELECT min(process_at_ms) AS at FROM bullmq.job WHERE state = 'delayed' AND scheduler_id IS NULL AND NOT (data ? 'parked')`,
    );
    const at = rows[0]?.at;
    return at === null || at === undefined ? undefined : Number(at);
  }

  /** The delayed jobs that are not held back (schedulers' jobs, parked node jobs), with their virtual due times. */
  private async delayed(): Promise<(Due & { kind: 'job' })[]> {
    const { rows } = await this.db.query<DelayedRow>(
      `SELECT queue, id, process_at_ms FROM bullmq.job WHERE state = 'delayed' AND scheduler_id IS NULL AND NOT (data ? 'parked') ORDER BY process_at_ms`,
    );
    const offset = this.clock.offsetMs;
    const present = new Set<string>();
    const due = rows.map((r) => {
      const real = Number(r.process_at_ms);
      const key = `${r.queue}\0${r.id}\0${real}`;
      present.add(key);
      let at = this.seen.get(key);
      if (at === undefined) this.seen.set(key, (at = offset));
      return { kind: 'job' as const, queue: r.queue, id: r.id, at: real + at };
    });
    for (const key of this.seen.keys()) if (!present.has(key)) this.seen.delete(key);
    return due;
  }

  /** Every occurrence of every cron scheduler in (from, to]. */
  private async cronOccurrences(from: number, to: number): Promise<(Due & { kind: 'cron' })[]> {
    const { rows } = await this.db.query<SchedulerRow>(`SELECT queue, name, pattern, tz, template_data, end_date_ms FROM bullmq.scheduler WHERE pattern IS NOT NULL`);
    if (rows.length === 0) return [];
    const { CronExpressionParser } = createRequire(import.meta.url)('cron-parser') as typeof import('cron-parser');
    const found: (Due & { kind: 'cron' })[] = [];
    for (const row of rows) {
      const end = row.end_date_ms === null ? to : Math.min(to, Number(row.end_date_ms));
      if (end <= from) continue;
      const cron = CronExpressionParser.parse(row.pattern, { currentDate: new Date(from), endDate: new Date(end), ...(row.tz === null ? {} : { tz: row.tz }) });
      while (cron.hasNext()) {
        const at = cron.next().getTime();
        if (at > end) break;
        found.push({ kind: 'cron', at, queue: row.queue, name: row.name ?? 'workflow-execution', data: row.template_data });
        if (found.length > MAX_STEPS) throw new InvalidStateError(`advanceTime: more than ${MAX_STEPS} cron occurrences in the span; advance by less at a time`);
      }
    }
    return found;
  }
}
