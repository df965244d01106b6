/**
 * Fault test: the Pub/Sub emulator is stopped in the middle of a load and restarted. Every event the collector
 * answered 2xx must arrive (distinct event ids), the collector must answer 503 while its buffer is full, and its
 * memory must stay bounded.
 *
 * The emulator keeps messages only in memory, so a TCP relay sits between the collector and the emulator: it is cut
 * first (the collector sees the outage), everything the emulator already acknowledged is pulled, then the emulator
 * process is really stopped; later it is restarted (topic and subscription recreated) and the relay resumed.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRuntimeBundle } from '../helpers/bundles';
import { Emulator, EMULATOR_PROJECT, Relay, request, runBundle, RunningCollector, sleep, startEmulator, startRelay, waitFor } from './support';
import { paramsOf } from '../helpers/payload';

const TP2 = '/com.snowplowanalytics.snowplow/tp2';
const BUFFER_EVENTS = 3000;
const MAX_REQUESTS = 400_000; // hard bound on the load, whatever happens

let emulator: Emulator | undefined;
let relay: Relay | undefined;
let collector: RunningCollector | undefined;
let dir: string;

beforeAll(async () => {
  const built = await buildRuntimeBundle('collector');
  dir = mkdtempSync(join(tmpdir(), 'waymark-collector-fault-'));
  copyFileSync(built, join(dir, 'collector.js'));
  emulator = await startEmulator();
  relay = await startRelay(emulator.port);
}, 120000);

afterAll(async () => {
  await collector?.stop('SIGKILL');
  await relay?.close();
  await emulator?.dispose();
  rmSync(dir, { recursive: true, force: true });
}, 60000);

async function createTopicAndSubscription(): Promise<void> {
  await emulator!.createTopic('raw-fault');
  await emulator!.createTopic('bad-fault');
  await emulator!.createSubscription('raw-fault-check', 'raw-fault');
}

test('emulator stopped mid-load and restarted: every 2xx event arrives, 503 while the buffer is full, memory bounded', async () => {
  await createTopicAndSubscription();
  collector = await runBundle(join(dir, 'collector.js'), {
    PUBSUB_EMULATOR_HOST: `127.0.0.1:${relay!.port}`,
    WAYMARK_PUBSUB_PROJECT: EMULATOR_PROJECT,
    WAYMARK_PUBSUB_GOOD_TOPIC: 'raw-fault',
    WAYMARK_PUBSUB_BAD_TOPIC: 'bad-fault',
    WAYMARK_PUBSUB_PUBLISH_TIMEOUT_MS: '3000',
    WAYMARK_BUFFER_MAX_EVENTS: String(BUFFER_EVENTS),
    WAYMARK_RETRY_INITIAL_MS: '100',
    WAYMARK_RETRY_MAX_MS: '1000',
    // Long enough that the 503s seen are the buffer-full ones.
    WAYMARK_SINK_UNHEALTHY_AFTER_MS: '600000',
  }, { cwd: dir });
  const c = collector;

  // Received messages, pulled continuously while the emulator is up.
  const received = new Set<string>();
  let pulling = true;
  let emulatorUp = true;
  const puller = (async () => {
    while (pulling) {
      if (!emulatorUp) {
        await sleep(100);
        continue;
      }
      try {
        const got = await emulator!.pull('raw-fault-check');
        for (const m of got) received.add(paramsOf(m.data).eid as string);
        if (got.length === 0) await sleep(50);
      } catch {
        await sleep(100);
      }
    }
  })();
  const drainSubscription = async (): Promise<void> => {
    // Pull until the subscription stays empty for a while.
    let quietSince = Date.now();
    while (Date.now() - quietSince < 2000) {
      const got = await emulator!.pull('raw-fault-check');
      for (const m of got) received.add(paramsOf(m.data).eid as string);
      if (got.length > 0) quietSince = Date.now();
      else await sleep(100);
    }
  };

  // Memory of the collector process, sampled through the run.
  const rss: { phase: string; bytes: number }[] = [];
  let phase = 'warm-up';
  const sampler = setInterval(() => rss.push({ phase, bytes: c.rssBytes() }), 200);

  // The load: 24 keep-alive clients; GETs and POST batches of 5, each event with a unique id.
  const acked = new Set<string>();
  const statuses = new Map<number, number>();
  let busy503 = 0;
  let retryAfterMissing = 0;
  let requests = 0;
  let loading = true;
  const agent = new Agent({ keepAlive: true, maxSockets: 24 });
  const workers = Array.from({ length: 24 }, async (_, w) => {
    for (let n = 0; loading && requests < MAX_REQUESTS; n++) {
      requests++;
      const isPost = n % 4 === 3;
      const eids = isPost ? Array.from({ length: 5 }, (_, k) => `w${w}-${n}-${k}`) : [`w${w}-${n}`];
      const r = isPost
        ? await request(c.port, { method: 'POST', path: TP2, agent, body: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: eids.map((eid) => ({ e: 'pv', eid })) }) })
        : await request(c.port, { path: `/i?e=pv&eid=${eids[0]}`, agent });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 200) for (const e of eids) acked.add(e);
      if (r.status === 503) {
        if (r.text === 'busy: buffer full, retry later') busy503++;
        if (r.headers['retry-after'] !== '5') retryAfterMissing++;
        await sleep(5); // a tracker would back off
      }
    }
  });

  try {
    await waitFor('2000 acknowledged events', () => (acked.size >= 2000 ? true : undefined), 60000);
    phase = 'outage';
    const ackedBeforeOutage = acked.size;

    // The outage: cut the relay, collect what the emulator already has, stop the emulator.
    await relay!.cut();
    await drainSubscription();
    emulatorUp = false;
    await emulator!.stop();

    await waitFor('503 answers while the buffer is full', () => (busy503 >= 200 ? true : undefined), 60000);
    const ackedDuringOutage = acked.size;
    await sleep(3000); // keep the load on a full buffer
    // With the sink down and the buffer full nothing frees space: at most a few single events still fit.
    expect(acked.size - ackedDuringOutage).toBeLessThanOrEqual(5);

    // Recovery: the emulator comes back (empty: recreate the topic), the relay reconnects.
    phase = 'recovery';
    await emulator!.start();
    await createTopicAndSubscription();
    emulatorUp = true;
    await relay!.resume();
    const ackedAtRecovery = acked.size;
    await waitFor('the load to flow again', () => (acked.size >= ackedAtRecovery + 2000 ? true : undefined), 90000);
    loading = false;
    await Promise.all(workers);
    agent.destroy();

    // Every acknowledged event arrives (duplicates from retries are allowed: at-least-once).
    await waitFor('every acknowledged event on the topic', () => ([...acked].every((e) => received.has(e)) ? true : undefined), 90000, 250);
    expect(ackedBeforeOutage).toBeGreaterThanOrEqual(2000);
    expect(busy503).toBeGreaterThanOrEqual(200);
    expect(retryAfterMissing).toBe(0);
    expect([...statuses.keys()].sort()).toEqual([200, 503]);
    expect(requests).toBeLessThan(MAX_REQUESTS);

    // Memory stayed bounded: a full buffer of 3000 events under sustained load adds tens of MB at most.
    const base = Math.min(...rss.filter((s) => s.phase === 'warm-up').map((s) => s.bytes));
    const peak = Math.max(...rss.map((s) => s.bytes));
    expect(peak - base).toBeLessThan(150 * 1024 * 1024);

    const health = await request(c.port, { path: '/sink-health' });
    expect(health.status).toBe(200);
    expect(c.logs.map((l) => l.message)).toEqual(expect.arrayContaining(['sink write failed; retrying with backoff', 'sink recovered']));
    console.log(JSON.stringify({ fault: { requests, acked: acked.size, received: received.size, busy503, statuses: Object.fromEntries(statuses), rssBaseMB: Math.round(base / 1048576), rssPeakMB: Math.round(peak / 1048576) } }));
  } finally {
    loading = false;
    pulling = false;
    clearInterval(sampler);
    await Promise.all(workers);
    await puller;
    agent.destroy();
  }
  expect(await c.stop('SIGTERM')).toBe(0);
}, 300000);
