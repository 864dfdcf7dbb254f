import { describe, expect, it } from 'vitest';
import { BACKEND_SUITES, planRepository } from '../backends/plan.js';

describe('which suites npm test runs on this machine', () => {
  it('without Redis: leaves out every suite that builds engines on Redis, keeps the rest, and says why', () => {
    const { excluded, skipped } = planRepository({ redis: false, postgres: true });
    expect(excluded).toContain('test/integration/smoke.test.ts');
    expect(excluded).toContain('test/integration/worker-threads.test.ts');
    expect(excluded).not.toContain('test/unit/graph.test.ts');
    // Mentions ioredis in strings, imports nothing from it.
    expect(excluded).not.toContain('test/unit/dsl-boundaries.test.ts');
    expect(excluded).not.toContain('test/integration/drizzle-store.test.ts');
    // It probes its servers itself.
    expect(excluded).not.toContain('test/integration/backends.test.ts');
    expect(skipped.find((s) => s.startsWith('test/integration/smoke.test.ts'))).toMatch(/needs Redis \(.+\), which does not answer \(it still runs on the embedded backend\)/);
    // The backend projects need no Redis, except for suites whose executors report through the
    // Redis probe of forEachMode: those are left out there too, and the others stay.
    const onSql = planRepository({ redis: false, postgres: true }).excludedOnSql;
    expect(onSql).toContain('test/integration/data-flow.test.ts');
    expect(onSql).not.toContain('test/integration/smoke.test.ts');
    expect(skipped.find((s) => s.startsWith('test/integration/data-flow.test.ts'))).not.toMatch(/still runs on the embedded backend/);
  });

  it('without PostgreSQL: leaves out the store suites on PostgreSQL and the postgres backend project', () => {
    const { excluded, skipped } = planRepository({ redis: true, postgres: false });
    expect(excluded).toContain('test/integration/drizzle-store.test.ts');
    expect(excluded).not.toContain('test/integration/smoke.test.ts');
    expect(skipped.at(-1)).toMatch(new RegExp(`postgres backend project \\(${BACKEND_SUITES.length} suites\\)`));
    // Thread mode needs PostgreSQL for its store; the same suites' inline mode still runs.
    expect(excluded).not.toContain('test/integration/data-flow.test.ts');
    expect(skipped.find((s) => s.startsWith('worker-thread mode of'))).toMatch(/their inline mode still runs/);
  });

  it('with both servers: leaves nothing out', () => {
    expect(planRepository({ redis: true, postgres: true })).toEqual({ excluded: [], excludedOnSql: [], skipped: [] });
  });
});
