/**
 * What the `spane` command loads: a module (TypeScript or JavaScript, ESM or CommonJS) or a JSON
 * file, and the workflows and executors it exports. The rules are documented in docs/cli.md.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowDefinitionWithExecutors } from '../definition/types.js';
import { NODE_EXECUTORS } from '../definition/types.js';
import { WorkflowModuleError } from '../errors.js';
import type { ValidationIssue } from '../errors.js';
import { NodeRegistry } from '../runtime/engine/registry.js';
import { importUserModule } from '../runtime/module-loader/import-user-module.js';
import { describeLoadFailure } from '../runtime/module-loader/load-failure.js';
import { isRegistryLike } from '../runtime/sandbox/load-module.js';

/** Module namespace. */
type Namespace = Record<string, unknown>;

/** A workflow module, loaded. */
export interface WorkflowModule {
  /** The file as given. */
  file: string;
  /** Its workflows, in export order (DSL-built ones still carry their executors). */
  workflows: WorkflowDefinitionWithExecutors[];
  /** The `registry` export, or a registry made from the `executors` export; undefined when neither. */
  registry: NodeRegistry | undefined;
  /** The `input` export: what `spane run` starts with when `--input` is not given. */
  input: unknown;
}

/**
 * A module that threw a {@link WorkflowValidationError} while loading (typically a DSL `.build()`
 * refusing a graph): its problems, so `spane validate` can list them like any other.
 */
export interface ModuleValidationFailure {
  /** The refused workflow's id, when it had one. */
  workflowId: string | undefined;
  /** Every problem found. */
  issues: readonly ValidationIssue[];
}

/** Whether `value` has the shape of a workflow definition (id, entryNodeId, nodes). */
export function isWorkflowDefinition(value: unknown): value is WorkflowDefinitionWithExecutors {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v['id'] === 'string' && typeof v['entryNodeId'] === 'string' && Array.isArray(v['nodes']);
}

/**
 * The validation problems of a load error, when it is a {@link WorkflowValidationError} (from
 * any copy of SPANE: the module may import another build than the command's).
 */
export function validationFailureOf(err: unknown): ModuleValidationFailure | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; issues?: unknown; workflowId?: unknown };
  if (e.code !== 'WORKFLOW_VALIDATION' || !Array.isArray(e.issues)) return undefined;
  return { workflowId: typeof e.workflowId === 'string' ? e.workflowId : undefined, issues: e.issues as ValidationIssue[] };
}

/**
 * Imports `file` (with {@link importUserModule}: its `spane` imports get the running copy) and
 * reads its exports with {@link readWorkflowModule}. `.json` files hold one definition or an
 * array of them. Throws a {@link WorkflowModuleError} when the file is missing, cannot be loaded
 * (a syntax error, a missing import, an error it throws: one line naming the file and line, the
 * error as `cause`) or exports nothing usable; a {@link WorkflowValidationError} a DSL `.build()`
 * throws while the module loads is passed on, for `spane validate` to list.
 */
