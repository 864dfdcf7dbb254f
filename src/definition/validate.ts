import type { ValidationIssue } from '../errors.js';
import { WorkflowValidationError } from '../errors.js';
import { mappingProblems } from './mapping.js';
import { eventConfigProblems, parseEquals } from './event.js';
import { signalConfigProblems } from './signal.js';
import { BUILTIN_NODE_KINDS, isBuiltinNodeKind } from './node-kinds.js';
import type { BuiltinNodeKind } from './node-kinds.js';
import { SAFE_ID, workflowDefinitionSchema } from './schema.js';
import { triggerProblems } from './triggers.js';
import type { WorkflowDefinition } from './types.js';

// Re-exported from its old home, where the public barrel and the CLI found it.
export { BUILT_IN_NODE_TYPES } from './node-kinds.js';

/**
 * The one name refused as a node or workflow id although it is made of safe characters. Names of
 * other `Object.prototype` members (`constructor`, `toString`, ...) are ordinary ids: SPANE looks
 * ids up as own properties only.
 */
const PROTO_KEY = '__proto__';
const PROTO_KEY_REASON =
  "assigned as an object key it replaces the object's prototype instead of adding a key, so it cannot safely key node results, a join's input or a user's own objects";

/** What {@link validateWorkflow} needs to know beyond the definition. */
export interface ValidateOptions {
  /** Returns whether an executor exists for a node type; unknown types are problems when given. */
  hasNodeType?: (type: string) => boolean;
}

/**
 * Checks a definition and returns every problem found (an empty list when it is valid):
 * its JSON shape, unique and Redis-safe ids, edges that name existing nodes, `inputs` and
 * `outputs` that mirror each other, an existing entry node without parents, no cycles, every
 * node reachable from the entry, known node types and valid delay configs.
 */
export function findWorkflowIssues(input: unknown, options: ValidateOptions = {}): ValidationIssue[] {
  const parsed = workflowDefinitionSchema.safeParse(input);
  if (!parsed.success) {
    return parsed.error.issues.map((issue) => ({
      rule: 'schema',
      path:
        issue.path
          .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
          .join('')
          .replace(/^\./, '') || '(root)',
      message: issue.message,
    }));
  }
  const def = parsed.data as WorkflowDefinition;
  const issues: ValidationIssue[] = [];
  const add = (rule: ValidationIssue['rule'], path: string, message: string) => issues.push({ rule, path, message });

  if (!SAFE_ID.test(def.id)) add('unsafe-id', 'id', `workflow id '${def.id}' may only contain letters, digits, '_', '-' and '.'`);
  else if (def.id === PROTO_KEY) add('unsafe-id', 'id', `workflow id '${PROTO_KEY}' is refused: ${PROTO_KEY_REASON}`);

  const byId = new Map<string, number>();
  def.nodes.forEach((node, i) => {
    if (!SAFE_ID.test(node.id)) add('unsafe-id', `nodes[${i}].id`, `node id '${node.id}' may only contain letters, digits, '_', '-' and '.'`);
    else if (node.id === PROTO_KEY) add('unsafe-id', `nodes[${i}].id`, `node id '${PROTO_KEY}' is refused: ${PROTO_KEY_REASON}`);
    else if (node.id.startsWith('__')) add('unsafe-id', `nodes[${i}].id`, `node id '${node.id}' starts with '__', which SPANE reserves for its own nodes`);
    if (byId.has(node.id)) add('duplicate-node', `nodes[${i}].id`, `node id '${node.id}' is used more than once`);
    else byId.set(node.id, i);
  });

  const nodeById = new Map(def.nodes.map((n) => [n.id, n]));
  const signalNames = new Map<string, string>();
  const eventNames = new Map<string, string>();
  def.nodes.forEach((node, i) => {
    for (const [side, other] of [
      ['outputs', 'inputs'],
      ['inputs', 'outputs'],
    ] as const) {
      const seen = new Set<string>();
      for (const ref of node[side]) {
        if (seen.has(ref)) add('edge-mismatch', `nodes[${i}].${side}`, `'${node.id}' lists '${ref}' twice in ${side}`);
        seen.add(ref);
        const target = nodeById.get(ref);
        if (target === undefined) {
          add('missing-node', `nodes[${i}].${side}`, `'${node.id}' ${side === 'outputs' ? 'points to' : 'expects a parent'} '${ref}', which is not a node of this workflow`);
        } else if (!target[other].includes(node.id)) {
          add('edge-mismatch', `nodes[${i}].${side}`, `'${node.id}' lists '${ref}' in ${side}, but '${ref}' does not list '${node.id}' in ${other}`);
        }
      }
    }
    if (options.hasNodeType && !isBuiltinNodeKind(node.type) && !options.hasNodeType(node.type)) {
      add('unknown-type', `nodes[${i}].type`, `no executor is registered for type '${node.type}' (node '${node.id}')`);
    }
    if (isBuiltinNodeKind(node.type)) {
      for (const problem of CONFIG_PROBLEMS[node.type](node.config)) add('invalid-config', `nodes[${i}].config`, `${node.type} node '${node.id}': ${problem}`);
      const name = node.config['name'];
      if (node.type === BUILTIN_NODE_KINDS.signal && typeof name === 'string') {
        const other = signalNames.get(name);
        if (other !== undefined)
          add('invalid-config', `nodes[${i}].config.name`, `signal node '${node.id}': signal '${name}' is already waited for by node '${other}' (names are unique per workflow)`);
        else signalNames.set(name, node.id);
      }
      if (node.type === BUILTIN_NODE_KINDS.event && typeof name === 'string') {
        const other = eventNames.get(name);
        if (other !== undefined)
          add('invalid-config', `nodes[${i}].config.name`, `event node '${node.id}': event '${name}' is already waited for by node '${other}' (names are unique per workflow)`);
        else eventNames.set(name, node.id);
        const match = node.config['match'];
        const source = typeof match === 'object' && match !== null ? parseEquals((match as Record<string, unknown>)['equals']) : undefined;
        if (typeof source === 'object' && source.from === 'node' && !node.inputs.includes(source.nodeId))
          add('invalid-config', `nodes[${i}].config.match.equals`, `event node '${node.id}': match.equals reads node '${source.nodeId}', which is not one of its parents`);
      }
    }
  });

  const entry = nodeById.get(def.entryNodeId);
  if (entry === undefined) add('missing-entry', 'entryNodeId', `entry node '${def.entryNodeId}' is not a node of this workflow`);
  else if (entry.inputs.length > 0) add('missing-entry', 'entryNodeId', `entry node '${entry.id}' must not have inputs, but has ${entry.inputs.join(', ')}`);

  for (const p of triggerProblems(def.triggers ?? [])) add('invalid-trigger', p.path, p.message);

  const cycle = findCycle(def);
  if (cycle !== undefined) add('cycle', 'nodes', `the graph has a cycle: ${cycle.join(' -> ')}`);

  if (entry !== undefined) {
    const reached = reachableFrom(def, [entry.id]);
    const orphans = def.nodes.filter((n) => !reached.has(n.id));
    if (orphans.length > 0) {
      add('unreachable', 'nodes', `not reachable from entry node '${entry.id}': ${orphans.map((n) => n.id).join(', ')}`);
    }
  }
  return issues;
}

