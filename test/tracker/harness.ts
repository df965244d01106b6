/**
 * Test harness for the tracker's browser tests: the shipped `sp.js`, a site server for examples/site, the shipped
 * collector bundle with its memory sink, and Chromium. Everything listens on 127.0.0.1 and stops when the test ends.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, request, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { releasePort, reservePort } from '../helpers/ports';
import { buildRuntimeBundle, EXAMPLE_SCHEMAS_DIR } from '../helpers/bundles';
import { loadRegistry } from '../../pipeline/registry/load';
import { compileValidators } from '../../pipeline/validation/compile';
import type { ValidatorSet } from '../../pipeline/validation/types';
import { createNodeEnricher } from '../../pipeline/local/node-enricher';
import type { Enricher } from '../../pipeline/enrich';
import { paramsOf } from '../helpers/payload';

export const CHROMIUM = '/usr/bin/chromium';
export const SITE_DIR = join(__dirname, '..', '..', 'examples', 'site');
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';
export const CUSTOM_POST_PATH = '/acme/events';
export const PAYLOAD_DATA = 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4';

/** One event as the collector recorded it (the fields of its CollectorPayload that tests use). */
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
  /** The same collector behind a slow network: answers to POSTs arrive 1.5 s late (events arrive at once). */
  readonly slowUrl: string;
  /** Every good event received so far (across restarts), oldest first. */
  events(): Promise<Received[]>;
  /** The same events as the collector wrote them: CollectorPayload JSON, the enrichment's input. */
  payloads(): Promise<unknown[]>;
  /** Bad rows the collector wrote (malformed requests): must stay empty. */
  bad(): Promise<unknown[]>;
  /** Stops the collector process (its port then refuses connections). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

interface CollectorPayloadLike {
  data: { parameters: Record<string, string>; networkUserId: string | null; path: string; contentType: string | null };
}

/**
 * Starts the shipped collector bundle (`node collector.js`) with its memory sink and debug endpoint, listening on
 * 127.0.0.1. Events survive `stop`/`start`: they are read from the debug endpoint before the process stops.
 */
