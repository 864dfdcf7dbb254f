import { Hono } from 'hono';
import type { Context } from 'hono';
import { InvalidArgumentError, SpaneError } from '../errors.js';
import type { WorkflowEngine } from '../runtime/engine/workflow-engine.js';
import { eventsResponse } from '../runtime/observe/sse.js';
import { addActionRoutes } from './actions.js';
import { assetsDir, readAsset } from './assets.js';
import { checkAccess, csrfProblem, sameSecret, TOKEN_COOKIE } from './auth.js';
import type { DashboardAuthorize } from './auth.js';
import { executionDetail, listExecutionPage, listWorkflowsWithTriggers, loadPayload, parseExecutionQuery } from './data.js';

/** Options of {@link createDashboard}. */
export interface DashboardOptions {
  /**
   * The path the dashboard is mounted under, as requests reach the handler (`/admin/spane`).
   * @defaultValue '' (the root)
   */
  basePath?: string;
  /**
   * A shared secret: requests must carry `Authorization: Bearer <token>`, or the cookie set by
   * opening `<basePath>/?token=<token>` once. Without a token or `authorize`, only loopback
   * requests are served.
   */
  token?: string;
  /**
   * Decides whether a request may read or act: `true` serves it, `false` answers 403, a throw
   * 401. Wins over `token`.
   */
  authorize?: DashboardAuthorize;
  /**
   * Keep-alive interval of the event stream in milliseconds.
   * @defaultValue 15000
   */
  heartbeatMs?: number;
}

/**
 * A Fetch handler: `(request, env?) => Promise<Response>`. `env` may carry the peer address
 * (`{ remoteAddress }`, or @hono/node-server's `{ incoming }`), which the loopback-only default checks.
 */
export type Dashboard = (request: Request, env?: unknown) => Promise<Response>;

const NO_STORE = { 'cache-control': 'no-store' };
const MAX_BULK = 100;

function json(c: Context, body: unknown, status: 200 | 400 | 401 | 403 | 404 | 500 = 200): Response {
  return c.json(body as object, status, NO_STORE);
}

function normalizeBase(basePath: unknown): string {
  if (basePath === undefined || basePath === '' || basePath === '/') return '';
  if (typeof basePath !== 'string' || !/^\/[A-Za-z0-9._~\-/]*$/.test(basePath)) throw new InvalidArgumentError('createDashboard: basePath must be a path such as /admin/spane');
  return basePath.replace(/\/+$/, '');
}

/**
 * The dashboard of an engine as a Fetch handler: mount it in Hono (`app.mount('/spane',
 * dashboard)` with `basePath: '/spane'`), Bun (`Bun.serve({ fetch: dashboard })`), or
 * node:http and Express through {@link toNodeListener}. Every JSON answer is `no-store`;
 * actions are POSTs that check the CSRF header and Origin.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createDashboard, toNodeListener } from 'spane';
 * createServer(toNodeListener(createDashboard(engine, { token: process.env.DASHBOARD_TOKEN }))).listen(4545, '127.0.0.1');
 * ```
 */
