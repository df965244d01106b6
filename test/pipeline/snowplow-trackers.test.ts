/**
 * Payloads as Snowplow's published trackers send them enrich into good rows. The parameter maps below reproduce what
 * the trackers emit (parameter names, string values, base64url without padding for cx/ue_px, the payload_data
 * envelope of POST batches, the web_page entity the JavaScript tracker attaches, `stm` added at send time), taken
 * from the tracker protocol and the trackers' documented output. They are wrapped the way the Waymark collector
 * wraps requests (one CollectorPayload per event) or the CDN pixel path logs them (a load-balancer LogEntry).
 * TODO(lead): with `@snowplow/node-tracker` as a dev dependency, also capture its real POST bodies in a test.
 */
import { encodeBase64UrlUtf8 } from '../../pipeline/text';
import { splitBatch } from '../../pipeline/local/runner';
import { CORPUS_NOW } from './helpers/corpus';
import { expectOnlyColumns, testEnricher } from './helpers/enricher';

const enricher = testEnricher(CORPUS_NOW);
const b64 = (x: unknown): string => encodeBase64UrlUtf8(JSON.stringify(x));
const contexts = (...data: unknown[]) => ({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', data });
const unstruct = (schema: string, data: unknown) => ({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema, data } });
const webPage = (id: string) => ({ schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id } });

/** Common browser parameters of the JavaScript tracker v3/v4 (browser-tracker / sp.js). */
function jsCommon(eid: string, dtm: number): Record<string, string> {
  return {
    eid, dtm: String(dtm), tv: 'js-3.24.0', tna: 'sp1', aid: 'site', p: 'web', tz: 'Europe/London', lang: 'en-GB', cs: 'UTF-8',
    res: '1920x1080', cd: '24', cookie: '1', vp: '1280x649', ds: '1265x3082', vid: '2',
    sid: '3d3f3c1b-4a6c-4f5e-9a2b-6e0f1c2d3b4a', duid: 'a1b2c3d4-e5f6-4789-8abc-def012345678',
    url: 'https://www.example.com/blog/post?utm_source=newsletter&utm_medium=email', page: 'A blog post',
    refr: 'https://www.google.com/',
  };
}

/** The POST body the JavaScript tracker sends for a batch (all values strings, `stm` set when sending). */
const jsPostBody = JSON.stringify({
  schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4',
  data: [
    { e: 'pv', ...jsCommon('0f6d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f01', 1714564800000), cx: b64(contexts(webPage('9f0a1b2c-3d4e-4f5a-8b6c-7d8e9f0a1b2c'))), stm: '1714564800123' },
    { e: 'pp', ...jsCommon('0f6d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f02', 1714564810000), pp_mix: '0', pp_max: '0', pp_miy: '0', pp_may: '1264', cx: b64(contexts(webPage('9f0a1b2c-3d4e-4f5a-8b6c-7d8e9f0a1b2c'))), stm: '1714564810050' },
    { e: 'se', ...jsCommon('0f6d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f03', 1714564815000), se_ca: 'video', se_ac: 'play', se_la: 'intro', se_pr: 'autoplay', se_va: '0', cx: b64(contexts(webPage('9f0a1b2c-3d4e-4f5a-8b6c-7d8e9f0a1b2c'))), stm: '1714564815010' },
    { e: 'ue', ...jsCommon('0f6d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f04', 1714564816000), ue_px: b64(unstruct('iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1', { targetUrl: 'https://www.example.com/pricing', elementId: 'cta', elementClasses: ['btn', 'btn-primary'], elementTarget: '_self', elementContent: 'See pricing' })), cx: b64(contexts(webPage('9f0a1b2c-3d4e-4f5a-8b6c-7d8e9f0a1b2c'))), stm: '1714564816020' },
  ],
});

/** The same tracker with `encodeBase64: false`: plain `co` and `ue_pr`. */
const jsPlainBody = JSON.stringify({
  schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4',
  data: [{
    e: 'ue', ...jsCommon('0f6d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f05', 1714564817000),
    ue_pr: JSON.stringify(unstruct('iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1', { targetUrl: 'https://www.example.com/docs' })),
    co: JSON.stringify(contexts(webPage('9f0a1b2c-3d4e-4f5a-8b6c-7d8e9f0a1b2c'))),
    stm: '1714564817001',
  }],
});

