/**
 * Redis goes away under a running engine and comes back. The engine runs in a child process
 * (test/fixtures/redis-outage-child.ts) on a throwaway redis-server (test/fixtures/disposable-redis.ts,
 * never the shared one), so the test sees everything it prints: every connection it opens or
 * BullMQ opens for it must report errors to the engine's logger, a bounded number of lines per
 * outage, and none may reach ioredis's "Unhandled error event" on stderr.
 * spane-test: probes its servers
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisServerBinary, startDisposableRedis } from '../fixtures/disposable-redis.js';
import type { DisposableRedis } from '../fixtures/disposable-redis.js';

const bin = redisServerBinary();
const root = fileURLToPath(new URL('../..', import.meta.url));

/** The child's output, and a way to wait for a line. */
class Child {
  readonly stdout: string[] = [];
  stderr = '';
  private waiters: { test: (line: string) => boolean; resolve: () => void }[] = [];
  constructor(readonly process: ChildProcessWithoutNullStreams) {
    createInterface({ input: process.stdout }).on('line', (line) => {
      this.stdout.push(line);
      this.waiters = this.waiters.filter((w) => (w.test(line) ? (w.resolve(), false) : true));
    });
    process.stderr.on('data', (chunk: Buffer) => void (this.stderr += chunk.toString()));
  }
  /** Resolves at the first line (already printed or to come) that passes `test`. */
  line(test: (line: string) => boolean, what: string, ms = 60_000): Promise<void> {
    if (this.stdout.some(test)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; stderr: ${this.stderr.slice(-2000)}`)), ms);
      this.waiters.push({ test, resolve: () => (clearTimeout(timer), resolve()) });
      this.process.once('exit', (code) => reject(new Error(`child exited (${code}) before ${what}; stderr: ${this.stderr.slice(-2000)}`)));
    });
  }
  get logs(): string[] {
    return this.stdout.filter((l) => l.startsWith('LOG '));
  }
}

describe.skipIf(bin === undefined)(`Redis outage under an engine${bin === undefined ? ' (skipped: no redis-server binary)' : ''}`, () => {
  let redis: DisposableRedis;
  let child: Child;

  beforeAll(async () => {
    redis = await startDisposableRedis();
  });
  afterAll(async () => {
    if (child?.process.exitCode === null) child.process.kill('SIGKILL');
    await redis?.stop();
  });

  it('reports every connection error to the logger, a bounded number of lines, none unhandled, and carries on once Redis is back', { timeout: 180_000 }, async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/redis-outage-child.ts', redis.url, `{spane-rout-${randomUUID().slice(0, 8)}}`], { cwd: root });
    child = new Child(proc);
    await child.line((l) => l === 'READY', 'the engine to start', 120_000);
    const before = child.logs.length;

    await redis.kill();
    // Long enough for every connection to fail to reconnect many times over.
    await child.line((l) => /^PROBE (\d+)$/.exec(l) !== null && Number(l.slice(6)) >= 10, 'ten failed reconnects');
    const during = child.logs.slice(before);

    await redis.start();
    proc.stdin.write('RUN\n');
    await child.line((l) => l.startsWith('DONE '), 'the run after the outage');

    expect(child.stdout).toContain('DONE completed');
    expect(child.stderr).not.toContain('Unhandled error event');
    // One line per kind of connection (workers, commands, event listener, each BullMQ worker and
    // listener), however many reconnects failed; then one when Redis is back.
    expect(during.length).toBeGreaterThan(0);
    expect(during.length).toBeLessThanOrEqual(8);
    expect(child.logs.slice(before + during.length).some((l) => l.includes('Redis connection restored'))).toBe(true);
  });
});
