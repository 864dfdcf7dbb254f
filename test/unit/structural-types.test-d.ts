/**
 * The public declarations describe drizzle databases, PGlite and cockatiel breakers by their
 * shape (DrizzlePgDatabase, PgliteClient, CircuitBreaker), so that they import none of those
 * packages (test/pack/strict-consumer.test.ts). The real types must still fit them.
 */
import type { PGlite } from '@electric-sql/pglite';
import type { CircuitBreakerPolicy } from 'cockatiel';
import type { drizzle as pgliteDrizzle } from 'drizzle-orm/pglite';
import type { drizzle as postgresDrizzle } from 'drizzle-orm/postgres-js';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { describe, expectTypeOf, it } from 'vitest';
import type { CircuitBreaker, DrizzlePgDatabase, DrizzlePgliteOptions, DrizzleStore, PgliteClient, SqlBackend } from '../../src/index.js';

describe('structural types of the public API', () => {
  it('takes any drizzle PostgreSQL database', () => {
    expectTypeOf<PgDatabase<PgQueryResultHKT, Record<string, unknown>>>().toExtend<DrizzlePgDatabase>();
    expectTypeOf<ReturnType<typeof pgliteDrizzle>>().toExtend<DrizzlePgDatabase>();
    expectTypeOf<ReturnType<typeof postgresDrizzle>>().toExtend<DrizzlePgDatabase>();
    expectTypeOf<ConstructorParameters<typeof DrizzleStore>[0]>().toEqualTypeOf<DrizzlePgDatabase>();
    expectTypeOf<{ execute(): Promise<void> }>().not.toExtend<DrizzlePgDatabase>();
  });

  it('takes a PGlite wherever a PgliteClient is asked for', () => {
    expectTypeOf<PGlite>().toExtend<PgliteClient>();
    expectTypeOf<SqlBackend['pglite']>().toEqualTypeOf<PgliteClient | undefined>();
    expectTypeOf<Parameters<typeof DrizzleStore.pglite>[0]>().toEqualTypeOf<DrizzlePgliteOptions | undefined>();
  });

  it('a cockatiel breaker is a CircuitBreaker', () => {
    expectTypeOf<CircuitBreakerPolicy>().toExtend<CircuitBreaker>();
  });
});
