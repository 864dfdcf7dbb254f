/**
 * The migrated template of an embedded database: a PGlite data directory with BullMQ's and
 * SPANE's migrations applied, built once into a cache folder, so that a new embedded database
 * starts from a copy of it instead of running initdb and every migration (seconds and hundreds of
 * MB on each cold start).
 *
 * A template is keyed by SPANE's version, PGlite's and a hash of the migrations; it is built in a
 * folder of its own and renamed into place, so a reader sees a whole template or none. One that
 * does not open (damaged) is deleted and rebuilt. A cache folder that cannot be written only
 * means every start migrates its database itself.
 *
 * @module
 * @internal
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { PGlite, PGliteOptions } from '@electric-sql/pglite';
import { LATEST_SCHEMA_VERSION } from 'bullmq';
import { resolveMigrationsFolder } from '../../../store/drizzle/migrate.js';
import { copyTree, newWorkCopy, releaseCopy, removeDeadCopies, trackCopy, writable } from './pglite-work-copies.js';

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
  return `pglite-template-${digest}`;
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
  /** True when a database opened from the template is whole (its migrated tables answer). */
  check: (db: PGlite) => Promise<boolean>;
  /** Folder the working copies go in. @defaultValue `os.tmpdir()` */
  workDir?: string;
}

/** How {@link openFromTemplate} got its database. */
export type TemplateOutcome = 'cached' | 'built' | 'rebuilt';

/** A database {@link openFromTemplate} opened, on a working copy of the template. */
export interface TemplateDatabase {
  /** The open database. */
  db: PGlite;
  /** How the template was got. */
  outcome: TemplateOutcome;
  /** The working copy's folder, removed by {@link TemplateDatabase.dispose}; none when the temp folder could not take one (the database is then in memory). */
  dir: string | undefined;
  /** Closes the database (if still open) and removes its working copy. Safe to call twice. */
  dispose: () => Promise<void>;
}

/**
 * Opens a migrated PGlite on a fresh working copy of the cached template (a data directory,
 * copied into `workDir` and removed on `dispose`), building the template first when the cache has
 * no good one (`built`; `rebuilt` when a damaged one was replaced). A working copy on disk, not
 * a tarball loaded into PGlite's in-memory file system: the data files then stay in the OS's
 * page cache instead of the process's memory (about 150 MB less peak RSS), and nothing is untarred
 * in JavaScript. The database is as ephemeral as an in-memory one: each open starts from the
 * template, and its copy is removed when it closes, at exit or on a fatal signal nothing else
 * handles (or, after a crash, by a later start).
 */
