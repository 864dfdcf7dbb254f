/**
 * `build()`: turns what the builder recorded into a plain {@link WorkflowDefinition}, checks
 * what only run time can check (config against its schema, JSON-ness, kind conflicts), embeds
 * the node schemas as JSON Schema, and validates with the same validator as hand-written JSON.
 *
 * @module
 */
import { z } from '../definition/zod.js';
import type { CarriedExecutor, NodeConfig, NodeDefinition, WorkflowDefinition, WorkflowInputSchema, WorkflowTrigger } from '../definition/types.js';
import { setOwn } from '../definition/own.js';
import type { WebhookMethod } from '../definition/triggers.js';
import { NODE_EXECUTORS, WORKFLOW_INPUT_SCHEMA } from '../definition/types.js';
import type { TypedWorkflow } from '../definition/typed-workflow.js';
import { findWorkflowIssues, validateWorkflow } from '../definition/validate.js';
import type { ValidationIssue } from '../errors.js';
import { WorkflowValidationError } from '../errors.js';
import { RESERVED_CONFIG_KEYS } from './executor.js';
import { findJsonProblems, formatPath } from './json.js';
import type { AnySchema, KindRuntime, NodeOptions, NodeSpec } from './node.types.js';

/**
 * A JSON Schema document, as `z.toJSONSchema` produces it.
 *
 * @example
 * ```ts
 * const schema: JsonSchema | undefined = onboarding.schemas.nodes['fetch']?.output;
 * ```
 */
export type JsonSchema = Record<string, unknown>;

/**
 * What generated docs and other processes know about one node of a built workflow.
 *
 * @example
 * ```ts
 * const { role, input, output } = onboarding.schemas.nodes['fetch'] ?? {};
 * ```
 */
export interface NodeSchemas {
  /** How the builder placed it. */
  role: KindRuntime['role'];
  /** The kind's description. */
  description?: string;
  /** JSON Schema of the config (input side). */
  config?: JsonSchema;
  /** JSON Schema of what the node accepts. */
  input?: JsonSchema;
  /** JSON Schema of what the node produces. */
  output?: JsonSchema;
}

/**
 * The `schemas` field of a built workflow.
 *
 * @example
 * ```ts
 * const inputSchema = onboarding.schemas.input; // JSON Schema of the workflow input
 * ```
 */
export interface WorkflowSchemas {
  /** JSON Schema of the workflow input, when it was declared. */
  input?: JsonSchema;
  /** Per node id. */
  nodes: Record<string, NodeSchemas>;
}

/**
 * What `.build()` returns: a plain-JSON {@link WorkflowDefinition} plus `schemas`, a
 * {@link TypedWorkflow} (so the engine's typed client accepts it), carrying the executors of
 * its node kinds under the (non-enumerable, non-JSON) {@link NODE_EXECUTORS} key and its input
 * schema under {@link WORKFLOW_INPUT_SCHEMA}.
 *
 * @typeParam TInput - what executions start with
 * @typeParam TOutputs - node id → output type
 * @typeParam TResult - what the workflow yields as a sub-workflow: what a `.then()` after its last
 *   call would receive (see {@link WorkflowResult})
 * @typeParam TId - the workflow id, as a literal type
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * const onboarding: BuiltWorkflow = workflow('onboarding', { input: User }).then('fetch', fetchUser({ baseUrl })).build();
 * await engine.registerWorkflow(onboarding);          // registers fetch-user's executor too
 * await writeFile('onboarding.json', JSON.stringify(onboarding)); // plain JSON
 * ```
 */
export type BuiltWorkflow<TInput = unknown, TOutputs = Record<string, unknown>, TResult = unknown, TId extends string = string> = TypedWorkflow<TId, TInput, TOutputs, TResult> & {
  /** JSON Schema of the workflow input and of every node's config, input and output. */
  readonly schemas: WorkflowSchemas;
  /** The executors of the node kinds used, registered by `engine.registerWorkflow`. */
  readonly [NODE_EXECUTORS]: readonly CarriedExecutor[];
  /** The workflow's input schema, when declared: the engine checks every start's data with it. */
  readonly [WORKFLOW_INPUT_SCHEMA]?: WorkflowInputSchema;
};

