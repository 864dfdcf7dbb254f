import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { Session } from 'better-sse';

/** better-sse, required on the first stream rather than with this module (cold starts that never stream skip loading it). */
const betterSse = (): typeof import('better-sse') => createRequire(import.meta.url)('better-sse') as typeof import('better-sse');
import type { SpaneEvent, SubscribeOptions } from './events.js';

/** Where SSE gets its events: an engine (or anything with the same `subscribe`). */
export interface EventSource {
  /** Calls `handler` for each matching event until the returned function is called. */
  subscribe(handler: (event: SpaneEvent) => void, options?: SubscribeOptions): () => void;
}

/**
 * Options of the SSE helpers. A stream needs an `executionId`, or `all: true` to say on purpose
 * that it carries every execution's events (node outputs included): without either the helpers
 * answer 400 and stream nothing, so a missing query parameter cannot open everything.
 */
export interface SSEOptions extends SubscribeOptions {
  /**
   * Stream the events of every execution the source yields. Ignored when `executionId` is given
   * (that execution only).
   * @defaultValue false
   */
  all?: boolean;
  /**
   * Interval of keep-alive comments in milliseconds, so proxies keep idle streams open.
   * @defaultValue 15000
   */
  heartbeatMs?: number;
}

/**
 * Decides whether a request may open the stream, before anything is subscribed: `true` streams,
 * `false` answers 403, a throw (or rejection) answers 401. The thrown error's message is not
 * sent.
 */
export type SSEAuthorize<R> = (req: R) => boolean | Promise<boolean>;

/** Options of {@link streamEvents}. */
export interface StreamEventsOptions extends SSEOptions {
  /**
   * Called with the request before anything is subscribed; see {@link SSEAuthorize}.
   * @defaultValue none: every request is served
   */
  authorize?: SSEAuthorize<IncomingMessage>;
}

/** Options of {@link eventsResponse} with an `authorize` hook (the response is then a promise). */
export interface AuthorizedEventsOptions extends SSEOptions {
  /** Called with the request before anything is subscribed; see {@link SSEAuthorize}. */
  authorize: SSEAuthorize<Request>;
}

/** A refusal: the status and the JSON body to answer with. */
type Refusal = { status: 400 | 401 | 403; error: string };

/** Why the options do not say which executions to stream, or undefined. */
function scopeProblem(options: SSEOptions): Refusal | undefined {
  const { executionId, all } = options;
  if (typeof executionId === 'string' && executionId !== '') return undefined;
  if (executionId === undefined && all === true) return undefined;
  return { status: 400, error: 'executionId is required (the server may pass all: true to stream every execution)' };
}

async function authorized<R>(authorize: SSEAuthorize<R> | undefined, req: R): Promise<Refusal | undefined> {
  if (authorize === undefined) return undefined;
  try {
    return (await authorize(req)) === true ? undefined : { status: 403, error: 'not allowed to stream these events' };
  } catch {
    // The documented contract (SSEAuthorize): throwing is how a hook rejects a bad credential,
    // and its message is not sent, as it may say why the credential failed.
    return { status: 401, error: 'not authenticated' };
  }
}

function pipe(session: Session, source: EventSource, options: SSEOptions): void {
  const { heartbeatMs: _h, all: _a, authorize: _z, ...filter } = options as StreamEventsOptions;
  const stop = source.subscribe((event) => {
    if (session.isConnected) session.push(event, event.type, event.id);
  }, filter);
  session.once('disconnected', stop);
}

/**
 * better-sse's Fetch session ends only when its request's signal aborts, but a Fetch server whose
 * client goes away cancels the response body instead. Without this, the subscription stayed open
 * and every later write (each event, each keep-alive) rejected unhandled. The response's body is
 * wrapped so that cancelling it (or aborting the original request) aborts the session's request;
 * what the session still flushes is read and dropped, so its writer closes cleanly. The abort
 * waits until the session has connected: better-sse connects on the next turn of the event loop
 * even when its request was aborted before, and would then write to a closed stream.
 */
