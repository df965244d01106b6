/**
 * End to end, in-process mode: Chromium opens the demo site served by the shipped local bundle
 * (`node waymark-local.js`), the shipped tracker sends to its collector, the shipped UDF enriches in-process, and the
 * rows are read back through /micro/good and /micro/bad, field by field. Then the inspection API's filters and
 * errors, the events page, reset, and a clean stop on SIGINT.
 */
import type { Browser } from 'playwright-core';
import { expectDemoRows } from './expectations';
import { DemoResult, getJson, GoodEvent, launchChromium, LocalInstance, portOpen, runDemoScenario, startLocalBundle, waitFor } from './support';

let inst: LocalInstance;
let browser: Browser;
let result: DemoResult;

beforeAll(async () => {
  browser = await launchChromium();
  inst = await startLocalBundle();
  const page = await browser.newPage();
  result = await runDemoScenario(page, inst.base);
  await page.close();
}, 180000);

afterAll(async () => {
  await browser?.close();
  await inst?.proc.killGroup();
});

test('the demo visit arrives as enriched rows and one bad row, field by field', () => {
  expectDemoRows(result, inst.base, inst.port);
});

test('/micro/all counts what /micro/good and /micro/bad list', async () => {
  const all = await getJson(`${inst.base}/micro/all`);
  const good = await getJson<GoodEvent[]>(`${inst.base}/micro/good`);
  expect(all).toEqual({ total: good.length + 1, good: good.length, bad: 1, seq: expect.any(Number), mode: 'in-process' });
  // Newest first, in arrival order.
  const seqs = good.map((g) => g.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
});

test('filters: entity, schema, event type with limit, JSON body; mistakes answer 400 with the reason', async () => {
  const b = inst.base;
  const withProduct = await getJson<GoodEvent[]>(`${b}/micro/good?contexts=iglu:io.waymark.example/product/jsonschema/1-0-0`);
  expect(withProduct.map((g) => g.event.event_id)).toEqual([result.buttonClick.event.event_id]);
  const byColumn = await getJson<GoodEvent[]>(`${b}/micro/good?contexts=contexts_io_waymark_example_product_1,contexts_com_snowplowanalytics_snowplow_web_page_1`);
  expect(byColumn.map((g) => g.event.event_id)).toEqual([result.buttonClick.event.event_id]);
  const links = await getJson<GoodEvent[]>(`${b}/micro/good?schema=${encodeURIComponent('iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1')}`);
  expect(links.map((g) => g.event.event_id)).toEqual([result.linkClick.event.event_id]);
  const lastPageView = await getJson<GoodEvent[]>(`${b}/micro/good?event_type=page_view&limit=1`);
  expect(lastPageView.map((g) => g.event.page_urlpath)).toEqual(['/about.html']);
  const struct = await getJson<GoodEvent[]>(`${b}/micro/good`, { method: 'POST', body: JSON.stringify({ event_type: 'struct' }), headers: { 'Content-Type': 'application/json' } });
  expect(struct.map((g) => g.event.se_action)).toEqual(['like']);
  expect(await getJson(`${b}/micro/bad?type=size_violation`)).toEqual([]);

  const problems: Array<[string, RequestInit | undefined, number, string]> = [
    ['/micro/good?limit=0', undefined, 400, 'limit must be a positive integer, got "0"'],
    ['/micro/good?event=page_view', undefined, 400, 'unknown filter "event"; known filters: event_type, schema, contexts, limit'],
    ['/micro/good?contexts=web_page', undefined, 400, 'contexts: "web_page" is neither an Iglu URI'],
    ['/micro/good', { method: 'POST', body: '{"limit":' }, 400, 'the filter body is not JSON'],
    ['/micro/bad?event_type=x', undefined, 400, 'unknown filter "event_type"; known filters: type, limit'],
    ['/micro/nothing', undefined, 404, 'no such endpoint /micro/nothing; the inspection API has /micro/all, /micro/good, /micro/bad, /micro/events, /micro/timeline, /micro/iglu/<vendor>/<name>/jsonschema/<version>, /micro/replay, /micro/reset, /micro/ui'],
  ];
  for (const [path, init, status, message] of problems) {
    const r = await fetch(`${b}${path}`, init);
    const body = (await r.json()) as { error: string };
    expect([path, r.status, body.error.startsWith(message) ? message : body.error]).toEqual([path, status, message]);
  }
  const wrongMethod = await fetch(`${b}/micro/all`, { method: 'DELETE' });
  expect([wrongMethod.status, wrongMethod.headers.get('allow')]).toEqual([405, 'GET, HEAD, OPTIONS']);
  const redirect = await fetch(`${b}/micro`, { redirect: 'manual' });
  expect([redirect.status, redirect.headers.get('location')]).toEqual([302, '/micro/ui']);
});

test('the same URL serves the demo site, the tracker and the collector; files outside the site are not served', async () => {
  const b = inst.base;
  const home = await fetch(`${b}/`);
  expect([home.status, home.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
  expect(await home.text()).toContain('"waymark","/sp.js"');
  const sp = await fetch(`${b}/sp.js`);
  expect([sp.status, sp.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
  expect(await sp.text()).toContain('newTracker');
  expect((await fetch(`${b}/about`)).status).toBe(200);
  expect((await fetch(`${b}/health`)).status).toBe(200);
  for (const path of ['/%2e%2e/package.json', '/..%2fpackage.json', '/.hidden', '/nope.html']) expect([path, (await fetch(`${b}${path}`)).status]).toEqual([path, 404]);
  expect((await fetch(`${b}/about.html`, { method: 'POST' })).status).toBe(404);
});

test('/micro/events: both streams with the decoded payload, filters, paging and time range; /micro/timeline; /micro/iglu', async () => {
  const b = inst.base;
  const all = await getJson(`${b}/micro/events`);
  const good = await getJson<GoodEvent[]>(`${b}/micro/good`);
  expect(all).toMatchObject({ page: 1, pageSize: 50, totalItems: good.length + 1, totalPages: 1, order: 'newest', mode: 'in-process', replay: true, retention: { max: 10000, kept: { good: good.length, bad: 1 }, dropped: { good: 0, bad: 0 } } });
  expect(all.events.map((e: any) => e.seq)).toEqual([...good.map((g) => g.seq), result.invalid.seq].sort((x, y) => y - x));
  // The bad row says which app, page, session and event failed, and carries the tracker payload decoded.
  const bad = all.events.find((e: any) => !e.valid);
  expect(bad).toMatchObject({
    seq: result.invalid.seq, failureType: 'schema_violations', eventType: 'unstruct', eventName: 'button_click', schema: 'iglu:io.waymark.example/button_click/jsonschema/1-0-1',
    appId: 'waymark-demo', pageUrl: result.pageUrl, sessionId: result.pageView.event.domain_sessionid, domainUserId: result.pageView.event.domain_userid, errors: result.invalid.errors,
  });
  expect(bad.failures.map((f: any) => [f.field, f.path])).toEqual([['ue_pr', '$'], ['ue_pr', '$.position']]);
  expect(bad.payload.decoded.ue_pr.data).toEqual({ schema: 'iglu:io.waymark.example/button_click/jsonschema/1-0-1', data: { label: 'Broken button', position: -1 } });
  // A good row: the tracker payload it came from (the demo's tracker POSTs JSON, base64 off: entities in co, parsed).
  const click = all.events.find((e: any) => e.seq === result.buttonClick.seq);
  expect(click.payload.request).toMatchObject({ method: 'POST', path: '/com.snowplowanalytics.snowplow/tp2' });
  const products = click.payload.decoded.co.data.filter((c: any) => c.schema === 'iglu:io.waymark.example/product/jsonschema/1-0-0');
  expect(products.map((c: any) => c.data)).toEqual([{ sku: 'WM-001', name: 'Waymark mug', price: 9.5, currency: 'EUR' }]);

  const seqs = async (q: string): Promise<number[]> => (await getJson(`${b}/micro/events?${q}`)).events.map((e: any) => e.seq);
  expect(await seqs('validEvents=false')).toEqual([result.invalid.seq]);
  expect(await seqs('failure_type=schema_violations')).toEqual([result.invalid.seq]);
  expect(await seqs('event_type=link_click,struct')).toEqual([result.linkClick.seq, result.structEvent.seq]);
  expect(await seqs('schema=iglu:io.waymark.example/button_click')).toEqual([result.invalid.seq, result.buttonClick.seq]);
  expect(await seqs(`q=${encodeURIComponent('"Broken button"')}`)).toEqual([result.invalid.seq]);
  expect(await seqs('app_id=someone-else')).toEqual([]);
  const paged = await getJson(`${b}/micro/events?pageSize=2&page=2`);
  expect([paged.totalPages, paged.events.map((e: any) => e.seq)]).toEqual([Math.ceil(all.totalItems / 2), all.events.slice(2, 4).map((e: any) => e.seq)]);
  const from = new Date(Date.parse(result.linkClick.received)).toISOString();
  expect(await seqs(`start=${from}`)).toEqual(all.events.filter((e: any) => e.seq >= result.linkClick.seq).map((e: any) => e.seq));
  expect(await seqs(`end=${from}`)).toEqual(all.events.filter((e: any) => Date.parse(e.received) < Date.parse(from)).map((e: any) => e.seq));
  // Snowplow Micro's request body.
  const micro = await getJson(`${b}/micro/events`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ page: 1, pageSize: 1, filters: [{ column: 'event_name', value: 'LINK' }], validEvents: true, timeRange: null }) });
  expect([micro.totalItems, micro.events[0].seq]).toEqual([1, result.linkClick.seq]);

  const timeline = await getJson(`${b}/micro/timeline`);
  expect(timeline.interval).toBe(1);
  expect(timeline.buckets.reduce((n: number, x: any) => n + x.good + x.bad, 0)).toBe(all.totalItems);
  expect(timeline.buckets.reduce((n: number, x: any) => n + x.bad, 0)).toBe(1);
  for (const x of timeline.buckets) expect(x.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);

  // The registry's schemas: the built-ins and the folders the UDF was built for.
  const schema = await getJson(`${b}/micro/iglu/io.waymark.example/button_click/jsonschema/1-0-1`);
  expect(schema.self).toEqual({ vendor: 'io.waymark.example', name: 'button_click', format: 'jsonschema', version: '1-0-1' });
  expect((await getJson(`${b}/micro/iglu/com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0`)).self.name).toBe('web_page');

  const problems: Array<[string, RequestInit | undefined, number, string]> = [
    ['/micro/events?pageSize=5000', undefined, 400, 'pageSize must be an integer from 1 to 1000, got "5000"'],
    ['/micro/events?start=noon', undefined, 400, 'start must be an ISO 8601 time with a zone'],
    ['/micro/events?validEvents=yes', undefined, 400, 'validEvents must be true (good rows only) or false (bad rows only), got "yes"'],
    ['/micro/events?type=x', undefined, 400, 'unknown filter "type"; known filters: validEvents, event_type, app_id, schema'],
    ['/micro/events', { method: 'POST', body: '{"filters": [{"col": "app_id"}]}' }, 400, 'filters[0] must be {"column"'],
    ['/micro/timeline?interval=0', undefined, 400, 'interval must be an integer from 1 to 3600, got "0"'],
    ['/micro/replay', { method: 'POST', body: '{"seqs": "all"}' }, 400, 'seqs must be a list of positive integers'],
    ['/micro/replay', { method: 'POST', body: '{"all": true}' }, 400, 'unknown field "all"'],
    ['/micro/iglu/io.waymark.example/button_click/jsonschema/9-9-9', undefined, 404, 'schema iglu:io.waymark.example/button_click/jsonschema/9-9-9 is not in the registry'],
    ['/micro/iglu/io.waymark.example/button_click', undefined, 404, 'no such schema path /micro/iglu/io.waymark.example/button_click: schemas are at /micro/iglu/<vendor>/<name>/jsonschema/<M-R-A>'],
  ];
  for (const [path, init, status, message] of problems) {
    const r = await fetch(`${b}${path}`, init);
    const body = (await r.json()) as { error: string };
    expect([path, r.status, body.error.startsWith(message) ? message : body.error]).toEqual([path, status, message]);
  }
  expect((await fetch(`${b}/micro/replay`)).status).toBe(405);
});

test('the events page lists every kept row, refreshes live, and reset empties it', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  try {
    await page.goto(`${inst.base}/micro/ui`);
    const all = await getJson(`${inst.base}/micro/events`);
    await page.waitForSelector('#events tbody tr.row');
    const rows = await page.$$eval('#events tbody tr.row', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent)));
    expect(rows).toHaveLength(all.totalItems);
    // Newest first: the page view of the second page leads; columns are #, time (UTC), status, event, app id, user, session, what, page.
    const sid = result.secondPageView.event.domain_sessionid as string;
    expect(rows[0]).toEqual([
      String(result.secondPageView.seq),
      result.secondPageView.received.slice(11, 23),
      'good',
      'page_view',
      'waymark-demo',
      `${(result.secondPageView.event.domain_userid as string).slice(0, 8)}…`,
      `${sid.slice(0, 8)}… #1`,
      'com.snowplowanalytics.snowplow/page_view/jsonschema/1-0-0 · About the Waymark demo',
      '/about.html',
    ]);
    expect(await page.textContent('#events thead')).toContain('Time (UTC)');
    const click = rows.find((r) => r[0] === String(result.buttonClick.seq))!;
    expect(click[7]).toBe('io.waymark.example/button_click/jsonschema/1-0-1 · {"button_id":"add-to-basket","label":"Add to basket","position":0}');
    expect(rows.find((r) => r[3] === 'event')![7]).toBe('com.google.analytics/event/jsonschema/1-0-0 · product · like · WM-001 · 1');
    const bad = rows.find((r) => r[2] === 'bad')!;
    expect(bad.slice(3, 8)).toEqual(['button_click', 'waymark-demo', bad[5], bad[6], `schema_violations: ${result.invalid.errors[0]}`]);
    expect(await page.textContent('#good-count')).toBe(String(all.counts.good));
    expect(await page.textContent('#bad-count')).toBe('1');
    expect(await page.textContent('#retention')).toBe(`${all.totalItems} rows kept (${all.counts.good} good, 1 bad; at most 10,000 of each) · none dropped`);

    // Live: an event sent now shows up without reloading.
    const eid = '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';
    const sent = await fetch(`${inst.base}/i?e=se&se_ca=live&se_ac=refresh&eid=${eid}&tv=test&p=web&aid=live-test`);
    expect(sent.status).toBe(200);
    await page.waitForFunction(() => document.querySelector('#events tbody tr.row td.c-app')?.textContent === 'live-test');

    // Reset from the page.
    await page.click('#reset');
    await page.waitForSelector('#events tbody tr.empty');
    expect(await page.textContent('#events tbody')).toBe('No events yet: open the demo site, or send events to this collector.');
    expect(await getJson(`${inst.base}/micro/all`)).toMatchObject({ total: 0, good: 0, bad: 0 });
    expect(await getJson(`${inst.base}/micro/good`)).toEqual([]);
  } finally {
    await page.close();
  }
});

test('SIGINT stops the local mode: the collector drains, the port closes, exit code 0', async () => {
  inst.proc.signalGroup('SIGINT');
  expect(await inst.proc.exited).toBe(0);
  expect(inst.proc.output()).toMatch(/Stopping \(SIGINT\) …\nStopped\.\n$/);
  await waitFor('the port to close', async () => !(await portOpen(inst.port)), 5000);
});
