/**
 * The shipped bundle, run from an empty folder, publishing to the real Pub/Sub emulator (gcloud).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRuntimeBundle } from '../helpers/bundles';
import { Emulator, EMULATOR_PROJECT, pullAtLeast, readSchema, request, runBundle, RunningCollector, schemaProblems, startEmulator } from './support';
import { paramsOf } from '../helpers/payload';

const TP2 = '/com.snowplowanalytics.snowplow/tp2';
const envelope = (data: unknown): string => JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data });
const payloadSchema = readSchema('io.waymark', 'collector_payload', '1-0-1');
const badRowSchema = readSchema('io.waymark', 'bad_row', '1-0-0');

let emulator: Emulator | undefined;
let dir: string;
let bundle: string;
let collector: RunningCollector | undefined;

beforeAll(async () => {
  const built = await buildRuntimeBundle('collector');
  dir = mkdtempSync(join(tmpdir(), 'waymark-collector-pubsub-'));
  bundle = join(dir, 'collector.js');
  copyFileSync(built, bundle);
  emulator = await startEmulator();
  await emulator.createTopic('raw-events');
  await emulator.createTopic('bad-rows');
  await emulator.createSubscription('raw-check', 'raw-events');
  await emulator.createSubscription('bad-check', 'bad-rows');
}, 120000);

afterAll(async () => {
  await collector?.stop('SIGKILL');
  await emulator?.dispose();
  rmSync(dir, { recursive: true, force: true });
}, 60000);

const env = (): Record<string, string> => ({
  PUBSUB_EMULATOR_HOST: emulator!.host,
  WAYMARK_PUBSUB_PROJECT: EMULATOR_PROJECT,
  WAYMARK_PUBSUB_GOOD_TOPIC: 'raw-events',
  WAYMARK_PUBSUB_BAD_TOPIC: `projects/${EMULATOR_PROJECT}/topics/bad-rows`,
  WAYMARK_COOKIE_DOMAINS: 'acme.com',
});

describe('collector bundle → Pub/Sub emulator', () => {
  test('N events in (GETs and batched POSTs) → N messages on the raw topic, one per event, with the right payloads', async () => {
    collector = await runBundle(bundle, env(), { cwd: dir });
    expect(collector.logs.find((l) => l.message === 'collector listening')).toMatchObject({ sink: 'pubsub' });
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const sent = new Map<string, { method: string; aid: string }>();
    const GETS = 300;
    const POSTS = 60;
    const PER_POST = 10;
    const jobs: (() => Promise<void>)[] = [];
    for (let i = 0; i < GETS; i++) {
      jobs.push(async () => {
        const eid = `get-${i}`;
        const r = await request(collector!.port, {
          path: `/i?e=pv&eid=${eid}&aid=shop&tv=js-3&url=${encodeURIComponent(`https://www.acme.com/p/${i}?q=a b`)}`,
          headers: { origin: 'https://www.acme.com', 'user-agent': 'Mozilla/5.0 test', referer: 'https://www.acme.com/', 'x-forwarded-for': `6.6.6.6, 203.0.113.${i % 250}, 130.211.0.1` },
          agent,
        });
        expect(r.status).toBe(200);
        sent.set(eid, { method: 'GET', aid: 'shop' });
      });
    }
    for (let b = 0; b < POSTS; b++) {
      jobs.push(async () => {
        const events = Array.from({ length: PER_POST }, (_, k) => ({ e: 'se', eid: `post-${b}-${k}`, aid: 'app', tv: 'js-3', se_ca: 'cat', se_ac: 'act' }));
        const r = await request(collector!.port, { method: 'POST', path: TP2, headers: { 'content-type': 'application/json; charset=utf-8' }, body: envelope(events), agent });
        expect([r.status, r.text]).toEqual([200, 'ok']);
        for (const e of events) sent.set(e.eid, { method: 'POST', aid: 'app' });
      });
    }
    // 16 concurrent clients.
    await Promise.all(Array.from({ length: 16 }, async () => {
      for (let job = jobs.shift(); job; job = jobs.shift()) await job();
    }));
    agent.destroy();
    const N = GETS + POSTS * PER_POST;
    expect(sent.size).toBe(N);

    const messages = await pullAtLeast(emulator!, 'raw-check', N);
    expect(messages).toHaveLength(N); // one message per event, no duplicates in a healthy run
    const byEid = new Map(messages.map((m) => [paramsOf(m.data).eid as string, m]));
    expect(new Set(byEid.keys())).toEqual(new Set(sent.keys()));
    for (const [eid, { method, aid }] of sent) {
      const m = byEid.get(eid)!;
      const message = JSON.parse(m.data);
      expect(message.schema).toBe('iglu:io.waymark/collector_payload/jsonschema/1-0-1');
      expect(schemaProblems(payloadSchema, message.data)).toEqual([]);
      expect(message.data.method).toBe(method);
      expect(m.attributes).toEqual({ event_type: method === 'GET' ? 'pv' : 'se', app_id: aid });
    }
    const get7 = JSON.parse(byEid.get('get-7')!.data).data;
    expect(get7).toMatchObject({
      collector: 'waymark-collector/0.1.0',
      ipAddress: '203.0.113.7',
      userAgent: 'Mozilla/5.0 test',
      refererUri: 'https://www.acme.com/',
      headers: { origin: 'https://www.acme.com' },
      contentType: null,
      path: '/i',
      hostname: '127.0.0.1',
    });
    expect(paramsOf({ data: get7 })).toEqual({ e: 'pv', eid: 'get-7', aid: 'shop', tv: 'js-3', url: 'https://www.acme.com/p/7?q=a b' });
    expect(get7.networkUserId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const post3 = JSON.parse(byEid.get('post-3-4')!.data).data;
    expect(post3).toMatchObject({ method: 'POST', path: TP2, contentType: 'application/json; charset=utf-8', ipAddress: '127.0.0.1', parameters: { e: 'se', eid: 'post-3-4', se_ca: 'cat', se_ac: 'act' } });
    // Events of one POST share the request's metadata.
    expect(JSON.parse(byEid.get('post-3-0')!.data).data.networkUserId).toBe(post3.networkUserId);
  });

  test('malformed and oversized requests become bad rows on the bad topic', async () => {
    const big = envelope([{ e: 'pv', x: 'b'.repeat(1100000) }]);
    expect((await request(collector!.port, { method: 'POST', path: TP2, body: '{"schema": "nope"}' })).status).toBe(400);
    expect((await request(collector!.port, { method: 'POST', path: TP2, body: big })).status).toBe(400);
    const bad = await pullAtLeast(emulator!, 'bad-check', 2);
    expect(bad).toHaveLength(2);
    const rows = bad.map((m) => JSON.parse(m.data));
    expect(rows.map((r) => r.data.type).sort()).toEqual(['collector_payload_format_violation', 'size_violation']);
    for (const r of rows) {
      expect(r.schema).toBe('iglu:io.waymark/bad_row/jsonschema/1-0-0');
      expect(schemaProblems(badRowSchema, r.data)).toEqual([]);
    }
    const size = rows.find((r) => r.data.type === 'size_violation').data;
    expect(size.payload).toMatchObject({ rawBytes: big.length, truncated: true });
    expect(size.payload.raw).toBe(big.slice(0, 65536));
    expect(bad.map((m) => m.attributes.type).sort()).toEqual(['collector_payload_format_violation', 'size_violation']);
  });

  test('SIGTERM right after a burst: every acknowledged event is published before the process exits 0', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 10 });
    const acked: string[] = [];
    await Promise.all(Array.from({ length: 10 }, async (_, w) => {
      for (let i = 0; i < 30; i++) {
        const r = await request(collector!.port, { path: `/i?e=pv&eid=term-${w}-${i}`, agent });
        if (r.status === 200) acked.push(`term-${w}-${i}`);
      }
    }));
    agent.destroy();
    expect(await collector!.stop('SIGTERM')).toBe(0);
    const messages = await pullAtLeast(emulator!, 'raw-check', acked.length);
    expect(new Set(messages.map((m) => paramsOf(m.data).eid))).toEqual(new Set(acked));
    expect(collector!.logs.find((l) => l.message === 'collector stopped')).toMatchObject({ remaining: 0 });
  });
});
