/**
 * Dotted-path mappings between a parent workflow and a sub-workflow:
 * `{ targetKey: 'source.path' }`. Pure functions, shared by validation and the runtime.
 *
 * @module
 */
import { MappingError } from '../errors.js';

import { ownValue, setOwn } from './own.js';

/**
 * Path segments refused everywhere. Reads and writes only ever touch own properties, so names such
 * as `constructor` or `prototype` are ordinary keys (a child's final node may be called that);
 * `__proto__` stays refused because code that copies the result by assignment (`Object.assign`,
 * `obj[key] = ...`) would turn such a key into a prototype change.
 */
const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['__proto__']);

/** Why a dotted path is unusable, or undefined when it is fine. */
export function pathProblem(path: string): string | undefined {
  if (typeof path !== 'string' || path.length === 0) return 'must be a non-empty string';
  const segments = path.split('.');
  if (segments.some((s) => s.length === 0)) return `'${path}' has an empty segment`;
  const bad = segments.find((s) => FORBIDDEN_SEGMENTS.has(s));
  return bad === undefined ? undefined : `'${path}' uses the forbidden segment '${bad}'`;
}

/** Problems of a mapping object, each naming the offending key or path. */
export function mappingProblems(mapping: unknown, name: string): string[] {
  if (mapping === undefined) return [];
  if (typeof mapping !== 'object' || mapping === null || Array.isArray(mapping)) return [`${name} must be an object of { targetKey: 'source.path' }`];
  const problems: string[] = [];
  for (const [target, source] of Object.entries(mapping)) {
    const t = pathProblem(target);
    if (t !== undefined) problems.push(`${name} key ${t}`);
    if (typeof source !== 'string') problems.push(`${name}['${target}'] must be a string path, got ${typeof source}`);
    else {
      const s = pathProblem(source);
      if (s !== undefined) problems.push(`${name}['${target}'] path ${s}`);
    }
  }
  return problems;
}

/** Reads a dotted path; undefined when any segment is missing. Own properties only. */
export function getPath(value: unknown, path: string): unknown {
  let current = value;
  for (const segment of path.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/**
 * Builds `{ target: valueAt(source) }` for every entry (dotted targets create nested objects).
 * Without a mapping the source passes through unchanged. Throws a {@link MappingError} (code
 * `MAPPING_INVALID`) when a path is unsafe or the source is not an object.
 */
export function applyMapping(source: unknown, mapping: Readonly<Record<string, string>> | undefined, name: string): unknown {
  if (mapping === undefined || Object.keys(mapping).length === 0) return source;
  const problems = mappingProblems(mapping, name);
  if (problems.length > 0) throw new MappingError(problems.join('; '));
  if (typeof source !== 'object' || source === null) {
    throw new MappingError(`${name} needs object data, got ${source === null ? 'null' : typeof source}`);
  }
  const out: Record<string, unknown> = {};
  for (const [target, path] of Object.entries(mapping)) {
    const segments = target.split('.');
    let holder = out;
    for (const segment of segments.slice(0, -1)) {
      // Own members only: `holder.constructor` must not find Object.
      const next = ownValue(holder, segment);
      if (typeof next === 'object' && next !== null) holder = next as Record<string, unknown>;
      else {
        const created: Record<string, unknown> = {};
        setOwn(holder, segment, created);
        holder = created;
      }
    }
    setOwn(holder, segments.at(-1)!, getPath(source, path));
  }
  return out;
}
