import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import type { TestProjectInlineConfiguration, ViteUserConfig } from 'vitest/config';
import { BACKEND_SUITES, planRepository } from './test/backends/plan.js';
import { postgresAnswers, redisAnswers } from './test/backends/probe.js';
import { redisClusterPossible } from './test/fixtures/redis-cluster.js';

export default defineConfig(async (): Promise<ViteUserConfig> => {
  const [redisUp, postgresUp] = await Promise.all([redisAnswers(), postgresAnswers()]);
  const { excluded, excludedOnSql, skipped } = planRepository({ redis: redisUp, postgres: postgresUp });
  // Read by test/backends/summary.ts, which prints the list again when the run ends.
  process.env['SPANE_SKIPPED_SUITES'] = JSON.stringify(skipped);
  // Read by test/fixtures/modes.ts: thread mode needs PostgreSQL for its shared store.
  process.env['SPANE_TEST_POSTGRES'] = postgresUp ? '1' : '0';
  if (skipped.length > 0) console.warn(`\n[spane tests] skipped here:\n  ${skipped.join('\n  ')}\n`);

  const backendProject = (backend: 'embedded' | 'postgres'): TestProjectInlineConfiguration => ({
    extends: true,
    test: {
      name: backend,
      include: BACKEND_SUITES,
      // These need no Redis; suites that need PostgreSQL for their store stay out when it is down.
      exclude: excludedOnSql,
      env: { SPANE_TEST_BACKEND: backend },
      setupFiles: ['test/setup/eager-chains.ts', 'test/backends/sql-suite.ts'],
      typecheck: { enabled: false },
    },
  });

  // The integration suites on a Redis Cluster of each file's own (three redis-server processes),
  // where this machine has redis-server and redis-cli; test/backends/cluster-suite.ts starts it.
  const clusterProject: TestProjectInlineConfiguration = {
    extends: true,
    test: {
      name: 'redis-cluster',
      include: BACKEND_SUITES,
      env: { SPANE_TEST_BACKEND: 'redis', SPANE_TEST_REDIS_CLUSTER: '1' },
      setupFiles: ['test/setup/eager-chains.ts', 'test/backends/cluster-suite.ts'],
      typecheck: { enabled: false },
    },
  };

  return {
    // The examples import 'spane' as a user's project would: here that is the sources, so an
    // example and the test that drives it share one copy (tsconfig.json maps it the same way).
    resolve: { alias: [{ find: /^spane$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) }] },
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
            env: { SPANE_TEST_BACKEND: 'redis', SPANE_TEST_POSTGRES: postgresUp ? '1' : '0' },
            setupFiles: ['test/setup/eager-chains.ts'],
            typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
          },
        },
        backendProject('embedded'),
        ...(postgresUp ? [backendProject('postgres')] : []),
        ...(redisUp && redisClusterPossible() ? [clusterProject] : []),
      ],
    },
  };
});
