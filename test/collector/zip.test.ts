/**
 * The shipped Cloud Functions gen2 / App Engine archive (lib/private/runtime-bundles.ts collectorZip(), what the
 * constructs upload), unpacked with `unzip` into an empty folder and run the way those platforms run it:
 * App Engine (and Cloud Functions' buildpack) runs `npm start` from its package.json with PORT set; Cloud Functions
 * gen2 loads the package's `main` as a module and calls the `collect` export for each request (FUNCTION_TARGET).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRuntimeBundle } from '../helpers/bundles';
import { request, runBundle, RunningCollector, waitFor } from './support';
import { paramsOf, PayloadLike } from '../helpers/payload';

const TP2 = '/com.snowplowanalytics.snowplow/tp2';
const envelope = (data: unknown): string => JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data });

let root: string;
let app: string;
let home: string;
const started: RunningCollector[] = [];

beforeAll(async () => {
  if (spawnSync('unzip', ['-v'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('unzip is required to check the collector archive: apt-get install -y unzip (.ci/run installs it)');
  }
  const zip = await buildRuntimeBundle('collector-zip');
  root = mkdtempSync(join(tmpdir(), 'waymark-collector-zip-'));
  // An empty folder with nothing above it but /tmp: no node_modules to fall back on.
  app = join(root, 'app');
  home = join(root, 'home');
  execFileSync('unzip', ['-q', zip, '-d', app]);
  execFileSync('mkdir', ['-p', home]);
}, 120000);
afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.stop('SIGKILL')));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

test('the archive holds a package.json whose main and start script run the single-file collector, and nothing else', () => {
  expect(readdirSync(app).sort()).toEqual(['index.js', 'package.json']);
  const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
  expect(pkg).toMatchObject({ name: 'waymark-collector', main: 'index.js', engines: { node: '>=20' } });
  expect(pkg.scripts.start).toMatch(/^(exec )?node index\.js$/);
  expect(pkg.dependencies ?? {}).toEqual({});
});

const MEMORY_ENV = { WAYMARK_SINK: 'memory', WAYMARK_DEBUG_ENDPOINTS: 'true' };
const NPM_ENV = { HOME: '', npm_config_update_notifier: 'false', npm_config_fund: 'false' };

/** Sends events (GET and POST), checks /health and that the sink has them. */
async function serveAndRecord(port: number, tag: string): Promise<void> {
  expect(await request(port, { path: '/health' })).toMatchObject({ status: 200, text: 'ok' });
  expect((await request(port, { path: `/i?e=pv&eid=${tag}-get&aid=zip` })).status).toBe(200);
  const post = await request(port, { method: 'POST', path: TP2, headers: { 'content-type': 'application/json' }, body: envelope([{ e: 'se', eid: `${tag}-post` }]) });
  expect([post.status, post.text]).toEqual([200, 'ok']);
  const events = JSON.parse((await request(port, { path: '/debug/events' })).text);
  expect(events.good.map((p: PayloadLike) => paramsOf(p).eid)).toEqual([`${tag}-get`, `${tag}-post`]);
  expect(paramsOf(events.good[0])).toEqual({ e: 'pv', eid: `${tag}-get`, aid: 'zip' });
}

const stoppedCleanly = (c: RunningCollector, maxMs: number): Promise<unknown> =>
  waitFor('the collector to drain and stop', () => c.logs.find((l) => l.message === 'collector stopped' && l.remaining === 0), maxMs);

test('App Engine as the construct deploys it: entrypoint `node index.js` through bash -c, PORT set; SIGTERM to it drains, exit 0', async () => {
  // lib/private/backends/app-engine.ts: entrypoint { shell: 'node index.js' }, which App Engine runs with bash -c.
  const c = await runBundle('', MEMORY_ENV, { cwd: app, command: ['bash', '-c', 'node index.js'] });
  started.push(c);
  expect(c.logs.find((l) => l.message === 'collector listening')).toMatchObject({ sink: 'memory', host: '127.0.0.1', version: expect.any(String) });
  await serveAndRecord(c.port, 'gae');
  // The platform signals the entrypoint process only.
  process.kill(c.pid, 'SIGTERM');
  expect(await c.exited).toBe(0);
  await stoppedCleanly(c, 1000);
}, 60000);

