/**
 * MD5 (RFC 1321), hand-written for engines without crypto APIs (Nashorn, Rhino), for the event fingerprint — the
 * algorithm Snowplow's event fingerprint enrichment uses by default. Not for anything secret: MD5 is fast and its
 * 128 bits make accidental collisions practically impossible, but collisions can be constructed on purpose.
 *
 * Streaming over strings: {@link md5Begin}, then {@link md5Update} with any number of strings (hashed as their UTF-8
 * encoding, lone surrogates as U+FFFD, exactly as if they had been concatenated first), then {@link md5End}. The bytes
 * go straight into the 64-byte block, so the text is never concatenated, copied or encoded to a byte array. The state
 * is module-level (one hash at a time; UDF calls are synchronous).
 */

function int32Array(n: number): number[] {
  if (typeof Int32Array !== 'undefined') return new Int32Array(n) as unknown as number[];
  const a: number[] = [];
  for (let i = 0; i < n; i++) a.push(0);
  return a;
}

/** The 16 little-endian words of the current block, the hash state, and the bytes so far. */
const X = int32Array(16);
let a0 = 0;
let b0 = 0;
let c0 = 0;
let d0 = 0;
/** Bytes hashed so far (the block position is `total & 63`). */
let total = 0;
/** The word being assembled (bytes of X[total >> 2 & 15] before it is stored). */
let word = 0;

/** Starts a new hash. */
export function md5Begin(): void {
  a0 = 0x67452301;
  b0 = 0xefcdab89 | 0;
  c0 = 0x98badcfe | 0;
  d0 = 0x10325476;
  total = 0;
  word = 0;
}

/** Appends one byte. */
function byte(b: number): void {
  word |= b << ((total & 3) << 3);
  total++;
  if ((total & 3) === 0) {
    X[((total - 1) >> 2) & 15] = word;
    word = 0;
    if ((total & 63) === 0) compress();
  }
}

/** Scratch lists for single strings (no allocation per call). */
const ONE: string[] = [''];
const FIRST: number[] = [0];

/** Appends the UTF-8 encoding of `s`. */
export function md5Update(s: string): void {
  ONE[0] = s;
  md5UpdateList(ONE, FIRST, -1);
}

/** Appends the UTF-8 encoding of `s`, then the byte `separator` (below 0x80). */
export function md5UpdateSep(s: string, separator: number): void {
  ONE[0] = s;
  md5UpdateList(ONE, FIRST, separator);
}

/** A hash in progress, to continue from later (see {@link md5Save}). */
export interface Md5State {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly d: number;
  readonly total: number;
  readonly word: number;
  /** The words of the unfinished block. */
  readonly block: readonly number[];
}

/** The state of the hash in progress: a text's common beginning can be hashed once and continued many times. */
export function md5Save(): Md5State {
  const block: number[] = [];
  for (let i = 0; i < ((total & 63) >> 2); i++) block.push(X[i]);
  return { a: a0, b: b0, c: c0, d: d0, total: total, word: word, block: block };
}

/** Continues from a saved state, as if the text hashed before md5Save had just been appended. */
export function md5Restore(state: Md5State): void {
  a0 = state.a;
  b0 = state.b;
  c0 = state.c;
  d0 = state.d;
  total = state.total;
  word = state.word;
  for (let i = 0; i < state.block.length; i++) X[i] = state.block[i];
}

/**
 * Appends, for each index in `order`, `list[index]` (as UTF-8) then the byte `separator` (below 0x80; -1 for none);
 * with `second`, `list[index]`, separator, `second[index]`, separator (a name/value list in one call: the
 * fingerprint's text). ASCII runs go through locals, a word at a time where they are word-aligned; other characters
 * through byte().
 */
