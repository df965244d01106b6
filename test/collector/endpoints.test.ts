/**
 * Every endpoint and behaviour over real HTTP, in process (createCollector + node:http on 127.0.0.1),
 * with cookie attributes and CORS headers asserted exactly. The shipped bundle is exercised in bundle.test.ts,
 * pubsub.test.ts and fuzz.test.ts.
 */
import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { configWith } from '../../collector/config';
import { createLogger } from '../../collector/log';
import { Collector, CollectorOptions, createCollector } from '../../collector/server';
import { PIXEL } from '../../collector/service';
import { MemorySink } from '../../collector/sinks/memory';
import type { Sink, SinkRecord } from '../../collector/sinks/types';
import { headerPairs, request, waitFor } from './support';
import { paramsOf } from '../helpers/payload';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const EXPIRES = 'Tue, 01 Jun 2027 12:00:00 GMT'; // NOW + 365 days
const ID = '9f1c2b3a-4d5e-4f60-8a7b-0c1d2e3f4a5b';
const TP2 = '/com.snowplowanalytics.snowplow/tp2';
const NO_CACHE = 'no-cache, no-store, must-revalidate';
const envelope = (data: unknown): string => JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data });

const running: Collector[] = [];
async function start(file: unknown = {}, options: Omit<CollectorOptions, 'config'> = {}): Promise<{ c: Collector; port: number; memory: MemorySink }> {
  const memory = options.sink instanceof MemorySink ? options.sink : new MemorySink();
  const c = createCollector({ config: configWith({ host: '127.0.0.1', port: 0, ...(file as object) }), sink: memory, now: () => NOW, uuid: () => ID, logger: createLogger({ write: () => {} }), ...options });
  running.push(c);
  const address = await c.listen();
  return { c, port: address.port, memory };
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.shutdown()));
});

/** A sink whose writes fail, hang or pass, as the test says. */
class ControlledSink implements Sink {
  readonly kind = 'controlled';
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  written: SinkRecord[] = [];
  private hung: (() => void)[] = [];
  async write(records: readonly SinkRecord[]): Promise<readonly SinkRecord[]> {
    if (this.mode === 'hang') await new Promise<void>((r) => this.hung.push(r));
    if (this.mode === 'fail') throw new Error('down');
    this.written.push(...records);
    return [];
  }
  release(): void {
    this.mode = 'ok';
    for (const r of this.hung.splice(0)) r();
  }
  async close(): Promise<void> {
    this.release();
  }
}

