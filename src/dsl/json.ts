/**
 * JSON helpers of the DSL: find what `JSON.stringify` would drop or mangle, and print values
 * briefly in error messages.
 *
 * @module
 */

/** One place in a value that does not survive `JSON.stringify` → `JSON.parse` unchanged. */
export interface JsonProblem {
  /** Path inside the value, e.g. `headers.auth` or `items[2]`; `(root)` for the value itself. */
  readonly path: string;
  /** What is there, e.g. `a function` or `a zod schema (ZodObject)`. */
  readonly what: string;
}

/**
 * Every place in `value` that is not plain JSON: functions, symbols, bigints, non-finite numbers,
 * `undefined` inside arrays, class instances (dates, maps, zod schemas) and cycles. `undefined`
 * object properties are allowed: they are simply absent after a round trip.
 */
export function findJsonProblems(value: unknown, path: readonly (string | number)[] = []): JsonProblem[] {
  const problems: JsonProblem[] = [];
  const seen = new Set<object>();
  const visit = (v: unknown, at: readonly (string | number)[], inArray: boolean): void => {
    const add = (what: string): void => void problems.push({ path: formatPath(at), what });
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return;
      case 'number':
        if (!Number.isFinite(v)) add(`the number ${String(v)}`);
        return;
      case 'undefined':
        if (inArray || at.length === 0) add('undefined');
        return;
      case 'function':
        add(`a function${v.name ? ` (${v.name})` : ''}: code cannot be serialised into a definition; put it in a node kind's run`);
        return;
      case 'symbol':
      case 'bigint':
        add(`a ${typeof v}`);
        return;
      case 'object': {
        if (v === null) return;
        if (seen.has(v)) return add('a circular reference');
        if (isZodSchema(v)) return add(`a zod schema (${v.constructor.name}): schemas belong in defineNode, not in config`);
        const proto: unknown = Object.getPrototypeOf(v);
        if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) {
          return add(`an instance of ${(v as { constructor?: { name?: string } }).constructor?.name ?? 'a class'}, which JSON cannot carry`);
        }
        seen.add(v);
        if (Array.isArray(v)) v.forEach((item, i) => visit(item, [...at, i], true));
        else for (const [k, item] of Object.entries(v)) visit(item, [...at, k], false);
        seen.delete(v);
        return;
      }
    }
  };
  visit(value, path, false);
  return problems;
}

function isZodSchema(v: object): v is { constructor: { name: string } } {
  return '_zod' in v;
}

/** `['user', 'emails', 0]` → `user.emails[0]`; `[]` → `(root)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  const text = path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
  return text === '' ? '(root)' : text;
}

/** The value at `path` inside `value` (own properties only), or undefined. */
export function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** A short JSON rendering of `value`, cut at `max` characters (kept on errors, never in their messages). */
export function brief(value: unknown, max = 200): string {
  let text: string;
  try {
    text = value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
  } catch {
    // A cycle or a BigInt: a rougher rendering is still a rendering.
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
