/**
 * Every TSDoc `@example` in src/ (and every ```ts block of docs/dsl.md) must type-check, so the
 * examples cannot drift from the API they document.
 *
 * Each example becomes a virtual module: one prelude line importing the public names it uses
 * from 'spane' (src/index.ts), `z` from zod, and, for internal helpers, the names exported by its
 * own source file; then the example's code. Names a reader would have in their own program (an
 * engine, a registry, node kinds such as `fetchUser`, schemas such as `User`) are declared
 * globally by {@link FIXTURES}; an example that declares one of them itself shadows it. Anything
 * else (node:http, ioredis, postgres, ...) the example imports itself. All examples are checked
 * in one program, and a failure names the file and line of the `@example` tag.
 *
 * An example may show a compile error on purpose: `// @ts-expect-error <reason> -- expects: <text>`
 * (as in test/types) requires an error containing <text> on the next line.
 * A ```ts block of docs/dsl.md preceded by `<!-- no-check -->` is skipped.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const virtualDir = join(root, 'test/unit/.tsdoc-examples');

/**
 * Examples that cannot compile yet because of a known DSL type bug, found by file and a piece of
 * their code. Once such an example compiles, this test fails until it is removed from the list.
 */
const PENDING: readonly { file: string; contains: string; why: string }[] = [];

/** Globals that examples use without declaring them: the reader's own engine, kinds and data. */
const FIXTURES = `
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecutionStore, MetricsCollector, NodeKind, NodeRegistry, WorkflowDefinition, WorkflowEngine } from 'spane';
import { workflow } from 'spane';
import { z } from 'zod';

interface UserSchema extends z.ZodObject<{ userId: z.ZodNumber }> {}
interface OrderSchema extends z.ZodObject<{ orderId: z.ZodString; total: z.ZodNumber; items: z.ZodArray<z.ZodObject<{ sku: z.ZodString; quantity: z.ZodNumber }>> }> {}

const onboardingWorkflow = workflow('onboarding', { input: User })
  .then('fetch', fetchUser({ baseUrl: 'https://api.example.test' }))
  .then('welcome', sendEmail({ template: 'welcome' }))
  .build();
const paymentWorkflow = workflow('payment', { input: Payment }).then('charge', charge()).build();

declare global {
  const engine: WorkflowEngine;
  const engineA: WorkflowEngine;
  const engineB: WorkflowEngine;
  const engines: WorkflowEngine[];
  const registry: NodeRegistry;
  const store: ExecutionStore;
  const redis: import('ioredis').Redis;
  const metrics: MetricsCollector;
  const executionId: string;
  /** A hand-written definition with id 'fetch-and-transform'. */
  const fetchAndTransform: WorkflowDefinition;
  const baseUrl: string;
  /** A workflow definition as JSON, e.g. read from a file. */
  const storedJson: string;
  const res: ServerResponse;
  function isSignedIn(req: IncomingMessage): boolean;
  const mailer: { send(to: string, template: string): Promise<boolean> };

  const User: UserSchema;
  type User = z.infer<UserSchema>;
  const Order: OrderSchema;
  type Order = z.infer<OrderSchema>;
  const Query: z.ZodObject<{ from: z.ZodString; to: z.ZodString }>;
  const Payment: z.ZodObject<{ amount: z.ZodNumber }>;
  interface Profile { userId: number; name: string }
  interface Review { reviewer: string }
  interface Approval { approvedAt: string }
  interface Report { rows: number }

  const fetchUser: NodeKind<'fetch-user', { baseUrl: string }, { userId: number }, { id: number; email: string }>;
  const sendEmail: NodeKind<'send-email', { template: 'welcome' | 'reminder' }, { email: string }, { sent: boolean }>;
  const normalize: NodeKind<'normalize', undefined, { email: string }, { email: string }>;
  const charge: NodeKind<'charge', undefined, { amount: number }, { paymentId: string }>;
  const fetchA: NodeKind<'fetch-a', undefined, { from: string; to: string }, Report>;
  const fetchB: NodeKind<'fetch-b', undefined, Report, Report>;
  const merge: NodeKind<'merge', undefined, { a: Report; b: Report }, Report>;
  const loadProfile: NodeKind<'load-profile', undefined, { id: number }, Profile>;
  const loadOrders: NodeKind<'load-orders', undefined, { id: number }, Order[]>;
  const summarize: NodeKind<'summarize', undefined, { profile: Profile; orders: Order[] }, { text: string }>;
  const manualReview: NodeKind<'manual-review', undefined, Order, Review>;
  const autoApprove: NodeKind<'auto-approve', undefined, Order, Approval>;
  const notify: NodeKind<'notify', undefined, { review?: Review; approve?: Approval }, { sent: boolean }>;

  /** fetch (fetch-user) then welcome (send-email), input { userId: number }. */
  const onboarding: typeof onboardingWorkflow;
  /** charge, input { amount: number }, result { paymentId: string }. */
  const payment: typeof paymentWorkflow;
}
`;

