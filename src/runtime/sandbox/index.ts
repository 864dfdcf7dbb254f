/**
 * # sandbox/
 *
 * Worker threads (`useWorkerThreads`). In the main thread: {@link SandboxHost} and `planSandbox`
 * (`host.ts`) check what threads will need, create BullMQ's sandboxed worker and settle what a
 * dead thread cannot; the store is served to threads that cannot open it themselves
 * (`store-bridge.ts`); threads report logs and events back (`channel.ts`). In each thread: the
 * processor BullMQ loads (`processor.ts`, `create-processor.ts`, `ts-processor.mjs` for
 * TypeScript), the thread's own {@link Runtime} (`thread-runtime.ts`), the executors module
 * (`load-module.ts`) and the environment it is configured by (`env.ts`). `serialize.ts` is how
 * values cross between threads; `paths.ts` finds these files in `src/` or `dist/`.
 *
 * Entry points: `planSandbox` / `SandboxHost` (main thread), `createSandboxProcessor` (thread).
 *
 * May import: engine/ (config, the Runtime, registry, cache), execution/ (a thread runs the same
 * {@link NodeProcessor}; the host settles dead threads' jobs), queues/, observe/, resilience/,
 * module-loader/, and the stores a thread opens. It asks a store how another thread reaches it
 * (the store's `threadAccess` capability) rather than inspecting it.
 *
 * Must not import it: within `src/runtime`, only `queues/worker-manager.ts` (which decides
 * between in-process and thread workers). Rules and diagram: docs/architecture.md.
 *
 * @module
 */
export { createSandboxProcessor } from './create-processor.js';
export type { SandboxProcessor, SandboxProcessorOptions } from './create-processor.js';
export { deserialize, serialize, TYPE_KEY } from './serialize.js';
export type { SerializeOptions } from './serialize.js';
export { SANDBOX_ENV } from './env.js';
export { isRegistryLike } from './load-module.js';
