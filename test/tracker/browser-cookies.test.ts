/**
 * The cookie options of the shipped sp.js in real Chromium (name, domain, lifetime, SameSite, Secure), and
 * `stateStorage: 'none'`, which keeps nothing on the device.
 *
 * A cookie domain needs a host name, not 127.0.0.1: Chromium resolves *.waymark.test to 127.0.0.1
 * (--host-resolver-rules), and treats the two test origins as secure (as https pages would be), so that it
 * accepts Secure cookies on them. The collector stays on 127.0.0.1, a different site from the pages.
 */
import { createHash } from 'node:crypto';
import type { Browser, BrowserContext, Cookie, Page } from 'playwright-core';
import {
  CLIENT_SESSION,
  closeAndCheck,
  entities,
  launchChromium,
  openPage,
  PageUnderTest,
  pageUrl,
  Received,
  startCollector,
  startSite,
  stopAll,
  TestCollector,
  waitFor,
} from './harness';

let browser: Browser;
let www: string;
let shop: string;
let collector: TestCollector;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  let site: { url: string };
  [site, collector] = await Promise.all([startSite(), startCollector()]);
  const port = new URL(site.url).port;
  www = `http://www.waymark.test:${port}`;
  shop = `http://shop.waymark.test:${port}`;
  browser = await launchChromium([
    '--host-resolver-rules=MAP *.waymark.test 127.0.0.1',
    `--unsafely-treat-insecure-origin-as-secure=${www},${shop}`,
  ]);
});
afterAll(stopAll);
let current: PageUnderTest | undefined;
beforeEach(async () => {
  current = undefined;
  current = await openPage(browser, collector);
  ({ context, page } = current);
});
afterEach(() => closeAndCheck(current, collector));

const sha4 = (s: string): string => createHash('sha1').update(s).digest('hex').slice(0, 4);
const eventsOf = async (appId: string): Promise<Received[]> => (await collector.events()).filter((e) => e.parameters.aid == appId);
const waitCount = (appId: string, n: number, what: string): Promise<Received[]> =>
  waitFor(what, async () => {
    const es = await eventsOf(appId);
    return es.length >= n && es;
  });
/** Cookies of the pages' site (not the collector's own cookie on 127.0.0.1). */
const siteCookies = async (): Promise<Cookie[]> => (await context.cookies()).filter((c) => c.domain.endsWith('waymark.test'));
const waymark = (p: Page, ...args: unknown[]): Promise<void> =>
  p.evaluate((a) => (window as unknown as { waymark: (...x: unknown[]) => void }).waymark(...a), args);

test('cookieName, cookieDomain, cookieLifetime, cookieSameSite and cookieSecure shape the cookies; subdomains share them', async () => {
  const appId = 'cookie-options';
  const options = {
    appId,
    cookieName: '_wm_',
    cookieDomain: '.waymark.test',
    cookieLifetime: 3600,
    cookieSameSite: 'Strict',
    cookieSecure: true,
    sessionCookieTimeout: 600,
    contexts: { session: true },
  };
  const before = Date.now() / 1000;
  await page.goto(pageUrl(www, collector.url, options));
  const [a] = await waitCount(appId, 1, 'the page view on www');
  const after = Date.now() / 1000;

  // Named after the prefix and sha1(cookie domain + '/'); nothing under the default name, no probe left behind.
  const hash = sha4('.waymark.test/');
  const cookies = await siteCookies();
  expect(cookies.map((c) => c.name).sort()).toEqual([`_wm_id.${hash}`, `_wm_ses.${hash}`]);
  for (const c of cookies) {
    expect(c).toMatchObject({ domain: '.waymark.test', path: '/', secure: true, sameSite: 'Strict', httpOnly: false });
  }
  const id = cookies.find((c) => c.name == `_wm_id.${hash}`)!;
  const ses = cookies.find((c) => c.name == `_wm_ses.${hash}`)!;
  expect(decodeURIComponent(id.value).split('.')[0]).toBe(a.parameters.duid);
  // Lifetimes: cookieLifetime for the id cookie, the session timeout for the session marker (1 s of rounding).
  expect(id.expires).toBeGreaterThanOrEqual(before + 3600 - 1);
  expect(id.expires).toBeLessThanOrEqual(after + 3600 + 1);
  expect(ses.expires).toBeGreaterThanOrEqual(before + 600 - 1);
  expect(ses.expires).toBeLessThanOrEqual(after + 600 + 1);

  // Another subdomain of the cookie domain continues the same visitor and session.
  await page.goto(pageUrl(shop, collector.url, options));
  const [, b] = await waitCount(appId, 2, 'the page view on shop');
  expect(b.parameters.url.startsWith(shop)).toBe(true);
  expect(b.parameters).toMatchObject({ duid: a.parameters.duid, sid: a.parameters.sid, vid: '1' });
  expect(entities(b)[CLIENT_SESSION]).toMatchObject({ storageMechanism: 'COOKIE_1', eventIndex: 2 });
  expect((await siteCookies()).map((c) => c.name).sort()).toEqual([`_wm_id.${hash}`, `_wm_ses.${hash}`]);
});

test("stateStorage 'none': ids live in memory only, no cookies and no localStorage", async () => {
  const appId = 'state-none';
  await page.goto(pageUrl(www, collector.url, { appId, stateStorage: 'none', contexts: { session: true } }));
  await waymark(page, 'trackStructEvent', { category: 'c', action: 'a' });
  const [a, b] = await waitCount(appId, 2, 'two events');
  // Within the page the visitor and session go on (from memory) ...
  expect(a.parameters.duid).toMatch(/^[0-9a-f-]{36}$/);
  expect(b.parameters).toMatchObject({ duid: a.parameters.duid, sid: a.parameters.sid, vid: '1' });
  expect(entities(b)[CLIENT_SESSION]).toMatchObject({ eventIndex: 2 });
  // ... and nothing is kept on the device: no cookie, no localStorage (not even the outgoing queue).
  expect(await siteCookies()).toEqual([]);
  expect(await page.evaluate(() => Object.keys(localStorage))).toEqual([]);
  // The next page load is a new visitor.
  await page.reload();
  const [, , c] = await waitCount(appId, 3, 'the page view after reload');
  expect(c.parameters.duid).toMatch(/^[0-9a-f-]{36}$/);
  expect(c.parameters.duid).not.toBe(a.parameters.duid);
  expect(await siteCookies()).toEqual([]);
  expect(await page.evaluate(() => Object.keys(localStorage))).toEqual([]);
});
