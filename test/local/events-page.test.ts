/**
 * The events page in Chromium against the SHIPPED local bundle, keeping at most 20 rows per stream: 23 good events
 * (3 dropped) and 2 bad ones, sent to the collector as trackers send them (GET, base64 `ue_px`). Filters narrow the
 * rows, paging reaches the oldest kept row, the detail shows the decoded payload, a bad row open overflows neither
 * 1,400 px nor 420 px, a shared URL restores the filters, and the keyboard alone opens and closes a row.
 */
import type { Browser, Page } from 'playwright-core';
import { getJson, launchChromium, LocalInstance, startLocalBundle } from './support';

let inst: LocalInstance;
let browser: Browser;
const UE = 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0';
const BUTTON = 'iglu:io.waymark.example/button_click/jsonschema/1-0-1';
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const eid = (i: number): string => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const clickEvent = { schema: UE, data: { schema: BUTTON, data: { buttonId: 'add-to-basket', label: 'WM-042 mug', position: 1 } } };
const brokenEvent = { schema: UE, data: { schema: BUTTON, data: { buttonId: 'b', position: -1 } } };

async function send(params: Record<string, string>): Promise<void> {
  const r = await fetch(`${inst.base}/i?${new URLSearchParams({ tv: 'test', p: 'web', ...params }).toString()}`);
  expect(r.status).toBe(200);
}

beforeAll(async () => {
  browser = await launchChromium();
  inst = await startLocalBundle([], { WAYMARK_LOCAL_MAX_EVENTS: '20' });
  for (let i = 1; i <= 22; i++) {
    await send({ e: 'pv', eid: eid(i), aid: i % 2 ? 'shop-a' : 'shop-b', url: `https://shop.example/p/${i}`, page: `Product ${i}`, uid: `user-${i}`, duid: 'd-1', sid: 's-1', vid: '1' });
  }
  await send({ e: 'ue', eid: eid(23), aid: 'shop-a', url: 'https://shop.example/basket', duid: 'd-1', sid: 's-1', vid: '1', ue_px: b64(clickEvent) });
  await send({ e: 'ue', eid: eid(24), aid: 'shop-b', url: 'https://shop.example/broken', duid: 'd-2', sid: 's-2', vid: '4', ue_px: b64(brokenEvent) });
  await send({ e: 'zz', eid: eid(25), aid: 'shop-b', url: 'https://shop.example/odd' });
  const all = await getJson(`${inst.base}/micro/all`);
  expect(all).toMatchObject({ good: 23, bad: 2 });
}, 180000);

afterAll(async () => {
  await browser?.close();
  await inst?.proc.killGroup();
});

async function openPage(query = '', width = 1400, height = 900): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height } });
  await page.goto(`${inst.base}/micro/ui${query}`);
  await page.waitForSelector('#events tbody tr.row, #events tbody tr.empty');
  return page;
}

const shown = (page: Page): Promise<Array<{ seq: number; status: string; app: string; what: string }>> =>
  page.$$eval('#events tbody tr.row', (trs) =>
    trs.map((tr) => ({ seq: Number((tr as HTMLElement).dataset.seq), status: tr.querySelector('.c-status')!.textContent!, app: tr.querySelector('.c-app')!.textContent!, what: tr.querySelector('.c-what')!.textContent! })),
  );

/** Waits until the list shows what the API answers for the same filters (the page reloads after typing stops). */
async function settled(page: Page, expected: number[]): Promise<void> {
  await page.waitForFunction((want) => JSON.stringify(Array.from(document.querySelectorAll('#events tbody tr.row')).map((tr) => Number((tr as HTMLElement).dataset.seq))) === want, JSON.stringify(expected));
}

const apiSeqs = async (query: string): Promise<number[]> => (await getJson(`${inst.base}/micro/events?${query}`)).events.map((e: any) => e.seq);

test('the timeline shows the kept rows per second (UTC); a bar, chosen with the keyboard, filters to its second', async () => {
  const page = await openPage();
  try {
    await page.waitForSelector('#timeline-svg rect.hit');
    const bars = await page.$$eval('#timeline-svg rect.hit', (rs) => rs.map((r) => r.getAttribute('aria-label')!));
    const counts = bars.map((label) => /^(\d{2}:\d{2}:\d{2}) UTC: (\d+) good, (\d+) bad: show this second$/.exec(label)!);
    expect(counts.every((m) => m !== null)).toBe(true);
    expect(counts.reduce((n, m) => n + Number(m[2]), 0)).toBe(20);
    expect(counts.reduce((n, m) => n + Number(m[3]), 0)).toBe(2);
    expect(await page.textContent('#axis-end')).toMatch(/^\d{2}:\d{2}:\d{2} UTC$/);
    await page.focus('#timeline-svg rect.hit');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => new URLSearchParams(location.search).has('start'));
    const p = new URL(page.url()).searchParams;
    expect(Date.parse(p.get('end')!) - Date.parse(p.get('start')!)).toBe(1000);
    expect(p.get('start')!.slice(11, 19)).toBe(counts[0][1]);
    const expected = await apiSeqs(`start=${p.get('start')}&end=${p.get('end')}`);
    await settled(page, expected);
    expect(expected.length).toBe(Number(counts[0][2]) + Number(counts[0][3]));
  } finally {
    await page.close();
  }
});

