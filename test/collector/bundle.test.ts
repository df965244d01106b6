/**
 * The shipped collector bundle (collector.js, built by the lead's bundler), run with node from an empty folder.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRuntimeBundle } from '../helpers/bundles';
import { request, runBundle, RunningCollector, waitFor } from './support';
import { paramsOf, PayloadLike } from '../helpers/payload';

let bundle: string;
let dir: string;
const started: RunningCollector[] = [];

beforeAll(async () => {
  const built = await buildRuntimeBundle('collector');
  // An empty folder: no node_modules anywhere above it, nothing but the bundle.
  dir = mkdtempSync(join(tmpdir(), 'waymark-collector-'));
  bundle = join(dir, 'collector.js');
  copyFileSync(built, bundle);
  expect(existsSync(join(dir, 'node_modules'))).toBe(false);
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.stop('SIGKILL')));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = async (env: Record<string, string>): Promise<RunningCollector> => {
  const c = await runBundle(bundle, env, { cwd: dir });
  started.push(c);
  return c;
};

describe('the collector bundle', () => {
  test('with no configuration at all it starts with the stdout sink, says so, records to stdout and exits 0 on SIGTERM', async () => {
    const c = await run({});
    expect(c.logs[0]).toMatchObject({ severity: 'WARNING', sink: 'stdout' });
    expect(c.logs[0].message).toMatch(/^no sink configured: writing events to stdout/);
    expect(c.logs[1]).toMatchObject({ severity: 'INFO', message: 'collector listening', sink: 'stdout', host: '127.0.0.1', version: '0.1.0' });
    const r = await request(c.port, { path: '/i?e=pv&eid=std-1&aid=site' });
    expect(r.status).toBe(200);
    const line = await waitFor('a stdout line', () => c.stdout[0]);
    const record = JSON.parse(line);
    expect(record.stream).toBe('good');
    expect(record.attributes).toEqual({ event_type: 'pv', app_id: 'site' });
    expect(record.data.schema).toBe('iglu:io.waymark/collector_payload/jsonschema/1-0-1');
    expect(record.data.data.querystring).toBe('e=pv&eid=std-1&aid=site');
    expect(paramsOf(record.data)).toEqual({ e: 'pv', eid: 'std-1', aid: 'site' });
    expect(await c.stop('SIGTERM')).toBe(0);
    expect(c.logs.map((l) => l.message)).toEqual(expect.arrayContaining(['signal received: stopping', 'shutting down: draining the buffer', 'collector stopped']));
    expect(c.stderrText).toEqual([]);
  });

  test('when the readers of its stdout and stderr go away it keeps serving, and still stops on SIGTERM', async () => {
    const c = await run({ WAYMARK_SHUTDOWN_TIMEOUT_MS: '1000' });
    c.child.stdout!.destroy();
    c.child.stderr!.destroy();
    for (let i = 0; i < 20; i++) expect((await request(c.port, { path: `/i?e=pv&eid=gone-${i}` })).status).toBe(200);
    expect((await request(c.port, { path: '/health' })).status).toBe(200);
    // The stdout sink cannot write (EPIPE): those events are still held when the drain time is up, so exit code 1.
    expect(await c.stop('SIGTERM')).toBe(1);
  });

  test('a second SIGTERM during the drain (npm forwarding it while the group is signalled) does not cut the drain short', async () => {
    const c = await run({ WAYMARK_SHUTDOWN_TIMEOUT_MS: '1500' });
    // The stdout sink cannot write once its reader is gone: the events stay buffered and the drain takes its full time.
    c.child.stdout!.destroy();
    for (let i = 0; i < 5; i++) expect((await request(c.port, { path: `/i?e=pv&eid=twice-${i}` })).status).toBe(200);
    c.child.kill('SIGTERM');
    await waitFor('the drain to start', () => c.logs.find((l) => l.message === 'shutting down: draining the buffer'));
    c.child.kill('SIGTERM');
    c.child.kill('SIGINT');
    // Killed by the second signal, the exit code would be null; drained to the end, it is 1 (events left) with a log.
    expect(await c.exited).toBe(1);
    expect(c.logs.find((l) => l.message === 'collector stopped')).toMatchObject({ remaining: 5 });
  });

  test('an invalid configuration stops the start with exit code 78 and a log naming each setting', async () => {
    const c = await runBundle(bundle, { WAYMARK_SINK: 'pubsub', WAYMARK_COOKIE_MAX_AGE_SECONDS: 'forever' }, { cwd: dir, expectExit: true });
    expect(await c.exited).toBe(78);
    expect(c.logs).toHaveLength(1);
    expect(c.logs[0].severity).toBe('ERROR');
    expect(c.logs[0].message).toBe(
      [
        'Invalid collector configuration:',
        '  - cookie.maxAgeSeconds (WAYMARK_COOKIE_MAX_AGE_SECONDS) must be an integer from 1 to 34560000, got "forever"',
        '  - sink.goodTopic (WAYMARK_PUBSUB_GOOD_TOPIC) is required when sink.type is "pubsub"',
        '  - sink.badTopic (WAYMARK_PUBSUB_BAD_TOPIC) is required when sink.type is "pubsub"',
      ].join('\n'),
    );
  });

  test('a port already in use stops the start with exit code 1 and a log saying which port and why', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const c = await runBundle(bundle, { PORT: String(port), WAYMARK_SINK: 'memory' }, { cwd: dir, expectExit: true });
      expect(await c.exited).toBe(1);
      const error = c.logs.find((l) => l.severity === 'ERROR');
      expect(error?.message).toBe(`cannot listen on port ${port}`);
      expect(JSON.stringify(error)).toContain('EADDRINUSE');
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });

  test('file sink: SIGTERM stops accepting, drains every accepted event to the JSONL files, then exits 0', async () => {
    const out = mkdtempSync(join(tmpdir(), 'waymark-file-sink-'));
    try {
      const c = await run({ WAYMARK_SINK: 'file', WAYMARK_FILE_DIR: out, WAYMARK_CONFIG_FILE: '' });
      const agent = new Agent({ keepAlive: true, maxSockets: 20 });
      const accepted: string[] = [];
      await Promise.all(
        Array.from({ length: 20 }, async (_, w) => {
          for (let i = 0; i < 25; i++) {
            const eid = `w${w}-${i}`;
            const r = await request(c.port, { path: `/i?e=pv&eid=${eid}`, agent });
            if (r.status === 200) accepted.push(eid);
          }
        }),
      );
      await request(c.port, { method: 'POST', path: '/com.snowplowanalytics.snowplow/tp2', body: '{oops', agent });
      agent.destroy();
      expect(await c.stop('SIGTERM')).toBe(0);
      const good = readFileSync(join(out, 'good.jsonl'), 'utf8').trim().split('\n').map((l) => paramsOf(l).eid);
      expect(new Set(good)).toEqual(new Set(accepted));
      expect(accepted).toHaveLength(500);
      const bad = readFileSync(join(out, 'bad.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).data.type);
      expect(bad).toEqual(['collector_payload_format_violation']);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('exports.collect is the Cloud Functions handler: loading the bundle as a module starts no server', async () => {
    // A minimal host like the Functions Framework: require the module, serve exports.collect.
    const host = `
      const http = require('http');
      const m = require(${JSON.stringify(bundle)});
      if (typeof m.collect !== 'function' || typeof m.createHandler !== 'function') { console.error('missing exports'); process.exit(2); }
      const s = http.createServer((req, res) => m.collect(req, res));
      s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: s.address().port })));
      process.on('SIGTERM', () => process.exit(0));`;
    const child = spawn(process.execPath, ['-e', host], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', FUNCTION_TARGET: 'collect', WAYMARK_SINK: 'memory', WAYMARK_DEBUG_ENDPOINTS: 'true', PORT: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const { port } = await waitFor('the host to listen', () => (out.includes('\n') ? (JSON.parse(out.split('\n')[0]) as { port: number }) : undefined));
      const r = await request(port, { method: 'POST', path: '/com.snowplowanalytics.snowplow/tp2', body: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'pv', eid: 'fn-1' }] }) });
      expect([r.status, r.text]).toEqual([200, 'ok']);
      // ackMode defaults to delivered for the handler: the event is in the sink when the answer comes.
      const events = JSON.parse((await request(port, { path: '/debug/events' })).text);
      expect(events.good.map((p: PayloadLike) => paramsOf(p).eid)).toEqual(['fn-1']);
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('the bundle is a single CommonJS module exposing the handler and the embedding API', () => {
    const keys = execFileSync(process.execPath, ['-e', `console.log(Object.keys(require(${JSON.stringify(bundle)})).sort().join(','))`], { cwd: dir, env: { PATH: process.env.PATH ?? '' } }).toString().trim();
    expect(keys.split(',')).toEqual(expect.arrayContaining(['collect', 'createCollector', 'createHandler', 'MemorySink', 'loadConfig']));
  });
});
