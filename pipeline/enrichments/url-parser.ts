/**
 * url_parser: splits page_url and page_referrer into their page_url* and refr_url* columns (always on). An
 * unparseable URL is a failure of this enrichment. Leaves the parsed URLs on the event for the enrichments after it.
 */
import { FailureMessage } from '../badrow';
import { createTextCache } from '../cache';
import { ParsedUrl, parseQuery, parseUrl } from '../url';
import { C, EventState, NEEDS_ESCAPE, UrlInfo, v } from '../stages/event';
import { Enrichment } from './enrichment';

const URL_PARTS = ['urlscheme', 'urlhost', 'urlport', 'urlpath', 'urlquery', 'urlfragment'];
const PAGE_URL_COLUMNS = URL_PARTS.map(function (part) {
  return C['page_' + part];
});
const REFR_URL_COLUMNS = URL_PARTS.map(function (part) {
  return C['refr_' + part];
});

function setUrlColumns(r: unknown[], columns: readonly number[], u: ParsedUrl): void {
  r[columns[0]] = u.scheme;
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
      const info: UrlInfo = {
        parsed: parsed,
        pairs: parsed.url !== undefined ? parseQuery(parsed.url.query) : [],
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
      const pageUrl = r[C.page_url];
      if (typeof pageUrl === 'string') {
        const info = urlInfo(pageUrl);
        const parsed = info.parsed;
        if (parsed.error !== undefined) ef.push({ enrichment: 'url_parser', field: 'page_url', value: v(pageUrl), expectation: 'a parseable URL: ' + parsed.error });
        else if (parsed.url !== undefined) {
          s.page = parsed.url;
          s.pageInfo = info;
          if (info.clean) s.cleanUrl = pageUrl;
          setUrlColumns(r, PAGE_URL_COLUMNS, parsed.url);
          s.pageQuery = info.pairs;
        }
      }
      const refrUrl = r[C.page_referrer];
      if (typeof refrUrl === 'string') {
        const info = urlInfo(refrUrl);
        const parsed = info.parsed;
        if (parsed.error !== undefined) ef.push({ enrichment: 'url_parser', field: 'page_referrer', value: v(refrUrl), expectation: 'a parseable URL: ' + parsed.error });
        else if (parsed.url !== undefined) {
          s.refr = info;
          if (info.clean) s.cleanRefr = refrUrl;
          setUrlColumns(r, REFR_URL_COLUMNS, parsed.url);
        }
      }
    };
  },
};
