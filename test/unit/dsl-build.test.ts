/** build(): the JSON it produces, what it carries, and the problems it refuses at run time. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineHttpNode, defineNode, delay, NODE_EXECUTORS, router, subWorkflow, transform, validateWorkflow, workflow, WorkflowValidationError } from '../../src/index.js';
import type { BuiltWorkflow } from '../../src/index.js';

const User = z.object({ userId: z.number() });
const fetchUser = defineNode({
  type: 'fetch-user',
  config: z.object({ baseUrl: z.string().url() }),
  input: User,
  output: z.object({ id: z.number(), email: z.string() }),
  run: async ({ input }) => ({ id: input.userId, email: 'a@example.test' }),
});
const sendEmail = defineNode({
  type: 'send-email',
  config: z.object({ template: z.string() }),
  input: z.object({ email: z.string() }),
  run: async () => ({ sent: true }),
});
const base = workflow('onboarding', { input: User, description: 'Sign-up flow' }).node('fetch', fetchUser({ baseUrl: 'https://example.test' }));

/** Calls `build` and returns the refusal it throws. */
function refusal(build: () => unknown): WorkflowValidationError {
  try {
    build();
  } catch (err) {
    if (err instanceof WorkflowValidationError) return err;
    throw err;
  }
  throw new Error('build() did not throw');
}

