/**
 * The shipped sp.js in real Chromium: identity and session state across page loads (Snowplow's cookie format),
 * anonymous mode and opt-out, and the offline queue against a collector that goes down and comes back.
 */
import { createHash } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  CLIENT_SESSION,
  closeAndCheck,
  entities,
  launchChromium,
  NIL_UUID,
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
} from './harness';

let browser: Browser;
let site: { url: string };
let collector: TestCollector;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  [browser, site, collector] = await Promise.all([launchChromium(), startSite(), startCollector()]);
});
afterAll(stopAll);
let current: PageUnderTest | undefined;
beforeEach(async () => {
  current = undefined;
  current = await openPage(browser, collector);
  ({ context, page } = current);
});
afterEach(() => closeAndCheck(current, collector));

// Snowplow names its cookies after sha1(cookie domain or host + path), first 4 hex digits.
const HASH = createHash('sha1').update('127.0.0.1/').digest('hex').slice(0, 4);

async function eventsOf(appId: string): Promise<Received[]> {
  return (await collector.events()).filter((e) => e.parameters.aid == appId);
}
function waitCount(appId: string, n: number, what: string, timeoutMs?: number): Promise<Received[]> {
  return waitFor(
    what,
    async () => {
      const es = await eventsOf(appId);
      return es.length >= n && es;
    },
    timeoutMs,
  );
}
const cookieMap = async (): Promise<Record<string, string>> =>
  Object.fromEntries((await context.cookies()).map((c) => [c.name, decodeURIComponent(c.value)]));
const waymark = (p: Page, ...args: unknown[]): Promise<void> =>
  p.evaluate((a) => (window as unknown as { waymark: (...x: unknown[]) => void }).waymark(...a), args);

test('session continuity across reloads, then a new session after the timeout; cookies in Snowplow format', async () => {
  const appId = 'session-test';
  // Short, but long enough for a reload on a busy machine to happen within the session.
  const url = pageUrl(site.url, collector.url, { appId, sessionCookieTimeout: 6, contexts: { session: true } });
  await page.goto(url);
  const [a] = await waitCount(appId, 1, 'the first page view');
  await page.reload();
  const [, b] = await waitCount(appId, 2, 'the page view after reload');

  // Same visitor and session across the reload, the event index goes on.
  expect(b.parameters).toMatchObject({ duid: a.parameters.duid, sid: a.parameters.sid, vid: '1' });
  expect(entities(b)[CLIENT_SESSION]).toMatchObject({ sessionIndex: 1, eventIndex: 2, firstEventId: a.parameters.eid });

  const cookies = await cookieMap();
  expect(cookies[`_sp_ses.${HASH}`]).toBe('*');
  const id = cookies[`_sp_id.${HASH}`].split('.');
  expect(id).toHaveLength(10);
  expect(id[0]).toBe(a.parameters.duid);
  expect(id[2]).toBe('1');
  expect(id[5]).toBe(a.parameters.sid);
  expect(id[7]).toBe(a.parameters.eid);
  expect(id[8]).toBe(a.parameters.dtm);
  expect(id[9]).toBe('2');
  for (const i of [1, 3]) expect(id[i]).toMatch(/^\d{10}$/);

  // Past the session timeout without events, the session marker has expired: a new session starts.
  await waitFor('the session cookie to expire', async () => !(`_sp_ses.${HASH}` in (await cookieMap())), 20000);
  await page.reload();
  const [, , c] = await waitCount(appId, 3, 'the page view in the new session');
  expect(c.parameters.duid).toBe(a.parameters.duid);
  expect(c.parameters.sid).not.toBe(a.parameters.sid);
  expect(c.parameters.vid).toBe('2');
  expect(entities(c)[CLIENT_SESSION]).toMatchObject({
    userId: a.parameters.duid,
    sessionId: c.parameters.sid,
    sessionIndex: 2,
    eventIndex: 1,
    previousSessionId: a.parameters.sid,
    firstEventId: c.parameters.eid,
  });
});

test('an existing Snowplow cookie is picked up: the visitor keeps its ids', async () => {
  const appId = 'migrate-test';
  const duid = 'b9e3c5a2-5d3e-4c5b-9a0e-1f2d3c4b5a69';
  const sid = 'c1c2c3c4-0000-4000-8000-000000000001';
  const now = Math.round(Date.now() / 1000);
  await context.addCookies([
    { name: `_sp_id.${HASH}`, value: `${duid}.1690000000.7.${now}.1699000000.${sid}..f1f2f3f4-0000-4000-8000-000000000003.1699999999000.12`, url: site.url },
    { name: `_sp_ses.${HASH}`, value: '*', url: site.url },
  ]);
  await page.goto(pageUrl(site.url, collector.url, { appId }));
  const [e] = await waitCount(appId, 1, 'the page view');
  expect(e.parameters).toMatchObject({ duid, sid, vid: '7' });
});

test('cookies blocked: identity falls back to localStorage', async () => {
  const appId = 'ls-test';
  const url = pageUrl(site.url, collector.url, { appId, contexts: { session: true } });
  await page.addInitScript(() => {
    Object.defineProperty(Document.prototype, 'cookie', { get: () => '', set: () => undefined, configurable: true });
  });
  await page.goto(url);
  const [a] = await waitCount(appId, 1, 'the first page view');
  await page.reload();
  const [, b] = await waitCount(appId, 2, 'the second page view');
  expect(b.parameters.duid).toBe(a.parameters.duid);
  expect(b.parameters.sid).toBe(a.parameters.sid);
  expect(entities(b)[CLIENT_SESSION]).toMatchObject({ storageMechanism: 'LOCAL_STORAGE', eventIndex: 2 });
  const stored = await page.evaluate((h) => localStorage.getItem(`_sp_id.${h}`), HASH);
  expect(stored?.split('.')[0]).toBe(a.parameters.duid);
  expect(Object.keys(await cookieMap()).filter((n) => n.startsWith('_sp_'))).toEqual([]);
});