test('filters narrow the rows: status, app id, failure type, free text over the decoded payload; the URL carries them', async () => {
  const page = await openPage();
  try {
    expect(await shown(page)).toHaveLength(22); // 20 good kept + 2 bad, on one page of 50
    await page.selectOption('select[name=validEvents]', 'false');
    await settled(page, await apiSeqs('validEvents=false'));
    expect((await shown(page)).map((r) => r.status)).toEqual(['bad', 'bad']);
    await page.fill('input[name=failure_type]', 'schema_violations');
    await settled(page, await apiSeqs('validEvents=false&failure_type=schema_violations'));
    expect((await shown(page)).map((r) => r.seq)).toEqual([24]);
    await page.click('#clear');
    await page.fill('input[name=app_id]', 'shop-b');
    const shopB = await apiSeqs('app_id=shop-b');
    await settled(page, shopB);
    expect(new Set((await shown(page)).map((r) => r.app))).toEqual(new Set(['shop-b']));
    expect(shopB.length).toBeLessThan(22);
    // Free text: the label sits only inside the base64 ue_px of one event.
    await page.click('#clear');
    await page.fill('input[name=q]', 'wm-042');
    await settled(page, [23]);
    expect(new URL(page.url()).searchParams.get('q')).toBe('wm-042');
    await page.fill('input[name=schema]', 'iglu:io.waymark.example/button_click');
    await page.waitForFunction(() => new URLSearchParams(location.search).has('schema'));
    await settled(page, [23]);
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({ q: 'wm-042', schema: 'iglu:io.waymark.example/button_click' });
    // A filter the API refuses is said on the page.
    await page.fill('input[name=start]', 'yesterday');
    await page.waitForFunction(() => /start must be an ISO 8601 time/.test(document.getElementById('status')!.textContent!));
  } finally {
    await page.close();
  }
});

test('paging reaches the oldest kept row, and the page says how many are kept and that older ones were dropped', async () => {
  const page = await openPage('?pageSize=20');
  try {
    const oldest = (await getJson(`${inst.base}/micro/events?order=oldest&pageSize=1`)).events[0];
    expect(oldest.seq).toBe(4); // page views 1-3 were dropped to keep 20 good rows
    // The pager and retention lines are written after the rows: wait for them, then say exactly what they read.
    await page.waitForFunction(() => document.getElementById('page-info')!.textContent !== '' && document.getElementById('retention')!.textContent !== '');
    expect(await page.textContent('#page-info')).toBe('page 1 of 2 · 1–20 of 22 matching');
    expect(await page.textContent('#retention')).toBe('22 rows kept (20 good, 2 bad; at most 20 of each) · 3 older rows were dropped (3 good, 0 bad) and are not shown');
    // The keyboard drives the pager too.
    await page.focus('#next');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('page-info')!.textContent!.startsWith('page 2 of 2'));
    const rows = await shown(page);
    expect(rows.map((r) => r.seq)).toEqual([5, 4]);
    expect(await page.isDisabled('#next')).toBe(true);
    expect(new URL(page.url()).searchParams.get('page')).toBe('2');
    await page.click('#first');
    await page.waitForFunction(() => document.getElementById('page-info')!.textContent!.startsWith('page 1 of 2'));
    await page.click('#last');
    await page.waitForFunction(() => document.getElementById('page-info')!.textContent!.startsWith('page 2 of 2'));
    expect((await shown(page)).pop()!.seq).toBe(oldest.seq);
  } finally {
    await page.close();
  }
});

