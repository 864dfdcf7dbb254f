/**
 * Loading the user's executors module (in the main thread to check it, and in every worker
 * thread to use it), TypeScript included.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidConfigError } from '../../errors.js';
import { importUserModule } from '../module-loader/import-user-module.js';
import { describeLoadFailure } from '../module-loader/load-failure.js';
import type { NodeRegistry } from '../engine/registry.js';

/** Module namespace. */
type Namespace = Record<string, unknown>;

/** Whether `specifier` names a file (path or file URL) rather than a package. */
export function isFileSpecifier(specifier: string): boolean {
  return specifier.startsWith('file:') || specifier.startsWith('.') || path.isAbsolute(specifier);
}

/**
 * Turns a file specifier into an absolute path (relative paths against `cwd`); package names are
 * returned unchanged.
 */
export function resolveModuleSpecifier(specifier: string, cwd = process.cwd()): string {
  if (specifier.startsWith('file:')) return fileURLToPath(specifier);
  if (specifier.startsWith('.') || path.isAbsolute(specifier)) return path.resolve(cwd, specifier);
  return specifier;
}

/** Whether the file is TypeScript by its extension. */
export function isTypeScriptFile(file: string): boolean {
  return /\.(c|m)?tsx?$/.test(file);
}

/**
 * Imports an executors module. A file (TypeScript or JavaScript, ESM or CommonJS) goes through
 * {@link importUserModule}, so its `spane` imports get the copy running this thread; a package
 * name is imported natively. Throws an {@link InvalidConfigError} when the file is missing or
 * cannot be loaded, saying why in one line (the error itself is the `cause`).
 */
export async function importModule(specifier: string): Promise<Namespace> {
  const resolved = resolveModuleSpecifier(specifier);
  if (!isFileSpecifier(specifier)) return (await import(resolved)) as Namespace;
  if (!existsSync(resolved)) throw new InvalidConfigError(`Module '${specifier}' does not exist (resolved to ${resolved})`);
  try {
    return await importUserModule(resolved);
  } catch (err) {
    throw new InvalidConfigError(`Executors module '${specifier}' could not be imported: ${describeLoadFailure(err, process.cwd())}`, { cause: err });
  }
}

/** Whether `value` looks like a NodeRegistry (from any copy of the package). */
export function isRegistryLike(value: unknown): value is NodeRegistry {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return ['get', 'has', 'getRegisteredTypes', 'getRateLimit', 'getCircuitBreakerKey'].every((m) => typeof r[m] === 'function');
}

/**
 * The NodeRegistry an executors module provides: its `registry` export, its default export, or
 * what a function in either place returns (it may be async). Throws an
 * {@link InvalidConfigError} when there is none.
 */
export async function registryFromModule(ns: Namespace, specifier: string): Promise<NodeRegistry> {
  const nested = typeof ns['default'] === 'object' && ns['default'] !== null ? (ns['default'] as Namespace) : {};
  // `registry`, then the default export, then the same inside a CommonJS default (module.exports).
  const candidates = [ns['registry'], ns['default'], nested['registry'], nested['default']];
  for (const candidate of candidates) {
    if (isRegistryLike(candidate)) return candidate;
    if (typeof candidate === 'function' && !isClass(candidate)) {
      const made: unknown = await (candidate as () => unknown)();
      if (isRegistryLike(made)) return made;
      throw new InvalidConfigError(`Executors module '${specifier}': its exported function returned ${describe(made)}, not a NodeRegistry`);
    }
  }
  throw new InvalidConfigError(
    `Executors module '${specifier}' must export a NodeRegistry as 'registry' or as its default export, or a function returning one (exports: ${Object.keys(ns).join(', ') || 'none'})`,
  );
}

function isClass(fn: unknown): boolean {
  return typeof fn === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  return typeof value === 'object' ? `an object with keys [${Object.keys(value).join(', ')}]` : typeof value;
}

/** How long loading the executors module (import plus registry factory) may take by default. */
export const DEFAULT_EXECUTORS_TIMEOUT_MS = 60_000;

/**
 * Runs `load` (importing the executors module and getting its registry), or rejects with an
 * {@link InvalidConfigError} once `timeoutMs` passes: a top-level await or a registry factory that
 * never settles must not leave `waitUntilReady` (or a thread's jobs) waiting for ever.
 */
export async function withinTimeout<T>(load: () => Promise<T>, timeoutMs: number, specifier: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new InvalidConfigError(
            `Executors module '${specifier}' did not yield a registry within ${timeoutMs} ms (a top-level await or registry factory that never settles?); SPANE_EXECUTORS_TIMEOUT_MS sets the limit`,
          ),
        ),
      timeoutMs,
    );
    timer.unref();
  });
  try {
    return await Promise.race([load(), expired]);
  } finally {
    clearTimeout(timer);
  }
}
