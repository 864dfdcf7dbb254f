/**
 * docs/architecture.md against the code. The page holds three blocks between `architecture:`
 * markers: the table of runtime folders, the diagram of which folder imports which, and the
 * import rules. This file reads them and fails when the code disagrees: a folder added or
 * removed, an arrow of the diagram that the imports do not have (or the reverse), an import a
 * rule forbids, a value-level import cycle, a file named in the page that does not exist.
 * test/unit/dsl-boundaries.test.ts keeps checking the DSL's and the definition's boundaries on
 * its own; the rules here are the page's.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { folderEdges, importGraph, importsOfSource, ROOT, RUNTIME, runtimeFolderOf, runtimeFolders, sourceFiles, valueCycles } from '../architecture/import-graph.js';
import type { ImportEdge, ImportKind } from '../architecture/import-graph.js';

const DOC = 'docs/architecture.md';
const doc = readFileSync(join(ROOT, DOC), 'utf8');
const edges = importGraph();

/** The text between `<!-- architecture:NAME -->` and `<!-- /architecture:NAME -->`. */
function block(name: string): string {
  const start = doc.indexOf(`<!-- architecture:${name} -->`);
  const end = doc.indexOf(`<!-- /architecture:${name} -->`);
  if (start < 0 || end < start) throw new Error(`${DOC} has no architecture:${name} block`);
  return doc.slice(start, end);
}

/** The cells of each row of a Markdown table, header and separator left out. */
function tableRows(text: string): string[][] {
  const rows = text
    .split('\n')
    .filter((l) => l.trim().startsWith('|'))
    .map((l) =>
      l
        .trim()
        .replace(/^\||\|$/g, '')
        .split('|')
        .map((c) => c.trim()),
    );
  return rows.slice(2);
}

/** The backquoted items of a cell. */
const quoted = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

/** Every folder under src/runtime, nested ones included, as `engine/`, `queues/backends/`. */
function allRuntimeFolders(): string[] {
  const dirs = new Set<string>();
  for (const file of sourceFiles(RUNTIME)) {
    const parts = file
      .slice(RUNTIME.length + 1)
      .split('/')
      .slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(`${parts.slice(0, i).join('/')}/`);
  }
  return [...dirs].sort();
}

describe('docs/architecture.md: folders', () => {
  const documented = tableRows(block('folders')).map((row) => quoted(row[0] ?? '')[0] ?? `(no folder in "${row[0]}")`);

  it('documents every folder under src/runtime, and only those', () => {
    expect(documented.length).toBeGreaterThan(0);
    expect([...documented].sort()).toEqual(allRuntimeFolders());
  });

  for (const folder of runtimeFolders()) {
    it(`${folder}/ has an index.ts whose header describes it`, () => {
      const path = join(ROOT, RUNTIME, folder, 'index.ts');
      expect(existsSync(path), `${RUNTIME}/${folder}/index.ts`).toBe(true);
      const text = readFileSync(path, 'utf8');
      expect(text.startsWith('/**'), 'index.ts starts with its header comment').toBe(true);
      const header = text.slice(0, text.indexOf('*/'));
      expect(header).toContain(`# ${folder}/`);
      expect(header).toMatch(/May import/);
      expect(header).toMatch(/Imported by|Must not import it/);
    });
  }
});

describe('docs/architecture.md: the import diagram', () => {
  const lines = block('imports').split('\n');
  const drawn = (arrow: string): string[] =>
    lines
      .map((l) => l.trim().split(/\s+/))
      .filter((parts) => parts.length === 3 && parts[1] === arrow)
      .map((parts) => `${parts[0]} -> ${parts[2]}`)
      .sort();
  const runs = folderEdges(edges, ['value', 'dynamic']);
  const typesOnly = folderEdges(edges, ['type']).filter((e) => !runs.includes(e));
  const hint = 'print the graph of the code with `npx tsx test/architecture/import-graph.ts` and update the diagram';

  it('draws a solid arrow for each pair of folders with a value import', () => {
    expect(drawn('-->'), hint).toEqual(runs);
  });

  it('draws a dotted arrow for each pair with type imports only', () => {
    expect(drawn('-.->'), hint).toEqual(typesOnly);
  });
});

interface Rule {
  row: string;
  files: string[];
  except: string[];
  forbidden: string[];
  kinds: ImportKind[];
}

const OTHER_FOLDERS = 'any other runtime folder';

function parseRules(): Rule[] {
  return tableRows(block('rules')).map((cells) => {
    const [filesCell = '', forbiddenCell = '', kindsCell = ''] = cells;
    const [include = '', exclude = ''] = filesCell.split(/\bexcept\b/);
    const kinds = kindsCell.split(/[,\s]+/).filter((k) => k !== '') as ImportKind[];
    for (const k of kinds) if (!['value', 'type', 'dynamic'].includes(k)) throw new Error(`unknown import kind '${k}' in rule "${filesCell}"`);
    const forbidden = quoted(forbiddenCell);
    if (forbiddenCell.includes(OTHER_FOLDERS)) forbidden.push(OTHER_FOLDERS);
    return { row: `${filesCell} | ${forbiddenCell}`, files: quoted(include), except: quoted(exclude), forbidden, kinds };
  });
}

/** A path prefix (`src/runtime/`, or a file), with `*` for one path segment. */
function matchesPath(pattern: string, path: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]+')}${pattern.endsWith('/') ? '' : '$'}`);
  return re.test(path);
}

