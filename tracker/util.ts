/**
 * Small, dependency-free helpers shared by the tracker. Everything here is either pure (uuid, sha1, base64url)
 * or a thin, exception-safe wrapper over one browser API (cookies, localStorage, listeners).
 */

/** A random UUID v4 from `crypto.getRandomValues` (which, unlike `crypto.randomUUID`, works on plain http pages too). */
export function uuid(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 15) | 64;
  b[8] = (b[8] & 63) | 128;
  let s = '';
  for (let i = 0; i < 16; i++) s += (i > 3 && i < 11 && !(i & 1) ? '-' : '') + (b[i] + 256).toString(16).slice(1);
  return s;
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

const rol = (x: number, n: number): number => (x << n) | (x >>> (32 - n));

/** SHA-1 of the UTF-8 bytes of `s`, as 40 lowercase hex digits (Snowplow derives its cookie name suffix from it). */
export function sha1(s: string): string {
  const m = Array.from(utf8(s));
  const bits = m.length * 8;
  m.push(128);
  while (m.length % 64 != 56) m.push(0);
  for (let i = 7; i >= 0; i--) m.push(i > 3 ? 0 : (bits >>> (i * 8)) & 255);
  const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
  const w: number[] = [];
  for (let o = 0; o < m.length; o += 64) {
    let [a, b, c, d, e] = h;
    for (let i = 0; i < 80; i++) {
      const j = (i / 20) | 0;
      w[i] =
        i < 16
          ? (m[o + i * 4] << 24) | (m[o + i * 4 + 1] << 16) | (m[o + i * 4 + 2] << 8) | m[o + i * 4 + 3]
          : rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
      const f = j == 0 ? (b & c) | (~b & d) : j == 2 ? (b & c) | (b & d) | (c & d) : b ^ c ^ d;
      const t = (rol(a, 5) + f + e + [0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xca62c1d6][j] + w[i]) | 0;
      e = d;
      d = c;
      c = rol(b, 30);
      b = a;
      a = t;
    }
    [a, b, c, d, e].forEach((v, i) => (h[i] = (h[i] + v) | 0));
  }
  return h.map((v) => (v >>> 0).toString(16).padStart(8, '0')).join('');
}

/** URL-safe base64 of the UTF-8 bytes of `s`, without padding (tp2 `ue_px` / `cx`). */
export function base64url(s: string): string {
  let bin = '';
  utf8(s).forEach((c) => (bin += String.fromCharCode(c)));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The value of cookie `name`, or undefined. */
export function readCookie(name: string): string | undefined {
  for (const c of document.cookie.split(';')) {
    const i = c.indexOf('=');
    if (c.slice(0, i).trim() == name) {
      try {
        return decodeURIComponent(c.slice(i + 1));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Sets (or with `ttl` 0 deletes) a first-party cookie. `ttl` is in seconds. */
export function writeCookie(name: string, value: string, ttl: number, domain?: string, sameSite = 'Lax', secure?: boolean): void {
  document.cookie =
    name +
    '=' +
    encodeURIComponent(value) +
    '; Max-Age=' +
    Math.round(ttl) +
    '; Path=/' +
    (domain ? '; Domain=' + domain : '') +
    '; SameSite=' +
    sameSite +
    (secure ? '; Secure' : '');
}

/** localStorage access that never throws (storage may be disabled, full, or blocked): get with one argument,
 *  remove with `null`, set with a string. Returns the stored value on get, otherwise whether it worked. */
export function local(key: string, value?: string | null): string | null | boolean {
  try {
    const ls = localStorage;
    if (value === undefined) return ls.getItem(key);
    if (value === null) ls.removeItem(key);
    else ls.setItem(key, value);
    return true;
  } catch {
    return value === undefined ? null : false;
  }
}

/** addEventListener with capture and passive set, which fits every listener the tracker installs. */
export function on(target: EventTarget, type: string, fn: (e: Event) => void): void {
  target.addEventListener(type, fn, { capture: true, passive: true });
}
