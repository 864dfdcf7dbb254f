/**
 * The thread-boundary serialisation (src/runtime/sandbox/serialize.ts): the spec's table case by
 * case, and property-based round trips over nested values of every supported type, through JSON
 * as the store keeps them.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { deserialize, serialize, TYPE_KEY } from '../../src/runtime/sandbox/serialize.js';

/** serialize, then through JSON (as in Redis or PostgreSQL), then deserialize. */
function roundTrip(value: unknown, onWarning: (m: string) => void = () => {}): unknown {
  const wire = JSON.stringify(serialize(value, { onWarning }));
  return wire === undefined ? undefined : deserialize(JSON.parse(wire));
}

const key = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(TYPE_KEY, '__proto__', 'value', 'entries', 'base64'));
const primitive = fc.oneof(
  fc.string({ maxLength: 16 }),
  fc.boolean(),
  fc.constant(null),
  fc.integer(),
  fc.double({ noNaN: false, noDefaultInfinity: false }).filter((n) => !Object.is(n, -0)),
  fc.bigInt({ min: -(2n ** 128n), max: 2n ** 128n }),
);
const bytes = fc.uint8Array({ maxLength: 32 });

/** Nested values made only of the types that round-trip exactly. */
const { value: supported } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    primitive,
    bytes,
    bytes.map((b) => Buffer.from(b)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
    fc.array(fc.tuple(fc.oneof(fc.string({ maxLength: 6 }), fc.integer()), tie('value')), { maxLength: 3 }).map((entries) => new Map(entries)),
    fc.array(primitive, { maxLength: 4 }).map((items) => new Set(items)),
  ),
}));

describe('serialize / deserialize: properties', () => {
  it('round-trips nested values of supported types exactly, through JSON', () => {
    fc.assert(
      fc.property(supported, (value) => {
        expect(roundTrip(value)).toStrictEqual(value);
      }),
      { numRuns: 500 },
    );
  });

  it('always produces JSON-safe output that survives JSON unchanged', () => {
    const anything = fc.anything({
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withNullPrototype: true,
      withBoxedValues: true,
      withSparseArray: true,
    });
    fc.assert(
      fc.property(anything, (value) => {
        const out = serialize(value, { onWarning: () => {} });
        if (out === undefined) return;
        expect(JSON.parse(JSON.stringify(out))).toStrictEqual(out);
      }),
      { numRuns: 500 },
    );
  });

  it('deserialize leaves plain JSON without markers as it is', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (json) => {
        const withoutMarkers = JSON.parse(JSON.stringify(json, (k, v: unknown) => (k === TYPE_KEY ? undefined : v))) as unknown;
        expect(deserialize(withoutMarkers)).toStrictEqual(withoutMarkers);
      }),
    );
  });

  it('keeps the types of byte arrays and collections', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        const asBuffer = roundTrip({ b: Buffer.from(b) }) as { b: unknown };
        const asArray = roundTrip({ b }) as { b: unknown };
        expect(Buffer.isBuffer(asBuffer.b)).toBe(true);
        expect(asArray.b).toBeInstanceOf(Uint8Array);
        expect(Buffer.isBuffer(asArray.b)).toBe(false);
      }),
    );
  });
});

