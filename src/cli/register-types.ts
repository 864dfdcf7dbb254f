/**
 * Types of `spane/register` (dist/register.mjs, copied from src/cli/register.mjs): it exports
 * nothing; importing it (`node --import spane/register`) registers the TypeScript loader.
 *
 * @module
 */
export {};
