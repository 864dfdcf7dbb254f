/**
 * `@ts-expect-error` only proves that *some* error happens. The DSL promises errors that read as
 * sentences, so this test compiles the type tests with their `@ts-expect-error` comments turned
 * off and checks that each line marked `-- expects: <text>` gets a diagnostic containing <text>
 * (several fragments separated by ` ... ` must all appear, in any order: unions print in no
 * fixed order).
 * It also requires a reason on every `@ts-expect-error` of the DSL type tests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const typesDir = join(root, 'test/types');
const files = readdirSync(typesDir)
  .filter((f) => /^dsl-.*\.test-d\.ts$/.test(f))
  .map((f) => join(typesDir, f));

const EXPECT = /\/\/ @ts-expect-error(.*)$/;

interface Expectation {
  file: string;
  line: number; // 0-based line the error must start on
  reason: string;
  text: string | undefined;
}

function expectationsOf(file: string): Expectation[] {
  const out: Expectation[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const m = EXPECT.exec(line);
      if (m === null) return;
      const [reason, text] = m[1]!.split(' -- expects: ');
      out.push({ file, line: i + 1, reason: reason!.trim(), text: text?.trim() });
    });
  return out;
}

/** Semantic diagnostics of `targets` with every `@ts-expect-error` disabled (line numbers kept). */
function diagnosticsWithoutExpectations(targets: string[]): ts.Diagnostic[] {
  const { config } = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, root);
  const host = ts.createCompilerHost(parsed.options);
  const getSourceFile = host.getSourceFile.bind(host);
  const wanted = new Set(targets.map((t) => resolve(t)));
  host.getSourceFile = (fileName, language, onError, shouldCreate) => {
    if (!wanted.has(resolve(fileName))) return getSourceFile(fileName, language, onError, shouldCreate);
    const text = readFileSync(fileName, 'utf8').replace(/@ts-expect-error/g, 'expect-error--');
    return ts.createSourceFile(fileName, text, language);
  };
  const program = ts.createProgram(targets, parsed.options, host);
  return targets.flatMap((t) => program.getSemanticDiagnostics(program.getSourceFile(t)));
}

describe('DSL compile errors', () => {
  const expectations = files.flatMap(expectationsOf);

  it('every @ts-expect-error in the DSL type tests says why', () => {
    expect(expectations.length).toBeGreaterThan(20);
    expect(expectations.filter((e) => e.reason.length < 5).map((e) => `${e.file}:${e.line}`)).toEqual([]);
  });

  it('shows the promised message on each marked line', () => {
    const diagnostics = diagnosticsWithoutExpectations(files);
    const byLine = new Map<string, string[]>();
    for (const d of diagnostics) {
      if (d.file === undefined || d.start === undefined) continue;
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      const key = `${resolve(d.file.fileName)}:${line}`;
      byLine.set(key, [...(byLine.get(key) ?? []), ts.flattenDiagnosticMessageText(d.messageText, '\n')]);
    }
    const problems: string[] = [];
    for (const e of expectations) {
      const messages = byLine.get(`${resolve(e.file)}:${e.line}`) ?? [];
      if (messages.length === 0) problems.push(`${e.file}:${e.line + 1} (${e.reason}): no error at all`);
      else if (e.text !== undefined && !messages.some((m) => e.text!.split(' ... ').every((fragment) => m.includes(fragment)))) {
        problems.push(`${e.file}:${e.line + 1} (${e.reason}): expected "${e.text}", got:\n    ${messages.join('\n    ')}`);
      }
    }
    expect(problems.join('\n')).toBe('');
  }, 180_000);
});