test('`npm start` from its package.json (buildpacks, App Engine without an entrypoint) serves and records; SIGTERM to the process group drains', async () => {
  const c = await runBundle('', { ...NPM_ENV, HOME: home, ...MEMORY_ENV }, { cwd: app, command: ['npm', 'start'] });
  started.push(c);
  await serveAndRecord(c.port, 'npm');
  // A terminal's Ctrl-C or systemd signal the whole group: the collector itself gets SIGTERM.
  await c.stop('SIGTERM');
  await stoppedCleanly(c, 15000);
}, 60000);

// npm runs the start script through `sh -c` and forwards SIGTERM to that shell only: the zip's `"start": "exec node index.js"`
// makes node the shell's process, so a platform that signals npm alone (PID 1 `npm start`) still drains the collector.
test('`npm start`: SIGTERM to npm alone reaches the collector, which drains and stops', async () => {
  const c = await runBundle('', { ...NPM_ENV, HOME: home, ...MEMORY_ENV }, { cwd: app, command: ['npm', 'start'] });
  try {
    await serveAndRecord(c.port, 'npm-only');
    process.kill(c.pid, 'SIGTERM');
    expect(await c.exited).toBe(0);
    await stoppedCleanly(c, 5000);
  } finally {
    // Never leave anything of the group running, whatever happened above.
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}, 60000);

test('Cloud Functions gen2 style: the package main, required as a module, starts no server and its `collect` export serves requests', async () => {
  // A minimal host like the Functions Framework: require the package folder (its main), serve exports[FUNCTION_TARGET],
  // with the request body already read into req.rawBody as the framework does.
  const host = `
    const http = require('http');
    const m = require(process.cwd());
    const fn = m[process.env.FUNCTION_TARGET];
    if (typeof fn !== 'function') { console.error('no export ' + process.env.FUNCTION_TARGET); process.exit(2); }
    const s = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => { req.rawBody = Buffer.concat(chunks); fn(req, res); });
    });
    s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: s.address().port })));
    process.on('SIGTERM', () => process.exit(0));`;
  const child = spawn(process.execPath, ['-e', host], {
    cwd: app,
    // PORT=1: if loading the module started the standalone server, it would fail to listen and say so.
    env: { PATH: process.env.PATH ?? '', FUNCTION_TARGET: 'collect', WAYMARK_SINK: 'memory', WAYMARK_DEBUG_ENDPOINTS: 'true', PORT: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  try {
    const { port } = await waitFor('the host to listen', () => {
      if (child.exitCode !== null) throw new Error(`host exited with ${child.exitCode}: ${err}`);
      return out.includes('\n') ? (JSON.parse(out.split('\n')[0]) as { port: number }) : undefined;
    });
    expect((await request(port, { path: '/i?e=pv&eid=fn-get' })).status).toBe(200);
    const r = await request(port, { method: 'POST', path: TP2, headers: { 'content-type': 'application/json' }, body: envelope([{ e: 'pv', eid: 'fn-post-1' }, { e: 'pv', eid: 'fn-post-2' }]) });
    expect([r.status, r.text]).toEqual([200, 'ok']);
    // The handler's default ackMode is delivered: the events are in the sink when the answers come.
    const events = JSON.parse((await request(port, { path: '/debug/events' })).text);
    expect(events.good.map((p: PayloadLike) => paramsOf(p).eid)).toEqual(['fn-get', 'fn-post-1', 'fn-post-2']);
    const logs = err.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { message: string; ackMode?: string });
    expect(logs.map((l) => l.message)).toContain('collector handler ready');
    expect(logs.find((l) => l.message === 'collector handler ready')?.ackMode).toBe('delivered');
    expect(logs.map((l) => l.message)).not.toContain('collector listening');
    expect(logs.filter((l) => /cannot listen/.test(l.message))).toEqual([]);
  } finally {
    child.kill('SIGTERM');
  }
}, 60000);
