/**
 * `npm run docs:screenshots`: the dashboard's pages as PNGs in docs/images/, from a demo engine
 * on the embedded backend (no server needed) and Debian's chromium (SPANE_CHROMIUM, default
 * /usr/bin/chromium) through playwright-core. Builds the UI bundle first.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { createDashboard, createEngine, NodeRegistry, toNodeListener } from '../src/index.js';
import type { WorkflowDefinition } from '../src/index.js';
import { buildDashboard } from './build-dashboard.js';

const root = resolve(import.meta.dirname, '..');
const out = join(root, 'docs', 'images');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const node = (id: string, type: string, inputs: string[], outputs: string[], extra: object = {}) => ({ id, type, config: {}, inputs, outputs, ...extra });
const fulfilment: WorkflowDefinition = {
  id: 'order-fulfilment',
  name: 'Order fulfilment',
  entryNodeId: 'validate',
  nodes: [
    node('validate', 'work', [], ['reserve-stock', 'charge-card']),
    node('reserve-stock', 'work', ['validate'], ['ship']),
    node('charge-card', 'charge', ['validate'], ['ship'], { retryPolicy: { maxAttempts: 2, backoff: { type: 'fixed', delay: 50 } } }),
    node('ship', 'work', ['reserve-stock', 'charge-card'], ['notify']),
    node('notify', 'work', ['ship'], []),
  ],
  triggers: [
    { type: 'webhook', config: { path: 'orders', method: 'POST', secret: { env: 'ORDERS_WEBHOOK_SECRET' } } },
    { type: 'schedule', config: { cron: '0 */6 * * *', timezone: 'UTC' } },
  ],
};

/** A manager approves an expense: the `approval` signal node waits for `engine.signal`. */
const expense: WorkflowDefinition = {
  id: 'expense-approval',
  name: 'Expense approval',
  entryNodeId: 'submit',
  nodes: [
    node('submit', 'work', [], ['approval']),
    node('approval', 'signal', ['submit'], ['book'], {
      config: { name: 'manager-approval', schema: { type: 'object', properties: { approved: { type: 'boolean' } }, required: ['approved'] } },
    }),
    node('book', 'work', ['approval'], []),
  ],
};

async function main(): Promise<void> {
  await buildDashboard();
  /** The last execution's card charge fails (both attempts), for the DLQ and the failed graph. */
  const charges = { failing: false };
  const registry = new NodeRegistry()
    .register('work', async (ctx) => {
      await sleep(20 + Math.round(Math.random() * 60));
      return { success: true, data: { ok: true, from: ctx.nodeId } };
    })
    .register('charge', async () => {
      await sleep(40);
      if (charges.failing) throw new Error('card processor unreachable: connect ETIMEDOUT 10.0.4.12:443');
      return { success: true, data: { charged: 4200, currency: 'EUR' } };
    });
  const engine = await createEngine({ registry, backend: 'embedded' });
  try {
    await engine.registerWorkflow(fulfilment);
    await engine.registerWorkflow(expense);
    engine.startWorkers(4);
    for (let i = 0; i < 5; i++) await engine.waitForExecution(await engine.enqueueWorkflow('order-fulfilment', { order: 1000 + i }));
    charges.failing = true;
    const failed = await engine.enqueueWorkflow('order-fulfilment', { order: 1005 });
    await engine.waitForExecution(failed);
    for (let i = 0; i < 40 && (await engine.getDLQItems(0, -1)).length === 0; i++) await sleep(100);
    const waiting = await engine.enqueueWorkflow('expense-approval', { amount: 180, by: 'ada' });
    for (let i = 0; i < 40 && (await engine.getExecution(waiting))?.nodeResults['submit'] === undefined; i++) await sleep(100);

    const server = createServer(toNodeListener(createDashboard(engine)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const browser = await chromium.launch({ executablePath: process.env['SPANE_CHROMIUM'] ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 820 }, deviceScaleFactor: 1 });
      const shot = async (hash: string, name: string, ready: string, then?: () => Promise<void>) => {
        await page.goto(`${url}${hash}`);
        await page.waitForSelector(ready);
        await then?.();
        await sleep(600);
        await page.screenshot({ path: join(out, name), fullPage: false });
        console.log(`docs/images/${name}`);
      };
      await shot('#/workflows', 'dashboard-workflows.png', '[data-testid="node-notify"]');
      await shot('#/executions', 'dashboard-executions.png', '[data-testid="execution-row"]');
      await shot(`#/executions/${failed}`, 'dashboard-execution.png', '[data-testid="node-charge-card"][data-state="failed"]', async () => {
        await page.click('[data-testid="node-charge-card"]');
        await page.waitForSelector('[data-testid="node-panel"]');
      });
      // Still on the failed execution, its failed node selected: the fork form, filled with the node's input.
      await page.click('[data-testid="fork-open"]');
      await page.waitForSelector('[data-testid="fork-input"]:not([disabled])');
      await page.locator('[data-testid="fork-form"]').scrollIntoViewIfNeeded();
      await sleep(300);
      await page.screenshot({ path: join(out, 'dashboard-fork.png'), fullPage: false });
      console.log('docs/images/dashboard-fork.png');
      await shot(`#/executions/${waiting}`, 'dashboard-signal.png', '[data-testid="node-approval"][data-state="waiting"]', async () => {
        await page.click('[data-testid="node-approval"]');
        await page.fill('[data-testid="signal-payload"]', '{ "approved": true }');
        await page.locator('[data-testid="signal-form"]').scrollIntoViewIfNeeded();
      });
      await shot('#/dlq', 'dashboard-dlq.png', '[data-testid="dlq-row"]');
    } finally {
      await browser.close();
      server.closeAllConnections();
      server.close();
    }
  } finally {
    await engine.close();
  }
}

await main();
