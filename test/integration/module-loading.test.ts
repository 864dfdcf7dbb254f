/**
 * How the built `spane` binary (dist/cli.js) and worker threads load user modules, in throwaway
 * projects whose `node_modules/spane` links to this repository: an ESM project
 * (`"type": "module"`) and a default `npm init` (CommonJS) project, with TypeScript and
 * JavaScript files of every flavour. A module's `import ... from 'spane'` must get the very copy
 * that runs it, so a `NonRetryableError` it throws is not retried; load errors are one line.
 *
 * CI builds before it tests (.ci/run); when dist/cli.js is missing, this file builds it first.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys, ensureBuilt, REDIS_URL, runNode } from '../helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(root, 'dist/cli.js');
const prefix = `{spane-load-${randomUUID().slice(0, 8)}}`;
const dirs: string[] = [];

const node = runNode;

/** A temp project: its package.json, the files given, and `node_modules/spane` linking here. */
function project(type: 'module' | 'commonjs', files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), `spane-load-${type}-`));
  dirs.push(dir);
  // `npm init` writes no "type" (CommonJS); an ESM project says so.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `app-${type}`, version: '1.0.0', ...(type === 'module' && { type }) }));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules/spane'), 'dir');
  // The DSL's schemas; the same zod as SPANE's, as an application would have it.
  symlinkSync(join(root, 'node_modules/zod'), join(dir, 'node_modules/zod'), 'dir');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** The lines the executors appended to `runs.txt`, sorted: one per attempt. */
function runs(dir: string): string[] {
  const file = join(dir, 'runs.txt');
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').sort() : [];
}

// Each node kind records an attempt, then throws; all continue on failure so the chain runs on.
const RECORD = `(name) => appendFileSync(join(process.env.SPANE_RUNS_DIR, 'runs.txt'), name + '\\n')`;
const POLICY = '{ retryPolicy: { maxAttempts: 3 }, continueOnFail: true }';

/** The entry module: TypeScript with ESM syntax and a top-level await; `flavours` are the other files' kinds. */
function entry(imports: string[], flavours: string[]): string {
  return [
    "import { appendFileSync } from 'node:fs';",
    "import { join } from 'node:path';",
    "import { NonRetryableError, defineNode, workflow } from 'spane';",
    "import { z } from 'zod';",
    ...imports,
    `const record = ${RECORD};`,
    "const ts = defineNode({ type: 'ts-refuses', run: (): never => { record('ts'); throw new NonRetryableError('ts refuses'); } });",
    // The DSL's own NodeOutputError (a result that does not match the schema) is not retried either.
    "const badOutput = defineNode({ type: 'bad-output', output: z.object({ n: z.number() }), run: () => { record('output'); return { n: 'not a number' } as never; } });",
    // The control: a plain Error is retried, so a count that stays at 1 above means something.
    "const retried = defineNode({ type: 'retried', run: (): never => { record('retried'); throw new Error('try again'); } });",
    'await new Promise((r) => setTimeout(r, 1)); // top-level await',
    "export const flow = workflow('load-once')",
    `  .node('ts', ts().with(${POLICY}))`,
    ...flavours.map((f) => `  .then('${f}', ${f}Refuses().with(${POLICY}))`),
    `  .then('output', badOutput().with(${POLICY}))`,
    `  .then('retried', retried().with(${POLICY}))`,
    '  .build();',
    '',
  ].join('\n');
}

/** A kind in CommonJS JavaScript (`require`), as `<name>Refuses`. */
function cjsKind(name: string): string {
  return [
    "const { appendFileSync } = require('node:fs');",
    "const { join } = require('node:path');",
    "const { NonRetryableError, defineNode } = require('spane');",
    `const record = ${RECORD};`,
    `exports.${name}Refuses = defineNode({ type: '${name}-refuses', run: () => { record('${name}'); throw new NonRetryableError('${name} refuses'); } });`,
    '',
  ].join('\n');
}

/** A kind in ESM syntax (JavaScript or TypeScript), as `<name>Refuses`. */
function esmKind(name: string): string {
  return [
    "import { appendFileSync } from 'node:fs';",
    "import { join } from 'node:path';",
    "import { NonRetryableError, defineNode } from 'spane';",
    `const record = ${RECORD};`,
    `export const ${name}Refuses = defineNode({ type: '${name}-refuses', run: () => { record('${name}'); throw new NonRetryableError('${name} refuses'); } });`,
    '',
  ].join('\n');
}

