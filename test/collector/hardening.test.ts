/**
 * Smaller holes, against the shipped bundle: headers past the parser's count, CORS on /debug/events, misspelled
 * WAYMARK_* variables, sinks that cannot work at start, and an honest /sink-health.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configWith } from '../../collector/config';
import { createLogger } from '../../collector/log';
import { createCollector } from '../../collector/server';
import type { Sink } from '../../collector/sinks/types';
import { buildRuntimeBundle } from '../helpers/bundles';
import { releasePort, reservePort } from '../helpers/ports';
import { rawExchange, request, runBundle, RunningCollector, waitFor } from './support';

let dir: string;
let bundle: string;
const started: RunningCollector[] = [];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'waymark-collector-hardening-'));
  bundle = join(dir, 'collector.js');
  copyFileSync(await buildRuntimeBundle('collector'), bundle);
}, 60000);
afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.stop('SIGKILL')));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const run = async (env: Record<string, string>, expectExit = false): Promise<RunningCollector> => {
  const c = await runBundle(bundle, env, { cwd: dir, expectExit });
  started.push(c);
  return c;
};
const MEMORY = { WAYMARK_SINK: 'memory', WAYMARK_DEBUG_ENDPOINTS: 'true', WAYMARK_COOKIE_SECURE: 'false', WAYMARK_COOKIE_SAME_SITE: 'Lax' };

test('a request with more than 1000 headers (an SP-Anonymous past the 2000th was ignored: cookie set, IP recorded) is refused: 400, a size_violation bad row, no cookie', async () => {
  const c = await run(MEMORY);
  let many = '';
  for (let i = 0; i < 2100; i++) many += `x-h${i}: 1\r\n`;
  many += 'SP-Anonymous: *\r\n';
  const r = await rawExchange(c.port, [`GET /i?e=pv&eid=many-headers HTTP/1.1\r\nHost: c.acme.com\r\n${many}\r\n`]);
  expect(r.text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  expect(r.text).not.toMatch(/set-cookie/i);
  expect(r.text).toMatch(/\r\n\r\npayload too large: more than 1000 request headers$/);
  const events = await waitFor('the bad row', async () => {
    const e = JSON.parse((await request(c.port, { path: '/debug/events' })).text) as { good: unknown[]; bad: { data: { type: string; failure: { messages: { field: string }[] }; payload: { raw: string } } }[] };
    return e.bad.length === 1 ? e : undefined;
  });
  expect(events.good).toEqual([]);
  expect(events.bad[0].data).toMatchObject({ type: 'size_violation', failure: { messages: [{ field: 'headers' }] }, payload: { raw: 'e=pv&eid=many-headers' } });
  // 1000 headers are fine, and the anonymous header is honoured.
  const fine: Record<string, string> = {};
  for (let i = 0; i < 990; i++) fine[`x-h${i}`] = '1';
  fine['sp-anonymous'] = '*';
  const ok = await request(c.port, { path: '/i?e=pv&eid=fine', headers: fine });
  expect([ok.status, ok.headers['set-cookie']]).toEqual([200, undefined]);
  // Not an event route: 400 too.
  expect((await rawExchange(c.port, [`GET /health HTTP/1.1\r\nHost: x\r\n${many}\r\n`])).text).toMatch(/^HTTP\/1\.1 400 /);
});

test('/debug/events answers without CORS headers: pages of other origins cannot read what the sink holds', async () => {
  const c = await run(MEMORY);
  await request(c.port, { path: '/i?e=pv&eid=x', headers: { origin: 'https://evil.example' } });
  const r = await request(c.port, { path: '/debug/events', headers: { origin: 'https://evil.example', cookie: 'sp=1' } });
  expect(r.status).toBe(200);
  expect(r.headers['access-control-allow-origin']).toBeUndefined();
  expect(r.headers['access-control-allow-credentials']).toBeUndefined();
});

test('misspelled WAYMARK_* variables are warned about, naming the closest setting; other parts\' variables are not', async () => {
  const c = await run({ ...MEMORY, WAYMARK_COOKIE_MAXAGE_SECONDS: '60', WAYMARK_BUFER_MAX_EVENTS: '5', WAYMARK_ZZZ: '1', WAYMARK_BUNDLE: 'gs://b/c.js', WAYMARK_LOCAL_SITE: 'x' });
  const warnings = c.logs.filter((l) => l.severity === 'WARNING').map((l) => l.message);
  expect(warnings).toEqual([
    'unknown environment variable WAYMARK_BUFER_MAX_EVENTS is ignored: did you mean WAYMARK_BUFFER_MAX_EVENTS (buffer.maxEvents)?',
    'unknown environment variable WAYMARK_COOKIE_MAXAGE_SECONDS is ignored: did you mean WAYMARK_COOKIE_MAX_AGE_SECONDS (cookie.maxAgeSeconds)?',
    'unknown environment variable WAYMARK_ZZZ is ignored (no setting has a similar name; settings: collector/README.md)',
  ]);
});

test('an unwritable file sink folder: the collector does not start, and says why', async () => {
  const file = join(dir, 'a-file');
  writeFileSync(file, 'not a folder');
  const c = await run({ WAYMARK_SINK: 'file', WAYMARK_FILE_DIR: join(file, 'events') }, true);
  expect(await c.exited).toBe(1);
  expect(c.logs.find((l) => l.severity === 'ERROR')?.message).toMatch(/^cannot start: file sink: cannot write .*a-file\/events\/good\.jsonl \((ENOTDIR|EEXIST)\)$/);
  expect(c.logs.some((l) => l.message === 'collector listening')).toBe(false);
});

test('an unreachable Pub/Sub: the collector does not start, and says why', async () => {
  const port = await reservePort(); // nothing listens there
  try {
    const c = await run({ PUBSUB_EMULATOR_HOST: `127.0.0.1:${port}`, WAYMARK_PUBSUB_PROJECT: 'waymark-test', WAYMARK_PUBSUB_GOOD_TOPIC: 'raw', WAYMARK_PUBSUB_BAD_TOPIC: 'bad' }, true);
    expect(await c.exited).toBe(1);
    expect(c.logs.find((l) => l.severity === 'ERROR')?.message).toMatch(/^cannot start: pubsub sink: topic projects\/waymark-test\/topics\/raw is unreachable/);
  } finally {
    releasePort(port);
  }
}, 30000);

test('/sink-health is 503 from the first failed write, with how long and why, while events are still buffered; 200 once a write succeeds', async () => {
  let fail = true;
  const sink: Sink = { kind: 'flaky', write: async (r) => (fail ? Promise.reject(Object.assign(new Error('disk full'), { code: 'ENOSPC' })) : r.slice(0, 0)), close: async () => {} };
  const c = createCollector({ config: configWith({ host: '127.0.0.1', port: 0, buffer: { retryInitialMs: 20, retryMaxMs: 50 } }), sink, logger: createLogger({ write: () => {} }) });
  const { port } = await c.listen();
  try {
    expect((await request(port, { path: '/sink-health' })).status).toBe(200);
    expect((await request(port, { path: '/i?e=pv&eid=1' })).status).toBe(200);
    const sick = await waitFor('503', async () => {
      const r = await request(port, { path: '/sink-health' });
      return r.status === 503 ? r : undefined;
    });
    // Well inside sinkUnhealthyAfterMs (30 s): the old answer was 200 "ok" until then.
    expect(sick.text).toMatch(/^sink failing for \d+ ms, 1 events held: Error: disk full$/);
    expect((await request(port, { path: '/i?e=pv&eid=2' })).status).toBe(200);
    fail = false;
    await waitFor('200', async () => ((await request(port, { path: '/sink-health' })).status === 200 ? true : undefined));
  } finally {
    await c.shutdown();
  }
});
