#!/usr/bin/env node
/**
 * The `spane` executable (dist/cli.js). Exits with the command's code once it is done, so
 * connections a workflow module left open cannot keep the process alive.
 *
 * @module
 */
import module from 'node:module';
import v8 from 'node:v8';

// Node ≥ 22.1 keeps the compiled code of the modules it loads on disk (in the temp folder, or
// NODE_COMPILE_CACHE): a later start skips compiling SPANE, BullMQ and PGlite's JavaScript. It
// applies to modules loaded after this call, hence the dynamic imports below.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

// `spane run` is one execution, most of whose start is V8 compiling PGlite's WebAssembly (when
// the backend is embedded): Liftoff alone, without the optimizing tier, halves it and its memory.
// Set before any module that compiles WebAssembly is loaded; other commands run for long, and
// keep optimized code.
if (process.argv[2] === 'run') v8.setFlagsFromString('--liftoff-only');

// A reader that went away (`spane run … | head -1`, a closed terminal) makes the next write fail
// with EPIPE, emitted as an 'error' that would end the process mid-command, leaving a `spane run`
// execution running. The command goes on (what it prints is lost); other stream errors still end it.
const IGNORED_WRITE_ERRORS = new Set(['EPIPE', 'ERR_STREAM_DESTROYED']);
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (!IGNORED_WRITE_ERRORS.has(err.code ?? '')) throw err;
  });
}

// No top-level await: the build also emits a CommonJS copy of this entry.
void Promise.all([import('./io.js'), import('./program.js')])
  .then(([{ processIO }, { runCli }]) => runCli(process.argv.slice(2), processIO()))
  .then((code) => process.exit(code));
