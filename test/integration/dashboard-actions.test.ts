/**
 * The dashboard's fork and signal actions through its Fetch handler: a failed execution forked
 * from its failed node with an edited input completes and names its original; a waiting signal
 * node shows in the detail's waits and completes on a signal; the engine's typed refusals answer
 * 400 with their code (and a schema's issues), never the value sent; CSRF and auth are checked
 * as for the other actions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDashboard, defineNode, workflow } from '../../src/index.js';
import { graph, node, testEngine, until } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

const open: TestEngine[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.cleanup();
});

const local = (path: string, init: RequestInit = {}) => new Request(`http://127.0.0.1:4545${path}`, init);
const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
  local(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-spane-csrf': '1', ...headers }, ...(body !== undefined && { body: JSON.stringify(body) }) });

/** fetch → charge (fails unless its input has `amount` ≤ 100) → notify; and ask → approval (signal) → book. */
async function actionEngine() {
  const t = testEngine();
  open.push(t);
  t.registry.register('fetch', async () => ({ success: true, data: { amount: 500 } }));
  t.registry.register('charge', async (ctx) => {
    const amount = (ctx.inputData as { amount?: number }).amount ?? 0;
    return amount <= 100 ? { success: true, data: { charged: amount } } : { success: false, error: 'amount over limit' };
  });
  t.registry.register('echo', async (ctx) => ({ success: true, data: ctx.inputData }));
  await t.engine.registerWorkflow(
    graph('orders', [node('fetch', 'fetch'), node('charge', 'charge', { retryPolicy: { maxAttempts: 1 } }), node('notify', 'echo')], ['fetch->charge', 'charge->notify']),
  );
  const schema = { type: 'object', properties: { approved: { type: 'boolean' } }, required: ['approved'] };
  await t.engine.registerWorkflow(
    graph('expense', [node('ask', 'echo'), node('approval', 'signal', { config: { name: 'approval', schema } }), node('book', 'echo')], ['ask->approval', 'approval->book']),
  );
  t.engine.startWorkers(2);
  return t;
}

type Detail = {
  execution: { status: string; forkedFrom?: { executionId: string; nodeId: string }; nodeResults: Record<string, { status: string; data?: unknown }> };
  waits: { kind: string; key: string; state: string; nodeId?: string; payload?: unknown }[];
  versions: number[];
};

