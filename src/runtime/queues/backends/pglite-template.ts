/**
 * The migrated template of an embedded database: a PGlite data directory with BullMQ's and
 * SPANE's migrations applied, dumped once as a tarball into a cache folder, so that a new
 * embedded database starts from it instead of running initdb and every migration (seconds and
 * hundreds of MB on each cold start).
 *
 * A tarball is keyed by SPANE's version, PGlite's and a hash of the migrations; it is written to a
 * temp file and renamed into place, so a reader sees a whole tarball or none. One that does not
 * load (damaged, truncated) is deleted and rebuilt. A cache folder that cannot be written only
 * means every start builds its database itself.
 *
 * @module
 * @internal
 */
import { createHash } from 'node:crypto';
import { existsSync, openAsBlob, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { PGlite, PGliteOptions } from '@electric-sql/pglite';
import { LATEST_SCHEMA_VERSION } from 'bullmq';
import { resolveMigrationsFolder } from '../../../store/drizzle/migrate.js';

declare const SPANE_VERSION: string | undefined;

/**
 * PostgreSQL settings of every embedded database SPANE opens. shared_buffers is 128MB by default,
 * sized for a server: an in-process queue and store of one application needs a fraction of it,
 * and each page of it that is touched stays in the process's resident memory.
 */
export const EMBEDDED_POSTGRESQL_CONF: readonly string[] = ['shared_buffers=16MB'];

/** What a template is built with, for {@link templateKey}. */
export interface TemplateInputs {
  /** SPANE's version. */
  spaneVersion: string;
  /** PGlite's version (its data directory format follows its PostgreSQL). */
  pgliteVersion: string;
  /** Hash of the migrations the template has applied. */
  migrationHash: string;
}

/** The cache folder: `SPANE_CACHE_DIR`, else `$XDG_CACHE_HOME/spane`, else `~/.cache/spane`. */
export function defaultTemplateCacheDir(): string {
  const env = process.env['SPANE_CACHE_DIR'];
  if (env !== undefined && env !== '') return path.resolve(env);
  const xdg = process.env['XDG_CACHE_HOME'];
  return path.join(xdg !== undefined && xdg !== '' ? xdg : path.join(os.homedir(), '.cache'), 'spane');
}

/** The tarball's file name for these inputs: a change to any of them is another file. */
export function templateKey(inputs: TemplateInputs): string {
  const digest = createHash('sha256').update(`${inputs.spaneVersion}\0${inputs.pgliteVersion}\0${inputs.migrationHash}`).digest('hex').slice(0, 24);
  return `pglite-template-${digest}.tar`;
}

/**
 * Hash of what a template has applied: BullMQ's schema version, SPANE's SQL migrations (every
 * file of the shipped folder) and `extra` (the DDL of SPANE's own backend tables).
 */
export function migrationHash(extra: string): string {
  const hash = createHash('sha256').update(`bullmq-schema:${LATEST_SCHEMA_VERSION}\0${extra}\0`);
  const folder = resolveMigrationsFolder();
  for (const name of readdirSync(folder).sort()) {
    if (name.endsWith('.sql'))
      hash
        .update(name)
        .update('\0')
        .update(readFileSync(path.join(folder, name)))
        .update('\0');
  }
  hash.update(readFileSync(path.join(folder, 'meta', '_journal.json')));
  return hash.digest('hex');
}

/** The template inputs of this SPANE and PGlite, with the given migration hash. */
export function currentTemplateInputs(hash: string): TemplateInputs {
  return { spaneVersion: typeof SPANE_VERSION === 'string' ? SPANE_VERSION : 'dev', pgliteVersion: pgliteVersion(), migrationHash: hash };
}

function pgliteVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    const main = require.resolve('@electric-sql/pglite');
    // The package's folder is above dist/ where its entry sits.
    const manifest = path.join(path.dirname(path.dirname(main)), 'package.json');
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Options of {@link openFromTemplate}. */
export interface OpenFromTemplateOptions {
  /** Cache folder (see {@link defaultTemplateCacheDir}). */
  cacheDir: string;
  /** Key inputs of the template. */
  inputs: TemplateInputs;
  /** Applies every migration to a fresh database (the template's content). */
  migrate: (db: PGlite) => Promise<void>;
  /** True when a database opened from the tarball is whole (its migrated tables answer). */
  check: (db: PGlite) => Promise<boolean>;
}

/** How {@link openFromTemplate} got its database. */
export type TemplateOutcome = 'cached' | 'built' | 'rebuilt';

/**
 * Opens a migrated PGlite in memory: from the cached tarball when there is a good one, else a fresh
 * database, migrated, whose dump becomes the tarball (`built`; `rebuilt` when a damaged one was
 * replaced).
 */
export async function openFromTemplate(options: OpenFromTemplateOptions): Promise<{ db: PGlite; outcome: TemplateOutcome }> {
  const { PGlite } = await import('@electric-sql/pglite');
  const base: PGliteOptions = { postgresqlconf: [...EMBEDDED_POSTGRESQL_CONF] };
  const file = path.join(options.cacheDir, templateKey(options.inputs));
  let damaged = false;
  if (existsSync(file)) {
    let db: PGlite | undefined;
    try {
      db = await PGlite.create({ ...base, loadDataDir: await openAsBlob(file) });
      if (await options.check(db)) return { db, outcome: 'cached' };
    } catch {
      // A tarball that does not load is damaged: rebuilt below.
    }
    damaged = true;
    await db?.close().catch(() => undefined);
    await rm(file, { force: true });
  }
  const db = await PGlite.create(base);
  try {
    await options.migrate(db);
    await saveTemplate(db, options.cacheDir, file);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return { db, outcome: damaged ? 'rebuilt' : 'built' };
}

/** Dumps `db` to `file` through a temp file and a rename; a folder that cannot be written is skipped. */
async function saveTemplate(db: PGlite, dir: string, file: string): Promise<void> {
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    const tarball = await db.dumpDataDir('none');
    await mkdir(dir, { recursive: true });
    await writeFile(temp, Buffer.from(await tarball.arrayBuffer()));
    await rename(temp, file);
  } catch {
    // No cache (read-only home, full disk): this start is unaffected, the next builds again.
    await rm(temp, { force: true }).catch(() => undefined);
  }
}
