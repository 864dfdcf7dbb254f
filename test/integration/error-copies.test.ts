/**
 * Two genuinely separate copies of the built package in one process: an engine of one copy runs
 * an executor whose NonRetryableError / NodeInputError class comes from the other, as when an
 * executors module has its own installed copy of spane. The ESM and CommonJS builds are separate
 * module instances, and so is a copy of `dist/` in another folder.
 *
 * Needs the build (`npm run build`, which CI runs before the tests); without it the file is skipped.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeys, graph, memoryLogger, node, REDIS_URL } from '../helpers.js';

type Spane = typeof import('../../src/index.js');

const root = resolve(import.meta.dirname, '../..');
const built = existsSync(join(root, 'dist/index.js')) && existsSync(join(root, 'dist/index.cjs'));

describe.skipIf(!built)('NonRetryableError across two copies of the built package (skipped without `npm run build`)', () => {
  // Inside the repository, so the copy finds the same dependencies in node_modules.
  mkdirSync(join(root, 'tmp'), { recursive: true });
  const copyDir = built ? mkdtempSync(join(root, 'tmp/spane-copy-')) : '';
  if (built) cpSync(join(root, 'dist'), join(copyDir, 'dist'), { recursive: true });
  afterAll(() => rmSync(copyDir, { recursive: true, force: true }));

  const load = async (which: 'esm' | 'cjs' | 'copy'): Promise<Spane> => {
    if (which === 'cjs') return createRequire(import.meta.url)(join(root, 'dist/index.cjs')) as Spane;
    return (await import(pathToFileURL(join(which === 'copy' ? copyDir : root, 'dist/index.js')).href)) as Spane;
  };

  it.each([
    ['esm', 'cjs', 'non-retryable'],
    ['cjs', 'esm', 'input'],
    ['esm', 'copy', 'non-retryable'],
    ['esm', 'copy', 'input'],
  ] as const)("an engine of the %s build runs an executor throwing the %s build's %s error once, under maxAttempts 3", async (engineFrom, errorFrom, kind) => {
    const [spane, other] = await Promise.all([load(engineFrom), load(errorFrom)]);
    expect(other.NonRetryableError).not.toBe(spane.NonRetryableError);
    const prefix = `{spane-test-${randomUUID().slice(0, 8)}}`;
    const redis = new Redis(REDIS_URL);
    const registry = new spane.NodeRegistry();
    let calls = 0;
    registry.register('refuses', async (ctx) => {
      calls++;
      if (kind === 'input') throw new other.NodeInputError({ workflowId: ctx.workflowId, nodeId: ctx.nodeId, part: 'input', path: 'email', received: '1', issues: [] });
      throw new other.NonRetryableError('no');
    });
    const engine = new spane.WorkflowEngine({ registry, store: new spane.InMemoryExecutionStore(), connection: redis, config: { prefix }, logger: memoryLogger() });
    try {
      const policy = { maxAttempts: 3, backoff: { type: 'fixed' as const, delay: 10 } };
      await engine.registerWorkflow(graph('copies', [node('x', 'refuses', { config: { retryPolicy: policy } })], []));
      engine.startWorkers(1);
      const done = await engine.waitForExecution(await engine.enqueueWorkflow('copies', {}));
      expect(done.status).toBe('failed');
      expect(calls).toBe(1);
      expect(done.nodeResults['x']).toMatchObject({ attempts: 1, errorDetails: { code: kind === 'input' ? 'NODE_INPUT_INVALID' : 'NON_RETRYABLE', retryable: false } });
    } finally {
      await engine.close();
      await deleteKeys(redis, prefix);
      redis.disconnect();
    }
  });
});
