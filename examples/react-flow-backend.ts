/**
 * A small HTTP backend for a React Flow editor, built on SPANE and Hono.
 *
 *   npx tsx examples/react-flow-backend.ts          # listens on PORT (default 3000)
 *
 * Needs Redis on 127.0.0.1:6379, or set REDIS_URL. Other settings: HOST (default 127.0.0.1),
 * WEBHOOK_SECRET (given to webhook triggers that come without a secret), CONCURRENCY (workers).
 *
 * Routes (JSON unless noted):
 *
 *   POST /api/workflows                 { id, name?, description?, entryNodeId?, triggers?, nodes, edges }
 *                                       -> 201 { version, definition }   400 { error, issues }
 *   GET  /api/workflows/:id             -> { definition, graph }   (graph: React Flow nodes/edges with positions)
 *   POST /api/workflows/:id/execute     { initialData? } -> 202 { executionId, execution, events }
 *   GET  /api/workflows/:id/events      text/event-stream: events of every execution of the workflow
 *   GET  /api/executions/:id            -> the execution with its node results
 *   GET  /api/executions/:id/events     text/event-stream: events of one execution
 *   ANY  /api/webhooks/<path>           raw body + X-Spane-Signature or Standard Webhooks headers -> 202 { executionIds }
 *                                       401 (no such webhook or bad signature: one answer) / 400 / 409 / 413 / 414
 *   GET  /api/dlq?start=0&end=49        -> { items }
 *   POST /api/dlq/:jobId/retry          -> { retried: true }   404 / 409
 *
 * Everything is exported, so tests (and other servers) can build the app around an engine of
 * their own: `createApp({ engine })`, then `listen(app, { port: 0 })`.
 */
import { realpathSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { Redis } from 'ioredis';
import {
  applyMapping,
  EngineClosedError,
  eventsResponse,
  ExecutionNotFoundError,
  fromReactFlow,
  InMemoryExecutionStore,
  InvalidArgumentError,
  InvalidStateError,
  NodeRegistry,
  NonRetryableError,
  toReactFlow,
  WebhookRequestError,
  WorkflowEngine,
  WorkflowNotFoundError,
  WorkflowValidationError,
} from 'spane';
import type { EventSource, ExecutionContext, ExecutionResult, SpaneEvent, WorkflowDefinition, WorkflowExecution, WorkflowTrigger } from 'spane';

// ---------------------------------------------------------------------------------------------
// Demo executors: enough to build something useful in the editor.
// ---------------------------------------------------------------------------------------------

/**
 * `http`: calls `config.url` with `config.method` (GET by default) and `config.headers`; other
 * methods send the node's input as the JSON body. Answers other than 2xx fail the attempt, so the
 * node's retry policy and the DLQ apply. Output: `{ status, body }` (body parsed when JSON).
 */
async function httpExecutor(ctx: ExecutionContext): Promise<ExecutionResult> {
  const { url, method = 'GET', headers = {} } = ctx.nodeConfig;
  if (typeof url !== 'string') throw new NonRetryableError(`http node '${ctx.nodeId}' needs config.url`);
  const init: RequestInit = { method, headers: { 'content-type': 'application/json', ...headers } };
  if (method !== 'GET' && method !== 'HEAD') init.body = JSON.stringify(ctx.inputData ?? null);
  if (ctx.signal !== undefined) init.signal = ctx.signal;
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}`);
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') body = JSON.parse(text);
  return { success: true, data: { status: res.status, body } };
}

/**
 * `transform`: reshapes the input. `config.mapping` (`{ outKey: 'dotted.path.in.input' }`)
 * picks values; without it an object input passes through. `config.set` adds fixed values.
 */
async function transformExecutor(ctx: ExecutionContext): Promise<ExecutionResult> {
  const { mapping, set } = ctx.nodeConfig;
  let base: unknown;
  try {
    base = applyMapping(ctx.inputData ?? {}, mapping, `transform node '${ctx.nodeId}'`);
  } catch (err) {
    throw new NonRetryableError((err as Error).message, { cause: err });
  }
  if (set === undefined) return { success: true, data: base };
  const object = typeof base === 'object' && base !== null && !Array.isArray(base) ? base : { value: base };
  return { success: true, data: { ...object, ...set } };
}

/** `log`: prints its input (after `config.message` when given) and passes it on unchanged. */
function logExecutor(print: (line: string) => void) {
  return async (ctx: ExecutionContext): Promise<ExecutionResult> => {
    const message = typeof ctx.nodeConfig['message'] === 'string' ? `${ctx.nodeConfig['message']} ` : '';
    print(`[${ctx.workflowId}/${ctx.executionId.slice(0, 8)}/${ctx.nodeId}] ${message}${JSON.stringify(ctx.inputData)}`);
    return { success: true, data: ctx.inputData };
  };
}

/**
 * Registers the demo executors (`http`, `transform`, `log`) in `registry`. `log` prints with
 * `options.log` (console.log by default).
 */
export function registerDemoExecutors(registry: NodeRegistry, options: { log?: (line: string) => void } = {}): NodeRegistry {
  const print = options.log ?? ((line: string) => console.log(line));
  return registry.register('http', httpExecutor).register('transform', transformExecutor).register('log', logExecutor(print));
}

// ---------------------------------------------------------------------------------------------
// The HTTP API.
// ---------------------------------------------------------------------------------------------

/** Options of {@link createApp}. */
export interface AppOptions {
  /** The engine to drive. Start its workers yourself (`engine.startWorkers()`). */
  engine: WorkflowEngine;
  /**
   * Secret for webhook triggers that arrive without one, so every webhook registered through
   * this API checks signatures. Secrets are never echoed back in responses.
   */
  webhookSecret?: string | undefined;
  /**
   * Largest request body in bytes, webhooks included.
   * @defaultValue 1048576
   */
  maxBodyBytes?: number;
  /** Where unexpected errors are reported. @defaultValue console.error */
  onUnexpectedError?: (err: unknown) => void;
}

const TERMINAL_EVENT: Partial<Record<WorkflowExecution['status'], SpaneEvent['type']>> = {
  completed: 'workflow:completed',
  failed: 'workflow:failed',
  cancelled: 'workflow:cancelled',
};
const TERMINAL_TYPES = new Set<string>(Object.values(TERMINAL_EVENT));

/** Builds the Hono app. It only talks to `engine`; it neither starts workers nor listens. */
export function createApp(options: AppOptions): Hono {
  const { engine, webhookSecret, maxBodyBytes = 1024 * 1024 } = options;
  const onUnexpectedError = options.onUnexpectedError ?? ((err: unknown) => console.error(err));
  const app = new Hono();

  app.use('/api/*', bodyLimit({ maxSize: maxBodyBytes, onError: (c) => c.json({ error: `request body is larger than ${maxBodyBytes} bytes`, code: 'PAYLOAD_TOO_LARGE' }, 413) }));

  app.post('/api/workflows', async (c) => {
    const body = await readJson(c);
    if (!isRecord(body) || typeof body['id'] !== 'string') return c.json({ error: 'body must be an object with a string id, nodes and edges' }, 400);
    const triggers = withDefaultSecret(body['triggers'], webhookSecret);
    const def = fromReactFlow(body as never, {
      id: body['id'],
      ...(typeof body['name'] === 'string' ? { name: body['name'] } : {}),
      ...(typeof body['description'] === 'string' ? { description: body['description'] } : {}),
      ...(typeof body['entryNodeId'] === 'string' ? { entryNodeId: body['entryNodeId'] } : {}),
      ...(triggers !== undefined ? { triggers } : {}),
    });
    // registerWorkflow validates again, this time against the executors it knows.
    const version = await engine.registerWorkflow(def);
    return c.json({ version, definition: redact({ ...def, version }) }, 201);
  });

  app.get('/api/workflows/:id', async (c) => {
    const def = await engine.getWorkflow(c.req.param('id'));
    if (def === undefined) throw new WorkflowNotFoundError(c.req.param('id'));
    return c.json({ definition: redact(def), graph: toReactFlow(def) });
  });

  app.post('/api/workflows/:id/execute', async (c) => {
    const body = await readJson(c, {});
    const initialData = isRecord(body) ? body['initialData'] : undefined;
    const executionId = await engine.enqueueWorkflow(c.req.param('id'), initialData);
    return c.json({ executionId, execution: `/api/executions/${executionId}`, events: `/api/executions/${executionId}/events` }, 202);
  });

  app.get('/api/workflows/:id/events', async (c) => {
    const workflowId = c.req.param('id');
    if ((await engine.getWorkflow(workflowId)) === undefined) throw new WorkflowNotFoundError(workflowId);
    // Subscribe here first, then execute: no event of the new execution is missed.
    const source: EventSource = { subscribe: (handler, opts) => engine.subscribe((e) => e.workflowId === workflowId && handler(e), opts) };
    // The source already keeps to this workflow's executions: stream all it yields, on purpose.
    return eventsResponse(source, c.req.raw, { all: true });
  });

  app.get('/api/executions/:id', async (c) => {
    const execution = await engine.getExecution(c.req.param('id'));
    if (execution === undefined) throw new ExecutionNotFoundError(c.req.param('id'));
    return c.json(execution);
  });

  app.get('/api/executions/:id/events', async (c) => {
    const executionId = c.req.param('id');
    if ((await engine.getExecution(executionId)) === undefined) throw new ExecutionNotFoundError(executionId);
    return eventsResponse(catchingUp(engine, executionId), c.req.raw, { executionId });
  });

  app.all('/api/webhooks/*', async (c) => {
    const path = new URL(c.req.url).pathname.slice('/api/webhooks/'.length);
    const rawBody = new Uint8Array(await c.req.arrayBuffer());
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((value, name) => void (headers[name] = value));
    // No trigger on the path throws the same 401 as a bad signature (see onError), and a
    // repeated signed delivery answers with the executions it started the first time.
    const executionIds = await engine.handleWebhook({ path, method: c.req.method, rawBody, headers }, { maxBodyBytes });
    return c.json({ executionIds }, 202);
  });

  app.get('/api/dlq', async (c) => {
    const start = intParam(c.req.query('start'), 0);
    const end = intParam(c.req.query('end'), start + 49);
    return c.json({ items: await engine.getDLQItems(start, end) });
  });

  app.post('/api/dlq/:jobId/retry', async (c) => {
    const jobId = c.req.param('jobId');
    // An id that is not shaped like a DLQ item's cannot name one: answer as for an unknown item.
    const retried = await engine.retryDLQItem(jobId).catch((err: unknown) => {
      if (err instanceof InvalidArgumentError) return false;
      throw err;
    });
    if (!retried) return c.json({ error: `DLQ item '${jobId}' does not exist`, code: 'DLQ_ITEM_NOT_FOUND' }, 404);
    return c.json({ retried: true });
  });

  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` }, 404));

  app.onError((err, c) => {
    if (err instanceof WorkflowValidationError) return c.json({ error: err.message, code: err.code, issues: err.issues }, 400);
    if (err instanceof WebhookRequestError) return c.json({ error: err.message, code: err.code }, err.httpStatus);
    if (err instanceof BadRequest || err instanceof InvalidArgumentError) return c.json({ error: err.message, code: 'INVALID_ARGUMENT' }, 400);
    if (err instanceof WorkflowNotFoundError || err instanceof ExecutionNotFoundError) {
      return c.json({ error: err.message, code: err.code }, 404);
    }
    if (err instanceof InvalidStateError) return c.json({ error: err.message, code: err.code }, 409);
    if (err instanceof EngineClosedError) return c.json({ error: err.message, code: err.code }, 503);
    onUnexpectedError(err);
    return c.json({ error: 'internal error' }, 500);
  });

  return app;
}