const EXPECTED = (flavours: string[]) => [...flavours, 'output', 'retried', 'retried', 'retried', 'ts'].sort();

beforeAll(() => ensureBuilt(root, CLI), 180_000);

afterAll(async () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  const redis = new Redis(REDIS_URL);
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

describe('spane run: a module gets the running copy of spane', () => {
  it('in a CommonJS (npm init) project: .ts with top-level await, .cts and required .js each run a NonRetryableError (and a NodeOutputError) once', async () => {
    const flavours = ['cjs', 'cts'];
    const dir = project('commonjs', {
      'flow.ts': entry(["import { cjsRefuses } from './kinds.js';", "import { ctsRefuses } from './typed.cjs';"], flavours),
      'kinds.js': cjsKind('cjs'),
      'typed.cts': esmKind('cts'),
    });
    const r = await node([CLI, 'run', 'flow.ts'], dir, { SPANE_RUNS_DIR: dir });
    expect(r.err).toContain('load-once: execution');
    expect(runs(dir)).toEqual(EXPECTED(flavours));
  }, 120_000);

  it('in an ESM project: .ts with top-level await, .mts and imported .mjs each run a NonRetryableError (and a NodeOutputError) once', async () => {
    const flavours = ['mjs', 'mts', 'cjs'];
    const dir = project('module', {
      'flow.ts': entry(["import { mjsRefuses } from './kinds.mjs';", "import { mtsRefuses } from './typed.mjs';", "import { cjsRefuses } from './old.cjs';"], flavours),
      'kinds.mjs': esmKind('mjs'),
      'typed.mts': esmKind('mts'),
      'old.cjs': cjsKind('cjs'),
    });
    const r = await node([CLI, 'run', 'flow.ts'], dir, { SPANE_RUNS_DIR: dir });
    expect(r.err).toContain('load-once: execution');
    expect(runs(dir)).toEqual(EXPECTED(flavours));
  }, 120_000);
});

describe('spane: load errors are one line naming the file', () => {
  const cases: [string, string, Record<string, string>, RegExp][] = [
    ['a missing module', 'nope.ts', {}, /^spane: nope\.ts: no such file/],
    [
      'an import that does not exist',
      'imports.ts',
      { 'imports.ts': "import { x } from './helpers.js';\nexport const y = x;\n" },
      /^spane: imports\.ts: .*\.\/helpers\.js.*imports\.ts/,
    ],
    ['a syntax error', 'bad.ts', { 'bad.ts': 'export const x = 1;\nexport const y = {;\n' }, /^spane: bad\.ts: .*bad\.ts:2/],
    [
      'a module that throws on import',
      'throws.ts',
      { 'throws.ts': "export const x = 1;\nthrow new Error('no config here');\n" },
      /^spane: throws\.ts: .*no config here.*throws\.ts:2/,
    ],
    [
      'a TypeScript module with top-level await that throws',
      'tla.ts',
      { 'tla.ts': "await Promise.resolve();\nexport const x = 1;\nthrow new Error('late');\n" },
      /^spane: tla\.ts: .*late.*tla\.ts:3/,
    ],
  ];

  it.each(cases)('%s in a CommonJS project', async (_what, file, files, expected) => {
    const dir = project('commonjs', files);
    const r = await node([CLI, 'graph', file], dir);
    expect(r.code).toBe(1);
    const lines = `${r.out}${r.err}`.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(expected);
    expect(lines[0]).not.toMatch(/data:|esbuild|node:internal/);
  });

  it("validate reports it as the file's line; --verbose (before or after the command) adds the stack", async () => {
    const dir = project('module', { 'throws.ts': "export const x = 1;\nthrow new Error('no config here');\n" });
    const plain = await node([CLI, 'validate', 'throws.ts'], dir);
    expect(plain.code).toBe(1);
    expect(plain.out.trim()).toBe('throws.ts: could not be loaded: no config here (at throws.ts:2:7)');
    expect(plain.err).toBe('');
    for (const args of [
      ['--verbose', 'validate', 'throws.ts'],
      ['graph', 'throws.ts', '--verbose'],
    ]) {
      const r = await node([CLI, ...args], dir);
      expect(r.code).toBe(1);
      expect(r.out + r.err).toMatch(/no config here[\s\S]*\n\s+at .*throws\.ts:2/);
    }
  });

  it('a JSON workflow module still loads next to them', async () => {
    const dir = project('commonjs', {
      'one.json': JSON.stringify({ id: 'j', name: 'j', entryNodeId: 'a', nodes: [{ id: 'a', type: 'noop', config: {}, inputs: [], outputs: [] }] }),
    });
    const r = await node([CLI, 'graph', 'one.json'], dir);
    expect(r.code).toBe(0);
  });
});

describe("worker threads: an executors module gets the thread's copy of spane", () => {
  const EXECUTORS_CJS = [
    "const { appendFileSync } = require('node:fs');",
    "const { join } = require('node:path');",
    "const { NodeRegistry, NonRetryableError } = require('spane');",
    `const record = ${RECORD};`,
    "exports.registry = new NodeRegistry().register('refuses', async () => { record('thread'); throw new NonRetryableError('refused in a thread'); });",
    '',
  ].join('\n');
  const EXECUTORS_TS = [
    "import { appendFileSync } from 'node:fs';",
    "import { join } from 'node:path';",
    "import { NodeRegistry, NonRetryableError } from 'spane';",
    `const record = ${RECORD};`,
    'await Promise.resolve();',
    "export const registry = new NodeRegistry().register('refuses', async (): Promise<never> => { record('thread'); throw new NonRetryableError('refused in a thread'); });",
    '',
  ].join('\n');
  // An application of the project (using the built package) running one execution with
  // useWorkerThreads; it prints the execution's status. Its own registry only needs the type.
  const main = (executors: string, format: 'esm' | 'cjs') =>
    [
      format === 'esm'
        ? "import { Redis } from 'ioredis';\nimport { InMemoryExecutionStore, NodeRegistry, WorkflowEngine } from 'spane';"
        : "const { Redis } = require('ioredis');\nconst { InMemoryExecutionStore, NodeRegistry, WorkflowEngine } = require('spane');",
      `const executorsModule = './${executors}';`,
      '(async () => {',
      "  const registry = new NodeRegistry().register('refuses', async () => ({ success: true }));",
      `  const connection = new Redis(${JSON.stringify(REDIS_URL)}, { maxRetriesPerRequest: null });`,
      `  const engine = new WorkflowEngine({ registry, store: new InMemoryExecutionStore(), connection, config: { prefix: '${prefix}', useWorkerThreads: true, executorsModule } });`,
      "  await engine.registerWorkflow({ id: 'thread-once', name: 't', entryNodeId: 'a', nodes: [{ id: 'a', type: 'refuses', config: { retryPolicy: { maxAttempts: 3 } }, inputs: [], outputs: [] }] });",
      '  engine.startWorkers();',
      '  await engine.waitUntilReady();',
      "  const id = await engine.enqueueWorkflow('thread-once', {});",
      '  const done = await engine.waitForExecution(id, { timeoutMs: 60000 });',
      "  process.stdout.write(done.status + '\\n');",
      '  await engine.close();',
      '  connection.disconnect();',
      '})();',
      '',
    ].join('\n');

  it('CommonJS executors (require) in a CommonJS application', async () => {
    const dir = project('commonjs', { 'executors.js': EXECUTORS_CJS, 'main.js': main('executors.js', 'cjs') });
    symlinkSync(join(root, 'node_modules/ioredis'), join(dir, 'node_modules/ioredis'), 'dir');
    const r = await node(['main.js'], dir, { SPANE_RUNS_DIR: dir });
    expect(r.err).not.toContain('Error:');
    expect(r.out.trim()).toBe('failed');
    expect(runs(dir)).toEqual(['thread']);
  }, 120_000);

  it('TypeScript executors with top-level await in an ESM application', async () => {
    const dir = project('module', { 'executors.ts': EXECUTORS_TS, 'main.js': main('executors.ts', 'esm') });
    symlinkSync(join(root, 'node_modules/ioredis'), join(dir, 'node_modules/ioredis'), 'dir');
    const r = await node(['main.js'], dir, { SPANE_RUNS_DIR: dir });
    expect(r.out.trim()).toBe('failed');
    expect(runs(dir)).toEqual(['thread']);
  }, 120_000);
});
