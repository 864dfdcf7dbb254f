/**
 * Rate limits and circuit breakers. The rate limit and the retry through an open circuit run
 * inline and in worker threads (executors in test/fixtures/executors/resilience.ts); the breaker
 * state test reads this thread's CircuitBreakerRegistry, so it runs inline only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitBreakerRegistry, NodeRegistry, WorkflowEngine } from '../../src/index.js';
import { createRegistry } from '../fixtures/executors/resilience.js';
import { forEachMode } from '../fixtures/modes.js';
import { graph, node, sleep, testEngine } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

describe('rate limit options', () => {
  it('refuses a nonsensical limit', () => {
    expect(() => new NodeRegistry().registerRateLimit('x', 0)).toThrow(/positive integer/);
    expect(() => new NodeRegistry().registerRateLimit('x', { max: 5, duration: -1 })).toThrow(/positive integer/);
  });
});

describe('circuit breakers (inline only: the test reads the breaker states of this thread)', () => {
  it('opens after the failure threshold, fails fast with CircuitOpenError, and closes after the success threshold', async () => {
    const breakers = new CircuitBreakerRegistry();
    t = testEngine();
    let healthy = false;
    let calls = 0;
    t!.registry.register('http', async () => {
      calls++;
      return healthy ? { success: true, data: 'ok' } : { success: false, error: 'HTTP 503' };
    });
    const engine = new WorkflowEngine({
      registry: t!.registry,
      store: t!.store,
      ...t!.link,
      config: { prefix: t!.prefix },
      circuitBreakers: breakers,
    });
    try {
      // An open window long enough for the fast-failing run to fit in it on a loaded machine
      // (500 ms did not, at a load of 15).
      const cb = { failureThreshold: 2, successThreshold: 2, timeout: 3000 };
      await engine.registerWorkflow(graph('cb', [node('call', 'http', { config: { url: 'https://api.example.test/v1', circuitBreaker: cb } })], []));
      engine.startWorkers(1);
      const run = async () => engine.waitForExecution(await engine.enqueueWorkflow('cb', {}));
      expect((await run()).nodeResults['call']?.error).toBe('HTTP 503');
      expect((await run()).nodeResults['call']?.error).toBe('HTTP 503');
      expect(breakers.getAllStats()).toEqual([{ key: 'http:api.example.test', state: 'open', options: cb }]);
      const fastFail = await run();
      expect(fastFail.nodeResults['call']?.error).toBe("Circuit 'http:api.example.test' is open: the call was not made");
      expect(calls).toBe(2);
      healthy = true;
      // Kept: the breaker's open window is measured in time and nothing marks its end.
      await sleep(3100); // the open window passes: half-open
      expect((await run()).status).toBe('completed');
      expect(breakers.getAllStats()[0]?.state).toBe('half-open');
      expect((await run()).status).toBe('completed');
      expect(breakers.getAllStats()[0]?.state).toBe('closed');
    } finally {
      await engine.close();
    }
  });

  it('keys breakers per host for http and lets other types register theirs', () => {
    const registry = new NodeRegistry();
    expect(registry.getCircuitBreakerKey('http', { url: 'https://a.test/x' })).toBe('http:a.test');
    expect(registry.getCircuitBreakerKey('email', { smtpHost: 'smtp.test' })).toBe('email:smtp.test');
    expect(registry.getCircuitBreakerKey('transform', {})).toBeNull();
    registry.registerExternalNode('payments', (c) => String(c['provider']));
    expect(registry.getCircuitBreakerKey('payments', { provider: 'stripe' })).toBe('payments:stripe');
    expect(registry.isExternalNode('payments')).toBe(true);
  });
});

/** What runs node jobs, in both modes (test/fixtures/modes.ts). */
forEachMode({ module: new URL('../fixtures/executors/resilience.ts', import.meta.url), createRegistry }, (h) => {
  it.each([
    ['custom limiter', false],
    ['with the native worker limiter on', true],
  ])('rate limits per node type: spaces 30 runs limited to 10/s across two engines, and all succeed (%s)', async (_label, useNativeRateLimiting) => {
    const config = useNativeRateLimiting ? { useNativeRateLimiting, rateLimiter: { max: 1000, duration: 1000 } } : {};
    const t = h.engine({ config });
    await t.engine.registerWorkflow(graph('limited', [node('call', 'limited')], []));
    const second = t.sibling(config);
    // 15 slots each inline; in thread mode a slot is a thread, so fewer (the limit is in Redis either way).
    const slots = h.threads ? 3 : 15;
    t.engine.startWorkers(slots);
    second.startWorkers(slots);
    const ids = await t.engine.enqueueBulkWorkflows(Array.from({ length: 30 }, () => ({ workflowId: 'limited' })));
    const done = await Promise.all(ids.map((id) => t.engine.waitForExecution(id, { timeoutMs: h.patience(20_000) })));
    expect(done.every((d) => d.status === 'completed')).toBe(true);
    const ranAt = await h.probe.list<number>('ranAt');
    expect(ranAt).toHaveLength(30);
    ranAt.sort((a, b) => a - b);
    // Runs are at least ~100 ms apart on average: 30 runs span close to 3 s.
    expect(ranAt.at(-1)! - ranAt[0]!).toBeGreaterThanOrEqual(2700);
    // Slots are granted 100 ms apart; executors start a little after their grant, so judge 12
    // consecutive runs (1.2 s of grants) against one second to leave room for that jitter.
    for (let i = 0; i + 12 < ranAt.length; i++) expect(ranAt[i + 12]! - ranAt[i]!).toBeGreaterThanOrEqual(1000);
    // Waiting jobs were delayed, not failed: one attempt each.
    expect(done.every((d) => d.nodeResults['call']?.attempts === 1)).toBe(true);
  });

  it('circuit breakers: retries a node whose circuit is open per its retry policy, after the open window', async () => {
    const t = h.engine();
    const cb = { failureThreshold: 1, successThreshold: 1, timeout: 300 };
    await t.engine.registerWorkflow(
      graph('db', [node('q', 'database', { config: { connectionId: 'main', circuitBreaker: cb }, retryPolicy: { maxAttempts: 4, backoff: { type: 'fixed', delay: 200 } } })], []),
    );
    t.engine.startWorkers(1);
    const id = await t.engine.enqueueWorkflow('db', {});
    const done = await t.engine.waitForExecution(id);
    expect(done.status).toBe('completed');
    expect(done.nodeResults['q']?.data).toBe('rows');
    // Attempt 2 (after 200 ms) met the open circuit and did not call; attempt 3 got through.
    expect(await h.probe.count('calls')).toBe(2);
    expect(done.nodeResults['q']?.attempts).toBeGreaterThanOrEqual(2);
  });
});
