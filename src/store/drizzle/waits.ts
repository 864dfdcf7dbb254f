/**
 * {@link DrizzleStore}'s waits (store/waits.ts) in the `spane.waits` table: creation is an
 * `INSERT ... ON CONFLICT DO NOTHING` (then a read of the row that won), and every state change
 * one `UPDATE ... WHERE state = any(from) RETURNING`, so concurrent movers of one wait see exactly
 * one of them succeed.
 *
 * @module
 */
import { and, asc, eq, inArray } from 'drizzle-orm';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { checkNewWait, checkWaitMatchQuery, checkWaitRef, checkWaitUpdate } from '../waits.js';
import type { CreatedWait, NewWait, WaitKind, WaitMatchQuery, WaitPatch, WaitRecord, WaitRef, WaitResolution, WaitState } from '../waits.js';
import { jsonValue, parseJson } from './rows.js';
import { waits } from './schema.js';

type PgDb = PgDatabase<PgQueryResultHKT, Record<string, unknown>>;

const columns = {
  executionId: waits.executionId,
  kind: waits.kind,
  key: waits.key,
  state: waits.state,
  nodeId: waits.nodeId,
  payload: sql<string | null>`${waits.payload}::text`,
  resolution: waits.resolution,
  matchValue: waits.matchValue,
  createdAt: waits.createdAt,
  updatedAt: waits.updatedAt,
};

interface WaitRow {
  executionId: string;
  kind: string;
  key: string;
  state: string;
  nodeId: string | null;
  payload: string | null;
  resolution: string | null;
  matchValue: string | null;
  createdAt: number;
  updatedAt: number;
}

function toWait(row: WaitRow): WaitRecord {
  const wait: WaitRecord = {
    executionId: row.executionId,
    kind: row.kind as WaitKind,
    key: row.key,
    state: row.state as WaitState,
    createdAt: Number(row.createdAt),
    updatedAt: Number(row.updatedAt),
  };
  if (row.nodeId !== null) wait.nodeId = row.nodeId;
  const payload = parseJson(row.payload);
  if (payload !== undefined) wait.payload = payload;
  if (row.resolution !== null) wait.resolution = row.resolution as WaitResolution;
  if (row.matchValue !== null) wait.matchValue = row.matchValue;
  return wait;
}

function byRef(ref: WaitRef) {
  return and(eq(waits.executionId, ref.executionId), eq(waits.kind, ref.kind), eq(waits.key, ref.key));
}

/** `createWait`; a foreign-key violation (unknown execution) is left to the caller to map. */
export async function createWait(db: PgDb, wait: NewWait): Promise<CreatedWait> {
  checkNewWait(wait);
  const now = Date.now();
  const inserted: WaitRow[] = await db
    .insert(waits)
    .values({
      executionId: wait.executionId,
      kind: wait.kind,
      key: wait.key,
      state: wait.state,
      nodeId: wait.nodeId ?? null,
      payload: jsonValue(wait.payload),
      matchValue: wait.matchValue ?? null,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing()
    .returning(columns);
  if (inserted.length > 0) return { created: true, wait: toWait(inserted[0]!) };
  // Rows are never deleted while their execution lives, so the row that won is there.
  const existing = await getWait(db, wait);
  return { created: false, wait: existing! };
}

/** `getWait`. */
export async function getWait(db: PgDb, ref: WaitRef): Promise<WaitRecord | null> {
  checkWaitRef('getWait', ref);
  const rows: WaitRow[] = await db.select(columns).from(waits).where(byRef(ref));
  return rows.length === 0 ? null : toWait(rows[0]!);
}

/** `updateWait`: one compare-and-set update. */
export async function updateWait(db: PgDb, ref: WaitRef, from: readonly WaitState[], patch: WaitPatch): Promise<WaitRecord | null> {
  checkWaitUpdate(ref, from, patch);
  const set: Partial<typeof waits.$inferInsert> = { state: patch.state, updatedAt: Date.now() };
  if (patch.nodeId !== undefined) set.nodeId = patch.nodeId;
  if (patch.payload !== undefined) set.payload = jsonValue(patch.payload);
  if (patch.resolution !== undefined) set.resolution = patch.resolution;
  const rows: WaitRow[] = await db
    .update(waits)
    .set(set)
    .where(and(byRef(ref), inArray(waits.state, [...from])))
    .returning(columns);
  return rows.length === 0 ? null : toWait(rows[0]!);
}

/** `listWaits`, oldest first. */
export async function listWaits(db: PgDb, executionId: string): Promise<WaitRecord[]> {
  const rows: WaitRow[] = await db.select(columns).from(waits).where(eq(waits.executionId, executionId)).orderBy(asc(waits.createdAt), asc(waits.kind), asc(waits.key));
  return rows.map(toWait);
}

/** Match values per query: keeps each statement's parameter list short. */
const MATCH_CHUNK = 500;

/**
 * `findWaitingByMatch`: `kind = $1 AND key = $2 AND state = 'waiting' AND match_value IN (...)`,
 * which the partial index `waits_match_idx` on (kind, key, match_value) WHERE state = 'waiting'
 * answers; many values go in chunks.
 */
export async function findWaitingByMatch(db: PgDb, query: WaitMatchQuery): Promise<WaitRecord[]> {
  checkWaitMatchQuery(query);
  const values = [...new Set(query.matchValues)];
  const found: WaitRecord[] = [];
  for (let i = 0; i < values.length; i += MATCH_CHUNK) {
    const rows: WaitRow[] = await db
      .select(columns)
      .from(waits)
      .where(and(eq(waits.kind, query.kind), eq(waits.key, query.key), eq(waits.state, 'waiting'), inArray(waits.matchValue, values.slice(i, i + MATCH_CHUNK))));
    found.push(...rows.map(toWait));
  }
  return found.sort((a, b) => a.createdAt - b.createdAt);
}
