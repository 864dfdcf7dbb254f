/**
 * The built-in `http` node kind, and typed variants of it.
 *
 * @module
 */
import { z } from '../../definition/zod.js';
import type { ExecutionContext, INodeExecutor } from '../../definition/types.js';
import { HttpError, NodeOutputError, NonRetryableHttpError } from '../../errors.js';
import { createKind, defineNode } from '../node.js';
import type { AnySchema, KindRuntime, NodeKind, SchemaInput } from '../node.types.js';

/**
 * Config of an http node.
 *
 * @example
 * ```ts
 * httpConfigSchema.parse({ url: 'https://x.test' }); // { url: 'https://x.test', method: 'GET' }
 * ```
 */
export const httpConfigSchema = z.object({
  /** The URL to call. */
  url: z.string().url(),
  /** HTTP method; the input is sent as a JSON body unless it is GET or HEAD. */
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).default('GET'),
  /** Extra request headers. */
  headers: z.record(z.string(), z.string()).optional(),
});

/**
 * What an http node is configured with.
 *
 * @example
 * ```ts
 * const config: HttpConfig = { url: 'https://api.example.test/users', method: 'POST', headers: { authorization: 'Bearer …' } };
 * workflow('w').then('call', http(config));
 * ```
 */
export type HttpConfig = z.input<typeof httpConfigSchema>;

const description = 'Calls a URL (input as JSON body unless GET/HEAD) and returns the parsed JSON response';

/** Statuses a retry can fix (timeout, rate limit); other 4xx answers are final. */
const RETRYABLE_4XX: ReadonlySet<number> = new Set([408, 429]);

/**
 * The URL as errors show it: without its query string and fragment (they often hold tokens and
 * signatures) and without credentials.
 */
function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    // fetch refuses such a URL itself; the placeholder only keeps its text out of messages.
    return '(invalid URL)';
  }
}

/**
 * Sends the request and returns the parsed JSON body (`null` for an empty body). A 5xx, 408 or
 * 429 answer throws an {@link HttpError} (retried per the node's policy); any other non-2xx a
 * {@link NonRetryableHttpError}, so the node fails after one attempt. Neither message carries
 * the query string or a body.
 */
async function callHttp({ input, config, context }: { input: unknown; config: z.output<typeof httpConfigSchema>; context: ExecutionContext }): Promise<unknown> {
  const { url, method, headers } = config;
  const hasBody = method !== 'GET' && method !== 'HEAD' && input !== undefined;
  const init: RequestInit = { method, headers: { accept: 'application/json', ...(hasBody && { 'content-type': 'application/json' }), ...headers } };
  if (hasBody) init.body = JSON.stringify(input);
  if (context.signal !== undefined) init.signal = context.signal;
  const response = await fetch(url, init);
  const details = { status: response.status, method, url: redactedUrl(url) };
  if (!response.ok) {
    // Read (and drop) the body so the connection can be reused; the status decides the error,
    // so a body that cannot be read changes nothing.
    await response.arrayBuffer().catch(() => undefined);
    const final = response.status >= 400 && response.status < 500 && !RETRYABLE_4XX.has(response.status);
    throw final ? new NonRetryableHttpError(details, response.statusText) : new HttpError(details, response.statusText);
  }
  const text = await response.text();
  if (text.length === 0) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(details, response.statusText, 'the body is not JSON');
  }
}

/**
 * Calls a URL and hands on the parsed JSON response (typed `unknown`; use
 * {@link defineHttpNode} for a typed, validated response). Sends the node's input as a JSON body
 * unless the method is GET or HEAD. Node type `http`.
 *
 * @example
 * ```ts
 * workflow('ping').then('call', http({ url: 'https://api.example.test/health' })).build();
 * ```
 */
export const http: NodeKind<'http', HttpConfig, unknown, unknown> = defineNode({
  type: 'http',
  description,
  config: httpConfigSchema,
  run: callHttp,
});

/**
 * Defines an http node kind whose response (and optionally input) is checked by zod schemas, so
 * its children get a typed output. Each typed variant needs its own `type`.
 *
 * @example
 * ```ts
 * const fetchUser = defineHttpNode({ type: 'fetch-user', output: z.object({ id: z.number(), email: z.string() }) });
 * workflow('users').then('fetch', fetchUser({ url: 'https://api.example.test/users/1' }));
 * ```
 */
export function defineHttpNode<const TType extends string, TOutput extends AnySchema, TInput extends AnySchema | undefined = undefined>(options: {
  /** The node type, unique per variant. */
  type: TType;
  /** Schema of the JSON response. */
  output: TOutput;
  /** Schema of the request body (the node's input). */
  input?: TInput;
  /** One line for generated docs. */
  description?: string;
}): NodeKind<TType, HttpConfig, SchemaInput<TInput>, z.output<TOutput>> {
  const base = defineNode({
    type: options.type,
    description: options.description ?? description,
    config: httpConfigSchema,
    output: options.output as AnySchema,
    ...(options.input !== undefined && { input: options.input as AnySchema }),
    run: callHttp,
  }) as unknown as KindRuntime;
  const kind = createKind({
    type: base.type,
    role: base.role,
    schemas: base.schemas,
    ...(base.description !== undefined && { description: base.description }),
    impl: base.impl,
    executor: withoutResponseValues(base.executor!),
  });
  return kind as unknown as NodeKind<TType, HttpConfig, SchemaInput<TInput>, z.output<TOutput>>;
}

/**
 * A response the output schema refuses fails the node with a {@link NodeOutputError} whose
 * `received` would quote the response (it may hold personal data or secrets); this keeps the
 * path and the schema's issues and leaves the value out.
 */
function withoutResponseValues(executor: INodeExecutor): INodeExecutor {
  return {
    async execute(context) {
      try {
        return await executor.execute(context);
      } catch (err) {
        if (!(err instanceof NodeOutputError)) throw err;
        throw new NodeOutputError({ workflowId: err.workflowId, nodeId: err.nodeId, path: err.path, received: '(not shown: part of the response)', issues: err.issues });
      }
    },
  };
}
