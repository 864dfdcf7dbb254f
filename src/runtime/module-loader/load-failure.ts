/**
 * Why a user module could not be loaded, in one line: what went wrong and where (file and line
 * when known), without the loader's stack, `data:` URLs or code frames. The error itself stays
 * the `cause`, for `spane --verbose`.
 *
 * @module
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from './running-copy.js';

/** Where in a file, as a stack frame or a loader's message names it. */
interface FilePosition {
  /** The file: a path or a `file:` URL. */
  file: string;
  /** The line, or `''` for none. */
  line: string;
  /** The column, when known. */
  column: string | undefined;
}

/** A position in a file: `file:line[:column]`, the file relative to `cwd` when inside it. */
function position(at: FilePosition, cwd: string): string {
  const { file, line, column } = at;
  let f = file.startsWith('file:') ? safePath(file) : file;
  if (path.isAbsolute(f)) {
    const relative = path.relative(cwd, f);
    if (!relative.startsWith('..') && !path.isAbsolute(relative)) f = relative;
  }
  return `${f}:${line}${column === undefined ? '' : `:${column}`}`;
}

function safePath(url: string): string {
  try {
    return fileURLToPath(url);
  } catch {
    // Not a file URL (node:, data:): shown as it is.
    return url;
  }
}

// SPANE's own code (built or sources): an error a DSL call throws names the user's line, not ours.
const root = packageRoot(fileURLToPath(import.meta.url));
const OWN = root === undefined ? [] : [path.join(root, 'dist') + path.sep, path.join(root, 'src') + path.sep];

/** Whether a stack frame's file is the user's: not Node's own, a package's, SPANE's, or a `data:` module. */
function isUserFile(file: string): boolean {
  if (file.startsWith('node:') || file.startsWith('data:') || file.startsWith('evalmachine') || file === 'native') return false;
  return !file.split(path.sep).includes('node_modules') && !OWN.some((dir) => file.startsWith(dir));
}

const FRAME = /^\s*at (?:.*? \()?((?:file:\/\/)?[^\s()]+?):(\d+):(\d+)\)?$/;
// jiti's parse errors: "ParseError: Unexpected token \n /abs/file.ts:2:18"
const JITI_LOCATION = /\n\s*(\S+?):(\d+):(\d+)\s*$/;
// Node's syntax errors of ES modules start their stack with "file:///abs/file.mjs:2".
const NODE_SYNTAX_LOCATION = /^((?:file:\/\/)?\/[^\n]*?|[A-Za-z]:\\[^\n]*?):(\d+)\n/;
// "Cannot find module 'x'\nRequire stack:\n- /abs/importer.ts"
const REQUIRE_STACK = /\nRequire stack:\n- ([^\n]+)/;

/**
 * One line saying why loading failed: the error's first message line (its class when it is not a
 * plain Error or SyntaxError), then where: the syntax error's position, the first stack frame in
 * the user's files, or the module that imported a missing one.
 */
export function describeLoadFailure(err: unknown, cwd: string): string {
  if (!(err instanceof Error)) return `threw ${typeof err === 'string' ? JSON.stringify(err.slice(0, 200)) : String(err)} while loading`;
  const rawMessage = err.message;
  const jiti = JITI_LOCATION.exec(rawMessage);
  let message = (rawMessage.split('\n')[0] ?? '').trim();
  let where: string | undefined;
  let syntax = err.name === 'SyntaxError';
  if (jiti !== null && /^(ParseError|SyntaxError)\b/.test(message)) {
    syntax = true;
    message = message.replace(/^(ParseError|SyntaxError):\s*/, '');
    where = position({ file: jiti[1]!, line: jiti[2]!, column: jiti[3] }, cwd);
  }
  const stack = err.stack ?? '';
  if (where === undefined && syntax) {
    const m = NODE_SYNTAX_LOCATION.exec(stack);
    if (m !== null) where = position({ file: m[1]!, line: m[2]!, column: undefined }, cwd);
  }
  const required = REQUIRE_STACK.exec(rawMessage);
  if (where === undefined && required !== null) where = `imported by ${position({ file: required[1]!, line: '', column: undefined }, cwd).replace(/:$/, '')}`;
  if (where === undefined) {
    for (const line of stack.split('\n').slice(1)) {
      const frame = FRAME.exec(line);
      if (frame !== null && isUserFile(safePath(frame[1]!))) {
        where = `at ${position({ file: frame[1]!, line: frame[2]!, column: frame[3] }, cwd)}`;
        break;
      }
    }
  }
  const kind = syntax ? 'syntax error' : err.constructor.name !== 'Error' && err.name !== 'Error' ? err.name : undefined;
  const text = `${kind === undefined ? '' : `${kind}: `}${message.length > 300 ? `${message.slice(0, 300)}…` : message}`;
  return where === undefined ? text : `${text} (${where})`;
}
