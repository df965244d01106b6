/**
 * Snowplow Enrich's semantics where users' SQL depends on them, through the shipped UDF bundle (built-ins only):
 * event vendor/name/format/version, event id generation, URL handling, derived_tstamp, event_fingerprint,
 * network_userid, page_url/page_referrer and the refr_/mkt_ columns. Each rule cites the snowplow/enrich source it
 * follows (paths under modules/common/src/main/scala/com.snowplowanalytics.snowplow.enrich/common/); the table in
 * pipeline/README.md lists them with the differences and why.
 */
import { createHash } from 'node:crypto';
import { call, loadInNode, UdfApi } from '../pipeline/helpers/engines';
import { udfBundleSource } from '../pipeline/helpers/udf-bundle';

const NOW = Date.UTC(2024, 4, 1, 12, 5, 0);
const COLLECTOR = '2024-05-01T12:00:10.000Z';
const EID = '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let udf: UdfApi;
beforeAll(async () => {
  udf = loadInNode((await udfBundleSource('udf')).code, NOW);
});

function message(params: Record<string, string>, data: Record<string, unknown> = {}): string {
  return JSON.stringify({
    schema: 'iglu:io.waymark/collector_payload/jsonschema/1-0-1',
    data: { timestamp: COLLECTOR, collector: 'waymark-collector-0.1.0', path: '/com.snowplowanalytics.snowplow/tp2', parameters: params, ...data },
  });
}
const base = { e: 'pv', eid: EID, tv: 'js-4.6.8', p: 'web' };

function row(params: Record<string, string>, data: Record<string, unknown> = {}): Record<string, any> {
  const out = call(udf.process, message(params, data));
  if (!('returned' in out) || out.returned === null) throw new Error('expected a good row, got ' + JSON.stringify(out));
  return JSON.parse(out.returned) as Record<string, any>;
}
function badRow(params: Record<string, string>): { type: string; failure: { messages: Array<Record<string, unknown>> } } {
  const out = call(udf.process, message(params));
  if (!('thrown' in out)) throw new Error('expected a bad row, got ' + JSON.stringify(out));
  return JSON.parse(out.thrown.replace(/^Error: /, '')).data;
}

describe('event vendor, name, format and version (enrichments/SchemaEnrichment.scala, extractSchema)', () => {
  it.each([
    ['pv', {}, 'com.snowplowanalytics.snowplow', 'page_view'],
    ['pp', {}, 'com.snowplowanalytics.snowplow', 'page_ping'],
    ['se', { se_ca: 'c', se_ac: 'a' }, 'com.google.analytics', 'event'],
    ['tr', { tr_id: 'o', tr_tt: '1' }, 'com.snowplowanalytics.snowplow', 'transaction'],
    ['ti', { ti_id: 'o', ti_sk: 's', ti_pr: '1', ti_qu: '1' }, 'com.snowplowanalytics.snowplow', 'transaction_item'],
  ])('e=%s (%j) is %s/%s/jsonschema/1-0-0', (e, extra, vendor, name) => {
    expect(row({ ...base, e, ...extra })).toMatchObject({ event_vendor: vendor, event_name: name, event_format: 'jsonschema', event_version: '1-0-0' });
  });

  it('a self-describing event is its schema\'s', () => {
    const ue = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema: 'iglu:com.snowplowanalytics.mobile/screen_view/jsonschema/1-0-0', data: { name: 'Home', id: EID } } });
    expect(row({ ...base, e: 'ue', ue_pr: ue })).toMatchObject({ event_vendor: 'com.snowplowanalytics.mobile', event_name: 'screen_view', event_format: 'jsonschema', event_version: '1-0-0' });
  });
});

describe('event_id (EnrichmentManager.setupEnrichedEvent, Transform "eid" with ConversionUtils.validateUuid)', () => {
  it('is the tracker\'s eid, lowercased; an eid that is not a UUID is a bad row', () => {
    expect(row({ ...base, eid: EID.toUpperCase() }).event_id).toBe(EID);
    expect(badRow({ ...base, eid: 'not-a-uuid' })).toMatchObject({ type: 'tracker_protocol_violations', failure: { messages: [expect.objectContaining({ field: 'eid' })] } });
  });

  it('is generated when the event has no eid: a UUID, the same for the same raw event (replays), another for another event', () => {
    const { eid: _eid, ...noEid } = base;
    const first = row(noEid).event_id;
    expect(first).toMatch(UUID);
    expect(first.charAt(14)).toBe('3');
    expect(row(noEid).event_id).toBe(first);
    expect(row({ ...noEid, url: 'https://shop.example.com/other' }).event_id).not.toBe(first);
    expect(row(noEid, { timestamp: '2024-05-01T12:00:11.000Z' }).event_id).not.toBe(first);
  });
});

