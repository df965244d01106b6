/**
 * Referer classification: medium (search, social, email, paid, internal, unknown), source name and search term,
 * from a compact built-in list of well-known sources. Written from scratch for Waymark; the list is small on purpose
 * (the sources that matter for most sites) and can be extended per deployment through the enrichment config.
 */
import { hasOwn } from './es5';
import { queryParam } from './url';

export type RefererMedium = 'search' | 'social' | 'email' | 'paid' | 'internal' | 'unknown';

/** One known source: a medium, a display name, the domains it serves from, and (search) the term parameters. */
export interface RefererSource {
  readonly medium: 'search' | 'social' | 'email' | 'paid';
  readonly source: string;
  /** Exact hosts or parent domains (`google.com` also matches `www.google.com`). */
  readonly domains: readonly string[];
  /** Query parameters carrying the search term, in order of preference. */
  readonly params?: readonly string[];
  /**
   * Brand labels matched under any country TLD (`google` matches google.de, google.co.uk, www.google.com.au), when
   * the labels after it look like a public suffix (at most two labels of at most three letters).
   */
  readonly brands?: readonly string[];
}

export const BUILT_IN_SOURCES: readonly RefererSource[] = [
  // Email first: webmail hosts live under search brands (mail.google.com, mail.yahoo.com).
  { medium: 'email', source: 'Gmail', domains: ['mail.google.com', 'inbox.google.com'] },
  { medium: 'email', source: 'Outlook.com', domains: ['outlook.live.com', 'outlook.office.com', 'outlook.office365.com', 'mail.live.com'] },
  { medium: 'email', source: 'Yahoo! Mail', domains: ['mail.yahoo.com', 'mail.yahoo.co.jp'] },
  { medium: 'email', source: 'AOL Mail', domains: ['mail.aol.com'] },
  { medium: 'email', source: 'Proton Mail', domains: ['mail.proton.me', 'mail.protonmail.com'] },
  { medium: 'email', source: 'Yandex Mail', domains: ['mail.yandex.ru', 'mail.yandex.com'] },
  { medium: 'email', source: 'Zoho Mail', domains: ['mail.zoho.com', 'mail.zoho.eu'] },
  { medium: 'email', source: 'Mail.ru', domains: ['e.mail.ru', 'touch.mail.ru'] },
  { medium: 'email', source: 'GMX', domains: ['gmx.net', 'gmx.com', 'gmx.de'] },
  { medium: 'email', source: 'Web.de', domains: ['web.de'] },
  // Paid: ad servers that appear as referers on ad clicks.
  { medium: 'paid', source: 'Google', domains: ['googleadservices.com', 'doubleclick.net', 'googlesyndication.com', 'googleads.g.doubleclick.net'] },
  { medium: 'paid', source: 'Microsoft Advertising', domains: ['bat.bing.com', 'ads.microsoft.com'] },
  { medium: 'paid', source: 'Outbrain', domains: ['outbrain.com'] },
  { medium: 'paid', source: 'Taboola', domains: ['taboola.com'] },
  // Search engines.
  { medium: 'search', source: 'Google', domains: ['google.com', 'www.google.com'], brands: ['google'], params: ['q', 'query'] },
  { medium: 'search', source: 'Bing', domains: ['bing.com', 'cn.bing.com'], params: ['q', 'Q'] },
  { medium: 'search', source: 'Yahoo!', domains: ['search.yahoo.com', 'yahoo.com', 'yahoo.co.jp'], brands: ['yahoo'], params: ['p', 'q'] },
  { medium: 'search', source: 'DuckDuckGo', domains: ['duckduckgo.com', 'html.duckduckgo.com', 'lite.duckduckgo.com'], params: ['q'] },
  { medium: 'search', source: 'Baidu', domains: ['baidu.com', 'm.baidu.com'], params: ['wd', 'word', 'kw'] },
  { medium: 'search', source: 'Yandex', domains: ['yandex.ru', 'yandex.com', 'ya.ru'], brands: ['yandex'], params: ['text'] },
  { medium: 'search', source: 'Ecosia', domains: ['ecosia.org'], params: ['q'] },
  { medium: 'search', source: 'Ask', domains: ['ask.com'], params: ['q'] },
  { medium: 'search', source: 'Naver', domains: ['naver.com', 'search.naver.com'], params: ['query'] },
  { medium: 'search', source: 'Daum', domains: ['daum.net', 'search.daum.net'], params: ['q'] },
  { medium: 'search', source: 'Seznam', domains: ['seznam.cz', 'search.seznam.cz'], params: ['q'] },
  { medium: 'search', source: 'Qwant', domains: ['qwant.com'], params: ['q'] },
  { medium: 'search', source: 'Startpage', domains: ['startpage.com'], params: ['query', 'q'] },
  { medium: 'search', source: 'Brave Search', domains: ['search.brave.com'], params: ['q'] },
  { medium: 'search', source: 'Sogou', domains: ['sogou.com', 'm.sogou.com'], params: ['query', 'keyword'] },
  { medium: 'search', source: '360 Search', domains: ['so.com'], params: ['q'] },
  { medium: 'search', source: 'AOL', domains: ['search.aol.com', 'aol.com'], params: ['q', 'query'] },
  { medium: 'search', source: 'Kagi', domains: ['kagi.com'], params: ['q'] },
  { medium: 'search', source: 'Mojeek', domains: ['mojeek.com'], params: ['q'] },
  { medium: 'search', source: 'Yahoo! Japan', domains: ['search.yahoo.co.jp'], params: ['p'] },
  // Social networks and messengers.
  { medium: 'social', source: 'Facebook', domains: ['facebook.com', 'fb.com', 'fb.me', 'messenger.com'] },
  { medium: 'social', source: 'Instagram', domains: ['instagram.com'] },
  { medium: 'social', source: 'Twitter', domains: ['twitter.com', 't.co', 'x.com'] },
  { medium: 'social', source: 'LinkedIn', domains: ['linkedin.com', 'lnkd.in'] },
  { medium: 'social', source: 'Pinterest', domains: ['pinterest.com', 'pin.it'], brands: ['pinterest'] },
  { medium: 'social', source: 'Reddit', domains: ['reddit.com', 'redd.it'] },
  { medium: 'social', source: 'YouTube', domains: ['youtube.com', 'youtu.be'] },
  { medium: 'social', source: 'TikTok', domains: ['tiktok.com'] },
  { medium: 'social', source: 'WhatsApp', domains: ['whatsapp.com', 'wa.me'] },
  { medium: 'social', source: 'Telegram', domains: ['t.me', 'telegram.org', 'telegram.me'] },
  { medium: 'social', source: 'Snapchat', domains: ['snapchat.com'] },
  { medium: 'social', source: 'Threads', domains: ['threads.net', 'threads.com'] },
  { medium: 'social', source: 'Bluesky', domains: ['bsky.app'] },
  { medium: 'social', source: 'Mastodon', domains: ['mastodon.social'] },
  { medium: 'social', source: 'Tumblr', domains: ['tumblr.com'] },
  { medium: 'social', source: 'Quora', domains: ['quora.com'] },
  { medium: 'social', source: 'Discord', domains: ['discord.com', 'discord.gg'] },
  { medium: 'social', source: 'Hacker News', domains: ['news.ycombinator.com'] },
  { medium: 'social', source: 'VKontakte', domains: ['vk.com'] },
  { medium: 'social', source: 'Weibo', domains: ['weibo.com', 'weibo.cn'] },
  { medium: 'social', source: 'Xing', domains: ['xing.com'] },
];

