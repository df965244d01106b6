/**
 * IP address validation and anonymisation: the last N octets of an IPv4 address or the last N 16-bit segments of an
 * IPv6 address become `x` (the notation of Snowplow's IP anonymisation, so warehouse queries carry over).
 */

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** The four octets of a dotted-quad IPv4 address, or null. */
export function parseIpv4(s: string): number[] | null {
  const m = IPV4.exec(s);
  if (!m) return null;
  const out: number[] = [];
  for (let i = 1; i <= 4; i++) {
    const n = +m[i];
    if (n > 255) return null;
    out.push(n);
  }
  return out;
}

/** The eight 16-bit groups of an IPv6 address (with `::` expanded, embedded IPv4 converted), or null. */
export function parseIpv6(input: string): number[] | null {
  let s = input;
  const zone = s.indexOf('%');
  if (zone !== -1) s = s.substring(0, zone);
  if (s.indexOf(':') === -1 || s.length > 45) return null;
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parseSide = function (side: string, allowIpv4: boolean): number[] | null {
    if (side === '') return [];
    const parts = side.split(':');
    const out: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (allowIpv4 && i === parts.length - 1 && p.indexOf('.') !== -1) {
        const v4 = parseIpv4(p);
        if (v4 === null) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!HEX_GROUP.test(p)) return null;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  if (halves.length === 1) {
    const all = parseSide(halves[0], true);
    return all !== null && all.length === 8 ? all : null;
  }
  const head = parseSide(halves[0], false);
  const tail = parseSide(halves[1], true);
  if (head === null || tail === null || head.length + tail.length > 7) return null;
  const groups = head.slice();
  for (let i = head.length + tail.length; i < 8; i++) groups.push(0);
  for (let i = 0; i < tail.length; i++) groups.push(tail[i]);
  return groups;
}

/** True for IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`). */
function isV4Mapped(g: number[]): boolean {
  return g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff;
}

/**
 * True for an IPv4 address already in normal form: four decimal octets 0–255 without leading zeros (what
 * collectors and load balancers send). Checked char by char: the common case needs no regex, split or join.
 */
function isNormalIpv4(s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let dots = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return false;
      digits = 0;
      value = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false; // a leading zero
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return false;
    } else {
      return false;
    }
  }
  return dots === 3 && digits > 0;
}

/** A syntactically valid IPv4 or IPv6 address, normalised (IPv6 lowercase, IPv4-mapped IPv6 as IPv4), or null. */
export function normaliseIp(raw: string): string | null {
  if (isNormalIpv4(raw)) return raw;
  const s = raw.replace(/^\s+|\s+$/g, '');
  const v4 = parseIpv4(s);
  if (v4 !== null) return v4.join('.');
  const v6 = parseIpv6(s.charAt(0) === '[' && s.charAt(s.length - 1) === ']' ? s.substring(1, s.length - 1) : s);
  if (v6 === null) return null;
  if (isV4Mapped(v6)) return [v6[6] >> 8, v6[6] & 255, v6[7] >> 8, v6[7] & 255].join('.');
  return formatIpv6(v6);
}

/** RFC 5952 text form: lowercase, no leading zeros, the longest run (2+) of zero groups as `::`. */
function formatIpv6(g: number[]): string {
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = function (from: number, to: number): string {
    const parts: string[] = [];
    for (let i = from; i < to; i++) parts.push(g[i].toString(16));
    return parts.join(':');
  };
  if (bestAt === -1) return hex(0, 8);
  return hex(0, bestAt) + '::' + hex(bestAt + bestLen, 8);
}

/** The eight groups of an IPv6 address as lowercase hex without leading zeros (for anonymisation). */
function expandIpv6(ip: string): string[] {
  const g = parseIpv6(ip) || [];
  const out: string[] = [];
  for (let i = 0; i < g.length; i++) out.push(g[i].toString(16));
  return out;
}

/**
 * Anonymises an IP address; returns null for strings that are not IP addresses (an address that can't be parsed
 * can't be anonymised, so it is not kept). `ipv4Octets` 0–4, `ipv6Segments` 0–8.
 */
export function anonymiseIp(raw: string, ipv4Octets: number, ipv6Segments: number): string | null {
  if (ipv4Octets === 1 && isNormalIpv4(raw)) return raw.substring(0, raw.lastIndexOf('.')) + '.x';
  const ip = normaliseIp(raw);
  if (ip === null) return null;
  if (ip.indexOf(':') === -1) {
    const octets = ip.split('.');
    for (let i = 4 - ipv4Octets; i < 4; i++) octets[i] = 'x';
    return octets.join('.');
  }
  const groups = expandIpv6(ip);
  for (let i = 8 - ipv6Segments; i < 8; i++) groups[i] = 'x';
  return groups.join(':');
}
