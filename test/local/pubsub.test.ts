/**
 * End to end, Pub/Sub mode, with the real Pub/Sub emulator: Chromium → demo site → shipped tracker → shipped local
 * bundle (collector publishing to the raw topic) → emulator → local enricher pulling the subscription and running the
 * shipped UDF → good.jsonl / bad.jsonl → read back through /micro/good and /micro/bad, field by field.
 *
 * First with an emulator the test starts (PUBSUB_EMULATOR_HOST), then with the one local mode starts itself, which
 * Ctrl-C (SIGINT to the process group, as a terminal sends it) must stop with everything else.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { expectDemoRows } from './expectations';
import { DemoResult, getJson, GoodEvent, groupAlive, launchChromium, LocalInstance, portOpen, requireGcloud, runDemoScenario, RunningProcess, runDetached, startLocalBundle, waitFor } from './support';
import { releasePort, reservePort } from '../helpers/ports';
import { tempDir } from '../helpers/temp-dirs';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** `gcloud beta emulators pubsub start` on a free loopback port, in its own process group (killed at the end). */
async function startEmulator(): Promise<{ host: string; proc: RunningProcess }> {
  requireGcloud();
  // Reserved across jest workers: the JVM binds it seconds later.
  const port = await reservePort();
  cleanups.push(async () => releasePort(port));
  const dataDir = tempDir('local-emulator');
  const proc = runDetached('gcloud', ['beta', 'emulators', 'pubsub', 'start', `--host-port=127.0.0.1:${port}`, `--data-dir=${dataDir}`]);
  cleanups.push(() => proc.killGroup());
  await waitFor('the Pub/Sub emulator to answer', async () => (await fetch(`http://127.0.0.1:${port}/`)).ok, 90000).catch((e: Error) => {
    throw new Error(`${e.message}\n${proc.output()}`);
  });
  return { host: `127.0.0.1:${port}`, proc };
}