describe('page_url and its parts (web/PageEnrichments.extractPageUri, utils/ConversionUtils.stringToUri and explodeUri)', () => {
  it('keeps a string that is not a URL as Enrich does: spaces as %20, a relative URI with its path and port 80', () => {
    const r = row({ ...base, url: 'not a url' });
    expect(r).toMatchObject({ page_url: 'not%20a%20url', page_urlpath: 'not%20a%20url', page_urlport: 80 });
    expect(r.page_urlscheme).toBeUndefined();
    expect(r.page_urlhost).toBeUndefined();
    expect(row({ ...base, url: '/p/mug?utm_source=news#top' })).toMatchObject({ page_urlpath: '/p/mug', page_urlquery: 'utm_source=news', page_urlfragment: 'top', mkt_source: 'news' });
    expect(row({ ...base, url: 'https://shop.example.com/a b?q=c d' })).toMatchObject({ page_url: 'https://shop.example.com/a%20b?q=c%20d', page_urlpath: '/a%20b', page_urlquery: 'q=c%20d', page_urlport: 443 });
  });

  it('fails a URL that cannot be parsed into an enrichment failure', () => {
    expect(badRow({ ...base, url: 'http://[::1/x' })).toMatchObject({ type: 'enrichment_failures', failure: { messages: [expect.objectContaining({ enrichment: 'url_parser', field: 'page_url' })] } });
  });

  it('takes the tracker\'s url over the request\'s Referer header, and the header when there is no url', () => {
    expect(row({ ...base, url: 'https://a.example.com/' }, { refererUri: 'https://b.example.com/' }).page_url).toBe('https://a.example.com/');
    expect(row(base, { refererUri: 'https://b.example.com/x' })).toMatchObject({ page_url: 'https://b.example.com/x', page_urlhost: 'b.example.com' });
  });
});

describe('derived_tstamp (enrichments/EventEnrichments.getDerivedTimestamp)', () => {
  const ms = (iso: string): string => String(Date.parse(iso));
  it('is the true timestamp when the tracker sent one', () => {
    expect(row({ ...base, ttm: ms('2024-05-01T11:00:00.000Z'), dtm: ms('2024-05-01T12:00:00.000Z'), stm: ms('2024-05-01T12:00:05.000Z') }).derived_tstamp).toBe('2024-05-01T11:00:00.000Z');
  });
  it('is the collector time less the device\'s sending delay when the event was created before it was sent', () => {
    expect(row({ ...base, dtm: ms('2024-05-01T12:00:00.000Z'), stm: ms('2024-05-01T12:00:04.000Z') }).derived_tstamp).toBe('2024-05-01T12:00:06.000Z');
  });
  it('is the collector time when the device clock says the event was sent before (or when) it was created, or a time is missing', () => {
    expect(row({ ...base, dtm: ms('2024-05-01T12:00:04.000Z'), stm: ms('2024-05-01T12:00:00.000Z') }).derived_tstamp).toBe(COLLECTOR);
    expect(row({ ...base, dtm: ms('2024-05-01T12:00:04.000Z'), stm: ms('2024-05-01T12:00:04.000Z') }).derived_tstamp).toBe(COLLECTOR);
    expect(row({ ...base, dtm: ms('2024-05-01T12:00:04.000Z') }).derived_tstamp).toBe(COLLECTOR);
  });
});

describe('event_fingerprint (enrichments/registry/EventFingerprintEnrichment.scala, getEventFingerprint; default MD5 without cv, eid, nuid, stm)', () => {
  it('is the MD5 of the sorted names and values, each followed by U+001F', () => {
    const params = { ...base, url: 'https://shop.example.com/☕', stm: '1714564800000', nuid: 'n', cv: 'c', aid: 'shop' };
    const text = ['aid', 'e', 'p', 'tv', 'url'].map((k) => `${k}\u001f${(params as Record<string, string>)[k]}\u001f`).join('');
    expect(row(params).event_fingerprint).toBe(createHash('md5').update(text, 'utf8').digest('hex'));
  });
});

describe('network_userid (EnrichmentManager.setupEnrichedEvent, Transform "nuid" and "tnuid")', () => {
  const cookie = { networkUserId: 'c6ef3124-b53a-4b13-a233-0088f79dcbcb' };
  it('is the collector cookie, overridden by nuid, overridden by tnuid', () => {
    expect(row(base, cookie).network_userid).toBe(cookie.networkUserId);
    expect(row({ ...base, nuid: 'from-nuid' }, cookie).network_userid).toBe('from-nuid');
    expect(row({ ...base, nuid: 'from-nuid', tnuid: 'from-tnuid' }, cookie).network_userid).toBe('from-tnuid');
  });
});

describe('refr_* and mkt_* (EnrichmentManager.getRefererUri and setCampaign)', () => {
  it('classifies the refr parameter against the page host, and attributes the campaign from the page URL only', () => {
    const r = row({ ...base, url: 'https://shop.example.com/?utm_source=news&utm_medium=email&utm_campaign=spring', refr: 'https://www.google.com/search?q=mugs&utm_source=ignored' });
    expect(r).toMatchObject({ refr_medium: 'search', refr_source: 'Google', refr_term: 'mugs', mkt_source: 'news', mkt_medium: 'email', mkt_campaign: 'spring' });
    expect(row({ ...base, url: 'https://shop.example.com/b', refr: 'https://shop.example.com/a' }).refr_medium).toBe('internal');
    const unknown = row({ ...base, url: 'https://shop.example.com/', refr: 'https://blog.example.org/post' });
    expect(unknown.refr_medium).toBe('unknown');
    expect(unknown.refr_source).toBeUndefined();
    // The Referer header is no page_referrer: only the tracker's refr is.
    expect(row({ ...base, url: 'https://shop.example.com/' }, { refererUri: 'https://www.google.com/' }).page_referrer).toBeUndefined();
  });
});
