/**
 * Statement batching for the store's hot paths: calls of one kind made while earlier statements
 * of that kind are still in flight are sent together, as one statement, once a slot frees up.
 *
 * Why: per statement, the Node process pays for building, sending and parsing a message and the
 * server pays for executing a portal; per committed write, PostgreSQL with `synchronous_commit = on`
 * (the default) also waits for the WAL to reach the disk. That flush, then the per-statement CPU,
 * limit how many node jobs per second one store can serve. Under load, the calls that queued up
 * while one statement ran go out as one statement: N flushes become one, N reads one query. A lone
 * call (nothing in flight) is sent at once, so an idle system sees no added latency.
 *
 * Every call still settles only after its own statement has finished (a write has committed), and
 * a read is sent only after the call was made, so read-your-writes holds as with one statement per
 * call. When a batch fails, its items are retried one by one so that each caller gets its own
 * outcome (one missing execution does not fail the others' writes); only idempotent statements
 * (reads, upserts) may be batched, since a failed batch may have run part of its work.
 *
 * @module
 */

interface Pending<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (err: unknown) => void;
}

/** Options of a {@link Batcher}. */
export interface BatcherOptions<T, R> {
  /** Runs one batch as one statement; returns one result per item, in the items' order. */
  run: (items: readonly T[]) => Promise<readonly R[]>;
  /**
   * How many batches may be in flight at once. Each holds a connection until it finishes (a write
   * until its commit), so this also bounds how many pool connections this kind of call takes.
   */
  maxInFlight: number;
  /** Largest batch; further queued items wait for the next slot. */
  maxBatch: number;
}

/** See the module comment. */
export class Batcher<T, R> {
  private readonly queue: Pending<T, R>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly options: BatcherOptions<T, R>) {}

  /** Settles with this item's result once its batch has run; rejects with this item's own error. */
  call(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
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

  private async flush(batch: readonly Pending<T, R>[]): Promise<void> {
    try {
      const results = await this.options.run(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i] as R));
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      // Someone's item broke the statement: find out whose by running each alone.
      await Promise.all(
        batch.map((p) =>
          this.options.run([p.item]).then(
            ([result]) => p.resolve(result as R),
            (e: unknown) => p.reject(e),
          ),
        ),
      );
    }
  }
}
