/**
 * `npm start` (scripts/start.ts) as a newcomer runs it: it builds the bundles into an empty build folder (what a
 * fresh clone has), with the demo site's example schemas (examples/schemas) in the UDF's registry, starts the local
 * bundle, prints the URL, serves it, and Ctrl-C (SIGINT to the whole process group, as a terminal sends it) stops
 * every process it started. A second start finds the bundles up to date, validates against user schemas given with
 * --schemas too, and SIGTERM to the start script alone stops everything. --no-example-schemas validates as a
 * deployment without schema folders does.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { getJson, GoodEvent, groupAlive, portOpen, ROOT, runDetached, RunningProcess, waitFor } from './support';
import { missingSchemaMessage } from '../../pipeline/registry/messages';
import { tempDir } from '../helpers/temp-dirs';

const buildDir = tempDir('start-build');
const env = (): NodeJS.ProcessEnv => ({ ...process.env, WAYMARK_BUILD_DIR: buildDir, PUBSUB_EMULATOR_HOST: '' });
const running: RunningProcess[] = [];
afterAll(async () => {
  for (const p of running) await p.killGroup();
});

const URL_LINE = /Waymark local is running: http:\/\/localhost:(\d+)\//;
const ue = (schema: string, data: unknown): string =>
  Buffer.from(JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema, data } })).toString('base64url');
const BUTTON_CLICK = 'iglu:io.waymark.example/button_click/jsonschema/1-0-1';
/** Sends the demo's self-describing event (an example schema) to the collector's GET endpoint. */
const sendButtonClick = (port: number, eid: string) => fetch(`${base(port)}/i?e=ue&eid=${eid}&tv=test&p=web&ue_px=${ue(BUTTON_CLICK, { buttonId: 'add-to-basket', position: 0 })}`);
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('npm start builds what is missing, serves the one URL with the demo\'s example schemas, and Ctrl-C stops it all', async () => {
  const proc = runDetached('npm', ['start', '--', '--port', '0'], { env: env() });
  running.push(proc);
  const port = Number((await proc.waitForOutput(URL_LINE, 'the local URL', 240000))[1]);
  const out = proc.output();
  for (const file of ['waymark-local.js', 'sp.js']) expect(out).toMatch(new RegExp(`${escape(join(buildDir, file))} +built \\(`));
  // The UDF of the built-ins plus examples/schemas; build/enrich.js (no schema folders) is not what the demo needs.
  expect(out).toMatch(new RegExp(`${escape(join(buildDir, 'local'))}/enrich-[0-9a-f]{16}\\.js +built \\(`));
  expect(out).not.toContain(join(buildDir, 'enrich.js'));
  expect(out).toContain('with the built-in schemas and examples/schemas\n');
  expect(out).toContain(`events page      http://localhost:${port}/micro/ui`);

  const b = base(port);
  expect(await (await fetch(`${b}/`)).text()).toContain('<title>Waymark demo shop</title>');
  expect((await fetch(`${b}/sp.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  expect(await getJson(`${b}/micro/all`)).toEqual({ total: 0, good: 0, bad: 0, seq: 0, mode: 'in-process' });
  // The demo site's event validates out of the box: a good row with the example schema's own column.
  expect((await sendButtonClick(port, '0e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b')).status).toBe(200);
  const click = await waitFor('the button_click row', async () => (await getJson<GoodEvent[]>(`${b}/micro/good?schema=${BUTTON_CLICK}`))[0]);
  expect(click.event.unstruct_event_io_waymark_example_button_click_1).toEqual({ button_id: 'add-to-basket', position: 0 });
  expect(await getJson(`${b}/micro/all`)).toMatchObject({ good: 1, bad: 0 });

  proc.signalGroup('SIGINT');
  await waitFor('every process npm start started to exit', () => !groupAlive(proc.pgid), 30000);
  expect(proc.output()).toMatch(/Stopping \(SIGINT\) …\nStopped\.\n/);
  expect(await portOpen(port)).toBe(false);
}, 300000);

test('a second start finds the bundles up to date and adds --schemas to the examples; SIGTERM to the start script alone stops the server it started', async () => {
  const proc = runDetached(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--port', '0', '--schemas', 'test/local/fixtures/schemas'], { env: env(), cwd: ROOT });
  running.push(proc);
  const port = Number((await proc.waitForOutput(URL_LINE, 'the local URL', 240000))[1]);
  const out = proc.output();
  for (const file of ['waymark-local.js', 'sp.js']) expect(out).toMatch(new RegExp(`${escape(join(buildDir, file))} +up to date \\(`));
  // Another registry, another UDF: built next to the first one.
  expect(out).toMatch(/local\/enrich-[0-9a-f]{16}\.js +built \(/);
  expect(out).toContain('with the built-in schemas and examples/schemas, test/local/fixtures/schemas\n');

  // The user's schema validates: a valid event is a good row with its own column, an invalid one a bad row.
  const b = base(port);
  const schema = 'iglu:com.acme/checkout_started/jsonschema/1-0-0';
  const send = (eid: string, data: unknown) => fetch(`${b}/i?e=ue&eid=${eid}&tv=test&p=web&ue_px=${ue(schema, data)}`);
  expect((await send('1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b', { cartValue: 42.5, items: 2 })).status).toBe(200);
  expect((await send('2e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b', { cartValue: 42.5, items: 0 })).status).toBe(200);
  const good = await waitFor('the checkout_started row', async () => (await getJson<GoodEvent[]>(`${b}/micro/good?schema=${schema}`))[0]);
  expect(good.event.unstruct_event_com_acme_checkout_started_1).toEqual({ cart_value: 42.5, items: 2 });
  const bad = await waitFor('the invalid checkout_started', async () => (await getJson<any[]>(`${b}/micro/bad`))[0]);
  expect(bad.errors).toEqual([`${schema} field ue_px at $.items (minimum): expected a number >= 1, found number 0`]);
  // The examples are still in.
  expect((await sendButtonClick(port, '3e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b')).status).toBe(200);
  await waitFor('the button_click row', async () => (await getJson<GoodEvent[]>(`${b}/micro/good?schema=${BUTTON_CLICK}`))[0]);
  expect(await getJson(`${b}/micro/all`)).toMatchObject({ good: 2, bad: 1 });

  process.kill(proc.pgid, 'SIGTERM'); // the start script only (its pid leads the group), not the group
  expect(await proc.exited).toBe(0);
  await waitFor('the local server to exit too', () => !groupAlive(proc.pgid), 30000);
  expect(proc.output()).toContain('Stopping (SIGTERM) …\nStopped.\n');
  expect(await portOpen(port)).toBe(false);
}, 300000);

test('--no-example-schemas validates against the built-ins only, like a deployment without schema folders', async () => {
  const proc = runDetached(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--port', '0', '--no-example-schemas'], { env: env(), cwd: ROOT });
  running.push(proc);
  const port = Number((await proc.waitForOutput(URL_LINE, 'the local URL', 240000))[1]);
  expect(proc.output()).toMatch(new RegExp(`${escape(join(buildDir, 'enrich.js'))} +built \\(`));
  expect(proc.output()).toContain('with the built-in schemas only');
  expect((await sendButtonClick(port, '4e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b')).status).toBe(200);
  const bad = await waitFor('the button_click as a bad row', async () => (await getJson<any[]>(`${base(port)}/micro/bad`))[0]);
  expect(bad.type).toBe('schema_violations');
  expect(bad.errors).toEqual([`${BUTTON_CLICK} field ue_px at $ (resolution): ${missingSchemaMessage(BUTTON_CLICK)}`]);
  proc.signalGroup('SIGINT');
  await waitFor('every process npm start started to exit', () => !groupAlive(proc.pgid), 30000);
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

test('arguments are checked before anything is built; a flag npm took for itself (npm start --port 8082) gets the command meant', async () => {
  const never = { ...env(), WAYMARK_BUILD_DIR: join(buildDir, 'never') };
  const run = async (args: string[]): Promise<string> => {
    const p = runDetached('npm', args, { env: never });
    running.push(p);
    expect([args.join(' '), await p.exited]).toEqual([args.join(' '), 2]);
    expect(p.output()).not.toContain('Building');
    return p.output();
  };
  // npm keeps --port (and the others) before "--" as its own configuration, and hands the script the bare value.
  const swallowed = await run(['start', '--port', '8082']);
  expect(swallowed).toContain('npm start: unknown argument "8082"\nnpm keeps flags that come before "--" for itself (--port): run npm start -- --port 8082\nusage: npm start --');
  expect(await run(['start', '--pubsub'])).toContain('npm start: npm keeps flags that come before "--" for itself (--pubsub): run npm start -- --pubsub');
  expect(await run(['start', '--port=9000', '--', '--schemas', 'test/local/fixtures/schemas'])).toContain('run npm start -- --port 9000 --schemas test/local/fixtures/schemas');
  const unknown = await run(['start', '--', '--prot', '1']);
  expect(unknown).toContain('npm start: unknown argument "--prot"\nusage: npm start --');
  const bare = await run(['start', '--', '8082']);
  expect(bare).toContain('npm start: unknown argument "8082"\nflags go after "--": npm start -- 8082 (a bare value such as "8082" belongs to a flag)');
  expect(await run(['start', '--', '--port', 'http'])).toContain('npm start: --port must be a port number from 0 to 65535, got "http"');
}, 120000);

test('the recovery loop: a schema fixed on disk, Replay rebuilds the enrichment and the bad row becomes one good row, once', async () => {
  const schemas = tempDir('replay-schemas');
  cpSync(join(ROOT, 'test/local/fixtures/schemas'), schemas, { recursive: true });
  const file = join(schemas, 'com.acme/checkout_started/jsonschema/1-0-0');
  const original = readFileSync(file, 'utf8');
  // A schema with a mistake: at least 5 items.
  writeFileSync(file, original.replace('"items": { "type": "integer", "minimum": 1 }', '"items": { "type": "integer", "minimum": 5 }'));
  const proc = runDetached(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--port', '0', '--no-example-schemas', '--schemas', schemas], { env: env(), cwd: ROOT });
  running.push(proc);
  const port = Number((await proc.waitForOutput(URL_LINE, 'the local URL', 240000))[1]);
  const b = base(port);
  const schema = 'iglu:com.acme/checkout_started/jsonschema/1-0-0';
  expect((await fetch(`${b}/i?e=ue&eid=5e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b&tv=test&p=web&aid=shop&ue_px=${ue(schema, { cartValue: 10, items: 2 })}`)).status).toBe(200);
  const bad = await waitFor('the checkout as a bad row', async () => (await getJson<any[]>(`${b}/micro/bad`))[0]);
  expect(bad.errors).toEqual([`${schema} field ue_px at $.items (minimum): expected a number >= 5, found number 2`]);
  expect((await getJson(`${b}/micro/iglu/com.acme/checkout_started/jsonschema/1-0-0`)).properties.items.minimum).toBe(5);

  // The fix, on disk: the registry served at /micro/iglu/ follows at once; a replay rebuilds the UDF.
  writeFileSync(file, original);
  expect((await getJson(`${b}/micro/iglu/com.acme/checkout_started/jsonschema/1-0-0`)).properties.items.minimum).toBe(1);
  const replay = await getJson(`${b}/micro/replay`, { method: 'POST' });
  expect(replay).toMatchObject({ rebuilt: true, replayed: 1, good: 1, stillBad: 0, udf: expect.stringMatching(/local\/enrich-[0-9a-f]{16}\.js$/) });
  const good = await getJson<GoodEvent[]>(`${b}/micro/good?schema=${schema}`);
  expect(good.map((g) => g.event.unstruct_event_com_acme_checkout_started_1)).toEqual([{ cart_value: 10, items: 2 }]);
  expect(await getJson(`${b}/micro/bad`)).toEqual([]);
  expect(proc.output()).toContain('Rebuilding the enrichment for a replay, with the schema folders as they are now:');
  // Twice: nothing more.
  expect(await getJson(`${b}/micro/replay`, { method: 'POST' })).toMatchObject({ replayed: 0, good: 0 });
  expect(await getJson(`${b}/micro/all`)).toMatchObject({ total: 1, good: 1, bad: 0 });
  // New events use the rebuilt UDF too.
  expect((await fetch(`${b}/i?e=ue&eid=6e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b&tv=test&p=web&aid=shop&ue_px=${ue(schema, { cartValue: 1, items: 1 })}`)).status).toBe(200);
  await waitFor('the second checkout as a good row', async () => (await getJson<GoodEvent[]>(`${b}/micro/good?schema=${schema}`)).length === 2 || undefined);

  // A schema broken on disk: the replay says so and replays nothing.
  writeFileSync(file, '{ not json');
  expect((await fetch(`${b}/i?e=ue&eid=7e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b&tv=test&p=web&aid=shop&ue_px=${ue(schema, { cartValue: 1, items: 0 })}`)).status).toBe(200);
  await waitFor('the third checkout as a bad row', async () => (await getJson<any[]>(`${b}/micro/bad`))[0]);
  const broken = await fetch(`${b}/micro/replay`, { method: 'POST' });
  expect(broken.status).toBe(422);
  expect(((await broken.json()) as { error: string }).error).toMatch(/^the enrichment could not be rebuilt from the schema folders, nothing was replayed: .*checkout_started/);
  expect(await getJson(`${b}/micro/all`)).toMatchObject({ good: 2, bad: 1 });
  proc.signalGroup('SIGINT');
  await waitFor('every process npm start started to exit', () => !groupAlive(proc.pgid), 30000);
}, 400000);

const base = (port: number): string => `http://127.0.0.1:${port}`;