describe('serialize: the table', () => {
  const originalEnv = process.env['NODE_ENV'];
  afterEach(() => {
    process.env['NODE_ENV'] = originalEnv;
  });

  it('passes primitives through and marks numbers JSON cannot hold', () => {
    expect(serialize('a')).toBe('a');
    expect(serialize(1.5)).toBe(1.5);
    expect(serialize(false)).toBe(false);
    expect(serialize(null)).toBe(null);
    expect(serialize(Number.NaN)).toEqual({ [TYPE_KEY]: 'number', value: 'NaN' });
    expect(roundTrip([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
  });

  it('turns a Date into its ISO string (and an invalid one into null)', () => {
    expect(serialize(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)))).toBe('2024-01-02T03:04:05.000Z');
    expect(serialize({ at: new Date(Number.NaN) })).toEqual({ at: null });
  });

  it('turns an Error into { message, stack }', () => {
    const err = new TypeError('bad input');
    expect(serialize({ err })).toEqual({ err: { message: 'bad input', stack: err.stack } });
  });

  it('marks a BigInt as a string with a type marker', () => {
    expect(serialize(2n ** 64n)).toEqual({ [TYPE_KEY]: 'bigint', value: '18446744073709551616' });
    expect(deserialize(serialize(-5n))).toBe(-5n);
  });

  it('turns Buffer and Uint8Array into base64 with their type', () => {
    expect(serialize(Buffer.from('hello'))).toEqual({ [TYPE_KEY]: 'Buffer', base64: 'aGVsbG8=' });
    expect(serialize(new Uint8Array([1, 2, 3]))).toEqual({ [TYPE_KEY]: 'Uint8Array', base64: 'AQID' });
    const view = new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4);
    expect(roundTrip(view)).toStrictEqual(new Uint8Array([1, 2, 3]));
    expect(roundTrip(new Float64Array([1.5, -2]))).toStrictEqual(new Float64Array([1.5, -2]));
  });

  it('marks Map and Set, with any keys', () => {
    const map = new Map<unknown, unknown>([
      ['a', 1],
      [2, { nested: new Set(['x']) }],
    ]);
    expect(serialize(map)).toEqual({
      [TYPE_KEY]: 'Map',
      entries: [
        ['a', 1],
        [2, { nested: { [TYPE_KEY]: 'Set', values: ['x'] } }],
      ],
    });
    expect(roundTrip(map)).toStrictEqual(map);
  });

  it('removes functions and symbols with a warning naming where they were', () => {
    const warnings: string[] = [];
    const out = serialize({ keep: 1, fn: () => 1, sym: Symbol('s'), list: [1, () => 2, Symbol('t')] }, { onWarning: (m) => warnings.push(m) });
    expect(out).toEqual({ keep: 1, list: [1, null, null] });
    expect(warnings).toEqual(['function removed at $.fn', 'symbol removed at $.sym', 'function removed at $.list[1]', 'symbol removed at $.list[2]']);
    expect(serialize(() => 1, { onWarning: () => {} })).toBeUndefined();
  });

  it('replaces circular references with null, keeps shared (non-circular) ones', () => {
    const warnings: string[] = [];
    const a: Record<string, unknown> = { name: 'a' };
    a['self'] = a;
    const shared = { v: 1 };
    const out = serialize({ a, left: shared, right: shared, list: [a] }, { onWarning: (m) => warnings.push(m) });
    expect(out).toEqual({ a: { name: 'a', self: null }, left: { v: 1 }, right: { v: 1 }, list: [{ name: 'a', self: null }] });
    expect(warnings).toEqual(['circular reference replaced with null at $.a.self', 'circular reference replaced with null at $.list[0].self']);
  });

  it('escapes objects that have the marker key themselves, so they come back unchanged', () => {
    const tricky = { [TYPE_KEY]: 'bigint', value: '12' };
    expect(serialize(tricky)).toEqual({ [TYPE_KEY]: 'object', value: tricky });
    expect(roundTrip(tricky)).toStrictEqual(tricky);
  });

  it('drops undefined in objects and turns it into null in arrays, as JSON does', () => {
    expect(serialize({ a: undefined, b: [undefined] })).toEqual({ b: [null] });
  });

  it('uses toJSON of other objects and own enumerable keys of class instances', () => {
    class Money {
      constructor(readonly cents: number) {}
      toJSON() {
        return `${this.cents / 100} EUR`;
      }
    }
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    expect(serialize({ price: new Money(250), at: new Point(1, 2) })).toEqual({ price: '2.5 EUR', at: { x: 1, y: 2 } });
  });

  it('lets an error of a getter or toJSON through (the processor turns it into a non-retryable failure)', () => {
    expect(() =>
      serialize({
        get boom() {
          throw new Error('getter exploded');
        },
      }),
    ).toThrow('getter exploded');
  });

  it('does not let a __proto__ key change prototypes', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}}') as unknown;
    const out = deserialize(parsed) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('warns through console.warn by default, and not at all with NODE_ENV=production', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      process.env['NODE_ENV'] = 'development';
      serialize({ f: () => 1 });
      expect(warn).toHaveBeenCalledTimes(1);
      process.env['NODE_ENV'] = 'production';
      const onWarning = vi.fn();
      expect(serialize({ f: () => 1, s: Symbol('x') }, { onWarning })).toEqual({});
      serialize({ f: () => 1 });
      expect(onWarning).not.toHaveBeenCalled();
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
  });
});
