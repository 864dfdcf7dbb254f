/**
 * Group commit for one kind of write: calls made while earlier writes of the same kind are still
 * in flight are sent together, as one statement and one commit, once a slot frees up.
 *
 * Why: on PostgreSQL with `synchronous_commit = on` (the default) every commit waits for the WAL
 * to reach the disk, and that flush, not CPU, is what limits how many node results per second one
 * store can save. Sending the writes that queued up during one flush as one statement turns N
 * flushes into one. A lone call (nothing in flight) is sent at once, so an idle system sees no
 * added latency.
 *
 * Each call still resolves only after its own write has committed, so read-your-writes holds as
 * with one statement per call. When a batch fails, its items are retried one by one, so that
 * each caller gets its own outcome (one missing execution does not fail the others' writes).
 * Retrying is safe because the writes are idempotent upserts.
 *
 * @module
 */

interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Options of a {@link WriteBatcher}. */
export interface WriteBatcherOptions<T> {
  /** Writes one batch (one statement); items are in call order. */
  write: (items: readonly T[]) => Promise<void>;
  /**
   * How many batches may be in flight at once. Each holds a connection until its commit, so this
   * also bounds how many pool connections writes of this kind take from reads.
   */
  maxInFlight: number;
  /** Largest batch; more queued items wait for the next slot. */
  maxBatch: number;
}

/** See the module comment. */
export class WriteBatcher<T> {
  private queue: Pending<T>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly options: WriteBatcherOptions<T>) {}

  /** Resolves once `item` is written (and committed); rejects with that item's own error. */
  write(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      // Calls made in the same turn of the event loop go together even when a slot is free.
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight++;
      void this.flush(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async flush(batch: readonly Pending<T>[]): Promise<void> {
    try {
      await this.options.write(batch.map((p) => p.item));
      for (const p of batch) p.resolve();
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      // Someone's item broke the statement: find out whose by writing each alone.
      await Promise.all(
        batch.map((p) =>
          this.options.write([p.item]).then(
            () => p.resolve(),
            (e: unknown) => p.reject(e),
          ),
        ),
      );
    }
  }
}