/** A running server: its base URL and how to stop it. */
export interface RunningServer {
  /** `http://host:port`, with the port actually bound. */
  url: string;
  port: number;
  /** Stops accepting connections and ends open ones (event streams included). */
  close(): Promise<void>;
}

/** Serves `app` on Node; `port: 0` picks a free port. */
export async function listen(app: Hono, options: { port?: number; hostname?: string } = {}): Promise<RunningServer> {
  const hostname = options.hostname ?? '127.0.0.1';
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 3000, hostname }, () => resolve(s as Server)) as Server;
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * One execution's events, plus a catch-up for late subscribers: when the execution has already
 * ended by the time the subscription is live, the stream gets one closing workflow event built
 * from the stored execution (its `data` is `{ replayed: true }`). Events are never sent twice.
 */
function catchingUp(engine: WorkflowEngine, executionId: string): EventSource {
  return {
    subscribe(handler, opts) {
      let ended = false;
      let stopped = false;
      const pass = (event: SpaneEvent) => {
        if (TERMINAL_TYPES.has(event.type)) {
          if (ended) return;
          ended = true;
        }
        handler(event);
      };
      const stop = engine.subscribe(pass, opts);
      void (async () => {
        await engine.eventsReady();
        const exec = await engine.getExecution(executionId);
        const type = exec === undefined ? undefined : TERMINAL_EVENT[exec.status];
        if (stopped || exec === undefined || type === undefined) return;
        const event: SpaneEvent = {
          id: `${executionId}:${type}`,
          type,
          executionId,
          workflowId: exec.workflowId,
          timestamp: exec.completedAt ?? Date.now(),
          data: { replayed: true },
        };
        if (exec.error !== undefined) event.error = exec.error;
        pass(event);
      })().catch(() => undefined);
      return () => {
        stopped = true;
        stop();
      };
    },
  };
}