/** Processes whose command line mentions the emulator's port (gcloud's wrapper and the Java emulator). */
function processesUsing(port: number): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes(`127.0.0.1:${port}`) || cmd.includes(`--port=${port}`)) found.push(`${pid} ${cmd.slice(0, 120)}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe('through an emulator started by the test', () => {
  let browser: Browser;
  let inst: LocalInstance;
  let result: DemoResult;

  beforeAll(async () => {
    const emulator = await startEmulator();
    browser = await launchChromium();
    cleanups.push(() => browser.close());
    inst = await startLocalBundle(['--pubsub'], { PUBSUB_EMULATOR_HOST: emulator.host });
    cleanups.push(() => inst.proc.killGroup());
    const page = await browser.newPage();
    result = await runDemoScenario(page, inst.base);
    await page.close();
  }, 240000);

  test('the demo visit arrives as the same rows as in-process, field by field', () => {
    expect(inst.proc.output()).toContain(`enrichment       Pub/Sub emulator 127.0.0.1:`);
    // No credentials are looked for (the emulator needs none): no metadata-server warnings on a laptop.
    expect(inst.proc.output()).not.toContain('MetadataLookupWarning');
    expectDemoRows(result, inst.base, inst.port);
  });

  test('the rows the API shows are the lines of good.jsonl and bad.jsonl in the data folder', async () => {
    const all = await getJson(`${inst.base}/micro/all`);
    const goodApi = await getJson<GoodEvent[]>(`${inst.base}/micro/good`);
    const lines = (file: string): any[] => readFileSync(join(inst.dataDir, file), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
    const goodFile = lines('good.jsonl');
    const badFile = lines('bad.jsonl');
    expect(all).toEqual({ total: goodFile.length + badFile.length, good: goodFile.length, bad: badFile.length, seq: expect.any(Number), mode: 'pubsub' });
    // The API lists newest first what the file holds oldest first: the very same rows.
    expect(goodApi.map((g) => g.event)).toEqual([...goodFile].reverse());
    expect(badFile).toEqual([result.invalid.badRow]);
    // /micro/events: the same rows, the good ones with the payload this run enriched them from; no replay here.
    const events = await getJson(`${inst.base}/micro/events?pageSize=1000`);
    expect([events.totalItems, events.mode, events.replay]).toEqual([goodFile.length + badFile.length, 'pubsub', false]);
    const click = events.events.find((e: any) => e.seq === result.buttonClick.seq);
    expect(click.payload.parameters).toMatchObject({ e: 'ue', aid: 'waymark-demo' });
    const replay = await fetch(`${inst.base}/micro/replay`, { method: 'POST' });
    expect([replay.status, ((await replay.json()) as { error: string }).error]).toEqual([409, 'replay is not available in pubsub mode: it re-enriches in-process (npm start without --pubsub)']);
  });

  test('reset empties the files; SIGINT drains the collector, stops the enricher and exits 0, leaving the outside emulator alone', async () => {
    expect(await getJson(`${inst.base}/micro/reset`, { method: 'POST' })).toMatchObject({ total: 0, good: 0, bad: 0 });
    expect(readFileSync(join(inst.dataDir, 'good.jsonl'), 'utf8')).toBe('');
    // One more event after the reset, then stop at once: it is enriched and written before the process exits.
    const eid = '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d';
    expect((await fetch(`${inst.base}/i?e=pv&eid=${eid}&tv=test&p=web&url=${encodeURIComponent('https://shop.example.com/last')}`)).status).toBe(200);
    inst.proc.signalGroup('SIGINT');
    expect(await inst.proc.exited).toBe(0);
    const written = readFileSync(join(inst.dataDir, 'good.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(written.map((r) => [r.event_id, r.page_urlpath])).toEqual([[eid, '/last']]);
    expect(inst.proc.output()).not.toContain('Pub/Sub emulator stopped.');
    await waitFor('the port to close', async () => !(await portOpen(inst.port)), 5000);
  });
});

describe('with the emulator local mode starts itself', () => {
  test('gcloud starts the emulator; events flow to the files; Ctrl-C stops everything, the emulator included', async () => {
    requireGcloud();
    const dataDir = join(tempDir('local-own'), 'data');
    mkdirSync(dataDir, { recursive: true });
    const inst = await startLocalBundle(['--pubsub', '--data-dir', dataDir]);
    cleanups.push(() => inst.proc.killGroup());
    const ready = /Pub\/Sub emulator ready on 127\.0\.0\.1:(\d+) \(process group (\d+);/.exec(inst.proc.output());
    expect(ready).not.toBeNull();
    const emulatorPort = Number(ready![1]);
    const emulatorGroup = Number(ready![2]);
    cleanups.push(async () => {
      if (groupAlive(emulatorGroup)) process.kill(-emulatorGroup, 'SIGKILL');
    });
    // Its own process group, apart from local mode's: the terminal's Ctrl-C does not reach it, local mode stops it.
    expect(emulatorGroup).not.toBe(inst.proc.pgid);
    expect(processesUsing(emulatorPort).some((p) => p.includes('java'))).toBe(true);

    const eid = '6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e';
    expect((await fetch(`${inst.base}/i?e=pv&eid=${eid}&tv=test&p=web&aid=own&url=${encodeURIComponent('https://shop.example.com/p/mug?utm_source=news')}`)).status).toBe(200);
    expect((await fetch(`${inst.base}/i?e=nope&tv=test&p=web`)).status).toBe(200);
    const good = await waitFor('the enriched page view', async () => (await getJson<GoodEvent[]>(`${inst.base}/micro/good`))[0]);
    expect(good.event).toMatchObject({ event_id: eid, app_id: 'own', page_urlhost: 'shop.example.com', page_urlpath: '/p/mug', mkt_source: 'news' });
    const bad = await waitFor('the bad row', async () => (await getJson<any[]>(`${inst.base}/micro/bad`))[0]);
    expect(bad).toMatchObject({ type: 'tracker_protocol_violations', processor: 'waymark-enrich' });
    expect(bad.errors).toContain('field e: expected one of pv, pp, se, ue, tr, ti: got "nope"');
    expect(readFileSync(join(dataDir, 'good.jsonl'), 'utf8')).toContain(eid);

    inst.proc.signalGroup('SIGINT');
    expect(await inst.proc.exited).toBe(0);
    expect(inst.proc.output()).toMatch(/Pub\/Sub emulator stopped\.\nStopped\.\n$/);
    expect(groupAlive(emulatorGroup)).toBe(false);
    expect(processesUsing(emulatorPort)).toEqual([]);
    expect(await portOpen(emulatorPort)).toBe(false);
  }, 180000);
});
