/**
 * The packed package, as a new user gets it: `npm pack`, `npm install <tarball>` into an empty
 * folder, then `npx spane run examples/quickstart.ts` on a copy of the quick start there, with
 * REDIS_URL and DATABASE_URL pointing at closed ports to show that no service is needed.
 *
 * Then the first hour of a user, with no network at all (each step in its own network namespace,
 * `unshare -n`, loopback up: no registry, Redis or PostgreSQL is reachable), in an empty
 * CommonJS project (`npm init -y`) and an empty ESM one (`"type": "module"`): install the tarball
 * and zod from npm's cache, `npx spane init`, then the steps it prints (`npm install`, `npm test`,
 * `npm start`), a type check of what it wrote, and `npx spane run` of the README's first
 * TypeScript example that imports 'spane', copied as the README shows it.
 *
 *   npm run build && npm run test:pack
 *
 * The first install needs the npm registry (or a cache that already holds the full metadata
 * npm 11 asks for: `npm ci` caches tarballs only); it fills the cache the offline installs use.
 * Needs root for `unshare -n`. It takes longer than the unit and integration tests, so it is its
 * own CI step (.ci/run) rather than part of `npm test`. Exits 0 when every check passed.
 */
import { spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// Nothing listens on port 9 (discard) here: connecting to it is refused at once.
const CLOSED = {
  REDIS_URL: 'redis://127.0.0.1:9',
  SPANE_REDIS_URL: 'redis://127.0.0.1:9',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none',
  SPANE_DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none',
};

const startedAt = Date.now();
const failures: string[] = [];
function check(what: string, ok: boolean, details = ''): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(`${what}${details ? `\n${details}` : ''}`);
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeout = 300_000): SpawnSyncReturns<string> & { ms: number } {
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout });
  return Object.assign(r, { ms: Date.now() - started });
}

/**
 * Runs `cmd args` in a network namespace of its own, loopback up and nothing else: no registry,
 * Redis or PostgreSQL is reachable. `--kill-child`: a step that times out takes its processes
 * with it.
 */