class BadRequest extends Error {}

async function readJson(c: Context, empty?: unknown): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '' && empty !== undefined) return empty;
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequest('request body must be JSON');
  }
}

/** Webhook triggers without a secret get `secret`; anything else is left for validation. */
function withDefaultSecret(triggers: unknown, secret: string | undefined): WorkflowTrigger[] | undefined {
  if (!Array.isArray(triggers)) return triggers === undefined ? undefined : (triggers as WorkflowTrigger[]);
  if (secret === undefined) return triggers as WorkflowTrigger[];
  return triggers.map((t: unknown) =>
    isRecord(t) && t['type'] === 'webhook' && isRecord(t['config']) && t['config']['secret'] === undefined ? { ...t, config: { ...t['config'], secret } } : t,
  ) as WorkflowTrigger[];
}

/** The definition without webhook secrets. */
function redact(def: WorkflowDefinition): WorkflowDefinition {
  if (def.triggers === undefined) return def;
  return { ...def, triggers: def.triggers.map((t) => (t.type === 'webhook' && t.config.secret !== undefined ? { ...t, config: { ...t.config, secret: '[redacted]' } } : t)) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function intParam(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new BadRequest(`expected a non-negative integer, got '${raw}'`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Running it.
// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  const reachable = await Promise.race([
    redis.ping().then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((r) => setTimeout(r, 3000, false)),
  ]);
  if (!reachable) {
    console.error(`Redis is not reachable at ${redisUrl}. Start one (e.g. redis-server) or set REDIS_URL.`);
    redis.disconnect();
    process.exitCode = 1;
    return;
  }

  const registry = registerDemoExecutors(new NodeRegistry());
  // The in-memory store keeps everything in this process: fine for a demo, lost on restart.
  const engine = new WorkflowEngine({ registry, store: new InMemoryExecutionStore(), connection: redis });
  engine.startWorkers(Number(process.env['CONCURRENCY'] ?? 4));
  const app = createApp({ engine, webhookSecret: process.env['WEBHOOK_SECRET'] || undefined });
  const server = await listen(app, { port: Number(process.env['PORT'] ?? 3000), hostname: process.env['HOST'] ?? '127.0.0.1' });
  console.log(`SPANE React Flow backend on ${server.url}
  try:
    curl -s -X POST ${server.url}/api/workflows -H 'content-type: application/json' \\
      -d '{"id":"hello","nodes":[{"id":"start","data":{"type":"transform","config":{"set":{"hello":"world"}}}},{"id":"print","data":{"type":"log"}}],"edges":[{"source":"start","target":"print"}]}'
    curl -s -X POST ${server.url}/api/workflows/hello/execute -H 'content-type: application/json' -d '{"initialData":{"n":1}}'`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('stopping...');
    await server.close();
    await engine.close();
    redis.disconnect();
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

const invokedPath = process.argv[1];
if (invokedPath !== undefined && realpathSync(invokedPath) === realpathSync(fileURLToPath(import.meta.url))) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
