/**
 * Dotted paths into object types, as the runtime's mappings use them (`customer.address.city`).
 * Bounded to {@link MAX_PATH_DEPTH} segments so the recursion stays cheap.
 *
 * @module
 */

/** Counts down the depth of {@link Paths}. */
type Prev = [never, 0, 1, 2, 3, 4];

/** How many segments {@link Paths} follows. */
export type MAX_PATH_DEPTH = 5;

/** Object types whose fields a path may step into (not arrays, functions or dates). */
type Walkable<T> = T extends readonly unknown[] | ((...args: never[]) => unknown) | Date ? never : T extends object ? T : never;

/**
 * Every dotted path into `T`, up to five segments: `{ a: { b: number } }` → `'a' | 'a.b'`.
 * Optional and nullable fields are stepped into.
 *
 * @example
 * ```ts
 * type P = Paths<{ customer: { id: number; address?: { city: string } } }>;
 * // 'customer' | 'customer.id' | 'customer.address' | 'customer.address.city'
 * ```
 */
export type Paths<T, D extends number = 4> = [D] extends [never]
  ? never
  : Walkable<NonNullable<T>> extends infer O
    ? [O] extends [never]
      ? never
      : { [K in keyof O & string]-?: K | `${K}.${Paths<O[K], Prev[D]>}` }[keyof O & string]
    : never;

/** `undefined` when `T` may be missing, so a path through an optional field may be too. */
type Missing<T> = undefined extends T ? undefined : null extends T ? undefined : never;

/**
 * The type at dotted path `P` in `T` (`never` when there is none). A step through an optional or
 * nullable field adds `undefined`.
 *
 * @example
 * ```ts
 * type City = TypeAtPath<{ customer: { address?: { city: string } } }, 'customer.address.city'>; // string | undefined
 * ```
 */
export type TypeAtPath<T, P extends string> = P extends `${infer H}.${infer R}`
  ? H extends keyof NonNullable<T>
    ? TypeAtPath<NonNullable<T>[H], R> | Missing<T>
    : never
  : P extends keyof NonNullable<T>
    ? NonNullable<T>[P] | Missing<T>
    : never;

type Head<K> = K extends `${infer H}.${string}` ? H : K;
type Below<M, H extends string> = { [P in keyof M as P extends `${H}.${infer R}` ? R : never]: M[P] };

/**
 * Dotted keys → nested object: `{ 'where.city': string; id: number }` → `{ where: { city: string }; id: number }`.
 *
 * @example
 * ```ts
 * type O = Unflatten<{ 'a.b': number; c: string }>; // { a: { b: number }; c: string }
 * ```
 */
export type Unflatten<M> = { [H in Head<keyof M & string>]: H extends keyof M ? M[H] : Unflatten<Below<M, H>> };