/** Legacy ecommerce as the JavaScript tracker v2/v3 `addTrans`/`addItem`/`trackTrans` send it (one request each). */
const jsEcommerce = [
  { e: 'tr', ...jsCommon('0f6d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f06', 1714564818000), tr_id: 'order-42', tr_af: 'shop', tr_tt: '59.98', tr_tx: '9.58', tr_sh: '4.99', tr_ci: 'London', tr_st: 'England', tr_co: 'GB', tr_cu: 'GBP', stm: '1714564818005' },
  { e: 'ti', ...jsCommon('0f6d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f07', 1714564818001), ti_id: 'order-42', ti_sk: 'SKU-1', ti_nm: 'Mug', ti_ca: 'kitchen', ti_pr: '29.99', ti_qu: '2', ti_cu: 'GBP', stm: '1714564818005' },
];

/** A GET request of the JavaScript tracker (`eventMethod: 'get'`): every value through encodeURIComponent. */
const jsGetParams: Record<string, string> = { stm: '1714564820002', e: 'pv', ...jsCommon('0f6d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f08', 1714564820000), cx: b64(contexts(webPage('8e9f0a1b-2c3d-4e5f-9a6b-7c8d9e0f1a2b'))) };
const jsGetQuery = Object.entries(jsGetParams).map(([k, v]) => encodeURIComponent(k) + '=' + encodeURIComponent(v)).join('&');

