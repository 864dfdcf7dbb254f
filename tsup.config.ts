import { cp } from 'node:fs/promises';
import { defineConfig } from 'tsup';

export default defineConfig({
  // The sandboxed processor is its own entry: BullMQ loads it by path in each worker thread
  // (useWorkerThreads), as dist/sandbox-processor.js (ESM) or .cjs.
  entry: { index: 'src/index.ts', 'sandbox-processor': 'src/runtime/sandbox/processor.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  // tsx is optional: loaded at run time, only for TypeScript executors modules and processors.
  external: ['tsx'],
  // DrizzleStore finds its SQL migrations beside the running module: `import.meta.url` in ESM,
  // and through this shim in the CommonJS build.
  shims: true,
  async onSuccess() {
    await cp('src/store/drizzle/migrations', 'dist/migrations', { recursive: true });
    // Loads a TypeScript processorFile through tsx in a worker thread (plain JavaScript on purpose).
    await cp('src/runtime/sandbox/ts-processor.mjs', 'dist/sandbox-ts-processor.mjs');
  },
});
