import { createRequire } from 'node:module';
import type { WorkflowTrigger } from './types.js';

/**
 * The HTTP methods a webhook trigger may match (compared case-insensitively).
 *
 * @example
 * ```ts
 * WEBHOOK_METHODS.includes('POST'); // true
 * ```
 */
export const WEBHOOK_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

/**
 * A webhook trigger's method, in upper or lower case.
 *
 * @example
 * ```ts
 * const method: WebhookMethod = 'POST';
 * ```
 */
export type WebhookMethod = (typeof WEBHOOK_METHODS)[number] | Lowercase<(typeof WEBHOOK_METHODS)[number]>;

const METHODS: ReadonlySet<string> = new Set(WEBHOOK_METHODS);
const WEBHOOK_PATH = /^[A-Za-z0-9_.~\-/]+$/;

/** Why a cron pattern is unusable, or undefined. Five fields, or six with seconds first. */
export function cronProblem(cron: string, timezone?: string): string | undefined {
  const fields = cron.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) return `cron '${cron}' must have 5 fields (or 6 with seconds), it has ${fields}`;
  try {
    // Required on the first cron trigger checked, not with this module: a cold start without one
    // (`spane run`) does not pay for loading cron-parser.
    const { CronExpressionParser } = createRequire(import.meta.url)('cron-parser') as typeof import('cron-parser');
    CronExpressionParser.parse(cron, timezone === undefined ? {} : { tz: timezone });
    return undefined;
  } catch (err) {
    return `cron '${cron}' is invalid: ${(err as Error).message}`;
  }
}

/** Why a timezone is not a known IANA zone, or undefined. */
export function timezoneProblem(timezone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return undefined;
  } catch {
    return `timezone '${timezone}' is not a known IANA timezone`;
  }
}

/** Longest webhook path accepted, in characters, before any slash is stripped. */
export const MAX_WEBHOOK_PATH_LENGTH = 2048;

/** A name `{ env }` may give: what POSIX shells accept. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A webhook path without leading or trailing slashes, as triggers are matched. One pass over the
 * ends (a regex alternation here backtracked quadratically on long runs of `/`).
 */
export function normaliseWebhookPath(path: string): string {
  let start = 0;
  let end = path.length;
  while (start < end && path.charCodeAt(start) === 0x2f) start++;
  while (end > start && path.charCodeAt(end - 1) === 0x2f) end--;
  return path.slice(start, end);
}

/** Problems of a workflow's triggers, each with its path in the definition. */
export function triggerProblems(triggers: readonly WorkflowTrigger[]): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const schedules = new Set<string>();
  triggers.forEach((trigger, i) => {
    const at = `triggers[${i}].config`;
    if (trigger.type === 'schedule') {
      const { cron, timezone } = trigger.config;
      const tz = timezone === undefined ? undefined : timezoneProblem(timezone);
      if (tz !== undefined) problems.push({ path: `${at}.timezone`, message: tz });
      const c = cronProblem(cron, tz === undefined ? timezone : undefined);
      if (c !== undefined) problems.push({ path: `${at}.cron`, message: c });
      if (schedules.has(cron)) problems.push({ path: `${at}.cron`, message: `cron '${cron}' is listed twice` });
      schedules.add(cron);
    } else {
      const { path, method, secret } = trigger.config;
      if (path.length > MAX_WEBHOOK_PATH_LENGTH)
        problems.push({ path: `${at}.path`, message: `webhook path is ${path.length} characters long, more than ${MAX_WEBHOOK_PATH_LENGTH}` });
      else if (!WEBHOOK_PATH.test(normaliseWebhookPath(path)))
        problems.push({ path: `${at}.path`, message: `webhook path '${path}' may only contain letters, digits and - _ . ~ /` });
      if (typeof secret === 'object' && 'env' in secret && !ENV_NAME.test(secret.env)) {
        problems.push({ path: `${at}.secret.env`, message: `'${secret.env}' is not an environment variable name (letters, digits and _, not starting with a digit)` });
      }
      if (method !== undefined && !METHODS.has(method.toUpperCase())) problems.push({ path: `${at}.method`, message: `'${method}' is not an HTTP method` });
    }
  });
  return problems;
}
