/**
 * `npm start` (scripts/start.ts) as a newcomer runs it: it builds the bundles into an empty build folder (what a
 * fresh clone has), starts the local bundle, prints the URL, serves it, validates against user schemas given with
 * --schemas, and Ctrl-C (SIGINT to the whole process group, as a terminal sends it) stops every process it started.
 * A second start finds the bundles up to date, and SIGTERM to the start script alone stops everything too.
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getJson, GoodEvent, groupAlive, portOpen, ROOT, runDetached, RunningProcess, waitFor } from './support';

const buildDir = mkdtempSync(join(tmpdir(), 'waymark-start-build-'));
const env = (): NodeJS.ProcessEnv => ({ ...process.env, WAYMARK_BUILD_DIR: buildDir, PUBSUB_EMULATOR_HOST: '' });
const running: RunningProcess[] = [];
afterAll(async () => {
  for (const p of running) await p.killGroup();
});

const URL_LINE = /Waymark local is running: http:\/\/localhost:(\d+)\//;
const ue = (schema: string, data: unknown): string =>
  Buffer.from(JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema, data } })).toString('base64url');

test('npm start builds what is missing, serves the one URL with the user schemas, and Ctrl-C stops it all', async () => {
  const proc = runDetached('npm', ['start', '--', '--port', '0', '--schemas', 'test/local/fixtures/schemas'], { env: env() });
  running.push(proc);
  const port = Number((await proc.waitForOutput(URL_LINE, 'the local URL', 240000))[1]);
  const out = proc.output();
  for (const file of ['waymark-local.js', 'sp.js', 'enrich.js']) expect(out).toMatch(new RegExp(`${join(buildDir, file).replace(/[.]/g, '\\.')} +built \\(`));
  expect(out).toMatch(/local\/enrich-[0-9a-f]{16}\.js +built \(/);
  expect(out).toContain('with your schemas from test/local/fixtures/schemas');
  expect(out).toContain(`events page      http://localhost:${port}/micro/ui`);

  const base = `http://127.0.0.1:${port}`;
  expect(await (await fetch(`${base}/`)).text()).toContain('<title>Waymark demo shop</title>');
  expect((await fetch(`${base}/sp.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  expect(await getJson(`${base}/micro/all`)).toEqual({ total: 0, good: 0, bad: 0, seq: 0, mode: 'in-process' });

  // The user's schema validates: a valid event is a good row with its own column, an invalid one a bad row.
  const schema = 'iglu:com.acme/checkout_started/jsonschema/1-0-0';
  const send = (eid: string, data: unknown) => fetch(`${base}/i?e=ue&eid=${eid}&tv=test&p=web&ue_px=${ue(schema, data)}`);
  expect((await send('1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b', { cartValue: 42.5, items: 2 })).status).toBe(200);
  expect((await send('2e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b', { cartValue: 42.5, items: 0 })).status).toBe(200);
  const good = await waitFor('the checkout_started row', async () => (await getJson<GoodEvent[]>(`${base}/micro/good?schema=${schema}`))[0]);
  expect(good.event.unstruct_event_com_acme_checkout_started_1).toEqual({ cart_value: 42.5, items: 2 });
  const bad = await waitFor('the invalid checkout_started', async () => (await getJson<any[]>(`${base}/micro/bad`))[0]);
  expect(bad.errors).toEqual([`${schema} field ue_px at $.items (minimum): expected a number >= 1, found number 0`]);

  proc.signalGroup('SIGINT');
  await waitFor('every process npm start started to exit', () => !groupAlive(proc.pgid), 30000);
  expect(proc.output()).toMatch(/Stopping \(SIGINT\) …\nStopped\.\n/);
  expect(await portOpen(port)).toBe(false);
}, 300000);

test('a second start finds the bundles up to date; SIGTERM to the start script alone stops the server it started', async () => {
  const proc = runDetached(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--port', '0'], { env: env(), cwd: ROOT });
  running.push(proc);
  const port = Number((await proc.waitForOutput(URL_LINE, 'the local URL', 240000))[1]);
  expect(proc.output().match(/ up to date \(/g)).toHaveLength(3);
  expect(await getJson(`${base(port)}/micro/all`)).toMatchObject({ total: 0 });
  process.kill(proc.pgid, 'SIGTERM'); // the start script only (its pid leads the group), not the group
  expect(await proc.exited).toBe(0);
  await waitFor('the local server to exit too', () => !groupAlive(proc.pgid), 30000);
  expect(proc.output()).toContain('Stopping (SIGTERM) …\nStopped.\n');
  expect(await portOpen(port)).toBe(false);
}, 300000);

test('--help prints both usages and exits 0 without building anything', async () => {
  const help = runDetached(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--help'], { env: { ...env(), WAYMARK_BUILD_DIR: join(buildDir, 'never') } });
  running.push(help);
  expect(await help.exited).toBe(0);
  expect(help.output()).toMatch(/^usage: npm start -- \[--schemas DIR\]/);
  expect(help.output()).toContain('Other flags go to node waymark-local.js [--port N]');
  expect(help.output()).not.toContain('Building');
});

test('mistakes end with a message that says what to do, and a non-zero exit', async () => {
  const missing = runDetached(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--schemas', 'no/such/folder'], { env: env() });
  running.push(missing);
  expect(await missing.exited).toBe(2);
  expect(missing.output()).toContain('npm start: --schemas no/such/folder is not a folder');

  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const taken = (blocker.address() as { port: number }).port;
  try {
    const busy = runDetached(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--port', String(taken)], { env: env() });
    running.push(busy);
    expect(await busy.exited).toBe(69);
    expect(busy.output()).toContain(`waymark local: port ${taken} on 127.0.0.1 is in use: stop what uses it, or choose another port with --port N (npm start -- --port ${taken + 1}); --port 0 picks a free one`);
  } finally {
    blocker.close();
  }
}, 300000);

const base = (port: number): string => `http://127.0.0.1:${port}`;
