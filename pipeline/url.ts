/**
 * URL parsing for page and referrer URLs (Nashorn has no URL class). Lenient where browsers are lenient, strict
 * only where a URL is definitely broken (bad port, impossible characters in the host).
 */
import { hasOwn } from './es5';
import { stringifyJson } from './json';

export interface ParsedUrl {
  /** Lowercased scheme, e.g. `https`. */
  readonly scheme: string;
  /** Lowercased host without brackets for IPv6; null when the URL has no authority (e.g. `mailto:`). */
  readonly host: string | null;
  /** Explicit port, else the scheme's default port (80/443/21...), else null. */
  readonly port: number | null;
  /** Path as sent (still percent-encoded); null when empty. */
  readonly path: string | null;
  /** Query string without `?`; null when absent. */
  readonly query: string | null;
  /** Fragment without `#`; null when absent. */
  readonly fragment: string | null;
}

export type UrlParseResult = { url: ParsedUrl; error?: undefined } | { url?: undefined; error: string } | { url?: undefined; error?: undefined };

const DEFAULT_PORTS: { [scheme: string]: number } = { http: 80, https: 443, ws: 80, wss: 443, ftp: 21 };

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;
// Characters that can never appear in a host name, even leniently parsed (whitespace, controls, delimiters).
// eslint-disable-next-line no-control-regex -- control characters are exactly what this matches
const BAD_HOST_CHAR = /[\x00-\x20\x7f<>"{}|\\^`/?#@[\]]/;
const DIGITS = /^[0-9]+$/;

/**
 * Parses an absolute URL. Returns `{url}` for a URL with a scheme, `{error}` when the URL is broken in a way that
 * makes its components meaningless, and `{}` for strings without a scheme (kept verbatim, not decomposed).
 */
export function parseUrl(raw: string): UrlParseResult {
  const s = raw.replace(/^\s+|\s+$/g, '');
  const m = SCHEME.exec(s);
  if (!m) return {};
  const scheme = m[1].toLowerCase();
  let rest = s.substring(m[0].length);
  let fragment: string | null = null;
  const hash = rest.indexOf('#');
  if (hash !== -1) {
    fragment = rest.substring(hash + 1);
    rest = rest.substring(0, hash);
  }
  let query: string | null = null;
  const q = rest.indexOf('?');
  if (q !== -1) {
    query = rest.substring(q + 1);
    rest = rest.substring(0, q);
  }
  let host: string | null = null;
  let port: number | null = null;
  if (rest.charAt(0) === '/' && rest.charAt(1) === '/') {
    rest = rest.substring(2);
    const slash = rest.indexOf('/');
    let authority = slash === -1 ? rest : rest.substring(0, slash);
    rest = slash === -1 ? '' : rest.substring(slash);
    const at = authority.lastIndexOf('@');
    if (at !== -1) authority = authority.substring(at + 1);
    let portText: string | null = null;
    if (authority.charAt(0) === '[') {
      const close = authority.indexOf(']');
      if (close === -1) return { error: 'unterminated IPv6 address in host' };
      host = authority.substring(1, close).toLowerCase();
      const after = authority.substring(close + 1);
      if (after !== '') {
        if (after.charAt(0) !== ':') return { error: 'unexpected characters after IPv6 address: ' + after };
        portText = after.substring(1);
      }
      if (!/^[0-9a-f:.]+$/.test(host)) return { error: 'invalid IPv6 address in host: ' + host };
    } else {
      const colon = authority.lastIndexOf(':');
      if (colon !== -1) {
        portText = authority.substring(colon + 1);
        authority = authority.substring(0, colon);
      }
      if (BAD_HOST_CHAR.test(authority)) return { error: 'invalid character in host ' + stringifyJson(authority) };
      host = authority.toLowerCase();
      if (host.charAt(host.length - 1) === '.') host = host.substring(0, host.length - 1);
    }
    if (portText !== null && portText !== '') {
      if (!DIGITS.test(portText) || portText.length > 5 || +portText > 65535) {
        return { error: 'invalid port ' + stringifyJson(portText) };
      }
      port = +portText;
    }
    if (host === '' && (scheme === 'http' || scheme === 'https')) return { error: 'empty host in ' + scheme + ' URL' };
    if (host === '') host = null;
  }
  if (port === null && hasOwn(DEFAULT_PORTS, scheme) && host !== null) port = DEFAULT_PORTS[scheme];
  return {
    url: {
      scheme: scheme,
      host: host,
      port: port,
      path: rest === '' ? (host !== null ? '/' : null) : rest,
      query: query,
      fragment: fragment,
    },
  };
}

/** Decodes one query-string component: `+` is a space, malformed percent-escapes are kept as they are. */
export function decodeQueryComponent(s: string): string {
  const plus = s.indexOf('+') === -1 ? s : s.replace(/\+/g, ' ');
  if (plus.indexOf('%') === -1) return plus;
  try {
    return decodeURIComponent(plus);
  } catch {
    // Decode the well-formed UTF-8 escapes one run at a time; keep what can't be decoded verbatim.
    return plus.replace(/(%[0-9a-fA-F]{2})+/g, function (run) {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/** Query parameters as an ordered list of [name, value] pairs, decoded. */
export function parseQuery(query: string | null): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (query === null || query === '') return out;
  const parts = query.split('&');
  for (let i = 0; i < parts.length && i < 1000; i++) {
    const part = parts[i];
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq === -1) out.push([decodeQueryComponent(part), '']);
    else out.push([decodeQueryComponent(part.substring(0, eq)), decodeQueryComponent(part.substring(eq + 1))]);
  }
  return out;
}

/** The first value of a query parameter (case-sensitive name), or null. */
export function queryParam(pairs: Array<[string, string]>, name: string): string | null {
  for (let i = 0; i < pairs.length; i++) if (pairs[i][0] === name) return pairs[i][1];
  return null;
}
