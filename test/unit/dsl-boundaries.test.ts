/**
 * Layering: src/dsl produces definitions and never touches Redis or storage; src/definition is
 * the shared contract and depends on neither side. Checked on the import statements of every
 * source file, so a violation fails here before it ships.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|cts)$/.test(e.name) ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  for (const pattern of patterns) for (const m of code.matchAll(pattern)) specifiers.push(m[1]!);
  return specifiers;
}

interface Rule {
  layer: string;
  forbiddenPackages: RegExp;
  forbiddenDirs: string[];
}

const FORBIDDEN_PACKAGES = /^(bullmq|ioredis|drizzle-orm|postgres|@electric-sql\/pglite)(\/|$)/;

const rules: Rule[] = [
  { layer: 'src/dsl', forbiddenPackages: FORBIDDEN_PACKAGES, forbiddenDirs: ['src/runtime', 'src/store'] },
  { layer: 'src/definition', forbiddenPackages: FORBIDDEN_PACKAGES, forbiddenDirs: ['src/dsl', 'src/runtime', 'src/store'] },
];

function violations(rule: Rule): string[] {
  const found: string[] = [];
  for (const file of sourceFiles(join(root, rule.layer))) {
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const where = relative(root, file);
      if (rule.forbiddenPackages.test(spec)) found.push(`${where} imports '${spec}'`);
      if (spec.startsWith('.')) {
        const target = relative(root, resolve(dirname(file), spec));
        const dir = rule.forbiddenDirs.find((d) => target === d || target.startsWith(`${d}/`));
        if (dir !== undefined) found.push(`${where} imports '${spec}' (${dir})`);
      }
    }
  }
  return found;
}

describe('import boundaries', () => {
  it('recognises the import forms it polices', () => {
    const sample = [
      "import { Queue } from 'bullmq';",
      "import type { Redis } from 'ioredis';",
      "export { x } from '../runtime/x.js';",
      "import 'postgres';",
      "const m = await import('drizzle-orm/pg-core');",
      '// import { nope } from "ioredis";',
    ].join('\n');
    expect(importsOf(sample)).toEqual(['bullmq', 'ioredis', '../runtime/x.js', 'postgres', 'drizzle-orm/pg-core']);
  });

  for (const rule of rules) {
    it(`${rule.layer} imports nothing from ${rule.forbiddenDirs.join(', ')}, bullmq, ioredis, drizzle or postgres`, () => {
      expect(sourceFiles(join(root, rule.layer)).length).toBeGreaterThan(0);
      expect(violations(rule)).toEqual([]);
    });
  }

  it('src/dsl has no import cycles', () => {
    const files = sourceFiles(join(root, 'src/dsl'));
    const graph = new Map(
      files.map((f) => [
        f,
        importsOf(readFileSync(f, 'utf8'))
          .filter((s) => s.startsWith('.'))
          .map((s) => resolve(dirname(f), s).replace(/\.js$/, '.ts')),
      ]),
    );
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(root, p)).join(' -> '));
        return;
      }
      state.set(f, 'visiting');
      for (const next of graph.get(f) ?? []) if (graph.has(next)) visit(next, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });
});
