/**
 * `node --import spane/register`: the `import` condition of `spane/register`, which runs
 * register.cjs (see there) once, as `--require spane/register` would. Plain JavaScript, copied to
 * dist/register.mjs by tsup.config.ts.
 */
import { createRequire } from 'node:module';

createRequire(import.meta.url)('./register.cjs');
