/**
 * `spane/register`: Node runs TypeScript files (and `import` syntax in a CommonJS project), on
 * every Node version the package supports, Node 20 included. Load it before the program:
 * `node --import spane/register app.ts` (or `--require`). `spane init` writes its test script
 * with it: `node --import spane/register --test test/hello.test.ts`.
 *
 * How: a `.ts`, `.cts` or `.mts` file is compiled by jiti (types stripped, `import`/`export`
 * turned into CommonJS, line numbers kept) and run by Node's CommonJS loader, whether it is
 * required or imported (register-hooks.mjs hands imported ones to that loader). So a project's
 * TypeScript files and the packages they import load once each, as they would in CommonJS:
 * `import { ... } from 'spane'` in two files gets one copy. Top-level await is not available in
 * files loaded this way (`spane run` has it: it loads workflow modules in jiti's async mode).
 * Node's own type stripping (Node 22.18+) is replaced by this one, so every version behaves alike.
 *
 * Plain JavaScript on purpose: tsup copies it to dist/register.cjs, and register.mjs (the
 * `import` condition) loads it (see tsup.config.ts).
 */
'use strict';
const { readFileSync } = require('node:fs');
const Module = require('node:module');
const { pathToFileURL } = require('node:url');
const { createJiti } = require('jiti');

const jiti = createJiti(__filename);

/** Module._extensions handler: compile with jiti, then run as CommonJS. */
function compileTypeScript(module, filename) {
  const code = jiti.transform({ source: readFileSync(filename, 'utf8'), filename, ts: true, retainLines: true });
  module._compile(code, filename);
}

for (const ext of ['.ts', '.cts', '.mts']) Module._extensions[ext] = compileTypeScript;

// Imported files go through the ESM loader first: its hooks hand TypeScript to the code above.
Module.register('./register-hooks.mjs', pathToFileURL(__filename));
