/**
 * The shipped enricher service bundle against the real Pub/Sub emulator:
 * - push authentication through HTTP (tokens signed locally, the key set served by a local JWKS endpoint);
 * - collector bundle → raw topic → emulator push subscription → enricher bundle → enriched and bad topics: N in, N out;
 * - the enricher killed (SIGKILL) and restarted mid-load loses nothing (distinct event ids);
 * - SIGTERM drains: every delivery answered 204 before the exit is on its topic;
 * - a failed publish answers 503 (Pub/Sub redelivers), and the dead-letter route turns a message the BigQuery
 *   subscription gave up on into a bad row.
 */
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'node:http';
import { buildRuntimeBundle } from '../helpers/bundles';
import { releasePort, reservePort } from '../helpers/ports';
import { Emulator, EMULATOR_PROJECT, plainHttp, request, runBundle, RunningCollector, sleep, startEmulator, waitFor } from '../collector/support';
import { enricherBundleFile, LocalIssuer, runEnricher, RunningEnricher } from './support';

const P = `projects/${EMULATOR_PROJECT}`;
const AUD = 'https://enricher.example/push';
const EMAIL = 'push@p.iam.gserviceaccount.com'; // LocalIssuer's default `email` claim
const issuer = new LocalIssuer();

let emulator: Emulator;
let jwksServer: Server;
let jwksUrl: string;
let enricherPort: number;
let collectorDir: string;
let collectorBundle: string;
const running: Array<RunningEnricher | RunningCollector> = [];

async function emulatorCall(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await plainHttp(method, `http://${emulator.host}/v1/${P}${path}`, body === undefined ? undefined : JSON.stringify(body));
  if (res.status < 200 || res.status > 299) throw new Error(`emulator ${method} ${path}: ${res.status} ${res.text}`);
  return res.text === '' ? {} : JSON.parse(res.text);
}

async function drainSubscription(name: string): Promise<Array<{ data: string; attributes: Record<string, string> }>> {
  const out: Array<{ data: string; attributes: Record<string, string> }> = [];
  for (let got = await emulator.pull(name); got.length > 0; got = await emulator.pull(name)) out.push(...got);
  return out;
}

/** Pulls `sub` until `want` distinct ids (by `idOf`) arrived and nothing new came for a while. */
async function collectIds(sub: string, idOf: (data: string) => string | null, want: number, maxMs = 90000): Promise<{ ids: Set<string>; messages: number }> {
  const ids = new Set<string>();
  let messages = 0;
  const deadline = Date.now() + maxMs;
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    const got = await emulator.pull(sub);
    for (const m of got) {
      messages++;
      const id = idOf(m.data);
      if (id) ids.add(id);
    }
    if (got.length > 0) quietSince = Date.now();
    else if (ids.size >= want && Date.now() - quietSince > 2000) break;
    else await sleep(200);
  }
  return { ids, messages };
}

const goodId = (data: string): string | null => (JSON.parse(data) as { event_id?: string }).event_id ?? null;
const badId = (data: string): string | null => /eid=([0-9a-f-]{36})/.exec((JSON.parse(data) as { payloadString: string }).payloadString)?.[1] ?? null;
const uuid = (i: number, tag: number): string => `${tag.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

function pushBody(data: string, attributes: Record<string, string> = {}): string {
  return JSON.stringify({ message: { data: Buffer.from(data).toString('base64'), attributes, messageId: String(Math.random()) }, subscription: `${P}/subscriptions/raw-push` });
}

const collectorPayload = (qs: string): string => JSON.stringify({
  schema: 'iglu:io.waymark/collector_payload/jsonschema/1-0-1',
  data: { timestamp: new Date().toISOString(), collector: 'test', method: 'GET', path: '/i', querystring: qs, ipAddress: '203.0.113.9', headers: {} },
});

function enricherEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: String(enricherPort),
    PUBSUB_EMULATOR_HOST: emulator.host,
    WAYMARK_ENRICHED_TOPIC: `${P}/topics/enriched`,
    WAYMARK_BAD_TOPIC: `${P}/topics/bad`,
    WAYMARK_PUSH_AUTH: 'off',
    ...extra,
  };
}

async function start(extra: Record<string, string> = {}): Promise<RunningEnricher> {
  const e = await runEnricher(enricherEnv(extra));
  running.push(e);
  return e;
}

beforeAll(async () => {
  enricherBundleFile();
  const built = await buildRuntimeBundle('collector');
  collectorDir = mkdtempSync(join(tmpdir(), 'waymark-enricher-e2e-'));
  collectorBundle = join(collectorDir, 'collector.js');
  copyFileSync(built, collectorBundle);
  enricherPort = await reservePort();
  jwksServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' });
    res.end(JSON.stringify(issuer.jwks));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', () => r()));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/certs`;
  emulator = await startEmulator();
  for (const t of ['raw', 'enriched', 'bad']) await emulator.createTopic(t);
  await emulator.createSubscription('enriched-check', 'enriched');
  await emulator.createSubscription('bad-check', 'bad');
}, 180000);

