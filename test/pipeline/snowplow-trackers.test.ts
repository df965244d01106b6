/**
 * Payloads of Snowplow's own Node.js tracker (`@snowplow/node-tracker` 4.8.0, a dev dependency) enrich into good
 * rows through the shipped UDF bundle (built with examples/schemas, whose io.waymark.example schemas the events use). The real tracker sends over HTTP to a loopback server that records each
 * request as it arrived (POST bodies: payload_data envelopes; GET: query strings); the recorded requests then go
 * through the Waymark collector's own request handling (collector/service.ts), as a load-balancer LogEntry of the
 * CDN pixel path (GET), or as bare payload_data envelopes, and the messages through the bundle's `process`.
 */
import { createServer, IncomingHttpHeaders } from 'node:http';
import { AddressInfo } from 'node:net';
import * as snowplow from '@snowplow/node-tracker';
import { configWith } from '../../collector/config';
import { handleEvent } from '../../collector/service';
import { splitBatch } from '../../pipeline/local/runner';
import { CORPUS_NOW } from './helpers/corpus';
import { expectOnlyColumns } from './helpers/enricher';
import { call, loadInNode, UdfApi } from './helpers/engines';
import { udfBundleSource } from './helpers/udf-bundle';

/** One HTTP request as the loopback server received it. */
interface Captured {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Runs `send` against a loopback HTTP server and returns the requests it received; the server then stops. */
async function capture(send: (port: number) => Promise<void>): Promise<Captured[]> {
  const got: Captured[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      got.push({ method: req.method ?? '', path: q === -1 ? url : url.substring(0, q), query: q === -1 ? '' : url.substring(q + 1), headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await send((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return got;
}

/** An emitter configuration for the loopback server. */
function emitter(port: number, extra: Partial<snowplow.EmitterConfiguration> = {}): snowplow.EmitterConfiguration {
  return { endpoint: '127.0.0.1', protocol: 'http', port, connectionTimeout: 10000, ...extra };
}

const COLLECTOR_NOW = Date.UTC(2024, 4, 1, 12, 0, 40, 250);
const NETWORK_COOKIE = 'c6ef3124-b53a-4b13-a233-0088f79dcbcb';

/** The Waymark collector's handling of a recorded request: the messages it publishes (all must be good). */
function collect(req: Captured): string[] {
  const outcome = handleEvent(
    { kind: req.method === 'POST' ? 'post' : 'get', method: req.method, path: req.path, query: req.query, headers: req.headers, remoteAddress: '127.0.0.1', body: req.method === 'POST' ? req.body : undefined },
    { config: configWith(), now: () => COLLECTOR_NOW, uuid: () => NETWORK_COOKIE },
  );
  expect(outcome.status).toBeLessThan(300);
  expect(outcome.records.map((r) => r.stream)).toEqual(outcome.records.map(() => 'good'));
  return outcome.records.map((r) => (typeof r.data === 'string' ? r.data : String(r.data)));
}

/** The request as the CDN pixel path's load balancer logs it (contract 3). */
function logEntry(req: Captured): string {
  return JSON.stringify({
    httpRequest: { requestMethod: 'GET', requestUrl: 'https://px.example.com' + req.path + '?' + req.query, status: 200, userAgent: req.headers['user-agent'], remoteIp: '203.0.113.50' },
    timestamp: '2024-05-01T12:00:40.250Z', logName: 'projects/acme/logs/requests', resource: { type: 'http_load_balancer' },
  });
}

let udf: UdfApi;
beforeAll(async () => {
  udf = loadInNode((await udfBundleSource()).code, CORPUS_NOW);
});

/** Enriches messages with the shipped bundle; each must give a good row (the same from both entry points). */
function rows(messages: string[]): Array<Record<string, unknown>> {
  return messages.map((m) => {
    const out = call(udf.process, m);
    if (!('returned' in out)) throw new Error('bad row for a tracker payload: ' + out.thrown);
    expect(call(udf.processBatch, m)).toEqual(out);
    const row = JSON.parse(out.returned as string) as Record<string, unknown>;
    expectOnlyColumns(row);
    return row;
  });
}

const iso = (ms: number | string): string => new Date(Number(ms)).toISOString();

const TRACKER = 'node-' + snowplow.version;
const SAFARI = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15';
const PAGE_ID = '9f0a1b2c-3d4e-4f5a-8b6c-7d8e9f0a1b2c';
const webPage = { schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: PAGE_ID } };
const product = { schema: 'iglu:io.waymark.example/product/jsonschema/1-0-0', data: { sku: 'MUG-1', name: 'Blue Mug', price: 12.5, currency: 'EUR', categories: ['kitchen', 'mugs'] } };
const DTM = 1714564800000;

/** A tracker with the user and device setters a server application uses. */
function serverTracker(port: number, encodeBase64: boolean, extra: Partial<snowplow.EmitterConfiguration> = {}): snowplow.Tracker {
  const t = snowplow.newTracker({ namespace: 'shop-server', appId: 'shop', encodeBase64 }, emitter(port, extra));
  t.setUserId('user@example.com');
  t.setDomainUserId('a1b2c3d4-e5f6-4789-8abc-def012345678');
  t.setSessionId('3d3f3c1b-4a6c-4f5e-9a2b-6e0f1c2d3b4a');
  t.setSessionIndex(3);
  t.setNetworkUserId('5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a');
  t.setIpAddress('198.51.100.20');
  t.setUseragent(SAFARI);
  t.setScreenResolution('1920', '1080');
  t.setViewport('1280', '720');
  t.setColorDepth('24');
  t.setLang('en-GB');
  t.setTimezone('Europe/London');
  return t;
}

/** One of each kind of event, with fixed device timestamps (the send time is the tracker's own), to track in turn. */
function allEvents(t: snowplow.Tracker): Array<() => void> {
  return [
    () => t.track(snowplow.buildPageView({ pageUrl: 'https://www.example.com/p/blue-mug?utm_source=newsletter&utm_medium=email&gclid=Cj0KCQ', pageTitle: 'Blue Mug – Example Shop 😀', referrer: 'https://www.google.com/search?q=blue+mug' }), [webPage], DTM),
    () => t.track(snowplow.buildPagePing({ pageUrl: 'https://www.example.com/p/blue-mug', pageTitle: 'Blue Mug', minXOffset: 0, maxXOffset: 10, minYOffset: 5.5, maxYOffset: 820 }), [webPage], DTM + 10000),
    () => t.track(snowplow.buildStructEvent({ category: 'shop', action: 'add-to-cart', label: 'blue-mug', property: 'quantity', value: 2 }), [webPage, product], DTM + 11000),
    () => t.track(snowplow.buildSelfDescribingEvent({ event: { schema: 'iglu:io.waymark.example/button_click/jsonschema/1-0-1', data: { buttonId: 'buy-now', label: 'Buy now', position: 2 } } }), [webPage, product], { type: 'ttm', value: DTM + 12000 }),
    () => t.track(snowplow.buildLinkClick({ targetUrl: 'https://www.example.com/pricing', elementId: 'cta', elementClasses: ['btn', 'btn-primary'], elementTarget: '_self', elementContent: 'See pricing' }), [webPage], DTM + 13000),
    () => t.track(snowplow.buildEcommerceTransaction({ orderId: 'order-42', total: 37.5, affiliation: 'web-shop', tax: 5.99, shipping: 4.9, city: 'Berlin', state: 'Berlin', country: 'DE', currency: 'EUR' }), undefined, DTM + 14000),
    () => t.track(snowplow.buildEcommerceTransactionItem({ orderId: 'order-42', sku: 'MUG-1', name: 'Blue Mug', category: 'mugs', price: 12.5, quantity: 3, currency: 'EUR' }), undefined, DTM + 14001),
  ];
}

/** Tracks all events; the emitter batches them into as few requests as it likes. */
function trackAll(t: snowplow.Tracker): void {
  for (const track of allEvents(t)) track();
}

const EVENTS = ['page_view', 'page_ping', 'struct', 'unstruct', 'unstruct', 'transaction', 'transaction_item'];

/** The columns every event of {@link serverTracker} has, whatever the transport. */
function expectCommon(row: Record<string, unknown>): void {
  expect(row).toMatchObject({
    platform: 'srv', v_tracker: TRACKER, name_tracker: 'shop-server', app_id: 'shop', v_etl: expect.stringMatching(/^waymark-enrich-/),
    event_id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
    user_id: 'user@example.com', domain_userid: 'a1b2c3d4-e5f6-4789-8abc-def012345678', domain_sessionid: '3d3f3c1b-4a6c-4f5e-9a2b-6e0f1c2d3b4a', domain_sessionidx: 3,
    // The tracker's nuid wins over the collector's cookie; its ua and ip describe the end user, not the server.
    network_userid: '5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a', useragent: SAFARI, br_family: 'Safari', os_family: 'Mac OS X', user_ipaddress: '198.51.100.x',
    dvce_screenwidth: 1920, dvce_screenheight: 1080, br_viewwidth: 1280, br_viewheight: 720, br_colordepth: '24', br_lang: 'en-GB', os_timezone: 'Europe/London',
    etl_tstamp: iso(CORPUS_NOW), event_fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/),
  });
}

/** What each event of {@link trackAll} enriches into, beyond the common columns. */
function expectEvents(r: Array<Record<string, unknown>>, payloads: Array<Record<string, string>>): void {
  expect(r.map((x) => x.event)).toEqual(EVENTS);
  r.forEach(expectCommon);
  expect(r[0]).toMatchObject({
    event_vendor: 'com.snowplowanalytics.snowplow', event_name: 'page_view', event_format: 'jsonschema', event_version: '1-0-0',
    page_url: 'https://www.example.com/p/blue-mug?utm_source=newsletter&utm_medium=email&gclid=Cj0KCQ', page_title: 'Blue Mug – Example Shop 😀',
    page_urlhost: 'www.example.com', page_urlpath: '/p/blue-mug', page_urlport: 443, mkt_source: 'newsletter', mkt_medium: 'email', mkt_clickid: 'Cj0KCQ', mkt_network: 'Google',
    page_referrer: 'https://www.google.com/search?q=blue+mug', refr_medium: 'search', refr_source: 'Google', refr_term: 'blue mug',
    dvce_created_tstamp: iso(DTM), contexts_com_snowplowanalytics_snowplow_web_page_1: [{ id: PAGE_ID }],
  });
  // The tracker leaves out a zero offset; a fractional one is rounded.
  expect(r[1]).toMatchObject({ pp_xoffset_max: 10, pp_yoffset_min: 6, pp_yoffset_max: 820, event_name: 'page_ping' });
  expect(r[1].pp_xoffset_min).toBeUndefined();
  expect(r[2]).toMatchObject({
    se_category: 'shop', se_action: 'add-to-cart', se_label: 'blue-mug', se_property: 'quantity', se_value: 2,
    contexts_io_waymark_example_product_1: [{ sku: 'MUG-1', name: 'Blue Mug', price: 12.5, currency: 'EUR', categories: ['kitchen', 'mugs'] }],
  });
  expect(r[3]).toMatchObject({
    event_vendor: 'io.waymark.example', event_name: 'button_click', event_version: '1-0-1',
    unstruct_event_io_waymark_example_button_click_1: { button_id: 'buy-now', label: 'Buy now', position: 2 },
    contexts_com_snowplowanalytics_snowplow_web_page_1: [{ id: PAGE_ID }], contexts_io_waymark_example_product_1: [{ sku: 'MUG-1', price: 12.5 }],
    // A true timestamp (ttm) instead of the device's: it is the event's time.
    true_tstamp: iso(DTM + 12000), derived_tstamp: iso(DTM + 12000),
  });
  expect(r[3].dvce_created_tstamp).toBeUndefined();
  expect(r[4]).toMatchObject({
    event_name: 'link_click', event_version: '1-0-1',
    unstruct_event_com_snowplowanalytics_snowplow_link_click_1: { target_url: 'https://www.example.com/pricing', element_id: 'cta', element_classes: ['btn', 'btn-primary'], element_target: '_self', element_content: 'See pricing' },
  });
  expect(r[5]).toMatchObject({ tr_orderid: 'order-42', tr_affiliation: 'web-shop', tr_total: '37.5', tr_tax: '5.99', tr_shipping: '4.9', tr_city: 'Berlin', tr_state: 'Berlin', tr_country: 'DE', tr_currency: 'EUR' });
  expect(r[6]).toMatchObject({ ti_orderid: 'order-42', ti_sku: 'MUG-1', ti_name: 'Blue Mug', ti_category: 'mugs', ti_price: '12.5', ti_quantity: 3, ti_currency: 'EUR' });
  // Device times as sent: created (dtm) and sent (stm, set by the emitter when it sends).
  r.forEach((row, i) => {
    const p = payloads[i];
    if (p.dtm !== undefined) expect([i, row.dvce_created_tstamp]).toEqual([i, iso(p.dtm)]);
    expect([i, row.dvce_sent_tstamp]).toEqual([i, iso(p.stm)]);
  });
}

interface PayloadData {
  schema: string;
  data: Array<Record<string, unknown>>;
}

describe('payloads of Snowplow\'s Node.js tracker', () => {
  it('POST: one payload_data batch; the collector splits it into one good row per event', async () => {
    const requests = await capture(async (port) => {
      const t = serverTracker(port, true, { bufferSize: 20 });
      trackAll(t);
      await t.flush();
    });
    expect(requests.map((q) => [q.method, q.path])).toEqual([['POST', '/com.snowplowanalytics.snowplow/tp2']]);
    expect(requests[0].headers['content-type']).toBe('application/json; charset=UTF-8');
    const body = JSON.parse(requests[0].body.toString('utf8')) as PayloadData;
    expect(body.schema).toBe('iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4');
    // What a tracker sends: string values only, base64url without padding for cx/ue_px, a send time on every event.
    for (const e of body.data) {
      for (const v of Object.values(e)) expect(typeof v).toBe('string');
      expect(e.stm).toMatch(/^[0-9]{13}$/);
      for (const k of ['cx', 'ue_px']) if (e[k] !== undefined) expect(e[k]).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(e.co).toBeUndefined();
    }
    const messages = collect(requests[0]);
    expect(messages).toHaveLength(EVENTS.length);
    const r = rows(messages);
    expectEvents(r, body.data as Array<Record<string, string>>);
    for (const row of r) {
      expect(row).toMatchObject({ collector_tstamp: iso(COLLECTOR_NOW), v_collector: expect.stringMatching(/^waymark-collector[-/][0-9]/) });
      // derived_tstamp: the device clock corrected by the collector's (unless a true timestamp was sent).
      if (row.true_tstamp === undefined) {
        expect(row.derived_tstamp).toBe(iso(COLLECTOR_NOW - (Date.parse(row.dvce_sent_tstamp as string) - Date.parse(row.dvce_created_tstamp as string))));
      }
    }
  });

  it('POST: bare payload_data envelopes (split one event each) enrich the same without the collector', async () => {
    const requests = await capture(async (port) => {
      const t = serverTracker(port, true, { bufferSize: 1 });
      // Each event sent before the next is tracked: a request per event.
      for (const track of allEvents(t)) {
        track();
        await t.flush();
      }
    });
    expect(requests).toHaveLength(EVENTS.length);
    const bodies = requests.map((q) => q.body.toString('utf8'));
    const r = rows(bodies.map((b) => {
      const parts = splitBatch(b);
      expect(parts).toHaveLength(1);
      return parts[0];
    }));
    expectEvents(r, bodies.map((b) => (JSON.parse(b) as PayloadData).data[0] as Record<string, string>));
    // No collector: no collector metadata, so the enrichment time stands in for the collector's.
    for (const row of r) expect(row).toMatchObject({ collector_tstamp: iso(CORPUS_NOW) });
    for (const row of r) expect(row.v_collector).toBeUndefined();
  });

  it('without base64 (encodeBase64: false): plain co and ue_pr', async () => {
    const requests = await capture(async (port) => {
      const t = serverTracker(port, false, { bufferSize: 20 });
      trackAll(t);
      await t.flush();
    });
    const body = JSON.parse(requests[0].body.toString('utf8')) as PayloadData;
    expect(body.data[3].ue_pr).toEqual(expect.stringContaining('"buttonId":"buy-now"'));
    expect(body.data[3].co).toEqual(expect.stringContaining('"sku":"MUG-1"'));
    expect(body.data.some((e) => e.cx !== undefined || e.ue_px !== undefined)).toBe(false);
    expectEvents(rows(collect(requests[0])), body.data as Array<Record<string, string>>);
  });

  it('GET: query strings through the collector\'s pixel endpoint and through the CDN pixel\'s load-balancer log', async () => {
    const requests = await capture(async (port) => {
      const t = snowplow.newTracker({ namespace: 'pixel', appId: 'site' }, emitter(port, { eventMethod: 'get' }));
      t.track(snowplow.buildPageView({ pageUrl: 'https://blog.example.com/posts/hello?utm_source=twitter', pageTitle: 'Hello – world', referrer: 'https://t.co/abc123' }), [webPage], DTM);
      t.track(snowplow.buildSelfDescribingEvent({ event: { schema: 'iglu:io.waymark.example/button_click/jsonschema/1-0-1', data: { buttonId: 'subscribe' } } }), [webPage, product], DTM + 1000);
      t.track(snowplow.buildStructEvent({ category: 'newsletter', action: 'subscribe' }), undefined, DTM + 2000);
      await t.flush();
    });
    expect(requests.map((q) => [q.method, q.path])).toEqual([['GET', '/i'], ['GET', '/i'], ['GET', '/i']]);
    for (const q of requests) expect(q.query).toMatch(/^stm=[0-9]{13}&e=/);
    const viaCollector = rows(requests.flatMap(collect));
    expect(viaCollector.map((x) => x.event)).toEqual(['page_view', 'unstruct', 'struct']);
    for (const row of viaCollector) {
      expect(row).toMatchObject({
        platform: 'srv', v_tracker: TRACKER, name_tracker: 'pixel', app_id: 'site', collector_tstamp: iso(COLLECTOR_NOW),
        // No ua/ip parameters here: the request's own User-Agent (Node's fetch) and address, and the collector's cookie.
        useragent: requests[0].headers['user-agent'], br_type: 'Tool', user_ipaddress: '127.0.0.x', network_userid: NETWORK_COOKIE,
      });
    }
    expect(viaCollector[0]).toMatchObject({
      page_url: 'https://blog.example.com/posts/hello?utm_source=twitter', page_title: 'Hello – world', mkt_source: 'twitter',
      refr_medium: 'social', refr_source: 'Twitter', dvce_created_tstamp: iso(DTM), contexts_com_snowplowanalytics_snowplow_web_page_1: [{ id: PAGE_ID }],
    });
    expect(viaCollector[1]).toMatchObject({ event_name: 'button_click', unstruct_event_io_waymark_example_button_click_1: { button_id: 'subscribe' }, contexts_io_waymark_example_product_1: [{ sku: 'MUG-1' }] });
    expect(viaCollector[2]).toMatchObject({ se_category: 'newsletter', se_action: 'subscribe' });

    // The same requests logged by the CDN pixel path: the same rows but for what only the collector knows.
    const viaPixel = rows(requests.map(logEntry));
    viaPixel.forEach((row, i) => {
      const { network_userid: _n, v_collector: _v, user_ipaddress: _i, ...rest } = viaCollector[i];
      expect(row).toMatchObject({ ...rest, v_collector: 'gcp-cdn-pixel', user_ipaddress: '203.0.113.x' });
      expect(row.network_userid).toBeUndefined();
    });
  });
});
