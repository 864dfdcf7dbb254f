/**
 * Which test files `npm test` can run on this machine: a file that needs a server that does not
 * answer is left out, with the reason. vitest.config.ts applies the plan; a unit test checks it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { POSTGRES_URL, REDIS_URL } from './probe.js';

/**
 * The integration suites that also run on BullMQ's PostgreSQL backend (`embedded`, and `postgres`
 * where a server answers): the ones that exercise behaviour end to end. The others (metrics,
 * SSE, DSL, Drizzle store, worker threads, ...) do not depend on the queue backend or are
 * Redis-only (worker threads), and run once, on Redis.
 */
export const BACKEND_SUITES = [
  'smoke',
  'data-flow',
  'failures',
  'lifecycle',
  'sub-workflows',
  'events',
  'triggers',
  'resilience',
  'engine-api',
  'webhooks',
  'fork',
  'execution-listing',
  'signals',
  'events-wait',
].map((name) => `test/integration/${name}.test.ts`);

/** A file that probes its servers itself (and skips what it cannot run) says so with this marker. */
export const SELF_PROBING = 'spane-test: probes its servers';

/**
 * What a file needs, read from its text: Redis when it builds test engines or opens ioredis,
 * PostgreSQL when it creates databases. A file that runs its scenarios through `forEachMode`
 * (test/fixtures/modes.ts) has `probe` set: its executors report through Redis on every queue
 * backend, and its thread mode needs PostgreSQL.
 */
export function needs(text: string): { redis: boolean; postgres: boolean; probe: boolean } {
  if (text.includes(SELF_PROBING)) return { redis: false, postgres: false, probe: false };
  const probe = /\bforEachMode\(/.test(text);
  return {
    redis: probe || /testEngine\(|^import [^\n]*from 'ioredis'|\bREDIS_URL\b/m.test(text),
    postgres: /createTestDatabase|DrizzleStore\.postgres|POSTGRES_URL/.test(text),
    probe,
  };
}

/** Every `*.test.ts` under `dir`. */
export function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return testFiles(path);
    return e.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** What to leave out: `excluded` on Redis, `excludedOnSql` on the PostgreSQL-backend projects (which need no Redis), and why. */
export interface TestPlan {
  excluded: string[];
  excludedOnSql: string[];
  skipped: string[];
}

/** The files to leave out and why, given which servers answer. */
export function plan(files: readonly { path: string; text: string }[], up: { redis: boolean; postgres: boolean }): TestPlan {
  const excluded: string[] = [];
  const excludedOnSql: string[] = [];
  const skipped: string[] = [];
  let threadModeSuites = 0;
  for (const { path, text } of files) {
    const need = needs(text);
    if (need.probe) threadModeSuites += 1;
    const missing = [need.redis && !up.redis ? `Redis (${REDIS_URL})` : undefined, need.postgres && !up.postgres ? `PostgreSQL (${POSTGRES_URL})` : undefined].filter(
      (m) => m !== undefined,
    );
    if ((need.postgres && !up.postgres) || (need.probe && !up.redis)) excludedOnSql.push(path);
    if (missing.length === 0) continue;
    excluded.push(path);
    const elsewhere = BACKEND_SUITES.includes(path) && !need.postgres && !need.probe ? ' (it still runs on the embedded backend)' : '';
    skipped.push(`${path}: needs ${missing.join(' and ')}, which does not answer${elsewhere}`);
  }
  if (!up.postgres && up.redis && threadModeSuites > 0) {
    skipped.push(`worker-thread mode of ${threadModeSuites} suites (their inline mode still runs): it needs PostgreSQL, which does not answer at ${POSTGRES_URL}`);
  }
  if (!up.postgres) skipped.push(`postgres backend project (${BACKEND_SUITES.length} suites): PostgreSQL does not answer at ${POSTGRES_URL}`);
  return { excluded, excludedOnSql, skipped };
}

/** {@link plan} over the repository's test files. */
export function planRepository(up: { redis: boolean; postgres: boolean }): TestPlan {
  return plan(
    testFiles('test').map((path) => ({ path, text: readFileSync(path, 'utf8') })),
    up,
  );
}