afterEach(async () => {
  for (const r of running.splice(0)) await r.stop('SIGKILL');
});

afterAll(async () => {
  await emulator?.dispose();
  await new Promise((r) => jwksServer?.close(r));
  releasePort(enricherPort);
  rmSync(collectorDir, { recursive: true, force: true });
}, 60000);

describe('push authentication through the shipped bundle', () => {
  test('a valid token is enriched and published (204); wrong audience 403; wrong issuer, expired, unsigned, none 401; nothing published for those', async () => {
    const e = await start({ WAYMARK_PUSH_AUTH: '', WAYMARK_PUSH_AUDIENCE: AUD, WAYMARK_PUSH_SERVICE_ACCOUNT: EMAIL, WAYMARK_PUSH_JWKS_URL: jwksUrl });
    expect(e.logs.find((l) => l.message === 'enricher listening')).toMatchObject({ auth: 'oidc', sink: 'bigquery-subscription' });
    await drainSubscription('enriched-check');
    const id = uuid(1, 0xa);
    const body = pushBody(collectorPayload(`e=pv&eid=${id}&tv=js-3&p=web&url=https%3A%2F%2Fshop.example%2F`));
    const push = (token: string | null) => request(e.port, { method: 'POST', path: '/push', headers: token === null ? { 'content-type': 'application/json' } : { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
    const [h, c] = issuer.token().split('.');
    const cases: Array<[string, string | null, number, RegExp]> = [
      ['wrong audience', issuer.token({ aud: 'https://elsewhere.example/' }), 403, /audience/],
      ['wrong account', issuer.token({ email: 'x@y.iam.gserviceaccount.com' }), 403, /push service account/],
      ['wrong issuer', issuer.token({ iss: 'https://issuer.example' }), 401, /issuer/],
      ['expired', issuer.token({ exp: Math.floor(Date.now() / 1000) - 600 }), 401, /expired/],
      ['unsigned', `${h}.${c}.`, 401, /no signature/],
      ['no token', null, 401, /no Authorization header/],
    ];
    for (const [what, token, status, reason] of cases) {
      const r = await push(token);
      expect([what, r.status]).toEqual([what, status]);
      expect(r.text).toMatch(reason);
    }
    const ok = await push(issuer.token());
    expect(ok.status).toBe(204);
    const published = await collectIds('enriched-check', goodId, 1, 20000);
    expect([...published.ids]).toEqual([id]);
    expect(published.messages).toBe(1);
    expect(e.logs.filter((l) => l.message === 'push delivery refused').map((l) => l.status)).toEqual([403, 403, 401, 401, 401, 401]);
  });

  test('WAYMARK_PUSH_AUTH=off is refused without the emulator (exit 78, says why)', async () => {
    const env = { ...enricherEnv(), PUBSUB_EMULATOR_HOST: '' };
    await expect(runEnricher(env)).rejects.toThrow(/exited with 78.*for the Pub\/Sub emulator only/s);
  });
});

describe('collector → raw topic → push → enricher → enriched and bad topics', () => {
  let collector: RunningCollector;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });

  beforeAll(async () => {
    await emulatorCall('PUT', '/subscriptions/raw-push', {
      topic: `${P}/topics/raw`,
      ackDeadlineSeconds: 20,
      pushConfig: { pushEndpoint: `http://127.0.0.1:${enricherPort}/push` },
    });
    collector = await runBundle(collectorBundle, { PUBSUB_EMULATOR_HOST: emulator.host, WAYMARK_PUBSUB_PROJECT: EMULATOR_PROJECT, WAYMARK_PUBSUB_GOOD_TOPIC: 'raw', WAYMARK_PUBSUB_BAD_TOPIC: 'bad', WAYMARK_COOKIE_DOMAINS: 'example.com' }, { cwd: collectorDir });
  }, 60000);

  afterAll(async () => {
    await collector?.stop('SIGKILL');
    agent.destroy();
    await emulatorCall('DELETE', '/subscriptions/raw-push').catch(() => undefined);
  });

  const progress = { sent: 0 };
  async function send(from: number, count: number, tag: number, everyBad: number): Promise<{ good: string[]; bad: string[] }> {
    const good: string[] = [];
    const bad: string[] = [];
    const jobs = Array.from({ length: count }, (_, k) => from + k);
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let i = jobs.shift(); i !== undefined; i = jobs.shift()) {
        const id = uuid(i, tag);
        const invalid = i % everyBad === 0;
        const r = await request(collector.port, { path: `/i?e=${invalid ? 'zz' : 'pv'}&eid=${id}&tv=js-3&p=web&aid=shop&url=${encodeURIComponent(`https://shop.example/p/${i}`)}`, headers: { 'user-agent': 'Mozilla/5.0 test' }, agent });
        expect(r.status).toBe(200);
        (invalid ? bad : good).push(id);
        progress.sent++;
      }
    }));
    return { good, bad };
  }

  test('N events in → every good one on the enriched topic in the subscription form, every invalid one a bad row', async () => {
    await drainSubscription('enriched-check');
    await drainSubscription('bad-check');
    await start();
    const N = 400;
    const sent = await send(0, N, 0xb, 10);
    const good = await collectIds('enriched-check', goodId, sent.good.length);
    const bad = await collectIds('bad-check', badId, sent.bad.length);
    expect([...good.ids].sort()).toEqual(sent.good.sort());
    expect([...bad.ids].sort()).toEqual(sent.bad.sort());
    expect(good.ids.size + bad.ids.size).toBe(N);
    await send(N, 1, 0xc, 1000);
    const one = await waitFor('one more row', async () => {
      const got = await emulator.pull('enriched-check', 1);
      return got.length > 0 ? got : undefined;
    }, 30000);
    // The subscription form: TIMESTAMP columns as integers of microseconds.
    const row = JSON.parse(one[0].data) as Record<string, unknown>;
    expect(Number.isSafeInteger(row.collector_tstamp)).toBe(true);
    expect(row.app_id).toBe('shop');
  }, 180000);

  test('the enricher killed (SIGKILL) and restarted mid-load loses nothing', async () => {
    await drainSubscription('enriched-check');
    await drainSubscription('bad-check');
    let e = await start();
    const N = 600;
    progress.sent = 0;
    const load = send(0, N, 0xd, 7);
    await waitFor('a third of the events to be sent', () => (progress.sent >= N / 3 ? true : undefined), 60000, 10);
    await e.stop('SIGKILL');
    await sleep(1500);
    e = await start();
    const sent = await load;
    const good = await collectIds('enriched-check', goodId, sent.good.length, 150000);
    const bad = await collectIds('bad-check', badId, sent.bad.length, 60000);
    expect(sent.good.filter((id) => !good.ids.has(id))).toEqual([]);
    expect(sent.bad.filter((id) => !bad.ids.has(id))).toEqual([]);
    const ofThisLoad = (ids: Set<string>): string[] => [...ids].filter((id) => id.startsWith(uuid(0, 0xd).slice(0, 8)));
    expect(ofThisLoad(good.ids).length + ofThisLoad(bad.ids).length).toBe(N);
  }, 300000);
});

