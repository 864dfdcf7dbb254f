/**
 * The dashboard's browser code: built by the package build into `dist/dashboard/` (see
 * scripts/build-dashboard.ts) and read from there at run time, beside the running module.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

/**
 * Where the built assets are: `dashboard/` beside the module (the published dist/, whose chunks
 * all sit in one folder), else dist/dashboard of a checkout when running from src/dashboard/.
 */
export function assetsDir(): string | undefined {
  const candidates = [new URL('./dashboard/', import.meta.url), new URL('../../dist/dashboard/', import.meta.url)];
  for (const url of candidates) {
    const dir = fileURLToPath(url);
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return undefined;
}

/** A file of the assets folder, or undefined (a path that leaves the folder is not read). */
export async function readAsset(dir: string, path: string): Promise<{ body: Uint8Array; type: string } | undefined> {
  const file = normalize(join(dir, path));
  if (!file.startsWith(dir.endsWith(sep) ? dir : dir + sep)) return undefined;
  try {
    const body = await readFile(file);
    return { body: new Uint8Array(body), type: TYPES[extname(file)] ?? 'application/octet-stream' };
  } catch {
    return undefined;
  }
}