describe('build()', () => {
  it('compiles a chain to the plain definition, validated by validateWorkflow', () => {
    const built = base
      .then('welcome', sendEmail({ template: 'welcome' }), { retryPolicy: { maxAttempts: 3, backoff: { type: 'fixed', delay: 10 } }, name: 'Welcome mail' })
      .build();
    expect(built).toMatchObject({
      id: 'onboarding',
      name: 'onboarding',
      description: 'Sign-up flow',
      entryNodeId: 'fetch',
      nodes: [
        { id: 'fetch', type: 'fetch-user', config: { baseUrl: 'https://example.test' }, inputs: [], outputs: ['welcome'] },
        {
          id: 'welcome',
          type: 'send-email',
          name: 'Welcome mail',
          config: { template: 'welcome', retryPolicy: { maxAttempts: 3, backoff: { type: 'fixed', delay: 10 } } },
          inputs: ['fetch'],
          outputs: [],
        },
      ],
    });
    expect(validateWorkflow(built)).toMatchObject({ id: 'onboarding', nodes: [{ id: 'fetch' }, { id: 'welcome' }] });
  });

  it('round-trips through JSON, with node schemas embedded as JSON Schema', () => {
    const built = base.then('welcome', sendEmail({ template: 'welcome' })).build();
    const json = JSON.parse(JSON.stringify(built)) as BuiltWorkflow;
    expect(json).toEqual(built);
    expect(json.schemas.input).toEqual({ type: 'object', properties: { userId: { type: 'number' } }, required: ['userId'] });
    expect(json.schemas.nodes['fetch']).toMatchObject({
      role: 'node',
      config: { properties: { baseUrl: { type: 'string', format: 'uri' } } },
      input: { properties: { userId: { type: 'number' } } },
      output: { properties: { id: { type: 'number' }, email: { type: 'string' } } },
    });
    expect(json.schemas.nodes['welcome']).not.toHaveProperty('output');
    expect(validateWorkflow(json).nodes).toHaveLength(2);
  });

  it('carries one executor per node type, invisible to JSON and to equality', () => {
    const built = base
      .then('a', sendEmail({ template: 'x' }))
      .node('b', sendEmail({ template: 'y' }), { after: ['fetch'] })
      .then('wait', delay(5))
      .build();
    expect(built[NODE_EXECUTORS].map((c) => c.type)).toEqual(['fetch-user', 'send-email']);
    expect(Object.keys(built)).not.toContain(String(NODE_EXECUTORS));
    expect(JSON.stringify(built)).not.toContain('executor');
  });

  it('compiles continueOnFail and circuit breakers into node.config, from the call or from .with()', () => {
    const built = base.then('a', sendEmail({ template: 'x' }).with({ retryPolicy: { maxAttempts: 2 } }), { continueOnFail: true, circuitBreaker: { failureThreshold: 3 } }).build();
    expect(built.nodes[1]!.config).toEqual({ template: 'x', retryPolicy: { maxAttempts: 2, continueOnFail: true }, circuitBreaker: { failureThreshold: 3 } });
  });

  it('wires fan-out, joins, branches and marks joins below a branch with $join', () => {
    const built = base
      .parallel({ left: transform('left', (u: { id: number }) => u.id), right: transform('right', (u: { id: number }) => -u.id) })
      .then(
        'sum',
        transform('sum', (x: { left: number; right: number }) => x.left + x.right),
      )
      .branch(
        'route',
        router('sign', (n: number) => (n >= 0 ? 'pos' : 'neg')),
        { pos: transform('pos', (n: number) => n), neg: transform('neg', (n: number) => n) },
      )
      .then(
        'merge',
        transform('merge', (x: { pos?: number; neg?: number }) => x.pos ?? x.neg),
      )
      .build();
    const byId = Object.fromEntries(built.nodes.map((n) => [n.id, n]));
    expect(byId['fetch']?.outputs).toEqual(['left', 'right']);
    expect(byId['sum']).toMatchObject({ inputs: ['left', 'right'], outputs: ['route'], config: {} });
    expect(byId['route']).toMatchObject({ type: 'router:sign', outputs: ['pos', 'neg'] });
    expect(byId['merge']).toMatchObject({ inputs: ['pos', 'neg'], config: { $join: ['pos', 'neg'] } });
    expect(built.schemas.nodes['route']?.role).toBe('router');
  });

  it('compiles delay, sub-workflow and triggers to the runtime shapes', () => {
    const child = workflow('child', { input: User })
      .then('fetch', fetchUser({ baseUrl: 'https://example.test' }))
      .build();
    const built = base
      .then('wait', delay(250))
      .then('sub', subWorkflow(child, { inputMapping: { userId: 'id' }, outputMapping: { email: 'email' } }))
      .trigger({ type: 'schedule', cron: '0 9 * * 1', timezone: 'Europe/Paris', data: { userId: 7 } })
      .trigger({ type: 'webhook', path: 'signup', method: 'POST' })
      .build();
    expect(built.nodes[1]).toMatchObject({ type: 'delay', config: { duration: 250 } });
    expect(built.nodes[2]).toMatchObject({ type: 'sub-workflow', config: { workflowId: 'child', inputMapping: { userId: 'id' }, outputMapping: { email: 'email' } } });
    expect(built.triggers).toEqual([
      { type: 'schedule', config: { cron: '0 9 * * 1', timezone: 'Europe/Paris', data: { userId: 7 } } },
      { type: 'webhook', config: { path: 'signup', method: 'POST' } },
    ]);
  });

  it('is immutable: branching a half-built workflow leaves the original as it was', () => {
    const half = base.then('a', sendEmail({ template: 'x' }));
    const one = half.node('b', sendEmail({ template: 'y' }), { after: ['fetch'] }).build();
    const other = half
      .then(
        'c',
        transform('c', (x: unknown) => x),
      )
      .build();
    expect(one.nodes.map((n) => n.id)).toEqual(['fetch', 'a', 'b']);
    expect(other.nodes.map((n) => n.id)).toEqual(['fetch', 'a', 'c']);
    expect(half.build().nodes.map((n) => n.id)).toEqual(['fetch', 'a']);
    const spec = sendEmail({ template: 'x' });
    expect(spec.with({ continueOnFail: true })).not.toBe(spec);
    expect(spec.options).toEqual({});
  });
});

