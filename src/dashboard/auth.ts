/**
 * Who may use the dashboard. Without a `token` or an `authorize` hook only loopback requests
 * are served (the Host header and, when the server says, the peer address must be loopback:
 * a DNS-rebinding page or a request from elsewhere is refused). State-changing requests are POSTs
 * that must carry the `x-spane-csrf` header (a cross-site form cannot set it) and, when the
 * browser sends one, an `Origin` of the dashboard's own host.
 *
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Decides whether a request may use the dashboard: `true` serves it, `false` answers 403, a throw 401. */
export type DashboardAuthorize = (request: Request) => boolean | Promise<boolean>;

/** The cookie the token link sets, so the browser's own requests carry the token. */
export const TOKEN_COOKIE = 'spane_dashboard_token';
/** The header every POST must carry (any value). */
export const CSRF_HEADER = 'x-spane-csrf';

/** What a server adapter tells the handler about the connection (the `env` of Hono's `fetch`). */
export interface ConnectionInfo {
  /** The peer's IP address. */
  remoteAddress?: string | undefined;
  /** @hono/node-server's incoming request. */
  incoming?: { socket?: { remoteAddress?: string | undefined } | undefined } | undefined;
}

/** Whether a host name (without port) or IP address is a loopback one. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

/** The host name of a Host header, without its port. */
export function hostName(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  return hostHeader.split(':')[0] ?? '';
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Compares in constant time (over the digests, so lengths leak nothing either). */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function cookie(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** The token a request carries: `Authorization: Bearer`, else the cookie. */
export function tokenOf(request: Request): string | undefined {
  const header = request.headers.get('authorization');
  if (header !== null && /^bearer /i.test(header)) return header.slice(7).trim();
  return cookie(request, TOKEN_COOKIE);
}

function remoteAddressOf(env: unknown): string | undefined {
  if (typeof env !== 'object' || env === null) return undefined;
  const info = env as ConnectionInfo;
  return info.remoteAddress ?? info.incoming?.socket?.remoteAddress;
}

/** How a request fared: allowed, or the status to refuse it with. */
export type Verdict = { ok: true } | { ok: false; status: 401 | 403; error: string };

/** Checks a request against the configured token, hook, or loopback-only default. */
export async function checkAccess(request: Request, env: unknown, auth: { token?: string | undefined; authorize?: DashboardAuthorize | undefined }): Promise<Verdict> {
  if (auth.authorize !== undefined) {
    try {
      return (await auth.authorize(request)) === true ? { ok: true } : { ok: false, status: 403, error: 'not allowed' };
    } catch {
      return { ok: false, status: 401, error: 'not authenticated' };
    }
  }
  if (auth.token !== undefined) {
    const given = tokenOf(request);
    return given !== undefined && sameSecret(given, auth.token) ? { ok: true } : { ok: false, status: 401, error: 'a valid token is required' };
  }
  const host = request.headers.get('host') ?? new URL(request.url).host;
  const remote = remoteAddressOf(env);
  if (isLoopback(hostName(host)) && (remote === undefined || isLoopback(remote))) return { ok: true };
  return { ok: false, status: 401, error: 'this dashboard has no token: it serves loopback requests only' };
}

/** Why a state-changing request looks cross-site, or undefined when it does not. */
export function csrfProblem(request: Request): string | undefined {
  if (request.headers.get(CSRF_HEADER) === null) return `the ${CSRF_HEADER} header is required`;
  const origin = request.headers.get('origin');
  if (origin === null) return undefined;
  const host = request.headers.get('host') ?? new URL(request.url).host;
  try {
    if (new URL(origin).host === host) return undefined;
  } catch {
    // refused below
  }
  return 'cross-origin requests are refused';
}
