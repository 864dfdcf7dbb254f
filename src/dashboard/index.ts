/**
 * The dashboard: `createDashboard(engine)` returns a Fetch handler (a Hono app) that serves the
 * browser UI and its JSON API, with live updates over server-sent events.
 *
 * @module
 */
export { createDashboard } from './server.js';
export type { Dashboard, DashboardOptions } from './server.js';
export type { ConnectionInfo, DashboardAuthorize } from './auth.js';
export { toNodeListener } from './node-listener.js';
export type { FetchHandler } from './node-listener.js';
