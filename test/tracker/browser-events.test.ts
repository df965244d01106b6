/**
 * The shipped sp.js in real Chromium, on the demo page (examples/site), sending to a collector on 127.0.0.1:
 * page views, pings, SPA navigations, link clicks, structured and self-describing events, GET mode.
 */
import type { Browser, Page } from 'playwright-core';
import {
  CLIENT_SESSION,
  closeAndCheck,
  CUSTOM_POST_PATH,
  enrichAll,
  entities,
  json,
  launchChromium,
  LINK_CLICK,
  openPage,
  PageUnderTest,
  pageUrl,
  Received,
  sleep,
  startCollector,
  startSite,
  stopAll,
  TestCollector,
  waitFor,
  watchWire,
  WEB_PAGE,
} from './harness';

let browser: Browser;
let site: { url: string };
let collector: TestCollector;
let page: Page;
let wire: ReturnType<typeof watchWire>;

beforeAll(async () => {
  [browser, site, collector] = await Promise.all([launchChromium(), startSite(), startCollector()]);
});
afterAll(stopAll);
let current: PageUnderTest | undefined;
beforeEach(async () => {
  current = undefined;
  current = await openPage(browser, collector);
  ({ page, wire } = current);
});
afterEach(() => closeAndCheck(current, collector));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Events of this test's pages (each test uses its own app id). */
async function eventsOf(appId: string): Promise<Received[]> {
  return (await collector.events()).filter((e) => e.parameters.aid == appId);
}
async function waitEvents(appId: string, what: string, pred: (es: Received[]) => boolean): Promise<Received[]> {
  return waitFor(what, async () => {
    const es = await eventsOf(appId);
    return pred(es) && es;
  });
}
const ofType = (es: Received[], e: string): Received[] => es.filter((x) => x.parameters.e == e);
const webPageId = (e: Received): unknown => entities(e)[WEB_PAGE]?.id;
const waymark = (p: Page, ...args: unknown[]): Promise<void> =>
  p.evaluate((a) => (window as unknown as { waymark: (...x: unknown[]) => void }).waymark(...a), args);

test('page view: tp2 strings in a payload_data POST, web_page entity, identity and browser fields', async () => {
  const appId = 'pv-test';
  await page.goto(pageUrl(site.url, collector.url, { appId, contexts: { session: true } }));
  const [pv] = await waitEvents(appId, 'the page view', (es) => es.length > 0);
  expect(wire.checked()).toBeGreaterThan(0);
  const p = pv.parameters;
  expect(pv.path).toBe('/com.snowplowanalytics.snowplow/tp2');
  expect(pv.contentType).toBe('application/json; charset=UTF-8');
  expect(p).toMatchObject({ e: 'pv', p: 'web', tna: 'sp', page: 'Waymark demo', cookie: '1', cs: 'UTF-8' });
  expect(p.eid).toMatch(UUID);
  expect(p.tv).toMatch(/^js-waymark-\d+\.\d+\.\d+$/);
  expect(p.url).toBe(page.url());
  expect(p.refr).toBeUndefined(); // opened directly: no referrer, and empty parameters are not sent
  expect(Object.values(p)).not.toContain('');
  for (const k of ['dtm', 'stm']) expect(p[k]).toMatch(/^\d{13}$/);
  expect(+p.stm).toBeGreaterThanOrEqual(+p.dtm);
  for (const k of ['res', 'vp', 'ds']) expect(p[k]).toMatch(/^\d+x\d+$/);
  expect(p.tz).toBeTruthy();
  expect(p.duid).toMatch(UUID);
  expect(p.sid).toMatch(UUID);
  expect(p.vid).toBe('1');
  expect(webPageId(pv)).toMatch(UUID);
  expect(entities(pv)[CLIENT_SESSION]).toEqual({
    userId: p.duid,
    sessionId: p.sid,
    sessionIndex: 1,
    eventIndex: 1,
    previousSessionId: null,
    storageMechanism: 'COOKIE_1',
    firstEventId: p.eid,
    firstEventTimestamp: new Date(+p.dtm).toISOString(),
  });
  // The enrichment reads it into the warehouse row.
  const row = enrichAll((await collector.payloads()).filter((x) => JSON.stringify(x).includes(p.eid)))[0];
  expect(row).toMatchObject({ event: 'page_view', event_id: p.eid, app_id: appId, domain_userid: p.duid, page_title: 'Waymark demo' });
  expect(JSON.stringify(row.contexts_com_snowplowanalytics_snowplow_web_page_1)).toContain(String(webPageId(pv)));
  // The page view id is shared by the following events of the same page.
  await page.click('#like');
  const es = await waitEvents(appId, 'the structured event', (x) => ofType(x, 'se').length == 1);
  const se = ofType(es, 'se')[0];
  expect(se.parameters).toMatchObject({ se_ca: 'demo', se_ac: 'like', se_la: '/', se_va: '1', duid: p.duid, sid: p.sid });
  expect(webPageId(se)).toBe(webPageId(pv));
  expect(entities(se)[CLIENT_SESSION]).toMatchObject({ eventIndex: 2, firstEventId: p.eid });
});

