import { setOwn } from '../definition/own.js';

/**
 * JSON text with object keys sorted at every level, so two values that differ only in key order
 * compare equal. Arrays keep their order (it is meaningful: node lists, edges). Values go through
 * JSON semantics first, as a store would keep them: `undefined` members vanish, Dates become
 * strings.
 *
 * Used to decide whether a registered definition is unchanged. PostgreSQL's `jsonb` reorders keys
 * on its own, so comparing the text a definition was written with against what comes back would
 * otherwise create a new version for every save.
 */
export function canonicalJson(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? 'undefined' : JSON.stringify(sortKeys(JSON.parse(text)));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  // setOwn: an own `__proto__` key (JSON.parse makes one) must stay a key, or two definitions that
  // differ only there would compare equal.
  for (const key of Object.keys(value).sort()) setOwn(out, key, sortKeys((value as Record<string, unknown>)[key]));
  return out;
}
