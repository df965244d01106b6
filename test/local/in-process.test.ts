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
    ['/micro/nothing', undefined, 404, 'no such endpoint /micro/nothing; the inspection API has /micro/all, /micro/good, /micro/bad, /micro/reset, /micro/ui'],
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

test('the events page lists the latest good and bad events and refreshes live; reset empties it', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${inst.base}/micro/ui`);
    const good = await getJson<GoodEvent[]>(`${inst.base}/micro/good`);
    await page.waitForSelector('#good tbody tr.row');
    const rows = await page.$$eval('#good tbody tr.row', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent)));
    expect(rows).toHaveLength(good.length);
    // Newest first: the page view of the second page leads; columns are #, received, event, details, schema, page, entities.
    expect(rows[0]).toEqual([
      String(result.secondPageView.seq),
      result.secondPageView.received.slice(11, 19),
      'page_view',
      'About the Waymark demo',
      'com.snowplowanalytics.snowplow/page_view/jsonschema/1-0-0',
      '/about.html',
      'client_session_1web_page_1',
    ]);
    const click = rows.find((r) => r[2] === 'button_click')!;
    expect(click.slice(3)).toEqual([
      '{"button_id":"add-to-basket","label":"Add to basket","position":0}',
      'io.waymark.example/button_click/jsonschema/1-0-1',
      '/?pings=1,1',
      'client_session_1web_page_1io_waymark_example_product_1',
    ]);
    expect(rows.find((r) => r[2] === 'struct')!.slice(3, 5)).toEqual(['product · like · WM-001 · 1', 'com.google.analytics/event/jsonschema/1-0-0']);
    expect(rows.find((r) => r[2] === 'link_click')![3]).toBe(JSON.stringify(result.linkClick.event.unstruct_event_com_snowplowanalytics_snowplow_link_click_1));
    expect(rows.find((r) => r[2] === 'page_ping')![3]).toMatch(/^scrolled to \d+ px$/);
    const bad = await page.$$eval('#bad tbody tr.row', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent)));
    expect(bad).toHaveLength(1);
    expect(bad[0].slice(2)).toEqual(['schema_violations', 'waymark-enrich', result.invalid.errors.join('')]);
    expect(await page.textContent('#good-count')).toBe(String(good.length));
    expect(await page.textContent('#bad-count')).toBe('1');

    // A row opens to show the whole row as JSON.
    await page.click(`#good tbody tr.row[data-seq="${result.buttonClick.seq}"]`);
    expect(JSON.parse((await page.textContent('#good tr.detail pre'))!)).toEqual(result.buttonClick.event);

    // Live: an event sent now shows up without reloading.
    const eid = '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';
    const sent = await fetch(`${inst.base}/i?e=se&se_ca=live&se_ac=refresh&eid=${eid}&tv=test&p=web&aid=live-test`);
    expect(sent.status).toBe(200);
    await page.waitForFunction(() => document.querySelector('#good tbody tr.row td:nth-child(4)')?.textContent === 'live · refresh');

    // Reset from the page.
    await page.click('#reset');
    await page.waitForSelector('#good tbody tr.empty');
    expect(await page.textContent('#bad tbody')).toBe('No bad events.');
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
