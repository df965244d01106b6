/**
 * Enricher behaviour beyond the corpus: configuration, precedence rules, fingerprints, guards and the API.
 */
import { createHash } from 'node:crypto';
import { createEnricher } from '../../pipeline/enrich';
import { prng } from '../../pipeline/local/sample-events';
import { encodeBase64UrlUtf8 } from '../../pipeline/text';
import { parseUserAgent } from '../../pipeline/useragent';
import { CORPUS_NOW, loadCorpus } from './helpers/corpus';
import { builtInRegistry, testEnricher } from './helpers/enricher';

const NOW = CORPUS_NOW;
const EID = '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a';
const base = { e: 'pv', eid: EID, tv: 'js-4.1.0', p: 'web' };

function payload(params: Record<string, string>, data: Record<string, unknown> = {}): string {
  return JSON.stringify({
    schema: 'iglu:io.waymark/collector_payload/jsonschema/1-0-0',
    data: { timestamp: '2024-05-01T12:00:00.000Z', collector: 'waymark-collector-0.1.0', path: '/i', parameters: params, ...data },
  });
}

function row(input: string, enricher = testEnricher(NOW)): Record<string, unknown> {
  const r = enricher.enrich(input);
  if (!r.row) throw new Error('expected a good row, got ' + JSON.stringify(r.badRow));
  return r.row;
}

function bad(input: string, enricher = testEnricher(NOW)): { type: string; failure: { timestamp: string; messages: Array<Record<string, unknown>> }; payload: unknown } {
  const r = enricher.enrich(input);
  if (!r.badRow) throw new Error('expected a bad row, got ' + JSON.stringify(r.row));
  return r.badRow.data as never;
}