export function md5UpdateList(list: readonly string[], order: readonly number[], separator: number, second?: readonly string[]): void {
  let t = total;
  let w = word;
  const pairs = second !== undefined;
  const m = pairs ? order.length * 2 : order.length;
  for (let q = 0; q < m; q++) {
    const s = pairs ? ((q & 1) === 0 ? list : second)[order[q >> 1]] : list[order[q]];
    const n = s.length;
    let i = 0;
    while (i < n) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        if ((t & 3) === 0) {
          // Word-aligned: four ASCII characters make one word.
          while (i + 3 < n) {
            const c1 = s.charCodeAt(i + 1), c2 = s.charCodeAt(i + 2), c3 = s.charCodeAt(i + 3);
            if ((c | c1 | c2 | c3) >= 0x80) break;
            X[(t >> 2) & 15] = c | (c1 << 8) | (c2 << 16) | (c3 << 24);
            t += 4;
            i += 4;
            if ((t & 63) === 0) {
              total = t;
              compress();
            }
            if (i >= n) break;
            c = s.charCodeAt(i);
            if (c >= 0x80) break;
          }
          if (i >= n || c >= 0x80) continue;
        }
        w |= c << ((t & 3) << 3);
        t++;
        i++;
        if ((t & 3) === 0) {
          X[((t - 1) >> 2) & 15] = w;
          w = 0;
          if ((t & 63) === 0) {
            total = t;
            compress();
          }
        }
        continue;
      }
      total = t;
      word = w;
      i++;
      if (c >= 0xd800 && c <= 0xdbff && i < n) {
        const d = s.charCodeAt(i);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          byte(0xf0 | (c >> 18));
          byte(0x80 | ((c >> 12) & 0x3f));
          byte(0x80 | ((c >> 6) & 0x3f));
          byte(0x80 | (c & 0x3f));
          t = total;
          w = word;
          continue;
        }
      }
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      if (c < 0x800) {
        byte(0xc0 | (c >> 6));
        byte(0x80 | (c & 0x3f));
      } else {
        byte(0xe0 | (c >> 12));
        byte(0x80 | ((c >> 6) & 0x3f));
        byte(0x80 | (c & 0x3f));
      }
      t = total;
      w = word;
  }
  if (separator >= 0) {
    w |= separator << ((t & 3) << 3);
    t++;
    if ((t & 3) === 0) {
      X[((t - 1) >> 2) & 15] = w;
      w = 0;
      if ((t & 63) === 0) {
        total = t;
        compress();
      }
    }
  }
  }
  total = t;
  word = w;
}

const HEX = '0123456789abcdef';

function hexLe(n: number): string {
  let out = '';
  for (let i = 0; i < 4; i++) {
    const b = (n >>> (i * 8)) & 255;
    out += HEX.charAt(b >> 4) + HEX.charAt(b & 15);
  }
  return out;
}

/** Pads, finishes and returns the hash as 32 lowercase hex digits. */
export function md5End(): string {
  const t = total;
  // The 0x80 byte after the message, then zeros up to the 64-bit length (in bits, little-endian) in words 14 and 15.
  let at = (t >> 2) & 15;
  X[at++] = word | (0x80 << ((t & 3) << 3));
  if (at > 14) {
    while (at < 16) X[at++] = 0;
    compress();
    at = 0;
  }
  while (at < 14) X[at++] = 0;
  X[14] = (t * 8) | 0;
  X[15] = Math.floor(t / 0x20000000) | 0;
  compress();
  return hexLe(a0) + hexLe(b0) + hexLe(c0) + hexLe(d0);
}

/** MD5 of a string's UTF-8 encoding, as 32 lowercase hex digits. */
export function md5Hex(s: string): string {
  md5Begin();
  md5Update(s);
  return md5End();
}

/**
 * One 64-byte block: the 64 steps written out (constants from RFC 1321: the integer parts of 2^32·|sin(i)|). Each
 * step is a = b + ((a + f(b, c, d) + x + t) <<< s), every addition truncated at once (`| 0`) so that JIT compilers
 * keep the arithmetic in 32-bit integers; no helper calls, which compilers would not all inline.
 */
