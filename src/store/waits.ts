/**
 * Waits: a node of an execution that waits for something from outside (a signal today), kept in
 * the store so that the wait holds no worker, no lock and no job while it lasts, and survives
 * restarts. One record per (execution, kind, key); every change of its state is a
 * compare-and-set, which is what makes a wait resolve exactly once when signals race each other
 * or the timeout.
 *
 * States:
 * - `waiting`: the node ran and waits (`nodeId` is set).
 * - `delivered`: what it waits for arrived before the node ran (`payload` is set); the node
 *   consumes it when it runs.
 * - `resolved`: consumed, by a delivery (`resolution: 'signal'`, `payload`) or the timeout
 *   (`resolution: 'timeout'`). Final.
 *
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import { assertRecord } from './store.js';

/**
 * What a wait waits for: `signal` (`engine.signal`, found by execution) or `event`
 * (`engine.sendEvent`, found by its key, the event's name, and its `matchValue`).
 */
export type WaitKind = 'signal' | 'event';

/** The state of a wait (see the module comment). */
export type WaitState = 'waiting' | 'delivered' | 'resolved';

/** What resolved a wait: a delivery (`signal`: a signal, or for an `event` wait the event) or the timeout. */
export type WaitResolution = 'signal' | 'timeout';

/** Which wait: one per (execution, kind, key). For a signal the key is its name. */
export interface WaitRef {
  /** The execution that waits. */
  executionId: string;
  /** What it waits for. */
  kind: WaitKind;
  /** Which one of that kind (a signal's or an event's name). */
  key: string;
}

/** A stored wait. */
export interface WaitRecord extends WaitRef {
  /** Its state. */
  state: WaitState;
  /** The node that waits; absent while a delivery waits for its node to run. */
  nodeId?: string;
  /** The delivered data (absent when none was given, or the timeout resolved it). */
  payload?: unknown;
  /** What resolved it, once `resolved`. */
  resolution?: WaitResolution;
  /** The value a delivery is found by (`event` waits: canonical JSON of `[field, value]`). */
  matchValue?: string;
  /** When it was created (epoch ms): for a node that waits, when it started waiting. */
  createdAt: number;
  /** When its state last changed (epoch ms). */
  updatedAt: number;
}

/** A wait to create with {@link ExecutionStore.createWait}. */
export interface NewWait extends WaitRef {
  /** `waiting` (a node waits) or `delivered` (a delivery came first). */
  state: 'waiting' | 'delivered';
  /** The node, for `waiting`. */
  nodeId?: string;
  /** The data, for `delivered`. */
  payload?: unknown;
  /** The value {@link ExecutionStore.findWaitingByMatch} finds it by (`event` waits). */
  matchValue?: string;
}

/** What {@link ExecutionStore.findWaitingByMatch} looks for. */
export interface WaitMatchQuery {
  /** The kind (`event`). */
  kind: WaitKind;
  /** The key (the event's name). */
  key: string;
  /** Match values; a wait whose `matchValue` is any of them is found. */
  matchValues: readonly string[];
}

/** What {@link ExecutionStore.updateWait} writes with the new state. */
export interface WaitPatch {
  /** The new state. */
  state: WaitState;
  /** Sets the node (a delivered wait consumed by its node). */
  nodeId?: string;
  /** Sets the data. */
  payload?: unknown;
  /** Sets what resolved it. */
  resolution?: WaitResolution;
}

/** What {@link ExecutionStore.createWait} returns: the wait as stored, and whether this call created it. */
export interface CreatedWait {
  /** True when this call created it; false when one existed (it is then returned unchanged). */
  created: boolean;
  /** The stored wait. */
  wait: WaitRecord;
}

const KINDS: readonly string[] = ['signal', 'event'];
const STATES: readonly string[] = ['waiting', 'delivered', 'resolved'];

/** Checks a {@link WaitRef}; shared by the stores. */
export function checkWaitRef(method: string, ref: WaitRef): void {
  assertRecord(method, 'wait', ref);
  if (typeof ref.executionId !== 'string' || ref.executionId.length === 0) throw new InvalidArgumentError(`${method}: executionId must be a non-empty string`);
  if (!KINDS.includes(ref.kind)) throw new InvalidArgumentError(`${method}: kind must be one of ${KINDS.join(', ')}`);
  if (typeof ref.key !== 'string' || ref.key.length === 0) throw new InvalidArgumentError(`${method}: key must be a non-empty string`);
}

/** Checks a {@link NewWait}; shared by the stores. */
export function checkNewWait(wait: NewWait): void {
  checkWaitRef('createWait', wait);
  if (wait.state !== 'waiting' && wait.state !== 'delivered') throw new InvalidArgumentError('createWait: state must be waiting or delivered');
  if (wait.nodeId !== undefined && typeof wait.nodeId !== 'string') throw new InvalidArgumentError('createWait: nodeId must be a string');
  if (wait.matchValue !== undefined && typeof wait.matchValue !== 'string') throw new InvalidArgumentError('createWait: matchValue must be a string');
}

/** Checks a {@link WaitMatchQuery}; shared by the stores. */
export function checkWaitMatchQuery(query: WaitMatchQuery): void {
  assertRecord('findWaitingByMatch', 'query', query);
  if (!KINDS.includes(query.kind)) throw new InvalidArgumentError(`findWaitingByMatch: kind must be one of ${KINDS.join(', ')}`);
  if (typeof query.key !== 'string' || query.key.length === 0) throw new InvalidArgumentError('findWaitingByMatch: key must be a non-empty string');
  if (!Array.isArray(query.matchValues) || query.matchValues.some((v) => typeof v !== 'string'))
    throw new InvalidArgumentError('findWaitingByMatch: matchValues must be an array of strings');
}

/** Checks the arguments of {@link ExecutionStore.updateWait}; shared by the stores. */
export function checkWaitUpdate(ref: WaitRef, from: readonly WaitState[], patch: WaitPatch): void {
  checkWaitRef('updateWait', ref);
  if (!Array.isArray(from) || from.length === 0 || from.some((s) => !STATES.includes(s))) throw new InvalidArgumentError('updateWait: from must list wait states');
  assertRecord('updateWait', 'patch', patch);
  if (!STATES.includes(patch.state)) throw new InvalidArgumentError('updateWait: patch.state must be a wait state');
  if (patch.resolution !== undefined && patch.resolution !== 'signal' && patch.resolution !== 'timeout')
    throw new InvalidArgumentError('updateWait: resolution must be signal or timeout');
}
