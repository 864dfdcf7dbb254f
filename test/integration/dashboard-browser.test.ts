/**
 * The dashboard in a real browser: Debian's chromium (/usr/bin/chromium, which .ci/run
 * installs) driven by playwright-core. A node fails; the execution is found in the list, its
 * failed node and error are on the graph; the DLQ item is retried from another tab and the
 * first tab's graph turns complete over the event stream, without a reload. Then the list's
 * filters and pages, and a token-protected dashboard refusing a browser without the token. A
 * failed execution is forked from its failed node with an edited input and the fork completes;
 * a signal node turns waiting live and a signal sent from its panel completes it.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../scripts/build-dashboard.js';
import { createDashboard, toNodeListener } from '../../src/index.js';
import type { DashboardOptions } from '../../src/index.js';
import { graph, node, testEngine } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

const CHROMIUM = process.env['SPANE_CHROMIUM'] ?? '/usr/bin/chromium';
const NO_CHROMIUM = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM} (apt-get install chromium; .ci/run does)`;

/** Serves a dashboard of `t.engine` on `host`; resolves with its URL. */
async function serve(t: TestEngine, options: DashboardOptions = {}, host = '127.0.0.1'): Promise<{ url: string; server: Server }> {
  const server = createServer(toNodeListener(createDashboard(t.engine, { heartbeatMs: 1_000, ...options })));
  await new Promise<void>((r) => server.listen(0, host, r));
  return { url: `http://${host}:${(server.address() as AddressInfo).port}/`, server };
}

/** Runs in the page: records in `spaneHidden` each graph node that React Flow hides from now on. */
function hiddenNodesRecorder(): void {
  type El = { getAttribute(name: string): string | null; style: { visibility: string } };
  const g = globalThis as unknown as {
    spaneHidden: string[];
    document: { querySelectorAll(s: string): Iterable<El>; body: unknown };
    MutationObserver: new (f: () => void) => { observe(target: unknown, options: object): void };
  };
  g.spaneHidden = [];
  const check = () => {
    for (const n of g.document.querySelectorAll('.react-flow__node')) if (n.style.visibility === 'hidden') g.spaneHidden.push(n.getAttribute('data-id') ?? '?');
  };
  new g.MutationObserver(check).observe(g.document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['style'] });
}