export async function startCollector(): Promise<TestCollector> {
  const bundle = await buildRuntimeBundle('collector');
  const archive: { good: CollectorPayloadLike[]; bad: unknown[] } = { good: [], bad: [] };
  let child: ChildProcess | undefined;
  // A reserved port (test/collector/ports.ts), not PORT=0: `start` after `stop` listens on the same port again, and
  // no other process (another jest worker, an outgoing connection) can have been given it meanwhile.
  let port = await reservePort();

  const spawnCollector = async (): Promise<void> => {
    const env = {
      PATH: process.env.PATH,
      PORT: String(port),
      WAYMARK_HOST: '127.0.0.1',
      WAYMARK_SINK: 'memory',
      WAYMARK_DEBUG_ENDPOINTS: 'true',
      // The test pages are plain http on 127.0.0.1, the site and the collector on two ports of the same site.
      WAYMARK_COOKIE_SECURE: 'false',
      WAYMARK_COOKIE_SAME_SITE: 'Lax',
      WAYMARK_XFF_TRUSTED_HOPS: 'off',
      // A custom POST path, as deployments use to dodge ad blockers' path lists.
      WAYMARK_CUSTOM_PATHS: `${CUSTOM_POST_PATH}=/com.snowplowanalytics.snowplow/tp2`,
    };
    const proc = spawn(process.execPath, [bundle], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let log = '';
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the collector did not start within 15 s:\n' + log)), 15000);
      const onData = (chunk: Buffer): void => {
        log += chunk.toString();
        const m = /"message":"collector listening"[^\n]*"port":(\d+)/.exec(log);
        if (m) {
          clearTimeout(timer);
          resolve(+m[1]);
        }
      };
      proc.stdout.on('data', onData);
      proc.stderr.on('data', onData);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the collector exited with ${code}:\n${log}`));
      });
    });
  };
  const read = async (): Promise<{ good: CollectorPayloadLike[]; bad: unknown[] }> => {
    if (!child) return { good: [], bad: [] };
    const r = await fetch(`http://127.0.0.1:${port}/debug/events`);
    if (!r.ok) throw new Error(`GET /debug/events answered ${r.status}`);
    return (await r.json()) as { good: CollectorPayloadLike[]; bad: unknown[] };
  };
  const all = async (): Promise<{ good: CollectorPayloadLike[]; bad: unknown[] }> => {
    const now = await read();
    return { good: archive.good.concat(now.good), bad: archive.bad.concat(now.bad) };
  };
  const stop = async (): Promise<void> => {
    const proc = child;
    if (!proc) return;
    const last = await read().catch(() => ({ good: [], bad: [] }));
    archive.good.push(...last.good);
    archive.bad.push(...last.bad);
    child = undefined;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    const killer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
  };
  try {
    await spawnCollector();
  } catch (err) {
    releasePort(port);
    throw err;
  }
  stopAtEnd.push(async () => {
    await stop();
    releasePort(port);
  });

  // A slow network in front of the collector: forwards everything, holds the answers to POSTs.
  const slow = createServer((req, res) => {
    const up = request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      setTimeout(() => {
        res.writeHead(r.statusCode || 502, r.rawHeaders);
        r.pipe(res);
      }, req.method == 'POST' ? 1500 : 0);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  const slowPort = await listen(slow, 0);
  stopAtEnd.push(() => new Promise<void>((r) => (slow.closeAllConnections(), slow.close(() => r()))));

  return {
    url: `http://127.0.0.1:${port}`,
    slowUrl: `http://127.0.0.1:${slowPort}`,
    events: async () =>
      (await all()).good.map(({ data: d }) => ({ parameters: paramsOf({ data: d }), networkUserId: d.networkUserId, path: d.path, contentType: d.contentType })),
    payloads: async () => (await all()).good,
    bad: async () => (await all()).bad,
    stop,
    start: async () => {
      if (!child) await spawnCollector();
    },
  };
}

/**
 * Checks every request the browser context sends to `collectorUrl` on the wire: a POST body is a payload_data
 * 1-0-4 envelope whose every value is a string and which carries `stm`; a GET carries the parameters in its query.
 * Returns the list of problems found (to assert empty) and how many requests were checked.
 */
export function watchWire(context: BrowserContext, collectorUrl: string): { problems: string[]; checked: () => number } {
  const problems: string[] = [];
  let checked = 0;
  context.on('request', (req) => {
    if (!req.url().startsWith(collectorUrl) || req.method() == 'OPTIONS') return;
    checked++;
    if (req.method() == 'GET') {
      const q = new URL(req.url()).searchParams;
      if (!q.get('e') || !q.get('eid') || !q.get('stm')) problems.push('GET without e/eid/stm: ' + req.url());
      return;
    }
    let body: { schema?: unknown; data?: unknown };
    try {
      body = JSON.parse(req.postData() || '');
    } catch {
      problems.push('POST body is not JSON: ' + req.postData());
      return;
    }
    if (body.schema !== PAYLOAD_DATA || !Array.isArray(body.data) || !body.data.length) {
      problems.push('POST body is not a payload_data 1-0-4 envelope: ' + req.postData());
      return;
    }
    for (const e of body.data as Record<string, unknown>[]) {
      if (!e || typeof e != 'object' || Object.values(e).some((v) => typeof v != 'string')) problems.push('non-string value: ' + JSON.stringify(e));
      else if (!/^\d{13}$/.test(String(e.stm))) problems.push('no stm: ' + JSON.stringify(e));
    }
  });
  return { problems, checked: () => checked };
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

/** Serves examples/site (the demo/test pages) and the shipped tracker (`/sp.js`, ESM `/sp.esm.js`) on 127.0.0.1. */
export async function startSite(): Promise<{ url: string }> {
  const tracker = readFileSync(await buildRuntimeBundle('tracker'));
  const esm = readFileSync(await buildRuntimeBundle('tracker-esm'));
  const types: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript', css: 'text/css' };
  const server = createServer((req, res) => {
    const path = new URL(req.url || '/', 'http://127.0.0.1').pathname;
    if (path == '/sp.js' || path == '/sp.esm.js') {
      res.writeHead(200, { 'Content-Type': types.js, 'Cache-Control': 'no-store' }).end(path == '/sp.js' ? tracker : esm);
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

/** Launches Debian's Chromium headless (with `extraArgs` added); fails with the install command when it is missing. */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
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
      ...extraArgs,
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

let validators: ValidatorSet | undefined;
/**
 * Validates the self-describing JSON of events (the `ue_pr` event and its envelope, the `co` envelope and every
 * entity) against the schema registry (the built-ins of schemas/ plus the demo site's examples/schemas), with the
 * validators the enrichment compiles. Returns problems.
 */
export function schemaProblems(events: readonly Received[]): string[] {
  validators = validators || compileValidators(loadRegistry([EXAMPLE_SCHEMAS_DIR]).schemas);
  const v = validators;
  const problems: string[] = [];
  const check = (sdj: { schema?: unknown; data?: unknown }, where: string): void => {
    const key = String(sdj && sdj.schema);
    const validate = v[key];
    if (!validate) problems.push(`${where}: schema ${key} is not in the registry`);
    else for (const e of validate(sdj.data)) problems.push(`${where}: ${key} ${e.path} ${e.message}`);
  };
  for (const e of events) {
    const where = `${e.parameters.e} ${e.parameters.eid}`;
    for (const param of ['ue_pr', 'co']) {
      const text = e.parameters[param];
      if (text === undefined) continue;
      const envelope = JSON.parse(text) as { schema: string; data: { schema: string; data: unknown } | { schema: string; data: unknown }[] };
      check(envelope, where + ' ' + param);
      const inner = Array.isArray(envelope.data) ? envelope.data : [envelope.data];
      inner.forEach((x, i) => check(x, `${where} ${param}[${i}]`));
    }
  }
  return problems;
}

let enricher: Enricher | undefined;
/**
 * Runs collector payloads through the enrichment (the same code and schema registry the UDF ships, with the demo
 * site's examples/schemas added) and returns the good rows; any bad row fails with its messages.
 */
export function enrichAll(payloads: readonly unknown[]): Record<string, unknown>[] {
  enricher = enricher || createNodeEnricher({ schemaFolders: [EXAMPLE_SCHEMAS_DIR] });
  const rows: Record<string, unknown>[] = [];
  const bad: unknown[] = [];
  for (const p of payloads) {
    const r = enricher.enrichJson(p);
    if (r.row) rows.push(r.row);
    else bad.push(r.badRow);
  }
  if (bad.length) throw new Error('the enrichment made bad rows of tracker events:\n' + JSON.stringify(bad, null, 1).slice(0, 4000));
  return rows;
}

/** One test's browser context and page, with the wire watcher on the context. */
export interface PageUnderTest {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly wire: ReturnType<typeof watchWire>;
}

/** A fresh context (no cookies, no storage) and page for one test; its requests to the collector are watched. */
export async function openPage(browser: Browser, collector: TestCollector): Promise<PageUnderTest> {
  const context = await browser.newContext();
  const wire = watchWire(context, collector.url);
  const page = await context.newPage();
  return { context, page, wire };
}

/**
 * Closes the test's context, then checks what every browser test relies on: the wire had no problems, the collector
 * made no bad rows, and every event the tracker sent validates against the schema registry and enriches to a good row.
 */
export async function closeAndCheck(t: PageUnderTest | undefined, collector: TestCollector): Promise<void> {
  if (!t) return; // the test's setup failed: its own error says why
  await t.context.close();
  expect(t.wire.problems).toEqual([]);
  expect(await collector.bad()).toEqual([]);
  expect(schemaProblems(await collector.events())).toEqual([]);
  const payloads = await collector.payloads();
  expect(enrichAll(payloads)).toHaveLength(payloads.length);
}
