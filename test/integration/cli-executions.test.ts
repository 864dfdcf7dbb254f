/**
 * `spane executions list|inspect` and `spane dlq list|retry`, run as the built binary against
 * executions another process (this test's engine, on Redis with a DrizzleStore on PostgreSQL)
 * ran: what an operator does from another terminal.
 *
 * CI builds before it tests (.ci/run); when dist/cli.js is missing, this file builds it first.
 */
import { randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, DrizzleStore, NodeRegistry } from '../../src/index.js';
import type { DLQItem, ExecutionSummaryPage, WorkflowEngine } from '../../src/index.js';
import { createTestDatabase } from '../contract/databases.js';
import type { TestDatabase } from '../contract/databases.js';
import { deleteKeys, ensureBuilt, graph, memoryLogger, node, REDIS_URL, runNode, until } from '../helpers.js';
import type { NodeRun } from '../helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(root, 'dist/cli.js');
const prefix = `{spane-cli-list-${randomUUID().slice(0, 8)}}`;

let database: TestDatabase;
let store: DrizzleStore;
let engine: WorkflowEngine;
/** The flaky node fails while this is true. */
let failing = true;
const ok: string[] = [];
let failed: string;

/** Runs the binary to its end, without a database in the environment unless given. */
function spane(args: string[], env: NodeJS.ProcessEnv = {}): Promise<NodeRun> {
  return runNode([CLI, ...args], root, { SPANE_DATABASE_URL: '', DATABASE_URL: '', ...env });
}

const db = () => ['--database-url', database.url];

beforeAll(async () => {
  ensureBuilt(root, CLI);
  database = await createTestDatabase();
  store = await DrizzleStore.postgres(database.url);
  const registry = new NodeRegistry();
  registry.register('ok', async () => ({ success: true, data: { secret: 'do-not-print' } }));
  registry.register('flaky', async () => (failing ? { success: false, error: 'upstream answered 503' } : { success: true, data: 1 }));
  engine = await createEngine({ registry, backend: 'redis', redis: REDIS_URL, store, config: { prefix }, logger: memoryLogger() });
  await engine.registerWorkflow(graph('cli-list-ok', [node('a', 'ok'), node('b', 'ok')], ['a->b']));
  await engine.registerWorkflow(graph('cli-list-flaky', [node('fetch', 'ok'), node('call', 'flaky'), node('after', 'ok')], ['fetch->call', 'call->after']));
  engine.startWorkers(2);
  for (let i = 0; i < 3; i++) {
    const id = await engine.enqueueWorkflow('cli-list-ok', { i });
    await engine.waitForExecution(id, { timeoutMs: 30_000 });
    ok.unshift(id);
  }
  failed = await engine.enqueueWorkflow('cli-list-flaky', {});
  await until(async () => (await store.getExecution(failed))?.status === 'failed', 30_000, 'the flaky execution to fail');
  await until(async () => (await engine.getDLQItems()).length === 1, 30_000, 'its DLQ item');
}, 240_000);

