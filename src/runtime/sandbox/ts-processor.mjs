// Loads a TypeScript sandboxed processor through jiti (Node does not pass the main thread's
// module hooks on to worker threads, and Node 20 cannot strip types). The engine points BullMQ
// here and names the TypeScript file in SPANE_SANDBOX_TS_PROCESSOR; SPANE's own processor.ts is
// the default when SPANE runs from its sources (tests, examples).
// Built, this file is dist/sandbox-ts-processor.mjs: the processor's `spane` imports get
// dist/index.js beside it, whose chunks the executors loader shares (one copy in the thread).
// From the sources, jiti loads the whole tree once, so imports of src/*.ts share it too.
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';

const fromSources = basename(fileURLToPath(import.meta.url)) === 'ts-processor.mjs';
const target = process.env.SPANE_SANDBOX_TS_PROCESSOR || fileURLToPath(new URL('./processor.ts', import.meta.url));
const file = target.startsWith('file:') ? fileURLToPath(target) : target;
const virtualModules = fromSources ? {} : { spane: await import('./index.js') };
const ns = await createJiti(file, { virtualModules }).import(file);
let processor = ns.default;
// A CommonJS-compiled module nests its default export once more.
if (processor !== null && typeof processor === 'object' && typeof processor.default === 'function') processor = processor.default;
if (typeof processor !== 'function') throw new Error(`SPANE: ${target} has no default export function (a BullMQ processor)`);
export default processor;
