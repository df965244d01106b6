/**
 * The REST publisher of the enricher service (pipeline/service/publisher.ts) against a local stand-in for the Pub/Sub
 * API (`POST /v1/<topic>:publish`, answered with one message id per message:
 * https://cloud.google.com/pubsub/docs/reference/rest/v1/projects.topics/publish): the publishes of concurrent
 * pushes go in one request, nothing resolves before the request that carried it is acknowledged, a refused or
 * partly acknowledged request rejects every message in it, connections are kept alive, and batches wait (and grow)
 * while requests are in flight. The emulator tests run it end to end in the shipped bundle.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Publisher, PublishError } from '../../pipeline/service/publisher';

interface Received {
  readonly path: string;
  readonly authorization: string | undefined;
  readonly messages: Array<{ data: string; attributes?: Record<string, string> }>;
  answer(status?: number, ids?: number): void;
}

let server: Server;
let root: string;
let received: Received[];
let connections: number;
/** Answers each request at once unless false (then the test answers). */
let autoAnswer: boolean;
let publishers: Publisher[];

beforeEach(async () => {
  received = [];
  connections = 0;
  autoAnswer = true;
  publishers = [];
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { messages: Array<{ data: string; attributes?: Record<string, string> }> };
      const r: Received = {
        path: req.url ?? '',
        authorization: req.headers.authorization,
        messages: body.messages.map((m) => ({ ...m, data: Buffer.from(m.data, 'base64').toString('utf8') })),
        answer: (status = 200, ids = body.messages.length) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(status === 200 ? JSON.stringify({ messageIds: Array.from({ length: ids }, (_, i) => String(i)) }) : '{"error":{"code":404,"status":"NOT_FOUND"}}');
        },
      };
      received.push(r);
      if (autoAnswer) r.answer();
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  for (const p of publishers) p.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const publisher = (extra: Partial<ConstructorParameters<typeof Publisher>[0]> = {}): Publisher => {
  const p = new Publisher({ apiRoot: root, token: () => Promise.resolve('tok'), ...extra });
  publishers.push(p);
  return p;
};
const T = 'projects/p/topics/enriched';
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
/** Waits until `n` requests arrived (the server answers on its own turn of the loop). */
async function requests(n: number): Promise<void> {
  while (received.length < n) await new Promise((r) => setTimeout(r, 5));
}

test('publishes of one turn of the loop go in one request per topic, with the token; each resolves once acknowledged', async () => {
  const p = publisher();
  const all = await Promise.all([
    ...Array.from({ length: 20 }, (_, i) => p.publish(T, `row ${i} é`)),
    p.publish('projects/p/topics/bad', 'bad row', { a: '1' }),
  ]);
  expect(all).toHaveLength(21);
  expect(received.map((r) => r.path).sort()).toEqual(['/v1/projects/p/topics/bad:publish', `/v1/${T}:publish`]);
  const good = received.find((r) => r.path === `/v1/${T}:publish`)!;
  expect(good.messages.map((m) => m.data)).toEqual(Array.from({ length: 20 }, (_, i) => `row ${i} é`));
  expect(good.authorization).toBe('Bearer tok');
  expect(received.find((r) => r.path.includes('/bad:'))!.messages).toEqual([{ data: 'bad row', attributes: { a: '1' } }]);
  expect(p.stats).toEqual({ requests: 2, messages: 21, failures: 0 });
});

test('nothing resolves before its request is answered; while requests are in flight, new publishes wait in one batch', async () => {
  autoAnswer = false;
  const p = publisher({ maxRequestsPerTopic: 2 });
  const done: string[] = [];
  const track = (data: string): Promise<void> => p.publish(T, data).then(() => void done.push(data));
  const first = [track('a'), track('b')];
  await requests(1);
  const second = track('c');
  await requests(2);
  // Two requests in flight: what comes now waits for one of them, however many turns of the loop pass.
  const waiting = [track('d'), track('e')];
  await tick();
  const waitingToo = track('f');
  for (let i = 0; i < 5; i++) await tick();
  await new Promise((r) => setTimeout(r, 30));
  expect(received.map((r) => r.messages.map((m) => m.data))).toEqual([['a', 'b'], ['c']]);
  expect(done).toEqual([]);
  received[1].answer();
  await second;
  expect(done).toEqual(['c']);
  await requests(3);
  expect(received[2].messages.map((m) => m.data)).toEqual(['d', 'e', 'f']);
  received[0].answer();
  received[2].answer();
  await Promise.all([...first, ...waiting, waitingToo]);
  expect(done.sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
});

test('a refused request rejects every message in it (with the status); a partial acknowledgement too; then it works again', async () => {
  autoAnswer = false;
  const p = publisher();
  const refused = Promise.allSettled([p.publish(T, 'x'), p.publish(T, 'y')]);
  await requests(1);
  received[0].answer(404);
  const [x, y] = await refused;
  expect(x.status).toBe('rejected');
  expect((x as PromiseRejectedResult).reason).toBeInstanceOf(PublishError);
  expect(((x as PromiseRejectedResult).reason as PublishError).message).toMatch(/publish to projects\/p\/topics\/enriched answered 404: .*NOT_FOUND/);
  expect(((x as PromiseRejectedResult).reason as PublishError).status).toBe(404);
  expect(y.status).toBe('rejected');
  const partial = Promise.allSettled([p.publish(T, 'u'), p.publish(T, 'v')]);
  await requests(2);
  received[1].answer(200, 1);
  expect((await partial).map((r) => r.status)).toEqual(['rejected', 'rejected']);
  expect(((await partial)[0] as PromiseRejectedResult).reason.message).toMatch(/acknowledged 1 of 2 messages/);
  const ok = p.publish(T, 'w');
  await requests(3);
  received[2].answer();
  await expect(ok).resolves.toBeUndefined();
  expect(p.stats).toEqual({ requests: 1, messages: 1, failures: 2 });
});

test('no answer within timeoutMs rejects; an unreachable API rejects', async () => {
  autoAnswer = false;
  await expect(publisher({ timeoutMs: 200 }).publish(T, 'x')).rejects.toThrow(/got no answer within 200 ms/);
  await expect(publisher({ apiRoot: 'http://127.0.0.1:1' }).publish(T, 'x')).rejects.toThrow(/publish to projects\/p\/topics\/enriched failed: .*ECONNREFUSED/);
});

test('one keep-alive connection serves request after request', async () => {
  const p = publisher();
  for (let i = 0; i < 10; i++) await p.publish(T, `m${i}`);
  expect(received).toHaveLength(10);
  expect(connections).toBe(1);
});

test('a batch is split at maxMessages; flushAll sends what waits and resolves once everything is answered', async () => {
  const p = publisher({ maxMessages: 3 });
  const all = Promise.all(Array.from({ length: 7 }, (_, i) => p.publish(T, String(i))));
  await p.flushAll();
  await all;
  expect(received.map((r) => r.messages.map((m) => m.data))).toEqual([['0', '1', '2'], ['3', '4', '5'], ['6']]);
});

describe('over https (the API root in production is https://pubsub.googleapis.com)', () => {
  let dir: string;
  let tls: HttpsServer;
  let cert: string;
  let tlsRoot: string;
  let handshakes = 0;

  beforeAll(async () => {
    // A throw-away self-signed certificate for 127.0.0.1 (openssl: .ci/run installs it).
    dir = mkdtempSync(join(tmpdir(), 'waymark-publisher-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    } catch (e) {
      throw new Error(`the TLS test needs openssl to make its certificate (apt-get install openssl): ${(e as Error).message}`);
    }
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    tls = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const n = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { messages: unknown[] }).messages.length;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ messageIds: Array.from({ length: n }, (_, i) => String(i)) }));
      });
    });
    tls.on('secureConnection', () => handshakes++);
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', () => r()));
    tlsRoot = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    tls.closeAllConnections();
    await new Promise((r) => tls.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test('publishes over TLS on one kept-alive connection; a certificate it does not trust is refused', async () => {
    const p = publisher({ apiRoot: tlsRoot, ca: cert });
    for (let i = 0; i < 5; i++) await p.publish(T, `m${i}`);
    expect(p.stats).toEqual({ requests: 5, messages: 5, failures: 0 });
    expect(handshakes).toBe(1);
    await expect(publisher({ apiRoot: tlsRoot }).publish(T, 'x')).rejects.toThrow(/publish to projects\/p\/topics\/enriched failed: self.signed certificate/);
  });
});