interface Example {
  /** Path relative to the repository root. */
  file: string;
  /** 1-based line of the `@example` tag (or of the fence in Markdown). */
  line: number;
  /** 1-based line of the first line of code. */
  codeLine: number;
  code: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The ```ts blocks (or, without a fence, all the text) of each `@example` of a source file. */
function examplesOf(path: string): Example[] {
  const file = relative(root, path);
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\*\s*@example\b/.test(lines[i]!)) continue;
    const body: { text: string; line: number }[] = [];
    let inFence = false;
    for (let j = i + 1; j < lines.length; j++) {
      const raw = lines[j]!;
      if (/^\s*\*\//.test(raw) || (!inFence && /^\s*\*\s*@\w/.test(raw))) break;
      const text = raw.replace(/^\s*\* ?/, '');
      if (/^```/.test(text)) inFence = !inFence;
      body.push({ text, line: j + 1 });
    }
    const fenced = fencedBlocks(body);
    const blocks = fenced.length > 0 ? fenced : [body.filter((l) => l.text.trim() !== '')];
    for (const block of blocks) {
      if (block.length > 0) out.push({ file, line: i + 1, codeLine: block[0]!.line, code: block.map((l) => l.text).join('\n') });
    }
  }
  return out;
}

/** The lines inside ```ts (or ```typescript) fences; `<!-- no-check -->` before a fence skips it. */
function fencedBlocks(lines: readonly { text: string; line: number }[]): { text: string; line: number }[][] {
  const blocks: { text: string; line: number }[][] = [];
  let current: { text: string; line: number }[] | undefined;
  let other = false;
  lines.forEach((l, k) => {
    const fence = /^\s*```(\w*)/.exec(l.text);
    if (fence === null) {
      current?.push(l);
      return;
    }
    if (current !== undefined || other) {
      if (current !== undefined) blocks.push(current);
      current = undefined;
      other = false;
    } else if ((fence[1] === 'ts' || fence[1] === 'typescript') && !/<!--\s*no-check\s*-->/.test(lines[k - 1]?.text ?? '')) current = [];
    else other = true;
  });
  return blocks;
}

function markdownExamples(path: string): Example[] {
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .map((text, k) => ({ text, line: k + 1 }));
  return fencedBlocks(lines).map((block) => ({
    file: relative(root, path),
    line: block[0]!.line - 1,
    codeLine: block[0]!.line,
    code: block.map((l) => l.text).join('\n'),
  }));
}

/** Names exported by a module, split into values and types (syntactically: no checker needed). */
function exportsOf(path: string): { values: Set<string>; types: Set<string> } {
  const sf = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const values = new Set<string>();
  const types = new Set<string>();
  const exported = (node: ts.Node) => ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  for (const st of sf.statements) {
    if (ts.isExportDeclaration(st) && st.exportClause !== undefined && ts.isNamedExports(st.exportClause)) {
      for (const el of st.exportClause.elements) (st.isTypeOnly || el.isTypeOnly ? types : values).add(el.name.text);
    } else if (!exported(st)) continue;
    else if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) types.add(st.name.text);
    else if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st) || ts.isEnumDeclaration(st)) && st.name !== undefined) values.add(st.name.text);
    else if (ts.isVariableStatement(st)) for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) values.add(d.name.text);
  }
  return { values, types };
}

/** Top-level names an example binds itself (declarations and imports). */
function declaredBy(code: string): Set<string> {
  const sf = ts.createSourceFile('x.ts', code, ts.ScriptTarget.Latest, true);
  const names = new Set<string>();
  const bind = (name: ts.BindingName) => {
    if (ts.isIdentifier(name)) names.add(name.text);
    else for (const el of name.elements) if (!ts.isOmittedExpression(el)) bind(el.name);
  };
  for (const st of sf.statements) {
    if (ts.isVariableStatement(st)) st.declarationList.declarations.forEach((d) => bind(d.name));
    else if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st) || ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) && st.name !== undefined) {
      names.add(st.name.text);
    } else if (ts.isImportDeclaration(st) && st.importClause !== undefined) {
      const { name, namedBindings } = st.importClause;
      if (name !== undefined) names.add(name.text);
      if (namedBindings !== undefined && ts.isNamespaceImport(namedBindings)) names.add(namedBindings.name.text);
      if (namedBindings !== undefined && ts.isNamedImports(namedBindings)) namedBindings.elements.forEach((el) => names.add(el.name.text));
    }
  }
  return names;
}

const publicApi = exportsOf(join(root, 'src/index.ts'));

/** The one-line prelude of an example: imports of the names it uses and does not declare. */
function prelude(example: Example, virtualPath: string): string {
  const used = new Set(example.code.match(/[A-Za-z_$][\w$]*/g) ?? []);
  const own = declaredBy(example.code);
  const wanted = (name: string) => used.has(name) && !own.has(name);
  const specifiers = (api: { values: Set<string>; types: Set<string> }, skip?: { values: Set<string>; types: Set<string> }) => [
    ...[...api.values].filter((n) => wanted(n) && !skip?.values.has(n)),
    ...[...api.types].filter((n) => wanted(n) && !skip?.types.has(n)).map((n) => `type ${n}`),
  ];
  const imports: string[] = [];
  const fromSpane = specifiers(publicApi);
  if (fromSpane.length > 0) imports.push(`import { ${fromSpane.join(', ')} } from 'spane';`);
  if (example.file.startsWith('src/')) {
    const internal = specifiers(exportsOf(join(root, example.file)), publicApi);
    const specifier = relative(dirname(virtualPath), join(root, example.file)).replace(/\.ts$/, '.js');
    if (internal.length > 0) imports.push(`import { ${internal.join(', ')} } from '${specifier}';`);
  }
  if (wanted('z')) imports.push(`import { z } from 'zod';`);
  return imports.join(' ');
}

/**
 * The errors an example shows on purpose: a line after `// @ts-expect-error <reason>` must get
 * one, and with `-- expects: <text>` (as in test/types) one whose message contains <text>.
 * Keyed by 0-based line of the virtual module (the prelude is line 0).
 */
function expectedErrors(code: string): Map<number, { text: string | undefined; met: boolean }> {
  const expected = new Map<number, { text: string | undefined; met: boolean }>();
  code.split('\n').forEach((line, i) => {
    const m = /\/\/ @ts-expect-error(.*)$/.exec(line);
    if (m !== null) expected.set(i + 2, { text: m[1]!.split(' -- expects: ')[1]?.trim(), met: false });
  });
  return expected;
}

interface Checked {
  example: Example;
  errors: string[];
}

/** Type-checks every example in one program. */
function check(examples: readonly Example[]): { results: Checked[]; fixtureErrors: string[] } {
  const { config } = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, root);
  const options: ts.CompilerOptions = { ...parsed.options, noEmit: true, paths: { spane: [join(root, 'src/index.ts')] } };
  const fixturesPath = join(virtualDir, 'fixtures.mts');
  const virtual = new Map<string, string>([[fixturesPath, FIXTURES]]);
  const paths = examples.map((example, k) => {
    const path = join(virtualDir, `example-${k}.mts`);
    // The prelude takes line 1 whatever it holds, so code line n is line n + 1 of the module.
    // `@ts-expect-error` is turned off: the test checks the promised error itself (see expectedErrors).
    virtual.set(path, `${prelude(example, path)}\n${example.code.replace(/@ts-expect-error/g, 'expect-error--')}\nexport {};\n`);
    return path;
  });
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => virtual.has(resolve(f)) || fileExists.call(host, f);
  host.readFile = (f) => virtual.get(resolve(f)) ?? readFile.call(host, f);
  host.getSourceFile = (f, language, onError, shouldCreate) => {
    const text = virtual.get(resolve(f));
    return text === undefined ? getSourceFile.call(host, f, language, onError, shouldCreate) : ts.createSourceFile(f, text, language);
  };
  const program = ts.createProgram([fixturesPath, ...paths], options, host);
  const diagnosticsOf = (path: string) => {
    const sf = program.getSourceFile(path)!;
    return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
  };
  const format = (d: ts.Diagnostic, lineOf: (line: number) => string) => {
    const at = d.file !== undefined && d.start !== undefined ? lineOf(d.file.getLineAndCharacterOfPosition(d.start).line) : '?';
    return `${at}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n  ')}`;
  };
  const results = examples.map((example, k) => {
    const where = (line: number) => (line === 0 ? `${example.file} (prelude)` : `${example.file}:${example.codeLine + line - 1}`);
    const expected = expectedErrors(example.code);
    const errors: string[] = [];
    for (const d of diagnosticsOf(paths[k]!)) {
      const line = d.file !== undefined && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
      const expectation = expected.get(line);
      const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (expectation !== undefined && (expectation.text === undefined || message.includes(expectation.text))) expectation.met = true;
      else errors.push(format(d, where));
    }
    for (const [line, e] of expected)
      if (!e.met) errors.push(`${where(line)}: no error${e.text === undefined ? '' : ` containing "${e.text}"`}, but @ts-expect-error on the line before promises one`);
    return { example, errors };
  });
  const fixtureErrors = diagnosticsOf(fixturesPath).map((d) => format(d, (line) => `FIXTURES line ${line + 1}`));
  return { results, fixtureErrors };
}

const pendingOf = (e: Example) => PENDING.find((p) => p.file === e.file && e.code.includes(p.contains));

describe('TSDoc examples', () => {
  const examples = [...sourceFiles(join(root, 'src')).flatMap(examplesOf), ...markdownExamples(join(root, 'docs/dsl.md'))];
  const { results, fixtureErrors } = check(examples);

  it('finds the examples', () => {
    expect(examples.filter((e) => e.file.startsWith('src/')).length).toBeGreaterThan(80);
    expect(examples.some((e) => e.file === 'docs/dsl.md')).toBe(true);
  });

  it('has fixtures that compile', () => {
    expect(fixtureErrors.join('\n')).toBe('');
  });

  it('type-checks every example', () => {
    const broken = results.filter((r) => r.errors.length > 0 && pendingOf(r.example) === undefined);
    expect(broken.map((r) => `@example at ${r.example.file}:${r.example.line}\n  ${r.errors.join('\n  ')}`).join('\n\n')).toBe('');
  });

  it('keeps the pending list current', () => {
    const stale = PENDING.flatMap((p) => {
      const matches = results.filter((r) => pendingOf(r.example) === p);
      if (matches.length === 0) return [`PENDING entry ${p.file} '${p.contains}' matches no example: remove it`];
      return matches
        .filter((r) => r.errors.length === 0)
        .map((r) => `@example at ${r.example.file}:${r.example.line} compiles now (${p.why}): remove it from PENDING in test/unit/tsdoc-examples.test.ts`);
    });
    expect(stale.join('\n')).toBe('');
  });
});
