/**
 * What the commands write to, so tests can run them in-process.
 *
 * @module
 */
import type { ProgressStream } from './progress.js';

/** The command's outputs and working directory. */
export interface CliIO {
  /** Results (problems, graphs, execution results). */
  stdout: ProgressStream;
  /** Progress, notes and errors. */
  stderr: ProgressStream;
  /** Where relative paths start. */
  cwd: string;
  /**
   * `--verbose`: errors come with their stack (and their causes').
   * @defaultValue false
   */
  verbose?: boolean | undefined;
}

/** The process's own streams and directory. */
export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() };
}

/** Writes one line. */
export function println(stream: ProgressStream, line = ''): void {
  stream.write(`${line}\n`);
}

/**
 * The stack of `err` and of each error in its `cause` chain, for `--verbose`; empty for a value
 * that is not an Error.
 */
export function stackOf(err: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (let e: unknown = err; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    parts.push(`${parts.length === 0 ? '' : 'Caused by: '}${e.stack ?? `${e.name}: ${e.message}`}`);
  }
  return parts.join('\n');
}
