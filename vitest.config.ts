import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import type { TestProjectInlineConfiguration, ViteUserConfig } from 'vitest/config';
import { POSTGRES_URL, postgresAnswers, REDIS_URL, redisAnswers } from './test/backends/probe.js';

/**
 * The integration suites that also run on BullMQ's PostgreSQL backend (`embedded` PGlite, and
 * `postgres` where a server answers): the ones that exercise behaviour end to end. The others
 * (metrics, SSE, DSL, Drizzle store, worker threads, ...) do not depend on the queue backend, or
 * are Redis-only (worker threads), and run once, on Redis.
 */
const BACKEND_SUITES = ['smoke', 'data-flow', 'failures', 'lifecycle', 'sub-workflows', 'events', 'triggers', 'resilience', 'engine-api'].map(
  (name) => `test/integration/${name}.test.ts`,
);

/** A file that probes its servers itself (and skips what it cannot run) says so with this marker. */
const SELF_PROBING = 'spane-test: probes its servers';

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return testFiles(path);
    return e.name.endsWith('.test.ts') ? [path] : [];
  });
}

export default defineConfig(async (): Promise<ViteUserConfig> => {
  const [redisUp, postgresUp] = await Promise.all([redisAnswers(), postgresAnswers()]);
  const skipped: string[] = [];
  const excluded: string[] = [];
  for (const file of testFiles('test')) {
    const text = readFileSync(file, 'utf8');
    if (text.includes(SELF_PROBING)) continue;
    const needsRedis = /testEngine\(|from 'ioredis'|REDIS_URL/.test(text);
    const needsPostgres = /createTestDatabase|DrizzleStore\.postgres|POSTGRES_URL/.test(text);
    const missing = [needsRedis && !redisUp ? `Redis (${REDIS_URL})` : undefined, needsPostgres && !postgresUp ? `PostgreSQL (${POSTGRES_URL})` : undefined].filter(Boolean);
    if (missing.length > 0) {
      excluded.push(file);
      skipped.push(`${file}: needs ${missing.join(' and ')}, which does not answer`);
    }
  }
  if (!postgresUp) skipped.push(`postgres backend project (${BACKEND_SUITES.length} suites): PostgreSQL does not answer at ${POSTGRES_URL}`);
  // Read by test/backends/summary.ts, which prints the list again when the run ends.
  process.env['SPANE_SKIPPED_SUITES'] = JSON.stringify(skipped);
  if (skipped.length > 0) console.warn(`\n[spane tests] skipped here:\n  ${skipped.join('\n  ')}\n`);

  const backendProject = (backend: 'embedded' | 'postgres'): TestProjectInlineConfiguration => ({
    extends: true,
    test: {
      name: backend,
      include: BACKEND_SUITES,
      // Suites that need PostgreSQL for their store stay excluded when it is down.
      exclude: excluded,
      env: { SPANE_TEST_BACKEND: backend },
      setupFiles: ['test/backends/sql-suite.ts'],
      typecheck: { enabled: false },
    },
  });

  return {
    test: {
      testTimeout: 30_000,
      hookTimeout: 30_000,
      pool: 'forks' as const,
      globalSetup: ['test/backends/summary.ts'],
      projects: [
        {
          extends: true,
          test: {
            name: 'redis',
            include: ['test/**/*.test.ts'],
            exclude: excluded,
            env: { SPANE_TEST_BACKEND: 'redis' },
            typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
          },
        },
        backendProject('embedded'),
        ...(postgresUp ? [backendProject('postgres')] : []),
      ],
    },
  };
});
