/**
 * `spane init [dir]`: a project that runs at once, offline: a DSL workflow, a test of it,
 * package.json scripts for both, a tsconfig and a README.
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../runtime/module-loader/running-copy.js';
import { INIT_SCRIPTS, initFiles, TEST_FILE, WORKFLOW_FILE } from '../init-templates.js';
import type { CliIO } from '../io.js';
import { println } from '../io.js';

/** The `test` script `npm init` writes: a placeholder, replaced without asking. */
const NPM_PLACEHOLDER_TEST = 'echo "Error: no test specified" && exit 1';

/** What the project depends on, as the running package states it. */
interface Ranges {
  spane: string;
  zod: string;
  ioredis: string;
}

type PackageJson = Record<string, unknown> & {
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
};

/**
 * The running package's version, and its zod and ioredis ranges (peer or plain dependencies),
 * read from its package.json; fallbacks when it cannot be found.
 */
function ranges(): Ranges {
  const root = packageRoot(fileURLToPath(import.meta.url));
  const pkg = root === undefined ? {} : (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, unknown>);
  const deps = { ...(pkg['dependencies'] as Record<string, string> | undefined), ...(pkg['peerDependencies'] as Record<string, string> | undefined) };
  return {
    spane: typeof pkg['version'] === 'string' ? `^${pkg['version']}` : 'latest',
    zod: deps['zod'] ?? '^4.0.0',
    ioredis: deps['ioredis'] ?? '^5.0.0',
  };
}

/** A package name from a folder name: lower case, npm's allowed characters only. */
function packageName(dir: string): string {
  const name = path
    .basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '');
  return name === '' ? 'spane-app' : name;
}

/** The plan for package.json: its new text, what was added, or why it cannot be used. */
interface PackagePlan {
  text: string;
  created: boolean;
  added: string[];
  conflicts: string[];
}

/**
 * A new package.json, or the existing one with the scripts and dependencies it lacks. A script
 * of the same name that does something else is a conflict (npm's placeholder `test` is not).
 * `type` is left as the project has it: the files work in CommonJS and ESM projects alike.
 */
function planPackageJson(file: string, projectName: string, r: Ranges): PackagePlan {
  const wanted: Record<string, string> = { spane: r.spane, zod: r.zod, ioredis: r.ioredis };
  if (!existsSync(file)) {
    const pkg = { name: projectName, version: '0.1.0', private: true, type: 'module', scripts: { ...INIT_SCRIPTS }, dependencies: wanted };
    return { text: `${JSON.stringify(pkg, null, 2)}\n`, created: true, added: [], conflicts: [] };
  }
  let pkg: PackageJson;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    pkg = parsed as PackageJson;
  } catch (err) {
    return { text: '', created: false, added: [], conflicts: [`package.json (not a JSON object: ${(err as Error).message})`] };
  }
  const conflicts: string[] = [];
  const added: string[] = [];
  const scripts = { ...pkg.scripts };
  for (const [name, command] of Object.entries(INIT_SCRIPTS)) {
    const current = scripts[name];
    if (current === command) continue;
    if (current !== undefined && !(name === 'test' && current === NPM_PLACEHOLDER_TEST)) {
      conflicts.push(`package.json: scripts.${name} (${JSON.stringify(current)})`);
      continue;
    }
    scripts[name] = command;
    added.push(`scripts.${name}`);
  }
  const dependencies = { ...pkg.dependencies };
  const declared = (name: string) =>
    [pkg.dependencies, pkg['devDependencies'], pkg['peerDependencies'], pkg['optionalDependencies']].some((deps) => typeof deps === 'object' && deps !== null && name in deps);
  for (const [name, range] of Object.entries(wanted)) {
    if (declared(name)) continue;
    dependencies[name] = range;
    added.push(`dependencies.${name}`);
  }
  const text = `${JSON.stringify({ ...pkg, scripts, dependencies }, null, 2)}\n`;
  return { text, created: false, added, conflicts };
}

/**
 * Writes the project into `dir` (made when missing). Refuses, writing nothing, when any of its
 * files exists or package.json has a script of the same name: lists them on stderr, returns 1.
 * Otherwise prints what it wrote and the next steps, and returns 0.
 */
export function initCommand(dir: string, io: CliIO): number {
  const target = path.resolve(io.cwd, dir);
  if (existsSync(target) && !statSync(target).isDirectory()) {
    println(io.stderr, `spane: init: ${dir} exists and is not a folder`);
    return 1;
  }
  const name = packageName(target);
  const files = initFiles(name);
  const pkgPlan = planPackageJson(path.join(target, 'package.json'), name, ranges());
  const existing = Object.keys(files).filter((f) => existsSync(path.join(target, f)));
  const refused = [...existing, ...pkgPlan.conflicts];
  if (refused.length > 0) {
    println(io.stderr, `spane: init: nothing written, because ${refused.length === 1 ? 'this exists' : 'these exist'} already in ${dir}:`);
    for (const f of refused) println(io.stderr, `  ${f}`);
    println(io.stderr, 'Move them away, or run `spane init <new-folder>`.');
    return 1;
  }

  mkdirSync(target, { recursive: true });
  // `wx`: a file that appeared since the check above is still not overwritten.
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(target, file)), { recursive: true });
    writeFileSync(path.join(target, file), text, { flag: 'wx' });
  }
  writeFileSync(path.join(target, 'package.json'), pkgPlan.text, { flag: pkgPlan.created ? 'wx' : 'w' });

  const shown = path.relative(io.cwd, target) || '.';
  for (const file of Object.keys(files)) println(io.stdout, `created ${path.join(shown, file)}`);
  if (pkgPlan.created) println(io.stdout, `created ${path.join(shown, 'package.json')}`);
  else println(io.stdout, `updated ${path.join(shown, 'package.json')}${pkgPlan.added.length > 0 ? ` (added ${pkgPlan.added.join(', ')})` : ''}`);
  println(io.stdout);
  println(io.stdout, 'Next steps:');
  if (shown !== '.') println(io.stdout, `  cd ${shown}`);
  println(io.stdout, '  npm install');
  println(io.stdout, `  npm start      # runs ${WORKFLOW_FILE} (no Redis or PostgreSQL needed)`);
  println(io.stdout, `  npm test       # runs ${TEST_FILE} with node --test`);
  return 0;
}
