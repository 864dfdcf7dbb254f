/**
 * Counts the functions, methods and constructors in `src/` that take four or more positional
 * parameters (issue #13: past three, a function takes one options object). Run it with
 * `npx tsx scripts/count-params.ts`; it prints each as `file:line name (n params)` and the total.
 *
 * Declarations whose shape is fixed elsewhere are listed apart and left out of the total:
 * the `KEPT` table below says why each stays positional. Callbacks passed inline to a library
 * (a BullMQ processor, a zod refinement) are not declarations here and are not counted; neither
 * are type-level signatures (interface members, function types), which describe what others call.
 *
 * @packageDocumentation
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/** At this many positional parameters a declaration is counted. */
const THRESHOLD = 4;

/**
 * Declarations that stay positional, keyed `file#name`, with the reason. A key that no longer
 * matches a counted declaration is reported, so the table cannot silently go stale.
 */
const KEPT: Record<string, string> = {
  'src/runtime/engine/workflow-engine.ts#WorkflowEngine.constructor':
    "the spec's positional constructor (SPANE-README.md: new WorkflowEngine(registry, stateStore, redis, ...)), kept beside the options form",
  'src/runtime/engine/engine-options.ts#positionalOptions': "turns the spec's positional constructor arguments into the options form; its parameters are those arguments",
  'src/runtime/engine/workflow-engine.ts#WorkflowEngine.enqueueNode':
    "the engine's public enqueueNode(executionId, workflowId, nodeId, input?) (README's API table; the spec's WorkflowEngine 'enqueues workflows and individual nodes')",
  'src/dsl/workflow.ts#Builder.branch': 'public DSL, documented; mirrors .node(id, spec, options) and already ends in an options object',
  'src/runtime/observe/sse.ts#streamEvents': "public, documented: Node's (req, res) handler pair between the source and an options object",
  'src/store/memory.ts#InMemoryExecutionStore.transitionExecution': 'implements the public ExecutionStore contract, which user stores implement too',
  'src/store/drizzle/store.ts#DrizzleStore.transitionExecution': 'implements the public ExecutionStore contract, which user stores implement too',
};

const root = join(import.meta.dirname, '..');
const srcDir = join(root, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** A readable name for a function-like node: `Class.method`, `fn`, `Class.constructor`. */
function nameOf(node: ts.SignatureDeclaration): string {
  const own = (n: ts.Node): string | undefined => {
    if ('name' in n && n.name && ts.isIdentifier(n.name as ts.Node)) return (n.name as ts.Identifier).text;
    if ('name' in n && n.name && ts.isPrivateIdentifier(n.name as ts.Node)) return (n.name as ts.PrivateIdentifier).text;
    return undefined;
  };
  if (ts.isConstructorDeclaration(node)) return `${own(node.parent) ?? '<class>'}.constructor`;
  if (ts.isMethodDeclaration(node)) {
    const holder = ts.isClassLike(node.parent) ? own(node.parent) : undefined;
    return holder ? `${holder}.${own(node) ?? '<method>'}` : (own(node) ?? '<method>');
  }
  const direct = own(node);
  if (direct) return direct;
  // An arrow or function expression takes the name of what it is assigned to.
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) {
    return own(parent) ?? '<anonymous>';
  }
  return '<anonymous>';
}

/** Positional parameters, leaving out a TypeScript `this` parameter. */
function positional(node: ts.SignatureDeclaration): number {
  return node.parameters.filter((p) => !(ts.isIdentifier(p.name) && p.name.text === 'this')).length;
}

/** Inline callbacks (an argument to a call or `new`) have their shape set by the callee. */
function isInlineCallback(node: ts.Node): boolean {
  return (ts.isArrowFunction(node) || ts.isFunctionExpression(node)) && (ts.isCallExpression(node.parent) || ts.isNewExpression(node.parent));
}

interface Hit {
  where: string;
  key: string;
  name: string;
  count: number;
}

const hits: Hit[] = [];
for (const file of sourceFiles(srcDir).sort()) {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const rel = relative(root, file);
  const visit = (node: ts.Node): void => {
    const isFunctionLike =
      ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node);
    // Overload signatures have no body; the implementation is the one counted.
    if (isFunctionLike && (node as ts.FunctionLikeDeclaration).body && !isInlineCallback(node)) {
      const count = positional(node as ts.SignatureDeclaration);
      if (count >= THRESHOLD) {
        const name = nameOf(node as ts.SignatureDeclaration);
        const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
        hits.push({ where: `${rel}:${line}`, key: `${rel}#${name}`, name, count });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}

const counted = hits.filter((h) => !(h.key in KEPT));
const kept = hits.filter((h) => h.key in KEPT);
for (const h of counted) console.log(`${h.where}  ${h.name} (${h.count} params)`);
if (kept.length > 0) {
  console.log(`\nKept positional (not counted):`);
  for (const h of kept) console.log(`${h.where}  ${h.name} (${h.count} params): ${KEPT[h.key]}`);
}
const stale = Object.keys(KEPT).filter((key) => !hits.some((h) => h.key === key));
if (stale.length > 0) {
  console.log(`\nStale KEPT entries (no such declaration with >= ${THRESHOLD} params):`);
  for (const key of stale) console.log(`  ${key}`);
}
console.log(`\nTotal: ${counted.length} with >= ${THRESHOLD} positional parameters (${kept.length} kept positional)`);
