/**
 * Test support for local mode: runs the SHIPPED local bundle (`waymark-local.js`, with the shipped `sp.js` and the
 * enrichment UDF built for the built-ins plus examples/schemas, as `npm start` builds it for the demo site) as a
 * child process in its own process group, drives the demo site with Chromium, and reads rows back through the
 * inspection API. Missing components fail with the command that installs them.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { buildRuntimeBundle } from '../helpers/bundles';
import { tempDir } from '../helpers/temp-dirs';

export const ROOT = join(__dirname, '..', '..');
export const DEMO_DIR = join(ROOT, 'examples', 'demo');
export const CHROMIUM = '/usr/bin/chromium';
/** The registry of the `udf-examples` UDF (built-ins and examples/schemas), served at /micro/iglu/. */
export const SCHEMA_DIRS = [join(ROOT, 'schemas'), join(ROOT, 'examples', 'schemas')].join(delimiter);
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}: run \`apt-get update && apt-get install -y chromium\``);
}

export function requireGcloud(): void {
  const r = spawnSync('gcloud', ['beta', 'emulators', 'pubsub', '--help'], { stdio: 'ignore' });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(
      'the Pub/Sub emulator is not available (`gcloud beta emulators pubsub` failed): install the Google Cloud CLI and its emulator ' +
        '(`apt-get install -y google-cloud-cli google-cloud-cli-pubsub-emulator default-jre-headless`, or `gcloud components install beta pubsub-emulator`)',
    );
  }
}

export async function launchChromium(): Promise<Browser> {
  requireChromium();
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `probe` gives a value (not undefined/false); fails after `timeoutMs` saying what it waited for. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await sleep(150);
  }
}

/** Whether a process group still has a member. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export async function portOpen(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

export interface RunningProcess {
  readonly child: ChildProcess;
  /** Process group id (the child runs detached, in its own group, like a terminal's foreground job). */
  readonly pgid: number;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process exited. */
  readonly exited: Promise<number | string>;
  /** Waits until the output matches. */
  waitForOutput(pattern: RegExp, what: string, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends a signal to the whole group (what Ctrl-C in a terminal does). */
  signalGroup(signal: NodeJS.Signals): void;
  /** Kills whatever is left of the group (test clean-up). */
  killGroup(): Promise<void>;
}

export function runDetached(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): RunningProcess {
  const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pgid = child.pid!;
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const proc: RunningProcess = {
    child,
    pgid,
    output: () => out,
    exited,
    async waitForOutput(pattern, what, timeoutMs = 60000) {
      let done = false;
      void exited.then(() => (done = true));
      return waitFor(what, () => {
        const m = pattern.exec(out);
        if (m) return m;
        if (done) throw new Error(`the process exited before ${what}:\n${out}`);
        return undefined;
      }, timeoutMs).catch((e: Error) => {
        throw new Error(`${e.message}\n--- output ---\n${out}`);
      });
    },
    signalGroup(signal) {
      try {
        process.kill(-pgid, signal);
      } catch {
        // gone
      }
    },
    async killGroup() {
      if (!groupAlive(pgid)) return;
      proc.signalGroup('SIGKILL');
      await waitFor('the process group to die', () => !groupAlive(pgid), 10000).catch(() => undefined);
    },
  };
  return proc;
}

export interface LocalInstance {
  /** Base URL on 127.0.0.1, ending without `/`. */
  readonly base: string;
  readonly port: number;
  readonly proc: RunningProcess;
  readonly dataDir: string;
}

/**
 * Starts `node waymark-local.js --port 0 ...args` from the shipped bundles; resolves once it prints its URL. The UDF
 * knows the demo site's example schemas (`udf-examples`); `env.WAYMARK_LOCAL_UDF` gives another.
 */