test('self-describing event with entities, global contexts (static and generated) and the user id', async () => {
  const appId = 'ue-test';
  await page.goto(pageUrl(site.url, collector.url, { appId }));
  await waitEvents(appId, 'the page view', (es) => es.length == 1);
  await page.evaluate(() => {
    const w = window as unknown as { waymark: (...a: unknown[]) => void };
    w.waymark('setUserId', 'user-42');
    w.waymark('addGlobalContexts', [
      { schema: 'iglu:io.waymark.example/product/jsonschema/1-0-0', data: { sku: 'GLOBAL-1', price: 1, currency: 'EUR' } },
      (e: Record<string, string>) =>
        e.e == 'ue' ? { schema: 'iglu:io.waymark.example/product/jsonschema/1-0-0', data: { sku: 'GEN-' + e.e.toUpperCase(), price: 2, currency: 'USD' } } : null,
    ]);
  });
  await page.click('#buy');
  const es = await waitEvents(appId, 'the self-describing event', (x) => ofType(x, 'ue').length == 1);
  const ue = ofType(es, 'ue')[0];
  expect(ue.parameters.uid).toBe('user-42');
  expect(json(ue.parameters.ue_pr)).toEqual({
    schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0',
    data: { schema: 'iglu:io.waymark.example/button_click/jsonschema/1-0-1', data: { buttonId: 'buy', label: 'Buy', position: 0 } },
  });
  const co = json<{ data: { schema: string; data: { sku?: string } }[] }>(ue.parameters.co).data;
  expect(co.map((c) => c.data.sku ?? c.schema)).toEqual(['WM-001', WEB_PAGE, 'GLOBAL-1', 'GEN-UE']);
  // Generated contexts are per event: a structured event gets the static one only.
  await page.click('#like');
  const se = ofType(await waitEvents(appId, 'the structured event', (x) => ofType(x, 'se').length == 1), 'se')[0];
  const skus = json<{ data: { data: { sku?: string } }[] }>(se.parameters.co).data.map((c) => c.data.sku);
  expect(skus).toEqual([undefined, 'GLOBAL-1']);
});

test('page pings: none while idle, then pings with scroll offsets after activity, on the page view id', async () => {
  const appId = 'ping-test';
  await page.setViewportSize({ width: 800, height: 600 });
  await page.goto(pageUrl(site.url, collector.url, { appId }, { pings: '1,1' }));
  const [pv] = await waitEvents(appId, 'the page view', (es) => es.length == 1);
  // Idle past the minimum visit length and two heartbeats: no activity, no ping.
  await sleep(3500);
  expect(ofType(await eventsOf(appId), 'pp')).toEqual([]);
  // Activity: the mouse moves and the page scrolls.
  const es = await waitFor('a page ping after activity', async () => {
    await page.mouse.move(100 + Math.random() * 100, 100 + Math.random() * 100);
    await page.mouse.wheel(0, 400);
    const x = await eventsOf(appId);
    return ofType(x, 'pp').length > 0 && x;
  });
  const pp = ofType(es, 'pp')[0];
  expect(webPageId(pp)).toBe(webPageId(pv));
  expect(pp.parameters.url).toBe(pv.parameters.url);
  const [mix, max, miy, may] = ['pp_mix', 'pp_max', 'pp_miy', 'pp_may'].map((k) => pp.parameters[k]);
  for (const v of [mix, max, miy, may]) expect(v).toMatch(/^\d+$/);
  expect(+may).toBeGreaterThan(0);
  expect(+miy).toBeLessThanOrEqual(+may);
});

