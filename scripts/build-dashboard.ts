/**
 * Bundles the dashboard's browser code (src/dashboard/ui: React, React Flow, elkjs) into
 * `<outDir>/` (index.html, assets/main.js, assets/main.css), minified, with nothing loaded from
 * a CDN. Called by the package build (tsup.config.ts) into dist/dashboard, and by the browser
 * tests when that folder is missing.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

/** The checkout's root (this file is in scripts/; tsup.config.ts, bundled elsewhere, passes its own). */
const here = resolve(import.meta.dirname, '..');

/** Builds the dashboard's assets into `outDir` (dist/dashboard by default) from the checkout at `root`. */
export async function buildDashboard(outDir = join(here, 'dist', 'dashboard'), root = here): Promise<void> {
  const ui = join(root, 'src', 'dashboard', 'ui');
  await mkdir(join(outDir, 'assets'), { recursive: true });
  await build({
    entryPoints: { main: join(ui, 'main.tsx') },
    outdir: join(outDir, 'assets'),
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    legalComments: 'linked',
    logLevel: 'warning',
    tsconfig: join(ui, 'tsconfig.json'),
  });
  await copyFile(join(ui, 'index.html'), join(outDir, 'index.html'));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) await buildDashboard(process.argv[2]);