/**
 * Validates a definition and returns it normalised (defaults filled in), or throws a
 * {@link WorkflowValidationError} listing every problem.
 */
export function validateWorkflow(input: unknown, options: ValidateOptions = {}): WorkflowDefinition {
  const issues = findWorkflowIssues(input, options);
  if (issues.length > 0) {
    const maybeId = typeof input === 'object' && input !== null ? (input as { id?: unknown }).id : undefined;
    throw new WorkflowValidationError(typeof maybeId === 'string' ? maybeId : undefined, issues);
  }
  return workflowDefinitionSchema.parse(input) as WorkflowDefinition;
}

const DELAY_UNITS = [
  ['duration', 1],
  ['durationSeconds', 1000],
  ['durationMinutes', 60_000],
] as const;

/**
 * Milliseconds a delay node waits: `config.duration` (ms), else `durationSeconds`, else
 * `durationMinutes`.
 */
export function delayMs(config: Readonly<Record<string, unknown>>): number {
  for (const [key, unit] of DELAY_UNITS) {
    const value = config[key];
    if (typeof value === 'number') return Math.round(value * unit);
  }
  return 0;
}

function delayConfigProblems(config: Readonly<Record<string, unknown>>): string[] {
  const keys = DELAY_UNITS.map(([k]) => k).filter((k) => config[k] !== undefined);
  if (keys.length === 0) return ['needs duration (ms), durationSeconds or durationMinutes'];
  for (const k of keys) {
    const v = config[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return [`${k} must be a non-negative number, got ${JSON.stringify(v)}`];
  }
  return [];
}

function subWorkflowConfigProblems(config: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  const id = config['workflowId'];
  if (typeof id !== 'string' || !SAFE_ID.test(id) || id === PROTO_KEY) problems.push(`workflowId must be a workflow id, got ${JSON.stringify(id)}`);
  if (config['continueOnFail'] !== undefined && typeof config['continueOnFail'] !== 'boolean') problems.push('continueOnFail must be a boolean');
  problems.push(...mappingProblems(config['inputMapping'], 'inputMapping'), ...mappingProblems(config['outputMapping'], 'outputMapping'));
  return problems;
}

/** What is wrong with the config of each built-in kind's node (its executor checks the others'). */
const CONFIG_PROBLEMS: { readonly [K in BuiltinNodeKind]: (config: Readonly<Record<string, unknown>>) => string[] } = {
  [BUILTIN_NODE_KINDS.delay]: delayConfigProblems,
  [BUILTIN_NODE_KINDS.subWorkflow]: subWorkflowConfigProblems,
  [BUILTIN_NODE_KINDS.signal]: signalConfigProblems,
  [BUILTIN_NODE_KINDS.event]: eventConfigProblems,
};

/** Workflow ids a definition starts as sub-workflows. */
export function subWorkflowIds(def: WorkflowDefinition): string[] {
  return def.nodes.filter((n) => n.type === BUILTIN_NODE_KINDS.subWorkflow && typeof n.config['workflowId'] === 'string').map((n) => n.config['workflowId'] as string);
}

function reachableFrom(def: WorkflowDefinition, start: string[]): Set<string> {
  const children = new Map(def.nodes.map((n) => [n.id, n.outputs]));
  const seen = new Set<string>();
  const stack = [...start];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const c of children.get(id) ?? []) if (!seen.has(c)) stack.push(c);
  }
  return seen;
}

/** Returns one cycle as a list of ids (first id repeated at the end), or undefined. */
function findCycle(def: WorkflowDefinition): string[] | undefined {
  const children = new Map(def.nodes.map((n) => [n.id, n.outputs.filter((o) => o !== undefined)]));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    state.set(id, 'open');
    path.push(id);
    for (const c of children.get(id) ?? []) {
      if (!children.has(c)) continue;
      const s = state.get(c);
      if (s === 'open') return [...path.slice(path.indexOf(c)), c];
      if (s === undefined) {
        const found = visit(c);
        if (found) return found;
      }
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const n of def.nodes) {
    if (state.get(n.id) === undefined) {
      const found = visit(n.id);
      if (found) return found;
    }
  }
  return undefined;
}
