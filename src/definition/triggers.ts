import { CronExpressionParser } from 'cron-parser';
import type { WorkflowTrigger } from './types.js';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
const WEBHOOK_PATH = /^[A-Za-z0-9_.~\-/]+$/;

/** Why a cron pattern is unusable, or undefined. Five fields, or six with seconds first. */
export function cronProblem(cron: string, timezone?: string): string | undefined {
  const fields = cron.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) return `cron '${cron}' must have 5 fields (or 6 with seconds), it has ${fields}`;
  try {
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

/** A webhook path without leading or trailing slashes, as triggers are matched. */
export function normaliseWebhookPath(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
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
      const { path, method } = trigger.config;
      if (!WEBHOOK_PATH.test(normaliseWebhookPath(path))) problems.push({ path: `${at}.path`, message: `webhook path '${path}' may only contain letters, digits and - _ . ~ /` });
      if (method !== undefined && !METHODS.has(method.toUpperCase())) problems.push({ path: `${at}.method`, message: `'${method}' is not an HTTP method` });
    }
  });
  return problems;
}
