/**
 * Importing a user module (a workflow module of the `spane` command, an executors module of worker
 * threads): TypeScript or JavaScript, ESM or CommonJS, with top-level await in either, through
 * jiti, with every `spane` import answered by the running copy ({@link runningCopy}).
 *
 * Why jiti (measured against tsx in docs/reliability.md, "Module loading"): it takes a map of
 * module objects (`virtualModules`), so `import { NonRetryableError } from 'spane'` gets the
 * running copy's class whatever copy `node_modules` holds; it runs a CommonJS project's `.ts` file
 * with top-level await (its async mode wraps the module in an async function, where esbuild's
 * CommonJS output refuses it); it keeps line numbers; and it is one 1.8 MB package without an
 * install script (tsx brings esbuild, 11 MB and a native binary).
 *
 * @module
 */
import { createJiti } from 'jiti';
import { runningCopy } from './running-copy.js';

/** Module namespace. */
type Namespace = Record<string, unknown>;

/**
 * Imports `file` (an absolute path). The namespace it resolves with is a plain object of the
 * module's exports (`default` among them when it has one). Whatever the module throws while
 * loading (a syntax error, a missing import, its own error) is passed on as it is; see
 * {@link describeLoadFailure} for a one-line account of it.
 */
export async function importUserModule(file: string): Promise<Namespace> {
  const copy = await runningCopy();
  const jiti = createJiti(file, { virtualModules: { ...copy.modules } });
  const loaded = await jiti.import<unknown>(file);
  return plain(loaded);
}

/**
 * jiti hands back a Proxy that also answers with the default export's members; the commands read
 * exports as Node would give them, so only the module's own enumerable exports are kept. A
 * CommonJS module that exports a function (`module.exports = () => registry`) has it as `default`.
 */
function plain(loaded: unknown): Namespace {
  if (typeof loaded !== 'object' || loaded === null) return { default: loaded };
  const ns: Namespace = {};
  for (const key of Object.keys(loaded)) ns[key] = (loaded as Namespace)[key];
  return ns;
}
