/**
 * Fragments at run time: a workflow that places a fragment with `.use()` builds to the same
 * definition as the one with the fragment's calls written inline, and runs end to end on the
 * real backend, its entry node receiving what a `.then()` would (a join object after a group).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNode, fragment, router, transform, workflow } from '../../src/index.js';
import type { WorkflowExecution } from '../../src/index.js';
import { testEngine } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

let t: TestEngine;
afterEach(async () => t?.cleanup());

const Signup = z.object({ userId: z.number() });
const loadUser = defineNode({
  type: 'frag-load-user',
  input: Signup,
  output: z.object({ id: z.number(), email: z.string() }),
  run: ({ input }) => ({ id: input.userId, email: `user${input.userId}@example.test` }),
});
const sendMail = defineNode({
  type: 'frag-send-mail',
  config: z.object({ template: z.string() }),
  input: z.object({ email: z.string() }),
  output: z.object({ sent: z.string() }),
  run: ({ input, config }) => ({ sent: `${config.template}:${input.email}` }),
});
const score = transform('frag-score', (u: { id: number }) => u.id * 10);
const domain = transform('frag-domain', (u: { email: string }) => u.email.split('@')[1] ?? '');
const bySent = router('frag-by-sent', (m: { sent: string }) => (m.sent.startsWith('welcome') ? 'log' : 'drop'));
const log = transform('frag-log', (m: { sent: string }) => `logged ${m.sent}`);
const drop = transform('frag-drop', (m: { sent: string }) => `dropped ${m.sent}`);
const summary = transform('frag-summary', (x: { log?: string; drop?: string }) => x.log ?? x.drop ?? '');
const report = transform('frag-report', (x: { score: number; domain: string }) => `${x.domain}/${x.score}`);

/** Mails, routes on what was sent, and summarises: a router inside, several nodes, one entry. */
const mailSteps = fragment('mail-steps', { input: z.object({ email: z.string() }) })
  .then('mail', sendMail({ template: 'welcome' }), { retryPolicy: { maxAttempts: 2 } })
  .branch('route', bySent, { log, drop })
  .then('summary', summary);

/** Entered after a `.parallel()` group: receives the join object `{ score, domain }`. */
const reportSteps = fragment('report-steps', { input: z.object({ score: z.number(), domain: z.string() }) })
  .then('report', report)
  .parallel({ upper: transform('frag-upper', (s: string) => s.toUpperCase()), length: transform('frag-length', (s: string) => s.length) });

const withFragments = workflow('frag-used', { input: Signup })
  .then('load', loadUser())
  .use(mailSteps)
  .node(
    'fan-from',
    transform('frag-pick', (x: { load: { id: number; email: string } }) => x.load),
    { after: ['load', 'summary'] },
  )
  .parallel({ score, domain })
  .use(reportSteps)
  .then(
    'done',
    transform('frag-done', (x: { upper: string; length: number }) => `${x.upper}#${x.length}`),
  )
  .build();

const inline = workflow('frag-used', { input: Signup })
  .then('load', loadUser())
  .then('mail', sendMail({ template: 'welcome' }), { retryPolicy: { maxAttempts: 2 } })
  .branch('route', bySent, { log, drop })
  .then('summary', summary)
  .node(
    'fan-from',
    transform('frag-pick', (x: { load: { id: number; email: string } }) => x.load),
    { after: ['load', 'summary'] },
  )
  .parallel({ score, domain })
  .then('report', report)
  .parallel({ upper: transform('frag-upper', (s: string) => s.toUpperCase()), length: transform('frag-length', (s: string) => s.length) })
  .then(
    'done',
    transform('frag-done', (x: { upper: string; length: number }) => `${x.upper}#${x.length}`),
  )
  .build();

async function run(workflowId: string, input: unknown): Promise<WorkflowExecution> {
  return t.engine.waitForExecution(await t.engine.enqueueWorkflow(workflowId, input), { timeoutMs: 20_000 });
}

describe('DSL fragments', () => {
  it('build to the same definition as the steps written inline', () => {
    expect(JSON.parse(JSON.stringify(withFragments))).toEqual(JSON.parse(JSON.stringify(inline)));
  });

  it('run end to end, the entry after a group receiving its join object', async () => {
    t = testEngine();
    await t.engine.registerWorkflow(withFragments);
    t.engine.startWorkers(4);
    const done = await run('frag-used', { userId: 4 });
    expect(done.status).toBe('completed');
    const data = (id: string) => done.nodeResults[id]?.data;
    expect(data('mail')).toEqual({ sent: 'welcome:user4@example.test' });
    expect(done.nodeResults['drop']?.status).toBe('skipped');
    expect(data('summary')).toBe('logged welcome:user4@example.test');
    expect(data('report')).toBe('example.test/40');
    expect(data('done')).toBe('EXAMPLE.TEST/40#15');
  });

  it('place the same fragment in two workflows, at the start of one', async () => {
    t = testEngine();
    const invite = workflow('frag-invite', { input: z.object({ email: z.string() }) })
      .use(mailSteps)
      .build();
    expect(invite.nodes.find((n) => n.id === 'mail')).toBeDefined();
    await t.engine.registerWorkflow(invite);
    await t.engine.registerWorkflow(withFragments);
    t.engine.startWorkers(4);
    const [a, b] = await Promise.all([run('frag-invite', { email: 'a@b.test' }), run('frag-used', { userId: 1 })]);
    expect(a.status).toBe('completed');
    expect(a.nodeResults['summary']?.data).toBe('logged welcome:a@b.test');
    expect(b.status).toBe('completed');
    expect(b.nodeResults['done']?.data).toBe('EXAMPLE.TEST/10#15');
  });
});
