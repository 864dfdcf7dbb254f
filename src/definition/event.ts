/**
 * The `event` node kind's config: its checks (for the definition's validation) and what the
 * runtime reads from it. An event node waits for `engine.sendEvent(name, payload)` whose payload's
 * `match.field` equals the value `match.equals` finds in the execution's data.
 *
 * ```json
 * { "type": "event", "config": { "name": "order.paid", "match": { "field": "orderId", "equals": "$.input.orderId" }, "timeout": "7d" } }
 * ```
 *
 * `equals` is `$.input.<path>` (the execution's initial data) or `$.nodes.<parentId>.<path>` (the
 * output of one of the node's parents), `<path>` a dotted path as mappings use them
 * (definition/mapping.ts); `$.input` and `$.nodes.<parentId>` alone take the whole value.
 *
 * @module
 */
import { getPath, pathProblem } from './mapping.js';
import { SAFE_ID } from './schema.js';
import { waitConfigOf, waitConfigProblems } from './signal.js';
import type { SignalTimeoutAction } from './signal.js';
import type { NodeDefinition } from './types.js';

/** Where an event node's match value is read from: the execution's input, or a parent's output. */
export type EventMatchSource =
  { readonly from: 'input'; readonly path: string | undefined } | { readonly from: 'node'; readonly nodeId: string; readonly path: string | undefined };

/** An event node's config, checked and resolved. */
export interface EventNodeConfig {
  /** The event's name, unique in the workflow. */
  readonly name: string;
  /** The dotted path into the event's payload whose value must equal the match value. */
  readonly field: string;
  /** The `equals` expression as written. */
  readonly equals: string;
  /** Where `equals` reads. */
  readonly source: EventMatchSource;
  /** How long the node waits (ms), if it has a timeout. */
  readonly timeoutMs: number | undefined;
  /** What a timeout does. @defaultValue 'fail' */
  readonly onTimeout: SignalTimeoutAction;
  /** The payload's JSON Schema, if any. */
  readonly schema: Readonly<Record<string, unknown>> | boolean | undefined;
}

const INPUT = '$.input';
const NODES = '$.nodes.';

/** Reads an `equals` expression; a string problem when it is not one. */
export function parseEquals(equals: unknown): EventMatchSource | string {
  if (typeof equals !== 'string') return "match.equals must be a string such as '$.input.orderId' or '$.nodes.<parentId>.orderId'";
  if (equals === INPUT) return { from: 'input', path: undefined };
  if (equals.startsWith(`${INPUT}.`)) {
    const path = equals.slice(INPUT.length + 1);
    const problem = pathProblem(path);
    return problem === undefined ? { from: 'input', path } : `match.equals path ${problem}`;
  }
  if (equals.startsWith(NODES)) {
    const [nodeId = '', ...rest] = equals.slice(NODES.length).split('.');
    if (!SAFE_ID.test(nodeId)) return 'match.equals must name a parent node after $.nodes.';
    const path = rest.length === 0 ? undefined : rest.join('.');
    const problem = path === undefined ? undefined : pathProblem(path);
    return problem === undefined ? { from: 'node', nodeId, path } : `match.equals path ${problem}`;
  }
  return "match.equals must start with '$.input' or '$.nodes.<parentId>'";
}

/** What is wrong with an event node's config (empty when nothing is). */
export function eventConfigProblems(config: Readonly<Record<string, unknown>>): string[] {
  return waitConfigProblems(config, { what: 'an event node', keys: ['match'], problems: matchProblems });
}

function matchProblems(config: Readonly<Record<string, unknown>>): string[] {
  const match = config['match'];
  if (typeof match !== 'object' || match === null || Array.isArray(match)) return ["match must be { field: 'payload.path', equals: '$.input.path' }"];
  const problems: string[] = [];
  const m = match as Record<string, unknown>;
  for (const key of Object.keys(m)) if (key !== 'field' && key !== 'equals') problems.push(`unknown match key '${key}' (match takes field and equals)`);
  const field = m['field'];
  const fieldProblem = typeof field === 'string' ? pathProblem(field) : 'must be a dotted path string';
  if (fieldProblem !== undefined) problems.push(`match.field ${fieldProblem}`);
  const source = parseEquals(m['equals']);
  if (typeof source === 'string') problems.push(source);
  return problems;
}

/** A valid event node's config, resolved (call only on a validated definition). */
export function eventConfigOf(node: NodeDefinition): EventNodeConfig {
  const c = node.config as Record<string, unknown>;
  const match = c['match'] as { field: string; equals: string };
  return {
    name: c['name'] as string,
    field: match.field,
    equals: match.equals,
    source: parseEquals(match.equals) as EventMatchSource,
    ...waitConfigOf(c),
  };
}

/** The value an event node matches on, read from the execution's data; undefined when there is none. */
export function matchValueOf(config: EventNodeConfig, data: { initialData: unknown; parentOutput: (nodeId: string) => unknown }): unknown {
  const root = config.source.from === 'input' ? data.initialData : data.parentOutput(config.source.nodeId);
  return config.source.path === undefined ? root : getPath(root, config.source.path);
}

/** The event nodes of a workflow's nodes, by event name. */
export function eventNodes(nodes: Iterable<NodeDefinition>): Map<string, NodeDefinition> {
  const out = new Map<string, NodeDefinition>();
  for (const n of nodes) if (n.type === 'event' && typeof n.config['name'] === 'string') out.set(n.config['name'], n);
  return out;
}
