/**
 * Checks the promises of the type tests (test/types/*.test-d.ts) against real compiler output.
 *
 * `@ts-expect-error` only proves that *some* error happens. The type tests say which one: a
 * comment `// @ts-expect-error <reason> -- expects: <text>` promises a diagnostic containing
 * <text> on the next line (several fragments separated by ` ... ` must all appear, in any order:
 * unions print in no fixed order). These helpers compile the files with every `@ts-expect-error`
 * turned off (line numbers kept) and compare the diagnostics with the promises. Used by
 * test/unit/dsl-compile-errors.test.ts (against src/) and test/pack/strict-consumer.test.ts
 * (against the packed package, in a consumer project).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';

const EXPECT = /\/\/ @ts-expect-error(.*)$/;

/** One `@ts-expect-error` comment of a type test. */
export interface Expectation {
  file: string;
  /** 0-based line the error must start on (the line after the comment). */
  line: number;
  reason: string;
  /** The text after `-- expects:`, when the comment has one. */
  text: string | undefined;
}

/** The `@ts-expect-error` comments of `file` (its text read from disk unless given). */
export function expectationsOf(file: string, source: string = readFileSync(file, 'utf8')): Expectation[] {
  const out: Expectation[] = [];
  source.split('\n').forEach((line, i) => {
    const m = EXPECT.exec(line);
    if (m === null) return;
    const [reason, text] = m[1]!.split(' -- expects: ');
    out.push({ file, line: i + 1, reason: reason!.replace(/^:/, '').trim(), text: text?.trim() });
  });
  return out;
}

/** `source` with every `@ts-expect-error` turned into a plain comment, on the same lines. */
export function withoutExpectations(source: string): string {
  return source.replace(/@ts-expect-error/g, 'expect-error--');
}

/**
 * A program of `roots` in which the files of `targets` are read with their `@ts-expect-error`
 * comments turned off (see {@link withoutExpectations}); every other file is read as it is.
 */
export function programWithoutExpectations(roots: string[], options: ts.CompilerOptions, targets: Iterable<string> = roots): ts.Program {
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const wanted = new Set([...targets].map((t) => resolve(t)));
  host.getSourceFile = (fileName, language, onError, shouldCreate) => {
    if (!wanted.has(resolve(fileName))) return getSourceFile(fileName, language, onError, shouldCreate);
    return ts.createSourceFile(fileName, withoutExpectations(readFileSync(fileName, 'utf8')), language);
  };
  return ts.createProgram(roots, options, host);
}

/** Every diagnostic of `program`: options, global, syntax, and types of every file (declaration files too, unless `skipLibCheck`). */
export function allDiagnostics(program: ts.Program): readonly ts.Diagnostic[] {
  return [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics(), ...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics()];
}

/** `file(line,col): message` of a diagnostic, with the file named by `name` (the path as it is by default). */
export function formatDiagnostic(d: ts.Diagnostic, name: (file: string) => string = (f) => f): string {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n    ');
  if (d.file === undefined || d.start === undefined) return `TS${d.code}: ${message}`;
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  return `${name(d.file.fileName)}(${line + 1},${character + 1}): TS${d.code}: ${message}`;
}

const lineKey = (file: string, line: number) => `${resolve(file)}:${line}`;

/**
 * What is wrong with `diagnostics` against `expectations`: a marked line without an error, or
 * without one containing the promised text; and, with `unexpected`, any diagnostic that no
 * expectation accounts for (anywhere, declaration files included). Files are named by `name`.
 * An empty list means every promise held.
 */
export function checkExpectations(
  expectations: readonly Expectation[],
  diagnostics: readonly ts.Diagnostic[],
  options: { unexpected?: boolean; name?: (file: string) => string } = {},
): string[] {
  const name = options.name ?? ((f: string) => f);
  const byLine = new Map<string, string[]>();
  for (const d of diagnostics) {
    if (d.file === undefined || d.start === undefined) continue;
    const key = lineKey(d.file.fileName, d.file.getLineAndCharacterOfPosition(d.start).line);
    byLine.set(key, [...(byLine.get(key) ?? []), ts.flattenDiagnosticMessageText(d.messageText, '\n')]);
  }
  const problems: string[] = [];
  const expected = new Set<string>();
  for (const e of expectations) {
    const key = lineKey(e.file, e.line);
    expected.add(key);
    const messages = byLine.get(key) ?? [];
    const where = `${name(e.file)}:${e.line + 1} (${e.reason})`;
    if (messages.length === 0) problems.push(`${where}: no error at all`);
    else if (e.text !== undefined && !messages.some((m) => e.text!.split(' ... ').every((fragment) => m.includes(fragment)))) {
      problems.push(`${where}: expected "${e.text}", got:\n    ${messages.join('\n    ')}`);
    }
  }
  if (options.unexpected === true) {
    for (const d of diagnostics) {
      const key = d.file === undefined || d.start === undefined ? undefined : lineKey(d.file.fileName, d.file.getLineAndCharacterOfPosition(d.start).line);
      if (key === undefined || !expected.has(key)) problems.push(`unexpected: ${formatDiagnostic(d, name)}`);
    }
  }
  return problems;
}
