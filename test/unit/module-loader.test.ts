/**
 * The pieces of the user-module loader that need no process of their own: which specifiers mean
 * the running copy and what each answers, and the one-line account of a load failure. The loader
 * itself is tested through the built binary in test/integration/module-loading.test.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeLoadFailure } from '../../src/runtime/module-loader/load-failure.js';
import { packageRoot, runningCopy, SUBPATH_EXPORTS } from '../../src/runtime/module-loader/running-copy.js';
import * as spane from '../../src/index.js';

const root = path.resolve(import.meta.dirname, '../..');

describe('the running copy', () => {
  it('is this package: `spane` its whole namespace, each subpath export its own part, with the same classes', async () => {
    expect(packageRoot(path.join(root, 'src/runtime/module-loader/running-copy.ts'))).toBe(root);
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    // `spane/register` is a loader hook (node --import spane/register), not a part of the API.
    const subpaths = Object.keys(pkg.exports).filter((k) => k !== '.' && k !== './package.json' && k !== './register');
    expect([...SUBPATH_EXPORTS].sort()).toEqual([...subpaths].sort());
    const copy = await runningCopy();
    expect(Object.keys(copy.modules).sort()).toEqual(['spane', ...subpaths.map((k) => `spane/${k.slice(2)}`)].sort());
    expect(copy.namespace['NonRetryableError']).toBe(spane.NonRetryableError);
    expect(copy.modules['spane']).toBe(copy.namespace);
    expect(Object.keys(copy.modules['spane/engine/registry']!).sort()).toEqual(['DEFAULT_EXTERNAL_NODES', 'NodeRegistry']);
    expect(copy.modules['spane/engine/registry']!['NodeRegistry']).toBe(spane.NodeRegistry);
    expect(copy.modules['spane/engine/workflow-engine']!['WorkflowEngine']).toBe(spane.WorkflowEngine);
    expect(copy.modules['spane/db/inmemory-store']!['InMemoryExecutionStore']).toBe(spane.InMemoryExecutionStore);
    expect(copy.modules['spane/types']).toEqual({});
    expect(copy.modules['spane/dsl']!['workflow']).toBe(spane.workflow);
    // Every runtime export of a subpath is the main entry's export of that name.
    for (const [specifier, ns] of Object.entries(copy.modules)) {
      for (const [name, value] of Object.entries(ns)) expect(value, `${specifier} ${name}`).toBe((spane as Record<string, unknown>)[name]);
    }
  });
});

describe('describeLoadFailure', () => {
  const cwd = '/app';

  it('names the position of a syntax error jiti reports, relative to the working directory', () => {
    const err = new Error('ParseError: Unexpected token  \n /app/flows/bad.ts:2:18');
    expect(describeLoadFailure(err, cwd)).toBe('syntax error: Unexpected token (flows/bad.ts:2:18)');
  });

  it("names the position from Node's own syntax error stack, without its code frame", () => {
    const err = new SyntaxError("Unexpected token ';'");
    err.stack =
      "file:///app/bad.mjs:2\nexport const y = {;\n                  ^\n\nSyntaxError: Unexpected token ';'\n    at ModuleLoader.moduleStrategy (node:internal/modules/esm/translators:168:18)";
    expect(describeLoadFailure(err, cwd)).toBe("syntax error: Unexpected token ';' (bad.mjs:2)");
  });

  it('names the importer of a missing module, and not the require stack', () => {
    const err = Object.assign(new Error("Cannot find module './helpers.js'\nRequire stack:\n- /app/flows.ts\n- /app/index.ts"), { code: 'MODULE_NOT_FOUND' });
    expect(describeLoadFailure(err, cwd)).toBe("Cannot find module './helpers.js' (imported by flows.ts)");
  });

  it("names the first frame in the user's files, skipping Node's, packages' and SPANE's own", () => {
    const err = new TypeError('bad config');
    err.stack = [
      'TypeError: bad config',
      `    at defineNode (${path.join(root, 'dist/chunk-X.js')}:10:5)`,
      '    at Object.<anonymous> (/app/node_modules/lib/index.js:3:1)',
      '    at /app/config.ts:4:9',
      '    at node:internal/modules/run_main:1:1',
    ].join('\n');
    expect(describeLoadFailure(err, cwd)).toBe('TypeError: bad config (at config.ts:4:9)');
  });

  it('keeps paths outside the working directory absolute, and copes with thrown non-errors', () => {
    const err = new Error('nope');
    err.stack = 'Error: nope\n    at file:///elsewhere/mod.mjs:1:7';
    expect(describeLoadFailure(err, cwd)).toBe('nope (at /elsewhere/mod.mjs:1:7)');
    expect(describeLoadFailure('a string', cwd)).toBe('threw "a string" while loading');
  });
});
