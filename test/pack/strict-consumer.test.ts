/**
 * The packed package's declarations, as a strict TypeScript project sees them: `npm pack`, the
 * tarball extracted into a consumer project's node_modules (its dependencies linked from this
 * repository's node_modules, so no network), and the DSL type tests (every test/types/*.test-d.ts
 * and their helpers) copied there with their `../../src/...` imports turned into `spane`. They
 * are compiled with `skipLibCheck: false`, once per module setting a consumer may use: every
 * `@ts-expect-error` must meet its promised error (see test/type-expectations.ts), and nothing
 * else may fail, in SPANE's declarations, its dependencies' or the tests.
 *
 * `vitest` is answered by a small stand-in (`describe`, `it` and expect-type's `expectTypeOf`,
 * which is what vitest re-exports): vitest is no dependency of the package, and its CommonJS
 * declarations do not load under node16.
 *
 * It uses the build in dist/ (building it when missing) and fails when dist/ is older than src/.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers.js';
import { allDiagnostics, checkExpectations, expectationsOf, programWithoutExpectations } from '../type-expectations.js';
import type { Expectation } from '../type-expectations.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const typesDir = join(root, 'test/types');

/** The module settings a consumer may compile with, each in a folder of its own (`type` of its package.json). */
const CONSUMERS = [
  { name: 'node16, ES module', type: 'module', module: 'node16', moduleResolution: 'node16' },
  { name: 'node16, CommonJS', type: 'commonjs', module: 'node16', moduleResolution: 'node16' },
  { name: 'nodenext, ES module', type: 'module', module: 'nodenext', moduleResolution: 'nodenext' },
  { name: 'nodenext, CommonJS', type: 'commonjs', module: 'nodenext', moduleResolution: 'nodenext' },
  { name: 'bundler', type: 'module', module: 'esnext', moduleResolution: 'bundler' },
] as const;

/** Stands in for vitest in the consumer (see the header). */
const VITEST_SHIM = [
  "export { expectTypeOf } from 'expect-type';",
  "export type { ExpectTypeOf } from 'expect-type';",
  '/** A test suite. */',
  'export declare function describe(name: string, body: () => void): void;',
  '/** A test. */',
  'export declare function it(name: string, body: () => void | Promise<void>): void;',
  'export declare const test: typeof it;',
  '/** A run-time assertion; the type tests are only compiled. */',
  'export declare function expect(actual: unknown): { toEqual(expected: unknown): void; toBe(expected: unknown): void };',
].join('\n');

/** The spec's imports from `spane` and its subpaths (SPANE-README.md), with the stores' structural types. */
const SPEC_IMPORTS = [
  "import { DrizzleStore, InMemoryExecutionStore, NodeRegistry, SqlBackend, WorkflowEngine, defineNode, migratePglite, workflow } from 'spane';",
  "import type { CircuitBreaker, DrizzlePgDatabase, PgliteClient } from 'spane';",
  "import { WorkflowEngine as SubpathEngine } from 'spane/engine/workflow-engine';",
  "import { NodeRegistry as SubpathRegistry } from 'spane/engine/registry';",
  "import type { EngineConfig } from 'spane/engine/config';",
  "import { InMemoryExecutionStore as SubpathStore } from 'spane/db/inmemory-store';",
  "import { workflow as dslWorkflow, defineNode as dslDefineNode, WorkflowInputError } from 'spane/dsl';",
  "import type { BuiltWorkflow } from 'spane/dsl';",
  "import type { ExecutionContext, ExecutionResult, INodeExecutor, WorkflowDefinition } from 'spane/types';",
  'const config: EngineConfig = { useWorkerThreads: true, workerConcurrency: 10 };',
  'class Noop implements INodeExecutor { async execute(_: ExecutionContext): Promise<ExecutionResult> { return { success: true }; } }',
  "const definition: WorkflowDefinition = { id: 'w', name: 'w', entryNodeId: 'a', nodes: [{ id: 'a', type: 'noop', config: {}, inputs: [], outputs: [] }] };",
  'export type Structural = [CircuitBreaker, DrizzlePgDatabase, PgliteClient];',
  'export const parts = [config, new Noop(), definition, DrizzleStore, InMemoryExecutionStore, NodeRegistry, SqlBackend, WorkflowEngine, defineNode, migratePglite, workflow];',
  'export const subpaths = [SubpathEngine, SubpathRegistry, SubpathStore, dslWorkflow, dslDefineNode, WorkflowInputError];',
  // One function for the type checker too: a workflow built through spane/dsl is spane's BuiltWorkflow.
  "export const viaDsl: BuiltWorkflow = dslWorkflow('d').then('n', dslDefineNode({ type: 'n', run: () => 1 })()).build();",
].join('\n');