describe.skipIf(NO_CHROMIUM)(`dashboard in chromium${NO_CHROMIUM === false ? '' : ` (skipped: ${NO_CHROMIUM})`}`, () => {
  let browser: Browser;
  const engines: TestEngine[] = [];
  const servers: Server[] = [];

  beforeAll(async () => {
    // CI builds the package first; a bare checkout builds the UI bundle here.
    if (!existsSync(fileURLToPath(new URL('../../dist/dashboard/index.html', import.meta.url)))) await buildDashboard();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    for (const t of engines) await t.cleanup();
  });

  async function open(): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(15_000);
    return page;
  }

  it('finds the failed execution, shows the failed node and its error, retries it from the DLQ and the graph turns complete live', async () => {
    const t = testEngine();
    engines.push(t);
    const healed = { ok: false };
    t.registry.register('ok', async () => ({ success: true, data: { fine: true } }));
    t.registry.register('charge', async () => (healed.ok ? { success: true, data: { charged: 42 } } : { success: false, error: 'card processor unreachable' }));
    await t.engine.registerWorkflow(
      graph('orders', [node('fetch', 'ok'), node('charge', 'charge', { retryPolicy: { maxAttempts: 1 } }), node('notify', 'ok')], ['fetch->charge', 'charge->notify']),
    );
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('orders', { order: 7 });
    expect((await t.engine.waitForExecution(id)).status).toBe('failed');
    const { url, server } = await serve(t);
    servers.push(server);

    const page = await open();
    await page.goto(`${url}#/executions`);
    const row = page.locator(`[data-testid="execution-row"][data-id="${id}"]`);
    await expect.poll(() => row.count()).toBe(1);
    await row.locator('a').first().click();
    const charge = page.getByTestId('node-charge');
    await expect.poll(() => charge.getAttribute('data-state')).toBe('failed');
    expect(await page.getByTestId('node-fetch').getAttribute('data-state')).toBe('completed');
    expect(await page.getByTestId('node-notify').getAttribute('data-state')).toBe('pending');
    await charge.click();
    await expect.poll(() => page.getByTestId('node-panel').getByTestId('node-error').innerText()).toContain('card processor unreachable');
    // A marker that a reload would wipe.
    await page.evaluate(() => Object.assign(globalThis, { spaneNoReload: true }));
    await page.evaluate(hiddenNodesRecorder);

    const dlq = await open();
    await dlq.goto(`${url}#/dlq`);
    const item = dlq.locator(`[data-testid="dlq-row"][data-execution="${id}"]`);
    await expect.poll(() => item.count()).toBe(1);
    healed.ok = true;
    await item.getByTestId('retry-one').click();
    await expect.poll(() => dlq.locator('.notice').innerText()).toContain('retried 1 of 1');

    await expect.poll(() => charge.getAttribute('data-state'), { timeout: 20_000 }).toBe('completed');
    await expect.poll(() => page.getByTestId('node-notify').getAttribute('data-state'), { timeout: 20_000 }).toBe('completed');
    await expect.poll(() => page.getByTestId('execution-status').innerText()).toBe('completed');
    expect(await page.evaluate(() => (globalThis as { spaneNoReload?: boolean }).spaneNoReload)).toBe(true);
    expect(await page.evaluate(() => (globalThis as unknown as { spaneHidden: string[] }).spaneHidden)).toEqual([]);
    await page.close();
    await dlq.close();
  }, 90_000);

  it('forks a failed execution from its failed node with an edited input, and the fork completes and links back', async () => {
    const t = testEngine();
    engines.push(t);
    t.registry.register('fetch', async () => ({ success: true, data: { amount: 500 } }));
    t.registry.register('charge', async (ctx) => {
      const amount = (ctx.inputData as { amount?: number }).amount ?? 0;
      return amount <= 100 ? { success: true, data: { charged: amount } } : { success: false, error: 'amount over limit' };
    });
    t.registry.register('echo', async (ctx) => ({ success: true, data: ctx.inputData }));
    await t.engine.registerWorkflow(
      graph('orders', [node('fetch', 'fetch'), node('charge', 'charge', { retryPolicy: { maxAttempts: 1 } }), node('notify', 'echo')], ['fetch->charge', 'charge->notify']),
    );
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('orders', {});
    expect((await t.engine.waitForExecution(id)).status).toBe('failed');
    const { url, server } = await serve(t);
    servers.push(server);

    const page = await open();
    await page.goto(`${url}#/executions/${id}`);
    await expect.poll(() => page.getByTestId('node-charge').getAttribute('data-state')).toBe('failed');
    await page.getByTestId('node-charge').click();
    await page.getByTestId('fork-open').click();
    const input = page.getByTestId('fork-input');
    await expect.poll(async () => JSON.parse(await input.inputValue()) as unknown).toEqual({ amount: 500 });
    // Refused first: the engine's typed error is shown.
    await input.fill('{"amount": 40');
    await page.getByTestId('fork-submit').click();
    await expect.poll(() => page.getByTestId('fork-error').innerText()).toContain('not JSON');
    await input.fill('{"amount": 40}');
    await page.getByTestId('fork-submit').click();
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash)).not.toBe(`#/executions/${id}`);
    const forkId = (await page.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash)).replace('#/executions/', '');
    await expect.poll(() => page.getByTestId('execution-id').innerText()).toBe(forkId);
    await expect.poll(() => page.getByTestId('execution-status').innerText(), { timeout: 20_000 }).toBe('completed');
    await expect.poll(() => page.getByTestId('node-notify').getAttribute('data-state')).toBe('completed');
    expect(await page.getByTestId('forked-from').innerText()).toContain('at node charge');
    expect((await t.engine.getExecution(forkId))?.nodeResults['notify']?.data).toEqual({ charged: 40 });
    await page.getByTestId('forked-from-link').click();
    await expect.poll(() => page.getByTestId('execution-id').innerText()).toBe(id);
    expect(await page.getByTestId('execution-status').innerText()).toBe('failed');
    await page.close();
  }, 90_000);

  it('shows a signal node turning waiting live, and a signal sent from the page completes it without a reload', async () => {
    const t = testEngine();
    engines.push(t);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    t.registry.register('ask', async () => {
      await gate;
      return { success: true, data: { asked: true } };
    });
    t.registry.register('echo', async (ctx) => ({ success: true, data: ctx.inputData }));
    const schema = { type: 'object', properties: { approved: { type: 'boolean' } }, required: ['approved'] };
    await t.engine.registerWorkflow(
      graph('expense', [node('ask', 'ask'), node('approval', 'signal', { config: { name: 'approval', schema } }), node('book', 'echo')], ['ask->approval', 'approval->book']),
    );
    t.engine.startWorkers(2);
    const id = await t.engine.enqueueWorkflow('expense', {});
    const { url, server } = await serve(t);
    servers.push(server);

    const page = await open();
    await page.goto(`${url}#/executions/${id}`);
    const approval = page.getByTestId('node-approval');
    // The graph is drawn while `ask` runs; the wait comes next, live.
    await expect.poll(() => approval.count()).toBe(1);
    expect(await approval.getAttribute('data-state')).toBe('pending');
    await page.evaluate(() => Object.assign(globalThis, { spaneNoReload: true }));
    // A drawn node stays visible through live updates: React Flow hides one whose measured size it
    // lost, and a click then falls through to the pane.
    await expect.poll(() => approval.isVisible()).toBe(true);
    await page.evaluate(hiddenNodesRecorder);
    release();
    await expect.poll(() => approval.getAttribute('data-state'), { timeout: 20_000 }).toBe('waiting');
    await approval.click();
    await expect.poll(() => page.getByTestId('signal-waiting').innerText()).toContain('waiting for signal approval');
    const payload = page.getByTestId('signal-payload');
    await payload.fill('{"approved": "yes"}');
    await page.getByTestId('signal-submit').click();
    await expect.poll(() => page.getByTestId('signal-error').innerText()).toContain('SIGNAL_PAYLOAD_INVALID');
    expect(await page.getByTestId('signal-error').innerText()).toMatch(/approved: /);
    await payload.fill('{"approved": true}');
    await page.getByTestId('signal-submit').click();
    await expect.poll(() => approval.getAttribute('data-state'), { timeout: 20_000 }).toBe('completed');
    await expect.poll(() => page.getByTestId('node-book').getAttribute('data-state'), { timeout: 20_000 }).toBe('completed');
    await expect.poll(() => page.getByTestId('execution-status').innerText()).toBe('completed');
    expect(await page.getByTestId('signal-form').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { spaneHidden: string[] }).spaneHidden)).toEqual([]);
    expect(await page.evaluate(() => (globalThis as { spaneNoReload?: boolean }).spaneNoReload)).toBe(true);
    expect((await t.engine.getExecution(id))?.nodeResults['book']?.data).toEqual({ approved: true });
    await page.close();
  }, 90_000);

  it('filters the list by status and pages through it', async () => {
    const t = testEngine();
    engines.push(t);
    t.registry.register('ok', async () => ({ success: true, data: 1 }));
    t.registry.register('no', async () => ({ success: false, error: 'nope' }));
    await t.engine.registerWorkflow(graph('plain', [node('only', 'ok')], []));
    await t.engine.registerWorkflow(graph('broken', [node('only', 'no', { retryPolicy: { maxAttempts: 1 } })], []));
    t.engine.startWorkers(2);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await t.engine.enqueueWorkflow('plain', { i }));
    const bad = await t.engine.enqueueWorkflow('broken', {});
    for (const id of [...ids, bad]) await t.engine.waitForExecution(id);
    const { url, server } = await serve(t);
    servers.push(server);

    const page = await open();
    await page.goto(`${url}#/executions?pageSize=2&workflowId=plain`);
    const rows = page.getByTestId('execution-row');
    const seen: string[] = [];
    for (const expected of [2, 2, 1]) {
      await expect.poll(() => page.getByTestId('page-info').innerText()).toContain(`page ${seen.length / 2 + 1} of 3`);
      await expect.poll(() => rows.count()).toBe(expected);
      for (const r of await rows.all()) seen.push((await r.getAttribute('data-id'))!);
      if (expected === 2) await page.getByTestId('page-next').click();
    }
    expect(seen.sort()).toEqual([...ids].sort());
    expect(await page.getByTestId('page-next').isDisabled()).toBe(true);

    await page.goto(`${url}#/executions`);
    await expect.poll(() => page.getByTestId('count-failed').innerText()).toContain('1');
    await page.getByTestId('count-failed').click();
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-id')).toBe(bad);
    await page.getByTestId('filter-workflow').selectOption('plain');
    await expect.poll(() => page.locator('text=No execution matches.').count()).toBe(1);
    await page.close();
  }, 90_000);

  it('refuses a browser without the token on a non-loopback address, and serves it after the token link', async () => {
    const t = testEngine();
    engines.push(t);
    t.registry.register('ok', async () => ({ success: true, data: 1 }));
    await t.engine.registerWorkflow(graph('plain', [node('only', 'ok')], []));
    const lan = Object.values(networkInterfaces())
      .flat()
      .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
    const token = 'browser-test-token';
    const { url, server } = await serve(t, { token }, lan ?? '127.0.0.1');
    servers.push(server);
    const page = await open();
    await page.goto(`${url}#/workflows`);
    await expect.poll(() => page.locator('.error').innerText()).toContain('a valid token is required');
    expect(await page.getByTestId('workflow-plain').count()).toBe(0);
    await page.goto(`${url}?token=${token}`);
    await expect.poll(() => page.getByTestId('workflow-plain').count()).toBe(1);
    await page.close();
  }, 60_000);
});
