/**
 * Own-property access for objects keyed by names users choose (node ids, parent ids, mapping
 * keys). A plain object inherits `constructor`, `toString`, `valueOf`, ... from `Object.prototype`,
 * so `results[id]` finds a function for a node named `constructor` that has no result yet; and
 * `obj['__proto__'] = x` replaces the prototype instead of adding a key. These two helpers avoid
 * both while the objects stay plain JSON objects (what executors and API callers receive).
 *
 * @module
 */

/** The value `record` holds under `key` itself, or undefined; never an inherited member. */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * Sets `key` as an own, enumerable property of `record`: plain assignment for every key but
 * `__proto__`, which is defined instead so that it becomes a key (as `JSON.parse` makes it).
 */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}
