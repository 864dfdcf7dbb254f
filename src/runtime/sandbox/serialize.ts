/**
 * How values cross the boundary between the main thread and a worker thread (and from there the
 * store, which holds JSON). {@link serialize} turns a value into JSON-safe data following the
 * table below; {@link deserialize} turns marked values back.
 *
 * | Value | Serialised as | Back from {@link deserialize} |
 * |---|---|---|
 * | string, boolean, null, finite number | itself (-0 as 0, as JSON writes it) | itself |
 * | NaN, Infinity, -Infinity | `{ __spane_type: 'number', value: 'NaN' }` | the number |
 * | Date | ISO string (invalid dates: null) | the string |
 * | Error | `{ message, stack }` | the plain object |
 * | BigInt | `{ __spane_type: 'bigint', value: '123' }` | the BigInt |
 * | Buffer, Uint8Array (other typed arrays, DataView, ArrayBuffer) | `{ __spane_type: 'Buffer', base64 }` (type name kept) | the same type |
 * | Map | `{ __spane_type: 'Map', entries: [[k, v], ...] }` | a Map |
 * | Set | `{ __spane_type: 'Set', values: [...] }` | a Set |
 * | function, symbol | removed (object key dropped, array slot null), with a warning | - |
 * | circular reference | null, with a warning | null |
 * | undefined | dropped in objects, null in arrays (as JSON does) | - |
 * | object with its own `__spane_type` key | `{ __spane_type: 'object', value: {...} }` | the object |
 * | other objects | `toJSON()` when they have one, else own enumerable string keys | plain object |
 *
 * Warnings go to `onWarning` (default `console.warn`) and are silenced when
 * `NODE_ENV=production`. A getter or `toJSON` that throws makes {@link serialize} throw; in a
 * worker thread that fails the node without retrying it.
 *
 * @module
 */
import { setOwn } from '../../definition/own.js';

/** Key that marks a serialised special value. */
export const TYPE_KEY = '__spane_type';

/** Options of {@link serialize}. */
export interface SerializeOptions {
  /**
   * Receives a warning for each removed function or symbol and each circular reference, with the
   * path where it was found (`$.a.b[2]`). Not called when `NODE_ENV=production`.
   * @defaultValue console.warn
   */
  onWarning?: (message: string, path: string) => void;
}

const TYPED_ARRAYS = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const;
type TypedArrayName = keyof typeof TYPED_ARRAYS;

const REMOVED = Symbol('removed');

/** Turns `value` into JSON-safe data (see the module table). Never throws on odd input. */
export function serialize(value: unknown, options: SerializeOptions = {}): unknown {
  const silent = process.env['NODE_ENV'] === 'production';
  const warn = (message: string, path: string) => {
    if (silent) return;
    (options.onWarning ?? defaultWarning)(message, path);
  };
  const ancestors = new Set<object>();

  const walk = (v: unknown, path: string): unknown => {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return v;
      case 'number':
        if (!Number.isFinite(v)) return { [TYPE_KEY]: 'number', value: String(v) };
        return Object.is(v, -0) ? 0 : v; // as JSON writes it
      case 'bigint':
        return { [TYPE_KEY]: 'bigint', value: v.toString() };
      case 'undefined':
        return undefined;
      case 'function':
        warn(`function removed at ${path}`, path);
        return REMOVED;
      case 'symbol':
        warn(`symbol removed at ${path}`, path);
        return REMOVED;
      default:
        break;
    }
    if (v === null) return null;
    const obj = v as object;
    if (ancestors.has(obj)) {
      warn(`circular reference replaced with null at ${path}`, path);
      return null;
    }
    if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? null : obj.toISOString();
    if (obj instanceof Number || obj instanceof String || obj instanceof Boolean) return walk(obj.valueOf(), path);
    if (ArrayBuffer.isView(obj)) return { [TYPE_KEY]: viewName(obj), base64: toBase64(obj) };
    if (obj instanceof ArrayBuffer) return { [TYPE_KEY]: 'ArrayBuffer', base64: toBase64(new Uint8Array(obj)) };
    ancestors.add(obj);
    try {
      if (obj instanceof Error) {
        const out: Record<string, unknown> = { message: obj.message };
        if (typeof obj.stack === 'string') out['stack'] = obj.stack;
        return out;
      }
      if (Array.isArray(obj)) {
        const out: unknown[] = [];
        // By index, so holes of sparse arrays become null as in JSON (map would keep them).
        for (let i = 0; i < obj.length; i++) {
          const s = walk(obj[i], `${path}[${i}]`);
          out.push(s === REMOVED || s === undefined ? null : s);
        }
        return out;
      }
      if (obj instanceof Map) {
        const entries: [unknown, unknown][] = [];
        let i = 0;
        for (const [k, val] of obj) {
          const sk = walk(k, `${path}.<key ${i}>`);
          const sv = walk(val, `${path}.<value ${i}>`);
          i++;
          if (sk === REMOVED || sv === REMOVED) continue;
          entries.push([sk ?? null, sv ?? null]);
        }
        return { [TYPE_KEY]: 'Map', entries };
      }
      if (obj instanceof Set) {
        const values: unknown[] = [];
        let i = 0;
        for (const item of obj) {
          const s = walk(item, `${path}.<item ${i++}>`);
          if (s !== REMOVED) values.push(s ?? null);
        }
        return { [TYPE_KEY]: 'Set', values };
      }
      const toJSON = (obj as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return walk(toJSON.call(obj), path);
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(obj)) {
        const s = walk((obj as Record<string, unknown>)[key], `${path}.${key}`);
        if (s !== REMOVED && s !== undefined) setOwn(out, key, s);
      }
      return Object.hasOwn(out, TYPE_KEY) ? { [TYPE_KEY]: 'object', value: out } : out;
    } finally {
      ancestors.delete(obj);
    }
  };

  const result = walk(value, '$');
  return result === REMOVED ? undefined : result;
}