// The helpers that read a built workflow's types live beside the definition-side interface it
// extends, so that the runtime's typed client can use them without importing the DSL.
export type { WorkflowInput, WorkflowOutputs, WorkflowResult } from '../definition/typed-workflow.js';

/**
 * A trigger as the builder takes it; `data` of a schedule must be a workflow input.
 *
 * @example
 * ```ts
 * const weekly: TriggerInput<{ userId: number }> = { type: 'schedule', cron: '0 9 * * 1', timezone: 'Europe/Paris', data: { userId: 1 } };
 * const signup: TriggerInput<{ userId: number }> = { type: 'webhook', path: 'user-signup', method: 'POST' };
 * ```
 */
export type TriggerInput<TInput> =
  | ({
      type: 'schedule';
      /** Five- or six-field cron pattern. */
      cron: string;
      /** IANA timezone, e.g. `Europe/Paris`. */
      timezone?: string;
    } & (undefined extends TInput ? { data?: TInput } : { data: TInput }))
  | {
      type: 'webhook';
      /** Path segment, e.g. `user-signup`. */
      path: string;
      /** HTTP method to match (any method when omitted); checked at compile time, like `http()`'s. */
      method?: WebhookMethod;
      /**
       * Shared secret for HMAC signatures: the secret itself (stored in the definition), or
       * `{ env: 'NAME' }` / `{ ref: 'name' }` resolved on each request (only the reference is stored).
       */
      secret?: string | { env: string } | { ref: string };
    };

/** A node as the builder recorded it. */
export interface PlacedNode {
  readonly id: string;
  readonly spec: NodeSpec<unknown, unknown, string>;
  readonly parents: readonly string[];
  readonly options: NodeOptions;
  /** For a router: its branch ids. */
  readonly branches?: readonly string[];
  /** For a branch: its router. */
  readonly branchOf?: string;
}

/** Everything the builder recorded. */
export interface BuilderDef {
  readonly id: string;
  readonly name?: string;
  readonly description?: string;
  readonly eager?: boolean;
  readonly input?: AnySchema;
  readonly nodes: readonly PlacedNode[];
  readonly last: readonly string[];
  readonly triggers: readonly TriggerInput<unknown>[];
}

const OPTION_KEYS: ReadonlySet<string> = new Set(['name', 'retryPolicy', 'continueOnFail', 'circuitBreaker', 'eager']);

