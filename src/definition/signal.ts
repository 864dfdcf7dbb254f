/**
 * The `signal` node kind's config: its checks (for the definition's validation) and what the
 * runtime reads from it (name, timeout, what a timeout does, the payload's schema).
 *
 * ```json
 * { "type": "signal", "config": { "name": "approval", "timeout": "24h", "onTimeout": "fail", "schema": { "type": "object" } } }
 * ```
 *
 * @module
 */
import { z } from './zod.js';
import { SAFE_ID } from './schema.js';
import type { NodeDefinition } from './types.js';

/** Longest timeout a signal node may have: BullMQ's delay is a 32-bit millisecond count in places. */
export const MAX_SIGNAL_TIMEOUT_MS = 2 ** 31 - 1;

/** What a signal node does when its timeout fires first: fail, or complete with `value`. */
export type SignalTimeoutAction = 'fail' | { readonly value: unknown };

/** A signal node's config, checked and resolved. */
export interface SignalNodeConfig {
  /** The signal's name, unique in the workflow. */
  readonly name: string;
  /** How long the node waits (ms), if it has a timeout. */
  readonly timeoutMs: number | undefined;
  /** What a timeout does. @defaultValue 'fail' */
  readonly onTimeout: SignalTimeoutAction;
  /** The payload's JSON Schema, if any. */
  readonly schema: Readonly<Record<string, unknown>> | boolean | undefined;
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/**
 * Milliseconds in a duration: a number of milliseconds, or a string such as `'200ms'`, `'30s'`,
 * `'15m'`, `'24h'`, `'7d'`; undefined when it is neither (or negative, or not finite).
 */
export function durationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const m = DURATION.exec(value.trim());
  if (m === null) return undefined;
  return Math.round(Number(m[1]) * UNITS[m[2]!]!);
}

/** What is wrong with a signal node's config (empty when nothing is). */
export function signalConfigProblems(config: Readonly<Record<string, unknown>>): string[] {
  return waitConfigProblems(config, { what: 'a signal node' });
}

/** A valid signal node's config, resolved (call only on a validated definition). */
export function signalConfigOf(node: NodeDefinition): SignalNodeConfig {
  const c = node.config as Record<string, unknown>;
  return { name: c['name'] as string, ...waitConfigOf(c) };
}

/** What a waiting node kind (signal, event) adds to the config keys they all take. */
export interface WaitConfigShape {
  /** The kind, as problems name it: `'a signal node'`. */
  readonly what: string;
  /** Its own keys, beside name, timeout, onTimeout and schema. */
  readonly keys?: readonly string[];
  /** What is wrong with its own keys (listed after the unknown keys, before the timeout). */
  readonly problems?: (config: Readonly<Record<string, unknown>>) => string[];
}

/**
 * What is wrong with a waiting node's config (empty when nothing is): its name, unknown keys,
 * the kind's own keys, timeout, onTimeout and schema, in that order.
 */
export function waitConfigProblems(config: Readonly<Record<string, unknown>>, shape: WaitConfigShape): string[] {
  const problems: string[] = [];
  const name = config['name'];
  if (typeof name !== 'string' || !SAFE_ID.test(name) || name.length > 128) problems.push('name must be a non-empty string of letters, digits, _ . - (at most 128)');
  const takes = ['name', ...(shape.keys ?? []), 'timeout', 'onTimeout', 'schema'];
  const allowed = new Set([...takes, 'retryPolicy', 'circuitBreaker']);
  const listed = `${takes.slice(0, -1).join(', ')} and ${takes[takes.length - 1]!}`;
  for (const key of Object.keys(config)) if (!allowed.has(key)) problems.push(`unknown config key '${key}' (${shape.what} takes ${listed})`);
  if (shape.problems !== undefined) problems.push(...shape.problems(config));
  if (config['timeout'] !== undefined) {
    const ms = durationMs(config['timeout']);
    if (ms === undefined || ms < 1 || ms > MAX_SIGNAL_TIMEOUT_MS)
      problems.push(`timeout must be milliseconds (1 to ${MAX_SIGNAL_TIMEOUT_MS}) or a duration such as '200ms', '30s', '15m', '24h', '7d'`);
  }
  const onTimeout = config['onTimeout'];
  if (onTimeout !== undefined && onTimeout !== 'fail' && !isValueAction(onTimeout)) problems.push("onTimeout must be 'fail' or { value }");
  if (onTimeout !== undefined && config['timeout'] === undefined) problems.push('onTimeout needs a timeout');
  const schema = config['schema'];
  if (schema !== undefined) {
    if (typeof schema !== 'boolean' && (typeof schema !== 'object' || schema === null || Array.isArray(schema)))
      problems.push('schema must be a JSON Schema (an object or a boolean)');
    else if (payloadValidator(schema as Record<string, unknown> | boolean) === undefined) problems.push('schema is not a JSON Schema this engine can read');
  }
  return problems;
}

function isValueAction(v: unknown): v is { value: unknown } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && 'value' in v;
}

/** The timeout, onTimeout and schema of a valid waiting node's config, resolved. */
export function waitConfigOf(c: Readonly<Record<string, unknown>>): Omit<SignalNodeConfig, 'name'> {
  const onTimeout = c['onTimeout'];
  return {
    timeoutMs: c['timeout'] === undefined ? undefined : durationMs(c['timeout']),
    onTimeout: isValueAction(onTimeout) ? { value: onTimeout.value } : 'fail',
    schema: c['schema'] as SignalNodeConfig['schema'],
  };
}

/**
 * A payload check built from a JSON Schema: the issues it finds (`path: message`, empty when
 * none) and the payload as the schema parsed it (its defaults filled in).
 */
export type PayloadValidator = (payload: unknown) => { issues: string[]; value: unknown };

const validators = new WeakMap<object, PayloadValidator>();
const MAX_ISSUES = 20;

/**
 * The check of a signal payload against `schema` (through zod's JSON Schema reader), or
 * undefined when zod cannot read the schema. Cached per schema object.
 */
export function payloadValidator(schema: Readonly<Record<string, unknown>> | boolean): PayloadValidator | undefined {
  const key = typeof schema === 'boolean' ? undefined : schema;
  const cached = key === undefined ? undefined : validators.get(key);
  if (cached !== undefined) return cached;
  let zodSchema: z.ZodType;
  try {
    zodSchema = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch {
    return undefined;
  }
  const check: PayloadValidator = (payload) => {
    const result = zodSchema.safeParse(payload);
    if (result.success) return { issues: [], value: result.data };
    const lines = result.error.issues.slice(0, MAX_ISSUES).map((i) => `${pathText(i.path)}: ${i.message}`);
    if (result.error.issues.length > MAX_ISSUES) lines.push(`... and ${result.error.issues.length - MAX_ISSUES} more`);
    return { issues: lines, value: payload };
  };
  if (key !== undefined) validators.set(key, check);
  return check;
}

function pathText(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) text += typeof key === 'number' ? `[${key}]` : `${text === '' ? '' : '.'}${String(key)}`;
  return text === '' ? '(root)' : text;
}

/** The signal nodes of a workflow's nodes, by signal name. */
export function signalNodes(nodes: Iterable<NodeDefinition>): Map<string, NodeDefinition> {
  const out = new Map<string, NodeDefinition>();
  for (const n of nodes) if (n.type === 'signal' && typeof n.config['name'] === 'string') out.set(n.config['name'], n);
  return out;
}
