/**
 * The JVM's own message digests, when the UDF runs in Nashorn: `java.security.MessageDigest` through Nashorn's
 * `Java.type`. The hand-written MD5 and SHA-256 (md5.ts, sha256.ts) run everywhere, but Nashorn executes their 32-bit
 * arithmetic badly: an addition that leaves the int range makes it recompile the function with doubles, and every
 * `| 0` after that is JSType.toInt32(double), a floor and a floating-point remainder (profiled: 55% of the CPU time of
 * an event went to the fingerprint's MD5). The JVM's digests are intrinsics.
 *
 * Same bytes, same hash: the text is encoded as UTF-8 by a JVM encoder that replaces each lone surrogate by U+FFFD,
 * as md5.ts and sha256.ts do (the JVM's default would be `?`). At creation each digest is checked against known
 * answers, a lone surrogate's included; anything unexpected (no `Java`, a class filter, another
 * engine) leaves the hand-written code in charge. Dataflow's templates create the engine with only
 * `--language=es6` (DataflowTemplates v2/common/src/main/java/com/google/cloud/teleport/v2/transforms/
 * JavascriptTextTransformer.java, getJavaScriptEngine), so scripts have Nashorn's Java access.
 */

/** Nashorn's `Java` global; undefined in every other engine. */
declare const Java: { type(className: string): unknown } | undefined;

/** A digest of a string's UTF-8 encoding (lone surrogates as U+FFFD), as lowercase hex. */
export type HostDigest = (text: string) => string;

/** Byte → its two hex digits: one lookup and one concatenation per byte. */
const HEX_BYTES: string[] = [];
for (let i = 0; i < 256; i++) HEX_BYTES.push((i < 16 ? '0' : '') + i.toString(16));

interface JavaMessageDigest {
  reset(): void;
  update(buffer: unknown): void;
  digest(): ArrayLike<number>;
}

interface JavaEncoder {
  onMalformedInput(action: unknown): JavaEncoder;
  onUnmappableCharacter(action: unknown): JavaEncoder;
  replaceWith(bytes: unknown): JavaEncoder;
  encode(chars: unknown): unknown;
}

/**
 * The JVM's `algorithm` ('MD5' or 'SHA-256'), checked against `checks` (text → its digest by the hand-written code);
 * null when unavailable or when a check fails.
 */
export function hostDigest(algorithm: string, checks: { readonly [text: string]: string }): HostDigest | null {
  try {
    if (typeof Java === 'undefined' || Java === null || typeof Java.type !== 'function') return null;
    const J = Java as { type(className: string): unknown; to(array: number[], type: string): unknown };
    const MessageDigest = J.type('java.security.MessageDigest') as { getInstance(a: string): JavaMessageDigest };
    const UTF_8 = (J.type('java.nio.charset.StandardCharsets') as { UTF_8: { newEncoder(): JavaEncoder } }).UTF_8;
    const REPLACE = (J.type('java.nio.charset.CodingErrorAction') as { REPLACE: unknown }).REPLACE;
    const CharBuffer = J.type('java.nio.CharBuffer') as { wrap(chars: unknown): unknown };
    // U+FFFD in UTF-8 (EF BF BD) for each lone surrogate, as md5.ts and sha256.ts encode it.
    const encoder = UTF_8.newEncoder().onMalformedInput(REPLACE).onUnmappableCharacter(REPLACE).replaceWith(J.to([-17, -65, -67], 'byte[]'));
    const md = MessageDigest.getInstance(algorithm);
    const digest = function (text: string): string {
      md.reset();
      // The text's chars as a Java char[] (java.lang.String#toCharArray, which Nashorn lets a script call on its
      // strings): the encoder then runs over an array; over the string itself (CharBuffer.wrap(CharSequence)) it
      // reads char by char through an interface and measured 2.7 times slower (micro-benchmark, 1,300-char texts).
      md.update(encoder.encode(CharBuffer.wrap((text as unknown as { toCharArray(): unknown }).toCharArray())));
      const bytes = md.digest();
      let out = '';
      for (let i = 0; i < bytes.length; i++) out += HEX_BYTES[bytes[i] & 255];
      return out;
    };
    for (const text in checks) if (digest(text) !== checks[text]) return null;
    return digest;
  } catch {
    return null;
  }
}
