/**
 * A bounded cache keyed by text, for work that depends only on a string that repeats across events (user agents,
 * page and referrer URLs, schema keys). Module and closure state persists between UDF calls in Nashorn, so such
 * caches live as long as the engine; the bound keeps memory flat (the cache starts over when full, which needs no
 * bookkeeping and costs one miss per key after a reset).
 *
 * Keyed by the text itself, in a plain object (ES5 has no Map): a prefixed key would be a new string to build and
 * hash on every lookup. An entry counts only if it records that very text, so whatever a lookup finds on
 * Object.prototype is a miss, and texts starting with "__" (`__proto__`, and the engines' special properties such as
 * Rhino's `__parent__`) are never stored. A direct-mapped table of recent entries in front of the object answers
 * most lookups with one string comparison.
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

/** Slots of the direct-mapped first level (a power of two). */
const SLOTS = 1024;

/**
 * In Nashorn a script's strings are java.lang.String, whose methods it may call: `hashCode()` is computed by the JVM
 * over the whole text (then kept on the string) and measured several times faster than sampling 16 characters here.
 * Any other engine has no such method and uses the sampled hash below. (The slot only says where to look first: an
 * entry is found only by its very text, so the two hashes need not agree.)
 */
const HOST_HASH = typeof ('' as unknown as { hashCode?: unknown }).hashCode === 'function';

/**
 * A cheap slot for a text: its length and 16 characters spread evenly over it. Looking a text up in an object needs
 * its full hash and a search of the engine's string table (the texts come fresh from JSON.parse, so nothing is cached
 * on them); comparing it with the one text in its slot is a length check and a memory compare. Texts alike in
 * length and in the sampled characters share a slot and evict each other; the object still has them.
 *
 * The hash is kept below 2^20 at every step (`& 0xfffff`, so `h * 31 + c` stays far inside the int range): with
 * `| 0` the products leave the int range, Nashorn's optimistic int arithmetic gives up, and every step becomes
 * double arithmetic plus JSType.toInt32(double) (profiled at 9 % of an event's CPU in Nashorn; the masked form
 * measured 15 times faster in a micro-benchmark of 2 million lookups).
 */
function slotOf(text: string): number {
  if (HOST_HASH) {
    // `>>`, not `>>>`: the int stays an int for Nashorn (see above).
    const h = (text as unknown as { hashCode(): number }).hashCode();
    return (h ^ (h >> 10) ^ (h >> 20)) & (SLOTS - 1);
  }
  const n = text.length;
  let h = n;
  if (n <= 16) {
    for (let i = 0; i < n; i++) h = (h * 31 + text.charCodeAt(i)) & 0xfffff;
  } else {
    for (let k = 0; k < 16; k++) h = (h * 31 + text.charCodeAt((k * n) >> 4)) & 0xfffff;
  }
  return (h ^ (h >>> 10)) & (SLOTS - 1);
}

export function createTextCache<T>(maxEntries: number): TextCache<T> {
  let entries: { [text: string]: Entry<T> } = {};
  let size = 0;
  const recent: Array<Entry<T> | null> = [];
  for (let i = 0; i < SLOTS; i++) recent.push(null);
  return {
    get: function (text: string): T | undefined {
      // Two ways per slot pair: the entry used last first.
      const slot = slotOf(text);
      const first = recent[slot];
      if (first !== null && first.text === text) return first.value;
      const second = recent[slot ^ 1];
      if (second !== null && second.text === text) return second.value;
      const hit = entries[text];
      if (hit !== undefined && hit !== null && hit.text === text) {
        recent[slot ^ 1] = first;
        recent[slot] = hit;
        return hit.value;
      }
      return undefined;
    },
    set: function (text: string, value: T): void {
      if (text.charCodeAt(0) === 95 && text.charCodeAt(1) === 95) return;
      if (size >= maxEntries) {
        entries = {};
        size = 0;
        for (let i = 0; i < SLOTS; i++) recent[i] = null;
      }
      const entry: Entry<T> = { text: text, value: value };
      entries[text] = entry;
      const slot = slotOf(text);
      recent[slot ^ 1] = recent[slot];
      recent[slot] = entry;
      size++;
    },
  };
}
