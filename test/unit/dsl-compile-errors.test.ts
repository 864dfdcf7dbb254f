/**
 * `@ts-expect-error` only proves that *some* error happens. The DSL promises errors that read as
 * sentences, so this test compiles the type tests with their `@ts-expect-error` comments turned
 * off and checks that each line marked `-- expects: <text>` gets a diagnostic containing <text>
 * (see test/type-expectations.ts). It also requires a reason on every `@ts-expect-error` of the
 * DSL type tests. test/pack/strict-consumer.test.ts runs the same checks against the packed
 * package.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { checkExpectations, expectationsOf, programWithoutExpectations } from '../type-expectations.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const typesDir = join(root, 'test/types');
const files = readdirSync(typesDir)
  .filter((f) => /^dsl-.*\.test-d\.ts$/.test(f))
  .map((f) => join(typesDir, f));

/** Semantic diagnostics of `targets` with every `@ts-expect-error` disabled (line numbers kept), under the repository's tsconfig. */
function diagnosticsWithoutExpectations(targets: string[]): ts.Diagnostic[] {
  const { config } = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, root);
  const program = programWithoutExpectations(targets, parsed.options);
  return targets.flatMap((t) => program.getSemanticDiagnostics(program.getSourceFile(t)));
}

describe('DSL compile errors', () => {
  const expectations = files.flatMap((f) => expectationsOf(f));

  it('every @ts-expect-error in the DSL type tests says why', () => {
    expect(expectations.length).toBeGreaterThan(20);
    expect(expectations.filter((e) => e.reason.length < 5).map((e) => `${e.file}:${e.line}`)).toEqual([]);
  });

  it('shows the promised message on each marked line', () => {
    expect(checkExpectations(expectations, diagnosticsWithoutExpectations(files)).join('\n')).toBe('');
  }, 180_000);
});