/** The Node.js tracker (`@snowplow/node-tracker` v3): server platform, base64 by default, its own namespace. */
const nodeBody = JSON.stringify({
  schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4',
  data: [
    { e: 'se', eid: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d', dtm: '1714564830000', tv: 'node-3.24.0', tna: 'myTracker', aid: 'myApp', p: 'srv', se_ca: 'shop', se_ac: 'order', se_va: '59.98', uid: 'user@example.com', stm: '1714564830100' },
    { e: 'ue', eid: '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e', dtm: '1714564831000', tv: 'node-3.24.0', tna: 'myTracker', aid: 'myApp', p: 'srv', ue_px: b64(unstruct('iglu:io.waymark.example/button_click/jsonschema/1-0-0', { buttonId: 'server-side' })), stm: '1714564831100' },
    { e: 'pv', eid: '3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e7f', dtm: '1714564832000', ttm: '1714564700000', tv: 'node-3.24.0', tna: 'myTracker', aid: 'myApp', p: 'srv', url: 'https://www.example.com/server-rendered', page: 'Server page', ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15', ip: '198.51.100.20', stm: '1714564832100' },
  ],
});

/** Wraps one event's parameters as the Waymark collector publishes them. */
function collectorPayload(parameters: Record<string, string>, method: 'GET' | 'POST', userAgent: string | null): string {
  return JSON.stringify({
    schema: 'iglu:io.waymark/collector_payload/jsonschema/1-0-0',
    data: {
      timestamp: '2024-05-01T12:00:40.000Z', collector: 'waymark-collector-0.1.0', ipAddress: '203.0.113.50', userAgent,
      refererUri: parameters.url ?? null, headers: {}, networkUserId: 'c6ef3124-b53a-4b13-a233-0088f79dcbcb',
      contentType: method === 'POST' ? 'application/json; charset=UTF-8' : null, method,
      path: method === 'POST' ? '/com.snowplowanalytics.snowplow/tp2' : '/i', hostname: 'c.example.com', parameters,
    },
  });
}

const BROWSER_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

function rows(messages: string[]): Array<Record<string, unknown>> {
  return messages.map((m) => {
    const r = enricher.enrich(m);
    if (!r.row) throw new Error('bad row for a tracker payload: ' + JSON.stringify(r.badRow));
    expectOnlyColumns(r.row);
    return r.row;
  });
}

describe('payloads of Snowplow trackers', () => {
  it('JavaScript tracker, POST batch split by the collector: page view, page ping, structured event, link click', () => {
    const events = (JSON.parse(jsPostBody) as { data: Array<Record<string, string>> }).data;
    const r = rows(events.map((e) => collectorPayload(e, 'POST', BROWSER_UA)));
    expect(r.map((x) => x.event)).toEqual(['page_view', 'page_ping', 'struct', 'unstruct']);
    expect(r.map((x) => x.v_tracker)).toEqual(['js-3.24.0', 'js-3.24.0', 'js-3.24.0', 'js-3.24.0']);
    for (const x of r) {
      expect(x.contexts_com_snowplowanalytics_snowplow_web_page_1).toEqual([{ id: '9f0a1b2c-3d4e-4f5a-8b6c-7d8e9f0a1b2c' }]);
      expect(x).toMatchObject({ name_tracker: 'sp1', app_id: 'site', platform: 'web', mkt_source: 'newsletter', mkt_medium: 'email', refr_medium: 'search', refr_source: 'Google', br_family: 'Chrome', os_timezone: 'Europe/London', br_viewwidth: 1280, br_viewheight: 649 });
    }
    expect(r[1]).toMatchObject({ pp_yoffset_max: 1264 });
    expect(r[2]).toMatchObject({ se_category: 'video', se_action: 'play', se_value: 0 });
    expect(r[3]).toMatchObject({
      event_vendor: 'com.snowplowanalytics.snowplow', event_name: 'link_click', event_version: '1-0-1',
      unstruct_event_com_snowplowanalytics_snowplow_link_click_1: { element_id: 'cta', element_classes: ['btn', 'btn-primary'], element_target: '_self', target_url: 'https://www.example.com/pricing', element_content: 'See pricing' },
    });
  });

  it('JavaScript tracker without base64 (co, ue_pr)', () => {
    const [row] = rows(splitBatch(jsPlainBody).map((b) => collectorPayload((JSON.parse(b) as { data: Array<Record<string, string>> }).data[0], 'POST', BROWSER_UA)));
    expect(row).toMatchObject({ event_name: 'link_click', unstruct_event_com_snowplowanalytics_snowplow_link_click_1: { target_url: 'https://www.example.com/docs' } });
  });

  it('JavaScript tracker legacy ecommerce: transaction and item', () => {
    const [tr, ti] = rows(jsEcommerce.map((e) => collectorPayload(e, 'GET', BROWSER_UA)));
    expect(tr).toMatchObject({ event: 'transaction', tr_orderid: 'order-42', tr_total: '59.98', tr_tax: '9.58', tr_shipping: '4.99', tr_currency: 'GBP' });
    expect(ti).toMatchObject({ event: 'transaction_item', ti_orderid: 'order-42', ti_sku: 'SKU-1', ti_price: '29.99', ti_quantity: 2 });
  });

  it('JavaScript tracker GET: as a collector payload and through the CDN pixel log', () => {
    const viaCollector = rows([collectorPayload(jsGetParams, 'GET', BROWSER_UA)])[0];
    const logEntry = JSON.stringify({
      httpRequest: { requestMethod: 'GET', requestUrl: 'https://px.example.com/i?' + jsGetQuery, status: 200, userAgent: BROWSER_UA, remoteIp: '203.0.113.50', referer: jsGetParams.url },
      timestamp: '2024-05-01T12:00:40.000Z', logName: 'projects/acme/logs/requests', resource: { type: 'http_load_balancer' },
    });
    const viaPixel = rows([logEntry])[0];
    const { network_userid: _n, v_collector: _v, ...rest } = viaCollector;
    expect(viaPixel).toEqual({ ...rest, v_collector: 'gcp-cdn-pixel' });
    expect(viaPixel.network_userid).toBeUndefined();
  });

  it('Node.js tracker: structured, self-describing and page view events from a server', () => {
    const r = rows(splitBatch(nodeBody).map((b) => collectorPayload((JSON.parse(b) as { data: Array<Record<string, string>> }).data[0], 'POST', 'node-fetch/1.0')));
    expect(r.map((x) => [x.event, x.platform, x.v_tracker, x.name_tracker])).toEqual([
      ['struct', 'srv', 'node-3.24.0', 'myTracker'], ['unstruct', 'srv', 'node-3.24.0', 'myTracker'], ['page_view', 'srv', 'node-3.24.0', 'myTracker'],
    ]);
    expect(r[0]).toMatchObject({ user_id: 'user@example.com', se_value: 59.98, br_type: 'Tool' });
    expect(r[1]).toMatchObject({ unstruct_event_io_waymark_example_button_click_1: { button_id: 'server-side' } });
    // The ua and ip parameters describe the end user, not the server that sent the event.
    expect(r[2]).toMatchObject({ br_family: 'Safari', user_ipaddress: '198.51.100.x', true_tstamp: '2024-05-01T11:58:20.000Z', derived_tstamp: '2024-05-01T11:58:20.000Z' });
  });
});
