/**
 * Small pure helpers over request data: query strings, cookies, client IP, header allow-list, cookie and CORS headers.
 */
import { isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import { decodeQueryComponent } from '../pipeline/url';
import type { CookieConfig } from './config';

export type StringMap = Record<string, string>;

/**
 * The tp2 parameters of one event of a POST batch: a plain object, name → value (a GET's parameters stay in its
 * query string, which the enricher parses). Names the tracker protocol defines may be present with
 * the value `undefined` (see `newParams`): read a parameter with `map[name]` (or `hasKey` + value), never by
 * listing keys; JSON.stringify leaves undefined values out, so the JSON text holds exactly the parameters received.
 */
export type Params = Record<string, string | undefined>;

/**
 * A new, empty parameters object.
 *
 * Speed (the collector's hot path): V8 turns an object that receives more than about 16 properties through
 * `obj[key] = value` into a slow dictionary, and a page view has 20-30 parameters. Filling and JSON.stringify-ing
 * such a dictionary cost about 3 µs more per event than a fast object. So the object starts from a literal that
 * already has the protocol's usual names (tracker-protocol.md) as properties, in the order trackers send them
 * (`url` before `page`), valued undefined: received parameters fill existing slots and the object stays fast.
 * Other names are added after them, in arrival order.
 */
export const newParams = (): Params => ({
  e: undefined,
  eid: undefined,
  tv: undefined,
  tna: undefined,
  aid: undefined,
  p: undefined,
  url: undefined,
  page: undefined,
  refr: undefined,
  tz: undefined,
  lang: undefined,
  cs: undefined,
  res: undefined,
  cd: undefined,
  cookie: undefined,
  vp: undefined,
  ds: undefined,
  uid: undefined,
  duid: undefined,
  nuid: undefined,
  tnuid: undefined,
  vid: undefined,
  sid: undefined,
  dtm: undefined,
  stm: undefined,
  ttm: undefined,
  se_ca: undefined,
  se_ac: undefined,
  se_la: undefined,
  se_pr: undefined,
  se_va: undefined,
  ue_pr: undefined,
  ue_px: undefined,
  co: undefined,
  cx: undefined,
  pp_mix: undefined,
  pp_max: undefined,
  pp_miy: undefined,
  pp_may: undefined,
});

/** A plain object used as a string map (few keys: headers, attributes). */
export const emptyMap = (): StringMap => ({});

/** Sets `key`; `__proto__` is defined as an own property, so that key is data like any other, never the prototype. */
export function setKey(map: Params, key: string, value: string): void {
  if (key === '__proto__') Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  else map[key] = value;
}

/** Own-key test that is not fooled by the prototype (`constructor`, `toString`, ...). */
export const hasKey = (map: Params, key: string): boolean => Object.prototype.hasOwnProperty.call(map, key);

/**
 * The values of parameters `names` in a raw query string (`a=1&b=x+y`), undefined when absent; one pass. Decoded and
 * the last occurrence of a repeated name winning, as in the enricher, which parses a GET's whole query string with
 * the same decoder (pipeline/adapters.ts).
 */
export function queryValues(query: string, names: readonly string[]): (string | undefined)[] {
  const found: (string | undefined)[] = names.map(() => undefined);
  let start = 0;
  const n = query.length;
  // The next '=', '%' and '+' at or after `start` (n when none): each is searched for again only once passed, so the
  // whole string is scanned once for each, whatever the number of parameters (linear, not quadratic: `x&x&x…`
  // has no '=' and a search from every parameter would read to the end every time).
  let nextEq = -1;
  let pct = -1;
  let plus = -1;
  while (start < n) {
    let amp = query.indexOf('&', start);
    if (amp < 0) amp = n;
    if (nextEq < start) nextEq = nextIndex(query, '=', start);
    const eq = nextEq > amp ? amp : nextEq;
    if (eq > start) {
      for (let k = 0; k < names.length; k++) {
        const name = names[k];
        if (eq - start === name.length && query.startsWith(name, start)) {
          found[k] = eq < amp ? decodeQueryComponent(query.slice(eq + 1, amp)) : '';
          break;
        }
        // Names are compared raw first: an encoded name (`%61id`) is rare, so it is only decoded when it could match.
        if (pct < start) pct = nextIndex(query, '%', start);
        if (plus < start) plus = nextIndex(query, '+', start);
        if ((pct < eq || plus < eq) && decodeQueryComponent(query.slice(start, eq)) === name) {
          found[k] = eq < amp ? decodeQueryComponent(query.slice(eq + 1, amp)) : '';
          break;
        }
      }
    }
    start = amp + 1;
  }
  return found;
}

/** The value of parameter `name` in a raw query string, decoded, or undefined (see queryValues). */
export const queryValue = (query: string, name: string): string | undefined => queryValues(query, [name])[0];

function nextIndex(query: string, ch: string, from: number): number {
  const i = query.indexOf(ch, from);
  return i < 0 ? query.length : i;
}

/** Whether a raw query string names at least one parameter (`&&`, `=x` and the empty string do not). */
export function hasParameters(query: string): boolean {
  let start = 0;
  const n = query.length;
  while (start < n) {
    let amp = query.indexOf('&', start);
    if (amp < 0) amp = n;
    if (amp > start && query.charCodeAt(start) !== 0x3d) return true;
    start = amp + 1;
  }
  return false;
}

/** The value of one cookie in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined || header === '') return undefined;
  let start = 0;
  const n = header.length;
  while (start < n) {
    let end = header.indexOf(';', start);
    if (end < 0) end = n;
    const eq = header.indexOf('=', start);
    if (eq >= 0 && eq < end && header.slice(start, eq).trim() === name) {
      let v = header.slice(eq + 1, end).trim();
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      return v;
    }
    start = end + 1;
  }
  return undefined;
}

/** A network user id taken from a cookie must be a UUID (the schema's format), so odd values cannot smuggle data downstream. */
export const VALID_USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const normalizeIp = (ip: string): string => (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip);

/**
 * The client IP. Google's load balancer appends `<client-ip>, <lb-ip>` to X-Forwarded-For, so with
 * `trustedHops` = 1 the client is the second-to-last entry; anything before it was written by the client and is
 * not trusted. Falls back to the TCP peer when the header is missing, too short or not an IP.
 */
export function clientIp(xff: string | string[] | undefined, remoteAddress: string | undefined, trustedHops: number | null): string | null {
  const header = Array.isArray(xff) ? xff.join(',') : xff;
  if (trustedHops !== null && header !== undefined && header !== '') {
    const parts = header.split(',');
    const i = parts.length - 1 - trustedHops;
    if (i >= 0) {
      const candidate = parts[i].trim();
      if (isIP(candidate) !== 0) return normalizeIp(candidate);
    }
  }
  return remoteAddress === undefined ? null : normalizeIp(remoteAddress);
}

/** Headers never recorded for anonymous requests, whatever the allow-list says. */
export const IDENTIFYING_HEADERS: ReadonlySet<string> = new Set([
  'cookie',
  'x-forwarded-for',
  'forwarded',
  'x-real-ip',
  'true-client-ip',
  'x-client-geo-location',
  'x-client-city',
  'x-client-city-lat-long',
]);

export function allowedHeaders(headers: IncomingHttpHeaders, allowList: readonly string[], anonymous: boolean): StringMap {
  const out = emptyMap();
  for (const name of allowList) {
    const v = headers[name];
    if (v === undefined || (anonymous && IDENTIFYING_HEADERS.has(name))) continue;
    setKey(out, name, Array.isArray(v) ? v.join(', ') : v);
  }
  return out;
}

/** Hostname part of a URL-ish string (`https://www.acme.com:8443` → `www.acme.com`), lower case, or null. */
export function hostOf(origin: string | undefined): string | null {
  if (origin === undefined) return null;
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/:?#@]+|\[[^\]]+\])/i.exec(origin);
  return m ? m[1].toLowerCase() : null;
}

/** Hostname of a Host header (`collector.acme.com:443` → `collector.acme.com`). */
export function hostnameOf(host: string | undefined): string | null {
  if (host === undefined || host === '') return null;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 0 ? host.slice(0, end + 1).toLowerCase() : host.toLowerCase();
  }
  const colon = host.indexOf(':');
  return (colon >= 0 ? host.slice(0, colon) : host).toLowerCase();
}