function offline(cmd: string, args: string[], cwd: string, timeout = 180_000): SpawnSyncReturns<string> & { ms: number } {
  return run('unshare', ['--net', '--fork', '--kill-child', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', cmd, ...args], cwd, {}, timeout);
}

const seconds = (r: { ms: number }) => `${(r.ms / 1000).toFixed(1)} s`;

const show = (r: SpawnSyncReturns<string>) =>
  `exit ${r.status}${r.error === undefined ? '' : ` (${r.error.message}${r.signal === null ? '' : `, ${r.signal}`})`}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/**
 * The first TypeScript example of README.md that imports from 'spane', as the README shows it
 * (the test follows the README), or undefined when there is none.
 */
function readmeExample(): string | undefined {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  for (const [, code] of readme.matchAll(/^```(?:ts|typescript)\n([\s\S]*?)^```/gm)) {
    if (/from ['"]spane['"]/.test(code!)) return code;
  }
  return undefined;
}

/**
 * `npx spane init` and the steps it prints, offline, in an empty CommonJS project and an empty
 * ESM one; then `npx spane run` of the README's example there.
 */
function firstHour(tarball: string): void {
  const probe = offline('true', [], work, 30_000);
  check('unshare -n works (root, util-linux): steps below run without any network', probe.status === 0, show(probe));
  if (probe.status !== 0) return;
  const example = readmeExample();
  check("README.md has a TypeScript example that imports from 'spane'", example !== undefined);
  for (const type of ['commonjs', 'module'] as const) {
    const project = join(work, `first-hour-${type}`);
    mkdirSync(project);
    const step = (what: string, r: SpawnSyncReturns<string> & { ms: number }, ok = r.status === 0) => {
      check(`${type} project: ${what} (${seconds(r)})`, ok, show(r));
      return ok;
    };
    if (!step('npm init -y', offline('npm', ['init', '-y'], project))) continue;
    if (type === 'module' && !step('npm pkg set type=module', offline('npm', ['pkg', 'set', 'type=module'], project))) continue;
    const installed = offline('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', tarball, 'zod@4'], project);
    if (installed.status !== 0 && /ENOTCACHED/.test(installed.stderr)) {
      installed.stderr +=
        "\nnpm's cache lacks a package (or its full metadata) named above: run `npm install <tarball> zod@4` once with network (the first install of this test does).";
    }
    if (!step('npm install --offline <tarball> zod@4', installed)) continue;
    const init = offline('npx', ['--no-install', 'spane', 'init'], project);
    if (!step('npx spane init', init, init.status === 0 && init.stdout.includes('Next steps:'))) continue;
    step('npm install --offline (the first step spane init prints)', offline('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], project));
    const test = offline('npm', ['test'], project);
    step('npm test', test, test.status === 0 && /^(# |ℹ )pass [1-9]/m.test(test.stdout) && /^(# |ℹ )fail 0$/m.test(test.stdout));
    const start = offline('npm', ['start', '--silent'], project);
    let greeting: unknown;
    try {
      greeting = (JSON.parse(start.stdout) as { greeting?: unknown }).greeting;
    } catch {
      // Reported by the check below.
    }
    step('npm start', start, start.status === 0 && greeting === 'HELLO, WORLD!');
    // What spane init wrote type-checks against the installed package, under its own tsconfig.
    const tsc = offline(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--typeRoots', join(root, 'node_modules/@types'), '--types', 'node'],
      project,
    );
    step('tsc -p tsconfig.json on the files spane init wrote', tsc);
    if (example !== undefined) {
      writeFileSync(join(project, 'readme-example.ts'), example);
      const ran = offline('npx', ['--no-install', 'spane', 'run', 'readme-example.ts'], project, 120_000);
      step("npx spane run on the README's first example", ran);
    }
  }
}

if (!existsSync(join(root, 'dist/cli.js'))) {
  console.error('dist/cli.js is missing: run `npm run build` first');
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'spane-pack-'));
try {
  const pack = run('npm', ['pack', '--json', '--pack-destination', work], root);
  check('npm pack', pack.status === 0, show(pack));
  const [{ filename, files }] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
  const paths = new Set(files.map((f) => f.path));
  for (const needed of [
    'dist/cli.js',
    'dist/index.js',
    'dist/index.cjs',
    'dist/index.d.ts',
    'dist/migrations/meta/_journal.json',
    'dist/register.mjs',
    'dist/register.cjs',
    'dist/register-hooks.mjs',
    'dist/register.d.ts',
    'dist/dashboard/index.html',
    'dist/dashboard/assets/main.js',
    'dist/dashboard/assets/main.css',
    'README.md',
    'package.json',
  ]) {
    check(`the tarball holds ${needed}`, paths.has(needed));
  }
  check('the tarball holds no sources or tests', ![...paths].some((p) => p.startsWith('src/') || p.startsWith('test/')));

  // An empty folder, as after `mkdir my-app && cd my-app`.
  const app = join(work, 'app');
  mkdirSync(join(app, 'examples'), { recursive: true });
  // --prefer-offline: what the cache holds is used as it is; what it lacks is fetched (and kept
  // for the offline installs below).
  const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(work, filename), 'zod@4'], app);
  check(`npm install <tarball> (${(install.ms / 1000).toFixed(1)} s)`, install.status === 0, show(install));

  // The repository's quick start, importing the installed package as a user's file would.
  const quickstart = readFileSync(join(root, 'examples/quickstart.ts'), 'utf8').replaceAll("'../src/index.js'", "'spane'");
  check('the quick start imports only spane and ioredis', !quickstart.includes('../src'));
  writeFileSync(join(app, 'examples/quickstart.ts'), quickstart);

  // The spec's subpath imports, at run time (ESM and CommonJS) and for the type checker, with the
  // spec's typed engine options. Each subpath exports its own part of the API (and nothing
  // else), made of the main entry's classes: `instanceof` holds across the import paths.
  const subpathExports: Record<string, string[]> = {
    'spane/types': [],
    'spane/engine/workflow-engine': ['WorkflowEngine', 'createEngine'],
    'spane/engine/registry': ['DEFAULT_EXTERNAL_NODES', 'NodeRegistry'],
    'spane/engine/config': ['engineConfigSchema', 'resolveEngineConfig'],
    'spane/db/inmemory-store': ['InMemoryExecutionStore'],
    'spane/dsl': [
      'MappingError',
      'NodeInputError',
      'NodeOutputError',
      'RESERVED_CONFIG_KEYS',
      'WorkflowInputError',
      'WorkflowValidationError',
      'ZodVersionError',
      'defineHttpNode',
      'defineNode',
      'delay',
      'fragment',
      'http',
      'httpConfigSchema',
      'nodeOutput',
      'registerNodeKinds',
      'renderMermaid',
      'renderWorkflowMarkdown',
      'router',
      'subWorkflow',
      'transform',
      'waitForEvent',
      'waitForSignal',
      'workflow',
    ],
    'spane/testing': ['TestEngine', 'createTestEngine'],
  };
  const subpaths = Object.keys(subpathExports);
  const subpathCheck = (load: (p: string) => string) =>
    [
      `const main = ${load('spane')};`,
      `const expected = ${JSON.stringify(subpathExports)};`,
      'for (const [p, names] of Object.entries(expected)) {',
      '  const m = subpaths[p];',
      "  const keys = Object.keys(m).filter((k) => k !== 'default' && k !== '__esModule').sort();",
      "  if (JSON.stringify(keys) !== JSON.stringify(names)) throw new Error(`${p} exports ${keys.join(', ')}`);",
      "  for (const n of names) if (m[n] !== main[n]) throw new Error(`${p} ${n} is not spane's`);",
      '}',
      "if (!(new subpaths['spane/engine/registry'].NodeRegistry() instanceof main.NodeRegistry)) throw new Error('instanceof');",
    ].join('\n');
  writeFileSync(
    join(app, 'subpaths.mjs'),
    [
      ...subpaths.map((p, i) => `import * as m${i} from '${p}';`),
      `const subpaths = { ${subpaths.map((p, i) => `'${p}': m${i}`).join(', ')} };`,
      "import * as spaneMain from 'spane';",
      subpathCheck(() => 'spaneMain'),
    ].join('\n'),
  );
  writeFileSync(
    join(app, 'subpaths.cjs'),
    [`const subpaths = { ${subpaths.map((p) => `'${p}': require('${p}')`).join(', ')} };`, subpathCheck((p) => `require('${p}')`)].join('\n'),
  );
  const esm = run(process.execPath, ['subpaths.mjs'], app);
  const cjs = run(process.execPath, ['subpaths.cjs'], app);
  check(
    `each of the spec's subpaths (${subpaths.join(', ')}) exports its own part, the main entry's classes, from ESM and CommonJS`,
    esm.status === 0 && cjs.status === 0,
    `${show(esm)}\n${show(cjs)}`,
  );
  // The dashboard's assets are read beside the installed module, from ESM and CommonJS.
  const dashboardCheck = [
    "const engine = await createEngine({ registry: new NodeRegistry(), backend: 'embedded' });",
    'const dashboard = createDashboard(engine);',
    "const page = await dashboard(new Request('http://127.0.0.1/'));",
    "const js = await dashboard(new Request('http://127.0.0.1/assets/main.js'));",
    'const html = await page.text();',
    'await engine.close();',
    'if (page.status !== 200 || !html.includes(\'id="root"\') || js.status !== 200) throw new Error(`dashboard: ${page.status} ${js.status}`);',
  ];
  writeFileSync(join(app, 'dashboard.mjs'), ["import { createDashboard, createEngine, NodeRegistry } from 'spane';", ...dashboardCheck].join('\n'));
  writeFileSync(
    join(app, 'dashboard.cjs'),
    [
      "const { createDashboard, createEngine, NodeRegistry } = require('spane');",
      '(async () => {',
      ...dashboardCheck,
      '})().catch((e) => { console.error(e); process.exit(1); });',
    ].join('\n'),
  );
  const dashEsm = run(process.execPath, ['dashboard.mjs'], app);
  const dashCjs = run(process.execPath, ['dashboard.cjs'], app);
  check(
    'createDashboard serves its page and bundle from the installed package (ESM and CommonJS)',
    dashEsm.status === 0 && dashCjs.status === 0,
    `${show(dashEsm)}\n${show(dashCjs)}`,
  );
  const typed = [
    "import type { EngineConfig } from 'spane/engine/config';",
    "import { WorkflowEngine } from 'spane/engine/workflow-engine';",
    "import { NodeRegistry } from 'spane/engine/registry';",
    "import { InMemoryExecutionStore } from 'spane/db/inmemory-store';",
    "import type { WorkflowDefinition, INodeExecutor, ExecutionContext, ExecutionResult } from 'spane/types';",
    "import * as spane from 'spane';",
    'const engineConfig: EngineConfig = { useWorkerThreads: true, workerConcurrency: 10 };',
    'const limited: EngineConfig = { useNativeRateLimiting: true, rateLimiter: { max: 50, duration: 1000 } };',
    "const custom: EngineConfig = { useWorkerThreads: true, processorFile: '/path/to/my-custom-processor.js' };",
    'class Noop implements INodeExecutor { async execute(_: ExecutionContext): Promise<ExecutionResult> { return { success: true }; } }',
    "const wf: WorkflowDefinition = { id: 'w', name: 'w', entryNodeId: 'a', nodes: [{ id: 'a', type: 'noop', config: {}, inputs: [], outputs: [] }] };",
    // One class for the type checker too: a subpath's NodeRegistry is spane's, both ways.
    'const registry: spane.NodeRegistry = new NodeRegistry();',
    'const back: NodeRegistry = new spane.NodeRegistry();',
    'const store: InMemoryExecutionStore = new spane.InMemoryExecutionStore();',
    'export const parts = [engineConfig, limited, custom, new Noop(), wf, WorkflowEngine, registry, back, store];',
  ].join('\n');
  // typed.ts is CommonJS (the app's package.json has no "type"), typed.mts ESM: both typings.
  writeFileSync(join(app, 'typed.ts'), typed);
  writeFileSync(join(app, 'typed.mts'), typed);
  // skipLibCheck off: the package's declarations and its dependencies' must compile too
  // (test/pack/strict-consumer.test.ts checks more module settings). They use Node's types
  // (node:http), which a Node project has installed; linked here from this repository.
  mkdirSync(join(app, 'node_modules/@types'), { recursive: true });
  if (!existsSync(join(app, 'node_modules/@types/node'))) symlinkSync(join(root, 'node_modules/@types/node'), join(app, 'node_modules/@types/node'), 'dir');
  const compilerOptions = { noEmit: true, strict: true, skipLibCheck: false, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: ['node'] };
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['typed.ts', 'typed.mts'] }));
  const tsc = run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app);
  check("the spec's typed imports and EngineConfig examples type-check against the package (CommonJS and ESM typings, skipLibCheck: false)", tsc.status === 0, show(tsc));

  // A second installed copy of the package (as a dependency that installs its own spane has):
  // SPANE's errors of one copy are recognised by the other, in ESM and CommonJS.
  cpSync(join(app, 'node_modules/spane'), join(app, 'vendor/node_modules/spane'), { recursive: true });
  const crossCopy = [
    'const same = (a, b) => a.NonRetryableError !== b.NonRetryableError',
    "  && new b.NonRetryableError('x') instanceof a.NonRetryableError",
    "  && new b.NodeInputError({ workflowId: 'w', nodeId: 'n', part: 'input', path: 'p', received: '1', issues: [] }) instanceof a.NonRetryableError",
    "  && !(new b.CircuitOpenError('k') instanceof a.NonRetryableError)",
    "  && a.isRetryable(new b.NonRetryableError('x')) === false",
    "  && a.serializeError(new b.NodeInputError({ workflowId: 'w', nodeId: 'n', part: 'input', path: 'p', received: '1', issues: [] })).code === 'NODE_INPUT_INVALID';",
  ].join('\n');
  writeFileSync(
    join(app, 'copies.mjs'),
    `import * as a from 'spane';\nimport * as b from './vendor/node_modules/spane/dist/index.js';\n${crossCopy}\nif (!same(a, b)) throw new Error('copies');`,
  );
  writeFileSync(
    join(app, 'copies.cjs'),
    `const a = require('spane');\nconst b = require('./vendor/node_modules/spane');\n${crossCopy}\nif (!same(a, b)) throw new Error('copies');`,
  );
  const copiesEsm = run(process.execPath, ['copies.mjs'], app);
  const copiesCjs = run(process.execPath, ['copies.cjs'], app);
  check(
    'a NonRetryableError of one installed copy is a NonRetryableError of another (ESM and CommonJS)',
    copiesEsm.status === 0 && copiesCjs.status === 0,
    `${show(copiesEsm)}\n${show(copiesCjs)}`,
  );

  const help = run('npx', ['--no-install', 'spane', '--help'], app, CLOSED);
  check('npx spane --help', help.status === 0 && help.stdout.includes('Usage: spane'), show(help));

  const validate = run('npx', ['--no-install', 'spane', 'validate', 'examples/quickstart.ts'], app, CLOSED);
  check('npx spane validate examples/quickstart.ts', validate.status === 0 && validate.stdout.includes('fetch-and-transform: ok (2 nodes)'), show(validate));

  const started = run('npx', ['--no-install', 'spane', 'run', 'examples/quickstart.ts'], app, CLOSED);
  let result: { plan?: string; processedAt?: string } = {};
  try {
    result = JSON.parse(started.stdout) as typeof result;
  } catch {
    // Reported by the check below.
  }
  check(
    `npx spane run examples/quickstart.ts, Redis and PostgreSQL unreachable (${(started.ms / 1000).toFixed(1)} s)`,
    started.status === 0 && result.plan === 'pro' && typeof result.processedAt === 'string' && /✓ transform +completed/.test(started.stderr),
    show(started),
  );

  // A project on zod 3. zod is a peer (^4) of spane, so npm refuses the install; forced past
  // that (--legacy-peer-deps, which installs no peers: ioredis is named), importing spane throws a ZodVersionError that says what to
  // install. No zod 3 can be downloaded here, so the project's zod 3 is a local package made of
  // the zod 3 code that zod 4 still ships (node_modules/zod/v3: zod 3.25's classic API).
  const zod3App = join(work, 'zod3-app');
  const zod3 = join(zod3App, 'zod3');
  cpSync(join(root, 'node_modules/zod/v3'), zod3, { recursive: true });
  writeFileSync(
    join(zod3, 'package.json'),
    JSON.stringify({
      name: 'zod',
      version: '3.25.76',
      type: 'module',
      main: './index.cjs',
      types: './index.d.cts',
      exports: { '.': { types: './index.d.cts', import: './index.js', require: './index.cjs' }, './package.json': './package.json' },
    }),
  );
  writeFileSync(join(zod3App, 'package.json'), JSON.stringify({ name: 'zod3-app', version: '1.0.0', private: true, dependencies: { zod: 'file:./zod3' } }));
  const zod3Base = run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], zod3App);
  check('a zod 3 project installs its zod', zod3Base.status === 0, show(zod3Base));
  const refused = run('npm', ['install', '--no-audit', '--no-fund', join(work, filename)], zod3App);
  check(
    'npm refuses spane in a zod 3 project, naming the zod peer',
    refused.status !== 0 && refused.stderr.includes('ERESOLVE') && /peer zod@"\^4/.test(refused.stderr),
    show(refused),
  );
  const forced = run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--legacy-peer-deps', join(work, filename), 'ioredis@5'], zod3App);
  check('npm install --legacy-peer-deps <tarball> ioredis in the zod 3 project', forced.status === 0, show(forced));
  const peerError = /ZodVersionError: import of 'spane': SPANE needs zod 4, found a 'zod' package of version 3 or older\. .*npm install zod@\^4/;
  const zod3Cjs = run(process.execPath, ['-e', "require('spane')"], zod3App);
  const zod3Esm = run(process.execPath, ['--input-type=module', '-e', "import 'spane'"], zod3App);
  check(
    'importing spane on zod 3 throws a ZodVersionError naming `npm install zod@^4` (CommonJS and ESM)',
    zod3Cjs.status !== 0 && peerError.test(zod3Cjs.stderr) && zod3Esm.status !== 0 && peerError.test(zod3Esm.stderr),
    `${show(zod3Cjs)}\n${show(zod3Esm)}`,
  );
  firstHour(join(work, filename));
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.error(`\n${failures.length} check(s) failed (${((Date.now() - startedAt) / 1000).toFixed(0)} s):\n\n${failures.join('\n\n')}`);
  process.exit(1);
}
console.log(`\npacked package: every check passed (${((Date.now() - startedAt) / 1000).toFixed(0)} s)`);
