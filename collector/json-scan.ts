/**
 * One linear pass over a POST body before it is parsed: how deep its JSON nests and how many events its batch holds.
 *
 * Why before parsing: a body of `[[[[…` nested a few thousand levels overflows the stack of any recursive walk of the
 * parsed value (JSON.stringify of a nested parameter value answered 500, which trackers retry forever), and a 1 MB
 * body of 100,000 tiny events costs a second of event loop to turn into records. This pass costs one read of the
 * bytes, keeps no stack (only the kind of container at depth 2) and lets the service refuse both with a 400 and a
 * bad row before anything else is built.
 */

/** What the pass found. Not a validation: malformed JSON is left to JSON.parse. */
export interface BodyShape {
  /** Deepest nesting level reached, capped at `maxDepth + 1` (the pass stops there). */
  readonly depth: number;
  /** Byte offset where `maxDepth` was passed, or -1. */
  readonly tooDeepAt: number;
  /**
   * Elements of the arrays that sit directly in the top-level object (the envelope's `data`), counted up to
   * `maxEvents + 1` (the pass stops there).
   */
  readonly events: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const WS = new Uint8Array(256);
WS[0x20] = WS[0x09] = WS[0x0a] = WS[0x0d] = 1;

export function scanBody(body: Uint8Array, maxDepth: number, maxEvents: number): BodyShape {
  let depth = 0;
  let maxSeen = 0;
  let events = 0;
  // The container at depth 2 is an array whose parent is the top-level object (an envelope's `data`).
  let inBatch = false;
  // In such an array: whether the next value starts a new element.
  let expectElement = false;
  let topIsObject = false;
  const n = body.length;
  for (let i = 0; i < n; i++) {
    const c = body[i];
    if (WS[c] === 1) continue;
    if (inBatch && depth === 2 && expectElement && c !== 0x5d /* ] */ && c !== COMMA) {
      expectElement = false;
      if (++events > maxEvents) return { depth: maxSeen, tooDeepAt: -1, events };
    }
    if (c === QUOTE) {
      // Skip the string (escapes included).
      for (i++; i < n; i++) {
        const d = body[i];
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) break;
      }
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth > maxSeen) maxSeen = depth;
      if (depth > maxDepth) return { depth: maxSeen, tooDeepAt: i, events };
      if (depth === 1) topIsObject = c === 0x7b;
      else if (depth === 2) {
        inBatch = topIsObject && c === 0x5b;
        expectElement = inBatch;
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (depth === 2) inBatch = false;
      if (depth > 0) depth--;
    } else if (c === COMMA && inBatch && depth === 2) {
      expectElement = true;
    }
  }
  return { depth: maxSeen, tooDeepAt: -1, events };
}
