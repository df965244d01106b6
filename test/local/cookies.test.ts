/**
 * What docs/local-mode.md says about cookies in local mode, checked in Chromium against the shipped bundle: the
 * collector's `nuid` cookie (SameSite=Lax, not Secure, in local mode) comes back when the page and the collector are
 * the same site, ports apart (localhost:X → localhost:Y), and never when they are not (127.0.0.1:X → localhost:Y):
 * then every event gets a new network_userid. The browser rule: https://web.dev/articles/same-site-same-origin
 * (same-site ignores the port) and RFC 6265bis (SameSite=Lax cookies are neither sent with nor set by cross-site
 * subresource requests).
 */
import { randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { getJson, launchChromium, LocalInstance, startLocalBundle } from './support';

let inst: LocalInstance;
let browser: Browser;
let site: Server;
let sitePort: number;

beforeAll(async () => {
  browser = await launchChromium();
  inst = await startLocalBundle();
  // A page of "your own site", on another port than the collector.
  site = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>my site</title><p>my site</p>');
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', () => r()));
  sitePort = (site.address() as { port: number }).port;
}, 180000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => site?.close(r));
  await inst?.proc.killGroup();
});

/** Opens the site on `host`, sends two events to the collector on localhost as a tracker's GET would, and returns their network_userids. */
async function networkUserIds(host: string, label: string): Promise<string[]> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`http://${host}:${sitePort}/`);
    for (const n of [1, 2]) {
      const url = `http://localhost:${inst.port}/i?e=se&se_ca=${label}&se_ac=${n}&eid=${randomUUID()}&tv=test&p=web&aid=cookies`;
      await page.evaluate((u) => fetch(u, { mode: 'no-cors', credentials: 'include' }).then(() => undefined), url);
    }
    const rows = (await getJson(`${inst.base}/micro/events?q=${label}&order=oldest`)).events;
    expect(rows.map((r: any) => r.valid)).toEqual([true, true]);
    expect(rows.map((r: any) => r.event.se_action)).toEqual(['1', '2']);
    return rows.map((r: any) => r.networkUserId as string);
  } finally {
    await context.close();
  }
}

test('page and collector on one host name, other ports: the collector cookie comes back (one network_userid)', async () => {
  const ids = await networkUserIds('localhost', 'samesite');
  expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
  expect(ids[1]).toBe(ids[0]);
});

test('a page on 127.0.0.1 sending to localhost: cross-site, the cookie never comes back (a new network_userid each time)', async () => {
  const ids = await networkUserIds('127.0.0.1', 'crosssite');
  expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
  expect(ids[1]).not.toBe(ids[0]);
});