function compress(): void {
  let a = a0, b = b0, c = c0, d = d0;
  const x0 = X[0], x1 = X[1], x2 = X[2], x3 = X[3], x4 = X[4], x5 = X[5], x6 = X[6], x7 = X[7];
  const x8 = X[8], x9 = X[9], x10 = X[10], x11 = X[11], x12 = X[12], x13 = X[13], x14 = X[14], x15 = X[15];
  // Round 1
  a = (((a + ((b & c) | (~b & d))) | 0) + ((x0 + -680876936) | 0)) | 0;
  a = (((a << 7) | (a >>> 25)) + b) | 0;
  d = (((d + ((a & b) | (~a & c))) | 0) + ((x1 + -389564586) | 0)) | 0;
  d = (((d << 12) | (d >>> 20)) + a) | 0;
  c = (((c + ((d & a) | (~d & b))) | 0) + ((x2 + 606105819) | 0)) | 0;
  c = (((c << 17) | (c >>> 15)) + d) | 0;
  b = (((b + ((c & d) | (~c & a))) | 0) + ((x3 + -1044525330) | 0)) | 0;
  b = (((b << 22) | (b >>> 10)) + c) | 0;
  a = (((a + ((b & c) | (~b & d))) | 0) + ((x4 + -176418897) | 0)) | 0;
  a = (((a << 7) | (a >>> 25)) + b) | 0;
  d = (((d + ((a & b) | (~a & c))) | 0) + ((x5 + 1200080426) | 0)) | 0;
  d = (((d << 12) | (d >>> 20)) + a) | 0;
  c = (((c + ((d & a) | (~d & b))) | 0) + ((x6 + -1473231341) | 0)) | 0;
  c = (((c << 17) | (c >>> 15)) + d) | 0;
  b = (((b + ((c & d) | (~c & a))) | 0) + ((x7 + -45705983) | 0)) | 0;
  b = (((b << 22) | (b >>> 10)) + c) | 0;
  a = (((a + ((b & c) | (~b & d))) | 0) + ((x8 + 1770035416) | 0)) | 0;
  a = (((a << 7) | (a >>> 25)) + b) | 0;
  d = (((d + ((a & b) | (~a & c))) | 0) + ((x9 + -1958414417) | 0)) | 0;
  d = (((d << 12) | (d >>> 20)) + a) | 0;
  c = (((c + ((d & a) | (~d & b))) | 0) + ((x10 + -42063) | 0)) | 0;
  c = (((c << 17) | (c >>> 15)) + d) | 0;
  b = (((b + ((c & d) | (~c & a))) | 0) + ((x11 + -1990404162) | 0)) | 0;
  b = (((b << 22) | (b >>> 10)) + c) | 0;
  a = (((a + ((b & c) | (~b & d))) | 0) + ((x12 + 1804603682) | 0)) | 0;
  a = (((a << 7) | (a >>> 25)) + b) | 0;
  d = (((d + ((a & b) | (~a & c))) | 0) + ((x13 + -40341101) | 0)) | 0;
  d = (((d << 12) | (d >>> 20)) + a) | 0;
  c = (((c + ((d & a) | (~d & b))) | 0) + ((x14 + -1502002290) | 0)) | 0;
  c = (((c << 17) | (c >>> 15)) + d) | 0;
  b = (((b + ((c & d) | (~c & a))) | 0) + ((x15 + 1236535329) | 0)) | 0;
  b = (((b << 22) | (b >>> 10)) + c) | 0;
  // Round 2
  a = (((a + ((b & d) | (c & ~d))) | 0) + ((x1 + -165796510) | 0)) | 0;
  a = (((a << 5) | (a >>> 27)) + b) | 0;
  d = (((d + ((a & c) | (b & ~c))) | 0) + ((x6 + -1069501632) | 0)) | 0;
  d = (((d << 9) | (d >>> 23)) + a) | 0;
  c = (((c + ((d & b) | (a & ~b))) | 0) + ((x11 + 643717713) | 0)) | 0;
  c = (((c << 14) | (c >>> 18)) + d) | 0;
  b = (((b + ((c & a) | (d & ~a))) | 0) + ((x0 + -373897302) | 0)) | 0;
  b = (((b << 20) | (b >>> 12)) + c) | 0;
  a = (((a + ((b & d) | (c & ~d))) | 0) + ((x5 + -701558691) | 0)) | 0;
  a = (((a << 5) | (a >>> 27)) + b) | 0;
  d = (((d + ((a & c) | (b & ~c))) | 0) + ((x10 + 38016083) | 0)) | 0;
  d = (((d << 9) | (d >>> 23)) + a) | 0;
  c = (((c + ((d & b) | (a & ~b))) | 0) + ((x15 + -660478335) | 0)) | 0;
  c = (((c << 14) | (c >>> 18)) + d) | 0;
  b = (((b + ((c & a) | (d & ~a))) | 0) + ((x4 + -405537848) | 0)) | 0;
  b = (((b << 20) | (b >>> 12)) + c) | 0;
  a = (((a + ((b & d) | (c & ~d))) | 0) + ((x9 + 568446438) | 0)) | 0;
  a = (((a << 5) | (a >>> 27)) + b) | 0;
  d = (((d + ((a & c) | (b & ~c))) | 0) + ((x14 + -1019803690) | 0)) | 0;
  d = (((d << 9) | (d >>> 23)) + a) | 0;
  c = (((c + ((d & b) | (a & ~b))) | 0) + ((x3 + -187363961) | 0)) | 0;
  c = (((c << 14) | (c >>> 18)) + d) | 0;
  b = (((b + ((c & a) | (d & ~a))) | 0) + ((x8 + 1163531501) | 0)) | 0;
  b = (((b << 20) | (b >>> 12)) + c) | 0;
  a = (((a + ((b & d) | (c & ~d))) | 0) + ((x13 + -1444681467) | 0)) | 0;
  a = (((a << 5) | (a >>> 27)) + b) | 0;
  d = (((d + ((a & c) | (b & ~c))) | 0) + ((x2 + -51403784) | 0)) | 0;
  d = (((d << 9) | (d >>> 23)) + a) | 0;
  c = (((c + ((d & b) | (a & ~b))) | 0) + ((x7 + 1735328473) | 0)) | 0;
  c = (((c << 14) | (c >>> 18)) + d) | 0;
  b = (((b + ((c & a) | (d & ~a))) | 0) + ((x12 + -1926607734) | 0)) | 0;
  b = (((b << 20) | (b >>> 12)) + c) | 0;
  // Round 3
  a = (((a + (b ^ c ^ d)) | 0) + ((x5 + -378558) | 0)) | 0;
  a = (((a << 4) | (a >>> 28)) + b) | 0;
  d = (((d + (a ^ b ^ c)) | 0) + ((x8 + -2022574463) | 0)) | 0;
  d = (((d << 11) | (d >>> 21)) + a) | 0;
  c = (((c + (d ^ a ^ b)) | 0) + ((x11 + 1839030562) | 0)) | 0;
  c = (((c << 16) | (c >>> 16)) + d) | 0;
  b = (((b + (c ^ d ^ a)) | 0) + ((x14 + -35309556) | 0)) | 0;
  b = (((b << 23) | (b >>> 9)) + c) | 0;
  a = (((a + (b ^ c ^ d)) | 0) + ((x1 + -1530992060) | 0)) | 0;
  a = (((a << 4) | (a >>> 28)) + b) | 0;
  d = (((d + (a ^ b ^ c)) | 0) + ((x4 + 1272893353) | 0)) | 0;
  d = (((d << 11) | (d >>> 21)) + a) | 0;
  c = (((c + (d ^ a ^ b)) | 0) + ((x7 + -155497632) | 0)) | 0;
  c = (((c << 16) | (c >>> 16)) + d) | 0;
  b = (((b + (c ^ d ^ a)) | 0) + ((x10 + -1094730640) | 0)) | 0;
  b = (((b << 23) | (b >>> 9)) + c) | 0;
  a = (((a + (b ^ c ^ d)) | 0) + ((x13 + 681279174) | 0)) | 0;
  a = (((a << 4) | (a >>> 28)) + b) | 0;
  d = (((d + (a ^ b ^ c)) | 0) + ((x0 + -358537222) | 0)) | 0;
  d = (((d << 11) | (d >>> 21)) + a) | 0;
  c = (((c + (d ^ a ^ b)) | 0) + ((x3 + -722521979) | 0)) | 0;
  c = (((c << 16) | (c >>> 16)) + d) | 0;
  b = (((b + (c ^ d ^ a)) | 0) + ((x6 + 76029189) | 0)) | 0;
  b = (((b << 23) | (b >>> 9)) + c) | 0;
  a = (((a + (b ^ c ^ d)) | 0) + ((x9 + -640364487) | 0)) | 0;
  a = (((a << 4) | (a >>> 28)) + b) | 0;
  d = (((d + (a ^ b ^ c)) | 0) + ((x12 + -421815835) | 0)) | 0;
  d = (((d << 11) | (d >>> 21)) + a) | 0;
  c = (((c + (d ^ a ^ b)) | 0) + ((x15 + 530742520) | 0)) | 0;
  c = (((c << 16) | (c >>> 16)) + d) | 0;
  b = (((b + (c ^ d ^ a)) | 0) + ((x2 + -995338651) | 0)) | 0;
  b = (((b << 23) | (b >>> 9)) + c) | 0;
  // Round 4
  a = (((a + (c ^ (b | ~d))) | 0) + ((x0 + -198630844) | 0)) | 0;
  a = (((a << 6) | (a >>> 26)) + b) | 0;
  d = (((d + (b ^ (a | ~c))) | 0) + ((x7 + 1126891415) | 0)) | 0;
  d = (((d << 10) | (d >>> 22)) + a) | 0;
  c = (((c + (a ^ (d | ~b))) | 0) + ((x14 + -1416354905) | 0)) | 0;
  c = (((c << 15) | (c >>> 17)) + d) | 0;
  b = (((b + (d ^ (c | ~a))) | 0) + ((x5 + -57434055) | 0)) | 0;
  b = (((b << 21) | (b >>> 11)) + c) | 0;
  a = (((a + (c ^ (b | ~d))) | 0) + ((x12 + 1700485571) | 0)) | 0;
  a = (((a << 6) | (a >>> 26)) + b) | 0;
  d = (((d + (b ^ (a | ~c))) | 0) + ((x3 + -1894986606) | 0)) | 0;
  d = (((d << 10) | (d >>> 22)) + a) | 0;
  c = (((c + (a ^ (d | ~b))) | 0) + ((x10 + -1051523) | 0)) | 0;
  c = (((c << 15) | (c >>> 17)) + d) | 0;
  b = (((b + (d ^ (c | ~a))) | 0) + ((x1 + -2054922799) | 0)) | 0;
  b = (((b << 21) | (b >>> 11)) + c) | 0;
  a = (((a + (c ^ (b | ~d))) | 0) + ((x8 + 1873313359) | 0)) | 0;
  a = (((a << 6) | (a >>> 26)) + b) | 0;
  d = (((d + (b ^ (a | ~c))) | 0) + ((x15 + -30611744) | 0)) | 0;
  d = (((d << 10) | (d >>> 22)) + a) | 0;
  c = (((c + (a ^ (d | ~b))) | 0) + ((x6 + -1560198380) | 0)) | 0;
  c = (((c << 15) | (c >>> 17)) + d) | 0;
  b = (((b + (d ^ (c | ~a))) | 0) + ((x13 + 1309151649) | 0)) | 0;
  b = (((b << 21) | (b >>> 11)) + c) | 0;
  a = (((a + (c ^ (b | ~d))) | 0) + ((x4 + -145523070) | 0)) | 0;
  a = (((a << 6) | (a >>> 26)) + b) | 0;
  d = (((d + (b ^ (a | ~c))) | 0) + ((x11 + -1120210379) | 0)) | 0;
  d = (((d << 10) | (d >>> 22)) + a) | 0;
  c = (((c + (a ^ (d | ~b))) | 0) + ((x2 + 718787259) | 0)) | 0;
  c = (((c << 15) | (c >>> 17)) + d) | 0;
  b = (((b + (d ^ (c | ~a))) | 0) + ((x9 + -343485551) | 0)) | 0;
  b = (((b << 21) | (b >>> 11)) + c) | 0;
  a0 = (a0 + a) | 0;
  b0 = (b0 + b) | 0;
  c0 = (c0 + c) | 0;
  d0 = (d0 + d) | 0;
}