/** Compiles and validates; throws {@link WorkflowValidationError} with every problem found. */
export function compileWorkflow(def: BuilderDef): BuiltWorkflow {
  const issues: ValidationIssue[] = [];
  const add = (rule: ValidationIssue['rule'], path: string, message: string) => issues.push({ rule, path, message });
  const placed = new Map<string, PlacedNode>();
  const children = new Map<string, string[]>();
  for (const n of def.nodes) {
    if (!placed.has(n.id)) placed.set(n.id, n);
    for (const p of new Set(n.parents)) children.set(p, [...(children.get(p) ?? []), n.id]);
  }
  const skippable = skippableNodes(def.nodes);
  const kindsByType = new Map<string, { kind: KindRuntime; nodeId: string }>();
  const schemas: WorkflowSchemas = { ...(def.input && { input: jsonSchema(def.input, 'input') }), nodes: {} };

  const nodes: NodeDefinition[] = def.nodes.map((n, i) => {
    const at = `nodes[${i}]`;
    const { kind } = n.spec;
    const parents = [...new Set(n.parents)];
    for (const p of parents) {
      const parent = placed.get(p);
      if (parent?.branches !== undefined && n.branchOf !== p) {
        add('edge-mismatch', `${at}.inputs`, `'${n.id}' comes after router '${p}', but a router's successors are the branches given to .branch()`);
      }
    }
    if (kind.role === 'router' && n.branches === undefined) add('schema', `${at}.type`, `'${n.id}' is a router: add it with .branch()`);
    const seen = kindsByType.get(kind.type);
    if (seen === undefined) kindsByType.set(kind.type, { kind, nodeId: n.id });
    else if (seen.kind !== kind && !sameKind(seen.kind, kind)) {
      add('unknown-type', `${at}.type`, `nodes '${seen.nodeId}' and '${n.id}' use two different node kinds with the same type '${kind.type}'; give each distinct run its own type`);
    }
    for (const key of Object.keys(n.options)) if (!OPTION_KEYS.has(key)) add('schema', `${at}`, `'${key}' is not a node option (options: ${[...OPTION_KEYS].join(', ')})`);
    const config = compileConfig(n, at, add);
    const isJoinBelowBranch = parents.length > 1 && parents.some((p) => skippable.has(p));
    if (isJoinBelowBranch) config['$join'] = parents;
    setOwn(schemas.nodes, n.id, nodeSchemas(kind));
    const node: NodeDefinition = { id: n.id, type: kind.type, config, inputs: parents, outputs: [...new Set(children.get(n.id) ?? [])] };
    if (n.options.name !== undefined) node.name = n.options.name;
    if (n.options.eager !== undefined) node.eager = n.options.eager;
    return node;
  });

  const triggers = def.triggers.map((t, i) => compileTrigger(t, { at: `triggers[${i}]`, input: def.input, add }));
  const definition: WorkflowDefinition & { schemas: WorkflowSchemas } = {
    id: def.id,
    name: def.name ?? def.id,
    ...(def.description !== undefined && { description: def.description }),
    ...(def.eager !== undefined && { eager: def.eager }),
    entryNodeId: def.nodes[0]?.id ?? '',
    nodes,
    ...(triggers.length > 0 && { triggers }),
    schemas,
  };
  // Graph problems (duplicate ids, unknown parents, cycles, ...) come from the shared validator.
  if (issues.length > 0) throw new WorkflowValidationError(def.id, [...issues, ...findWorkflowIssues(definition)]);
  validateWorkflow(definition);
  const carried: CarriedExecutor[] = [];
  for (const [type, { kind }] of kindsByType) {
    if (kind.executor === undefined) continue;
    carried.push(kind.rateLimit === undefined ? { type, executor: kind.executor } : { type, executor: kind.executor, rateLimit: { ...kind.rateLimit } });
  }
  Object.defineProperty(definition, NODE_EXECUTORS, { value: Object.freeze(carried), enumerable: false });
  // The engine checks every start's data against it (zod schemas are Standard Schemas).
  if (def.input !== undefined) Object.defineProperty(definition, WORKFLOW_INPUT_SCHEMA, { value: def.input, enumerable: false });
  return definition as BuiltWorkflow;
}

type AddIssue = (rule: ValidationIssue['rule'], path: string, message: string) => void;

