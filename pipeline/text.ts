/**
 * Base64 (standard and URL-safe, padding optional) and UTF-8, hand-written because Nashorn has no atob,
 * TextDecoder or TextEncoder. Pure functions over strings and plain number arrays (no typed arrays).
 */
import { stringifyJson } from './json';

const REPLACEMENT = 0xfffd;

/** Maps a char code to its 6-bit value; -1 for characters outside both base64 alphabets. */
const BASE64_VALUES: number[] = (function () {
  const table: number[] = [];
  for (let i = 0; i < 128; i++) table.push(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  table[43] = 62; // '+'
  table[45] = 62; // '-'
  table[47] = 63; // '/'
  table[95] = 63; // '_'
  return table;
})();

/** The outcome of decoding: either `value` or an `error` sentence saying what was wrong. */
export type DecodeResult = { value: string; error?: undefined } | { value?: undefined; error: string };

/**
 * The length of base64 text without its padding, or an error sentence when padding or length make it invalid.
 */
function base64Extent(input: string): number | string {
  let end = input.length;
  let padding = 0;
  while (end > 0 && input.charCodeAt(end - 1) === 61 /* = */ && padding < 2) {
    end--;
    padding++;
  }
  if (padding > 0 && input.length % 4 !== 0) return 'padding "=" is only valid when the length is a multiple of 4';
  if (end % 4 === 1) return 'length ' + end + ' (without padding) is not a valid base64 length: the input is truncated';
  return end;
}

/**
 * Decodes base64 (either alphabet, so URL-safe `-_` and standard `+/`, padding optional) to bytes.
 * Returns an error sentence instead of throwing.
 */
export function decodeBase64Bytes(input: string): { bytes: number[]; error?: undefined } | { bytes?: undefined; error: string } {
  const extent = base64Extent(input);
  if (typeof extent === 'string') return { error: extent };
  const end = extent;
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < end; i++) {
    const c = input.charCodeAt(i);
    const v = c < 128 ? BASE64_VALUES[c] : -1;
    if (v < 0) {
      return { error: 'character ' + stringifyJson(input.charAt(i)) + ' at position ' + i + ' is not base64' };
    }
    buffer = ((buffer << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return { bytes: bytes };
}

/**
 * Decodes UTF-8 bytes to a string. Malformed sequences (overlong forms, surrogates, truncation, stray continuation
 * bytes) become U+FFFD, one per maximal invalid subpart, as the WHATWG decoder and Java's decoder do.
 */
export function decodeUtf8(bytes: readonly number[]): string {
  const out: number[] = [];
  let result = '';
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i++];
    if (b < 0x80) {
      out.push(b);
    } else {
      let need = 0;
      let cp = 0;
      let lower = 0x80;
      let upper = 0xbf;
      if (b >= 0xc2 && b <= 0xdf) {
        need = 1;
        cp = b & 0x1f;
      } else if (b >= 0xe0 && b <= 0xef) {
        need = 2;
        cp = b & 0x0f;
        if (b === 0xe0) lower = 0xa0;
        if (b === 0xed) upper = 0x9f;
      } else if (b >= 0xf0 && b <= 0xf4) {
        need = 3;
        cp = b & 0x07;
        if (b === 0xf0) lower = 0x90;
        if (b === 0xf4) upper = 0x8f;
      }
      if (need === 0) {
        out.push(REPLACEMENT);
      } else {
        let ok = true;
        for (let k = 0; k < need; k++) {
          if (i >= n) {
            ok = false;
            break;
          }
          const c = bytes[i];
          if (c < lower || c > upper) {
            ok = false;
            break;
          }
          lower = 0x80;
          upper = 0xbf;
          cp = (cp << 6) | (c & 0x3f);
          i++;
        }
        if (!ok) {
          out.push(REPLACEMENT);
        } else if (cp >= 0x10000) {
          cp -= 0x10000;
          out.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
        } else {
          out.push(cp);
        }
      }
    }
    if (out.length >= 4096) {
      result += String.fromCharCode.apply(null, out);
      out.length = 0;
    }
  }
  if (out.length > 0) result += String.fromCharCode.apply(null, out);
  return result;
}

/** Byte buffer reused by {@link decodeBase64Utf8} (calls are synchronous, so sharing it is safe). */
const SCRATCH: number[] = [];

/** `String.fromCharCode` over `codes[from..to)`, in chunks small enough for `apply`. */
function charsOf(codes: readonly number[], from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i += 4096) {
    const end = i + 4096 < to ? i + 4096 : to;
    out += String.fromCharCode.apply(null, codes.slice(i, end));
  }
  return out;
}

