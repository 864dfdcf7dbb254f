/**
 * The executor a DSL node kind carries: it parses config and input with the kind's zod schemas,
 * runs the kind's code, and parses what it returned, all inside the worker.
 *
 * @module
 */
import type { z } from 'zod';
import { isEdgeActive, resultOf } from '../definition/graph.js';
import type { ExecutionContext, ExecutionResult, INodeExecutor } from '../definition/types.js';
import { InvalidArgumentError, NodeInputError, NodeOutputError, NonRetryableError } from '../errors.js';
import { kindOf } from '../definition/json-check.js';
import { brief, formatPath, valueAt } from './json.js';
import type { AnyNodeKind, AnyNodeSpec, AnySchema, KindRuntime } from './node.types.js';

/**
 * Keys of `node.config` that SPANE or the DSL reads itself; they are not part of a kind's config
 * and are removed before the config schema sees it.
 *
 * @example
 * ```ts
 * RESERVED_CONFIG_KEYS.includes('retryPolicy'); // true: set it as a node option, not in config
 * ```
 */
export const RESERVED_CONFIG_KEYS = ['retryPolicy', 'circuitBreaker', '$join'] as const;

/** The code an executor wraps: gets parsed input and config, returns the output (or a router's choice). */
export type KindCode = (args: { input: unknown; config: unknown; context: ExecutionContext }) => unknown;

/**
 * Builds the executor of a kind. `run` gets the parsed input and config; a `node` kind's return
 * value is parsed with the output schema and becomes the node's data; a `router` kind returns
 * branch names, and passes its parsed input on as data.
 */
export function createKindExecutor(kind: Pick<KindRuntime, 'role' | 'schemas'>, run: KindCode): INodeExecutor {
  return {
    async execute(context: ExecutionContext): Promise<ExecutionResult> {
      const { schemas } = kind;
      const config = schemas.config === undefined ? undefined : await parse(schemas.config, { value: userConfig(context.nodeConfig), context, part: 'config' });
      const rawInput = joinInput(context);
      const input = schemas.input === undefined ? rawInput : await parse(schemas.input, { value: withoutUnknownKeys(schemas.input, rawInput), context, part: 'input' });
      // The context's inputData is what the node's types say it is: the (joined) input before parsing.
      const returned = await run({ input, config, context: { ...context, inputData: rawInput } });
      if (kind.role === 'router') {
        const chosen = Array.isArray(returned) ? (returned as unknown[]) : [returned];
        if (chosen.some((c) => typeof c !== 'string')) {
          throw new NonRetryableError(`Workflow '${context.workflowId}', router '${context.nodeId}' must return branch names (an array of strings), got ${kindOf(returned)}`);
        }
        return { success: true, data: input, nextNodes: chosen as string[] };
      }
      const output = schemas.output === undefined ? returned : await parse(schemas.output, { value: returned, context, part: 'output' });
      return { success: true, data: output };
    },
  };
}

/** The kind's own part of `node.config`: everything but the keys SPANE and the DSL read. */
export function userConfig(nodeConfig: unknown): Record<string, unknown> {
  const rest: Record<string, unknown> = { ...(nodeConfig as Record<string, unknown> | undefined) };
  for (const key of RESERVED_CONFIG_KEYS) delete rest[key];
  return rest;
}

/**
 * A join below a branch gets `{ [parentId]: data }` even when only one of its parents ran (the
 * runtime hands a single active parent's data over directly). The builder marks such joins with
 * `config.$join`, the list of parents.
 */
function joinInput(context: ExecutionContext): unknown {
  const parents = (context.nodeConfig as { $join?: unknown }).$join;
  if (!Array.isArray(parents)) return context.inputData;
  const active = parents.filter((p): p is string => {
    const result = typeof p === 'string' ? resultOf(context.previousResults, p) : undefined;
    return result !== undefined && isEdgeActive(result, context.nodeId);
  });
  return active.length === 1 ? { [active[0]!]: context.inputData } : context.inputData;
}

/** The parts of a zod object schema this file reads. */
interface ObjectDef {
  type: 'object';
  shape: Record<string, AnySchema>;
  catchall?: AnySchema;
}

function objectDef(schema: AnySchema): ObjectDef | undefined {
  const def = (schema as unknown as { _zod?: { def?: { type?: unknown } } })._zod?.def;
  return def?.type === 'object' ? (def as ObjectDef) : undefined;
}

