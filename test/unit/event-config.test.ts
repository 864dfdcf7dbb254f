/** The event node's config checks (definition/event.ts) and what `waitForEvent` compiles to. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eventConfigOf, eventConfigProblems, matchValueOf, parseEquals } from '../../src/definition/event.js';
import { InvalidArgumentError, validateWorkflow, waitForEvent, workflow } from '../../src/index.js';
import type { NodeDefinition } from '../../src/index.js';

const match = { field: 'orderId', equals: '$.input.orderId' } as const;

describe('event node config', () => {
  it('reads $.input and $.nodes expressions, and refuses others', () => {
    expect(parseEquals('$.input')).toEqual({ from: 'input', path: undefined });
    expect(parseEquals('$.input.order.id')).toEqual({ from: 'input', path: 'order.id' });
    expect(parseEquals('$.nodes.reserve')).toEqual({ from: 'node', nodeId: 'reserve', path: undefined });
    expect(parseEquals('$.nodes.reserve.ref.0')).toEqual({ from: 'node', nodeId: 'reserve', path: 'ref.0' });
    for (const bad of ['input.id', '$.inputs.id', '$.input.', '$.input.a..b', '$.input.__proto__', '$.nodes.', '$.nodes.a b.c', 42])
      expect(typeof parseEquals(bad), String(bad)).toBe('string');
  });

  it('accepts a full config and lists every problem of a bad one', () => {
    expect(eventConfigProblems({ name: 'order.paid', match, timeout: '7d', onTimeout: { value: 1 }, schema: { type: 'object' } })).toEqual([]);
    const problems = eventConfigProblems({ name: '', match: { field: 'a.', equals: 'x', also: 1 }, timeout: -1, onTimeout: 'later', extra: true });
    expect(problems.join('\n')).toMatch(/name must be/);
    expect(problems.join('\n')).toMatch(/unknown config key 'extra'/);
    expect(problems.join('\n')).toMatch(/unknown match key 'also'/);
    expect(problems.join('\n')).toMatch(/match.field/);
    expect(problems.join('\n')).toMatch(/match.equals must start/);
    expect(problems.join('\n')).toMatch(/timeout must be/);
    expect(problems.join('\n')).toMatch(/onTimeout must be/);
    expect(eventConfigProblems({ name: 'e' })).toEqual([expect.stringMatching(/^match must be/)]);
  });

  it('reads the match value from the input or a parent output', () => {
    const node = (equals: string): NodeDefinition => ({ id: 'n', type: 'event', config: { name: 'e', match: { field: 'id', equals } }, inputs: ['p'], outputs: [] });
    const data = { initialData: { order: { id: 7 } }, parentOutput: (id: string) => (id === 'p' ? { ref: 'r-1' } : undefined) };
    expect(matchValueOf(eventConfigOf(node('$.input.order.id')), data)).toBe(7);
    expect(matchValueOf(eventConfigOf(node('$.input')), data)).toEqual({ order: { id: 7 } });
    expect(matchValueOf(eventConfigOf(node('$.nodes.p.ref')), data)).toBe('r-1');
    expect(matchValueOf(eventConfigOf(node('$.input.missing')), data)).toBeUndefined();
  });
});

describe('waitForEvent', () => {
  it('compiles to an event node with the schema as JSON Schema', () => {
    const built = workflow('w')
      .then('paid', waitForEvent('order.paid', { schema: z.object({ orderId: z.string() }), match, timeout: '1h', onTimeout: 'fail' }))
      .build();
    expect(built.nodes[0]).toMatchObject({ id: 'paid', type: 'event', config: { name: 'order.paid', match, timeout: '1h', onTimeout: 'fail', schema: { type: 'object' } } });
    expect(validateWorkflow(built).nodes).toHaveLength(1);
  });

  it('refuses bad options with InvalidArgumentError', () => {
    expect(() => waitForEvent('bad name!', { match })).toThrow(InvalidArgumentError);
    expect(() => waitForEvent('e', { match: { field: '', equals: '$.input.x' } })).toThrow(InvalidArgumentError);
    expect(() => waitForEvent('e', { match: { field: 'x', equals: 'nope' as '$.input' } })).toThrow(InvalidArgumentError);
    expect(() => waitForEvent('e', { match, onTimeout: 'fail' })).toThrow(/onTimeout needs a timeout/);
    expect(() => waitForEvent('e', undefined as never)).toThrow(InvalidArgumentError);
  });
});
