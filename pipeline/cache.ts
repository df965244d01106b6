/**
 * A bounded cache keyed by text, for work that depends only on a string that repeats across events (user agents,
 * page and referrer URLs, schema keys). Module and closure state persists between UDF calls in Nashorn, so such
 * caches live as long as the engine; the bound keeps memory flat (the cache starts over when full, which needs no
 * bookkeeping and costs one miss per key after a reset).
 *
 * Keyed by the text itself, in a plain object (ES5 has no Map): a prefixed key would be a new string to build and
 * hash on every lookup. An entry counts only if it records that very text, so whatever a lookup finds on
 * Object.prototype is a miss, and texts starting with "__" (`__proto__`, and the engines' special properties such as
 * Rhino's `__parent__`) are never stored.
 */
export interface TextCache<T> {
  /** The value stored for `text`, or undefined. */
  get(text: string): T | undefined;
  /** Stores `value` for `text` (not for texts starting with "__"). */
  set(text: string, value: T): void;
}

interface Entry<T> {
  readonly text: string;
  readonly value: T;
}

export function createTextCache<T>(maxEntries: number): TextCache<T> {
  let entries: { [text: string]: Entry<T> } = {};
  let size = 0;
  return {
    get: function (text: string): T | undefined {
      const hit = entries[text];
      return hit !== undefined && hit !== null && hit.text === text ? hit.value : undefined;
    },
    set: function (text: string, value: T): void {
      if (text.charCodeAt(0) === 95 && text.charCodeAt(1) === 95) return;
      if (size >= maxEntries) {
        entries = {};
        size = 0;
      }
      entries[text] = { text: text, value: value };
      size++;
    },
  };
}