/** A type test's text in the consumer: the sources' barrels become `spane`, vitest the stand-in. */
function forConsumer(source: string): string {
  return source.replace(/(['"])(?:\.\.\/)+src\/[^'"]*\1/g, "'spane'").replace(/(['"])vitest\1/g, "'./vitest-shim.js'");
}

/** The newest file under `dir`, and its modification time. */
function newest(dir: string): { file: string; mtime: number } {
  let best = { file: dir, mtime: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const mtime = statSync(file).mtimeMs;
    if (mtime > best.mtime) best = { file, mtime };
  }
  return best;
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

let work = '';
/** The copied type tests of each consumer folder, and the original each copy stands for. */
const copies = new Map<string, string>();

beforeAll(() => {
  ensureBuilt(root, join(root, 'dist/cli.js'));
  const src = newest(join(root, 'src'));
  const dts = statSync(join(root, 'dist/index.d.ts')).mtimeMs;
  if (src.mtime > dts) throw new Error(`dist/ is older than ${relative(root, src.file)}: run \`npm run build\` first`);

  work = mkdtempSync(join(tmpdir(), 'spane-consumer-'));
  const [{ filename }] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], root)) as [{ filename: string }];
  const modules = join(work, 'node_modules');
  mkdirSync(join(modules, 'spane'), { recursive: true });
  run('tar', ['-xzf', join(work, filename), '-C', join(modules, 'spane'), '--strip-components=1'], work);

  // What an install of the tarball would bring, linked from this repository: the package's
  // dependencies, plus the Node types its declarations use (node:http) and expect-type.
  const manifest = JSON.parse(readFileSync(join(modules, 'spane/package.json'), 'utf8')) as { dependencies?: object; peerDependencies?: object };
  const linked = [...Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }), '@types/node', 'expect-type'];
  for (const name of linked) {
    mkdirSync(dirname(join(modules, name)), { recursive: true });
    symlinkSync(join(root, 'node_modules', name), join(modules, name), 'dir');
  }

  const tests = readdirSync(typesDir).filter((f) => f.endsWith('.ts'));
  for (const consumer of CONSUMERS) {
    const dir = join(work, consumer.type === 'module' ? 'esm' : 'cjs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${consumer.type}`, private: true, type: consumer.type }));
    writeFileSync(join(dir, 'vitest-shim.ts'), VITEST_SHIM);
    writeFileSync(join(dir, 'spec-imports.ts'), SPEC_IMPORTS);
    for (const f of tests) {
      const copy = join(dir, f);
      copies.set(copy, join(typesDir, f));
      writeFileSync(copy, forConsumer(readFileSync(join(typesDir, f), 'utf8')));
    }
  }
}, 180_000);

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

describe('the packed package in a strict consumer (skipLibCheck: false)', () => {
  it('picks up every type test', () => {
    const tests = readdirSync(typesDir).filter((f) => f.endsWith('.test-d.ts'));
    expect(tests.length).toBeGreaterThan(3);
    expect([...copies.values()].filter((f) => f.endsWith('.test-d.ts')).length).toBe(tests.length * 2);
    // Only the barrels: a type test that needs a module the package does not export fails here.
    const internal = tests.filter((f) => /from '(?:\.\.\/)+src\/(?!index\.js'|dsl\/index\.js')/.test(readFileSync(join(typesDir, f), 'utf8')));
    expect(internal).toEqual([]);
  });

  it.each(CONSUMERS)(
    '$name: every promised error, and no other',
    (consumer) => {
      const dir = join(work, consumer.type === 'module' ? 'esm' : 'cjs');
      const files = readdirSync(dir).filter((f) => f.endsWith('.test-d.ts') || f === 'spec-imports.ts');
      const options: ts.CompilerOptions = {
        ...ts.convertCompilerOptionsFromJson(
          {
            module: consumer.module,
            moduleResolution: consumer.moduleResolution,
            target: 'es2022',
            lib: ['es2023'],
            types: ['node'],
            strict: true,
            noUncheckedIndexedAccess: true,
          },
          dir,
        ).options,
        skipLibCheck: false,
        noEmit: true,
      };
      const roots = files.map((f) => join(dir, f));
      const program = programWithoutExpectations(roots, options, [...copies.keys()]);
      const expectations: Expectation[] = [...copies.keys()].filter((f) => f.startsWith(`${dir}/`)).flatMap((f) => expectationsOf(f, readFileSync(f, 'utf8')));
      const name = (file: string) => {
        const original = copies.get(resolve(file));
        if (original !== undefined) return relative(root, original);
        const real = resolve(file);
        return real.startsWith(work) ? relative(work, real) : real.replace(/^.*\/node_modules\//, 'node_modules/');
      };
      const problems = checkExpectations(expectations, allDiagnostics(program), { unexpected: true, name });
      expect(expectations.length).toBeGreaterThan(20);
      expect(problems.join('\n')).toBe('');
    },
    120_000,
  );
});
