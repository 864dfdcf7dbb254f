import type { IncomingMessage, ServerResponse } from 'node:http';
import { createResponse, createSession } from 'better-sse';
import type { Session } from 'better-sse';
import type { SpaneEvent, SubscribeOptions } from './events.js';

/** Where SSE gets its events: an engine (or anything with the same `subscribe`). */
export interface EventSource {
  /** Calls `handler` for each matching event until the returned function is called. */
  subscribe(handler: (event: SpaneEvent) => void, options?: SubscribeOptions): () => void;
}

/** Options of the SSE helpers. */
export interface SSEOptions extends SubscribeOptions {
  /**
   * Interval of keep-alive comments in milliseconds, so proxies keep idle streams open.
   * @defaultValue 15000
   */
  heartbeatMs?: number;
}

function pipe(session: Session, source: EventSource, options: SSEOptions): void {
  const { heartbeatMs: _h, ...filter } = options;
  const stop = source.subscribe((event) => {
    if (session.isConnected) session.push(event, event.type, event.id);
  }, filter);
  session.once('disconnected', stop);
}

/**
 * Streams execution events to a Node HTTP response as server-sent events (`text/event-stream`,
 * one SSE event per SPANE event: `event:` is its type, `id:` its id, `data:` its JSON). Keep-alive
 * comments are sent while idle, and the subscription ends when the client goes away.
 *
 * @example
 * ```ts
 * http.createServer((req, res) => {
 *   if (req.url?.startsWith('/events')) return streamEvents(engine, req, res, { executionId });
 * });
 * ```
 */
export async function streamEvents(source: EventSource, req: IncomingMessage, res: ServerResponse, options: SSEOptions = {}): Promise<void> {
  const session = await createSession(req, res, { keepAlive: options.heartbeatMs ?? 15_000 });
  pipe(session, source, options);
}

/**
 * The same as {@link streamEvents} for the Fetch API (Hono, Elysia, Bun, Deno, workers): returns
 * the `Response` to send.
 */
export function eventsResponse(source: EventSource, request: Request, options: SSEOptions = {}): Response {
  return createResponse(request, { keepAlive: options.heartbeatMs ?? 15_000 }, (session) => pipe(session, source, options));
}
