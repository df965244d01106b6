/**
 * Small helpers standing in for ES2015+ built-ins, so the enrichment runs unchanged in Node, Nashorn (JDK 17) and
 * Rhino. Everything in pipeline/ that ships in the UDF uses these instead of String#startsWith, Array#includes,
 * Object.assign, Number.isInteger, Math.trunc and friends (see "The UDF runs in Nashorn" in the design).
 */

const hasOwnProperty = Object.prototype.hasOwnProperty;

/** Own, enumerable-or-not property check that works on objects with a `hasOwnProperty` key. */
export function hasOwn(obj: object, key: string): boolean {
  return hasOwnProperty.call(obj, key);
}

/** `s.startsWith(prefix)` without ES2015. */
export function startsWith(s: string, prefix: string): boolean {
  return s.lastIndexOf(prefix, 0) === 0;
}

/** `s.endsWith(suffix)` without ES2015. */
export function endsWith(s: string, suffix: string): boolean {
  const at = s.length - suffix.length;
  return at >= 0 && s.indexOf(suffix, at) === at;
}

/** `s.includes(part)` without ES2015. */
export function contains(s: string, part: string): boolean {
  return s.indexOf(part) !== -1;
}

/** `array.includes(value)` (strict equality) without ES2015. */
export function arrayContains<T>(array: readonly T[], value: T): boolean {
  for (let i = 0; i < array.length; i++) {
    if (array[i] === value) return true;
  }
  return false;
}

/** Left-pads a non-negative integer with zeros to `width` digits. */
export function zeroPad(n: number, width: number): string {
  let s = String(n);
  while (s.length < width) s = '0' + s;
  return s;
}

/** `Number.isInteger` without ES2015. */
export function isInteger(n: unknown): n is number {
  return typeof n === 'number' && isFinite(n) && Math.floor(n) === n;
}

/** Largest integer a double represents exactly (Number.MAX_SAFE_INTEGER, which ES5 lacks). */
export const MAX_SAFE_INTEGER = 9007199254740991;

/** `Math.trunc` without ES2015. */
export function trunc(n: number): number {
  return n < 0 ? Math.ceil(n) : Math.floor(n);
}

/** True for plain JSON objects (not arrays, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `Array.isArray` (ES5.1, present in Nashorn and Rhino), typed for unknown input. */
export function isArray(value: unknown): value is unknown[] {
  return Array.isArray(value);
}

/** Own enumerable keys (ES5 Object.keys) typed for records. */
export function keys(obj: object): string[] {
  return Object.keys(obj);
}

/** Shallow copy of own properties of each source into `target` (Object.assign without ES2015). */
export function extend<T extends object>(target: T, ...sources: Array<object | undefined>): T {
  for (let i = 0; i < sources.length; i++) {
    const src = sources[i];
    if (!src) continue;
    for (const k in src) {
      if (hasOwnProperty.call(src, k)) (target as Record<string, unknown>)[k] = (src as Record<string, unknown>)[k];
    }
  }
  return target;
}

/** Truncates a string for display in error messages, marking the cut. */
export function preview(s: string, max: number): string {
  return s.length <= max ? s : s.substring(0, max) + '…(' + s.length + ' chars)';
}
