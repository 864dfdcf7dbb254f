/**
 * `spane dashboard`, the built binary run as a child process: it refuses a non-loopback host
 * without a token, and serves the file's workflows (embedded backend) until SIGTERM.
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runNode, until } from '../helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(root, 'dist/cli.js');

beforeAll(() => ensureBuilt(root, CLI), 180_000);

describe('spane dashboard', () => {
  it('refuses a non-loopback --host without a token, before opening anything', async () => {
    const r = await runNode([CLI, 'dashboard', '--host', '0.0.0.0'], root, { SPANE_DASHBOARD_TOKEN: '' });
    expect(r.code).toBe(1);
    expect(r.err).toContain('--host 0.0.0.0 is not a loopback address: pass --token');
    const short = await runNode([CLI, 'dashboard', '--host', '0.0.0.0', '--token', 'abc'], root);
    expect(short.code).toBe(1);
    expect(short.err).toContain('--token must be at least 8 characters');
  });

  it("serves the file's workflows and the UI, and stops on SIGTERM", async () => {
    const child = spawn(process.execPath, [CLI, 'dashboard', 'test/fixtures/cli/greet.ts', '--port', '0'], { cwd: root, env: process.env });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    try {
      await until(() => /http:\/\/127\.0\.0\.1:\d+\//.test(out) || child.exitCode !== null, 90_000, 'the dashboard to listen');
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)![0];
      const workflows = await fetch(`${url}api/workflows`);
      expect(workflows.headers.get('cache-control')).toBe('no-store');
      expect(((await workflows.json()) as { workflows: { graph: { workflowId: string } }[] }).workflows.map((w) => w.graph.workflowId)).toContain('cli-greet-json');
      const page = await fetch(url);
      expect(await page.text()).toContain('<div id="root"></div>');
      expect((await fetch(`${url}assets/main.js`)).status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);
});
