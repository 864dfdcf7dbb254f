/**
 * `spane init`, run as the built binary (dist/cli.js) in temporary folders: what it writes, that
 * the project it writes passes its own test and runs (its node_modules links to this checkout),
 * and that it never overwrites a file. The packed tarball in empty npm projects, offline, is
 * test/pack/run.ts.
 *
 * CI builds before it tests (.ci/run); when dist/cli.js is missing, this file builds it first.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runNode } from '../helpers.js';
import type { NodeRun } from '../helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(root, 'dist/cli.js');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const FILES = ['package.json', 'tsconfig.json', 'workflows/hello.ts', 'test/hello.test.ts', 'README.md'];
// Nothing listens on port 9: the project must not need Redis or PostgreSQL.
const CLOSED = {
  REDIS_URL: 'redis://127.0.0.1:9',
  SPANE_REDIS_URL: 'redis://127.0.0.1:9',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none',
  SPANE_DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none',
};

const temps: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spane-init-'));
  temps.push(dir);
  return dir;
}

function init(cwd: string, args: string[] = []): Promise<NodeRun> {
  return runNode([CLI, 'init', ...args], cwd);
}

beforeAll(() => ensureBuilt(root, CLI), 180_000);

afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('spane init', () => {
  it('creates a missing folder with the project files and prints the next steps', async () => {
    const cwd = tempDir();
    const r = await init(cwd, ['my-app']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    for (const file of FILES) expect(existsSync(join(cwd, 'my-app', file)), file).toBe(true);
    expect(r.out).toContain('Next steps:\n  cd my-app\n  npm install\n  npm start');
    expect(r.out).toContain('npm test');
    const pkg = JSON.parse(readFileSync(join(cwd, 'my-app/package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg).toMatchObject({
      name: 'my-app',
      private: true,
      type: 'module',
      scripts: { start: 'spane run workflows/hello.ts', test: 'node --import spane/register --test test/hello.test.ts' },
      dependencies: { spane: `^${version}` },
    });
    expect((pkg['dependencies'] as Record<string, string>)['zod']).toMatch(/^\^4\./);
    const tsconfig = JSON.parse(readFileSync(join(cwd, 'my-app/tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    expect(tsconfig.compilerOptions).toMatchObject({ strict: true, module: 'nodenext', noEmit: true });
    const hello = readFileSync(join(cwd, 'my-app/workflows/hello.ts'), 'utf8');
    for (const part of ["from 'spane'", 'defineNode(', 'workflow(', 'export const input']) expect(hello).toContain(part);
  });

  it('writes a project whose test passes and whose start script runs the workflow, without Redis or PostgreSQL', async () => {
    const dir = tempDir();
    expect((await init(dir)).code).toBe(0);
    // As after `npm install`: spane is this checkout (its own dependencies resolve from there).
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules/spane'), 'dir');
    symlinkSync(join(root, 'node_modules/zod'), join(dir, 'node_modules/zod'), 'dir');
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    // The scripts as npm runs them: `node ...` and the `spane` bin.
    const test = await runNode(pkg.scripts['test']!.split(' ').slice(1), dir, CLOSED);
    // node --test reports `# pass 2` (TAP, Node 20's default when not on a terminal) or `ℹ pass 2` (spec, Node 23+).
    expect(test.out).toMatch(/^(# |ℹ )pass 2$/m);
    expect(test.code).toBe(0);
    const start = await runNode([CLI, ...pkg.scripts['start']!.split(' ').slice(1)], dir, CLOSED);
    expect(start.err).toContain('hello: completed in');
    expect(start.code).toBe(0);
    expect(JSON.parse(start.out)).toEqual({ greeting: 'HELLO, WORLD!' });
  }, 180_000);

  it("completes npm init's package.json: keeps its fields and type, replaces the placeholder test script", async () => {
    const dir = tempDir();
    const npmInit = {
      name: 'legacy',
      version: '1.0.0',
      main: 'index.js',
      scripts: { test: 'echo "Error: no test specified" && exit 1', lint: 'eslint .' },
      license: 'ISC',
      type: 'commonjs',
      dependencies: { zod: '^4.1.0' },
    };
    writeFileSync(join(dir, 'package.json'), JSON.stringify(npmInit, null, 2));
    const r = await init(dir, ['.']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('updated package.json (added scripts.start, scripts.test, dependencies.spane, dependencies.ioredis)');
    expect(r.out).not.toContain('  cd ');
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as typeof npmInit;
    expect(pkg).toMatchObject({ name: 'legacy', main: 'index.js', license: 'ISC', type: 'commonjs' });
    expect(pkg.scripts).toEqual({ test: 'node --import spane/register --test test/hello.test.ts', lint: 'eslint .', start: 'spane run workflows/hello.ts' });
    expect(pkg.dependencies.zod).toBe('^4.1.0');
  });

  it('refuses to overwrite: lists every file that exists and every script of its own, writes nothing, exits 1', async () => {
    const dir = tempDir();
    const pkgText = JSON.stringify({ name: 'mine', scripts: { start: 'node server.js' } });
    writeFileSync(join(dir, 'package.json'), pkgText);
    writeFileSync(join(dir, 'README.md'), '# mine\n');
    mkdirSync(join(dir, 'workflows'));
    writeFileSync(join(dir, 'workflows/hello.ts'), 'export {};\n');
    const r = await init(dir);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain('spane: init: nothing written, because these exist already in .:');
    for (const line of ['  workflows/hello.ts', '  README.md', '  package.json: scripts.start ("node server.js")']) expect(r.err).toContain(`${line}\n`);
    expect(existsSync(join(dir, 'tsconfig.json'))).toBe(false);
    expect(existsSync(join(dir, 'test'))).toBe(false);
    expect(readFileSync(join(dir, 'package.json'), 'utf8')).toBe(pkgText);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe('# mine\n');
  });

  it('refuses a package.json that is not JSON, and a target that is a file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'package.json'), '{ nope');
    const bad = await init(dir);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/ {2}package\.json \(not a JSON object: .+\)\n/);
    expect(existsSync(join(dir, 'README.md'))).toBe(false);
    writeFileSync(join(dir, 'file.txt'), 'x');
    const file = await init(dir, ['file.txt']);
    expect(file.code).toBe(1);
    expect(file.err.trim()).toBe('spane: init: file.txt exists and is not a folder');
  });

  it('--help describes the command', async () => {
    const r = await runNode([CLI, 'init', '--help'], root);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: spane init \[options\] \[dir\]/);
    expect(r.out).toContain('Never overwrites a file');
  });
});
