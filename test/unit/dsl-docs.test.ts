/** Generated docs: Mermaid graph, node table with IO fields from JSON Schema, triggers. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNode, delay, renderMermaid, renderWorkflowMarkdown, router, transform, workflow } from '../../src/index.js';
import type { WorkflowDefinition } from '../../src/index.js';

const fetchUser = defineNode({
  type: 'fetch-user',
  description: 'Loads a user',
  config: z.object({ baseUrl: z.string().url() }),
  input: z.object({ userId: z.number() }),
  output: z.object({ id: z.number(), email: z.string().email(), tags: z.array(z.string()), plan: z.enum(['free', 'pro']).optional() }),
  run: async ({ input }) => ({ id: input.userId, email: 'a@example.test', tags: [] }),
});

const built = workflow('onboarding', { input: z.object({ userId: z.number() }), name: 'Onboarding', description: 'New users.' })
  .then('fetch', fetchUser({ baseUrl: 'https://example.test' }), { retryPolicy: { maxAttempts: 3, backoff: { type: 'exponential', delay: 100 } } })
  .then('wait', delay(1000))
  .branch(
    'route',
    router('by-plan', (u: { plan?: 'free' | 'pro' }) => (u.plan === 'pro' ? 'pro' : 'free')),
    {
      pro: transform('pro', (u: { id: number }) => u.id),
      free: transform('free', (u: { id: number }) => u.id),
    },
  )
  .trigger({ type: 'schedule', cron: '0 9 * * 1', timezone: 'Europe/Paris', data: { userId: 1 } })
  .trigger({ type: 'webhook', path: 'signup', method: 'POST' })
  .build();

describe('renderMermaid', () => {
  it('draws every node and edge, routers as diamonds with dotted edges', () => {
    expect(renderMermaid(built)).toBe(
      [
        'flowchart TD',
        '  n0[/"fetch<br/>fetch-user"/]',
        '  n1(["wait<br/>delay"])',
        '  n2{"route<br/>router:by-plan"}',
        '  n3["pro<br/>transform:pro"]',
        '  n4["free<br/>transform:free"]',
        '  n0 --> n1',
        '  n1 --> n2',
        '  n2 -.-> n3',
        '  n2 -.-> n4',
      ].join('\n'),
    );
  });
});

describe('renderWorkflowMarkdown', () => {
  const md = renderWorkflowMarkdown(built);

  it('has title, description, input fields, the graph and triggers', () => {
    expect(md.startsWith('# Onboarding (`onboarding`)\n\nNew users.\n\n## Input\n\n`userId: number`')).toBe(true);
    expect(md).toContain('```mermaid\nflowchart TD');
    expect(md).toContain('## Triggers\n\n- Schedule `0 9 * * 1` (Europe/Paris) with data `{"userId":1}`\n- Webhook `POST /signup`');
  });

  it('lists nodes with type, parents, config, retries and IO fields from the JSON Schema', () => {
    const row = md.split('\n').find((l) => l.startsWith('| `fetch`'));
    expect(row).toBe(
      '| `fetch` (entry)<br>Loads a user | `fetch-user` | — | `{"baseUrl":"https://example.test"}`<br>retries: 3 attempts, exponential 100 ms | `userId: number` | `id: number`<br>`email: string (email)`<br>`tags: string[]`<br>`plan?: "free" \\| "pro"` |',
    );
    expect(md).toContain('| `pro` | `transform:pro` | `route` | — | — | — |');
  });

  it('renders hand-written definitions too', () => {
    const def: WorkflowDefinition = {
      id: 'hand',
      name: 'hand',
      entryNodeId: 'a',
      nodes: [
        { id: 'a', type: 'http', config: { url: 'https://x.test' }, inputs: [], outputs: ['b'] },
        { id: 'b', type: 'delay', config: { duration: 5 }, inputs: ['a'], outputs: [] },
      ],
    };
    const out = renderWorkflowMarkdown(def, { headingLevel: 2 });
    expect(out).toContain('## `hand`');
    expect(out).toContain('### Graph');
    expect(out).toContain('n1(["b<br/>delay"])');
    expect(out).toContain('| `a` (entry) | `http` | — | `{"url":"https://x.test"}` | — | — |');
  });
});
