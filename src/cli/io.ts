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
}

/** The process's own streams and directory. */
export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() };
}

/** Writes one line. */
export function println(stream: ProgressStream, line = ''): void {
  stream.write(`${line}\n`);
}