export async function openFromTemplate(options: OpenFromTemplateOptions): Promise<TemplateDatabase> {
  const { PGlite } = await import('@electric-sql/pglite');
  const base: PGliteOptions = { postgresqlconf: [...EMBEDDED_POSTGRESQL_CONF] };
  const workDir = options.workDir ?? os.tmpdir();
  await removeDeadCopies(workDir);
  if (!(await writable(workDir))) return openInMemory(PGlite, base, options);
  const template = path.join(options.cacheDir, templateKey(options.inputs));
  const open = async (): Promise<{ db: PGlite; dir: string } | undefined> => {
    const dir = await newWorkCopy(workDir);
    let db: PGlite | undefined;
    try {
      await copyTree(template, dir);
      db = await PGlite.create({ ...base, dataDir: dir });
      if (await options.check(db)) return { db, dir };
    } catch {
      // A template that does not open is damaged: rebuilt below.
    }
    await db?.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    return undefined;
  };
  let damaged = false;
  if (existsSync(template)) {
    const opened = await open();
    if (opened !== undefined) {
      // Marks the template as in use, so another version's builds do not prune it (see removeStale).
      const now = new Date();
      await utimes(template, now, now).catch(() => undefined);
      return withDispose(opened, 'cached');
    }
    damaged = true;
    await rm(template, { recursive: true, force: true });
  }
  const outcome: TemplateOutcome = damaged ? 'rebuilt' : 'built';
  if (await buildTemplate(PGlite, base, options, template)) {
    const opened = await open();
    if (opened !== undefined) return withDispose(opened, outcome);
  }
  // No cache (read-only folder, full disk, a template that does not open): this start migrates
  // its own working copy.
  const dir = await newWorkCopy(workDir);
  const db = await PGlite.create({ ...base, dataDir: dir }).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  try {
    await migrateFresh(db, options);
  } catch (err) {
    await db.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return withDispose({ db, dir }, outcome);
}

function withDispose(opened: { db: PGlite; dir: string | undefined }, outcome: TemplateOutcome): TemplateDatabase {
  const { db, dir } = opened;
  if (dir !== undefined) trackCopy(dir);
  let disposing: Promise<void> | undefined;
  const dispose = () =>
    (disposing ??= (async () => {
      try {
        if (!db.closed) await db.close();
      } finally {
        if (dir !== undefined) await releaseCopy(dir);
      }
    })());
  return { db, outcome, dir, dispose };
}

/**
 * With no temp folder to copy into: a database in PGlite's in-memory file system, migrated
 * (initdb and every migration: seconds, and about 550 MB at its peak), as before templates.
 */
async function openInMemory(PGliteClass: typeof PGlite, base: PGliteOptions, options: OpenFromTemplateOptions): Promise<TemplateDatabase> {
  const db = await PGliteClass.create(base);
  try {
    await options.migrate(db);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return withDispose({ db, dir: undefined }, 'built');
}

/**
 * The template's content: every migration, and only the database PGlite opens (`template0` and
 * `template1` dropped: an embedded database never creates another, and they were a third of the
 * files each).
 */
async function migrateFresh(db: PGlite, options: OpenFromTemplateOptions): Promise<void> {
  await options.migrate(db);
  await db.exec("UPDATE pg_database SET datistemplate = false WHERE datname IN ('template0', 'template1')");
  await db.exec('DROP DATABASE IF EXISTS template0');
  await db.exec('DROP DATABASE IF EXISTS template1');
}

/**
 * Builds the template into a folder beside `template` and renames it into place, so a reader
 * sees a whole template or none; true when `template` exists afterwards. A folder that cannot be
 * written gives false.
 */
async function buildTemplate(PGliteClass: typeof PGlite, base: PGliteOptions, options: OpenFromTemplateOptions, template: string): Promise<boolean> {
  let build: string | undefined;
  try {
    await mkdir(options.cacheDir, { recursive: true });
    build = await mkdtemp(`${template}.${process.pid}.`);
    const db = await PGliteClass.create({ ...base, dataDir: build });
    try {
      await migrateFresh(db, options);
    } finally {
      await db.close();
    }
    try {
      await rename(build, template);
    } catch (err) {
      // Another process renamed its build into place first: its template is as good.
      if (!existsSync(template)) throw err;
    }
    await removeStale(options.cacheDir, template);
    return true;
  } catch {
    return false;
  } finally {
    if (build !== undefined) await rm(build, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** How long a template of another version (or migration set) is kept unused: 30 days. */
export const STALE_TEMPLATE_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Removes what the cache holds besides `keep`, best effort: the tarball templates of earlier SPANE
 * versions (`pglite-template-*.tar`), and the templates (and builds a crash left) of other
 * versions or migration sets unused for {@link STALE_TEMPLATE_MS}. A template's time is set each
 * time a start uses it, so the one of a project still on another version stays.
 */
async function removeStale(cacheDir: string, keep: string): Promise<void> {
  const cutoff = Date.now() - STALE_TEMPLATE_MS;
  for (const name of await readdir(cacheDir).catch(() => [])) {
    const file = path.join(cacheDir, name);
    if (!name.startsWith('pglite-template-') || file === keep) continue;
    if (name.endsWith('.tar')) {
      await rm(file, { force: true }).catch(() => undefined);
      continue;
    }
    const info = await stat(file).catch(() => undefined);
    if (info !== undefined && info.mtimeMs < cutoff) await rm(file, { recursive: true, force: true }).catch(() => undefined);
  }
}
