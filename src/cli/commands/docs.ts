/**
 * `spane docs <file...> --out <dir>`: Markdown pages for the workflows of the files.
 *
 * @module
 */
import { relative, resolve } from 'node:path';
import type { CliIO } from '../io.js';
import { println } from '../io.js';
import { loadWorkflowModule } from '../workflow-module.js';
import { writeWorkflowDocs } from '../write-docs.js';

/** Loads every file first (nothing is written when one fails), then writes the pages. */
export async function docsCommand(files: readonly string[], outDir: string, io: CliIO): Promise<number> {
  const sources = [];
  for (const file of files) sources.push({ source: file, workflows: (await loadWorkflowModule(file, io.cwd)).workflows });
  const docs = writeWorkflowDocs(sources, resolve(io.cwd, outDir), io.cwd);
  for (const d of docs) println(io.stdout, `${relative(io.cwd, d.file)}  (${d.id}, from ${d.source})`);
  return 0;
}