export function createDashboard(engine: WorkflowEngine, options: DashboardOptions = {}): Dashboard {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('createDashboard: options must be an object');
  const base = normalizeBase(options.basePath);
  const { token, authorize } = options;
  if (token !== undefined && (typeof token !== 'string' || token.length < 8)) throw new InvalidArgumentError('createDashboard: token must be a string of at least 8 characters');
  if (authorize !== undefined && typeof authorize !== 'function') throw new InvalidArgumentError('createDashboard: authorize must be a function');
  const app = new Hono();
  const api = new Hono();

  api.use('*', async (c, next) => {
    const verdict = await checkAccess(c.req.raw, c.env, { token, authorize });
    if (!verdict.ok) return json(c, { error: verdict.error }, verdict.status);
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const problem = csrfProblem(c.req.raw);
      if (problem !== undefined) return json(c, { error: problem }, 403);
    }
    await next();
    c.header('cache-control', 'no-store');
  });
  api.onError((err, c) => {
    if (err instanceof InvalidArgumentError) return json(c, { error: err.message, code: err.code }, 400);
    if (err instanceof SpaneError) return json(c, { error: err.message, code: err.code }, 500);
    return json(c, { error: 'internal error' }, 500);
  });

  api.get('/workflows', async (c) => json(c, { workflows: await listWorkflowsWithTriggers(engine) }));
  api.get('/executions', async (c) => json(c, await listExecutionPage(engine, parseExecutionQuery(new URL(c.req.url).searchParams))));
  api.get('/executions/:id', async (c) => {
    const detail = await executionDetail(engine, c.req.param('id'));
    return detail === undefined ? json(c, { error: 'no such execution' }, 404) : json(c, detail);
  });
  api.get('/executions/:id/payload', async (c) => {
    const nodeId = c.req.query('nodeId');
    const got = await loadPayload(engine, c.req.param('id'), nodeId === undefined || nodeId === '' ? undefined : nodeId);
    return got.found ? json(c, { data: got.data ?? null }) : json(c, { error: 'no such execution or node' }, 404);
  });
  for (const action of ['pause', 'resume', 'cancel'] as const) {
    api.post(`/executions/:id/${action}`, async (c) => {
      const id = c.req.param('id');
      const done = action === 'pause' ? await engine.pauseWorkflow(id) : action === 'resume' ? await engine.resumeWorkflow(id) : await engine.cancelWorkflow(id);
      return json(c, { done });
    });
  }
  addActionRoutes(api, engine);
  api.get('/dlq', async (c) => {
    const workflowId = c.req.query('workflowId');
    const executionId = c.req.query('executionId');
    const items = await engine.getDLQItems(0, -1);
    const shown = items
      .filter(
        (i) => (workflowId === undefined || workflowId === '' || i.workflowId === workflowId) && (executionId === undefined || executionId === '' || i.executionId === executionId),
      )
      .map(({ jobId, executionId: e, workflowId: w, nodeId, error, errorDetails, attempts, failedAt }) => ({
        jobId,
        executionId: e,
        workflowId: w,
        nodeId,
        error,
        errorDetails,
        attempts,
        failedAt,
      }));
    return json(c, { items: shown });
  });
  api.post('/dlq/retry', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new InvalidArgumentError('the body must be JSON: { "ids": [...] }');
    }
    const ids = (body as { ids?: unknown } | null)?.ids;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_BULK || !ids.every((i) => typeof i === 'string')) {
      throw new InvalidArgumentError(`ids must be 1 to ${MAX_BULK} DLQ item ids`);
    }
    const results: { id: string; retried: boolean }[] = [];
    for (const id of ids as string[]) results.push({ id, retried: await engine.retryDLQItem(id) });
    return json(c, { results });
  });
  api.get('/events', async (c) => {
    const executionId = c.req.query('executionId');
    const res = eventsResponse(engine, c.req.raw, {
      ...(executionId !== undefined && executionId !== '' ? { executionId } : { all: true }),
      ...(options.heartbeatMs !== undefined && { heartbeatMs: options.heartbeatMs }),
    });
    res.headers.set('cache-control', 'no-store');
    return res;
  });
  api.all('*', (c) => json(c, { error: 'not found' }, 404));

  app.route(`${base}/api`, api);

  const dir = assetsDir();
  const page = async (c: Context): Promise<Response> => {
    // The token link: keep the token in a cookie the page's own requests send, and drop it from the URL.
    const given = c.req.query('token');
    if (given !== undefined && token !== undefined) {
      if (!sameSecret(given, token)) return c.text('invalid token', 401, NO_STORE);
      const secure = new URL(c.req.url).protocol === 'https:' ? '; Secure' : '';
      c.header('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=${base === '' ? '/' : `${base}/`}; HttpOnly; SameSite=Strict${secure}`);
      return c.redirect(`${base}/`, 303);
    }
    if (dir === undefined) return c.text('the dashboard assets are not built: run `npm run build`', 500, NO_STORE);
    const html = await readAsset(dir, 'index.html');
    if (html === undefined) return c.text('not found', 404);
    return c.body(html.body as Uint8Array<ArrayBuffer>, 200, {
      'content-type': html.type,
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
      'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
    });
  };
  if (base !== '') app.get(base, (c) => c.redirect(`${base}/`, 308));
  app.get(`${base}/`, page);
  app.get(`${base}/favicon.ico`, (c) => c.body(null, 204));
  app.get(`${base}/assets/:file`, async (c) => {
    const asset = dir === undefined ? undefined : await readAsset(dir, `assets/${c.req.param('file')}`);
    if (asset === undefined) return c.text('not found', 404);
    return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, { 'content-type': asset.type, 'cache-control': 'no-cache' });
  });
  return async (request, env) => app.fetch(request, env);
}