afterAll(async () => {
  await engine?.close();
  await store?.close();
  await database?.drop();
  const redis = new Redis(REDIS_URL);
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

describe('spane executions list', () => {
  it('prints a table newest first, and on stderr the counts by status', async () => {
    const r = await spane(['executions', 'list', ...db()]);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^STARTED\s+STATUS\s+WORKFLOW\s+NODES ok\/failed\/skipped\s+DURATION\s+EXECUTION$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).at(-1))).toEqual([failed, ...ok]);
    expect(lines[1]).toMatch(/\bfailed\s+cli-list-flaky v1\s+1\/1\/0\b/);
    expect(lines[2]).toMatch(/\bcompleted\s+cli-list-ok v1\s+2\/0\/0\b/);
    expect(r.err).toBe('4 shown of 4 matching (completed 3, failed 1)\n');
    expect(r.out).not.toContain('do-not-print');
  });

  it('--json prints the page; --limit and --cursor walk it; filters narrow it', async () => {
    const first = await spane(['executions', 'list', ...db(), '--limit', '3', '--json']);
    expect(first.code).toBe(0);
    const page1 = JSON.parse(first.out) as ExecutionSummaryPage;
    expect(page1.executions.map((e) => e.executionId)).toEqual([failed, ok[0], ok[1]]);
    expect(page1.executions[0]).toMatchObject({ workflowId: 'cli-list-flaky', status: 'failed', nodeCounts: { completed: 1, failed: 1, skipped: 0 } });
    const second = await spane(['executions', 'list', ...db(), '--limit', '3', '--cursor', page1.nextCursor!, '--json']);
    expect(JSON.parse(second.out)).toEqual({ executions: [expect.objectContaining({ executionId: ok[2] })] });
    const byStatus = await spane(['executions', 'list', ...db(), '--status', 'failed,cancelled', '--json']);
    expect((JSON.parse(byStatus.out) as ExecutionSummaryPage).executions.map((e) => e.executionId)).toEqual([failed]);
    const byWorkflow = await spane(['executions', 'list', ...db(), '-w', 'cli-list-ok', '--workflow-version', '1', '--from', '2000-01-01', '--json']);
    expect((JSON.parse(byWorkflow.out) as ExecutionSummaryPage).executions.map((e) => e.executionId)).toEqual(ok);
    const byId = await spane(['executions', 'list', ...db(), '--id', failed.slice(0, 12), '--json']);
    expect((JSON.parse(byId.out) as ExecutionSummaryPage).executions.map((e) => e.executionId)).toEqual([failed]);
    const past = await spane(['executions', 'list', ...db(), '--to', '2000-01-01T00:00:00Z']);
    expect(past.code).toBe(0);
    expect(past.out).toBe('');
    expect(past.err).toBe('0 shown of 0 matching\n');
  });

  it('says there is a next page and how to get it', async () => {
    const r = await spane(['executions', 'list', ...db(), '-n', '2']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^2 shown of 4 matching \(completed 3, failed 1\)\nnext page: add --cursor \S+\n$/);
  });

  it('refuses bad options with one line and exit 1, before connecting', async () => {
    const cases: [string[], RegExp][] = [
      [['--status', 'done'], /^spane: listExecutionPage: status must be one of pending, running, paused, completed, failed, cancelled\n$/],
      [['--from', '2026-12-02', '--to', '2026-12-01'], /^spane: listExecutionPage: from must not be after to\n$/],
      [['--cursor', 'garbage'], /^spane: listExecutionPage: cursor is not one listExecutionPage returned\n$/],
      [['--limit', '501'], /^spane: listExecutionPage: limit must be an integer from 1 to 500\n$/],
      [['--workflow-version', '2'], /^spane: listExecutionPage: version needs workflowId/],
      [['--from', 'yesterday'], /--from must be an ISO 8601 time/],
      [['--limit', '0'], /--limit must be a positive integer/],
    ];
    for (const [args, message] of cases) {
      // An unreachable database: the query is refused before it would be noticed.
      const r = await spane(['executions', 'list', '--database-url', 'postgres://postgres@127.0.0.1:9/none', ...args]);
      expect([args, r.code]).toEqual([args, 1]);
      expect(r.err).toMatch(message);
    }
  });

  it('without a shared store: says why an in-memory store cannot be read, exit 1', async () => {
    const r = await spane(['executions', 'list']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^spane executions list: no shared store: pass --database-url <url> or set SPANE_DATABASE_URL \(or DATABASE_URL\)/);
    const down = await spane(['executions', 'list', '--database-url', 'postgres://postgres:pw@127.0.0.1:9/none']);
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/^spane: Cannot open the postgres backend \(spane executions list: database 'none' on 127.0.0.1:9\)/);
    expect(down.err).not.toContain('pw');
  }, 60_000);

  it('reads the store from SPANE_DATABASE_URL', async () => {
    const r = await spane(['executions', 'list', '--json'], { SPANE_DATABASE_URL: database.url });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as ExecutionSummaryPage).executions).toHaveLength(4);
  });
});

