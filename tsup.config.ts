import { cp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { defineConfig } from 'tsup';
import { buildDashboard } from './scripts/build-dashboard.js';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

/** The entries of the subpath exports in package.json, by output path (`dist/engine/registry.js`). */
const subpaths = {
  types: 'src/subpaths/types.ts',
  'engine/workflow-engine': 'src/subpaths/engine/workflow-engine.ts',
  'engine/registry': 'src/subpaths/engine/registry.ts',
  'engine/config': 'src/subpaths/engine/config.ts',
  'db/inmemory-store': 'src/subpaths/db/inmemory-store.ts',
  dsl: 'src/subpaths/dsl.ts',
  testing: 'src/subpaths/testing.ts',
};

export default defineConfig({
  // The sandboxed processor is its own entry: BullMQ loads it by path in each worker thread
  // (useWorkerThreads), as dist/sandbox-processor.js (ESM) or .cjs.
  // The `spane` command (bin) is one more entry of the same build: its ESM output shares chunks
  // with index.js, so a workflow module that imports 'spane' and the command use one copy of the
  // engine. It keeps its shebang, and tsup makes it executable.
  // The subpath exports (`spane/engine/registry`, ...) are entries too, each exporting its own
  // part of the API. In ESM they share chunks with index.js, so `NodeRegistry` is one class
  // whichever path imported it. tsup splits only ESM: its CommonJS splitting goes through
  // sucrase, which renames classes (`NodeRegistry.name === '_class'`, errors named `_class6`).
  // So each CommonJS subpath file is replaced below by one that re-exports from index.cjs.
  entry: { index: 'src/index.ts', 'sandbox-processor': 'src/runtime/sandbox/processor.ts', cli: 'src/cli/main.ts', ...subpaths },
  format: ['esm', 'cjs'],
  // register: types only (its code is the plain register.cjs and register.mjs copied below).
  dts: { entry: { index: 'src/index.ts', 'sandbox-processor': 'src/runtime/sandbox/processor.ts', register: 'src/cli/register-types.ts', ...subpaths } },
  define: { SPANE_VERSION: JSON.stringify(version) },
  // Maps point into src/ by path without embedding the sources: they halve the tarball, and a
  // stack trace still names the TypeScript file and line.
  sourcemap: true,
  esbuildOptions(options) {
    options.sourcesContent = false;
  },
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
    for (const subpath of Object.keys(subpaths)) await reexportFromIndex(subpath);
    // The dashboard's browser bundle, read at run time beside the module (src/dashboard/assets.ts).
    await buildDashboard(resolve('dist', 'dashboard'), resolve('.'));
  },
});

/**
 * Replaces the standalone CommonJS bundle of a subpath (a second copy of every class it holds)
 * by a file that takes the same names from index.cjs. The names are those the bundle exports.
 */
async function reexportFromIndex(subpath: string): Promise<void> {
  const file = resolve('dist', `${subpath}.cjs`);
  const names = Object.keys(createRequire(import.meta.url)(file) as object).filter((n) => n !== '__esModule');
  const up = '../'.repeat(subpath.split('/').length - 1) || './';
  const lines = [
    '"use strict";',
    `// spane/${subpath}: its part of index.cjs, the same classes as require('spane').`,
    'Object.defineProperty(exports, "__esModule", { value: true });',
    `const spane = require("${up}index.cjs");`,
    ...names.map((n) => `exports.${n} = spane.${n};`),
  ];
  await writeFile(file, `${lines.join('\n')}\n`);
  await rm(`${file}.map`, { force: true });
}
