/**
 * The one place SPANE takes zod from. zod is a peer dependency (`^4`): SPANE uses the project's
 * copy, so a project's schemas and SPANE's own are built by the same zod. Importing this module
 * checks that the copy is zod 4 and throws a {@link ZodVersionError} naming what to install when
 * it is not (zod 3's API lacks what SPANE's own schemas are built with, and would otherwise fail
 * with a TypeError deep inside zod). {@link zodSchemaProblem} checks one schema handed to the DSL.
 *
 * @module
 */
// The namespace import, not `import { z }`: under vitest inside Bun the package's `z` re-export
// of its own namespace comes through undefined, the namespace itself does not.
import * as z from 'zod';
import { ZodVersionError } from '../errors.js';

/** The major version the zod namespace reports (`z.core.version`), or undefined (zod 3 and older have none). */
function majorOf(ns: unknown): unknown {
  return (ns as { core?: { version?: { major?: unknown } } } | undefined)?.core?.version?.major;
}

const major = majorOf(z);
if (major !== 4) throw new ZodVersionError("import of 'spane'", typeof major === 'number' ? `zod ${major}` : "a 'zod' package of version 3 or older");

export { z };

/**
 * Why `schema` is not a zod 4 schema (`a zod 3 schema`, `a string`, ...), or undefined when it
 * is one. zod 4 schemas (classic and mini) carry `_zod.version`; zod 3 schemas carry `_def` only.
 */
export function zodSchemaProblem(schema: unknown): string | undefined {
  if ((typeof schema !== 'object' && typeof schema !== 'function') || schema === null) return schema === null ? 'null' : `a ${typeof schema}`;
  const internals = (schema as { _zod?: { version?: { major?: unknown } } })._zod;
  if (internals !== undefined) {
    const found = internals.version?.major;
    return found === 4 ? undefined : `a schema of zod ${typeof found === 'number' ? found : '(unknown version)'}`;
  }
  if ('_def' in schema) return 'a zod 3 schema (it has `_def` and no `_zod`)';
  const vendor = (schema as { '~standard'?: { vendor?: unknown } })['~standard']?.vendor;
  if (typeof vendor === 'string') return `a ${vendor} schema (SPANE reads zod 4 schemas only)`;
  return typeof schema === 'function' ? 'a function' : 'an object that is not a zod schema';
}

/**
 * Throws a {@link ZodVersionError} for the first of `schemas` that is not a zod 4 schema;
 * `undefined` entries (no schema given) are skipped. `where` names the call, e.g.
 * `defineNode('fetch-user')`; each key is the option that held the schema.
 */
export function assertZodSchemas(where: string, schemas: Readonly<Record<string, unknown>>): void {
  for (const [key, schema] of Object.entries(schemas)) {
    if (schema === undefined) continue;
    const problem = zodSchemaProblem(schema);
    if (problem !== undefined) throw new ZodVersionError(`${where} ${key}`, problem);
  }
}
