/**
 * url_parser: splits page_url and page_referrer into their page_url* and refr_url* columns (always on). An
 * unparseable URL is a failure of this enrichment. Leaves the parsed URLs on the event for the enrichments after it.
 *
 * As Snowplow Enrich (ConversionUtils.stringToUri, EnrichmentManager.getPageUri / getRefererUri): spaces become
 * `%20` (in page_url too, which Enrich rewrites to the parsed URI's text), and a string without a scheme is a
 * relative URI, not a failure: its path, query and fragment are set, with port 80 as Enrich's explodeUri gives it.
 */
import { FailureMessage } from '../badrow';
import { createTextCache } from '../cache';
import { ParsedUrl, parseQuery, parseUrl } from '../url';
import { C, EventState, NEEDS_ESCAPE, UrlInfo, v } from '../stages/event';
import { Enrichment } from './enrichment';

const SPACES = / /g;
const URL_PARTS = ['urlscheme', 'urlhost', 'urlport', 'urlpath', 'urlquery', 'urlfragment'];
const PAGE_URL_COLUMNS = URL_PARTS.map(function (part) {
  return C['page_' + part];
});
const REFR_URL_COLUMNS = URL_PARTS.map(function (part) {
  return C['refr_' + part];
});

/** The parts of a relative URI (no scheme): path, query, fragment, as java.net.URI splits them. */
function relativeUrl(text: string): ParsedUrl {
  let rest = text;
  let fragment: string | null = null;
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    fragment = rest.substring(hash + 1);
    rest = rest.substring(0, hash);
  }
  let query: string | null = null;
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.substring(q + 1);
    rest = rest.substring(0, q);
  }
  return { scheme: '', host: null, port: 80, path: rest === '' ? null : rest, query: query, fragment: fragment };
}

function setUrlColumns(r: unknown[], columns: readonly number[], u: ParsedUrl): void {
  if (u.scheme !== '') r[columns[0]] = u.scheme;
  if (u.host !== null) r[columns[1]] = u.host;
  if (u.port !== null) r[columns[2]] = u.port;
  if (u.path !== null) r[columns[3]] = u.path;
  if (u.query !== null) r[columns[4]] = u.query;
  if (u.fragment !== null) r[columns[5]] = u.fragment;
}

export const urlParser: Enrichment = {
  name: 'url_parser',
  setting: null,
  create: function () {
    /** Page and referrer URLs parsed (with their decoded query), cached by URL text. */
    const urlCache = createTextCache<UrlInfo>(2000);
    function urlInfo(text: string): UrlInfo {
      const hit = urlCache.get(text);
      if (hit !== undefined) return hit;
      const parsed = parseUrl(text);
      const relative = parsed.url === undefined && parsed.error === undefined && text !== '' ? relativeUrl(text) : null;
      const info: UrlInfo = {
        parsed: relative !== null ? { url: relative } : parsed,
        pairs: parsed.url !== undefined ? parseQuery(parsed.url.query) : relative !== null ? parseQuery(relative.query) : [],
        clean: !NEEDS_ESCAPE.test(text),
        campaign: null,
        cls: null,
        clsPageHost: null,
      };
      urlCache.set(text, info);
      return info;
    }

    return function (s: EventState, ef: FailureMessage[]): void {
      const r = s.vals;
      let pageUrl = r[C.page_url];
      if (typeof pageUrl === 'string' && pageUrl.indexOf(' ') >= 0) r[C.page_url] = pageUrl = pageUrl.replace(SPACES, '%20');
      if (typeof pageUrl === 'string') {
        const info = urlInfo(pageUrl);
        const parsed = info.parsed;
        if (parsed.error !== undefined) ef.push({ enrichment: 'url_parser', field: 'page_url', value: v(pageUrl), expectation: 'a parseable URL: ' + parsed.error });
        else if (parsed.url !== undefined) {
          if (parsed.url.scheme !== '') s.page = parsed.url;
          s.pageInfo = info;
          if (info.clean) s.cleanUrl = pageUrl;
          setUrlColumns(r, PAGE_URL_COLUMNS, parsed.url);
          s.pageQuery = info.pairs;
        }
      }
      let refrUrl = r[C.page_referrer];
      if (typeof refrUrl === 'string' && refrUrl.indexOf(' ') >= 0) refrUrl = refrUrl.replace(SPACES, '%20');
      if (typeof refrUrl === 'string') {
        const info = urlInfo(refrUrl);
        const parsed = info.parsed;
        if (parsed.error !== undefined) ef.push({ enrichment: 'url_parser', field: 'page_referrer', value: v(refrUrl), expectation: 'a parseable URL: ' + parsed.error });
        else if (parsed.url !== undefined) {
          if (parsed.url.scheme !== '') s.refr = info;
          if (info.clean) s.cleanRefr = refrUrl;
          setUrlColumns(r, REFR_URL_COLUMNS, parsed.url);
        }
      }
    };
  },
};
