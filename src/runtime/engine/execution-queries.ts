/**
 * The engine's execution listing: the query is checked here, before the store is asked, so a
 * store of the application's own gets only well-formed queries.
 *
 * @module
 */
import { resolveExecutionCountQuery, resolveExecutionListQuery } from '../../store/execution-listing.js';
import type { ExecutionCountQuery, ExecutionListQuery, ExecutionStatusCounts, ExecutionSummaryPage } from '../../store/execution-listing.js';
import type { ExecutionStore } from '../../store/store.js';

/** One page of executions, newest first; see {@link ExecutionStore.listExecutionPage}. */
export async function listExecutionPage(store: ExecutionStore, query: ExecutionListQuery = {}): Promise<ExecutionSummaryPage> {
  resolveExecutionListQuery(query);
  return store.listExecutionPage(query);
}

/** Executions by status; see {@link ExecutionStore.countExecutions}. */
export async function countExecutions(store: ExecutionStore, query: ExecutionCountQuery = {}): Promise<ExecutionStatusCounts> {
  resolveExecutionCountQuery(query);
  return store.countExecutions(query);
}