describe('dashboard fork action', () => {
  it("prefills the node's input, forks the failed node with an edited input, and the fork completes naming its original", async () => {
    const t = await actionEngine();
    const dash = createDashboard(t.engine);
    const id = await t.engine.enqueueWorkflow('orders', { order: 7 });
    expect((await t.engine.waitForExecution(id)).status).toBe('failed');

    expect(await (await dash(local(`/api/executions/${id}/input?nodeId=charge`))).json()).toEqual({ data: { amount: 500 } });
    expect(await (await dash(local(`/api/executions/${id}/input?nodeId=fetch`))).json()).toEqual({ data: { order: 7 } });
    expect((await dash(local(`/api/executions/${id}/input?nodeId=nope`))).status).toBe(404);
    expect((await (await dash(local(`/api/executions/${id}`))).json()) as Detail).toMatchObject({ versions: [1], waits: [] });

    const res = await dash(post(`/api/executions/${id}/fork`, { fromNodeId: 'charge', input: { amount: 40 } }));
    expect(res.status).toBe(200);
    const { executionId: forkId } = (await res.json()) as { executionId: string };
    expect(forkId).not.toBe(id);
    expect((await t.engine.waitForExecution(forkId)).status).toBe('completed');
    const fork = (await (await dash(local(`/api/executions/${forkId}`))).json()) as Detail;
    expect(fork.execution.forkedFrom).toEqual({ executionId: id, nodeId: 'charge' });
    expect(fork.execution.nodeResults['notify']).toMatchObject({ status: 'completed', data: { charged: 40 } });
    // The original is untouched.
    expect((await t.engine.getExecution(id))?.status).toBe('failed');
  });

  it("answers the engine's typed refusals with 400 and their code, and refuses a bad body", async () => {
    const t = await actionEngine();
    const dash = createDashboard(t.engine);
    const failed = await t.engine.enqueueWorkflow('orders', {});
    await t.engine.waitForExecution(failed);
    const waiting = await t.engine.enqueueWorkflow('expense', {});
    await until(async () => (await t.store.getWait!({ executionId: waiting, kind: 'signal', key: 'approval' }))?.state === 'waiting', 10_000, 'the signal wait');

    const refused = async (id: string, body: unknown) => {
      const res = await dash(post(`/api/executions/${id}/fork`, body));
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(text).not.toMatch(/\bat .*\.ts:\d+/); // no stack
      return JSON.parse(text) as { code: string; error: string };
    };
    expect(await refused(failed, { fromNodeId: 'nope' })).toMatchObject({ code: 'FORK_NODE_INVALID' });
    expect(await refused(waiting, { fromNodeId: 'ask' })).toMatchObject({ code: 'EXECUTION_NOT_FORKABLE' });
    expect(await refused('no-such-execution', { fromNodeId: 'charge' })).toMatchObject({ code: 'EXECUTION_NOT_FOUND' });
    expect(await refused(failed, { fromNodeId: 'charge', version: 9 })).toMatchObject({ code: 'WORKFLOW_NOT_FOUND' });
    expect(await refused(failed, { fromNodeId: 'charge', version: 'x' })).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await refused(failed, { fromNodeId: 42 })).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await refused(failed, { fromNodeId: 'charge', extra: true })).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await refused(failed, [1])).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await refused(failed, { fromNodeId: 'charge', version: null })).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await refused(failed, { fromNodeId: 'charge', input: 'x'.repeat(1024 * 1024) })).toMatchObject({ code: 'INVALID_ARGUMENT' });
    const notJson = await dash(local(`/api/executions/${failed}/fork`, { method: 'POST', headers: { 'x-spane-csrf': '1' }, body: '{nope' }));
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ code: 'INVALID_ARGUMENT' });
    // Nothing was forked by any of them.
    expect((await t.engine.listExecutionPage({ workflowId: 'orders', limit: 10 })).executions).toHaveLength(1);
  });
});

describe('dashboard fork action on a DSL workflow', () => {
  it("refuses an input the node's schema rejects: FORK_INPUT_INVALID with its issues, never the value", async () => {
    const t = testEngine();
    open.push(t);
    const addOne = defineNode({
      type: 'dash-add-one',
      input: z.object({ n: z.number() }),
      output: z.object({ n: z.number() }),
      run: ({ input }) => ({ n: input.n + 1 }),
    });
    const counter = workflow('dash-counter', { input: z.object({ n: z.number() }) })
      .then('first', addOne())
      .then('second', addOne())
      .build();
    await t.engine.registerWorkflow(counter);
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow(counter, { n: 1 });
    await t.engine.waitForExecution(id);
    const dash = createDashboard(t.engine);
    expect(await (await dash(local(`/api/executions/${id}/input?nodeId=second`))).json()).toEqual({ data: { n: 2 } });

    const res = await dash(post(`/api/executions/${id}/fork`, { fromNodeId: 'second', input: { n: 'secret-ten' } }));
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toContain('secret-ten');
    expect(JSON.parse(text)).toMatchObject({ code: 'FORK_INPUT_INVALID', issues: [expect.stringMatching(/^n: /)] });

    const ok = (await (await dash(post(`/api/executions/${id}/fork`, { fromNodeId: 'second', input: { n: 10 } }))).json()) as { executionId: string };
    expect((await t.engine.waitForExecution(ok.executionId)).nodeResults['second']?.data).toEqual({ n: 11 });
  });
});

