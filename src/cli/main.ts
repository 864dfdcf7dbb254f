#!/usr/bin/env node
/**
 * The `spane` executable (dist/cli.js). Exits with the command's code once it is done, so
 * connections a workflow module left open cannot keep the process alive.
 *
 * @module
 */
import module from 'node:module';

// Node ≥ 22.1 keeps the compiled code of the modules it loads on disk (in the temp folder, or
// NODE_COMPILE_CACHE): a later start skips compiling SPANE, BullMQ and PGlite's JavaScript. It
// applies to modules loaded after this call, hence the dynamic imports below.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

// No top-level await: the build also emits a CommonJS copy of this entry.
void Promise.all([import('./io.js'), import('./program.js')])
  .then(([{ processIO }, { runCli }]) => runCli(process.argv.slice(2), processIO()))
  .then((code) => process.exit(code));
