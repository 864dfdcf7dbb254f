import { cp } from 'node:fs/promises';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  // DrizzleStore finds its SQL migrations beside the running module: `import.meta.url` in ESM,
  // and through this shim in the CommonJS build.
  shims: true,
  async onSuccess() {
    await cp('src/store/drizzle/migrations', 'dist/migrations', { recursive: true });
  },
});