test('anonymous mode: SP-Anonymous header, no ids, nothing stored; switching at run time deletes the cookies', async () => {
  const appId = 'anon-test';
  await page.goto(pageUrl(site.url, collector.url, { appId, anonymousTracking: true, contexts: { session: true } }));
  await waymark(page, 'setUserId', 'someone');
  await waymark(page, 'trackStructEvent', { category: 'c', action: 'anonymous' });
  const es = await waitCount(appId, 2, 'two anonymous events');
  for (const e of es) {
    expect(e.networkUserId).toBe(NIL_UUID);
    for (const k of ['duid', 'sid', 'vid', 'uid', 'nuid']) expect(e.parameters[k]).toBeUndefined();
    expect(entities(e)[CLIENT_SESSION]).toBeUndefined();
  }
  expect(await context.cookies()).toEqual([]);
  expect(await page.evaluate(() => Object.keys(localStorage))).toEqual([]);

  // Consent given: ids and cookies appear; withdrawn: the tracker's cookies are deleted again.
  await waymark(page, 'disableAnonymousTracking');
  await waymark(page, 'trackStructEvent', { category: 'c', action: 'consented' });
  const [, , consented] = await waitCount(appId, 3, 'the consented event');
  expect(consented.parameters.duid).toBeTruthy();
  expect(consented.networkUserId).not.toBe(NIL_UUID);
  expect(Object.keys(await cookieMap())).toEqual(expect.arrayContaining([`_sp_id.${HASH}`, `_sp_ses.${HASH}`]));
  await waymark(page, 'enableAnonymousTracking');
  await waymark(page, 'trackStructEvent', { category: 'c', action: 'withdrawn' });
  const [, , , withdrawn] = await waitCount(appId, 4, 'the event after withdrawal');
  expect(withdrawn.parameters.duid).toBeUndefined();
  expect(withdrawn.networkUserId).toBe(NIL_UUID);
  expect(Object.keys(await cookieMap()).filter((n) => n.startsWith('_sp_'))).toEqual([]);
});

test('opt-out stops tracking (also after reload) and deletes the cookies; Do Not Track is respected', async () => {
  const appId = 'optout-test';
  const url = pageUrl(site.url, collector.url, { appId });
  await page.goto(url);
  await waitCount(appId, 1, 'the page view');
  await waymark(page, 'optOut');
  await waymark(page, 'trackStructEvent', { category: 'c', action: 'after-opt-out' });
  await page.reload();
  expect(Object.keys(await cookieMap()).filter((n) => n.startsWith('_sp_'))).toEqual([]);
  await waymark(page, 'optIn');
  await waymark(page, 'trackStructEvent', { category: 'c', action: 'after-opt-in' });
  const es = await waitCount(appId, 2, 'the event after opt-in');
  expect(es.map((e) => e.parameters.se_ac ?? e.parameters.e)).toEqual(['pv', 'after-opt-in']);

  const dnt = await browser.newContext();
  try {
    const p = await dnt.newPage();
    await p.addInitScript(() => Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' }));
    await p.goto(pageUrl(site.url, collector.url, { appId: 'dnt-test', respectDoNotTrack: true }));
    await waymark(p, 'trackStructEvent', { category: 'c', action: 'dnt' });
    await p.goto(pageUrl(site.url, collector.url, { appId: 'dnt-control' }));
    await waitCount('dnt-control', 1, 'the control page view');
    expect(await eventsOf('dnt-test')).toEqual([]);
  } finally {
    await dnt.close();
  }
});

test('offline queue: events tracked while the collector is down arrive after it restarts, each once', async () => {
  const appId = 'offline-test';
  await page.goto(pageUrl(site.url, collector.url, { appId }));
  await waitCount(appId, 1, 'the page view');

  await collector.stop();
  await waymark(page, 'trackStructEvent', { category: 'offline', action: 'one' });
  await waymark(page, 'trackStructEvent', { category: 'offline', action: 'two' });
  // The failed events wait in localStorage for the next attempt.
  await waitFor('the failed events to be stored', () =>
    page.evaluate(() => (JSON.parse(localStorage.getItem('waymark_queue_sp') || '[]') as unknown[]).length == 2),
  );
  // A page load while the collector is still down: the stored queue carries over to the next page.
  await page.reload();
  await waymark(page, 'trackStructEvent', { category: 'offline', action: 'three' });
  await sleep(1500);
  await collector.start();

  const es = await waitCount(appId, 5, 'all events after the restart', 40000);
  expect(es.map((e) => e.parameters.se_ac ?? e.parameters.e).sort()).toEqual(['one', 'pv', 'pv', 'three', 'two']);
  await sleep(1000);
  const eids = (await eventsOf(appId)).map((e) => e.parameters.eid);
  expect(eids).toHaveLength(5);
  expect(new Set(eids).size).toBe(5);
  expect(await page.evaluate(() => localStorage.getItem('waymark_queue_sp'))).toBeNull();
  // stm is set when sent: the retried events were sent later than they were created.
  const one = es.find((e) => e.parameters.se_ac == 'one')!;
  expect(+one.parameters.stm).toBeGreaterThan(+one.parameters.dtm);
});