function disconnectOnCancel(request: Request, open: (linked: Request, connected: () => void) => Response): Response {
  const controller = new AbortController();
  let connected = false;
  let gone = false;
  const end = () => {
    gone = true;
    if (connected) controller.abort();
  };
  if (request.signal.aborted) gone = true;
  else request.signal.addEventListener('abort', end, { once: true });
  const linked = new Request(request.url, { method: request.method, headers: request.headers, signal: controller.signal });
  const inner = open(linked, () => {
    connected = true;
    if (gone) controller.abort();
  });
  const reader = inner.body!.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(out) {
      const { value, done } = await reader.read();
      if (done) out.close();
      else out.enqueue(value);
    },
    cancel() {
      end();
      void drain(reader);
    },
  });
  return new Response(body, { status: inner.status, statusText: inner.statusText, headers: inner.headers });
}

async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  try {
    while (!(await reader.read()).done);
  } catch {
    // The session's stream failed while closing: nothing is listening any more.
  }
}

function refuse(res: ServerResponse, refusal: Refusal): void {
  res.writeHead(refusal.status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: refusal.error }));
}

function refusalResponse(refusal: Refusal): Response {
  return new Response(JSON.stringify({ error: refusal.error }), { status: refusal.status, headers: { 'content-type': 'application/json' } });
}

/**
 * Streams execution events to a Node HTTP response as server-sent events (`text/event-stream`,
 * one SSE event per SPANE event: `event:` is its type, `id:` its id, `data:` its JSON). Keep-alive
 * comments are sent while idle, and the subscription ends when the client goes away. Asks
 * `authorize(req)` first (403/401), then needs an `executionId` or `all: true` (400); a refused
 * request gets a JSON `{ error }` and nothing is subscribed.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * createServer((req, res) => {
 *   const url = new URL(req.url ?? '/', 'http://localhost');
 *   if (url.pathname !== '/events') return res.writeHead(404).end();
 *   const executionId = url.searchParams.get('executionId') ?? undefined;
 *   void streamEvents(engine, req, res, { executionId, authorize: (r) => isSignedIn(r) });
 * });
 * ```
 */
export async function streamEvents(source: EventSource, req: IncomingMessage, res: ServerResponse, options: StreamEventsOptions = {}): Promise<void> {
  const refusal = (await authorized(options.authorize, req)) ?? scopeProblem(options);
  if (refusal !== undefined) return refuse(res, refusal);
  const session = await betterSse().createSession(req, res, { keepAlive: options.heartbeatMs ?? 15_000 });
  pipe(session, source, options);
}

/**
 * The same as {@link streamEvents} for the Fetch API (Hono, Elysia, Bun, Deno, workers): returns
 * the `Response` to send; a promise of it when `authorize` is given, since the hook may be async.
 */
export function eventsResponse(source: EventSource, request: Request, options: AuthorizedEventsOptions): Promise<Response>;
/** Without `authorize`: the `Response` at once. */
export function eventsResponse(source: EventSource, request: Request, options?: SSEOptions): Response;
export function eventsResponse(source: EventSource, request: Request, options: SSEOptions | AuthorizedEventsOptions = {}): Response | Promise<Response> {
  const respond = (): Response => {
    const refusal = scopeProblem(options);
    if (refusal !== undefined) return refusalResponse(refusal);
    return disconnectOnCancel(request, (linked, connected) =>
      betterSse().createResponse(linked, { keepAlive: options.heartbeatMs ?? 15_000 }, (session) => {
        pipe(session, source, options);
        connected();
      }),
    );
  };
  if (!('authorize' in options) || options.authorize === undefined) return respond();
  return authorized(options.authorize, request).then((refusal) => (refusal === undefined ? respond() : refusalResponse(refusal)));
}