describe('event endpoints', () => {
  test('GET /i: 1x1 GIF, no caching, the network user id cookie with every attribute, CORS reflecting the Origin', async () => {
    const { port, memory } = await start();
    const r = await request(port, { path: '/i?e=pv&eid=ev-1&tv=js-3', headers: { origin: 'https://www.acme.com', cookie: 'other=1' } });
    expect(r.status).toBe(200);
    expect(headerPairs(r)).toEqual([
      ['access-control-allow-origin', 'https://www.acme.com'],
      ['access-control-allow-credentials', 'true'],
      ['vary', 'Origin'],
      ['set-cookie', `sp=${ID}; Expires=${EXPIRES}; Max-Age=31536000; Path=/; Secure; HttpOnly; SameSite=None`],
      ['content-type', 'image/gif'],
      ['cache-control', NO_CACHE],
      ['content-length', String(PIXEL.length)],
    ]);
    expect(r.body.equals(PIXEL)).toBe(true);
    expect(r.body.subarray(0, 6).toString()).toBe('GIF89a');
    await waitFor('the event in the sink', () => (memory.counts().good === 1 ? true : undefined));
    const [p] = memory.events().good;
    expect(p.data).toMatchObject({ method: 'GET', path: '/i', ipAddress: '127.0.0.1', networkUserId: ID });
    expect(p.data.parameters).toBeUndefined();
    expect(paramsOf(p)).toEqual({ e: 'pv', eid: 'ev-1', tv: 'js-3' });
  });

  test('GET /ice.png and GET tp2 record like /i; HEAD /i answers headers only and records nothing', async () => {
    const { port, memory } = await start();
    expect((await request(port, { path: '/ice.png?e=pv&eid=a' })).status).toBe(200);
    expect((await request(port, { path: `${TP2}?e=pv&eid=b` })).status).toBe(200);
    const head = await request(port, { method: 'HEAD', path: '/i?e=pv&eid=c' });
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('image/gif');
    expect(head.body.length).toBe(0);
    await waitFor('two events', () => (memory.counts().good === 2 ? true : undefined));
    expect(memory.events().good.map((p) => [p.data.path, paramsOf(p).eid])).toEqual([['/ice.png', 'a'], [TP2, 'b']]);
  });

  test('POST tp2: a batch is split into one payload per event; 200 "ok" with CORS and cookie', async () => {
    const { port, memory } = await start();
    const r = await request(port, {
      method: 'POST',
      path: TP2,
      headers: { origin: 'https://shop.acme.com', 'content-type': 'application/json; charset=utf-8' },
      body: envelope([{ e: 'pv', eid: '1' }, { e: 'pp', eid: '2' }, { e: 'se', eid: '3', se_ca: 'c', se_ac: 'a' }]),
    });
    expect(r.status).toBe(200);
    expect(r.text).toBe('ok');
    expect(headerPairs(r)).toEqual([
      ['access-control-allow-origin', 'https://shop.acme.com'],
      ['access-control-allow-credentials', 'true'],
      ['vary', 'Origin'],
      ['set-cookie', `sp=${ID}; Expires=${EXPIRES}; Max-Age=31536000; Path=/; Secure; HttpOnly; SameSite=None`],
      ['content-type', 'text/plain; charset=utf-8'],
      ['cache-control', NO_CACHE],
      ['content-length', '2'],
    ]);
    await waitFor('three events', () => (memory.counts().good === 3 ? true : undefined));
    expect(memory.events().good.map((p) => paramsOf(p).eid)).toEqual(['1', '2', '3']);
  });

  test('OPTIONS preflight on any path: reflects the Origin with credentials, allows Content-Type and SP-Anonymous, is cached', async () => {
    const { port } = await start({ cors: { maxAgeSeconds: 600 } });
    const r = await request(port, { method: 'OPTIONS', path: TP2, headers: { origin: 'https://www.acme.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, sp-anonymous' } });
    expect(r.status).toBe(204);
    expect(headerPairs(r)).toEqual([
      ['access-control-allow-origin', 'https://www.acme.com'],
      ['access-control-allow-credentials', 'true'],
      ['vary', 'Origin'],
      ['access-control-allow-methods', 'GET, POST, OPTIONS'],
      ['access-control-allow-headers', 'Content-Type, SP-Anonymous'],
      ['access-control-max-age', '600'],
      ['content-length', '0'],
    ]);
    const noOrigin = await request(port, { method: 'OPTIONS', path: '/anything/at/all' });
    expect(noOrigin.status).toBe(204);
    expect(headerPairs(noOrigin)).toEqual([
      ['access-control-allow-origin', '*'],
      ['access-control-allow-methods', 'GET, POST, OPTIONS'],
      ['access-control-allow-headers', 'Content-Type, SP-Anonymous'],
      ['access-control-max-age', '600'],
      ['content-length', '0'],
    ]);
  });

  test('allowed origins: pages of other sites get 403 (not retried) on preflight and events, nothing recorded; no Origin is fine', async () => {
    const { port, memory } = await start({ cors: { allowedOrigins: ['acme.com'] } });
    const ok = await request(port, { method: 'OPTIONS', path: TP2, headers: { origin: 'https://shop.acme.com' } });
    expect([ok.status, ok.headers['access-control-allow-origin']]).toEqual([204, 'https://shop.acme.com']);
    for (const origin of ['https://evil.org', 'https://acme.com.evil.org', 'null']) {
      const pre = await request(port, { method: 'OPTIONS', path: TP2, headers: { origin } });
      expect([pre.status, pre.text, pre.headers['access-control-allow-origin']]).toEqual([403, 'origin not allowed', undefined]);
      const post = await request(port, { method: 'POST', path: TP2, headers: { origin, 'content-type': 'text/plain' }, body: envelope([{ e: 'pv', eid: 'evil' }]) });
      expect([post.status, post.text, post.headers['access-control-allow-origin'], post.headers['set-cookie']]).toEqual([403, 'origin not allowed', undefined, undefined]);
    }
    expect((await request(port, { method: 'POST', path: TP2, headers: { origin: 'https://www.acme.com' }, body: envelope([{ e: 'pv', eid: 'mine' }]) })).status).toBe(200);
    expect((await request(port, { path: '/i?e=pv&eid=pixel' })).status).toBe(200);
    await waitFor('two events', () => (memory.counts().good === 2 ? true : undefined));
    expect(memory.events().good.map((p) => paramsOf(p).eid)).toEqual(['mine', 'pixel']);
  });

  test('cookie: Domain from the Origin matching a configured domain, else the fallback, else host-only; custom name and lifetime', async () => {
    const { port } = await start({ cookie: { name: 'wm_id', maxAgeSeconds: 86400, domains: ['acme.com', 'acme.co.uk'], fallbackDomain: 'acme.net' } });
    const cookieFor = async (origin?: string): Promise<string | undefined> =>
      (await request(port, { path: '/i?e=pv', headers: origin ? { origin } : {} })).headers['set-cookie']?.[0];
    const tail = 'Path=/; Secure; HttpOnly; SameSite=None';
    expect(await cookieFor('https://www.acme.co.uk')).toBe(`wm_id=${ID}; Expires=Tue, 02 Jun 2026 12:00:00 GMT; Max-Age=86400; Domain=acme.co.uk; ${tail}`);
    expect(await cookieFor('https://acme.com')).toBe(`wm_id=${ID}; Expires=Tue, 02 Jun 2026 12:00:00 GMT; Max-Age=86400; Domain=acme.com; ${tail}`);
    expect(await cookieFor('https://elsewhere.org')).toBe(`wm_id=${ID}; Expires=Tue, 02 Jun 2026 12:00:00 GMT; Max-Age=86400; Domain=acme.net; ${tail}`);
    expect(await cookieFor(undefined)).toBe(`wm_id=${ID}; Expires=Tue, 02 Jun 2026 12:00:00 GMT; Max-Age=86400; Domain=acme.net; ${tail}`);
    const { port: p2 } = await start({ cookie: { domains: ['acme.com'] } });
    const hostOnly = await request(p2, { path: '/i?e=pv', headers: { origin: 'https://other.org' } });
    expect(hostOnly.headers['set-cookie']).toEqual([`sp=${ID}; Expires=${EXPIRES}; Max-Age=31536000; Path=/; Secure; HttpOnly; SameSite=None`]);
  });

  test('an existing network user id cookie is kept (and refreshed); with cookies disabled no Set-Cookie is sent', async () => {
    const { port, memory } = await start();
    const known = '0b6e1d7c-aaaa-4bbb-8ccc-123456789abc';
    const r = await request(port, { path: '/i?e=pv', headers: { cookie: `a=b; sp=${known}` } });
    expect(r.headers['set-cookie']).toEqual([`sp=${known}; Expires=${EXPIRES}; Max-Age=31536000; Path=/; Secure; HttpOnly; SameSite=None`]);
    await waitFor('event', () => (memory.counts().good === 1 ? true : undefined));
    expect(memory.events().good[0].data.networkUserId).toBe(known);

    const off = await start({ cookie: { enabled: false } });
    const r2 = await request(off.port, { path: '/i?e=pv' });
    expect(r2.headers['set-cookie']).toBeUndefined();
    await waitFor('event', () => (off.memory.counts().good === 1 ? true : undefined));
    expect(off.memory.events().good[0].data.networkUserId).toBeNull();
  });

  test('SP-Anonymous: no cookie, no IP, nil network user id (POST through the preflighted header)', async () => {
    const { port, memory } = await start({ headersAllowList: ['x-forwarded-for', 'accept-language'] });
    const r = await request(port, {
      method: 'POST',
      path: TP2,
      headers: { 'sp-anonymous': '*', cookie: `sp=${ID}`, 'x-forwarded-for': '203.0.113.9, 130.211.0.1', 'accept-language': 'nl', 'content-type': 'application/json' },
      body: envelope([{ e: 'pv', eid: 'anon' }]),
    });
    expect(r.status).toBe(200);
    expect(r.headers['set-cookie']).toBeUndefined();
    await waitFor('event', () => (memory.counts().good === 1 ? true : undefined));
    expect(memory.events().good[0].data).toMatchObject({ ipAddress: null, networkUserId: '00000000-0000-0000-0000-000000000000', headers: { 'accept-language': 'nl' } });
  });

  test("client IP from X-Forwarded-For as Google's LB writes it, never the client's own claim", async () => {
    const { port, memory } = await start();
    await request(port, { path: '/i?e=pv&eid=1', headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.50, 130.211.0.7' } });
    await request(port, { path: '/i?e=pv&eid=2', headers: { 'x-forwarded-for': '6.6.6.6' } });
    await waitFor('events', () => (memory.counts().good === 2 ? true : undefined));
    expect(memory.events().good.map((p) => p.data.ipAddress)).toEqual(['203.0.113.50', '127.0.0.1']);
  });

  test('do-not-track cookie: 200 as usual, nothing recorded, no cookie', async () => {
    const { port, memory } = await start({ doNotTrackCookie: { name: 'dnt', value: 'yes' } });
    const r = await request(port, { path: '/i?e=pv', headers: { cookie: 'dnt=yes' } });
    expect(r.status).toBe(200);
    expect(r.headers['set-cookie']).toBeUndefined();
    const p = await request(port, { method: 'POST', path: TP2, headers: { cookie: 'dnt=yes' }, body: envelope([{ e: 'pv' }]) });
    expect([p.status, p.text]).toEqual([200, 'ok']);
    await request(port, { path: '/i?e=pv&eid=counted', headers: { cookie: 'dnt=no' } });
    await waitFor('the one tracked event', () => (memory.counts().good === 1 ? true : undefined));
    expect(paramsOf(memory.events().good[0]).eid).toBe('counted');
  });

  test('custom paths map onto the tp2 endpoints', async () => {
    const { port, memory } = await start({ customPaths: { '/acme/collect': TP2, '/acme/px': '/i' } });
    expect((await request(port, { method: 'POST', path: '/acme/collect', body: envelope([{ e: 'pv', eid: 'p' }]) })).text).toBe('ok');
    expect((await request(port, { path: '/acme/collect?e=pv&eid=g' })).headers['content-type']).toBe('image/gif');
    expect((await request(port, { path: '/acme/px?e=pv&eid=x' })).status).toBe(200);
    const wrong = await request(port, { method: 'POST', path: '/acme/px', body: '{}' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET, HEAD, OPTIONS');
    await waitFor('events', () => (memory.counts().good === 3 ? true : undefined));
    expect(memory.events().good.map((p) => [p.data.path, paramsOf(p).eid])).toEqual([['/acme/collect', 'p'], ['/acme/collect', 'g'], ['/acme/px', 'x']]);
  });

  test('/r/tp2 is off by default (404); when on it records then redirects, only to allowed domains', async () => {
    const off = await start();
    expect((await request(off.port, { path: '/r/tp2?u=https%3A%2F%2Facme.com%2F' })).status).toBe(404);

    const { port, memory } = await start({ redirect: { enabled: true, allowedDomains: ['acme.com'] } });
    const r = await request(port, { path: '/r/tp2?e=se&se_ca=link&u=https%3A%2F%2Fwww.acme.com%2Fpromo%3Fa%3D1' });
    expect(r.status).toBe(302);
    expect(headerPairs(r)).toEqual([
      ['set-cookie', `sp=${ID}; Expires=${EXPIRES}; Max-Age=31536000; Path=/; Secure; HttpOnly; SameSite=None`],
      ['location', 'https://www.acme.com/promo?a=1'],
      ['cache-control', NO_CACHE],
      ['content-length', '0'],
    ]);
    for (const u of ['https%3A%2F%2Fevil.org%2F', 'https%3A%2F%2Facme.com.evil.org', '%2F%2Fevil.org', 'javascript%3Aalert(1)', '']) {
      const bad = await request(port, { path: `/r/tp2?e=se&u=${u}` });
      expect([bad.status, bad.text, bad.headers.location]).toEqual([400, 'redirect target missing or not allowed', undefined]);
    }
    await waitFor('the redirect event', () => (memory.counts().good === 1 ? true : undefined));
    expect(paramsOf(memory.events().good[0])).toEqual({ e: 'se', se_ca: 'link', u: 'https://www.acme.com/promo?a=1' });
  });
});

describe('service endpoints, errors and limits', () => {
  test('/health, /robots.txt, unknown path 404, wrong method 405 with Allow', async () => {
    const { port } = await start();
    const health = await request(port, { path: '/health' });
    expect([health.status, health.text]).toEqual([200, 'ok']);
    const robots = await request(port, { path: '/robots.txt' });
    expect([robots.status, robots.text, robots.headers['content-type']]).toEqual([200, 'User-agent: *\nDisallow: /\n', 'text/plain; charset=utf-8']);
    const missing = await request(port, { path: '/wp-admin.php?x=1' });
    expect([missing.status, missing.text]).toEqual([404, 'not found']);
    const put = await request(port, { method: 'PUT', path: TP2, body: 'x' });
    expect([put.status, put.headers.allow]).toEqual([405, 'GET, HEAD, POST, OPTIONS']);
    const del = await request(port, { method: 'DELETE', path: '/health' });
    expect([del.status, del.headers.allow]).toEqual([405, 'GET, HEAD, OPTIONS']);
  });

  test('oversized body: 400 (not retried by trackers), Connection: close, a size_violation bad row with the truncated payload', async () => {
    const { port, memory } = await start({ maxBodyBytes: 4096, badRowMaxPayloadBytes: 512 });
    const body = envelope([{ e: 'pv', big: 'y'.repeat(10000) }]);
    const r = await request(port, { method: 'POST', path: TP2, headers: { origin: 'https://a.com' }, body });
    expect(r.status).toBe(400);
    expect(r.text).toBe(`payload too large: body of ${body.length} bytes, limit 4096`);
    expect(r.headers.connection).toBe('close');
    expect(r.headers['access-control-allow-origin']).toBe('https://a.com');
    await waitFor('the bad row', () => (memory.counts().bad === 1 ? true : undefined));
    const row = memory.events().bad[0].data;
    expect(row.type).toBe('size_violation');
    expect(row.payload.raw).toBe(body.slice(0, 512));
    expect(row.payload).toMatchObject({ rawBytes: body.length, truncated: true });
    // Chunked (no Content-Length) is limited the same way.
    const chunked = await request(port, { method: 'POST', path: TP2, headers: { 'transfer-encoding': 'chunked' }, body });
    expect(chunked.status).toBe(400);
    expect(memory.counts().good).toBe(0);
  });

  test('malformed body: 400 with a short reason and a format-violation bad row', async () => {
    const { port, memory } = await start();
    const r = await request(port, { method: 'POST', path: TP2, body: 'not json' });
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/^malformed payload: body: expected valid JSON/);
    await waitFor('the bad row', () => (memory.counts().bad === 1 ? true : undefined));
    expect(memory.events().bad[0].data).toMatchObject({ type: 'collector_payload_format_violation', payload: { raw: 'not json', method: 'POST' } });
  });

  test('buffer full: 503 with Retry-After and CORS (trackers retry); accepted again once the sink drains', async () => {
    const sink = new ControlledSink();
    sink.mode = 'hang';
    const { port } = await start({ buffer: { maxEvents: 4, maxBytes: 4 * 1024 * 1024 }, retryAfterSeconds: 7 }, { sink });
    for (let i = 0; i < 4; i++) expect((await request(port, { path: `/i?e=pv&eid=${i}` })).status).toBe(200);
    const full = await request(port, { path: '/i?e=pv&eid=4', headers: { origin: 'https://www.acme.com' } });
    expect(full.status).toBe(503);
    expect(headerPairs(full)).toEqual([
      ['access-control-allow-origin', 'https://www.acme.com'],
      ['access-control-allow-credentials', 'true'],
      ['vary', 'Origin'],
      ['retry-after', '7'],
      ['content-type', 'text/plain; charset=utf-8'],
      ['cache-control', NO_CACHE],
      ['content-length', String(Buffer.byteLength('busy: buffer full, retry later'))],
    ]);
    expect(full.text).toBe('busy: buffer full, retry later');
    sink.release();
    await waitFor('space again', async () => ((await request(port, { path: '/i?e=pv&eid=5' })).status === 200 ? true : undefined));
    await waitFor('all written', () => (sink.written.length === 5 ? true : undefined));
    expect(sink.written.map((r) => paramsOf(r.data).eid)).toEqual(['0', '1', '2', '3', '5']);
  });

  test('/sink-health is 503 while the sink fails (past sinkUnhealthyAfterMs), and events are then refused with 503; both recover', async () => {
    const sink = new ControlledSink();
    sink.mode = 'fail';
    const { port } = await start({ buffer: { sinkUnhealthyAfterMs: 0, retryInitialMs: 5, retryMaxMs: 20 } }, { sink });
    expect((await request(port, { path: '/sink-health' })).status).toBe(200);
    expect((await request(port, { path: '/i?e=pv&eid=kept' })).status).toBe(200);
    const sick = await waitFor('sink-health 503', async () => {
      const r = await request(port, { path: '/sink-health' });
      return r.status === 503 ? r : undefined;
    });
    expect([sick.text, sick.headers['retry-after']]).toEqual([expect.stringMatching(/^sink unhealthy for \d+ ms, 1 events held: Error: down$/), '5']);
    const refused = await request(port, { path: '/i?e=pv&eid=refused' });
    expect([refused.status, refused.text]).toEqual([503, 'sink unavailable, retry later']);
    sink.mode = 'ok';
    await waitFor('sink-health 200', async () => ((await request(port, { path: '/sink-health' })).status === 200 ? true : undefined));
    expect(sink.written.map((r) => paramsOf(r.data).eid)).toEqual(['kept']);
  });

  test('ackMode delivered: the answer waits for the sink; a slow sink gets 503 after deliveryTimeoutMs', async () => {
    const sink = new ControlledSink();
    sink.mode = 'hang';
    const { port } = await start({ ackMode: 'delivered', deliveryTimeoutMs: 300 }, { sink });
    const slow = await request(port, { path: '/i?e=pv&eid=slow' });
    expect([slow.status, slow.text]).toEqual([503, 'sink slow, retry later']);
    let answered = false;
    const pending = request(port, { path: '/i?e=pv&eid=waits' }).then((r) => {
      answered = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(answered).toBe(false);
    sink.release();
    expect((await pending).status).toBe(200);
    expect(sink.written.map((r) => paramsOf(r.data).eid).sort()).toEqual(['slow', 'waits']);
  });

  test('debug endpoints are off by default; when on, GET /debug/events shows the memory sink and DELETE clears it', async () => {
    const off = await start();
    expect((await request(off.port, { path: '/debug/events' })).status).toBe(404);
    const { port } = await start({ sink: { type: 'memory' }, debugEndpoints: true });
    await request(port, { path: '/i?e=pv&eid=d1' });
    await request(port, { method: 'POST', path: TP2, body: 'broken' });
    const got = await waitFor('events visible', async () => {
      const r = await request(port, { path: '/debug/events' });
      const j = JSON.parse(r.text);
      return j.good.length === 1 && j.bad.length === 1 ? { r, j } : undefined;
    });
    expect(got.r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(paramsOf(got.j.good[0])).toEqual({ e: 'pv', eid: 'd1' });
    expect(got.j.bad[0].data.type).toBe('collector_payload_format_violation');
    expect(got.j.totals).toEqual({ good: 1, bad: 1 });
    expect((await request(port, { method: 'DELETE', path: '/debug/events' })).status).toBe(204);
    expect(JSON.parse((await request(port, { path: '/debug/events' })).text)).toEqual({ good: [], bad: [], totals: { good: 0, bad: 0 } });
  });

  test('extension points: extra routes (prefix and exact), onAccepted, and the memory sink object handed in', async () => {
    const accepted: string[] = [];
    const memory = new MemorySink(100);
    const { port, c } = await start({}, {
      sink: memory,
      onAccepted: (records) => accepted.push(...records.map((r) => paramsOf(r.data).eid)),
      extraRoutes: [
        { path: '/micro/', prefix: true, methods: ['GET'], handle: (_req, res, ctx) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ path: ctx.path, query: ctx.query, good: memory.counts().good })); } },
        { path: '/i', handle: (_req, res) => { res.writeHead(418); res.end(); } },
        { path: '/boom', handle: async () => { throw new Error('route failed'); } },
      ],
    });
    expect(c.memory).toBe(memory);
    expect((await request(port, { path: '/i?e=pv&eid=x1' })).status).toBe(200); // built-in wins
    await waitFor('written', () => (memory.counts().good === 1 ? true : undefined));
    const micro = await request(port, { path: '/micro/good?limit=5' });
    expect(JSON.parse(micro.text)).toEqual({ path: '/micro/good', query: 'limit=5', good: 1 });
    expect((await request(port, { method: 'POST', path: '/micro/reset' })).status).toBe(405);
    expect((await request(port, { path: '/boom' })).status).toBe(500);
    expect(accepted).toEqual(['x1']);
  });

  test('the exported handler works where the host has already read the body (Functions Framework rawBody)', async () => {
    const memory = new MemorySink();
    const c = createCollector({ config: configWith({ ackMode: 'delivered' }), sink: memory, logger: createLogger({ write: () => {} }) });
    running.push(c);
    // An Express-like host: reads and parses the body first, exposes req.rawBody, then calls the handler.
    const host: Server = createServer((req: IncomingMessage & { rawBody?: Buffer; body?: unknown }, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        req.rawBody = Buffer.concat(chunks);
        try {
          req.body = JSON.parse(req.rawBody.toString());
        } catch {
          req.body = {};
        }
        c.handler(req, res);
      });
    });
    await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
    const port = (host.address() as AddressInfo).port;
    try {
      const r = await request(port, { method: 'POST', path: TP2, body: envelope([{ e: 'pv', eid: 'f1' }, { e: 'pv', eid: 'f2' }]) });
      expect([r.status, r.text]).toEqual([200, 'ok']);
      // ackMode delivered: the sink has them before the answer.
      expect(memory.counts().good).toBe(2);
      const big = await request(port, { method: 'POST', path: TP2, body: 'z'.repeat(1048577) });
      expect(big.status).toBe(400);
      expect(memory.events().bad[0].data).toMatchObject({ type: 'size_violation', payload: { rawBytes: 1048577, truncated: true } });
    } finally {
      host.close();
    }
  });

  test('logs are structured with severity and never contain IPs, cookies or payload contents', async () => {
    const lines: string[] = [];
    const sink = new ControlledSink();
    sink.mode = 'fail';
    const logger = createLogger({ write: (l) => lines.push(l) });
    const { port, c } = await start({ buffer: { retryInitialMs: 5, retryMaxMs: 10 } }, { sink, logger });
    const secret = 'SECRETPARAM';
    await request(port, { path: `/i?e=pv&eid=${secret}`, headers: { cookie: 'sp=c0ffee00-0000-4000-8000-000000000000', 'x-forwarded-for': '198.51.100.23, 130.211.0.1' } });
    await request(port, { method: 'POST', path: TP2, body: `{"broken ${secret}` });
    await waitFor('a logged failure', () => (lines.length > 0 ? true : undefined));
    sink.mode = 'ok';
    await c.shutdown();
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) {
      const entry = JSON.parse(line);
      expect(['DEBUG', 'INFO', 'WARNING', 'ERROR']).toContain(entry.severity);
      expect(typeof entry.message).toBe('string');
      expect(line).not.toMatch(/198\.51\.100\.23|127\.0\.0\.1|c0ffee00|SECRETPARAM|9f1c2b3a/);
    }
    expect(lines.map((l) => JSON.parse(l).message)).toEqual(expect.arrayContaining(['sink write failed; retrying with backoff', 'sink recovered', 'collector stopped']));
  });

  test('shutdown drains: events accepted before it reach the sink; afterwards the server no longer accepts', async () => {
    const sink = new ControlledSink();
    sink.mode = 'hang';
    const { port, c } = await start({}, { sink });
    for (let i = 0; i < 5; i++) await request(port, { path: `/i?e=pv&eid=${i}` });
    const done = c.shutdown();
    setTimeout(() => sink.release(), 100);
    expect(await done).toEqual({ remaining: 0, delivered: 5 });
    expect(sink.written).toHaveLength(5);
    await expect(request(port, { path: '/health' })).rejects.toThrow(/ECONNREFUSED/);
  });
});
