/**
 * `npm start -- --pubsub --push`: the serverless path on one machine. npm start builds the enricher service bundle
 * (the one Cloud Run runs, pipeline/service/main.ts) for the same schemas as the UDF; local mode starts the emulator,
 * the enricher service as a child process behind a push subscription of the raw topic (auth off: the emulator sends
 * no OIDC token), and pulls the enriched and bad topics into the files the events page and /micro/* read. Ctrl-C
 * (SIGINT to the process group) stops the collector, the enricher service and the emulator.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getJson, GoodEvent, groupAlive, portOpen, requireGcloud, runDetached, RunningProcess, waitFor } from './support';

const buildDir = mkdtempSync(join(tmpdir(), 'waymark-push-build-'));
const dataDir = mkdtempSync(join(tmpdir(), 'waymark-push-data-'));
let proc: RunningProcess | null = null;
afterAll(async () => {
  await proc?.killGroup();
  // The emulator and the enricher service run in process groups of their own: gone unless the test failed first.
  for (const m of (proc?.output() ?? '').matchAll(/\((?:process group|pid) (\d+); stopped with local mode\)/g)) {
    try {
      process.kill(-Number(m[1]), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(buildDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

const BUTTON_CLICK = 'iglu:io.waymark.example/button_click/jsonschema/1-0-1';
const ue = (data: unknown): string =>
  Buffer.from(JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema: BUTTON_CLICK, data } })).toString('base64url');

test('npm start -- --pubsub --push enriches with the enricher service through a push subscription; Ctrl-C stops it all', async () => {
  requireGcloud();
  proc = runDetached('npm', ['start', '--', '--pubsub', '--push', '--port', '0'], {
    env: { ...process.env, WAYMARK_BUILD_DIR: buildDir, WAYMARK_LOCAL_DATA_DIR: dataDir, PUBSUB_EMULATOR_HOST: '' },
  });
  const port = Number((await proc.waitForOutput(/Waymark local is running: http:\/\/localhost:(\d+)\//, 'the local URL', 300000))[1]);
  const out = proc.output();
  // The enricher service bundle of the built-ins plus examples/schemas, next to the UDF of the same registry.
  const enricher = new RegExp(`(${join(buildDir, 'local').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/enricher-[0-9a-f]{16}\\.js) +built \\(`).exec(out);
  expect(enricher).not.toBeNull();
  const [, servicePortText, servicePid] = /Enricher service .* listening on 127\.0\.0\.1:(\d+) \(pid (\d+);/.exec(out)!;
  const servicePort = Number(servicePortText);
  expect(out).toContain(`Enricher service ${enricher![1]} listening`);
  const emulator = /Pub\/Sub emulator ready on (\S+)/.exec(out)![1];

  // The raw topic is pushed to the service; the pull enricher's subscription is not there.
  const api = `http://${emulator}/v1/projects/waymark-local/subscriptions`;
  expect((await getJson(`${api}/waymark-raw-push`)).pushConfig.pushEndpoint).toBe(`http://127.0.0.1:${servicePort}/push`);
  expect((await fetch(`${api}/waymark-raw-enrich`)).status).toBe(404);

  const b = `http://127.0.0.1:${port}`;
  const send = (eid: string, data: unknown) => fetch(`${b}/i?e=ue&eid=${eid}&tv=test&p=web&ue_px=${ue(data)}`);
  expect((await send('5e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b', { buttonId: 'add-to-basket', position: 0 })).status).toBe(200);
  expect((await send('6e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b', { position: -1 })).status).toBe(200);

  const good = await waitFor('the good row', async () => (await getJson<GoodEvent[]>(`${b}/micro/good`))[0], 60000);
  expect(good.event.event_id).toBe('5e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b');
  expect(good.event.unstruct_event_io_waymark_example_button_click_1).toEqual({ button_id: 'add-to-basket', position: 0 });
  const bad = await waitFor('the bad row', async () => (await getJson<any[]>(`${b}/micro/bad`))[0], 60000);
  expect(bad.type).toBe('schema_violations');
  expect(bad.errors).toEqual([
    `${BUTTON_CLICK} field ue_px at $ (required): missing required property "buttonId"`,
    `${BUTTON_CLICK} field ue_px at $.position (minimum): expected a number >= 0, found number -1`,
  ]);
  expect(await getJson(`${b}/micro/all`)).toMatchObject({ good: 1, bad: 1, mode: 'pubsub' });
  // Both rows are in the files, one line each.
  expect(readFileSync(join(dataDir, 'good.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
  expect(readFileSync(join(dataDir, 'bad.jsonl'), 'utf8')).toContain('6e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b');

  // An event accepted just before Ctrl-C is still enriched: the collector drains into the raw topic, and the service
  // is stopped only once every published event came back on the enriched or bad topic.
  expect((await send('8e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b', { buttonId: 'checkout', position: 1 })).status).toBe(200);
  proc.signalGroup('SIGINT');
  await waitFor('every process npm start started to exit', () => !groupAlive(proc!.pgid), 60000);
  expect(readFileSync(join(dataDir, 'good.jsonl'), 'utf8')).toContain('8e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b');
  expect(proc.output()).not.toContain('were not enriched before stopping');
  expect(proc.output()).toContain('Pub/Sub emulator stopped.');
  expect(proc.output()).toMatch(/Stopped\.\n/);
  expect(await portOpen(port)).toBe(false);
  expect(await portOpen(servicePort)).toBe(false);
  expect(groupAlive(Number(servicePid))).toBe(false); // the service runs in its own process group
  expect(await portOpen(Number(emulator.split(':')[1]))).toBe(false);
}, 420000);