test('the detail shows the tracker payload decoded beside the enriched row', async () => {
  const page = await openPage('?q=wm-042');
  try {
    await settled(page, [23]);
    await page.click('#events tr.row[data-seq="23"]');
    await page.waitForSelector('#detail:not([hidden])');
    const decoded = JSON.parse((await page.textContent('#detail-payload tr[data-param="ue_px"] pre'))!);
    expect(decoded).toEqual(clickEvent);
    expect(await page.textContent('#detail-payload tr[data-param="ue_px"] td.name small')).toBe('self-describing event (base64, decoded)');
    expect(await page.textContent('#detail-payload tr[data-param="aid"] td.value')).toBe('shop-a');
    const row = JSON.parse((await page.textContent('#detail-row pre'))!);
    expect(row).toMatchObject({ event_id: eid(23), app_id: 'shop-a', unstruct_event_io_waymark_example_button_click_1: { button_id: 'add-to-basket', label: 'WM-042 mug', position: 1 } });
    // Beside: on a wide window the payload and the row are side by side.
    const [p, r] = await Promise.all([page.$eval('#detail-payload', (e) => e.getBoundingClientRect().toJSON()), page.$eval('#detail-row', (e) => e.getBoundingClientRect().toJSON())]);
    expect(r.left).toBeGreaterThanOrEqual(p.right);
    expect(Math.abs(r.top - p.top)).toBeLessThan(2);
    expect(await page.textContent('#detail')).toContain('Original request');
  } finally {
    await page.close();
  }
});

for (const [width, height] of [[1400, 900], [420, 860]]) {
  test(`a bad row open at ${width} px: no horizontal overflow, the failure next to its parameter, the original request`, async () => {
    const page = await openPage('?validEvents=false', width, height);
    try {
      await page.click('#events tr.row[data-seq="24"]');
      await page.waitForSelector('#detail:not([hidden])');
      const failure = await page.textContent('#detail-payload tr[data-param="ue_px"].failed');
      expect(failure).toContain('at $.position (minimum): expected a number >= 0, found number -1');
      expect(await page.textContent('#detail-payload tr[data-param="ue_px"] pre')).toContain('"position": -1');
      expect(await page.textContent('#detail')).toContain('Original request');
      expect(await page.textContent('#detail-facts')).toContain('app shop-b · domain user d-2 · session s-2 (#4) · page https://shop.example/broken');
      const sizes = await page.evaluate(() => {
        const d = document.getElementById('detail')!;
        return { doc: [document.documentElement.scrollWidth, document.documentElement.clientWidth], body: [document.body.scrollWidth, document.body.clientWidth], detail: [d.scrollWidth, d.clientWidth] };
      });
      expect(sizes.doc[0]).toBeLessThanOrEqual(sizes.doc[1]);
      expect(sizes.body[0]).toBeLessThanOrEqual(sizes.body[1]);
      expect(sizes.detail[0]).toBeLessThanOrEqual(sizes.detail[1]);
      expect(sizes.doc[1]).toBe(width);
    } finally {
      await page.close();
    }
  });
}

test('a shared URL restores the filters and the page; the keyboard opens a row and Escape closes it', async () => {
  const page = await openPage();
  try {
    await page.fill('input[name=app_id]', 'shop-a');
    await page.selectOption('select[name=pageSize]', '20');
    const expected = await apiSeqs('app_id=shop-a&pageSize=20');
    await settled(page, expected);
    const shared = page.url();
    const other = await browser.newPage({ viewport: { width: 420, height: 860 } });
    try {
      await other.goto(shared);
      await settled(other, expected);
      expect(await other.inputValue('input[name=app_id]')).toBe('shop-a');
      expect(await other.inputValue('select[name=pageSize]')).toBe('20');
    } finally {
      await other.close();
    }
    const restored = await openPage('?validEvents=false&app_id=shop-b&q=zz&page=1');
    try {
      await settled(restored, [25]);
      expect([await restored.inputValue('select[name=validEvents]'), await restored.inputValue('input[name=app_id]'), await restored.inputValue('input[name=q]')]).toEqual(['false', 'shop-b', 'zz']);
      // Keyboard only: focus the row, Enter opens it, Escape closes it and gives the focus back.
      await restored.focus('#events tr.row');
      await restored.keyboard.press('Enter');
      await restored.waitForSelector('#detail:not([hidden])');
      expect(await restored.getAttribute('#detail', 'data-seq')).toBe('25');
      expect(await restored.textContent('#detail')).toContain('tracker_protocol_violations');
      await restored.keyboard.press('Escape');
      await restored.waitForSelector('#detail[hidden]', { state: 'attached' });
      expect(await restored.evaluate(() => (document.activeElement as HTMLElement).dataset.seq)).toBe('25');
      await restored.keyboard.press('/');
      expect(await restored.evaluate(() => (document.activeElement as HTMLInputElement).name)).toBe('q');
    } finally {
      await restored.close();
    }
  } finally {
    await page.close();
  }
});
