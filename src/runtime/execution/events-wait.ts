/**
 * Event nodes (`{ type: 'event', config: { name, match: { field, equals }, timeout?, onTimeout?, schema? } }`):
 * a node that waits for `engine.sendEvent(name, payload)` whose payload's `match.field` equals a
 * value from the execution's data, and outputs the payload.
 *
 * Built on the waits that signal nodes use too (waits.ts): the node's job computes its match value
 * (from `match.equals`), records a wait of kind `event` keyed by the event's name with that value
 * as `matchValue` (canonical JSON of `[field, value]`), schedules the timeout and completes.
 * `sendEvent` finds the waits an event matches with the store's index lookup
 * (`findWaitingByMatch`: one value per dotted path of the payload) and resolves each with a
 * compare-and-set (`waiting → resolved`), so each wait resolves exactly once whatever races it:
 * other events, the timeout job.
 *
 * An event wakes only the waits that exist when it is sent: it is not kept for nodes that start
 * waiting later (as in Inngest).
 *
 * @module
 */
import { resultOf } from '../../definition/graph.js';
import { eventConfigOf, matchValueOf } from '../../definition/event.js';
import { jsonProblem } from '../../definition/json-check.js';
import { getPath } from '../../definition/mapping.js';
import { BUILTIN_NODE_KINDS } from '../../definition/node-kinds.js';
import { SAFE_ID } from '../../definition/schema.js';
import { payloadValidator } from '../../definition/signal.js';
import { TERMINAL_STATUSES } from '../../definition/types.js';
import { EventMatchError, InvalidArgumentError, NotSupportedError } from '../../errors.js';
import { canonicalJson } from '../../store/canonical-json.js';
import { readExecutionHead } from '../../store/store.js';
import type { ExecutionStore } from '../../store/store.js';
import type { WaitRecord, WaitRef } from '../../store/waits.js';
import type { Runtime } from '../engine/runtime.js';
import { completeSignalled, stepWait, waitStore } from './waits.js';
import type { SignalRun, SignalStep } from './waits.js';

/** What `engine.sendEvent` returns. */
export interface SendEventResult {
  /** How many waiting nodes the event woke (each wait counts once, in one execution each). */
  woken: number;
  /** The executions whose event node it woke, oldest wait first. */
  executionIds: string[];
}

/**
 * The stored match value of a (field, value) pair: canonical JSON of `[field, value]`, so `42`
 * and `"42"` differ, key order does not matter, and waits on different fields of one event never
 * match each other.
 */
export function matchKey(field: string, value: unknown): string {
  return canonicalJson([field, value]);
}

/** Most (path, value) pairs {@link payloadMatchKeys} reads from one payload. */
export const MAX_MATCH_PATHS = 10_000;

/**
 * Every match value an event payload offers: one {@link matchKey} per dotted path into it (own
 * keys of objects and arrays, at every depth), at most {@link MAX_MATCH_PATHS}. A wait on field
 * `f` matches the payload when its match value is among these.
 */
export function payloadMatchKeys(payload: unknown): string[] {
  const out: string[] = [];
  const walk = (value: unknown, prefix: string, depth: number): void => {
    if (typeof value !== 'object' || value === null || depth > 32) return;
    for (const key of Object.keys(value)) {
      if (out.length >= MAX_MATCH_PATHS) return;
      if (key.length === 0 || key.includes('.') || key === '__proto__') continue; // no dotted path reaches it
      const path = prefix === '' ? key : `${prefix}.${key}`;
      const child = (value as Record<string, unknown>)[key];
      out.push(matchKey(path, child));
      walk(child, path, depth + 1);
    }
  };
  walk(payload, '', 0);
  return out;
}

function refOf(executionId: string, name: string): WaitRef {
  return { executionId, kind: 'event', key: name };
}

/**
 * The node's own job: computes the match value and records that the node waits (and schedules
 * its timeout; see waits.ts). `run.exec` must hold the node's parents' results (a `$.nodes.<id>`
 * match reads one).
 */