export async function loadWorkflowModule(file: string, cwd = process.cwd()): Promise<WorkflowModule> {
  const resolved = path.resolve(cwd, file);
  if (!existsSync(resolved)) throw new WorkflowModuleError(file, `no such file (resolved to ${resolved})`);
  if (/\.json$/i.test(resolved)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(resolved, 'utf8'));
    } catch (err) {
      throw new WorkflowModuleError(file, `is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    return readWorkflowModule({ workflows: Array.isArray(parsed) ? parsed : [parsed] }, file);
  }
  let ns: Namespace;
  try {
    ns = await importUserModule(resolved);
  } catch (err) {
    // `spane validate` lists the problems of a DSL .build() that refused its graph.
    if (validationFailureOf(err) !== undefined) throw err;
    throw new WorkflowModuleError(file, `could not be loaded: ${describeLoadFailure(err, cwd)}`, { cause: err });
  }
  return readWorkflowModule(ns, file);
}

/**
 * Reads a module namespace:
 * - workflows: the `workflows` export (an array, or an object of definitions); else the default
 *   export (a definition, an array of them, or an object with the same exports as a module);
 *   else every named export that is a workflow definition;
 * - executors: the `registry` export (a NodeRegistry) or the `executors` export (node type →
 *   executor object or function), on top of the executors DSL workflows carry;
 * - `input`: the default input of `spane run`.
 */
export function readWorkflowModule(ns: Namespace, file: string): WorkflowModule {
  const def = ns['default'];
  const nested = isPlainObject(def) && !isWorkflowDefinition(def) && ('workflows' in def || 'registry' in def || 'executors' in def) ? def : undefined;
  const source: Namespace = nested ?? ns;

  let workflows: WorkflowDefinitionWithExecutors[];
  if (source['workflows'] !== undefined) {
    workflows = workflowList(source['workflows'], file, 'workflows');
  } else if (nested === undefined && def !== undefined && (isWorkflowDefinition(def) || Array.isArray(def))) {
    workflows = workflowList(Array.isArray(def) ? def : [def], file, 'default');
  } else {
    workflows = Object.entries(ns)
      .filter(([name, value]) => name !== 'default' && isWorkflowDefinition(value))
      .map(([, value]) => value as WorkflowDefinitionWithExecutors);
  }
  if (workflows.length === 0) {
    const names = Object.keys(ns);
    throw new WorkflowModuleError(
      file,
      'exports no workflow. Export `workflows` (an array of definitions: built with workflow(...).build() or written as JSON), ' +
        `export one as default, or export definitions by name (exports found: ${names.length === 0 ? 'none' : names.join(', ')})`,
    );
  }
  const seen = new Set<string>();
  for (const w of workflows) {
    if (seen.has(w.id)) throw new WorkflowModuleError(file, `exports two workflows with the id '${w.id}'`);
    seen.add(w.id);
  }
  return { file, workflows, registry: registryOf(source, file), input: source['input'] };
}

/** Whether a module's workflows carry or come with any executor. */
export function hasExecutors(mod: WorkflowModule): boolean {
  return mod.registry !== undefined || mod.workflows.some((w) => (w[NODE_EXECUTORS]?.length ?? 0) > 0);
}

/**
 * Picks one workflow: `id` when given, else the only one, else the only one that no other
 * workflow of the module runs as a sub-workflow (a parent exported with its children).
 */
export function selectWorkflow(mod: WorkflowModule, id: string | undefined): WorkflowDefinitionWithExecutors {
  const ids = mod.workflows.map((w) => w.id);
  if (id !== undefined) {
    const found = mod.workflows.find((w) => w.id === id);
    if (found === undefined) throw new WorkflowModuleError(mod.file, `has no workflow '${id}' (workflows: ${ids.join(', ')})`);
    return found;
  }
  if (mod.workflows.length === 1) return mod.workflows[0]!;
  const called = new Set(mod.workflows.flatMap((w) => w.nodes.filter((n) => n.type === 'sub-workflow').map((n) => n.config?.['workflowId'])));
  const tops = mod.workflows.filter((w) => !called.has(w.id));
  if (tops.length === 1) return tops[0]!;
  throw new WorkflowModuleError(mod.file, `exports ${ids.length} workflows (${ids.join(', ')}): choose one with --workflow <id>`);
}

function workflowList(value: unknown, file: string, name: string): WorkflowDefinitionWithExecutors[] {
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [`${name}[${i}]`, v])
    : isPlainObject(value)
      ? Object.entries(value).map(([k, v]) => [`${name}.${k}`, v])
      : [[name, value]];
  if (!Array.isArray(value) && !isPlainObject(value)) {
    throw new WorkflowModuleError(file, `export '${name}' must be an array of workflow definitions, got ${describe(value)}`);
  }
  for (const [where, v] of entries) {
    if (!isWorkflowDefinition(v)) throw new WorkflowModuleError(file, `${where} is not a workflow definition (an object with id, entryNodeId and nodes), got ${describe(v)}`);
  }
  return entries.map(([, v]) => v as WorkflowDefinitionWithExecutors);
}

function registryOf(source: Namespace, file: string): NodeRegistry | undefined {
  const registry = source['registry'];
  const executors = source['executors'];
  if (registry !== undefined && executors !== undefined) throw new WorkflowModuleError(file, "exports both 'registry' and 'executors': export one of them");
  if (registry !== undefined) {
    // Duck-typed: the module may import another copy of SPANE than the command's.
    if (!isRegistryLike(registry)) throw new WorkflowModuleError(file, `export 'registry' must be a NodeRegistry, got ${describe(registry)}`);
    return registry;
  }
  if (executors === undefined) return undefined;
  if (!isPlainObject(executors)) throw new WorkflowModuleError(file, `export 'executors' must be an object mapping node types to executors, got ${describe(executors)}`);
  const made = new NodeRegistry();
  for (const [type, executor] of Object.entries(executors)) {
    const ok = typeof executor === 'function' || (isPlainObjectLike(executor) && typeof (executor as { execute?: unknown }).execute === 'function');
    if (!ok) throw new WorkflowModuleError(file, `executors.${type} must be an object with an execute(context) method or a function, got ${describe(executor)}`);
    made.register(type, executor as Parameters<NodeRegistry['register']>[1]);
  }
  return made;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function isPlainObjectLike(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return `an object with keys [${Object.keys(value).join(', ')}]`;
  return `a ${typeof value}`;
}