/** Whether one import breaks one rule. */
function breaks(rule: Rule, e: ImportEdge): boolean {
  if (!rule.kinds.includes(e.kind)) return false;
  if (!rule.files.some((p) => matchesPath(p, e.from)) || rule.except.some((p) => matchesPath(p, e.from))) return false;
  return rule.forbidden.some((p) => {
    if (p === OTHER_FOLDERS) {
      const own = runtimeFolderOf(e.from);
      const target = e.to === undefined ? undefined : runtimeFolderOf(e.to);
      return target !== undefined && target !== own;
    }
    if (p.startsWith('src/')) return e.to !== undefined && matchesPath(p, e.to);
    return e.to === undefined && (e.specifier === p || e.specifier.startsWith(`${p}/`));
  });
}

describe('docs/architecture.md: import rules', () => {
  const rules = parseRules();

  it('reads the rules table', () => {
    expect(rules.length).toBeGreaterThanOrEqual(10);
    for (const rule of rules) {
      expect(rule.files.length, rule.row).toBeGreaterThan(0);
      expect(rule.forbidden.length, rule.row).toBeGreaterThan(0);
      expect(rule.kinds.length, rule.row).toBeGreaterThan(0);
    }
  });

  it('names only files and folders that exist', () => {
    const paths = rules.flatMap((r) => [...r.files, ...r.except, ...r.forbidden]).filter((p) => p.startsWith('src/') && !p.includes('*'));
    expect(paths.filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
  });

  it('would catch a forbidden import (the rules are not vacuous)', () => {
    const sample = (from: string, text: string): ImportEdge[] => importsOfSource(from, text);
    const caught = (from: string, text: string): boolean => sample(from, text).some((e) => rules.some((r) => breaks(r, e)));
    expect(caught('src/runtime/resilience/x.ts', "import { QueueManager } from '../queues/queue-manager.js';")).toBe(true);
    expect(caught('src/runtime/resilience/x.ts', "import type { Runtime } from '../engine/runtime.js';")).toBe(true);
    expect(caught('src/runtime/resilience/x.ts', "import { y } from './y.js';")).toBe(false);
    expect(caught('src/runtime/observe/x.ts', "import { advance } from '../execution/advance.js';")).toBe(true);
    expect(caught('src/runtime/execution/x.ts', "import { consoleLogger } from '../engine/runtime.js';")).toBe(true);
    expect(caught('src/runtime/execution/x.ts', "import type { Runtime } from '../engine/runtime.js';")).toBe(false);
    expect(caught('src/runtime/queues/x.ts', "import { WorkflowEngine } from '../engine/workflow-engine.js';")).toBe(true);
    expect(caught('src/runtime/queues/x.ts', "import { NodeProcessor } from '../execution/index.js';")).toBe(true);
    expect(caught('src/runtime/triggers/x.ts', "import { InMemoryExecutionStore } from '../../store/memory.js';")).toBe(true);
    expect(caught('src/dsl/x.ts', "import { Queue } from 'bullmq';")).toBe(true);
    expect(caught('src/store/x.ts', "import type { Runtime } from '../runtime/engine/runtime.js';")).toBe(true);
  });

  for (const rule of rules) {
    it(`${rule.row.replace(/`/g, '')}`, () => {
      expect(
        sourceFiles('src').some((f) => rule.files.some((p) => matchesPath(p, f)) && !rule.except.some((p) => matchesPath(p, f))),
        'the rule applies to some file',
      ).toBe(true);
      const found = edges.filter((e) => breaks(rule, e)).map((e) => `${e.from} imports '${e.specifier}' (${e.kind})`);
      expect(found).toEqual([]);
    });
  }
});

describe('the import graph of src/', () => {
  it('tells value, type and dynamic imports apart', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      "import { type C, type D } from './c.js';",
      "import { type E, f } from './e.js';",
      "export { g } from './g.js';",
      "export type { H } from './h.js';",
      "import './side-effect.js';",
      "const m = await import('./lazy.js');",
      "type T = import('./typed.js').T;",
      "import { Queue } from 'bullmq';",
      '// import { nope } from "./comment.js";',
    ].join('\n');
    const got = importsOfSource('src/runtime/x/y.ts', text).map((e) => `${e.kind} ${e.to ?? e.specifier}`);
    expect(got).toEqual([
      'value src/runtime/x/a.ts',
      'type src/runtime/x/b.ts',
      'type src/runtime/x/c.ts',
      'value src/runtime/x/e.ts',
      'value src/runtime/x/g.ts',
      'type src/runtime/x/h.ts',
      'value src/runtime/x/side-effect.ts',
      'dynamic src/runtime/x/lazy.ts',
      'type src/runtime/x/typed.ts',
      'value bullmq',
    ]);
  });

  it('resolves every relative import to a file that exists', () => {
    const missing = edges.filter((e) => e.to !== undefined && !existsSync(join(ROOT, e.to))).map((e) => `${e.from} -> ${e.specifier}`);
    expect(missing).toEqual([]);
  });

  it('has no value-level import cycle', () => {
    expect(valueCycles(importsOfSource('src/a.ts', "import './b.js';").concat(importsOfSource('src/b.ts', "import './a.js';")))).toEqual(['src/a.ts -> src/b.ts -> src/a.ts']);
    expect(valueCycles(edges)).toEqual([]);
  });
});

describe('docs/architecture.md: named files', () => {
  it('names only files that exist (runtime files relative to src/runtime)', () => {
    const named = [...doc.matchAll(/`((?:[\w.-]+\/)*[\w.-]+\.(?:ts|mts|mjs|sql))`/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(20);
    const exists = (p: string): boolean =>
      existsSync(join(ROOT, p)) || existsSync(join(ROOT, RUNTIME, p)) || (!p.includes('/') && sourceFiles('src').some((f) => f.endsWith(`/${p}`)));
    expect([...new Set(named)].filter((p) => !exists(p))).toEqual([]);
  });
});
