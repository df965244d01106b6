/**
 * JSON parsing with guards. The nesting depth is checked by a linear scan BEFORE JSON.parse, because the JVM engines'
 * JSON parsers recurse and a hostile `[[[[...` would overflow the stack (an error a script cannot reliably catch).
 */

/** Depth of the deepest nesting in JSON text, stopping early once it exceeds `max` (returns max + 1 then). */
export function jsonDepth(s: string, max: number): number {
  let depth = 0;
  let deepest = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 34) {
      // Skip a string: up to the next quote not escaped by a backslash.
      i++;
      while (i < n) {
        const d = s.charCodeAt(i);
        if (d === 92) i += 2;
        else if (d === 34) break;
        else i++;
      }
    } else if (c === 123 || c === 91) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > max) return deepest;
      }
    } else if (c === 125 || c === 93) {
      depth--;
    }
  }
  return deepest;
}

export type JsonResult = { value: unknown; error?: undefined } | { value?: undefined; error: string };

/**
 * True when `s` holds more than `max` opening brackets; only then can it nest deeper than `max`. indexOf skips the
 * text between brackets much faster than a char-by-char loop, and typical messages have few brackets.
 */
export function hasMoreOpeners(s: string, max: number): boolean {
  let count = 0;
  for (let at = s.indexOf('{'); at !== -1; at = s.indexOf('{', at + 1)) if (++count > max) return true;
  for (let at = s.indexOf('['); at !== -1; at = s.indexOf('[', at + 1)) if (++count > max) return true;
  return false;
}

/** Parses JSON text after checking its nesting depth; returns an error sentence instead of throwing. */
export function parseJson(s: string, maxDepth: number): JsonResult {
  // Text with at most maxDepth brackets can't nest deeper: the exact (slower) scan runs only for the others.
  if (hasMoreOpeners(s, maxDepth) && jsonDepth(s, maxDepth) > maxDepth) {
    return { error: 'JSON nested deeper than ' + maxDepth + ' levels' };
  }
  try {
    return { value: JSON.parse(s) };
  } catch {
    // The engine's own message is not used: it differs between V8, Nashorn and Rhino, and output must not.
    return { error: 'not valid JSON' };
  }
}

const SURROGATE = /[\ud800-\udfff]/;

/**
 * `JSON.stringify` with the same text in every engine: a lone surrogate is written as a `\uXXXX` escape (lower-case
 * hex), as Node does since ES2019 ("well-formed JSON.stringify"); Nashorn and Rhino write it raw, which would make a
 * message or JSON column differ between the engines (and turn into U+FFFD or `?` once encoded as UTF-8).
 * Used for all JSON text the UDF writes: the row, the JSON inside it, and the bad row it throws.
 */
export function stringifyJson(value: unknown): string {
  return wellFormedJsonText(JSON.stringify(value));
}

/** JSON text with every lone surrogate replaced by its `\uXXXX` escape (valid: they can only be inside strings). */
export function wellFormedJsonText(text: string): string {
  if (typeof text !== 'string' || !SURROGATE.test(text)) return text;
  let out = '';
  let from = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < n) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++; // a pair: kept as it is
        continue;
      }
    }
    out += text.substring(from, i) + '\\u' + c.toString(16);
    from = i + 1;
  }
  return out + text.substring(from);
}