export interface RefererClassification {
  readonly medium: RefererMedium;
  readonly source: string | null;
  readonly term: string | null;
}

/** A compiled lookup: exact host → source, brand label → source. */
export interface RefererIndex {
  readonly byDomain: { [domain: string]: RefererSource };
  readonly byBrand: { [brand: string]: RefererSource };
}

/** Builds the lookup tables once; later entries never override earlier ones (put overrides first). */
export function indexSources(sources: readonly RefererSource[]): RefererIndex {
  const byDomain: { [domain: string]: RefererSource } = {};
  const byBrand: { [brand: string]: RefererSource } = {};
  for (let i = 0; i < sources.length; i++) {
    const src = sources[i];
    for (let j = 0; j < src.domains.length; j++) {
      const d = src.domains[j].toLowerCase();
      if (!hasOwn(byDomain, d)) byDomain[d] = src;
    }
    const brands = src.brands || [];
    for (let j = 0; j < brands.length; j++) if (!hasOwn(byBrand, brands[j])) byBrand[brands[j]] = src;
  }
  return { byDomain: byDomain, byBrand: byBrand };
}

const SUFFIX_LABEL = /^[a-z]{2,3}$/;

/** Finds the source for a host: most specific exact domain first, then a brand under a country TLD. */
export function lookupSource(index: RefererIndex, host: string): RefererSource | null {
  let h = host;
  for (let guard = 0; guard < 20; guard++) {
    if (hasOwn(index.byDomain, h)) return index.byDomain[h];
    const dot = h.indexOf('.');
    if (dot === -1) break;
    h = h.substring(dot + 1);
    if (h.indexOf('.') === -1) break; // never match a bare TLD
  }
  const labels = host.split('.');
  for (let i = 0; i < labels.length - 1 && i < 20; i++) {
    if (!hasOwn(index.byBrand, labels[i])) continue;
    const tail = labels.length - i - 1;
    if (tail > 2) continue;
    let ok = true;
    for (let k = i + 1; k < labels.length; k++) if (!SUFFIX_LABEL.test(labels[k])) ok = false;
    if (ok) return index.byBrand[labels[i]];
  }
  return null;
}

/** True when `host` is `domain` or one of its subdomains. */
export function hostMatches(host: string, domain: string): boolean {
  if (host === domain) return true;
  const at = host.length - domain.length - 1;
  return at > 0 && host.charAt(at) === '.' && host.indexOf(domain, at + 1) === at + 1;
}

/**
 * Classifies a referer host against the page host and the configured internal domains.
 * `refQuery` is the referer's parsed query (for search terms).
 */
export function classifyReferer(
  index: RefererIndex,
  refHost: string,
  refQuery: Array<[string, string]>,
  pageHost: string | null,
  internalDomains: readonly string[],
): RefererClassification {
  if (pageHost !== null && refHost === pageHost) return { medium: 'internal', source: null, term: null };
  for (let i = 0; i < internalDomains.length; i++) {
    if (hostMatches(refHost, internalDomains[i])) return { medium: 'internal', source: null, term: null };
  }
  const src = lookupSource(index, refHost);
  if (src === null) return { medium: 'unknown', source: null, term: null };
  let term: string | null = null;
  const params = src.params || [];
  for (let i = 0; i < params.length && term === null; i++) {
    const v = queryParam(refQuery, params[i]);
    if (v !== null && v !== '') term = v;
  }
  return { medium: src.medium, source: src.source, term: term };
}
