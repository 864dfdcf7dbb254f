/**
 * The import graph of `src/`, read with the TypeScript parser: which file imports which, and
 * whether the import is a value import (it runs the imported module), type-only (erased by the
 * compiler) or dynamic (`await import()`, runs later). test/unit/architecture.test.ts checks the
 * rules of docs/architecture.md against it; run this file to print the graph of the runtime
 * folders that the doc's diagram must match:
 *
 *     npx tsx test/architecture/import-graph.ts
 *
 * @module
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The folder the runtime's concept folders live in, relative to {@link ROOT}. */
export const RUNTIME = 'src/runtime';

/** How an import reaches its target. */
export type ImportKind = 'value' | 'type' | 'dynamic';

/** One import or re-export of one file. */
export interface ImportEdge {
  /** The importing file, relative to {@link ROOT}, with `/` separators. */
  from: string;
  /** The module specifier as written. */
  specifier: string;
  /** For a relative specifier, the imported file relative to {@link ROOT}; otherwise undefined. */
  to: string | undefined;
  /** `value` runs the target when `from` loads; `type` is erased; `dynamic` runs it later. */
  kind: ImportKind;
}

/** The TypeScript and JavaScript module files under `dir` (relative to {@link ROOT}). */
export function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|cts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Resolves a relative specifier written in `from` to a file relative to {@link ROOT}. */
function resolveRelative(from: string, specifier: string): string {
  const target = relative(ROOT, resolve(ROOT, dirname(from), specifier))
    .split('\\')
    .join('/');
  // NodeNext sources name the emitted file: `./x.js` is `./x.ts` in the tree.
  return target
    .replace(/\.js$/, '.ts')
    .replace(/\.mjs$/, '.mts')
    .replace(/\.cjs$/, '.cts');
}

/**
 * Whether an import declaration brings in values. `import type {…}` and an import whose every
 * named binding is `type` are erased; anything else, including a bare `import 'x'`, runs `x`.
 * (Under `verbatimModuleSyntax` an all-`type` named import still leaves `import {} from 'x'`
 * behind; no file here writes one, and the rule in the test would see it as erased.)
 */
function importIsValue(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (clause === undefined) return true;
  if (clause.isTypeOnly) return false;
  if (clause.name !== undefined) return true;
  const bindings = clause.namedBindings;
  if (bindings === undefined || ts.isNamespaceImport(bindings)) return true;
  return bindings.elements.some((e) => !e.isTypeOnly);
}

function exportIsValue(node: ts.ExportDeclaration): boolean {
  if (node.isTypeOnly) return false;
  const clause = node.exportClause;
  if (clause === undefined || ts.isNamespaceExport(clause)) return true;
  return clause.elements.some((e) => !e.isTypeOnly);
}

/** The imports and re-exports of one source text (`file` names it, relative to {@link ROOT}). */
export function importsOfSource(file: string, text: string): ImportEdge[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const edges: ImportEdge[] = [];
  const add = (specifier: string, kind: ImportKind): void => {
    edges.push({ from: file, specifier, to: specifier.startsWith('.') ? resolveRelative(file, specifier) : undefined, kind });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, importIsValue(node) ? 'value' : 'type');
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, exportIsValue(node) ? 'value' : 'type');
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expr = node.moduleReference.expression;
      if (ts.isStringLiteral(expr)) add(expr.text, node.isTypeOnly ? 'type' : 'value');
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg !== undefined && ts.isStringLiteralLike(arg)) add(arg.text, 'dynamic');
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text, 'type');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

/** Every import of every source file under `dir` (default `src`). */
export function importGraph(dir = 'src'): ImportEdge[] {
  return sourceFiles(dir).flatMap((file) => importsOfSource(file, readFileSync(join(ROOT, file), 'utf8')));
}

/**
 * The runtime folder a file belongs to (`engine`, `queues`, …), or undefined outside
 * `src/runtime`. `queues/backends` counts as `queues`: it is a room inside that folder.
 */
export function runtimeFolderOf(file: string): string | undefined {
  if (!file.startsWith(`${RUNTIME}/`)) return undefined;
  const parts = file.slice(RUNTIME.length + 1).split('/');
  return parts.length > 1 ? parts[0] : undefined;
}

/** The folders directly under `src/runtime`. */
export function runtimeFolders(): string[] {
  return readdirSync(join(ROOT, RUNTIME), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** `from -> to` for each pair of runtime folders where a file of `from` imports one of `to`. */
export function folderEdges(edges: readonly ImportEdge[], kinds: readonly ImportKind[] = ['value', 'type']): string[] {
  const pairs = new Set<string>();
  for (const e of edges) {
    if (!kinds.includes(e.kind) || e.to === undefined) continue;
    const from = runtimeFolderOf(e.from);
    const to = runtimeFolderOf(e.to);
    if (from !== undefined && to !== undefined && from !== to) pairs.add(`${from} -> ${to}`);
  }
  return [...pairs].sort();
}

/**
 * The cycles among files when only value imports count (a type import is erased, a dynamic one
 * runs after its importer has loaded). Each cycle is listed once, as the files on it.
 */
export function valueCycles(edges: readonly ImportEdge[]): string[] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    if (e.kind !== 'value' || e.to === undefined) continue;
    next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'visiting') {
      cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
      return;
    }
    state.set(file, 'visiting');
    for (const to of next.get(file) ?? []) visit(to, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of [...next.keys()].sort()) visit(file, []);
  return cycles;
}

/**
 * The folder graph as the body of a mermaid `flowchart`, as docs/architecture.md draws it: a
 * solid arrow where some file runs code of the other folder (a value or dynamic import), a dotted
 * one where the folder imports only types from it.
 */
export function mermaidOf(edges: readonly ImportEdge[]): string {
  const runs = folderEdges(edges, ['value', 'dynamic']);
  const typesOnly = folderEdges(edges, ['type']).filter((e) => !runs.includes(e));
  const lines = [...runs.map((e) => [e, '-->'] as const), ...typesOnly.map((e) => [e, '-.->'] as const)];
  return lines
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([pair, arrow]) => `  ${pair.replace(' -> ', ` ${arrow} `)}`)
    .join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const edges = importGraph();
  console.log('flowchart LR');
  console.log(mermaidOf(edges));
  const cycles = valueCycles(edges);
  console.log(cycles.length === 0 ? '\nno value-level import cycle in src/' : `\nvalue-level cycles:\n${cycles.join('\n')}`);
}