describe('enricher', () => {
  it('enrichToJson writes exactly JSON.stringify of the row, for the whole corpus', () => {
    const enricher = testEnricher(NOW);
    for (const c of loadCorpus()) {
      const asRow = enricher.enrich(c.message);
      const asJson = enricher.enrichToJson(c.message);
      if (asRow.row) expect(asJson.json).toBe(JSON.stringify(asRow.row));
      else expect(asJson.badRow).toEqual(asRow.badRow);
    }
  });

  it('escapes what JSON needs escaped when writing rows directly', () => {
    const title = 'quote " backslash \\ newline \n tab \t nul \u0000 line-sep \u2028 emoji 😀';
    const enricher = testEnricher(NOW);
    const json = enricher.enrichToJson(payload({ ...base, page: title })).json as string;
    expect(JSON.parse(json).page_title).toBe(title);
    expect(json).toBe(JSON.stringify(row(payload({ ...base, page: title }), enricher)));
  });

  describe('precedence', () => {
    it('ip and ua parameters override the request; tnuid overrides nuid overrides the cookie', () => {
      const r = row(payload({ ...base, ip: '192.0.2.1', ua: 'curl/8.0', tnuid: 'tracker-set', nuid: 'param' }, { ipAddress: '203.0.113.9', userAgent: 'Mozilla/5.0 Firefox/1', networkUserId: 'cookie' }));
      expect([r.user_ipaddress, r.useragent, r.br_family, r.network_userid]).toEqual(['192.0.2.x', 'curl/8.0', 'curl', 'tracker-set']);
      expect(row(payload({ ...base, nuid: 'param' }, { networkUserId: 'cookie' })).network_userid).toBe('param');
      expect(row(payload(base, { networkUserId: 'cookie' })).network_userid).toBe('cookie');
    });

    it('page_url falls back to the Referer header (pixel requests without url)', () => {
      const r = row(payload(base, { refererUri: 'https://mail.example.com/inbox' }));
      expect([r.page_url, r.page_urlhost]).toEqual(['https://mail.example.com/inbox', 'mail.example.com']);
      expect(row(payload({ ...base, url: 'https://a.example/' }, { refererUri: 'https://b.example/' })).page_url).toBe('https://a.example/');
    });

    it('derived_tstamp: true timestamp, else the collector time corrected by the device clock skew, else the collector time', () => {
      expect(row(payload({ ...base, ttm: '1714564000000', dtm: '1714564700000', stm: '1714564701000' })).derived_tstamp).toBe('2024-05-01T11:46:40.000Z');
      expect(row(payload({ ...base, dtm: '1714564700000', stm: '1714564701000' })).derived_tstamp).toBe('2024-05-01T11:59:59.000Z');
      expect(row(payload({ ...base, dtm: '1714564700000' })).derived_tstamp).toBe('2024-05-01T12:00:00.000Z');
    });

    it('ti_nm wins over the legacy ti_na; plain ue_pr wins over ue_px', () => {
      const item = { e: 'ti', eid: EID, tv: 't', ti_id: 'o', ti_sk: 's', ti_pr: '1', ti_qu: '1' };
      expect(row(payload({ ...item, ti_na: 'legacy' })).ti_name).toBe('legacy');
      expect(row(payload({ ...item, ti_na: 'legacy', ti_nm: 'new' })).ti_name).toBe('new');
      const ue = (id: string) => JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema: 'iglu:io.waymark.example/button_click/jsonschema/1-0-0', data: { buttonId: id } } });
      expect(row(payload({ ...base, e: 'ue', ue_pr: ue('plain'), ue_px: encodeBase64UrlUtf8(ue('encoded')) })).unstruct_event_io_waymark_example_button_click_1).toEqual({ button_id: 'plain' });
    });

    it('treats empty parameters as absent', () => {
      const r = row(payload({ ...base, aid: '', uid: '', vid: '' }));
      expect(['app_id', 'user_id', 'domain_sessionidx'].filter((c) => c in r)).toEqual([]);
    });

    it('lowercases the event id', () => {
      expect(row(payload({ ...base, eid: EID.toUpperCase() })).event_id).toBe(EID);
    });
  });

  it('enrichToJson escapes exactly as JSON.stringify, wherever a character to escape hides in the input', () => {
    const specials = ['"', '\\', '\n', '\u0001', '\u2028', '\ud800', 'x\udc00', '😀', 'é'];
    const encoded = ['%22', '%5C', '%0A', '%01', '%E2%80%A8', '%F0%9F%98%80'];
    const rich: Record<string, string> = {
      ...base, aid: 'shop', tna: 'sp', uid: 'u1', fp: '123', duid: 'd', sid: 's', cd: '24', cs: 'UTF-8', lang: 'en', tz: 'Europe/Berlin',
      url: 'https://shop.example.com/p/mug?utm_source=news&utm_term=mug&gclid=abc&_sp=abc.1714564800000#top', page: 'Mug',
      refr: 'https://www.google.com/search?q=blue+mug', ua: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0.0.0 Safari/537.36', tnuid: 'n',
    };
    const variants: Array<{ params: Record<string, string>; data?: Record<string, unknown> }> = [];
    for (const sp of specials) {
      for (const name of Object.keys(rich)) if (!['e', 'eid', 'p', 'tv'].includes(name)) variants.push({ params: { ...rich, [name]: rich[name] + sp } });
      variants.push({ params: { ...rich, url: 'https://shop.example.com/p/' + sp + '?q=' + sp + '#' + sp } });
      variants.push({ params: { ...rich, refr: 'https://www.bing.com/' + sp + '?q=' + sp } });
      variants.push({ params: { ...rich, ua: 'Mozilla/5.0 (' + sp + ') Gecko Firefox/1' + sp } });
      variants.push({ params: { ...rich, e: 'se', se_ca: sp, se_ac: 'a' + sp, se_la: sp, se_pr: sp } });
      variants.push({ params: { ...rich, e: 'tr', tr_id: sp, tr_tt: '1', tr_af: sp, tr_ci: sp, tr_cu: sp } });
      for (const field of ['userAgent', 'ipAddress', 'refererUri', 'networkUserId', 'collector']) variants.push({ params: base, data: { [field]: field + sp } });
      variants.push({ params: { ...base, ip: '1.2.3.4' + sp } });
    }
    for (const enc of encoded) {
      variants.push({ params: { ...rich, url: 'https://shop.example.com/?utm_source=' + enc + '&utm_medium=' + enc + '&utm_campaign=' + enc + '&utm_term=' + enc + '&utm_content=' + enc + '&gclid=' + enc + '&_sp=' + enc + '.1' } });
      variants.push({ params: { ...rich, refr: 'https://www.google.com/search?q=' + enc } });
    }
    const enricher = testEnricher(NOW);
    const raw = testEnricher(NOW, { enrichments: { ipAnonymisation: false }, refererSources: [{ medium: 'search', source: 'Say "hi" \\ \u2028', domains: ['www.google.com'], params: ['q'] }], campaign: { clickIds: { gclid: 'G "1"' } } });
    let good = 0;
    for (const e of [enricher, raw]) {
      for (const variant of variants) {
        const input = payload(variant.params, variant.data);
        const result = e.enrich(input);
        if (!result.row) continue;
        good++;
        const json = e.enrichToJson(input).json as string;
        expect(json).toBe(JSON.stringify(result.row));
        expect(JSON.parse(json)).toEqual(result.row);
      }
    }
    expect(good).toBeGreaterThan(variants.length);
  });

  it('classifies a referrer against each event\'s own page, whatever was classified (and cached) before', () => {
    const e = testEnricher(NOW);
    const refr = 'https://shop.example.com/c/kitchen?q=mug';
    const medium = (url: string): unknown => row(payload({ ...base, url, refr }), e).refr_medium;
    for (let i = 0; i < 3; i++) {
      expect(medium('https://shop.example.com/p/1')).toBe('internal');
      expect(medium('https://blog.example.org/post')).toBe('unknown');
      expect(row(payload({ ...base, url: 'https://blog.example.org/post', refr: 'https://www.google.com/search?q=mug' }), e)).toMatchObject({ refr_medium: 'search', refr_source: 'Google', refr_term: 'mug' });
      expect(row(payload({ ...base, url: 'https://www.google.com/x', refr: 'https://www.google.com/search?q=mug' }), e).refr_medium).toBe('internal');
    }
  });

  it('parses user agents the same way the first time and from the cache, Object.prototype names included', () => {
    const e = testEnricher(NOW);
    const uas = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '__parent__', 'Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0.0.0 Safari/537.36', 'curl/8.5.0'];
    for (let round = 0; round < 3; round++) {
      for (const ua of uas) {
        const r = row(payload({ ...base }, { userAgent: ua }), e);
        const info = parseUserAgent(ua);
        expect([ua, r.useragent, r.br_family, r.br_type, r.os_family]).toEqual([ua, ua, info.br_family ?? undefined, info.br_type ?? undefined, info.os_family ?? undefined]);
      }
    }
  });

  it('parses each page URL the same way the first time and from the cache', () => {
    const e = testEnricher(NOW);
    const url = 'https://Shop.Example.com:8443/p/mug?utm_source=news&utm_medium=email&gclid=abc&_sp=d-u-i-d.1714564800000#top';
    const first = row(payload({ ...base, url }), e);
    const again = row(payload({ ...base, eid: '7a2e3b5f-9d4c-4f60-8b8e-1c2d3e4f5a6b', url }), e);
    for (const c of ['page_urlhost', 'page_urlport', 'page_urlpath', 'page_urlquery', 'page_urlfragment', 'mkt_source', 'mkt_medium', 'mkt_clickid', 'mkt_network', 'refr_domain_userid', 'refr_dvce_tstamp']) {
      expect([c, again[c]]).toEqual([c, first[c]]);
    }
    expect(first).toMatchObject({ page_urlhost: 'shop.example.com', page_urlport: 8443, mkt_source: 'news', mkt_clickid: 'abc', refr_domain_userid: 'd-u-i-d' });
  });

  it('reads screen, viewport and document sizes exactly when they are WxH with 1 to 6 digits each', () => {
    const e = testEnricher(NOW);
    for (const res of ['1920x1080', '0x0', '123456x654321', '1234567x1', '1x1234567', 'x100', '100x', '1x2x3', '-1x2', '1 x2', '1920X1080', '١٩٢٠x1080', '12.5x3', '']) {
      const input = payload({ ...base, res, vp: res, ds: res });
      const m = /^([0-9]{1,6})x([0-9]{1,6})$/.exec(res);
      if (res === '') expect(row(input, e).dvce_screenwidth).toBeUndefined();
      else if (m) expect(row(input, e)).toMatchObject({ dvce_screenwidth: +m[1], dvce_screenheight: +m[2], br_viewwidth: +m[1], br_viewheight: +m[2], doc_width: +m[1], doc_height: +m[2] });
      else expect(bad(input, e).failure.messages.map((msg) => msg.field)).toEqual(['res', 'vp', 'ds']);
    }
  });

  it('checks event ids, integers and scroll offsets exactly as their regular expressions', () => {
    const e = testEnricher(NOW);
    const rand = prng(21);
    const alphabet = '0123456789abcdefABCDEFg-.x ';
    const samples = ['6F1D2A4E-8C3B-4E5F-9A7D-0B1C2D3E4F5A', '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5', '6f1d2a4e8c3b-4e5f-9a7d-0b1c2d3e4f5a-', '-1', '-', '1.', '.5', '1.2.3', '-0.25', '9007199254740991', '9007199254740992', '12345678901234567'];
    for (let t = 0; t < 1500; t++) {
      let str = '';
      for (let i = t % 3 === 0 ? 36 : Math.floor(rand() * 20); i > 0; i--) str += alphabet.charAt(Math.floor(rand() * alphabet.length));
      if (t % 3 === 0 && rand() < 0.7) str = str.substring(0, 8) + '-' + str.substring(9, 13) + '-' + str.substring(14, 18) + '-' + str.substring(19, 23) + '-' + str.substring(24);
      samples.push(str);
    }
    for (const s of samples) {
      if (s === '') continue;
      const uuid = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s);
      const eidResult = e.enrich(payload({ ...base, eid: s }));
      expect([s, eidResult.row ? eidResult.row.event_id : 'bad']).toEqual([s, uuid ? s.toLowerCase() : 'bad']);
      const integer = /^-?[0-9]{1,16}$/.test(s) && Math.abs(+s) <= Number.MAX_SAFE_INTEGER;
      const vidResult = e.enrich(payload({ ...base, vid: s }));
      expect([s, vidResult.row ? vidResult.row.domain_sessionidx : 'bad']).toEqual([s, integer ? +s : 'bad']);
      const decimal = /^-?[0-9]{1,16}(\.[0-9]+)?$/.test(s);
      const ppResult = e.enrich(payload({ ...base, e: 'pp', pp_may: s }));
      expect([s, ppResult.row ? ppResult.row.pp_yoffset_max : 'bad']).toEqual([s, decimal ? Math.round(+s) : 'bad']);
    }
  });

  describe('event fingerprint', () => {
    const params = { ...base, url: 'https://shop.example.com/', page: 'Tasse ☕ 😀', stm: '1', nuid: 'n', cv: 'c', dtm: '1714564800000' };
    const sortedNames = ['dtm', 'e', 'p', 'page', 'tv', 'url'];
    // Snowplow Enrich's text (modules/common/.../registry/EventFingerprintEnrichment.scala, getEventFingerprint):
    // each name, then its value, each followed by U+001F.
    const text = sortedNames.map((k) => k + '\u001f' + (params as Record<string, string>)[k] + '\u001f').join('');

    it('is by default the MD5 of the sorted parameter names and values (UTF-8), eid, stm, nuid and cv left out', () => {
      expect(row(payload(params)).event_fingerprint).toBe(createHash('md5').update(text, 'utf8').digest('hex'));
    });

    it('is the SHA-256 of the same text with fingerprint.algorithm sha256', () => {
      const e = testEnricher(NOW, { fingerprint: { algorithm: 'sha256' } });
      expect(row(payload(params), e).event_fingerprint).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
    });

    it('does not depend on the order the parameters arrive in', () => {
      const reversed = Object.fromEntries(Object.entries(params).reverse());
      expect(row(payload(reversed)).event_fingerprint).toBe(row(payload(params)).event_fingerprint);
    });

    it('is right for many events whose parameters come in varying sets and orders (the sorted-order memo)', () => {
      const e = testEnricher(NOW);
      const rand = prng(9);
      const optional = ['aid', 'url', 'page', 'refr', 'lang', 'tz', 'cd', 'cs', 'duid', 'sid', 'vid', 'stm', 'dtm', 'nuid', 'res', 'vp'];
      for (let t = 0; t < 120; t++) {
        const entries: Array<[string, string]> = Object.entries(base);
        // Every third event has the same names in the same order (memo hits with new values); the others vary.
        for (const name of optional) if (t % 3 === 0 || rand() < 0.5) entries.push([name, name === 'vid' ? '3' : name === 'stm' || name === 'dtm' ? '1714564800000' : name === 'res' || name === 'vp' ? '800x600' : name + '-' + t]);
        if (t % 3 !== 0) for (let i = entries.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [entries[i], entries[j]] = [entries[j], entries[i]]; }
        const params = Object.fromEntries(entries);
        const sorted = Object.keys(params).filter((k) => !['eid', 'stm', 'nuid', 'cv'].includes(k)).sort();
        // Snowplow Enrich's text (EventFingerprintEnrichment.scala): each name, then its value, each followed by U+001F.
        const text = sorted.map((k) => k + '\u001f' + params[k] + '\u001f').join('');
        expect(row(payload(params), e).event_fingerprint).toBe(createHash('md5').update(text, 'utf8').digest('hex'));
      }
    });

    it('is equal for a resent event (new eid, new send time) and differs when the content differs', () => {
      const a = row(payload({ ...base, stm: '1', dtm: '5' })).event_fingerprint;
      expect(row(payload({ ...base, eid: '7a2e3b5f-9d4c-4f60-8b8e-1c2d3e4f5a6b', stm: '2', dtm: '5' })).event_fingerprint).toBe(a);
      expect(row(payload({ ...base, stm: '1', dtm: '6' })).event_fingerprint).not.toBe(a);
      // The separators keep name/value boundaries apart: moving a character across one changes the fingerprint.
      expect(row(payload({ ...base, se_ca: 'ab', se_ac: 'c', e: 'se' })).event_fingerprint).not.toBe(row(payload({ ...base, se_ca: 'a', se_ac: 'bc', e: 'se' })).event_fingerprint);
    });

    it('honours the configured exclusions', () => {
      const e = testEnricher(NOW, { fingerprintExcludeParams: ['eid', 'dtm'] });
      expect(row(payload({ ...base, dtm: '1' }), e).event_fingerprint).toBe(row(payload({ ...base, dtm: '2' }), e).event_fingerprint);
    });
  });

  describe('configuration', () => {
    it('pseudonymises atomic fields and JSON properties with the salted SHA-256', () => {
      const e = testEnricher(NOW, {
        pii: {
          fields: ['user_id', 'user_ipaddress'],
          jsonFields: [{ schemaCriterion: 'iglu:io.waymark.example/product/jsonschema/1-*-*', path: 'name' }, { schemaCriterion: 'iglu:io.waymark.example/button_click/jsonschema/1-0-*', path: 'label', in: 'unstruct_event' }],
          salt: 'pepper-pepper',
        },
      });
      const sha = (s: string) => createHash('sha256').update('pepper-pepper' + s).digest('hex');
      const ue = encodeBase64UrlUtf8(JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema: 'iglu:io.waymark.example/button_click/jsonschema/1-0-1', data: { buttonId: 'b', label: 'Jane Doe' } } }));
      const cx = encodeBase64UrlUtf8(JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', data: [{ schema: 'iglu:io.waymark.example/product/jsonschema/1-0-0', data: { sku: 'ABC', name: 'Secret name', price: 1, currency: 'EUR' } }] }));
      const r = row(payload({ ...base, e: 'ue', uid: 'jane@example.com', ue_px: ue, cx }, { ipAddress: '203.0.113.9' }), e);
      expect(r.user_id).toBe(sha('jane@example.com'));
      expect(r.user_ipaddress).toBe(sha('203.0.113.x')); // anonymised first, then pseudonymised
      expect(r.unstruct_event_io_waymark_example_button_click_1).toEqual({ button_id: 'b', label: sha('Jane Doe') });
      expect(r.contexts_io_waymark_example_product_1).toEqual([{ sku: 'ABC', name: sha('Secret name'), price: 1, currency: 'EUR' }]);
    });

    it('turns enrichments off one by one', () => {
      const input = payload({ ...base, url: 'https://shop.example.com/?utm_source=x&_sp=abc.1714564800000', refr: 'https://www.google.com/' }, { ipAddress: '203.0.113.9', userAgent: 'curl/8.0' });
      const off = row(input, testEnricher(NOW, { enrichments: { campaignAttribution: false, refererParser: false, userAgentParser: false, ipAnonymisation: false, eventFingerprint: false, crossDomainLinker: false } }));
      for (const c of ['mkt_source', 'refr_medium', 'br_family', 'event_fingerprint', 'refr_domain_userid']) expect(off[c]).toBeUndefined();
      expect(off.user_ipaddress).toBe('203.0.113.9');
      expect(off.page_urlhost).toBe('shop.example.com'); // URL parsing always runs
      const on = row(input);
      expect([on.mkt_source, on.refr_medium, on.br_family, on.refr_domain_userid, on.user_ipaddress]).toEqual(['x', 'search', 'curl', 'abc', '203.0.113.x']);
    });

    it('anonymises as configured; without anonymisation an unparseable IP is kept, with it dropped', () => {
      expect(row(payload(base, { ipAddress: '2001:db8::1' }), testEnricher(NOW, { ipAnonymisation: { ipv6Segments: 6 } })).user_ipaddress).toBe('2001:db8:x:x:x:x:x:x');
      expect(row(payload(base, { ipAddress: 'unknown' }), testEnricher(NOW, { enrichments: { ipAnonymisation: false } })).user_ipaddress).toBe('unknown');
      expect(row(payload(base, { ipAddress: 'unknown' })).user_ipaddress).toBeUndefined();
    });

    it('internal domains and custom referer sources', () => {
      const e = testEnricher(NOW, { internalDomains: ['example.com'], refererSources: [{ medium: 'search', source: 'Intranet', domains: ['search.corp.example'], params: ['query'] }] });
      expect(row(payload({ ...base, url: 'https://shop.example.com/', refr: 'https://blog.example.com/' }), e).refr_medium).toBe('internal');
      expect(row(payload({ ...base, url: 'https://shop.example.com/', refr: 'https://search.corp.example/?query=vpn' }), e)).toMatchObject({ refr_medium: 'search', refr_source: 'Intranet', refr_term: 'vpn' });
    });

    it('loadTstamp omit leaves load_tstamp to the warehouse', () => {
      expect(row(payload(base)).load_tstamp).toBe('2024-05-01T12:05:00.000Z');
      expect(row(payload(base), testEnricher(NOW, { loadTstamp: 'omit' })).load_tstamp).toBeUndefined();
    });

    it('refuses an invalid configuration when the enricher is created', () => {
      expect(() => createEnricher({ validators: {}, config: { limits: { maxParams: 1 } } })).toThrow('enrichment config: limits.maxParams must be an integer from 10 to 100000, got 1');
    });
  });

  describe('collector_payload 1-0-1: a GET\'s parameters in the raw query string', () => {
    const getPayload = (data: Record<string, unknown>): string =>
      JSON.stringify({ schema: 'iglu:io.waymark/collector_payload/jsonschema/1-0-1', data: { timestamp: '2024-05-01T12:00:00.000Z', collector: 'waymark-collector-0.1.0', method: 'GET', path: '/i', ...data } });

    it('gives the same row as the parameters object would', () => {
      const params = { ...base, url: 'https://www.acme.com/a b?x=1&y=2', page: 'Caf\u00e9 \u2013 Acme', aid: 'shop' };
      const query = Object.entries(params).map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%20/g, '+')}`).join('&');
      expect(row(getPayload({ querystring: query }))).toEqual(row(payload(params)));
    });

    it('a payload with neither parameters nor a query string of parameters is a format violation', () => {
      expect(bad(getPayload({})).failure.messages).toEqual([{ field: 'data.parameters', value: null, expectation: 'an object of tp2 parameters (or, for a GET, a query string carrying them)' }]);
      expect(bad(getPayload({ querystring: '&=x&' })).failure.messages).toEqual([{ field: 'data.querystring', value: '&=x&', expectation: 'a query string carrying tp2 parameters' }]);
      // A POST's query string is not its event: its parameters must be in `parameters`.
      expect(bad(getPayload({ method: 'POST', querystring: 'e=pv&eid=' + EID })).type).toBe('collector_payload_format_violation');
    });
  });

  describe('guards', () => {
    it('a message over the size limit is a size_violation keeping a truncated payload', () => {
      const e = testEnricher(NOW, { limits: { maxPayloadChars: 5000 } });
      const b = bad(payload({ ...base, page: 'x'.repeat(6000) }), e);
      expect(b.type).toBe('size_violation');
      expect(b.failure.messages[0]).toMatchObject({ field: '$', expectation: 'a message of at most 5000 characters' });
      const big = bad('x'.repeat(2000000));
      expect(big.type).toBe('size_violation');
      expect(big.payload).toEqual({ raw: 'x'.repeat(100000), rawChars: 2000000, truncated: true });
    });

    it('an over-long ordinary parameter is a tracker protocol violation; ue_px and cx may be large', () => {
      const b = bad(payload({ ...base, page: 'x'.repeat(40000) }));
      expect(b.type).toBe('tracker_protocol_violations');
      expect(b.failure.messages[0]).toMatchObject({ field: 'page', expectation: 'at most 32768 characters, got 40000' });
      const ue = encodeBase64UrlUtf8(JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema: 'iglu:io.waymark.example/button_click/jsonschema/1-0-0', data: { buttonId: 'b'.repeat(128) } } }) + ' '.repeat(50000));
      expect(row(payload({ ...base, e: 'ue', ue_px: ue })).event_name).toBe('button_click');
    });

    it('deeply nested JSON is refused before parsing, in the message and in ue_pr', () => {
      const deepMessage = bad('{"a":' + '['.repeat(50000) + ']'.repeat(50000) + '}');
      expect(deepMessage.type).toBe('collector_payload_format_violation');
      expect(deepMessage.failure.messages[0].expectation).toBe('a JSON object (JSON nested deeper than 40 levels)');
      const b = bad(payload({ ...base, e: 'ue', ue_pr: '['.repeat(1000) + ']'.repeat(1000) }));
      expect(b.type).toBe('schema_violations');
      expect(b.failure.messages[0]).toMatchObject({ field: 'ue_pr', path: '$', keyword: 'json', message: expect.stringMatching(/^JSON nested deeper than 40 levels/) });
    });

    it('too many entities are a schema violation', () => {
      const entity = { schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: EID } };
      const co = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', data: Array.from({ length: 101 }, () => entity) });
      expect(bad(payload({ ...base, co })).failure.messages).toEqual([expect.objectContaining({ field: 'co', keyword: 'maxItems', message: 'at most 100 entities are accepted, got 101' })]);
    });

    it('a validator that throws gives a generic_error bad row with the payload, not an exception', () => {
      const { validators } = builtInRegistry();
      const e = createEnricher({
        validators: { ...validators, 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0': () => { throw new TypeError('boom'); } },
        clock: () => NOW,
      });
      const co = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', data: [{ schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: EID } }] });
      const input = payload({ ...base, co });
      const b = bad(input, e);
      expect(b).toMatchObject({ type: 'generic_error', failure: { timestamp: '2024-05-01T12:05:00.000Z', messages: [{ message: 'TypeError: boom' }] }, payload: JSON.parse(input) });
    });

    it('parameters that are numbers or booleans are read as strings; objects are refused', () => {
      expect(row(JSON.stringify({ ...base, vid: 3, cookie: true })).domain_sessionidx).toBe(3);
      expect(bad(JSON.stringify({ ...base, page: { a: 1 } })).failure.messages[0]).toEqual({ field: '$.page', value: '{"a":1}', expectation: 'a string value (tp2 parameters are strings)' });
    });

    it('the bad row carries the clock time and the processor', () => {
      const r = testEnricher(Date.UTC(2030, 0, 2, 3, 4, 5, 6)).enrich('[]');
      expect(r.badRow).toEqual({
        schema: 'iglu:io.waymark/bad_row/jsonschema/1-0-0',
        data: {
          type: 'collector_payload_format_violation',
          processor: { artifact: 'waymark-enrich', version: '0.1.0' },
          failure: { timestamp: '2030-01-02T03:04:05.006Z', messages: [{ field: '$', value: '[]', expectation: 'a JSON object: a collector payload, a load-balancer LogEntry or a tp2 parameter map' }] },
          payload: [],
        },
      });
    });
  });
});