describe('dashboard signal action', () => {
  it('shows the waiting signal node in the waits, refuses a bad payload and an unknown name, a signal completes it, and one after the end is refused', async () => {
    const t = await actionEngine();
    const dash = createDashboard(t.engine);
    const id = await t.engine.enqueueWorkflow('expense', { amount: 12 });
    await until(async () => ((await (await dash(local(`/api/executions/${id}`))).json()) as Detail).waits.some((w) => w.state === 'waiting'), 10_000, 'the wait in the detail');
    const detail = (await (await dash(local(`/api/executions/${id}`))).json()) as Detail & { graph: { nodes: { id: string; signal?: string }[] } };
    expect(detail.waits).toEqual([expect.objectContaining({ kind: 'signal', key: 'approval', state: 'waiting', nodeId: 'approval' })]);
    expect(detail.graph.nodes.find((n) => n.id === 'approval')?.signal).toBe('approval');
    expect(await t.engine.getWaits(id)).toEqual([expect.objectContaining({ kind: 'signal', key: 'approval', state: 'waiting', nodeId: 'approval' })]);
    await expect(t.engine.getWaits(42 as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });

    const bad = await dash(post(`/api/executions/${id}/signal`, { name: 'approval', payload: { approved: 'secret-yes' } }));
    expect(bad.status).toBe(400);
    const badText = await bad.text();
    expect(badText).not.toContain('secret-yes');
    const badBody = JSON.parse(badText) as { code: string; issues: string[] };
    expect(badBody.code).toBe('SIGNAL_PAYLOAD_INVALID');
    expect(badBody.issues).toHaveLength(1);
    expect(badBody.issues[0]).toMatch(/^approved: /);

    const unknown = await dash(post(`/api/executions/${id}/signal`, { name: 'other', payload: {} }));
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ code: 'UNKNOWN_SIGNAL' });
    expect((await dash(post(`/api/executions/${id}/signal`, { payload: {} }))).status).toBe(400);

    const ok = await dash(post(`/api/executions/${id}/signal`, { name: 'approval', payload: { approved: true } }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ done: true });
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('completed');
    expect(done.nodeResults['book']?.data).toEqual({ approved: true });

    const finished = await dash(post(`/api/executions/${id}/signal`, { name: 'approval', payload: { approved: false } }));
    expect(finished.status).toBe(400);
    expect(await finished.json()).toMatchObject({ code: 'EXECUTION_FINISHED' });
  });

  it('refuses a second signal when the first is kept for a node not reached yet: SIGNAL_ALREADY_CONSUMED', async () => {
    const t = await actionEngine();
    const dash = createDashboard(t.engine);
    // Signalled before the node is reached: the signal is kept; a second one is already consumed.
    const id = await t.engine.enqueueWorkflow('expense', {}, { delay: 60_000 });
    expect((await dash(post(`/api/executions/${id}/signal`, { name: 'approval', payload: { approved: true } }))).status).toBe(200);
    const again = await dash(post(`/api/executions/${id}/signal`, { name: 'approval', payload: { approved: true } }));
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ code: 'SIGNAL_ALREADY_CONSUMED' });
  });
});

describe('dashboard action safety', () => {
  it('refuses fork and signal without the CSRF header, from another origin, and without the token', async () => {
    const t = await actionEngine();
    const id = await t.engine.enqueueWorkflow('orders', {});
    await t.engine.waitForExecution(id);
    const dash = createDashboard(t.engine);
    for (const action of ['fork', 'signal']) {
      const body = JSON.stringify(action === 'fork' ? { fromNodeId: 'charge' } : { name: 'approval', payload: {} });
      expect((await dash(local(`/api/executions/${id}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }))).status).toBe(403);
      expect((await dash(post(`/api/executions/${id}/${action}`, JSON.parse(body), { origin: 'http://evil.example' }))).status).toBe(403);
      expect((await dash(new Request(`http://10.1.2.3:4545/api/executions/${id}/${action}`, { method: 'POST', headers: { 'x-spane-csrf': '1' }, body }))).status).toBe(401);
    }
    const withToken = createDashboard(t.engine, { token: 'correct-horse-battery' });
    const noToken = await withToken(post(`/api/executions/${id}/fork`, { fromNodeId: 'charge' }));
    expect(noToken.status).toBe(401);
    expect((await withToken(local(`/api/executions/${id}/input?nodeId=charge`))).status).toBe(401);
    // None of the refused requests forked anything.
    expect((await t.engine.listExecutionPage({ workflowId: 'orders', limit: 10 })).executions).toHaveLength(1);
  });
});