export async function stepEvent(rt: Runtime, run: SignalRun): Promise<SignalStep> {
  const { node, exec } = run;
  waitStore(rt.store);
  const config = eventConfigOf(node);
  const value = matchValueOf(config, { initialData: exec.initialData, parentOutput: (id) => resultOf(exec.nodeResults, id)?.data });
  if (value === undefined) return { kind: 'failure', error: new EventMatchError(node.id, config.name, config.equals) };
  return stepWait(rt, run, matchKey(config.field, value));
}

type MatchStore = Required<Pick<ExecutionStore, 'findWaitingByMatch' | 'createWait' | 'getWait' | 'updateWait'>>;

function matchStore(store: ExecutionStore): MatchStore {
  waitStore(store);
  if (typeof store.findWaitingByMatch !== 'function')
    throw new NotSupportedError('event nodes need a store with findWaitingByMatch; InMemoryExecutionStore and DrizzleStore have it');
  return store as MatchStore;
}

/**
 * `engine.sendEvent(name, payload)`: wakes every node waiting for event `name` whose match holds
 * (its match value equals the payload's value at its `match.field`) and whose schema accepts the
 * payload; each completes with the payload and its execution goes on. Throws InvalidArgumentError,
 * before anything is read or stored, for a malformed name or a payload that is not a JSON object.
 */
export async function sendEvent(rt: Runtime, name: unknown, payload: unknown): Promise<SendEventResult> {
  if (typeof name !== 'string' || !SAFE_ID.test(name) || name.length > 128)
    throw new InvalidArgumentError('sendEvent: name must be a non-empty string of letters, digits, _ . - (at most 128)');
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new InvalidArgumentError(`sendEvent '${name}': the payload must be a JSON object`);
  const problem = jsonProblem(payload, 'payload', { strict: true });
  if (problem !== undefined) throw new InvalidArgumentError(`sendEvent '${name}': the payload cannot be stored as JSON: ${problem.message}`);
  const store = matchStore(rt.store);
  const waits = await store.findWaitingByMatch({ kind: 'event', key: name, matchValues: payloadMatchKeys(payload) });
  const woken = new Set<string>();
  let fault: { error: unknown } | undefined;
  // One wait per execution, each settled on its own, WAKE_CONCURRENCY at a time. A fault stops
  // no other wake; the first is thrown once all are done (a wait already woken is not woken
  // again, so the caller may send the event again).
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < waits.length) {
      const wait = waits[next++]!;
      try {
        if (await wake(rt, store, wait, payload)) woken.add(wait.executionId);
      } catch (error) {
        fault ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(WAKE_CONCURRENCY, waits.length) }, lane));
  if (fault !== undefined) throw fault.error;
  const executionIds = waits.map((w) => w.executionId).filter((id) => woken.has(id));
  return { woken: executionIds.length, executionIds };
}

/** How many matching waits {@link sendEvent} settles at once. */
const WAKE_CONCURRENCY = 16;

/** Resolves one matching wait and completes its node; false when it is not woken. */
async function wake(rt: Runtime, store: MatchStore, wait: WaitRecord, sent: unknown): Promise<boolean> {
  if (wait.nodeId === undefined) return false;
  const head = await readExecutionHead(rt.store, wait.executionId, [wait.nodeId]);
  if (head === null || TERMINAL_STATUSES.includes(head.status) || resultOf(head.nodeResults, wait.nodeId) !== undefined) return false;
  const graph = await rt.workflows.get(head.workflowId, head.workflowVersion);
  const node = graph.nodes.get(wait.nodeId);
  if (node?.type !== BUILTIN_NODE_KINDS.event) return false;
  const config = eventConfigOf(node);
  if (config.name !== wait.key || matchKey(config.field, getPath(sent, config.field)) !== wait.matchValue) return false;
  let payload = sent;
  if (config.schema !== undefined) {
    const checked = payloadValidator(config.schema)?.(payload);
    if (checked !== undefined && checked.issues.length > 0) return false; // not an event this node takes
    if (checked !== undefined) payload = checked.value;
  }
  const ref = refOf(wait.executionId, wait.key);
  const taken = await store.updateWait(ref, ['waiting'], { state: 'resolved', resolution: 'signal', payload });
  if (taken === null) return false; // another event, or the timeout, came first
  await completeSignalled(rt, { graph, node, executionId: wait.executionId, wait: taken });
  return true;
}
