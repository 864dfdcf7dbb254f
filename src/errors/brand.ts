/**
 * The copy-proof brand that `instanceof` checks on SPANE's error classes (internal).
 *
 * @module
 */

/** Where a branded class keeps the symbol its instances carry (on their prototype). */
export const CLASS_BRAND: unique symbol = Symbol.for('spane.error.brand');

/**
 * Brands an error class: its prototype carries `Symbol.for('spane.error:<name>')`, the same symbol
 * in every copy of SPANE loaded in the process (ESM and CommonJS builds, a module with its own
 * installed copy, a module the CLI loaded with another loader), and `instanceof` checks for it.
 * Subclasses inherit the prototype marks of their ancestors, so one instance answers `instanceof`
 * for its whole class chain. As in Temporal's `SymbolBasedInstanceOfError`.
 */
export function brand(cls: abstract new (...args: never[]) => Error, name: string): void {
  const mark = Symbol.for(`spane.error:${name}`);
  Object.defineProperty(cls, CLASS_BRAND, { value: mark });
  Object.defineProperty(cls.prototype, mark, { value: true });
}
