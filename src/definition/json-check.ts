/**
 * The data check every entry point runs before it stores or enqueues anything: the value must be
 * JSON that survives a round trip unchanged, and nest at most {@link MAX_DATA_DEPTH} levels.
 *
 * It walks the value with an explicit stack, not recursion, so a value nested 10,000 levels deep
 * is refused with a {@link DataTooDeepError} instead of overflowing the call stack (`RangeError`);
 * and it builds a path only for the value it refuses, so a large flat payload costs one pass.
 *
 * @module
 */
import { DataTooDeepError, InvalidArgumentError } from '../errors.js';

/**
 * How many levels of objects and arrays a value may nest: `{}` is 1 level, `{ a: [1] }` 2. Deeper
 * values are refused with {@link DataTooDeepError}. Every place a value travels must be able to
 * take it: `JSON.stringify` and `structuredClone` (worker threads) recurse and overflow V8's stack
 * at about 4,000 and 2,000 levels at the top of a stack, and less inside deep call chains;
 * PostgreSQL's `jsonb` takes about 10,000 with its default `max_stack_depth` of 2 MB. 256 keeps a
 * wide margin under all of them.
 */
export const MAX_DATA_DEPTH = 256;

/** Options of {@link jsonProblem}. */
export interface JsonCheckOptions {
  /**
   * Refuse what JSON would silently change (functions, symbols, NaN/Infinity, Map/Set, undefined
   * array items, symbol keys). When false only what JSON refuses outright (cycles, BigInt) and
   * depth beyond {@link MAX_DATA_DEPTH} are refused, as for node outputs, which have always been
   * stored as JSON stores them.
   * @defaultValue true
   */
  strict?: boolean;
}

/** What {@link jsonProblem} found: where, and what is wrong there. */
export interface JsonProblem {
  /** `too-deep` for nesting beyond {@link MAX_DATA_DEPTH}, `not-json` otherwise. */
  readonly kind: 'too-deep' | 'not-json';
  /** The message, starting with the path of the refused value, e.g. `initialData.user.save is a function`. */
  readonly message: string;
}

/** One object or array being walked: its entries, and which one is next. */
interface Frame {
  readonly obj: object;
  /** Keys of an object; undefined for an array (walked by index). */
  readonly keys: string[] | undefined;
  readonly length: number;
  next: number;
}

/** Longest path a message shows: a path 256 levels deep is not worth reading. */
const MAX_PATH_CHARS = 120;

/**
 * Throws an {@link InvalidArgumentError} when `value` cannot be stored as JSON unchanged, and a
 * {@link DataTooDeepError} (also an InvalidArgumentError) when it nests deeper than
 * {@link MAX_DATA_DEPTH}. `what` names the value in the message (`initialData`); the message holds
 * the path of the refused value, never the data.
 */
export function assertJson(value: unknown, what: string, options: JsonCheckOptions = {}): void {
  const problem = jsonProblem(value, what, options);
  if (problem === undefined) return;
  if (problem.kind === 'too-deep') throw new DataTooDeepError(`${what} nests deeper than ${MAX_DATA_DEPTH} levels: ${problem.message}`, MAX_DATA_DEPTH);
  throw new InvalidArgumentError(`${what} must be JSON-serialisable: ${problem.message}`);
}

/**
 * The first value JSON would refuse or (with `strict`) silently change, or undefined when there
 * is none. Refused: cycles, bigints, nesting beyond {@link MAX_DATA_DEPTH}. Changed without a
 * word, so refused when strict: functions and symbols (dropped), NaN and Infinity (null), Map and
 * Set (`{}`), undefined array items (null), symbol keys (dropped). Values with `toJSON` (Date)
 * are taken as JSON takes them; `undefined` properties are left out, as JSON does. A shared (not
 * circular) object is fine.
 */
export function jsonProblem(value: unknown, what: string, options: JsonCheckOptions = {}): JsonProblem | undefined {
  const strict = options.strict ?? true;
  const stack: Frame[] = [];
  // Objects on the path from the root to the current one: a cycle is a child already on it.
  const onPath = new Set<object>();
  const notJson = (message: string): JsonProblem => ({ kind: 'not-json', message: `${pathOf(what, stack)}${message}` });

  let current: unknown = value;
  for (;;) {
    const problem = leafProblem(current, strict);
    if (problem !== undefined) return notJson(problem);
    if (isContainer(current)) {
      if (onPath.has(current)) return notJson(' refers back to an object that contains it (a cycle)');
      if (stack.length >= MAX_DATA_DEPTH) return { kind: 'too-deep', message: `level ${stack.length + 1} at ${pathOf(what, stack)}` };
      if (strict && !Array.isArray(current)) {
        const sym = Object.getOwnPropertySymbols(current).find((s) => Object.prototype.propertyIsEnumerable.call(current, s));
        if (sym !== undefined) return notJson(` has a symbol key ${String(sym)} (JSON would drop it)`);
      }
      const keys = Array.isArray(current) ? undefined : Object.keys(current);
      stack.push({ obj: current, keys, length: keys === undefined ? (current as unknown[]).length : keys.length, next: 0 });
      onPath.add(current);
    }
    // The next value to look at: the next entry of the innermost unfinished container.
    let top = stack.at(-1);
    while (top !== undefined && top.next >= top.length) {
      onPath.delete(top.obj);
      stack.pop();
      top = stack.at(-1);
    }
    if (top === undefined) return undefined;
    const i = top.next++;
    if (top.keys === undefined) {
      current = (top.obj as unknown[])[i];
      // A hole or an undefined item becomes null in JSON.
      if (current === undefined && strict) return notJson(' is undefined (JSON would store null)');
    } else {
      current = (top.obj as Record<string, unknown>)[top.keys[i]!];
    }
  }
}

/** Whether JSON walks into `value` (an object or array without `toJSON`). */
function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/** What is wrong with `value` itself (not its entries), as the end of a message. */
function leafProblem(value: unknown, strict: boolean): string | undefined {
  switch (typeof value) {
    case 'bigint':
      return ' is a BigInt (convert it to a string or number)';
    case 'number':
      return strict && !Number.isFinite(value) ? ` is ${value} (JSON would store null)` : undefined;
    case 'function':
      return strict ? ' is a function (JSON would drop it)' : undefined;
    case 'symbol':
      return strict ? ' is a symbol (JSON would drop it)' : undefined;
    case 'object':
      if (!strict || value === null || !(value instanceof Map || value instanceof Set)) return undefined;
      return ` is a ${value instanceof Map ? 'Map' : 'Set'} (JSON would store {}; convert it, e.g. Object.fromEntries or [...set])`;
    default:
      return undefined;
  }
}

/** The path of the value being looked at: `what`, then the key or index taken in each container. */
function pathOf(what: string, stack: readonly Frame[]): string {
  let path = what;
  for (const frame of stack) {
    const i = frame.next - 1;
    path += frame.keys === undefined ? `[${i}]` : `.${frame.keys[i]}`;
    if (path.length > MAX_PATH_CHARS) return `${path.slice(0, MAX_PATH_CHARS)}…`;
  }
  return path;
}

/** What kind of value `value` is (`a string`, `an array`, `null`, ...), for messages that must not quote data. */
export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
