/**
 * Where SPANE's own sandbox files are, whether SPANE runs from its TypeScript sources (tests,
 * examples) or from the built package (`dist/`).
 *
 * @module
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidConfigError } from '../../errors.js';

/** This module's file: `src/runtime/sandbox/paths.ts`, or the bundle in `dist/` it was built into. */
function here(): string {
  return fileURLToPath(import.meta.url);
}

/** Whether SPANE is running from its TypeScript sources. */
export function runningFromSource(file = here()): boolean {
  return /\.(c|m)?ts$/.test(file);
}

/**
 * SPANE's default processor file: `processor.ts` beside this module in the sources, or
 * `dist/sandbox-processor.js` (`.cjs` for the CommonJS build) beside the bundle. Throws an
 * {@link InvalidConfigError} when it is missing (a partial build).
 */
export function defaultProcessorFile(file = here()): string {
  const dir = path.dirname(file);
  const candidates = runningFromSource(file)
    ? [path.join(dir, 'processor.ts')]
    : [path.join(dir, `sandbox-processor${path.extname(file) === '.cjs' ? '.cjs' : '.js'}`), path.join(dir, 'sandbox-processor.js'), path.join(dir, 'sandbox-processor.cjs')];
  const found = candidates.find((c) => existsSync(c));
  if (found === undefined) {
    throw new InvalidConfigError(
      `SPANE's sandboxed processor was not found (looked for ${candidates.join(', ')}); rebuild the package (npm run build) or set the engine option 'processorFile'`,
    );
  }
  return found;
}

/** The JavaScript bootstrap that loads a TypeScript processor through jiti in a worker thread. */
export function tsBootstrapFile(file = here()): string {
  const dir = path.dirname(file);
  const bootstrap = runningFromSource(file) ? path.join(dir, 'ts-processor.mjs') : path.join(dir, 'sandbox-ts-processor.mjs');
  if (!existsSync(bootstrap)) throw new InvalidConfigError(`SPANE's TypeScript processor bootstrap is missing at ${bootstrap}; rebuild the package (npm run build)`);
  return bootstrap;
}
