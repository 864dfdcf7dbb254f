/**
 * SPANE's sandboxed processor: the file BullMQ loads in each worker thread when the engine runs
 * with `useWorkerThreads: true` (built to `dist/sandbox-processor.js` / `.cjs`). Settings come
 * from the environment the engine gives its threads; see docs/worker-threads.md.
 *
 * @module
 */
import { createSandboxProcessor } from './create-processor.js';

export default createSandboxProcessor();
