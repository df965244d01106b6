/**
 * SHA-256 (FIPS 180-4), hand-written for engines without crypto APIs (Nashorn, Rhino). Used for PII
 * pseudonymisation and the event fingerprint. Plain arrays and 32-bit integer arithmetic only; ASCII strings are
 * hashed straight from their char codes, other strings through a UTF-8 byte array.
 */

const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];
const KK = int32Array(64);
for (let i = 0; i < 64; i++) KK[i] = K[i] | 0;

const HEX = '0123456789abcdef';

/**
 * Reusable message schedule and hash state; UDF calls are synchronized, so sharing them is safe. Int32Array where
 * the engine has it (Node, Nashorn and Rhino all do; it keeps V8 from boxing 32-bit words), a plain array otherwise.
 */
function int32Array(n: number): number[] {
  if (typeof Int32Array !== 'undefined') return new Int32Array(n) as unknown as number[];
  const a: number[] = [];
  for (let i = 0; i < n; i++) a.push(0);
  return a;
}
const W = int32Array(64);
const H = int32Array(8);

function reset(): void {
  H[0] = 0x6a09e667;
  H[1] = 0xbb67ae85 | 0;
  H[2] = 0x3c6ef372;
  H[3] = 0xa54ff53a | 0;
  H[4] = 0x510e527f;
  H[5] = 0x9b05688c | 0;
  H[6] = 0x1f83d9ab;
  H[7] = 0x5be0cd19;
}

/**
 * Compresses the 16 words in W[0..15] into H. Every addition is truncated with `| 0` at once, which lets JIT
 * compilers keep the arithmetic in 32-bit integers instead of falling back to doubles on overflow.
 */
function compress(): void {
  for (let t = 16; t < 64; t++) {
    const w15 = W[t - 15];
    const w2 = W[t - 2];
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[t] = (((W[t - 16] + s0) | 0) + ((W[t - 7] + s1) | 0)) | 0;
  }
  let a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
  for (let t = 0; t < 64; t++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (((((h + s1) | 0) + ch) | 0) + ((KK[t] + W[t]) | 0)) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (s0 + maj) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  H[0] = (H[0] + a) | 0;
  H[1] = (H[1] + b) | 0;
  H[2] = (H[2] + c) | 0;
  H[3] = (H[3] + d) | 0;
  H[4] = (H[4] + e) | 0;
  H[5] = (H[5] + f) | 0;
  H[6] = (H[6] + g) | 0;
  H[7] = (H[7] + h) | 0;
}

/** Pads and hashes the final partial block: `tail` holds the last (len mod 64) bytes. */
function finish(tail: number[], len: number): string {
  tail.push(0x80);
  while (tail.length % 64 !== 56) tail.push(0);
  const high = Math.floor(len / 0x20000000);
  const low = (len * 8) >>> 0;
  tail.push((high >>> 24) & 255, (high >>> 16) & 255, (high >>> 8) & 255, high & 255);
  tail.push((low >>> 24) & 255, (low >>> 16) & 255, (low >>> 8) & 255, low & 255);
  for (let off = 0; off < tail.length; off += 64) {
    for (let t = 0; t < 16; t++) {
      const p = off + t * 4;
      W[t] = (tail[p] << 24) | (tail[p + 1] << 16) | (tail[p + 2] << 8) | tail[p + 3];
    }
    compress();
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    const n = H[i];
    for (let shift = 28; shift >= 0; shift -= 4) out += HEX.charAt((n >>> shift) & 15);
  }
  return out;
}

/** SHA-256 of `bytes[0..len)` (values 0..255), as lowercase hex. */
function hashBytes(bytes: ArrayLike<number>, len: number): string {
  reset();
  const full = len - (len % 64);
  for (let off = 0; off < full; off += 64) {
    for (let t = 0; t < 16; t++) {
      const p = off + t * 4;
      W[t] = (bytes[p] << 24) | (bytes[p + 1] << 16) | (bytes[p + 2] << 8) | bytes[p + 3];
    }
    compress();
  }
  const tail: number[] = [];
  for (let i = full; i < len; i++) tail.push(bytes[i]);
  return finish(tail, len);
}

/** SHA-256 of a byte array (values 0..255), as lowercase hex. */
export function sha256Bytes(bytes: readonly number[]): string {
  return hashBytes(bytes, bytes.length);
}

// eslint-disable-next-line no-control-regex -- control characters are ASCII too
const NON_ASCII = /[^\x00-\x7f]/;

/** A reused buffer for UTF-8 bytes (Uint8Array where the engine has one), grown as needed. */
let scratch: { [i: number]: number; length: number } = typeof Uint8Array !== 'undefined' ? new Uint8Array(4096) : [];

/** Writes the UTF-8 encoding of `s` into the scratch buffer; returns its length (lone surrogates → U+FFFD). */
function utf8IntoScratch(s: string): number {
  const n = s.length;
  if (typeof Uint8Array !== 'undefined' && scratch.length < n * 3) scratch = new Uint8Array(n * 3 + 1024);
  const out = scratch;
  let k = 0;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[k++] = c;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        out[k++] = 0xf0 | (c >> 18);
        out[k++] = 0x80 | ((c >> 12) & 0x3f);
        out[k++] = 0x80 | ((c >> 6) & 0x3f);
        out[k++] = 0x80 | (c & 0x3f);
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x800) {
      out[k++] = 0xc0 | (c >> 6);
      out[k++] = 0x80 | (c & 0x3f);
    } else {
      out[k++] = 0xe0 | (c >> 12);
      out[k++] = 0x80 | ((c >> 6) & 0x3f);
      out[k++] = 0x80 | (c & 0x3f);
    }
  }
  return k;
}

/** SHA-256 of a string's UTF-8 encoding, as lowercase hex. */
export function sha256Hex(s: string): string {
  if (NON_ASCII.test(s)) {
    const len = utf8IntoScratch(s); // may replace `scratch` with a larger buffer: read it afterwards
    return hashBytes(scratch, len);
  }
  reset();
  const len = s.length;
  const full = len - (len % 64);
  for (let off = 0; off < full; off += 64) {
    for (let t = 0; t < 16; t++) {
      const p = off + t * 4;
      W[t] = (s.charCodeAt(p) << 24) | (s.charCodeAt(p + 1) << 16) | (s.charCodeAt(p + 2) << 8) | s.charCodeAt(p + 3);
    }
    compress();
  }
  const tail: number[] = [];
  for (let i = full; i < len; i++) tail.push(s.charCodeAt(i));
  return finish(tail, len);
}
