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
  /** The specifiers that mean this API: `spane` and each subpath export that points at it. */
  specifiers: readonly string[];
}

const NAME = 'spane';

let running: Promise<RunningCopy> | undefined;

/**
 * The running copy, found once per thread. Its entry files (`dist/index.cjs`, `dist/index.js`,
 * `src/index.ts`) are also put in Node's CommonJS module cache with its namespace as their
 * exports, unless something loaded them already: a plain `require('spane')` of a CommonJS file
 * (which Node, not jiti, resolves) then gets the running copy instead of loading the CommonJS
 * build as a second one.
 */
export function runningCopy(): Promise<RunningCopy> {
  running ??= find();
  return running;
}

async function find(): Promise<RunningCopy> {
  // In the ESM build this is dist/index.js, whose chunks the running code shares; in the
  // CommonJS build the bundle's own namespace; from the sources, src/index.ts as loaded.
  const namespace = (await import('../../index.js')) as Namespace;
  const root = packageRoot(fileURLToPath(import.meta.url));
  if (root !== undefined) share(root, namespace);
  return { root, namespace, specifiers: root === undefined ? [NAME] : specifiersOf(root) };
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

/** `spane` and every subpath export whose ESM entry is the main one (`spane/types`, ...). */
export function specifiersOf(root: string): string[] {
  const specifiers = [NAME];
  let exportsField: unknown;
  try {
    exportsField = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { exports?: unknown }).exports;
  } catch {
    // Without a readable exports map only the package name is known to resolve here.
    return specifiers;
  }
  if (typeof exportsField !== 'object' || exportsField === null) return specifiers;
  const entries = exportsField as Record<string, unknown>;
  const main = JSON.stringify(entries['.']);
  for (const [key, target] of Object.entries(entries)) {
    if (key !== '.' && key.startsWith('./') && JSON.stringify(target) === main) specifiers.push(`${NAME}/${key.slice(2)}`);
  }
  return specifiers;
}

/** The entry files of the copy at `root`, as Node's module cache keys them (real paths). */
function entryFiles(root: string): string[] {
  const files = ['dist/index.cjs', 'dist/index.js', 'src/index.ts'].map((f) => path.join(root, f)).filter((f) => existsSync(f));
  return [...new Set(files.flatMap((f) => [f, realpathSync(f)]))];
}

function share(root: string, namespace: Namespace): void {
  const cache = createRequire(import.meta.url).cache;
  for (const file of entryFiles(root)) {
    if (cache[file] !== undefined) continue;
    const m = new Module(file);
    m.filename = file;
    m.exports = namespace;
    m.loaded = true;
    cache[file] = m;
  }
}