describe('spane executions inspect', () => {
  it("shows the status, the error and every node's status, attempts and timing, without data", async () => {
    const r = await spane(['executions', 'inspect', failed, ...db()]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      new RegExp(`^execution  ${failed}\nworkflow   cli-list-flaky v1\nstatus     failed\nstarted    \\S+Z\nfinished   \\S+Z \\(.+\\)\nerror      .*upstream answered 503`),
    );
    expect(r.out).toMatch(/\nNODE\s+TYPE\s+STATUS\s+ATTEMPTS\s+STARTED\s+DURATION\s+ERROR\n/);
    expect(r.out).toMatch(/\nfetch\s+ok\s+completed\s+1\s+\S+Z\s+\d/);
    expect(r.out).toMatch(/\ncall\s+flaky\s+failed\s+1\s+\S+Z\s+.*upstream answered 503\n/);
    expect(r.out).toMatch(/\nafter\s+ok\s+not settled\s+-\s+-\s+-\n/);
    expect(r.out).not.toContain('do-not-print');
  });

  it('--json prints the same as one object', async () => {
    const r = await spane(['executions', 'inspect', failed, ...db(), '--json']);
    expect(r.code).toBe(0);
    const shown = JSON.parse(r.out) as { status: string; nodes: { nodeId: string; status: string; attempts?: number; error?: string }[] };
    expect(shown.status).toBe('failed');
    expect(shown.nodes.map((n) => [n.nodeId, n.status])).toEqual([
      ['fetch', 'completed'],
      ['call', 'failed'],
      ['after', 'not settled'],
    ]);
    expect(shown.nodes[1]).toMatchObject({ attempts: 1, error: expect.stringContaining('upstream answered 503') });
    expect(r.out).not.toContain('do-not-print');
  });

  it('an unknown execution: one line, exit 1', async () => {
    const r = await spane(['executions', 'inspect', 'no-such-execution', ...db()]);
    expect(r.code).toBe(1);
    expect(r.err).toBe("spane: Execution 'no-such-execution' does not exist\n");
  });
});

describe('spane dlq', () => {
  const queue = () => ['--redis-url', REDIS_URL, '--prefix', prefix];

  it('list prints the failed node; retry re-runs it and the execution completes', async () => {
    const table = await spane(['dlq', 'list', ...queue()]);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(
      new RegExp(`^FAILED\\s+WORKFLOW\\s+NODE\\s+ATTEMPTS\\s+DLQ ITEM\\s+ERROR\n\\S+Z\\s+cli-list-flaky\\s+call\\s+1\\s+dlq__${failed}__call\\s+.*upstream answered 503\n$`),
    );
    expect(table.err).toContain('1 item;');
    const json = await spane(['dlq', 'list', ...queue(), '--json']);
    const [item] = JSON.parse(json.out) as DLQItem[];
    expect(item).toMatchObject({ executionId: failed, workflowId: 'cli-list-flaky', nodeId: 'call', attempts: 1 });
    expect(item).not.toHaveProperty('data');

    const noStore = await spane(['dlq', 'retry', item!.jobId, ...queue()]);
    expect(noStore.code).toBe(1);
    expect(noStore.err).toMatch(/^spane dlq retry: the retried execution lives in the shared store/);

    failing = false;
    const retried = await spane(['dlq', 'retry', item!.jobId, ...queue(), ...db()]);
    expect(retried.err).toBe('');
    expect(retried.code).toBe(0);
    expect(retried.out).toBe(`retried ${item!.jobId}: its node is queued again, and the execution is running\n`);
    // This test's workers (another process than the CLI's) run the node and the rest.
    await until(async () => (await store.getExecution(failed))?.status === 'completed', 30_000, 'the retried execution to complete');
    const again = await spane(['dlq', 'retry', item!.jobId, ...queue(), ...db()]);
    expect(again.code).toBe(1);
    expect(again.err).toBe(`spane: no DLQ item '${item!.jobId}' (spane dlq list shows them)\n`);
    const empty = await spane(['dlq', 'list', ...queue()]);
    expect(empty.out).toBe('');
    expect(empty.err).toMatch(/^0 items;/);
  }, 120_000);

  it('refuses the embedded backend and a malformed item id', async () => {
    const embedded = await spane(['dlq', 'list', '--backend', 'embedded']);
    expect(embedded.code).toBe(1);
    const bad = await spane(['dlq', 'retry', 'not-an-item', ...queue(), ...db()]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^spane: /);
  });
});

describe('spane --help', () => {
  it.each([
    ['executions', 'list'],
    ['executions', 'inspect'],
    ['dlq', 'list'],
    ['dlq', 'retry'],
  ])('%s %s --help describes the command', async (group, command) => {
    const r = await spane([group, command, '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^Usage: spane ${group} ${command} `));
  });

  it('executions --help says a shared store is needed', async () => {
    const r = await spane(['executions', 'list', '--help']);
    expect(r.out).toContain('An in-memory store lives inside its own process');
  });
});