export async function startLocalBundle(args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<LocalInstance> {
  const [local, udf, tracker] = await Promise.all([buildRuntimeBundle('collector-local'), buildRuntimeBundle('udf-examples'), buildRuntimeBundle('tracker')]);
  const dataDir = tempDir('local-test');
  const cleanEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  const proc = runDetached(process.execPath, [local, '--port', '0', ...args], {
    env: { ...cleanEnv, WAYMARK_LOCAL_UDF: udf, WAYMARK_LOCAL_TRACKER: tracker, WAYMARK_LOCAL_SITE: DEMO_DIR, WAYMARK_LOCAL_DATA_DIR: dataDir, WAYMARK_LOCAL_SCHEMAS: SCHEMA_DIRS, ...env },
    cwd: dataDir,
  });
  const m = await proc.waitForOutput(/Waymark local is running: http:\/\/localhost:(\d+)\//, 'the local URL', 120000);
  const port = Number(m[1]);
  return { base: `http://127.0.0.1:${port}`, port, proc, dataDir };
}

export async function getJson<T = any>(url: string, init?: RequestInit): Promise<T> {
  const r = await fetch(url, init);
  if (!r.ok) throw new Error(`${init?.method ?? 'GET'} ${url} answered ${r.status}: ${await r.text()}`);
  return (await r.json()) as T;
}

export interface GoodEvent {
  seq: number;
  received: string;
  eventType: string;
  eventName: string;
  schema: string;
  contexts: string[];
  event: Record<string, any>;
}

export interface BadEvent {
  seq: number;
  received: string;
  type: string;
  processor: string | null;
  errors: string[];
  badRow: any;
}

/** What the demo scenario produced, as read back through the inspection API. */
export interface DemoResult {
  readonly pageUrl: string;
  readonly pageView: GoodEvent;
  readonly ping: GoodEvent;
  readonly buttonClick: GoodEvent;
  readonly structEvent: GoodEvent;
  readonly linkClick: GoodEvent;
  readonly secondPageView: GoodEvent;
  readonly invalid: BadEvent;
  readonly good: GoodEvent[];
  readonly bad: BadEvent[];
}

const one = async <T>(base: string, path: string, what: string, pick: (rows: T[]) => T | undefined = (rows) => rows[0]): Promise<T> =>
  waitFor(what, async () => pick(await getJson<T[]>(`${base}${path}`)));

/**
 * A visitor on the demo site: the page view, activity until a page ping, the three buttons (self-describing event
 * with an entity, structured event, the invalid event), then a click on the link to the second page.
 */
export async function runDemoScenario(page: Page, base: string): Promise<DemoResult> {
  const pageUrl = `${base}/?pings=1,1`;
  await page.goto(pageUrl);
  const pageView = await one<GoodEvent>(base, '/micro/good?event_type=page_view', 'the page view');
  // Page pings need activity during the heartbeat: scroll and move until one arrives.
  const ping = await waitFor('a page ping', async () => {
    await page.mouse.move(100 + Math.random() * 200, 100 + Math.random() * 200);
    await page.mouse.wheel(0, 120);
    const rows = await getJson<GoodEvent[]>(`${base}/micro/good?event_type=page_ping&limit=1`);
    return rows[0];
  }, 30000);
  await page.click('#add-to-basket');
  const buttonClick = await one<GoodEvent>(base, '/micro/good?schema=iglu:io.waymark.example/button_click', 'the button_click event');
  await page.click('#like');
  const structEvent = await one<GoodEvent>(base, '/micro/good?event_type=struct', 'the structured event');
  await page.click('#invalid');
  const invalid = await one<BadEvent>(base, '/micro/bad?type=schema_violations', 'the invalid event as a bad row');
  await page.evaluate(() => window.scrollTo(0, 0));
  await Promise.all([page.waitForURL(`${base}/about.html`), page.click('#next-page')]);
  const linkClick = await one<GoodEvent>(base, '/micro/good?event_type=link_click', 'the link click');
  const secondPageView = await one<GoodEvent>(base, '/micro/good?event_type=page_view', 'the second page view', (rows) => rows.find((r) => r.event.page_urlpath === '/about.html'));
  const good = await getJson<GoodEvent[]>(`${base}/micro/good`);
  const bad = await getJson<BadEvent[]>(`${base}/micro/bad`);
  return { pageUrl, pageView, ping, buttonClick, structEvent, linkClick, secondPageView, invalid, good, bad };
}
