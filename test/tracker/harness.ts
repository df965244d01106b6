/**
 * Test harness for the tracker's browser tests: the shipped `sp.js`, a site server for examples/site, a collector
 * that records what it receives, and Chromium. Everything listens on 127.0.0.1 and stops when the test ends.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import { buildRuntimeBundle } from '../helpers/bundles';

export const CHROMIUM = '/usr/bin/chromium';
export const SITE_DIR = join(__dirname, '..', '..', 'examples', 'site');
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';
export const PAYLOAD_DATA = 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4';

/** One event as the collector recorded it (the fields of the collector's CollectorPayload that tests use). */
export interface Received {
  /** tp2 parameters of the event. */
  readonly parameters: Record<string, string>;
  /** Network user id: the nil UUID for `SP-Anonymous: *` requests. */
  readonly networkUserId: string | null;
  readonly path: string;
  readonly contentType: string | null;
}

export interface TestCollector {
  /** Base URL the tracker sends to, e.g. http://127.0.0.1:43125 */
  readonly url: string;
  /** Every event received so far (across restarts), oldest first. */
  events(): Promise<Received[]>;
  /** Requests the collector refused as malformed (wrong envelope, non-string values): must stay empty. */
  rejected(): string[];
  /** Stops listening (the port stays reserved for `start`). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Holds every answer to a POST for `ms` (events are recorded on arrival): a slow network or collector. */
  holdAnswers(ms: number): void;
}

/**
 * Starts the collector the tracker tests send to.
 *
 * The collector bundle (collector/main.ts) is not written yet, so this is a small recording server that follows
 * the tp2 contract in shared/reference/tracker-protocol.md: CORS with credentials, POST payload_data 1-0-4
 * envelopes, GET /i pixels, the network user id cookie and `SP-Anonymous`. Switching to the real collector bundle
 * with its memory sink is a change of this function only.
 */
export async function startCollector(): Promise<TestCollector> {
  const events: Received[] = [];
  const rejected: string[] = [];
  let hold = 0;
  const handle = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const origin = req.headers.origin;
    if (origin) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    if (req.method == 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, SP-Anonymous');
      res.setHeader('Access-Control-Allow-Methods', 'POST, GET, OPTIONS');
      res.setHeader('Access-Control-Max-Age', '3600');
      res.writeHead(204).end();
      return;
    }
    const url = new URL(req.url || '/', 'http://127.0.0.1');
    const anonymous = req.headers['sp-anonymous'] == '*';
    const cookie = /(?:^|;\s*)sp=([^;]+)/.exec(req.headers.cookie || '');
    const nuid = anonymous ? NIL_UUID : cookie ? cookie[1] : randomUUID();
    if (!anonymous) res.setHeader('Set-Cookie', `sp=${nuid}; Max-Age=31536000; Path=/; SameSite=Lax; HttpOnly`);
    const record = (parameters: Record<string, string>): void => {
      events.push({ parameters, networkUserId: nuid, path: url.pathname, contentType: req.headers['content-type'] || null });
    };
    const refuse = (why: string): void => {
      rejected.push(why);
      res.writeHead(400).end(why);
    };
    if (req.method == 'POST' && url.pathname == '/com.snowplowanalytics.snowplow/tp2') {
      let envelope: { schema?: unknown; data?: unknown };
      try {
        envelope = JSON.parse(body);
      } catch {
        return refuse('body is not JSON: ' + body.slice(0, 100));
      }
      if (envelope.schema !== PAYLOAD_DATA || !Array.isArray(envelope.data)) return refuse('not a payload_data 1-0-4 envelope');
      for (const e of envelope.data as unknown[]) {
        const values = e && typeof e == 'object' ? Object.values(e) : [null];
        if (values.some((v) => typeof v != 'string')) return refuse('an event has a non-string value: ' + JSON.stringify(e));
      }
      (envelope.data as Record<string, string>[]).forEach(record);
      setTimeout(() => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok'), hold);
      return;
    }
    if (req.method == 'GET' && url.pathname == '/i') {
      record(Object.fromEntries(url.searchParams));
      res.writeHead(200, { 'Content-Type': 'image/gif', 'Cache-Control': 'no-cache, no-store' });
      res.end(Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64'));
      return;
    }
    res.writeHead(404).end();
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  const port = await listen(server, 0);
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  let listening = true;
  const collector: TestCollector = {
    url: `http://127.0.0.1:${port}`,
    events: async () => events.slice(),
    rejected: () => rejected.slice(),
    holdAnswers: (ms) => void (hold = ms),
    async stop() {
      if (!listening) return;
      listening = false;
      const closed = new Promise((r) => server.close(r));
      sockets.forEach((s) => s.destroy());
      await closed;
    },
    async start() {
      if (listening) return;
      await listen(server, port);
      listening = true;
    },
  };
  stopAtEnd.push(() => collector.stop());
  return collector;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Serves examples/site (the demo/test page) and the shipped tracker at `/sp.js` on 127.0.0.1. */
export async function startSite(): Promise<{ url: string }> {
  const tracker = readFileSync(await buildRuntimeBundle('tracker'));
  const types: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript', css: 'text/css' };
  const server = createServer((req, res) => {
    const path = new URL(req.url || '/', 'http://127.0.0.1').pathname;
    if (path == '/sp.js') {
      res.writeHead(200, { 'Content-Type': types.js, 'Cache-Control': 'no-store' }).end(tracker);
      return;
    }
    // Any other path is the single-page app's index (like a SPA host), unless it names a file of the site.
    const name = /^\/[\w-]+\.(html|js|css)$/.exec(path) ? path.slice(1) : 'index.html';
    const file = join(SITE_DIR, name);
    if (!existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': types[name.split('.').pop() || 'html'], 'Cache-Control': 'no-store' });
    res.end(readFileSync(file));
  });
  const port = await listen(server, 0);
  stopAtEnd.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return { url: `http://127.0.0.1:${port}` };
}

/** Launches Debian's Chromium headless; fails with the install command when it is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: run \`apt-get update && apt-get install -y chromium\``);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  stopAtEnd.push(() => browser.close());
  return browser;
}

const stopAtEnd: (() => Promise<unknown>)[] = [];
/** Stops every server and browser the harness started (call in afterAll). */
export async function stopAll(): Promise<void> {
  await Promise.allSettled(stopAtEnd.splice(0).reverse().map((f) => f()));
}

/** Polls `probe` until it returns a value that is not undefined/false; fails after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Parses a JSON parameter (`co`, `ue_pr`) of an event. */
export function json<T = { schema: string; data: unknown }>(value: string | undefined): T {
  if (value === undefined) throw new Error('parameter missing');
  return JSON.parse(value) as T;
}

/** The entities (`co`) of an event, by schema key. */
export function entities(e: Received): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  if (e.parameters.co) {
    const co = json<{ schema: string; data: { schema: string; data: Record<string, unknown> }[] }>(e.parameters.co);
    if (co.schema != 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0') throw new Error('bad contexts envelope ' + co.schema);
    for (const c of co.data) out[c.schema] = c.data;
  }
  return out;
}

export const WEB_PAGE = 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0';
export const CLIENT_SESSION = 'iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2';
export const LINK_CLICK = 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1';

/** The URL of the demo page configured for a test: collector, tracker options, page pings. */
export function pageUrl(site: string, collector: string, options: Record<string, unknown> = {}, extra: Record<string, string> = {}, path = '/'): string {
  const q = new URLSearchParams({ collector, options: JSON.stringify(options), ...extra });
  return `${site}${path}?${q}`;
}
