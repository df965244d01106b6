/**
 * The service shell in-process (pipeline/service/service.ts) with a publisher under the test's control: bounded
 * concurrency (429 beyond the bound, nothing lost: the delivery is not taken), drain waits for deliveries in hand,
 * a publish that fails answers 503. The emulator tests (emulator.test.ts) run the shipped bundle end to end.
 */
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSinkFormat, SinkFormat } from '../../pipeline/sink-format';
import { createLogger, Logger, silentLogger } from '../../pipeline/service/log';
import { EnricherService, EnricherServiceOptions, Publish } from '../../pipeline/service/service';
import { testEnricher } from '../pipeline/helpers/enricher';
import { request } from '../collector/support';

class HeldPublisher implements Publish {
  held: Array<{ topic: string; data: string; release: (ok: boolean) => void }> = [];
  publish(topic: string, data: string): Promise<void> {
    return new Promise((resolve, reject) => this.held.push({ topic, data, release: (ok) => (ok ? resolve() : reject(new Error('publish refused'))) }));
  }
  async flushAll(): Promise<void> {}
}

const payload = (eid: string): string => JSON.stringify({
  message: {
    data: Buffer.from(JSON.stringify({ schema: 'iglu:io.waymark/collector_payload/jsonschema/1-0-1', data: { timestamp: '2024-05-01T12:00:00.000Z', collector: 't', method: 'GET', path: '/i', querystring: `e=pv&eid=${eid}&tv=js-3&p=web`, ipAddress: '203.0.113.1', headers: {} } })).toString('base64'),
    messageId: '1',
  },
});

let server: Server;
let service: EnricherService;
let publisher: HeldPublisher;
let port: number;

/** The options of the service under test, publishing through the test's held publisher. */
const optionsOf = (logger: Logger): EnricherServiceOptions => ({
  enricher: testEnricher(Date.UTC(2024, 4, 1, 12, 5)),
  format: createSinkFormat('bigquery-subscription', null),
  publisher,
  enrichedTopic: 'projects/p/topics/enriched',
  badTopic: 'projects/p/topics/bad',
  auth: null,
  maxConcurrency: 2,
  logger,
});
const newService = (logger: Logger): EnricherService => new EnricherService(optionsOf(logger));

beforeEach(async () => {
  publisher = new HeldPublisher();
  service = newService(silentLogger);
  server = createServer(service.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});

afterEach(async () => {
  for (const h of publisher.held) h.release(true);
  await new Promise((r) => server.close(r));
});

const push = (eid: string) => request(port, { method: 'POST', path: '/push', body: payload(eid) });
const until = async (check: () => boolean): Promise<void> => {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
};

test('at most maxConcurrency deliveries in hand: the next one is answered 429 (Pub/Sub redelivers it), then accepted again', async () => {
  const a = push('00000000-0000-4000-8000-000000000001');
  const b = push('00000000-0000-4000-8000-000000000002');
  await until(() => publisher.held.length === 2);
  const c = await push('00000000-0000-4000-8000-000000000003');
  expect([c.status, c.text]).toEqual([429, expect.stringMatching(/busy: 2 deliveries/)]);
  expect(c.headers['retry-after']).toBe('1');
  publisher.held[0].release(true);
  expect((await a).status).toBe(204);
  const d = push('00000000-0000-4000-8000-000000000004');
  await until(() => publisher.held.length === 3);
  publisher.held[1].release(true);
  publisher.held[2].release(true);
  expect([(await b).status, (await d).status]).toEqual([204, 204]);
  expect(service.stats).toMatchObject({ good: 3, busy: 1, inFlight: 0 });
});

test('the answer waits for the publish: 204 after it is acknowledged, 503 when it fails', async () => {
  let answered = false;
  const a = push('00000000-0000-4000-8000-000000000005').then((r) => ((answered = true), r));
  await until(() => publisher.held.length === 1);
  await new Promise((r) => setTimeout(r, 50));
  expect(answered).toBe(false);
  publisher.held[0].release(false);
  expect((await a).status).toBe(503);
  expect(service.stats.failed).toBe(1);
});

test('drain: health turns 503, new deliveries get 503, the one in hand finishes', async () => {
  const a = push('00000000-0000-4000-8000-000000000006');
  await until(() => publisher.held.length === 1);
  const drained = service.drain(5000);
  expect((await request(port, { path: '/health' })).status).toBe(503);
  expect((await push('00000000-0000-4000-8000-000000000007')).status).toBe(503);
  publisher.held[0].release(true);
  expect((await a).status).toBe(204);
  await expect(drained).resolves.toEqual({ unfinished: 0 });
});

test('each bad row is logged once with its failure_type, after its publish (the log-based bad-rows metric counts these)', async () => {
  const lines: string[] = [];
  const logged = newService(createLogger((line) => lines.push(line)));
  const own = createServer(logged.handle);
  await new Promise<void>((r) => own.listen(0, '127.0.0.1', () => r()));
  try {
    const send = (eid: string) => request((own.address() as AddressInfo).port, { method: 'POST', path: '/push', body: payload(eid) });
    const good = send('00000000-0000-4000-8000-0000000000a1');
    const bad = send('not-a-uuid');
    await until(() => publisher.held.length === 2);
    expect(lines).toEqual([]);
    for (const h of publisher.held) h.release(true);
    expect([(await good).status, (await bad).status]).toEqual([204, 204]);
    const badLines = lines.map((l) => JSON.parse(l)).filter((l) => l.message === 'bad row');
    expect(badLines).toEqual([expect.objectContaining({ severity: 'INFO', failure_type: 'tracker_protocol_violations' })]);
  } finally {
    await new Promise((r) => own.close(r));
  }
});

test('a row the BigQuery subscription form refuses (an empty JSON column) becomes a bad row with the reason; nothing goes to the enriched topic', async () => {
  // The real subscription form, given a row with a JSON column BigQuery would refuse (an empty string for a NULLABLE
  // JSON column is an error: https://cloud.google.com/pubsub/docs/bigquery-troubleshooting).
  const real = createSinkFormat('bigquery-subscription', { 'com.acme/blob/1': 'JSON' });
  const format: SinkFormat = { ...real, formatRow: (row) => real.formatRow({ ...row, unstruct_event_com_acme_blob_1: '' }) };
  const own = new EnricherService({ ...optionsOf(silentLogger), format });
  const srv = createServer(own.handle);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  try {
    const answer = request((srv.address() as AddressInfo).port, { method: 'POST', path: '/push', body: payload('00000000-0000-4000-8000-0000000000b1') });
    await until(() => publisher.held.length === 1);
    publisher.held[0].release(true);
    expect((await answer).status).toBe(204);
    expect(publisher.held.map((h) => h.topic)).toEqual(['projects/p/topics/bad']);
    const row = JSON.parse(publisher.held[0].data) as { errorMessage: string; payloadString: string };
    expect(JSON.parse(row.errorMessage)).toMatchObject({
      data: { type: 'enrichment_failures', failure: { messages: [{ enrichment: 'sink_format', message: expect.stringMatching(/does not fit the events table: unstruct_event_com_acme_blob_1: is a JSON column but the value is an empty string/) }] } },
    });
    expect(row.payloadString).toContain('00000000-0000-4000-8000-0000000000b1');
    expect(own.stats).toMatchObject({ good: 0, bad: 1 });
  } finally {
    await new Promise((r) => srv.close(r));
  }
});
