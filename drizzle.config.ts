import { defineConfig } from 'drizzle-kit';

/**
 * drizzle-kit reads this for `npm run db:generate`: it diffs src/store/drizzle/schema.ts against the
 * last snapshot and writes a new SQL migration that ships with the package. Applying migrations is
 * done by SPANE itself (`DrizzleStore.postgres/pglite({ migrate: true })` or `npm run migrate`), so
 * that the runtime and the CLI use the same journal table.
 */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/store/drizzle/schema.ts',
  out: './src/store/drizzle/migrations',
  schemaFilter: ['spane'],
  migrations: { schema: 'spane', table: '__drizzle_migrations' },
  strict: true,
  verbose: true,
});
