/**
 * The copy of SPANE that is running (the `spane` command, an engine, a worker thread) and how a
 * user module's `spane` imports are pointed at it, so that the module and the code running it
 * share one set of classes: `instanceof NonRetryableError` in the engine holds for an error the
 * module throws. See docs/reliability.md, "Module loading".
 *
 * @module
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Module namespace. */
type Namespace = Record<string, unknown>;

/** The running copy of the package. */
export interface RunningCopy {
  /** Its folder (the one holding its package.json), or undefined when it cannot be found. */
  root: string | undefined;
  /** Its public API: the very module the running code belongs to. */
  namespace: Namespace;
  /**
   * The specifiers that mean this copy, each with what it answers: `spane` the whole API, each
   * subpath export (`spane/engine/registry`, ...) its own part, made of the same classes.
   */
  modules: Readonly<Record<string, Namespace>>;
}

const NAME = 'spane';

/**
 * The subpath exports of package.json and their entry modules (src/subpaths/, built as
 * dist/<subpath>.js and .cjs). They share their modules with the main entry, so each namespace
 * holds the running copy's own classes.
 */
const SUBPATHS: Readonly<Record<string, () => Promise<Namespace>>> = {
  types: () => import('../../subpaths/types.js'),
  'engine/workflow-engine': () => import('../../subpaths/engine/workflow-engine.js'),
  'engine/registry': () => import('../../subpaths/engine/registry.js'),
  'engine/config': () => import('../../subpaths/engine/config.js'),
  'db/inmemory-store': () => import('../../subpaths/db/inmemory-store.js'),
  dsl: () => import('../../subpaths/dsl.js'),
  testing: () => import('../../subpaths/testing.js'),
};

/** The subpaths of {@link runningCopy}'s modules, as package.json's `exports` keys name them (`./types`, ...). */
export const SUBPATH_EXPORTS: readonly string[] = Object.keys(SUBPATHS).map((s) => `./${s}`);

let running: Promise<RunningCopy> | undefined;

/**
 * The running copy, found once per thread. Its entry files (`dist/index.cjs`, `dist/index.js`,
 * `src/index.ts`, and those of each subpath) are also put in Node's CommonJS module cache with
 * their namespaces as exports, unless something loaded them already: a plain `require('spane')`
 * of a CommonJS file (which Node, not jiti, resolves) then gets the running copy instead of
 * loading the CommonJS build as a second one.
 */
export function runningCopy(): Promise<RunningCopy> {
  running ??= find();
  return running;
}

async function find(): Promise<RunningCopy> {
  // In the ESM build this is dist/index.js, whose chunks the running code shares; in the
  // CommonJS build the bundle's own namespace; from the sources, src/index.ts as loaded.
  const namespace = (await import('../../index.js')) as Namespace;
  const modules: Record<string, Namespace> = { [NAME]: namespace };
  const entries: Record<string, Namespace> = { index: namespace };
  for (const [subpath, load] of Object.entries(SUBPATHS)) {
    const part = plainNamespace(await load());
    modules[`${NAME}/${subpath}`] = part;
    entries[subpath] = part;
  }
  const root = packageRoot(fileURLToPath(import.meta.url));
  if (root !== undefined) share(root, entries);
  return { root, namespace, modules };
}

/** A module namespace as a plain object of its exports (what a `require` of it gives). */
function plainNamespace(ns: Namespace): Namespace {
  return Object.fromEntries(Object.keys(ns).map((k) => [k, ns[k]]));
}

/** The nearest folder above `file` whose package.json is this package's. */
export function packageRoot(file: string): string | undefined {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && readName(pkg) === NAME) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

function readName(pkg: string): unknown {
  try {
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name;
  } catch {
    // An unreadable package.json is not ours: the search goes on upwards.
    return undefined;
  }
}

/** The entry files of `entry` (`index`, `engine/registry`, ...) in the copy at `root`, as Node's module cache keys them (real paths). */
function entryFiles(root: string, entry: string): string[] {
  const source = entry === 'index' ? 'src/index.ts' : `src/subpaths/${entry}.ts`;
  const files = [`dist/${entry}.cjs`, `dist/${entry}.js`, source].map((f) => path.join(root, f)).filter((f) => existsSync(f));
  return [...new Set(files.flatMap((f) => [f, realpathSync(f)]))];
}

function share(root: string, entries: Readonly<Record<string, Namespace>>): void {
  const cache = createRequire(import.meta.url).cache;
  for (const [entry, namespace] of Object.entries(entries)) {
    for (const file of entryFiles(root, entry)) {
      if (cache[file] !== undefined) continue;
      const m = new Module(file);
      m.filename = file;
      m.exports = namespace;
      m.loaded = true;
      cache[file] = m;
    }
  }
}
