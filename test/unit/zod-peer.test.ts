/**
 * zod is a peer dependency (^4). A schema of zod 3 (the real zod 3 API, as zod 4 still ships it
 * under `zod/v3`), of another Standard Schema library, or no schema at all, handed to any DSL
 * function that takes schemas, is refused at once with a ZodVersionError naming what to install,
 * instead of a TypeError from inside zod at `.build()` or in the worker. The check of the
 * installed zod package at import time is run from a zod 3 project in test/pack/run.ts.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { z as z3 } from 'zod/v3';
import * as zm from 'zod/mini';
import { defineHttpNode, defineNode, InvalidArgumentError, router, SpaneError, transform, workflow, ZodVersionError } from '../../src/index.js';
import { zodSchemaProblem } from '../../src/definition/zod.js';

/** A zod 3 schema where the DSL's types expect a zod 4 one: what a zod 3 project passes. */
const v3 = z3.object({ id: z3.number() }) as never;
/** A Standard Schema of another library (valibot-shaped): validates, but is not zod. */
const standard = { '~standard': { version: 1, vendor: 'valibot', validate: (value: unknown) => ({ value }) } } as never;

function refusal(call: () => unknown): ZodVersionError {
  try {
    call();
  } catch (err) {
    if (err instanceof ZodVersionError) return err;
    throw err;
  }
  throw new Error('the call was not refused');
}

describe('a schema that is not zod 4', () => {
  const cases: readonly (readonly [string, () => unknown, string])[] = [
    ['defineNode input', () => defineNode({ type: 'n', input: v3 }), "defineNode('n') input"],
    ['defineNode output', () => defineNode({ type: 'n', output: v3, run: () => ({ id: 1 }) as never }), "defineNode('n') output"],
    ['defineNode config', () => defineNode({ type: 'n', config: v3 }), "defineNode('n') config"],
    ['defineHttpNode output', () => defineHttpNode({ type: 'h', output: v3 }), "defineNode('h') output"],
    ['workflow input', () => workflow('w', { input: v3 }), "workflow('w') input"],
    ['transform input', () => transform('t', { input: v3 }, (x: unknown) => x), "transform('t') input"],
    ['transform output', () => transform('t', { output: v3 }, (x: unknown) => x as never), "transform('t') output"],
    ['router input', () => router('r', { input: v3 }, () => 'a'), "router('r') input"],
  ];

  for (const [label, call, where] of cases) {
    it(`is refused in ${label}, naming the call and what to install`, () => {
      const err = refusal(call);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err).toBeInstanceOf(SpaneError);
      expect(err.code).toBe('ZOD_UNSUPPORTED');
      expect(err.where).toBe(where);
      expect(err.found).toMatch(/^a zod 3 schema/);
      expect(err.message).toContain(`${where}: SPANE needs zod 4, found a zod 3 schema`);
      expect(err.message).toContain('npm install zod@^4');
    });
  }

  it('names another Standard Schema library and values that are no schema', () => {
    expect(refusal(() => defineNode({ type: 'n', input: standard })).found).toBe('a valibot schema (SPANE reads zod 4 schemas only)');
    expect(refusal(() => workflow('w', { input: 'string' as never })).found).toBe('a string');
    expect(refusal(() => defineNode({ type: 'n', output: {} as never })).found).toBe('an object that is not a zod schema');
  });

  it('accepts zod 4 schemas, classic and mini, and no schema', () => {
    expect(zodSchemaProblem(z.object({ id: z.number() }))).toBeUndefined();
    expect(zodSchemaProblem(z.string().optional())).toBeUndefined();
    expect(zodSchemaProblem(zm.object({ id: zm.number() }))).toBeUndefined();
    expect(() => defineNode({ type: 'n', input: z.object({ id: z.number() }), output: z.number(), run: ({ input }) => input.id })).not.toThrow();
    expect(() => workflow('w', {}).build).not.toThrow();
  });
});
