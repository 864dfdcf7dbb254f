/**
 * The dashboard's fork and signal actions, and what their forms are filled from: a node's input
 * as the engine builds it. The engine's refusals of a request (a typed {@link SpaneError} saying
 * what was wrong with it) answer 400 with the error's `code`, message and, for a schema, its
 * `issues`; never a stack or the value sent.
 *
 * @module
 */
import type { Context, Hono } from 'hono';
import { buildInput } from '../definition/graph.js';
import {
  ExecutionFinishedError,
  ExecutionNotFoundError,
  InvalidArgumentError,
  InvalidStateError,
  NotSupportedError,
  SignalAlreadyConsumedError,
  SignalPayloadError,
  SpaneError,
  UnknownSignalError,
  WorkflowNotFoundError,
} from '../errors.js';
import type { WorkflowEngine } from '../runtime/engine/workflow-engine.js';

/** The largest JSON body an action takes (1 MiB); a bigger one is refused before it is parsed. */
export const MAX_ACTION_BODY = 1024 * 1024;

/** What an action answers for a refused request: 400 with these fields. */
export interface ActionRefusal {
  /** The error's message (ids and names, never the payload or input). */
  error: string;
  /** The error's `code`. */
  code: string;
  /** For a schema's refusal, each problem as `path: message`. */
  issues?: readonly string[] | undefined;
}

/**
 * The refusal an engine error stands for, or undefined when it is not about the request (a store
 * or queue fault: the caller answers 500).
 */
export function refusalOf(err: unknown): ActionRefusal | undefined {
  if (!(err instanceof SpaneError)) return undefined;
  const aboutRequest =
    err instanceof InvalidArgumentError ||
    err instanceof InvalidStateError ||
    err instanceof ExecutionNotFoundError ||
    err instanceof WorkflowNotFoundError ||
    err instanceof UnknownSignalError ||
    err instanceof SignalPayloadError ||
    err instanceof SignalAlreadyConsumedError ||
    err instanceof ExecutionFinishedError ||
    err instanceof NotSupportedError;
  if (!aboutRequest) return undefined;
  const issues = (err as { issues?: unknown }).issues;
  return { error: err.message, code: err.code, ...(Array.isArray(issues) && { issues: issues.filter((i): i is string => typeof i === 'string') }) };
}

/** The request's body as text, refused (InvalidArgumentError) past {@link MAX_ACTION_BODY} bytes without reading the rest. */
async function limitedText(request: Request): Promise<string> {
  const tooBig = () => new InvalidArgumentError(`the body must be at most ${MAX_ACTION_BODY} bytes`);
  if (Number(request.headers.get('content-length') ?? '0') > MAX_ACTION_BODY) throw tooBig();
  if (request.body === null) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ACTION_BODY) {
      await reader.cancel().catch(() => undefined);
      throw tooBig();
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** The JSON object body of an action, refused (InvalidArgumentError) when too big, not JSON, or not an object. */
async function objectBody(c: Context, keys: readonly string[]): Promise<Record<string, unknown>> {
  const text = await limitedText(c.req.raw);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new InvalidArgumentError('the body must be JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidArgumentError('the body must be a JSON object');
  const unknown = Object.keys(body).filter((k) => !keys.includes(k));
  if (unknown.length > 0) throw new InvalidArgumentError(`the body takes only ${keys.join(', ')}`);
  return body as Record<string, unknown>;
}

/** Runs an engine call, answering its refusals with 400; anything else goes to the app's error handler. */
async function refusing(c: Context, run: () => Promise<Response>): Promise<Response> {
  try {
    return await run();
  } catch (err) {
    const refusal = refusalOf(err);
    if (refusal === undefined) throw err;
    return c.json(refusal, 400, { 'cache-control': 'no-store' });
  }
}

/**
 * A node's input as the engine builds it from the execution's results (claim-checked payloads
 * loaded): the initial data for a root, the single active parent's output, or
 * `{ [parentId]: output }` of the active parents. `found: false` for an unknown execution, node
 * or definition.
 */
export async function nodeInput(engine: WorkflowEngine, executionId: string, nodeId: string): Promise<{ found: boolean; data?: unknown }> {
  const exec = await engine.getExecution(executionId);
  if (exec === undefined) return { found: false };
  const def = await engine.getWorkflow(exec.workflowId, exec.workflowVersion);
  const node = def?.nodes.find((n) => n.id === nodeId);
  if (node === undefined) return { found: false };
  return { found: true, data: buildInput(node, exec.nodeResults, exec.initialData) };
}

/**
 * Adds to the API: `GET /executions/:id/input?nodeId=` (a node's input, for the fork form),
 * `POST /executions/:id/fork` (`{ fromNodeId, input?, version? }` → `{ executionId }`) and
 * `POST /executions/:id/signal` (`{ name, payload? }` → `{ done: true }`). The app's middleware
 * checks access and CSRF first.
 */
export function addActionRoutes(api: Hono, engine: WorkflowEngine): void {
  api.get('/executions/:id/input', async (c) => {
    const nodeId = c.req.query('nodeId');
    if (nodeId === undefined || nodeId === '') throw new InvalidArgumentError('nodeId is required');
    const got = await nodeInput(engine, c.req.param('id'), nodeId);
    return got.found
      ? c.json({ data: got.data ?? null }, 200, { 'cache-control': 'no-store' })
      : c.json({ error: 'no such execution or node' }, 404, { 'cache-control': 'no-store' });
  });
  api.post('/executions/:id/fork', async (c) =>
    refusing(c, async () => {
      const body = await objectBody(c, ['fromNodeId', 'input', 'version']);
      const forkId = await engine.forkExecution(c.req.param('id'), {
        fromNodeId: body['fromNodeId'] as string,
        ...(Object.hasOwn(body, 'input') && { input: body['input'] }),
        ...(body['version'] !== undefined && { version: body['version'] as number }),
      });
      return c.json({ executionId: forkId }, 200, { 'cache-control': 'no-store' });
    }),
  );
  api.post('/executions/:id/signal', async (c) =>
    refusing(c, async () => {
      const body = await objectBody(c, ['name', 'payload']);
      if (typeof body['name'] !== 'string') throw new InvalidArgumentError('name must be a string');
      await engine.signal(c.req.param('id'), body['name'], body['payload']);
      return c.json({ done: true }, 200, { 'cache-control': 'no-store' });
    }),
  );
}
