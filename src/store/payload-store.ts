/**
 * The storage half of the claim check: where large values live while executions, node results
 * and jobs carry a small reference to them. The runtime's PayloadManager decides what goes here.
 *
 * @module
 */

/**
 * Storage for the large values of executions (claim check). A payload belongs to one execution
 * and is addressed by (execution id, payload id); it is deleted with its execution (by
 * `pruneExecutions`, or eviction in the in-memory store).
 *
 * Guarantees every implementation keeps:
 * - {@link PayloadStore.putPayload} is an upsert on (execution, payload id): writing the same id
 *   again replaces the value, so a re-run node replaces its earlier output instead of adding one.
 * - The execution must exist: putting a payload for an unknown execution throws
 *   `ExecutionNotFoundError` (the database enforces it with a foreign key).
 * - A read issued after a completed put sees it, from any process sharing the store.
 *
 * Not in the contract: size limits (PostgreSQL allows up to 255 MB of jsonb per value), and
 * compression (PostgreSQL compresses large values itself).
 */
export interface PayloadStore {
  /**
   * Stores `json` (the JSON text of the value, as `JSON.stringify` wrote it) as payload
   * `payloadId` of the execution, replacing any earlier value under that id.
   */
  putPayload(executionId: string, payloadId: string, json: string): Promise<void>;
  /**
   * The parsed values of the execution's payloads among `payloadIds`; ids without a payload are
   * absent from the map. What comes back is a copy, never the stored object.
   */
  getPayloads(executionId: string, payloadIds: readonly string[]): Promise<Map<string, unknown>>;
  /** Deletes every payload of the execution; returns how many there were. */
  deletePayloads(executionId: string): Promise<number>;
}

/** Whether `store` implements {@link PayloadStore} (the built-in stores all do). */
export function isPayloadStore(store: unknown): store is PayloadStore {
  if (typeof store !== 'object' || store === null) return false;
  const s = store as Partial<Record<keyof PayloadStore, unknown>>;
  return typeof s.putPayload === 'function' && typeof s.getPayloads === 'function' && typeof s.deletePayloads === 'function';
}
