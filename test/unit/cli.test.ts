/**
 * The `spane` command in-process: what a workflow module may export, argument handling, the
 * validate/graph/docs commands and the progress view. The built binary is tested in
 * test/integration/cli.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseInput } from '../../src/cli/commands/run.js';
import type { CliIO } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';
import { createProgressView, formatDuration } from '../../src/cli/progress.js';
import type { ProgressStream } from '../../src/cli/progress.js';
import { loadWorkflowModule, readWorkflowModule, selectWorkflow } from '../../src/cli/workflow-module.js';
import { InvalidArgumentError, NODE_EXECUTORS, NodeRegistry, NonRetryableError, WorkflowModuleError } from '../../src/index.js';
import type { ExecutionContext, SpaneEvent, WorkflowDefinition } from '../../src/index.js';

const FIXTURES = 'test/fixtures/cli';

function def(id: string): WorkflowDefinition {
  return { id, name: id, entryNodeId: 'a', nodes: [{ id: 'a', type: 'step', config: {}, inputs: [], outputs: [] }] };
}

function capture(): ProgressStream & { text: () => string } {
  const chunks: string[] = [];
  return { write: (c: string) => chunks.push(c), text: () => chunks.join('') };
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = capture();
  const stderr = capture();
  const io: CliIO = { stdout, stderr, cwd: process.cwd() };
  const code = await runCli(argv, io);
  return { code, out: stdout.text(), err: stderr.text() };
}

function moduleError(fn: () => unknown): WorkflowModuleError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WorkflowModuleError);
    expect((err as WorkflowModuleError).code).toBe('WORKFLOW_MODULE_INVALID');
    return err as WorkflowModuleError;
  }
  throw new Error('expected a WorkflowModuleError');
}

describe('readWorkflowModule', () => {
  it('takes the `workflows` export, as an array or an object', () => {
    expect(readWorkflowModule({ workflows: [def('a'), def('b')] }, 'm.ts').workflows.map((w) => w.id)).toEqual(['a', 'b']);
    expect(readWorkflowModule({ workflows: { one: def('x') } }, 'm.ts').workflows.map((w) => w.id)).toEqual(['x']);
  });

  it('takes a default export: one definition, an array, or an object shaped like a module', () => {
    expect(readWorkflowModule({ default: def('d') }, 'm.ts').workflows.map((w) => w.id)).toEqual(['d']);
    expect(readWorkflowModule({ default: [def('d1'), def('d2')] }, 'm.ts').workflows.map((w) => w.id)).toEqual(['d1', 'd2']);
    const nested = readWorkflowModule({ default: { workflows: [def('n')], executors: { step: async () => ({ success: true }) }, input: { k: 1 } } }, 'm.ts');
    expect(nested.workflows.map((w) => w.id)).toEqual(['n']);
    expect(nested.registry?.has('step')).toBe(true);
    expect(nested.input).toEqual({ k: 1 });
  });

  it('falls back to every named export that is a definition', () => {
    const mod = readWorkflowModule({ first: def('f'), helper: () => 1, second: def('s'), other: { id: 'not-a-workflow' } }, 'm.ts');
    expect(mod.workflows.map((w) => w.id)).toEqual(['f', 's']);
    expect(mod.registry).toBeUndefined();
    expect(mod.input).toBeUndefined();
  });

  it('names the exports it found when none is a workflow', () => {
    const err = moduleError(() => readWorkflowModule({ answer: 42, helper: () => 1 }, 'empty.ts'));
    expect(err.file).toBe('empty.ts');
    expect(err.message).toContain('empty.ts: exports no workflow');
    expect(err.message).toContain('exports found: answer, helper');
    expect(moduleError(() => readWorkflowModule({}, 'none.ts')).message).toContain('exports found: none');
  });

  it('refuses what is not a workflow inside `workflows`, naming where it is', () => {
    expect(moduleError(() => readWorkflowModule({ workflows: [def('a'), { id: 'b' }] }, 'm.ts')).message).toContain('workflows[1] is not a workflow definition');
    expect(moduleError(() => readWorkflowModule({ workflows: 'a' }, 'm.ts')).message).toContain("export 'workflows' must be an array");
  });

  it('refuses duplicate ids and ambiguous or malformed executors', () => {
    expect(moduleError(() => readWorkflowModule({ workflows: [def('a'), def('a')] }, 'm.ts')).message).toContain("two workflows with the id 'a'");
    const both = { workflows: [def('a')], registry: new NodeRegistry(), executors: {} };
    expect(moduleError(() => readWorkflowModule(both, 'm.ts')).message).toContain("both 'registry' and 'executors'");
    expect(moduleError(() => readWorkflowModule({ workflows: [def('a')], registry: {} }, 'm.ts')).message).toContain("export 'registry' must be a NodeRegistry");
    expect(moduleError(() => readWorkflowModule({ workflows: [def('a')], executors: { step: 42 } }, 'm.ts')).message).toContain(
      'executors.step must be an object with an execute(context) method',
    );
  });

  it('uses an exported NodeRegistry as it is', () => {
    const registry = new NodeRegistry().register('step', async () => ({ success: true }));
    expect(readWorkflowModule({ workflows: [def('a')], registry }, 'm.ts').registry).toBe(registry);
  });
});

describe('loadWorkflowModule', () => {
  it('imports a TypeScript module, keeping the executors DSL workflows carry', async () => {
    const mod = await loadWorkflowModule(`${FIXTURES}/greet.ts`);
    expect(mod.workflows.map((w) => w.id)).toEqual(['cli-greet-dsl', 'cli-greet-json']);
    expect(mod.workflows[0]![NODE_EXECUTORS]?.map((c) => c.type)).toEqual(['shout']);
    expect(mod.registry?.getRegisteredTypes()).toEqual(['exclaim']);
    expect(mod.input).toEqual({ text: 'hello' });
  });

  it('reads a JSON file holding a definition or an array of them', async () => {
    const mod = await loadWorkflowModule(`${FIXTURES}/pair.json`);
    expect(mod.workflows.map((w) => w.id)).toEqual(['cli-json-file']);
  });

  it('gives the module the running copy of SPANE: an error class it imports is the one the engine checks', async () => {
    const mod = await loadWorkflowModule(`${FIXTURES}/failing.ts`);
    const boom = mod.registry?.get('boom');
    await expect(boom?.execute({} as ExecutionContext)).rejects.toBeInstanceOf(NonRetryableError);
  });

  it('turns an error thrown while loading into a WorkflowModuleError naming the file and line, the error as cause', async () => {
    const err = await loadWorkflowModule(`${FIXTURES}/throws-on-import.ts`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowModuleError);
    expect((err as Error).message).toBe(`${FIXTURES}/throws-on-import.ts: could not be loaded: RangeError: no settings here (at ${FIXTURES}/throws-on-import.ts:4:7)`);
    expect((err as Error).cause).toBeInstanceOf(RangeError);
  });

  it('refuses a missing file with a typed error', async () => {
    await expect(loadWorkflowModule(`${FIXTURES}/nope.ts`)).rejects.toThrow(WorkflowModuleError);
    await expect(loadWorkflowModule(`${FIXTURES}/nope.ts`)).rejects.toThrow(/nope\.ts: no such file/);
  });
});

describe('selectWorkflow and --input', () => {
  const mod = readWorkflowModule({ workflows: [def('a'), def('b')] }, 'm.ts');

  it('needs --workflow when the module has several, and names the choices', () => {
    expect(selectWorkflow(mod, 'b').id).toBe('b');
    expect(() => selectWorkflow(mod, undefined)).toThrow(/exports 2 workflows \(a, b\): choose one with --workflow <id>/);
    expect(() => selectWorkflow(mod, 'c')).toThrow(/has no workflow 'c' \(workflows: a, b\)/);
  });

  it('without --workflow, picks the one workflow that the others serve as sub-workflows', () => {
    const parent = { ...def('parent'), nodes: [{ id: 'call', type: 'sub-workflow', config: { workflowId: 'child' }, inputs: [], outputs: [] }], entryNodeId: 'call' };
    expect(selectWorkflow(readWorkflowModule({ workflows: [def('child'), parent] }, 'm.ts'), undefined).id).toBe('parent');
    // Two parents of one child: still a choice to make.
    const other = { ...parent, id: 'other' };
    expect(() => selectWorkflow(readWorkflowModule({ workflows: [def('child'), parent, other] }, 'm.ts'), undefined)).toThrow(/exports 3 workflows .*--workflow <id>/);
  });

  it('parses --input as JSON, else uses the fallback', () => {
    expect(parseInput('{"n":1}', undefined)).toEqual({ n: 1 });
    expect(parseInput(undefined, { from: 'module' })).toEqual({ from: 'module' });
    expect(() => parseInput('{n:1}', undefined)).toThrow(InvalidArgumentError);
    expect(() => parseInput('{n:1}', undefined)).toThrow(/--input must be JSON/);
  });
});

describe('runCli', () => {
  it('prints usage and exits 1 without a command', async () => {
    const r = await cli();
    expect(r.code).toBe(1);
    expect(r.err).toContain('Usage: spane');
  });

  it('rejects an unknown backend and a bad concurrency before loading anything', async () => {
    const backend = await cli('run', `${FIXTURES}/greet.ts`, '--backend', 'sqlite');
    expect(backend.code).toBe(1);
    expect(backend.err).toContain("argument 'sqlite' is invalid. Allowed choices are embedded, redis, postgres");
    const concurrency = await cli('run', `${FIXTURES}/greet.ts`, '--concurrency', '0');
    expect(concurrency.code).toBe(1);
    expect(concurrency.err).toContain('--concurrency must be a positive integer');
  });

  it('reports a bad --input as one line naming the option', async () => {
    const r = await cli('run', `${FIXTURES}/greet.ts`, '--workflow', 'cli-greet-json', '--input', '{oops');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^spane: --input must be JSON/);
  });

  it('refuses connection options that do not fit the backend, naming the flag', async () => {
    const dataDir = await cli('run', `${FIXTURES}/greet.ts`, '-w', 'cli-greet-json', '--backend', 'redis', '--data-dir', '/tmp/x');
    expect(dataDir.code).toBe(1);
    expect(dataDir.err.trim()).toBe('spane: --data-dir applies to --backend embedded, not redis');
    const redisUrl = await cli('run', `${FIXTURES}/greet.ts`, '-w', 'cli-greet-json', '--redis-url', 'redis://127.0.0.1:6379');
    expect(redisUrl.err.trim()).toBe('spane: --redis-url applies to --backend redis, not embedded');
  });

  it('refuses the embedded backend for workers', async () => {
    const r = await cli('worker', `${FIXTURES}/greet.ts`, '--backend', 'embedded');
    expect(r.code).toBe(1);
    expect(r.err).toContain('Allowed choices are redis, postgres');
  });

  it('validate: one line per problem and exit 1; ok lines and exit 0 for good files', async () => {
    const bad = await cli('validate', `${FIXTURES}/broken.ts`, `${FIXTURES}/refused-dsl.ts`, `${FIXTURES}/empty.ts`);
    expect(bad.code).toBe(1);
    expect(bad.out.trim().split('\n')).toEqual([
      `${FIXTURES}/broken.ts: cli-cyclic: nodes: the graph has a cycle: b -> c -> b`,
      `${FIXTURES}/broken.ts: cli-dangling: nodes[0].outputs: 'start' points to 'nowhere', which is not a node of this workflow`,
      `${FIXTURES}/broken.ts: cli-dangling: nodes[0].type: no executor is registered for type 'missing-type' (node 'start')`,
      `${FIXTURES}/refused-dsl.ts: cli-clash: nodes[1].type: nodes 'a' and 'b' use two different node kinds with the same type 'same-type'; give each distinct run its own type`,
      expect.stringMatching(new RegExp(`^${FIXTURES}/empty.ts: exports no workflow`)),
    ]);
    const good = await cli('validate', `${FIXTURES}/greet.ts`, `${FIXTURES}/pair.json`);
    expect(good.code).toBe(0);
    expect(good.out).toBe(
      [`${FIXTURES}/greet.ts: cli-greet-dsl: ok (1 node)`, `${FIXTURES}/greet.ts: cli-greet-json: ok (2 nodes)`, `${FIXTURES}/pair.json: cli-json-file: ok (2 nodes)`, ''].join(
        '\n',
      ),
    );
  });

  it('graph: Mermaid per workflow, or the definition as JSON', async () => {
    const mermaid = await cli('graph', `${FIXTURES}/greet.ts`);
    expect(mermaid.code).toBe(0);
    expect(mermaid.out).toContain('%% cli-greet-dsl\nflowchart TD\n  n0[/"shout<br/>shout"/]');
    expect(mermaid.out).toContain('%% cli-greet-json\nflowchart TD');
    expect(mermaid.out).toContain('n0 --> n1');
    const json = await cli('graph', `${FIXTURES}/greet.ts`, '--format', 'json', '--workflow', 'cli-greet-json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({ id: 'cli-greet-json', entryNodeId: 'exclaim', nodes: [{ id: 'exclaim' }, { id: 'twice' }] });
    const both = JSON.parse((await cli('graph', `${FIXTURES}/greet.ts`, '-f', 'json')).out) as WorkflowDefinition[];
    expect(both.map((w) => w.id)).toEqual(['cli-greet-dsl', 'cli-greet-json']);
  });

  it('docs: one page per workflow and an index, and nothing when a file cannot be used', async () => {
    const out = mkdtempSync(join(tmpdir(), 'spane-docs-'));
    try {
      const r = await cli('docs', 'examples/dsl-branching.ts', `${FIXTURES}/greet.ts`, '--out', out);
      expect(r.code).toBe(0);
      const page = readFileSync(join(out, 'dsl-orders.md'), 'utf8');
      expect(page).toContain('<!-- Generated by `spane docs` from examples/dsl-branching.ts. Do not edit. -->');
      expect(page).toContain('# Order routing (`dsl-orders`)');
      expect(page).toContain('n1{"route<br/>router:by-total"}');
      expect(page).toContain('- Webhook `POST /orders`');
      const index = readFileSync(join(out, 'index.md'), 'utf8');
      expect(index).toContain('[`cli-greet-dsl`](./cli-greet-dsl.md)');
      expect(index).toContain('[`dsl-orders`](./dsl-orders.md) — from `examples/dsl-branching.ts`');

      const empty = mkdtempSync(join(tmpdir(), 'spane-docs-'));
      const refused = await cli('docs', `${FIXTURES}/greet.ts`, `${FIXTURES}/empty.ts`, '--out', empty);
      expect(refused.code).toBe(1);
      expect(refused.err).toContain(`spane: ${FIXTURES}/empty.ts: exports no workflow`);
      expect(() => readFileSync(join(empty, 'index.md'))).toThrow();
      rmSync(empty, { recursive: true, force: true });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('docs needs --out', async () => {
    const r = await cli('docs', `${FIXTURES}/greet.ts`);
    expect(r.code).toBe(1);
    expect(r.err).toContain("required option '-o, --out <dir>' not specified");
  });
});

describe('progress view', () => {
  const nodes = [
    { id: 'fetch', type: 'http' },
    { id: 'transform', type: 'transform' },
  ];
  const event = (type: SpaneEvent['type'], nodeId: string, extra: Partial<SpaneEvent> = {}): SpaneEvent => ({
    id: `${type}-${nodeId}`,
    type,
    executionId: 'e1',
    workflowId: 'w',
    nodeId,
    timestamp: 1000,
    ...extra,
  });

  it('writes one plain line per change when not live, only for the followed execution', () => {
    const stream = capture();
    const view = createProgressView({ nodes, stream, live: false });
    view.onEvent(event('node:started', 'fetch', { attempt: 1 }));
    view.onEvent(event('node:started', 'fetch', { executionId: 'other' }));
    view.follow('e1');
    view.onEvent(event('node:completed', 'fetch', { durationMs: 42 }));
    view.onEvent(event('node:failed', 'transform', { durationMs: 1500, error: 'bad input' }));
    view.stop();
    expect(stream.text().split('\n')).toEqual(['… fetch      running', '✓ fetch      completed     42 ms', '✗ transform  failed        1.5 s  bad input', '']);
  });

  it('rewrites one line per node in place when live', () => {
    const stream = Object.assign(capture(), { isTTY: true });
    let now = 1000;
    const view = createProgressView({ nodes, stream, now: () => now });
    view.follow('e1');
    view.onEvent(event('node:started', 'fetch', { attempt: 1 }));
    now = 1250;
    view.stop();
    const frames = stream.text().split('\x1b[2A');
    expect(frames[0]).toBe('\r· fetch      pending\x1b[K\n\r· transform  pending\x1b[K\n');
    expect(frames.at(-1)).toBe('\r… fetch      running      250 ms\x1b[K\n\r· transform  pending\x1b[K\n');
  });

  it('cuts live lines to the terminal width, and leaves them whole when the width is unknown (0)', () => {
    const narrow = Object.assign(capture(), { isTTY: true, columns: 12 });
    const cut = createProgressView({ nodes, stream: narrow });
    cut.follow('e1');
    cut.stop();
    expect(narrow.text()).toContain('\r· fetch   …\x1b[K\n');
    const unknown = Object.assign(capture(), { isTTY: true, columns: 0 });
    const whole = createProgressView({ nodes, stream: unknown });
    whole.follow('e1');
    whole.stop();
    expect(unknown.text()).toContain('\r· transform  pending\x1b[K\n');
  });

  it('formats durations for people', () => {
    expect([formatDuration(850), formatDuration(1234), formatDuration(125_000)]).toEqual(['850 ms', '1.2 s', '2 min 5 s']);
  });
});
