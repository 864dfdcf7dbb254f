/**
 * Every file in examples/ as a user meets it: `spane run examples/<file>.ts` with the built
 * binary on the default embedded backend, with Redis and PostgreSQL pointed at a closed port to
 * show that no server is needed, and a plain import of each module, which must start nothing.
 *
 * Needs no server at all (spane-test: probes its servers — here, none: test/backends/plan.ts
 * reads that marker and never leaves the file out). CI builds before it tests (.ci/run); when
 * dist/cli.js is missing, this file builds it first.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureBuilt, runNode } from '../helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(root, 'dist/cli.js');

/** Every server the examples could reach for, on a port where nothing listens. */
const CLOSED = {
  REDIS_URL: 'redis://127.0.0.1:9',
  SPANE_REDIS_URL: 'redis://127.0.0.1:9',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none',
  SPANE_DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none',
};

/** What `spane run` prints on stdout for each example, or why the example is not run that way. */
const EXPECTED: Record<string, { workflow: string; result: (out: unknown) => void } | { skip: string }> = {
  'hello.ts': { workflow: 'hello', result: (out) => expect(out).toEqual({ message: 'HELLO, ADA!', length: 11 }) },
  'dsl-quickstart.ts': {
    workflow: 'dsl-quickstart',
    result: (out) => {
      expect(out).toMatchObject({ id: 123, name: 'Ada', plan: 'pro', processedAt: expect.any(String) });
      expect(out).not.toHaveProperty('internal'); // dropped by the http node's output schema
    },
  },
  'dsl-branching.ts': { workflow: 'dsl-orders', result: (out) => expect(out).toBe('approved') },
  'dsl-fan-out.ts': { workflow: 'dsl-user-summary', result: (out) => expect(out).toEqual({ city: 'Lyon', orders: 3, spent: 60, recommendations: [] }) },
  'quickstart.ts': { workflow: 'fetch-and-transform', result: (out) => expect(out).toMatchObject({ plan: 'pro', user: { id: 123, name: 'Ada' } }) },
  'sub-workflows.ts': { workflow: 'order-processing', result: (out) => expect(out).toEqual({ sent: 'receipt for pay_9999' }) },
  'large-payloads.ts': { workflow: 'large-payloads', result: (out) => expect(out).toEqual({ total: 20_000, even: 10_000 }) },
  'react-flow-backend.ts': {
    skip: 'an HTTP server on Redis that receives its workflows over HTTP, so it exports none to run; its routes are tested in react-flow-backend.test.ts',
  },
  'testing.test.ts': {
    skip: 'a node:test file of examples/hello.ts, not a workflow module; testing-harness.test.ts runs it with node --test',
  },
  'sandboxed-processor-setup.ts': {
    skip: 'a walkthrough of worker threads on Redis and PostgreSQL (`npx tsx examples/sandboxed-processor-setup.ts`); it exports only the registry its threads import',
  },
};

const files = readdirSync(join(root, 'examples'))
  .filter((f) => /\.(ts|mts|js|mjs)$/.test(f))
  .sort();

beforeAll(() => ensureBuilt(root, CLI), 180_000);

it('every example is listed here, with its expected result or the reason it is not run', () => {
  expect(files).toEqual(Object.keys(EXPECTED).sort());
});

describe('npx spane run examples/<file>, embedded, no server reachable', () => {
  for (const file of files) {
    const expected = EXPECTED[file];
    if (expected === undefined || 'skip' in expected) {
      it.skip(`${file}: ${expected?.skip ?? 'not listed'}`, () => undefined);
      continue;
    }
    it(`${file} completes and prints its result`, async () => {
      const r = await runNode([CLI, 'run', `examples/${file}`], root, CLOSED);
      expect(r.err, r.err).toMatch(new RegExp(`^${expected.workflow}: execution [0-9a-f-]{36} \\(embedded\\)$`, 'm'));
      expect(r.err).toMatch(new RegExp(`^${expected.workflow}: completed in `, 'm'));
      expect(r.code, r.err).toBe(0);
      expected.result(JSON.parse(r.out));
    }, 180_000);
  }
});

describe('importing an example starts nothing', () => {
  afterEach(() => vi.restoreAllMocks());

  /** Open handles and requests (sockets, servers, timers...) by kind, as Node counts them. */
  const resources = (): Map<string, number> => {
    const counts = new Map<string, number>();
    for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
    return counts;
  };

  // A test file (testing.test.ts) runs its tests when imported: it is run, not imported.
  it.each(files.filter((f) => !f.includes('.test.')))('%s', async (file) => {
    // The package itself first, so that only what the example adds is looked at.
    await import('../../src/index.js');
    const before = resources();
    const printed: string[] = [];
    const capture = (chunk: unknown): boolean => (printed.push(String(chunk)), true);
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    for (const method of ['log', 'info', 'warn', 'error'] as const) vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void printed.push(args.join(' ')));

    const ns = (await import(pathToFileURL(join(root, 'examples', file)).href)) as Record<string, unknown>;
    // Let whatever the module set going at import (a connection, a server, a timer) show up.
    await new Promise((r) => setTimeout(r, 50));

    vi.restoreAllMocks();
    const added = [...resources()].filter(([kind, n]) => n > (before.get(kind) ?? 0)).map(([kind, n]) => `${kind} +${n - (before.get(kind) ?? 0)}`);
    expect(added, 'opened no handle (socket, server, timer...)').toEqual([]);
    expect(printed, 'printed nothing').toEqual([]);
    expect(Object.keys(ns).length, 'the module exports something').toBeGreaterThan(0);
  });
});
