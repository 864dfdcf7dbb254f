/**
 * One case per compile-time rule of the builder. Every `@ts-expect-error` says which rule, and
 * after `-- expects:` the text the compiler must show; test/unit/dsl-compile-errors.test.ts
 * checks that text against the real diagnostics.
 */
import { describe, it } from 'vitest';
import { z } from 'zod';
import { router, transform, workflow } from '../../src/dsl/index.js';
import { fetchUser, needsName, sendEmail, User } from './dsl-kinds.js';

const base = workflow('rules', { input: User }).node('fetch', fetchUser({ baseUrl: 'https://example.test' }));
const byId = router('by-id', (u: { id: number }) => (u.id > 100 ? 'vip' : 'regular'));

describe('compile-time rules', () => {
  it('node ids are unique', () => {
    // @ts-expect-error duplicate node id -- expects: Node id 'fetch' is already used in workflow 'rules'
    base.then('fetch', sendEmail({ template: 'welcome' }));
    // @ts-expect-error duplicate id in a fan-out -- expects: Node id 'fetch' is already used in workflow 'rules'
    base.parallel({ fetch: sendEmail({ template: 'welcome' }), other: sendEmail({ template: 'reminder' }) });
    // @ts-expect-error branch named like the router -- expects: Node id 'route' is already used in workflow 'rules'
    base.branch('route', byId, { vip: sendEmail({ template: 'welcome' }), regular: sendEmail({ template: 'welcome' }), route: sendEmail({ template: 'welcome' }) });
  });

  it('edges name declared nodes only', () => {
    // @ts-expect-error edge to an undeclared node -- expects: Node 'mail' comes after 'fetc', which is not a node of workflow 'rules' yet
    base.node('mail', sendEmail({ template: 'welcome' }), { after: ['fetc'] });
    // @ts-expect-error edge to a node declared later -- expects: Node 'a' comes after 'b', which is not a node of workflow 'rules' yet
    base.node('a', sendEmail({ template: 'welcome' }), { after: ['fetch', 'b'] }).node('b', sendEmail({ template: 'welcome' }), { after: ['fetch'] });
    // @ts-expect-error fan-out after an undeclared node -- expects: Node 'x' comes after 'nope', which is not a node of workflow 'rules' yet
    base.parallel({ x: sendEmail({ template: 'welcome' }) }, { after: ['nope'] });
  });

  it('only the first node has no parents', () => {
    // @ts-expect-error second root -- expects: Node 'mail' has no parents: only the first node of workflow 'rules' may have none
    base.node('mail', sendEmail({ template: 'welcome' }));
  });

  it("a node's input schema accepts its parents' output", () => {
    // @ts-expect-error input mismatch -- expects: Node 'greet' cannot take the output of 'fetch': field(s) 'name' are missing or have the wrong type
    base.then('greet', needsName());
    // @ts-expect-error entry does not accept the workflow input -- expects: Node 'mail' cannot take the input of workflow 'w': field(s) 'email' are missing or have the wrong type
    workflow('w', { input: User }).then('mail', sendEmail({ template: 'welcome' }));
    // @ts-expect-error workflow input not declared -- expects: Node 'fetch' cannot take the input of workflow 'untyped': what it receives is typed unknown
    workflow('untyped').then('fetch', fetchUser({ baseUrl: 'https://example.test' }));
    // @ts-expect-error join mismatch -- expects: Node 'join' cannot take the outputs of ... (a node with several parents receives { [parentId]: output }): field(s) 'email' are missing or have the wrong type
    base.parallel({ a: sendEmail({ template: 'welcome' }), b: sendEmail({ template: 'reminder' }) }).then('join', sendEmail({ template: 'welcome' }));
    // @ts-expect-error a join below a branch must accept missing branches -- expects: Node 'merge' cannot take the outputs of ... 'vip' ... 'regular' ... are missing or have the wrong type
    base.branch('route', byId, { vip: sendEmail({ template: 'welcome' }), regular: sendEmail({ template: 'reminder' }) }).then('merge', transform('merge', (x: { vip: { sent: boolean }; regular: { sent: boolean } }) => x));
    // @ts-expect-error fan-out member mismatch -- expects: Node 'greet' cannot take the output of 'fetch': field(s) 'name' are missing or have the wrong type
    base.parallel({ mail: sendEmail({ template: 'welcome' }), greet: needsName() });
    // @ts-expect-error continueOnFail parent -- expects: a parent with continueOnFail passes { error: string } when it fails; the input schema must accept that too
    base.then('mail', sendEmail({ template: 'welcome' }), { continueOnFail: true }).then('next', transform('next', (r: { sent: boolean }) => r.sent));
    // @ts-expect-error schema-less transform typed by its parameter -- expects: Node 'len' cannot take the output of 'fetch': its input schema does not accept that type
    base.then('len', transform('len', (s: string) => s.length));
  });

  it('a router names only its own branches', () => {
    // @ts-expect-error router names a non-branch -- expects: Router 'route' may choose 'regular', which is not one of its branches ... 'vip' ... 'standard'
    base.branch('route', byId, { vip: sendEmail({ template: 'welcome' }), standard: sendEmail({ template: 'reminder' }) });
    // @ts-expect-error router returning plain strings -- expects: Router 'route' returns a plain string: return literal branch names
    base.branch('route', router('any', (u: { email: string }) => u.email), { a: sendEmail({ template: 'welcome' }) });
    // @ts-expect-error a later node hung under a router -- expects: Node 'extra' cannot come after router 'route': a router's successors are the branches given to .branch()
    base.branch('route', byId, { vip: sendEmail({ template: 'welcome' }), regular: sendEmail({ template: 'reminder' }) }).node('extra', sendEmail({ template: 'welcome' }), { after: ['route'] });
    // @ts-expect-error router placed with .then -- expects: Node 'route' is a router: add it with .branch('route', router, { ...branches })
    base.then('route', byId);
    // @ts-expect-error a non-router in .branch -- expects: Node 'route' is not a router: .branch() needs a node made by router(...)
    base.branch('route', sendEmail({ template: 'welcome' }), { a: sendEmail({ template: 'welcome' }) });
    // @ts-expect-error branch cannot take the router's output -- expects: Branch 'named' cannot take the output of router 'route' (a router passes its input on): field(s) 'name' are missing or have the wrong type
    base.branch('route', byId, { vip: sendEmail({ template: 'welcome' }), regular: sendEmail({ template: 'reminder' }), named: needsName() });
  });

  it("config matches the kind's config schema", () => {
    // @ts-expect-error config type -- expects: Type 'number' is not assignable to type 'string'
    base.then('mail', fetchUser({ baseUrl: 42 }));
    // @ts-expect-error config enum -- expects: Type '"welcom"' is not assignable to type '"welcome" | "reminder"'
    base.then('mail', sendEmail({ template: 'welcom' }));
  });

  it('nodes are specs, options are known', () => {
    // @ts-expect-error kind not called -- expects: Node 'mail' was given a node kind, not a node: call the kind with its config first
    base.then('mail', sendEmail);
    // @ts-expect-error unknown node option -- expects: Object literal may only specify known properties, and 'retries' does not exist
    base.then('mail', sendEmail({ template: 'welcome' }), { retries: 3 });
  });

  it('z is used so the schemas above stay typed', () => {
    z.object({});
  });
});
