/**
 * The built `spane` binary (dist/cli.js), run as a child process against the local Redis and
 * PostgreSQL: --help of each command, exit codes, graph output, `run` with live data, and a
 * worker process that another engine feeds and SIGTERM stops.
 *
 * CI builds before it tests (.ci/run); when dist/cli.js is missing, this file builds it first.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, DrizzleStore, NodeRegistry } from '../../src/index.js';
import type { WorkflowEngine } from '../../src/index.js';
import { createTestDatabase } from '../contract/databases.js';
import type { TestDatabase } from '../contract/databases.js';
import { deleteKeys, ensureBuilt, memoryLogger, REDIS_URL, runNode, until } from '../helpers.js';
import type { NodeRun } from '../helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(root, 'dist/cli.js');
const FIXTURES = 'test/fixtures/cli';
const prefix = `{spane-cli-${randomUUID().slice(0, 8)}}`;

/** Runs the binary to its end. */
function spane(args: string[], env: NodeJS.ProcessEnv = {}): Promise<NodeRun> {
  return runNode([CLI, ...args], root, env);
}

beforeAll(() => ensureBuilt(root, CLI), 180_000);

afterAll(async () => {
  const redis = new Redis(REDIS_URL);
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

describe('spane --help', () => {
  it.each(['run', 'validate', 'graph', 'docs', 'worker', 'migrate', 'fork'])('%s --help describes the command and exits 0', async (command) => {
    const r = await spane([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^Usage: spane ${command} `));
    expect(r.out).toContain('--help');
  });

  it('--help lists every command; --version prints the package version', async () => {
    const help = await spane(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['run', 'validate', 'graph', 'docs', 'worker', 'migrate', 'fork']) expect(help.out).toMatch(new RegExp(`\\n  ${command} `));
    const version = await spane(['--version']);
    expect(version.out.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('an unknown command exits 1 with a hint', async () => {
    const r = await spane(['frobnicate']);
    expect(r.code).toBe(1);
    expect(r.err).toContain("unknown command 'frobnicate'");
  });
});

describe('spane validate and graph', () => {
  it('exits 0 on valid files and 1 with one line per problem on invalid ones', async () => {
    const good = await spane(['validate', 'examples/quickstart.ts', `${FIXTURES}/greet.ts`]);
    expect(good.code).toBe(0);
    expect(good.out).toContain('examples/quickstart.ts: fetch-and-transform: ok (2 nodes)');
    const bad = await spane(['validate', `${FIXTURES}/broken.ts`]);
    expect(bad.code).toBe(1);
    expect(bad.out.trim().split('\n')).toHaveLength(3);
    expect(bad.out).toContain('cli-cyclic: nodes: the graph has a cycle: b -> c -> b');
  });

  it('a module without workflows is a one-line error, exit 1', async () => {
    const r = await spane(['graph', `${FIXTURES}/empty.ts`]);
    expect(r.code).toBe(1);
    expect(r.err.trim()).toBe(
      `spane: ${FIXTURES}/empty.ts: exports no workflow. Export \`workflows\` (an array of definitions: built with workflow(...).build() or written as JSON), export one as default, or export definitions by name (exports found: answer)`,
    );
  });

  it('prints the graph as Mermaid and as JSON', async () => {
    const mermaid = await spane(['graph', 'examples/quickstart.ts']);
    expect(mermaid.code).toBe(0);
    expect(mermaid.out).toBe(['%% fetch-and-transform', 'flowchart TD', '  n0[/"fetch<br/>http"/]', '  n1["transform<br/>transform"]', '  n0 --> n1', ''].join('\n'));
    const json = await spane(['graph', 'examples/quickstart.ts', '--format', 'json']);
    expect(JSON.parse(json.out)).toMatchObject({ id: 'fetch-and-transform', entryNodeId: 'fetch' });
  });
});

describe('spane run', () => {
  it('runs the quick start on Redis: a plain progress line per node change, the result as JSON, exit 0', async () => {
    const r = await spane(['run', 'examples/quickstart.ts', '--backend', 'redis', '--prefix', prefix, '--timeout', '60']);
    expect(r.err).toMatch(/fetch-and-transform: execution [0-9a-f-]{36} \(redis\)/);
    expect(r.err).toMatch(/✓ fetch +completed +\d+ ms/);
    expect(r.err).toMatch(/✓ transform +completed +\d+ ms/);
    expect(r.err).toContain('fetch-and-transform: completed in');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out) as { user: { name: string }; processedAt: string };
    expect(result.user.name).toBe('Ada');
    expect(Date.parse(result.processedAt)).not.toBeNaN();
  });

  it('runs the quick start on the default embedded backend with Redis and PostgreSQL unreachable', async () => {
    const closed = {
      REDIS_URL: 'redis://127.0.0.1:9',
      SPANE_REDIS_URL: 'redis://127.0.0.1:9',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none',
      SPANE_DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none',
    };
    const r = await spane(['run', 'examples/quickstart.ts'], closed);
    expect(r.err).toMatch(/fetch-and-transform: execution [0-9a-f-]{36} \(embedded\)/);
    expect(r.err).toMatch(/✓ transform +completed/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ plan: 'pro', user: { name: 'Ada' } });
  }, 180_000);

  it('runs on the PostgreSQL backend', async () => {
    const database = await createTestDatabase();
    try {
      const r = await spane(['run', `${FIXTURES}/greet.ts`, '--backend', 'postgres', '--database-url', database.url, '-w', 'cli-greet-json']);
      expect(r.err).toContain('(postgres)');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toEqual({ text: 'hello!!' });
    } finally {
      await database.drop();
    }
  }, 180_000);

  it('names an unreachable Redis and exits 1', async () => {
    const r = await spane(['run', 'examples/quickstart.ts', '--backend', 'redis', '--redis-url', 'redis://127.0.0.1:9']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^spane: .*redis.*127\.0\.0\.1:9/im);
  });

  it('takes --input and --workflow, and runs DSL and JSON workflows of one module', async () => {
    const json = await spane(['run', `${FIXTURES}/greet.ts`, '-b', 'redis', '--prefix', prefix, '-w', 'cli-greet-json', '--input', '{"text":"hi"}']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toEqual({ text: 'hi!!' });
    const dsl = await spane(['run', `${FIXTURES}/greet.ts`, '-b', 'redis', '--prefix', prefix, '-w', 'cli-greet-dsl']);
    expect(dsl.code).toBe(0);
    expect(JSON.parse(dsl.out)).toEqual({ text: 'HELLO' });
  });

  it("refuses --input the workflow's input schema refuses: exit 2, before connecting to anything", async () => {
    // An unreachable Redis: the check comes first, so the command never tries it.
    const r = await spane(['run', `${FIXTURES}/greet.ts`, '-b', 'redis', '--redis-url', 'redis://127.0.0.1:1', '-w', 'cli-greet-dsl', '--input', '{"text":5}']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain("spane: Workflow 'cli-greet-dsl': input does not match the workflow's input schema");
    expect(r.err).toMatch(/- text: /);
    expect(r.err).toContain('Nothing was started. Fix the data (--input)');
    expect(r.err).not.toMatch(/ECONNREFUSED|unreachable/i);
  });

  it('--backend postgres without a database URL names the flag and the variables, exit 1', async () => {
    const r = await spane(['run', `${FIXTURES}/greet.ts`, '-b', 'postgres', '-w', 'cli-greet-dsl'], { SPANE_DATABASE_URL: '', DATABASE_URL: '' });
    expect(r.code).toBe(1);
    expect(r.err.trim()).toBe('spane: --backend postgres needs a database: pass --database-url <url> or set SPANE_DATABASE_URL (or DATABASE_URL)');
  });

  it('loads a TypeScript module compiled as CommonJS that requires a package the command already loaded', async () => {
    const r = await spane(['run', `${FIXTURES}/commonjs/flow.ts`, '--backend', 'redis', '--prefix', prefix]);
    expect(r.err).not.toContain('Cannot redefine property');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ redisClass: 'Redis' });
  });

  it('exits 1 and names the failed node when the execution fails', async () => {
    const r = await spane(['run', `${FIXTURES}/failing.ts`, '--backend', 'redis', '--prefix', prefix]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/✗ boom +failed/);
    expect(r.err).toContain('cli-failing: failed after');
    expect(r.err).toContain('boom: boom on purpose');
  });

  it("runs a node that throws a NonRetryableError of the module's own copy of SPANE once, under maxAttempts 3", async () => {
    const r = await spane(['run', `${FIXTURES}/non-retryable.ts`, '--backend', 'redis', '--prefix', prefix]);
    expect(r.code).toBe(1);
    expect(r.err.match(/\[fixture\] refuse ran/g)).toHaveLength(1);
    expect(r.err).toContain('refused on purpose');
  });

  it('runs to the end when whoever reads its output has gone (`spane run … | head -1`)', async () => {
    const child = spawn(process.execPath, [CLI, 'run', `${FIXTURES}/greet.ts`, '-w', 'cli-greet-json', '--backend', 'redis', '--prefix', prefix], { cwd: root, env: process.env });
    // Both pipes closed before the first line: every write the command makes gets EPIPE.
    child.stdout.destroy();
    child.stderr.destroy();
    expect(await new Promise<number | null>((r) => child.on('close', r))).toBe(0);
  }, 60_000);

  it.each([
    ['SIGINT', 'Ctrl-C', 130],
    ['SIGTERM', 'a stop request (a container or service manager stopping it)', 143],
  ] as const)(
    '%s (%s) cancels the execution and exits %i',
    async (signal, _what, code) => {
      const child = spawn(process.execPath, [CLI, 'run', `${FIXTURES}/slow.ts`, '--backend', 'redis', '--prefix', prefix], { cwd: root, env: process.env });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.stdout.resume();
      const closed = new Promise<number | null>((r) => child.on('close', r));
      await until(() => err.includes('execution ') && /wait +running/.test(err), 30_000, 'the node to start');
      child.kill(signal);
      expect(await closed).toBe(code);
      expect(err).toMatch(/cli-slow: interrupted; execution [0-9a-f-]+ cancelled/);
    },
    60_000,
  );
});

describe('spane migrate', () => {
  it('brings a fresh PostgreSQL database up to date, so a store opened with migrate: false works; a second run changes nothing', async () => {
    const database = await createTestDatabase();
    try {
      const r = await spane(['migrate', '--database-url', database.url]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toContain(`PostgreSQL database '${database.name}'`);
      const store = await DrizzleStore.postgres(database.url, { migrate: false });
      try {
        expect(await store.saveWorkflow({ id: 'm', name: 'm', entryNodeId: 'a', nodes: [{ id: 'a', type: 't', config: {}, inputs: [], outputs: [] }] })).toBe(1);
      } finally {
        await store.close();
      }
      const again = await spane(['migrate'], { SPANE_DATABASE_URL: database.url });
      expect(again.code).toBe(0);
    } finally {
      await database.drop();
    }
  }, 180_000);

  it('brings a PGlite data directory up to date', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spane-migrate-'));
    try {
      const r = await spane(['migrate', '--data-dir', dir]);
      expect(r.code).toBe(0);
      expect(r.out).toContain(`PGlite database in ${dir}`);
      const store = await DrizzleStore.pglite({ dataDir: dir, migrate: false });
      try {
        expect(await store.getWorkflowVersions('none')).toEqual([]);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('without a database, with two, or with one that does not answer: one line and exit 1', async () => {
    const none = await spane(['migrate'], { SPANE_DATABASE_URL: '', DATABASE_URL: '' });
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/^spane migrate: no database: pass --database-url <url> or --data-dir <dir>/);
    const both = await spane(['migrate', '--database-url', 'postgres://x@127.0.0.1:9/x', '--data-dir', '/tmp/x']);
    expect(both.code).toBe(1);
    expect(both.err).toContain('pass either --database-url or --data-dir, not both');
    const down = await spane(['migrate', '--database-url', 'postgres://postgres@127.0.0.1:9/nothing']);
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/^spane: Cannot open the postgres backend \(spane migrate: database 'nothing' on 127.0.0.1:9\): .*ECONNREFUSED/);
    expect(down.err.trim().split('\n')).toHaveLength(1);
  }, 60_000);
});

describe('spane worker', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  it.each(['redis', 'postgres'] as const)(
    '--backend %s: processes executions another engine enqueues, and stops gracefully on SIGTERM',
    async (backend) => {
      const flags = backend === 'redis' ? ['--prefix', prefix] : [];
      const child: ChildProcessWithoutNullStreams = spawn(
        process.execPath,
        [CLI, 'worker', `${FIXTURES}/greet.ts`, '--backend', backend, ...flags, '--database-url', database.url, '--concurrency', '2'],
        { cwd: root, env: process.env },
      );
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const exited = new Promise<number | null>((r) => child.on('close', r));
      let producer: WorkflowEngine | undefined;
      try {
        await until(() => err.includes(': ready (') || child.exitCode !== null, 90_000, 'the worker to be ready');
        expect(err).toContain(`ready (${backend}, concurrency 2) for cli-greet-dsl, cli-greet-json`);
        // A producer only: it starts no workers, so the worker process must run the nodes.
        producer =
          backend === 'redis'
            ? await createEngine({ registry: new NodeRegistry(), backend, redis: REDIS_URL, databaseUrl: database.url, config: { prefix }, logger: memoryLogger() })
            : await createEngine({ registry: new NodeRegistry(), backend, databaseUrl: database.url, logger: memoryLogger() });
        const executionId = await producer.enqueueWorkflow('cli-greet-json', { text: `from afar (${backend})` });
        const done = await producer.waitForExecution(executionId, { timeoutMs: 60_000 });
        expect(done.status).toBe('completed');
        expect(done.nodeResults['twice']?.data).toEqual({ text: `from afar (${backend})!!` });
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
        expect(err).toContain('SIGTERM, finishing running jobs');
        expect(err).toMatch(/stopped\n$/);
      } finally {
        child.kill('SIGKILL');
        await producer?.close();
      }
    },
    150_000,
  );
});

describe('spane fork', () => {
  let database: TestDatabase;
  let engine: WorkflowEngine | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await engine?.close();
    await database.drop();
  });

  it('forks a failed execution from a node and prints the new id; refusals are one line and exit 1', async () => {
    let broken = true;
    const registry = new NodeRegistry();
    registry.register('cli-step', async (ctx) => ({ success: true, data: { got: ctx.inputData } }));
    registry.register('cli-fragile', async (ctx) => (broken ? { success: false, error: 'down', retryable: false } : { success: true, data: { fixed: ctx.inputData } }));
    engine = await createEngine({ registry, backend: 'redis', redis: REDIS_URL, databaseUrl: database.url, config: { prefix }, logger: memoryLogger() });
    await engine.registerWorkflow({
      id: 'cli-fork',
      name: 'cli-fork',
      entryNodeId: 'a',
      nodes: [
        { id: 'a', type: 'cli-step', config: {}, inputs: [], outputs: ['b'] },
        { id: 'b', type: 'cli-fragile', config: {}, inputs: ['a'], outputs: [] },
      ],
    });
    engine.startWorkers(2);
    const original = await engine.waitForExecution(await engine.enqueueWorkflow('cli-fork', { n: 1 }), { timeoutMs: 30_000 });
    expect(original.status).toBe('failed');
    broken = false;

    const flags = ['--database-url', database.url, '--prefix', prefix];
    const r = await spane(['fork', original.executionId, '--from', 'b', '--input', '{"n":2}', ...flags]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const forkId = r.out.trim();
    const fork = await engine.waitForExecution(forkId, { timeoutMs: 30_000 });
    expect(fork.status).toBe('completed');
    expect(fork.forkedFrom).toEqual({ executionId: original.executionId, nodeId: 'b' });
    expect(fork.nodeResults['b']?.data).toEqual({ fixed: { n: 2 } });

    const unknownNode = await spane(['fork', original.executionId, '--from', 'zzz', ...flags]);
    expect(unknownNode.code).toBe(1);
    expect(unknownNode.err.trim()).toBe(`spane: forkExecution: workflow 'cli-fork' version 1 has no node 'zzz'`);
    const unknownVersion = await spane(['fork', original.executionId, '--from', 'b', '--version', '7', ...flags]);
    expect(unknownVersion.code).toBe(1);
    expect(unknownVersion.err.trim()).toBe(`spane: Workflow 'cli-fork' version 7 is not registered`);
    const badJson = await spane(['fork', original.executionId, '--from', 'b', '--input', '{', ...flags]);
    expect(badJson.code).toBe(1);
    expect(badJson.err.trim()).toBe('spane fork: --input is not valid JSON');
    expect((await engine.getExecution(original.executionId))?.status).toBe('failed');
  }, 120_000);
});
