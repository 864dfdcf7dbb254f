/**
 * How a {@link DrizzleStore}'s per-node calls reach PostgreSQL: the prepared statements of
 * prepared.ts, and the batchers (batcher.ts) that send concurrent calls of one kind as one
 * statement. The store turns its arguments into tuples and rows back into values; this module
 * decides how many statements that takes.
 *
 * @module
 */
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { Batcher } from './batcher.js';
import { prepareHotPaths } from './prepared.js';
import type { HotPathStatements, NewExecutionTuple, NodeResultTuple } from './prepared.js';
import type { ExecutionHeadRow, ExecutionRow } from './rows.js';

/** Node-result batches in flight at once; see batcher.ts. */
const RESULT_WRITES_IN_FLIGHT = 2;
/** Execution-insert batches in flight at once; see batcher.ts. */
const CREATES_IN_FLIGHT = 2;
/** Execution-read batches in flight at once; see batcher.ts. */
const EXECUTION_READS_IN_FLIGHT = 4;

/** The hot path of one store: its statements, built on first use, and its three batchers. */
export class HotPath {
  private prepared: HotPathStatements | undefined;

  /** Concurrent `saveNodeResult` calls, written together as one upsert. */
  readonly saveResult = new Batcher<NodeResultTuple, void>({
    run: async (tuples) => {
      // One statement cannot upsert a row twice: the last call for a key wins, as it would in
      // sequence. Rows go in key order so that two batches lock shared rows in the same order
      // and cannot deadlock.
      const latest = new Map(tuples.map((t) => [`${t[0]}\u0000${t[1]}`, t]));
      const rows = [...latest].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, t]) => t);
      await this.statements.saveNodeResults.execute({ rows: JSON.stringify(rows) });
      return [];
    },
    maxInFlight: RESULT_WRITES_IN_FLIGHT,
    maxBatch: 500,
  });

  /** Concurrent `createExecution` calls, inserted together; each learns whether its row went in. */
  readonly createExecution = new Batcher<NewExecutionTuple, boolean>({
    run: async (tuples) => {
      // Of several calls for one id only the first can insert it; the others find it taken.
      const first = new Map<string, number>();
      tuples.forEach((t, i) => {
        if (!first.has(t[0])) first.set(t[0], i);
      });
      const rows = [...first.values()].map((i) => tuples[i]!);
      const inserted = new Set((await this.statements.createExecutions.execute({ rows: JSON.stringify(rows) })).map((r) => r.executionId));
      return tuples.map((t, i) => first.get(t[0]) === i && inserted.has(t[0]));
    },
    maxInFlight: CREATES_IN_FLIGHT,
    maxBatch: 500,
  });

  /** Concurrent `getExecution` calls, read together. */
  readonly readExecution = new Batcher<string, ExecutionRow | undefined>({
    run: async (ids) => {
      const rows = await this.statements.getExecutions.execute({ ids: JSON.stringify([...new Set(ids)]) });
      const byId = new Map(rows.map((row) => [row.executionId, row]));
      return ids.map((id) => byId.get(id));
    },
    maxInFlight: EXECUTION_READS_IN_FLIGHT,
    maxBatch: 200,
  });

  /** Concurrent `getExecutionHead` calls, read together; each asks for its own node ids. */
  readonly readHead = new Batcher<[string, readonly string[]], ExecutionHeadRow | undefined>({
    run: async (requests) => {
      const rows = await this.statements.getExecutionHeads.execute({ requests: JSON.stringify(requests) });
      const byIndex = new Map(rows.map((row) => [Number(row.i), row]));
      return requests.map((_, i) => byIndex.get(i + 1));
    },
    maxInFlight: EXECUTION_READS_IN_FLIGHT,
    maxBatch: 200,
  });

  constructor(private readonly db: PgDatabase<PgQueryResultHKT, Record<string, unknown>>) {}

  /** The prepared statements, built on first use. */
  get statements(): HotPathStatements {
    return (this.prepared ??= prepareHotPaths(this.db));
  }
}
