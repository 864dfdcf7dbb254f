/**
 * Module hooks of `spane/register` (see register.mjs): an imported TypeScript file is handed to
 * Node's CommonJS loader (format `commonjs`, no source), where register.mjs compiles it with jiti.
 * Everything else loads as Node would load it.
 */
const TYPESCRIPT = /\.(?:c|m)?ts$/;

/** Node's `load` hook. */
export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !TYPESCRIPT.test(new URL(url).pathname)) return nextLoad(url, context);
  return { format: 'commonjs', shortCircuit: true };
}
