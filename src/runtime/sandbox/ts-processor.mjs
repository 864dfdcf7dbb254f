// Loads a TypeScript sandboxed processor through tsx (Node does not pass the main thread's
// module hooks on to worker threads). The engine points BullMQ here and names the TypeScript
// file in SPANE_SANDBOX_TS_PROCESSOR; SPANE's own processor.ts is the default when SPANE runs
// from its sources (tests, examples).
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const target = process.env.SPANE_SANDBOX_TS_PROCESSOR || new URL('./processor.ts', import.meta.url).href;
const ns = await tsImport(target.startsWith('file:') ? target : pathToFileURL(target).href, import.meta.url);
let processor = ns.default;
// A CommonJS-compiled module nests its default export once more.
if (processor !== null && typeof processor === 'object' && typeof processor.default === 'function') processor = processor.default;
if (typeof processor !== 'function') throw new Error(`SPANE: ${target} has no default export function (a BullMQ processor)`);
export default processor;