test('SPA navigations: pushState, replaceState and back are page views with the previous URL as referrer', async () => {
  const appId = 'spa-test';
  const home = pageUrl(site.url, collector.url, { appId, spaPageViews: true });
  const views = async (n: number, what: string): Promise<Received[]> =>
    ofType(await waitEvents(appId, what, (x) => ofType(x, 'pv').length >= n), 'pv');
  await page.goto(home);
  const [first] = await views(1, 'the first page view');
  expect(first.parameters.url).toBe(home);

  await page.click('a[href="/products/1"]');
  let pvs = await views(2, 'the pushState page view');
  const p1 = pvs[1];
  expect(p1.parameters).toMatchObject({ e: 'pv', refr: home, page: 'Waymark demo /products/1' });
  expect(new URL(p1.parameters.url).pathname).toBe('/products/1');
  expect(webPageId(p1)).not.toBe(webPageId(first));

  // replaceState to the same URL is no navigation; to a new URL it is.
  await page.evaluate(() => history.replaceState({}, '', location.href));
  await page.evaluate(() => history.replaceState({}, '', '/products/1b' + location.search));
  pvs = await views(3, 'the replaceState page view');
  expect(new URL(pvs[2].parameters.url).pathname).toBe('/products/1b');

  await page.goBack();
  pvs = await views(4, 'the popstate page view');
  expect(pvs[3].parameters.url).toBe(home);
  expect(new URL(pvs[3].parameters.refr).pathname).toBe('/products/1b');
  expect(pvs).toHaveLength(4);
  expect(new Set(pvs.map(webPageId)).size).toBe(4);
  // Same visitor and session throughout.
  expect(new Set((await eventsOf(appId)).map((e) => e.parameters.sid)).size).toBe(1);
});

test('link click: link_click 1-0-1 sent as the page unloads, delivered once', async () => {
  const appId = 'link-test';
  // A slow network: the page is gone before the collector's answer to the click arrives. The keepalive request
  // still completes, and the next page must not send the click a second time.
  await page.goto(pageUrl(site.url, collector.slowUrl, { appId }));
  await waitEvents(appId, 'the page view', (es) => es.length == 1);
  await sleep(1600);
  await page.click('#about-link');
  await page.waitForURL(/about\.html/);
  await waitEvents(appId, 'the about page view', (x) => x.length >= 3);
  await sleep(2000);
  const es = await eventsOf(appId);
  const click = ofType(es, 'ue')[0];
  const ue = json<{ data: { schema: string; data: Record<string, unknown> } }>(click.parameters.ue_pr).data;
  expect(ue.schema).toBe(LINK_CLICK);
  expect(ue.data).toEqual({
    targetUrl: new URL('/about.html' + new URL(page.url()).search, site.url).href,
    elementId: 'about-link',
    elementClasses: ['nav', 'keep-config'],
    elementTarget: '_self',
  });
  const about = es.find((e) => e.parameters.e == 'pv' && e.parameters.url.includes('about.html'))!;
  expect(about.parameters.sid).toBe(click.parameters.sid);
  expect(es.map((e) => e.parameters.e).sort()).toEqual(['pv', 'pv', 'ue']);
  expect(await page.evaluate(() => localStorage.getItem('waymark_queue_sp'))).toBeNull();
});

test('buffered events are sent in one batch when the page is left', async () => {
  const appId = 'buffer-test';
  await page.goto(pageUrl(site.url, collector.url, { appId, bufferSize: 10 }));
  await page.click('#like');
  await page.click('#buy');
  await sleep(300);
  expect(await eventsOf(appId)).toEqual([]);
  await page.goto(site.url + '/about.html?collector=' + encodeURIComponent(collector.url) + '&options=' + encodeURIComponent(JSON.stringify({ appId: 'other' })));
  const es = await waitEvents(appId, 'the buffered events', (x) => x.length == 3);
  expect(es.map((e) => e.parameters.e).sort()).toEqual(['pv', 'se', 'ue']);
  // One request, a beacon (text/plain needs no preflight): the batch's events share their sent time.
  expect(new Set(es.map((e) => e.parameters.stm)).size).toBe(1);
  expect(es.map((e) => e.contentType)).toEqual(Array(3).fill('text/plain;charset=UTF-8'));
});