/**
 * Decodes base64/base64url text holding UTF-8 (the encoding of `ue_px` and `cx`) in one pass over a reused buffer;
 * pure-ASCII content (the usual case: JSON with non-ASCII escaped or absent) skips the UTF-8 decoder.
 */
export function decodeBase64Utf8(input: string): DecodeResult {
  const extent = base64Extent(input);
  if (typeof extent === 'string') return { error: extent };
  const end = extent;
  const bytes = SCRATCH;
  let n = 0;
  let high = 0;
  const full = end - (end % 4);
  for (let i = 0; i < full; i += 4) {
    const c0 = input.charCodeAt(i), c1 = input.charCodeAt(i + 1), c2 = input.charCodeAt(i + 2), c3 = input.charCodeAt(i + 3);
    const v0 = c0 < 128 ? BASE64_VALUES[c0] : -1;
    const v1 = c1 < 128 ? BASE64_VALUES[c1] : -1;
    const v2 = c2 < 128 ? BASE64_VALUES[c2] : -1;
    const v3 = c3 < 128 ? BASE64_VALUES[c3] : -1;
    if ((v0 | v1 | v2 | v3) < 0) return { error: badChar(input, i) };
    const word = (v0 << 18) | (v1 << 12) | (v2 << 6) | v3;
    const b0 = word >> 16, b1 = (word >> 8) & 255, b2 = word & 255;
    bytes[n++] = b0;
    bytes[n++] = b1;
    bytes[n++] = b2;
    high |= b0 | b1 | b2;
  }
  if (end > full) {
    let word = 0;
    for (let i = full; i < end; i++) {
      const c = input.charCodeAt(i);
      const val = c < 128 ? BASE64_VALUES[c] : -1;
      if (val < 0) return { error: badChar(input, full) };
      word = (word << 6) | val;
    }
    if (end - full === 2) {
      bytes[n++] = (word >> 4) & 255;
      high |= bytes[n - 1];
    } else {
      bytes[n++] = (word >> 10) & 255;
      bytes[n++] = (word >> 2) & 255;
      high |= bytes[n - 2] | bytes[n - 1];
    }
  }
  return { value: high < 128 ? charsOf(bytes, 0, n) : decodeUtf8(bytes.slice(0, n)) };
}

function badChar(input: string, from: number): string {
  for (let i = from; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c >= 128 || BASE64_VALUES[c] < 0) return 'character ' + stringifyJson(input.charAt(i)) + ' at position ' + i + ' is not base64';
  }
  return 'not base64';
}

/** Encodes a string as UTF-8 bytes; lone surrogates become U+FFFD (EF BF BD). */
export function encodeUtf8(s: string): number[] {
  const out: number[] = [];
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out.push(c);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = REPLACEMENT;
    if (c < 0x800) {
      out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    } else {
      out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    }
  }
  return out;
}

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Encodes a string's UTF-8 bytes as base64url without padding (what Snowplow trackers send in `ue_px`/`cx`). */
export function encodeBase64UrlUtf8(s: string): string {
  const bytes = encodeUtf8(s);
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += BASE64URL_ALPHABET.charAt(v >> 18) + BASE64URL_ALPHABET.charAt((v >> 12) & 63) +
      BASE64URL_ALPHABET.charAt((v >> 6) & 63) + BASE64URL_ALPHABET.charAt(v & 63);
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const v = bytes[i] << 16;
    out += BASE64URL_ALPHABET.charAt(v >> 18) + BASE64URL_ALPHABET.charAt((v >> 12) & 63);
  } else if (rest === 2) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += BASE64URL_ALPHABET.charAt(v >> 18) + BASE64URL_ALPHABET.charAt((v >> 12) & 63) + BASE64URL_ALPHABET.charAt((v >> 6) & 63);
  }
  return out;
}