/** True when `host` is `domain` or a subdomain of it. */
export const domainMatches = (host: string, domain: string): boolean => host === domain || host.endsWith(`.${domain}`);

/** Cookie Domain for a request: the first configured domain matching the Origin, else the fallback, else null (host-only). */
export function cookieDomain(origin: string | undefined, config: CookieConfig): string | null {
  const host = hostOf(origin);
  if (host !== null) {
    for (const d of config.domains) if (domainMatches(host, d)) return d;
  }
  return config.fallbackDomain;
}

let expiresCacheSecond = -1;
let expiresCacheMaxAge = -1;
let expiresCacheValue = '';

/** The network user id Set-Cookie value: `sp=<id>; Expires=…; Max-Age=…; Domain=…; Path=/; Secure; HttpOnly; SameSite=None`. */
export function networkUserIdCookie(id: string, domain: string | null, config: CookieConfig, nowMs: number): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== expiresCacheSecond || config.maxAgeSeconds !== expiresCacheMaxAge) {
    expiresCacheSecond = second;
    expiresCacheMaxAge = config.maxAgeSeconds;
    expiresCacheValue = new Date((second + config.maxAgeSeconds) * 1000).toUTCString();
  }
  let c = `${config.name}=${id}; Expires=${expiresCacheValue}; Max-Age=${config.maxAgeSeconds}`;
  if (domain !== null) c += `; Domain=${domain}`;
  c += '; Path=/';
  if (config.secure) c += '; Secure';
  if (config.httpOnly) c += '; HttpOnly';
  c += `; SameSite=${config.sameSite}`;
  return c;
}

/** Whether a request's Origin may send events: no Origin (pixels, servers) or no allow-list → yes. */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined || allowed.length === 0) return true;
  const host = hostOf(origin);
  return host !== null && allowed.some((d) => domainMatches(host, d));
}

/** CORS headers for a request from `origin`: reflect it (never `*` with credentials). */
export function corsHeaders(origin: string | undefined): string[] {
  if (origin === undefined || origin === '') return [];
  return ['Access-Control-Allow-Origin', origin, 'Access-Control-Allow-Credentials', 'true', 'Vary', 'Origin'];
}

/** Preflight answer headers. Without an Origin there is nothing to reflect and credentials are not allowed. */
export function preflightHeaders(origin: string | undefined, maxAgeSeconds: number): string[] {
  const base = origin === undefined || origin === '' ? ['Access-Control-Allow-Origin', '*'] : corsHeaders(origin);
  return [
    ...base,
    'Access-Control-Allow-Methods',
    'GET, POST, OPTIONS',
    'Access-Control-Allow-Headers',
    'Content-Type, SP-Anonymous',
    'Access-Control-Max-Age',
    String(maxAgeSeconds),
  ];
}