test('a custom POST path configured on the collector', async () => {
  const appId = 'path-test';
  await page.goto(pageUrl(site.url, collector.url, { appId, postPath: CUSTOM_POST_PATH }));
  const [pv] = await waitEvents(appId, 'the page view', (x) => x.length == 1);
  expect(pv.path).toBe(CUSTOM_POST_PATH);
  expect(pv.parameters.e).toBe('pv');
});

test('GET mode: one pixel request per event on /i with base64url ue_px and cx', async () => {
  const appId = 'get-test';
  await page.goto(pageUrl(site.url, collector.url, { appId, eventMethod: 'get' }));
  await page.click('#buy');
  const es = await waitEvents(appId, 'two GET events', (x) => x.length == 2);
  for (const e of es) {
    expect(e.path).toBe('/i');
    expect(e.parameters.co).toBeUndefined();
    const cx = JSON.parse(Buffer.from(e.parameters.cx, 'base64url').toString('utf8'));
    expect(cx.data.some((c: { schema: string }) => c.schema == WEB_PAGE)).toBe(true);
  }
  const ue = ofType(es, 'ue')[0];
  expect(ue.parameters.ue_pr).toBeUndefined();
  const data = JSON.parse(Buffer.from(ue.parameters.ue_px, 'base64url').toString('utf8'));
  expect(data.data.data).toEqual({ buttonId: 'buy', label: 'Buy', position: 0 });
});

test('GET mode: an event too long for a URL is dropped with a console warning and does not hold up the next', async () => {
  const appId = 'get-long-test';
  const warnings: string[] = [];
  page.on('console', (m) => m.type() == 'warning' && warnings.push(m.text()));
  await page.goto(pageUrl(site.url, collector.url, { appId, eventMethod: 'get' }));
  await waitEvents(appId, 'the page view', (x) => x.length == 1);
  await waymark(page, 'trackSelfDescribingEvent', { event: { schema: 'iglu:com.acme/note/jsonschema/1-0-0', data: { text: 'x'.repeat(9000) } } });
  await waymark(page, 'trackStructEvent', { category: 'c', action: 'after-long' });
  const es = await waitEvents(appId, 'the structured event', (x) => x.length == 2);
  expect(es.map((e) => e.parameters.e)).toEqual(['pv', 'se']);
  expect(warnings).toEqual([expect.stringMatching(/^waymark: event [0-9a-f-]{36} dropped: its GET URL of \d+ bytes is over maxGetBytes \(8000\)/)]);
  expect(await page.evaluate(() => localStorage.getItem('waymark_queue_sp'))).toBeNull();
});

test('the async queue: commands before the script loads are replayed; a bad command is reported, not fatal', async () => {
  const appId = 'queue-test';
  const errors: string[] = [];
  page.on('console', (m) => m.type() == 'error' && errors.push(m.text()));
  await page.goto(pageUrl(site.url, collector.url, { appId }));
  await waitEvents(appId, 'the page view', (es) => es.length == 1);
  await page.evaluate(() => {
    const w = window as unknown as { waymark: (...a: unknown[]) => void };
    w.waymark('noSuchCommand');
    w.waymark('trackStructEvent', { category: 'only-category' });
    w.waymark('trackStructEvent:sp', { category: 'c', action: 'after-errors' });
    w.waymark('trackStructEvent:nope', { category: 'c', action: 'a' });
  });
  const es = await waitEvents(appId, 'the structured event', (x) => x.length == 2);
  expect(es[1].parameters.se_ac).toBe('after-errors');
  expect(errors.join('\n')).toMatch(/unknown command "noSuchCommand"/);
  expect(errors.join('\n')).toMatch(/trackStructEvent needs \{ category, action \}/);
  expect(errors.join('\n')).toMatch(/no tracker "nope"/);
});

test('the ESM build works in the browser as a bundled app would use it', async () => {
  const appId = 'esm-test';
  await page.goto(pageUrl(site.url, collector.url, { appId, contexts: { session: true } }, {}, '/esm.html'));
  await waitEvents(appId, 'the page view', (x) => x.length == 1);
  await page.click('#like');
  const es = await waitEvents(appId, 'the structured event', (x) => x.length == 2);
  expect(es.map((e) => [e.parameters.tna, e.parameters.e])).toEqual([
    ['esm', 'pv'],
    ['esm', 'se'],
  ]);
  expect(entities(es[1])[CLIENT_SESSION]).toMatchObject({ eventIndex: 2 });
  expect(await page.evaluate(() => typeof (window as unknown as { waymark?: unknown }).waymark)).toBe('undefined');
});