describe('drain, failures and the dead-letter route', () => {
  test('SIGTERM: deliveries in hand are finished; every 204 is on the topic; exit 0', async () => {
    await drainSubscription('enriched-check');
    const e = await start();
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const ids = Array.from({ length: 200 }, (_, i) => uuid(i, 0xe));
    const answers = ids.map((id) => request(e.port, { method: 'POST', path: '/push', headers: { 'content-type': 'application/json' }, body: pushBody(collectorPayload(`e=pv&eid=${id}&tv=js-3&p=web`)), agent }).then((r) => r.status, () => 0));
    await sleep(20);
    const code = e.stop('SIGTERM');
    const statuses = await Promise.all(answers);
    expect(await code).toBe(0);
    agent.destroy();
    const accepted = ids.filter((_, i) => statuses[i] === 204);
    expect(accepted.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 204 || s === 503 || s === 0)).toBe(true);
    const published = await collectIds('enriched-check', goodId, accepted.length, 30000);
    expect(accepted.filter((id) => !published.ids.has(id))).toEqual([]);
    expect(e.logs.find((l) => l.message === 'enricher stopped')).toMatchObject({ unfinished: 0 });
  }, 120000);

  test('a publish Pub/Sub does not acknowledge answers 503 (redelivery), then works again', async () => {
    const e = await start({ WAYMARK_ENRICHED_TOPIC: `${P}/topics/missing` });
    const r = await request(e.port, { method: 'POST', path: '/push', headers: { 'content-type': 'application/json' }, body: pushBody(collectorPayload(`e=pv&eid=${uuid(1, 0xf)}&tv=js-3&p=web`)) });
    expect(r.status).toBe(503);
    expect(e.logs.find((l) => l.message === 'push delivery failed: Pub/Sub will redeliver it')?.error).toMatch(/404|NOT_FOUND/);
    await emulator.createTopic('missing');
    await emulator.createSubscription('missing-check', 'missing');
    const again = await request(e.port, { method: 'POST', path: '/push', headers: { 'content-type': 'application/json' }, body: pushBody(collectorPayload(`e=pv&eid=${uuid(1, 0xf)}&tv=js-3&p=web`)) });
    expect(again.status).toBe(204);
    expect((await collectIds('missing-check', goodId, 1, 20000)).ids).toEqual(new Set([uuid(1, 0xf)]));
  }, 60000);

  test('malformed deliveries get 400 with the reason; /health answers; unknown routes 404', async () => {
    const e = await start();
    expect((await request(e.port, { path: '/health' })).status).toBe(200);
    const notJson = await request(e.port, { method: 'POST', path: '/push', body: 'nope' });
    expect([notJson.status, notJson.text]).toEqual([400, expect.stringMatching(/not JSON/)]);
    const noMessage = await request(e.port, { method: 'POST', path: '/push', body: '{}' });
    expect([noMessage.status, noMessage.text]).toEqual([400, expect.stringMatching(/no "message"/)]);
    expect((await request(e.port, { path: '/elsewhere' })).status).toBe(404);
    expect((await request(e.port, { path: '/push' })).status).toBe(405);
  }, 60000);

  // The dead-letter topic of a BigQuery subscription "captures messages that couldn't be written to BigQuery, along with
  // an attribute called CloudPubSubDeadLetterSourceDeliveryErrorMessage that explains the failure reason"
  // (https://cloud.google.com/pubsub/docs/bigquery-troubleshooting): the bad row carries that reason.
  test('dead-letter route: a row the BigQuery subscription gave up on becomes a bad row with BigQuery\'s reason', async () => {
    await drainSubscription('bad-check');
    const e = await start();
    const reason = 'Invalid value for field collector_tstamp: 1 (an example of BigQuery\'s text)';
    const refused = JSON.stringify({ event_id: uuid(9, 0x9), collector_tstamp: 1 });
    const unexplained = JSON.stringify({ event_id: uuid(10, 0x9), collector_tstamp: 2 });
    for (const [row, attributes] of [
      [refused, { CloudPubSubDeadLetterSourceSubscription: 'waymark-enriched-bq', CloudPubSubDeadLetterSourceDeliveryCount: '5', CloudPubSubDeadLetterSourceDeliveryErrorMessage: reason }],
      [unexplained, { CloudPubSubDeadLetterSourceSubscription: 'waymark-enriched-bq', CloudPubSubDeadLetterSourceDeliveryCount: '7' }],
    ] as const) {
      const r = await request(e.port, { method: 'POST', path: '/dead-letter', body: pushBody(row, attributes) });
      expect(r.status).toBe(204);
    }
    type Written = { payloadString: string; errorMessage: string; attributes: Array<{ key: string; value: string }> };
    const written: Written[] = [];
    await waitFor('the two bad rows', async () => {
      for (const m of await emulator.pull('bad-check')) written.push(JSON.parse(m.data) as Written);
      return written.length >= 2 ? true : undefined;
    }, 20000);
    const of = (row: string): Written => written.find((w) => w.payloadString === row)!;
    const message = (w: Written): string => (JSON.parse(w.errorMessage) as { data: { failure: { messages: Array<{ message: string }> } } }).data.failure.messages[0].message;
    expect(of(refused).attributes).toContainEqual({ key: 'CloudPubSubDeadLetterSourceDeliveryCount', value: '5' });
    expect(of(refused).attributes).toContainEqual({ key: 'CloudPubSubDeadLetterSourceDeliveryErrorMessage', value: reason });
    expect(JSON.parse(of(refused).errorMessage)).toMatchObject({ data: { type: 'generic_error' } });
    expect(message(of(refused))).toBe(`BigQuery refused the enriched row: ${reason}; the BigQuery subscription waymark-enriched-bq could not write it after 5 delivery attempts and Pub/Sub forwarded it to the dead-letter topic`);
    expect(message(of(unexplained))).toMatch(/^BigQuery refused the enriched row: the reason was not given \(the message has no CloudPubSubDeadLetterSourceDeliveryErrorMessage attribute\); .*waymark-enriched-bq.* after 7 delivery attempts/);
  }, 60000);
});
