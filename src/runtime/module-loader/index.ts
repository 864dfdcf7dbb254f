/**
 * # module-loader/
 *
 * Loading a user's module (a workflow module of the `spane` command, an executors module of
 * worker threads) through jiti: TypeScript or JavaScript, ESM or CommonJS, with every `spane`
 * import answered by the copy of SPANE that is running (`import-user-module.ts`,
 * `running-copy.ts`), and a one-line account of why a load failed (`load-failure.ts`).
 *
 * Entry points: `importUserModule`, `runningCopy`, `describeLoadFailure`.
 *
 * May import: no other runtime folder. `running-copy.ts` imports `src/index.ts` dynamically, on
 * purpose: the running copy's namespace is the public API itself, loaded after everything else.
 *
 * Imported by: sandbox/ (`load-module.ts`) and `src/cli`, by file. Rules and diagram:
 * docs/architecture.md.
 *
 * @module
 */
export { importUserModule } from './import-user-module.js';
export { describeLoadFailure } from './load-failure.js';
export { runningCopy } from './running-copy.js';
export type { RunningCopy } from './running-copy.js';
