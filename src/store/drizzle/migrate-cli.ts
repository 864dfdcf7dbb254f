/**
 * `npm run migrate`: applies SPANE's shipped migrations as a deploy step, for stores created
 * with `migrate: false`.
 *
 *   DATABASE_URL=postgres://... npm run migrate      PostgreSQL
 *   npm run migrate -- --pglite ./.spane-data        a PGlite data directory
 *
 * Not part of the library bundle: it only runs from the repository (through tsx).
 */
import { parseArgs } from 'node:util';
import { DrizzleStore } from './store.js';

const { values } = parseArgs({ options: { pglite: { type: 'string' }, url: { type: 'string' } } });
const url = values.url ?? process.env['DATABASE_URL'];

if (values.pglite !== undefined) {
  await (await DrizzleStore.pglite({ dataDir: values.pglite })).close();
  console.log(`spane: PGlite database in ${values.pglite} is up to date`);
} else if (url !== undefined && url !== '') {
  await (await DrizzleStore.postgres(url)).close();
  console.log(`spane: PostgreSQL database ${new URL(url).pathname.slice(1)} is up to date`);
} else {
  console.error('spane: set DATABASE_URL (or pass --url), or pass --pglite <dir>');
  process.exitCode = 1;
}