/**
 * A node's input with the keys a strict object schema (`z.strictObject`) does not know removed,
 * at the top level and in nested strict objects. The builder's types are structural: a parent
 * whose output has more fields than a child's input schema is accepted at compile time, so the
 * worker must accept it too, and drops the extra keys as `z.object` does.
 */
export function withoutUnknownKeys(schema: AnySchema, value: unknown): unknown {
  const def = objectDef(schema);
  if (def === undefined || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const strict = (def.catchall as unknown as { _zod?: { def?: { type?: unknown } } } | undefined)?._zod?.def?.type === 'never';
  // Every node job comes through here: a value with no strict object in its schema is returned
  // as it is, and a copy is made only where a key is actually dropped.
  let out: Record<string, unknown> | undefined = strict ? {} : undefined;
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    const fieldSchema = Object.hasOwn(def.shape, key) ? def.shape[key] : undefined;
    if (fieldSchema === undefined) continue;
    const kept = withoutUnknownKeys(fieldSchema, field);
    if (!strict && kept === field) continue;
    out ??= { ...(value as Record<string, unknown>) };
    Object.defineProperty(out, key, { value: kept, enumerable: true, writable: true, configurable: true });
  }
  return out ?? value;
}

/** A value to check against a node's schema, for {@link parse}. */
interface SchemaCheck {
  /** The value to check. */
  value: unknown;
  /** The node's execution context, named in the error. */
  context: ExecutionContext;
  /** Which of the node's schemas this is. */
  part: 'input' | 'config' | 'output';
}

async function parse(schema: AnySchema, check: SchemaCheck): Promise<unknown> {
  const { value, context, part } = check;
  // What zod's safeParseAsync resolves to; AnySchema leaves it unknown to keep the constraint cheap.
  const result = (await schema.safeParseAsync(value)) as z.ZodSafeParseResult<unknown>;
  if (result.success) return result.data;
  const issues = result.error.issues;
  const first: z.core.$ZodIssue | undefined = issues[0];
  const details = {
    workflowId: context.workflowId,
    nodeId: context.nodeId,
    path: formatPath(first?.path ?? []),
    received: brief(valueAt(value, first?.path ?? [])),
    issues: issues.map((i) => `${formatPath(i.path)}: ${i.message}`),
  };
  throw part === 'output' ? new NodeOutputError(details, { cause: result.error }) : new NodeInputError({ ...details, part }, { cause: result.error });
}

/**
 * Anything that can register executors: a {@link NodeRegistry} or a look-alike.
 *
 * @example
 * ```ts
 * const seen: string[] = [];
 * registerNodeKinds({ register: (type) => seen.push(type) }, [fetchUser]);
 * ```
 */
export interface ExecutorRegistryLike {
  /** Registers the executor of one node type. */
  register(type: string, executor: INodeExecutor): unknown;
}

/**
 * Registers the executors of node kinds (or of the kinds behind node specs, such as the ones
 * `transform(...)` and `router(...)` return) in a registry. Use it in a worker process that runs
 * workflows registered from JSON rather than from a built object. Kinds without code (built-ins,
 * kinds defined without `run`) are skipped. Returns the registered types.
 *
 * @example
 * ```ts
 * const registry = new NodeRegistry();
 * registerNodeKinds(registry, [fetchUser, sendEmail, normalize]);
 * await engine.registerWorkflow(JSON.parse(storedJson));
 * ```
 */
export function registerNodeKinds(registry: ExecutorRegistryLike, kinds: Iterable<AnyNodeKind | AnyNodeSpec | KindRuntime>): string[] {
  if (typeof registry?.register !== 'function') throw new InvalidArgumentError('registerNodeKinds: registry must have a register(type, executor) method');
  if (typeof (kinds as Partial<Iterable<unknown>> | null)?.[Symbol.iterator] !== 'function')
    throw new InvalidArgumentError('registerNodeKinds: kinds must be an iterable of node kinds or specs');
  const types: string[] = [];
  for (const item of kinds) {
    const kind: KindRuntime = 'kind' in item && typeof item.kind === 'object' ? item.kind : (item as KindRuntime);
    if (kind.executor === undefined) continue;
    registry.register(kind.type, kind.executor);
    types.push(kind.type);
  }
  return types;
}
