/**
 * Base64 to text by the JVM when the UDF runs in Nashorn: `java.util.Base64` and `new String(bytes, UTF_8)` through
 * Nashorn's `Java.type`. The hand-written decoder (text.ts decodeBase64Utf8) runs everywhere and decides every case
 * the JVM does not take; in Nashorn its character loop cost 8–11 % of an event's CPU (profiled: the `cx` and `ue_px`
 * parameters are most of an event's bytes), the JVM's decoder a small part of that.
 *
 * The JVM answers only where it gives exactly what the hand-written decoder gives, and says "not mine" (null)
 * otherwise, so that the hand-written decoder produces the value or the error sentence:
 * - Each JVM decoder takes one alphabet (RFC 4648 section 4 or section 5); text mixing `+/` with `-_` (which
 *   decodeBase64Utf8 accepts) is left to the hand-written decoder.
 * - Everything decodeBase64Utf8 refuses, the JVM refuses too (it throws IllegalArgumentException: a character outside
 *   the alphabet, `=` anywhere but a valid end, a final unit of one character), and a throw is "not mine". Padding is
 *   optional for both, and both ignore the unused low bits of the last character.
 * - Malformed UTF-8 is left to the hand-written decoder too: java.nio's UTF-8 decoder replaces some malformed
 *   sequences differently (one U+FFFD for an encoded surrogate, ED A0 80, where text.ts decodeUtf8 writes three, one
 *   per maximal invalid subpart as the WHATWG decoder does). Both decode well-formed UTF-8 (Unicode's table 3-7) alike
 *   and replace everything else with U+FFFD, so a JVM result holding no U+FFFD came from well-formed input and is the
 *   same text; one holding U+FFFD (malformed input, or a real U+FFFD) is "not mine".
 * At creation the JVM's answers are checked against the hand-written decoder's for valid, malformed and invalid
 * inputs; any difference (or no `Java`, or a class filter) leaves the hand-written decoder in charge alone.
 * test/pipeline/host-base64.test.ts compares the two in Nashorn over thousands of generated inputs.
 */
import { decodeBase64Utf8 } from './text';

/** Nashorn's `Java` global; undefined in every other engine. */
declare const Java: { type(className: string): unknown } | undefined;

/** The text of base64/base64url UTF-8, or null when the hand-written decoder must decide (see above). */
export type HostBase64Utf8 = (input: string) => string | null;

interface JavaDecoder {
  decode(input: string): unknown;
}

/** Inputs the host must decode to exactly decodeBase64Utf8's value. */
const SAME = [
  '', 'YWJj', 'YWI', 'YQ', 'YQ==', 'YWI=', 'eyJhIjoxfQ', 'Y2Fmw6kg8J-YgA', 'Y2Fmw6kg8J+YgA==', 'fn5-', 'fn5+',
];
/**
 * Inputs the host must leave to decodeBase64Utf8: refused ones (padding without a multiple of 4, a final unit of one
 * character, a foreign character, `=` inside), one mixing both alphabets, malformed UTF-8 (overlong, encoded
 * surrogate, truncated, stray continuation byte, above U+10FFFF, FF, E0 80 then A) and a real U+FFFD (EF BF BD).
 */
const NOT_MINE = ['YQ=', 'YWJjZ', 'YW!j', 'YQ==YQ==', '=', 'YQ===', 'Y-J+', 'wIA', '7aCA', '8J-Y', 'gEE', '9JCAgA', '_w', '4IBB', '77-9'];

/** The JVM's base64 + UTF-8 decoding, checked against decodeBase64Utf8; null when unavailable or different. */
export function hostBase64Utf8(): HostBase64Utf8 | null {
  try {
    if (typeof Java === 'undefined' || Java === null || typeof Java.type !== 'function') return null;
    const Base64 = Java.type('java.util.Base64') as { getDecoder(): JavaDecoder; getUrlDecoder(): JavaDecoder };
    const JavaString = Java.type('java.lang.String') as new (bytes: unknown, charset: unknown) => string;
    const UTF_8 = (Java.type('java.nio.charset.StandardCharsets') as { UTF_8: unknown }).UTF_8;
    const standard = Base64.getDecoder();
    const url = Base64.getUrlDecoder();
    const decode = function (input: string): string | null {
      const std = input.indexOf('+') !== -1 || input.indexOf('/') !== -1;
      if (std && (input.indexOf('-') !== -1 || input.indexOf('_') !== -1)) return null;
      try {
        // `'' +`: a java.lang.String made by `new` is a Java object to Nashorn until converted.
        const text = '' + new JavaString((std ? standard : url).decode(input), UTF_8);
        return text.indexOf('\ufffd') === -1 ? text : null;
      } catch {
        return null;
      }
    };
    for (let i = 0; i < SAME.length; i++) {
      const mine = decodeBase64Utf8(SAME[i]);
      if (mine.error !== undefined || decode(SAME[i]) !== mine.value) return null;
    }
    for (let i = 0; i < NOT_MINE.length; i++) if (decode(NOT_MINE[i]) !== null) return null;
    return decode;
  } catch {
    return null;
  }
}