/** Turns the markers {@link serialize} wrote back into values; everything else is copied as is. */
export function deserialize(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(deserialize);
  const obj = value as Record<string, unknown>;
  const type = obj[TYPE_KEY];
  if (typeof type === 'string') {
    const revived = revive(type, obj);
    if (revived !== NOT_A_MARKER) return revived;
  }
  return plainCopy(obj);
}

const NOT_A_MARKER = Symbol('not a marker');

function revive(type: string, obj: Record<string, unknown>): unknown {
  switch (type) {
    case 'bigint':
      if (typeof obj['value'] === 'string' && /^-?\d+$/.test(obj['value'])) return BigInt(obj['value']);
      return NOT_A_MARKER;
    case 'number':
      if (obj['value'] === 'NaN') return Number.NaN;
      if (obj['value'] === 'Infinity') return Number.POSITIVE_INFINITY;
      if (obj['value'] === '-Infinity') return Number.NEGATIVE_INFINITY;
      return NOT_A_MARKER;
    case 'Map':
      if (!Array.isArray(obj['entries'])) return NOT_A_MARKER;
      return new Map((obj['entries'] as unknown[]).filter(Array.isArray).map((e) => [deserialize(e[0]), deserialize(e[1])] as const));
    case 'Set':
      if (!Array.isArray(obj['values'])) return NOT_A_MARKER;
      return new Set((obj['values'] as unknown[]).map(deserialize));
    case 'object':
      if (typeof obj['value'] !== 'object' || obj['value'] === null || Array.isArray(obj['value'])) return NOT_A_MARKER;
      return plainCopy(obj['value'] as Record<string, unknown>);
    default: {
      if (typeof obj['base64'] !== 'string') return NOT_A_MARKER;
      const bytes = fromBase64(obj['base64']);
      if (type === 'Buffer') return bytes;
      if (type === 'ArrayBuffer' || type === 'DataView' || Object.hasOwn(TYPED_ARRAYS, type)) {
        const buffer = new ArrayBuffer(bytes.byteLength);
        new Uint8Array(buffer).set(bytes);
        if (type === 'ArrayBuffer') return buffer;
        if (type === 'DataView') return new DataView(buffer);
        return new TYPED_ARRAYS[type as TypedArrayName](buffer);
      }
      return NOT_A_MARKER;
    }
  }
}

function plainCopy(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) setOwn(out, key, deserialize(obj[key]));
  return out;
}

function viewName(view: ArrayBufferView): string {
  if (typeof Buffer !== 'undefined' && Buffer.isBuffer(view)) return 'Buffer';
  if (view instanceof DataView) return 'DataView';
  const name = view.constructor.name;
  return Object.hasOwn(TYPED_ARRAYS, name) ? name : 'Uint8Array';
}

function toBase64(view: ArrayBufferView): string {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
}

/** A Buffer (which is a Uint8Array) of the decoded bytes. */
function fromBase64(base64: string): Uint8Array {
  return Buffer.from(base64, 'base64');
}

function defaultWarning(message: string): void {
  console.warn(`[spane] serialisation: ${message}`);
}