function compileConfig(n: PlacedNode, at: string, add: AddIssue): NodeConfig {
  const { kind, config: raw } = n.spec;
  const schema = kind.schemas.config;
  if (schema !== undefined) {
    const parsed = safeParseSync(schema, raw);
    if (parsed !== undefined && !parsed.success) {
      for (const issue of parsed.error.issues) {
        add('invalid-config', `${at}.config${issue.path.length > 0 ? `.${formatPath(issue.path)}` : ''}`, `node '${n.id}' (${kind.type}): ${issue.message}`);
      }
    }
  }
  if (raw === undefined) return applyOptions({}, n.options);
  for (const p of findJsonProblems(raw)) add('invalid-config', `${at}.config${p.path === '(root)' ? '' : `.${p.path}`}`, `node '${n.id}': config holds ${p.what}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    add('invalid-config', `${at}.config`, `node '${n.id}': the config of kind '${kind.type}' must be an object`);
    return {};
  }
  const config: NodeConfig = { ...(raw as Record<string, unknown>) };
  for (const key of RESERVED_CONFIG_KEYS) {
    if (key in config) add('invalid-config', `${at}.config.${key}`, `node '${n.id}': '${key}' is reserved in node config; pass it as a node option instead`);
  }
  return applyOptions(config, n.options);
}

function applyOptions(config: NodeConfig, options: NodeOptions): NodeConfig {
  const { retryPolicy, continueOnFail, circuitBreaker } = options;
  if (retryPolicy !== undefined || continueOnFail !== undefined) config.retryPolicy = { ...retryPolicy, ...(continueOnFail !== undefined && { continueOnFail }) };
  if (circuitBreaker !== undefined) config.circuitBreaker = { ...circuitBreaker };
  return config;
}

/** Where a trigger is compiled, for {@link compileTrigger}. */
interface TriggerSite {
  /** The trigger's path in the workflow, for issues. */
  at: string;
  /** The workflow's input schema, which schedule data must satisfy. */
  input: AnySchema | undefined;
  /** Reports a problem. */
  add: AddIssue;
}

function compileTrigger(t: TriggerInput<unknown>, site: TriggerSite): WorkflowTrigger {
  const { at, input, add } = site;
  if (t.type === 'webhook') {
    return { type: 'webhook', config: { path: t.path, ...(t.method !== undefined && { method: t.method }), ...(t.secret !== undefined && { secret: t.secret }) } };
  }
  // The cron pattern itself is checked by the shared validator.
  if (t.data !== undefined) {
    for (const p of findJsonProblems(t.data)) add('invalid-config', `${at}.config.data${p.path === '(root)' ? '' : `.${p.path}`}`, `schedule data holds ${p.what}`);
  }
  const parsed = input === undefined ? undefined : safeParseSync(input, t.data);
  if (parsed !== undefined && !parsed.success) {
    for (const issue of parsed.error.issues)
      add('invalid-config', `${at}.config.data`, `schedule data is not a valid workflow input at ${formatPath(issue.path)}: ${issue.message}`);
  }
  const config = { cron: t.cron, ...(t.timezone !== undefined && { timezone: t.timezone }), ...(t.data !== undefined && { data: t.data }) };
  return { type: 'schedule', config };
}

/** Two kind objects behave the same when they run the same code with the same schemas (e.g. one transform function placed twice). */
function sameKind(a: KindRuntime, b: KindRuntime): boolean {
  const { schemas: x } = a;
  const { schemas: y } = b;
  return a.impl === b.impl && a.role === b.role && x.config === y.config && x.input === y.input && x.output === y.output;
}

/** Nodes that may be skipped: branches, and nodes all of whose parents may be skipped. */
function skippableNodes(nodes: readonly PlacedNode[]): Set<string> {
  const skip = new Set<string>();
  for (const n of nodes) {
    if (n.branchOf !== undefined || (n.parents.length > 0 && n.parents.every((p) => skip.has(p)))) skip.add(n.id);
  }
  return skip;
}

/**
 * A sync parse, or undefined when the schema needs async parsing (checked in the worker instead).
 * Anything else a user's refine or transform throws is a bug in it, and surfaces here.
 */
function safeParseSync(schema: AnySchema, value: unknown): z.ZodSafeParseResult<unknown> | undefined {
  try {
    // What zod's safeParse returns; AnySchema leaves it unknown to keep the constraint cheap.
    return schema.safeParse(value) as z.ZodSafeParseResult<unknown>;
  } catch (err) {
    if (isZodAsyncError(err)) return undefined;
    throw err;
  }
}

/**
 * Zod's "Encountered Promise during synchronous parse" error. It keeps the name `Error`, so a
 * schema built with another copy of zod is recognised by its class name.
 */
function isZodAsyncError(err: unknown): boolean {
  return err instanceof z.core.$ZodAsyncError || (err instanceof Error && err.constructor.name === '$ZodAsyncError');
}

const jsonSchemaCache = new WeakMap<AnySchema, Partial<Record<'input' | 'output', JsonSchema>>>();

function jsonSchema(schema: AnySchema, io: 'input' | 'output'): JsonSchema {
  const cached = jsonSchemaCache.get(schema) ?? {};
  let out = cached[io];
  if (out === undefined) {
    const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
    out = rest;
    jsonSchemaCache.set(schema, { ...cached, [io]: out });
  }
  return structuredClone(out);
}

function nodeSchemas(kind: KindRuntime): NodeSchemas {
  const { config, input, output } = kind.schemas;
  return {
    role: kind.role,
    ...(kind.description !== undefined && { description: kind.description }),
    ...(config && { config: jsonSchema(config, 'input') }),
    ...(input && { input: jsonSchema(input, 'input') }),
    ...(output && { output: jsonSchema(output, 'output') }),
  };
}