describe('build() refuses at run time what types cannot see', () => {
  it('config that does not match the kind schema, naming node and field', () => {
    const err = refusal(() =>
      workflow('cfg', { input: User })
        .then('a', fetchUser({ baseUrl: 'not a url' }))
        .build(),
    );
    expect(err.issues).toEqual([expect.objectContaining({ rule: 'invalid-config', path: 'nodes[0].config.baseUrl', message: expect.stringContaining("node 'a' (fetch-user)") })]);
  });

  it('functions, class instances and zod schemas in config: never silently dropped', () => {
    const loose = defineNode({ type: 'loose', config: z.record(z.string(), z.any()), run: () => null });
    const err = refusal(() => base.then('a', loose({ fn: () => 1, when: new Date(0), schema: z.string(), nested: [1, undefined] })).build());
    const messages = err.issues.map((i) => `${i.path}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^nodes\[1\]\.config\.fn: .*a function.*cannot be serialised/),
        expect.stringMatching(/^nodes\[1\]\.config\.when: .*an instance of Date/),
        expect.stringMatching(/^nodes\[1\]\.config\.schema: .*a zod schema \(ZodString\)/),
        expect.stringMatching(/^nodes\[1\]\.config\.nested\[1\]: .*undefined/),
      ]),
    );
  });

  it('reserved config keys, unknown options, and two kinds sharing a type string', () => {
    const raw = defineNode({ type: 'raw', config: z.looseObject({}), run: () => 1 });
    const impostor = defineNode({ type: 'send-email', run: () => 2 });
    const err = refusal(() =>
      base
        .then('a', raw({ retryPolicy: { maxAttempts: 2 } }))
        .node('b', sendEmail({ template: 'x' }), { after: ['fetch'], ...({ retries: 3 } as object) })
        .then('c', impostor())
        .build(),
    );
    expect(err.issues.map((i) => i.message)).toEqual(
      expect.arrayContaining([
        expect.stringContaining("'retryPolicy' is reserved in node config"),
        expect.stringContaining("'retries' is not a node option"),
        expect.stringContaining("nodes 'b' and 'c' use two different node kinds with the same type 'send-email'"),
      ]),
    );
  });

  it('accepts the same transform function under one name twice, refuses two functions under one name', () => {
    const double = (n: number) => n * 2;
    const ok = workflow('twice', { input: z.number() }).then('a', transform('double', double)).then('b', transform('double', double)).build();
    expect(ok[NODE_EXECUTORS]).toHaveLength(1);
    const err = refusal(() =>
      workflow('clash', { input: z.number() })
        .then(
          'a',
          transform('f', (n: number) => n),
        )
        .then(
          'b',
          transform('f', (n: number) => n + 1),
        )
        .build(),
    );
    expect(err.message).toContain("type 'transform:f'");
    const a = defineHttpNode({ type: 'get-thing', output: z.object({ a: z.number() }) });
    const b = defineHttpNode({ type: 'get-thing', output: z.object({ b: z.number() }) });
    const schemas = refusal(() =>
      workflow('http-clash')
        .then('a', a({ url: 'https://x.test' }))
        .node('b', b({ url: 'https://x.test' }), { after: ['a'] })
        .build(),
    );
    expect(schemas.message).toContain("same type 'get-thing'");
  });

  it('graph mistakes made through casts, with the shared validator', () => {
    const untyped = base as unknown as { node(id: string, spec: unknown, o?: object): { build(): unknown } };
    const dup = refusal(() => untyped.node('fetch', sendEmail({ template: 'x' }), { after: ['fetch'] }).build());
    expect(dup.issues.map((i) => i.rule)).toContain('duplicate-node');
    const missing = refusal(() => untyped.node('x', sendEmail({ template: 'x' }), { after: ['ghost'] }).build());
    expect(missing.issues.map((i) => i.message).join('\n')).toContain("'ghost', which is not a node of this workflow");
    expect(() => untyped.node('x', sendEmail, { after: ['fetch'] })).toThrow(/must be called with its config first/);
  });

  it('schedule data that is not a workflow input, and malformed cron', () => {
    const err = refusal(() =>
      base
        .trigger({ type: 'schedule', cron: '0 9 * *', data: { userId: 1 } })
        .trigger({ type: 'schedule', cron: '0 9 * * *', data: { userId: 'x' } as unknown as { userId: number } })
        .build(),
    );
    const messages = err.issues.map((i) => `${i.path}: ${i.message}`);
    expect(messages).toContain('triggers[1].config.data: schedule data is not a valid workflow input at userId: Invalid input: expected number, received string');
    // The cron pattern is checked by the shared validator, as for hand-written definitions.
    expect(messages.some((m) => m.startsWith('triggers[0].config.cron') && m.includes("'0 9 * *'"))).toBe(true);
  });

  it('leaves a config that needs async parsing to the worker, but surfaces what a refine throws', () => {
    const asyncKind = defineNode({ type: 'async-config', config: z.object({ url: z.string().refine(async () => true) }), run: async () => ({}) });
    expect(() => base.then('a', asyncKind({ url: 'x' })).build()).not.toThrow();
    const broken = defineNode({
      type: 'broken-config',
      config: z.object({
        url: z.string().refine(() => {
          throw new TypeError('refine bug');
        }),
      }),
      run: async () => ({}),
    });
    expect(() => base.then('b', broken({ url: 'x' })).build()).toThrow(TypeError);
  });
});
