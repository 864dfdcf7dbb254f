import { cp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

export default defineConfig({
  // The sandboxed processor is its own entry: BullMQ loads it by path in each worker thread
  // (useWorkerThreads), as dist/sandbox-processor.js (ESM) or .cjs.
  // The `spane` command (bin) is one more entry of the same build: its ESM output shares chunks
  // with index.js, so a workflow module that imports 'spane' and the command use one copy of the
  // engine. It keeps its shebang, and tsup makes it executable.
  entry: { index: 'src/index.ts', 'sandbox-processor': 'src/runtime/sandbox/processor.ts', cli: 'src/cli/main.ts' },
  format: ['esm', 'cjs'],
  // register: types only (its code is the plain register.cjs and register.mjs copied below).
  dts: { entry: { index: 'src/index.ts', 'sandbox-processor': 'src/runtime/sandbox/processor.ts', register: 'src/cli/register-types.ts' } },
  define: { SPANE_VERSION: JSON.stringify(version) },
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  // DrizzleStore finds its SQL migrations beside the running module: `import.meta.url` in ESM,
  // and through this shim in the CommonJS build.
  shims: true,
  async onSuccess() {
    await cp('src/store/drizzle/migrations', 'dist/migrations', { recursive: true });
    // Loads a TypeScript processorFile through jiti in a worker thread (plain JavaScript on purpose).
    await cp('src/runtime/sandbox/ts-processor.mjs', 'dist/sandbox-ts-processor.mjs');
    // `node --import spane/register`: TypeScript for Node's own loader (the test script of `spane init`).
    await cp('src/cli/register.cjs', 'dist/register.cjs');
    await cp('src/cli/register.mjs', 'dist/register.mjs');
    await cp('src/cli/register-hooks.mjs', 'dist/register-hooks.mjs');
    // The command is ESM only (`bin` points at cli.js); one config builds both formats so that
    // cli.js shares chunks with index.js, which leaves a CommonJS copy nobody runs.
    await rm('dist/cli.cjs', { force: true });
    await rm('dist/cli.cjs.map', { force: true });
  },
});
