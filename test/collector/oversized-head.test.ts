/**
 * Requests whose request line plus headers pass http.maxHeaderBytes. Node's parser refuses them before any handler
 * runs and would answer 431, which trackers retry forever (they retry everything but 400, 401, 403, 410, 422). The
 * collector answers 400 with a short reason instead, records a size_violation bad row when the request line is
 * readable and names an event route, and closes the connection so that the client still reads the answer.
 * In process (createCollector + node:http on 127.0.0.1); the shipped bundle gets the same inputs in fuzz.test.ts.
 */
import { Socket } from 'node:net';
import { configWith } from '../../collector/config';
import { createLogger } from '../../collector/log';
import { Collector, CollectorOptions, createCollector } from '../../collector/server';
import { oversizedHead } from '../../collector/service';
import { MemorySink } from '../../collector/sinks/memory';
import type { Sink, SinkRecord } from '../../collector/sinks/types';
import { rawExchange, readSchema, request, schemaProblems, waitFor } from './support';
import { paramsOf } from '../helpers/payload';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const LIMIT = 16384;
const REASON = `payload too large: request line and headers over ${LIMIT} bytes`;
const NO_CACHE = 'no-cache, no-store, must-revalidate';
const badRowSchema = readSchema('io.waymark', 'bad_row', '1-0-0');

const running: Collector[] = [];
async function start(file: object = {}, options: Omit<CollectorOptions, 'config'> = {}): Promise<{ c: Collector; port: number; memory: MemorySink }> {
  const memory = options.sink instanceof MemorySink ? options.sink : new MemorySink();
  const config = configWith({ host: '127.0.0.1', port: 0, ...file, http: { maxHeaderBytes: LIMIT, ...((file as { http?: object }).http ?? {}) } });
  const c = createCollector({ config, sink: memory, now: () => NOW, logger: createLogger({ write: () => {} }), ...options });
  running.push(c);
  const address = await c.listen();
  return { c, port: address.port, memory };
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.shutdown()));
});

/** Status line, header lines and body of a raw answer. */
function parse(text: string): { status: number; headers: [string, string][]; body: string } {
  const end = text.indexOf('\r\n\r\n');
  expect(end).toBeGreaterThan(0);
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine);
  return { status: m ? Number(m[1]) : 0, headers: lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 2)]), body: text.slice(end + 4) };
}

/** Like a client that reads the answer only once its request is written: writes every chunk (30 ms apart), then reads until the server closes. */
function sendAllThenRead(port: number, chunks: string[]): Promise<{ text: string; error: string | null }> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let text = '';
    let error: string | null = null;
    const timer = setTimeout(() => socket.destroy(), 10000);
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, error });
    });
    socket.connect(port, '127.0.0.1', async () => {
      socket.pause();
      for (const c of chunks) {
        if (socket.destroyed) break;
        socket.write(c);
        await new Promise((r) => setTimeout(r, 30));
      }
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      socket.resume();
    });
  });
}

const bigHeader = (n = 100000): string => `X-Huge: ${'h'.repeat(n)}\r\n`;
const badRows = (memory: MemorySink): { data: { type: string; failure: { messages: unknown[] }; payload: Record<string, unknown> } }[] => memory.events().bad as never;

describe('request line plus headers over http.maxHeaderBytes', () => {
  test('GET /i with a huge header: 400 with the reason, CORS for its Origin, Connection: close, and a size_violation bad row', async () => {
    const { port, memory } = await start();
    const r = await rawExchange(port, [`GET /i?e=pv&eid=big-1 HTTP/1.1\r\nHost: c.acme.com:8080\r\nOrigin: https://www.acme.com\r\nContent-Type: text/plain\r\n${bigHeader()}\r\n`]);
    expect(r.closed).toBe(true);
    const a = parse(r.text);
    expect(a.status).toBe(400);
    expect(a.headers).toEqual([
      ['access-control-allow-origin', 'https://www.acme.com'],
      ['access-control-allow-credentials', 'true'],
      ['vary', 'Origin'],
      ['content-type', 'text/plain; charset=utf-8'],
      ['cache-control', NO_CACHE],
      ['content-length', String(REASON.length)],
      ['connection', 'close'],
    ]);
    expect(a.body).toBe(REASON);
    expect(memory.events().good).toEqual([]);
    const rows = badRows(memory);
    expect(rows).toHaveLength(1);
    expect(rows[0].data.type).toBe('size_violation');
    expect(rows[0].data.failure.messages).toEqual([{ field: 'headers', value: null, expectation: `a request line plus headers of at most ${LIMIT} bytes` }]);
    expect(rows[0].data.payload).toMatchObject({ path: '/i', method: 'GET', hostname: 'c.acme.com', contentType: 'text/plain', raw: 'e=pv&eid=big-1', rawBytes: 14, truncated: false });
    expect(schemaProblems(badRowSchema, rows[0].data)).toEqual([]);
  });

  test('a URL longer than the header limit: 400 and a size_violation bad row with the query cut off (truncated)', async () => {
    const { port, memory } = await start({ badRowMaxPayloadBytes: 1000 });
    const url = `/com.snowplowanalytics.snowplow/tp2?e=pv&big=${'A'.repeat(70000)}`;
    const r = await rawExchange(port, [`GET ${url} HTTP/1.1\r\nHost: x\r\n\r\n`]);
    expect(parse(r.text).status).toBe(400);
    expect(parse(r.text).body).toBe(REASON);
    const rows = badRows(memory);
    expect(rows).toHaveLength(1);
    expect(rows[0].data.failure.messages).toEqual([
      { field: 'url', value: null, expectation: expect.stringMatching(/^a request URL of at most 20480 bytes and a request line plus headers of at most 16384 bytes; the URL had more than \d+$/) },
    ]);
    const payload = rows[0].data.payload;
    expect(payload).toMatchObject({ path: '/com.snowplowanalytics.snowplow/tp2', method: 'GET', truncated: true });
    expect(payload.raw).toBe(`e=pv&big=${'A'.repeat(991)}`);
    expect(payload.rawBytes as number).toBeGreaterThan(LIMIT);
    expect(schemaProblems(badRowSchema, rows[0].data)).toEqual([]);
  });

  test('a tracker-like client still sending megabytes of headers reads the 400 (lingering close, no reset)', async () => {
    const { port, memory } = await start();
    const chunk = `X-More: ${'m'.repeat(60000)}\r\n`;
    const r = await sendAllThenRead(port, [`GET /i?e=pv&eid=big-2 HTTP/1.1\r\nHost: x\r\n${chunk}`, ...Array.from({ length: 10 }, () => chunk)]);
    // Closing at once would reset the connection: the client's writes fail (EPIPE) and it never reads the answer.
    expect(r.error).toBeNull();
    expect(parse(r.text).status).toBe(400);
    expect(badRows(memory).map((b) => b.data.payload.raw)).toEqual(['e=pv&eid=big-2']);
    // Node's own HTTP client (what server-side trackers use) gets the answer too, not a connection error.
    const viaHttp = await request(port, { path: '/i?e=pv&eid=big-3', headers: { 'x-huge': 'h'.repeat(200000) } });
    expect([viaHttp.status, viaHttp.text]).toEqual([400, REASON]);
    expect(badRows(memory)).toHaveLength(2);
  });

  test('POST tp2 with huge headers gets a bad row; non-event paths and unreadable request lines get 400 and none', async () => {
    const { port, memory } = await start();
    const post = await rawExchange(port, [`POST /com.snowplowanalytics.snowplow/tp2 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n${bigHeader()}\r\n{}`]);
    expect(parse(post.text).status).toBe(400);
    expect(badRows(memory).map((b) => [b.data.payload.method, b.data.payload.path, b.data.payload.contentType])).toEqual([['POST', '/com.snowplowanalytics.snowplow/tp2', 'application/json']]);
    for (const head of [`GET /health HTTP/1.1\r\nHost: x\r\n${bigHeader()}\r\n`, `GET /nope?e=pv HTTP/1.1\r\nHost: x\r\n${bigHeader()}\r\n`, `DELETE /i?e=pv HTTP/1.1\r\nHost: x\r\n${bigHeader()}\r\n`]) {
      const r = await rawExchange(port, [head]);
      expect([parse(r.text).status, parse(r.text).body]).toEqual([400, REASON]);
    }
    // The request line came in an earlier packet than the one that passed the limit: it is not known, so no bad row.
    const split = await rawExchange(port, ['GET /i?e=pv&eid=split HTTP/1.1\r\nHost: x\r\n', bigHeader()], { delayMs: 300 });
    expect(parse(split.text).status).toBe(400);
    expect(badRows(memory)).toHaveLength(1);
    expect(memory.events().good).toEqual([]);
    // The server keeps serving.
    expect((await request(port, { path: '/i?e=pv&eid=after' })).status).toBe(200);
  });

  test('an Origin outside cors.allowedOrigins gets 403 and records nothing', async () => {
    const { port, memory } = await start({ cors: { allowedOrigins: ['acme.com'] } });
    const r = await rawExchange(port, [`GET /i?e=pv HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.org\r\n${bigHeader()}\r\n`]);
    expect([parse(r.text).status, parse(r.text).body]).toEqual([403, 'origin not allowed']);
    expect(parse(r.text).headers.map(([n]) => n)).not.toContain('access-control-allow-origin');
    expect(memory.events().bad).toEqual([]);
  });

  test('buffer full: 503 with Retry-After and CORS (the tracker retries, and gets its 400 once there is room)', async () => {
    const hung: (() => void)[] = [];
    let hang = true;
    const release = (): void => {
      hang = false;
      for (const r of hung.splice(0)) r();
    };
    const sink: Sink = {
      kind: 'hanging',
      write: async (records: readonly SinkRecord[]) => {
        if (hang) await new Promise<void>((r) => hung.push(r));
        return records.length < 0 ? records : [];
      },
      close: async () => release(),
    };
    const { port } = await start({ buffer: { maxEvents: 1, maxBytes: 4 * 1024 * 1024 }, retryAfterSeconds: 7 }, { sink });
    expect((await request(port, { path: '/i?e=pv&eid=fills' })).status).toBe(200);
    const oversized = `GET /i?e=pv HTTP/1.1\r\nHost: x\r\nOrigin: https://www.acme.com\r\n${bigHeader()}\r\n`;
    const a = parse((await rawExchange(port, [oversized])).text);
    expect([a.status, a.body]).toEqual([503, 'busy: buffer full, retry later']);
    expect(a.headers).toEqual(expect.arrayContaining([['retry-after', '7'], ['access-control-allow-origin', 'https://www.acme.com']]));
    release();
    await waitFor('room in the buffer', async () => (parse((await rawExchange(port, [oversized])).text).status === 400 ? true : undefined));
  });

  test('ackMode delivered: the 400 comes once the sink has the bad row', async () => {
    const { port, memory } = await start({ ackMode: 'delivered' });
    const r = await rawExchange(port, [`GET /i?e=pv&eid=d1 HTTP/1.1\r\nHost: x\r\n${bigHeader()}\r\n`]);
    expect(parse(r.text).status).toBe(400);
    expect(badRows(memory).map((b) => b.data.payload.raw)).toEqual(['e=pv&eid=d1']);
  });

  test("other parse errors and timeouts keep Node's answers (400, 408), and a keep-alive connection's earlier answer is untouched", async () => {
    const { port, memory } = await start({ http: { maxHeaderBytes: LIMIT, headersTimeoutMs: 1000, requestTimeoutMs: 2000 } });
    expect(parse((await rawExchange(port, ['GARBAGE\r\n\r\n'])).text).status).toBe(400);
    expect(parse((await rawExchange(port, ['GET /i HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'])).text).status).toBe(400);
    const slow = await rawExchange(port, ['GET /i?e=pv HTTP/1.1\r\n', 'Host: x\r\n'], { delayMs: 100, waitMs: 8000 });
    expect(parse(slow.text).status).toBe(408);
    // One good request, then an oversized one on the same connection: 200 then 400.
    const both = await rawExchange(port, [`GET /i?e=pv&eid=ka-1 HTTP/1.1\r\nHost: x\r\n\r\n`, `GET /i?e=pv&eid=ka-2 HTTP/1.1\r\nHost: x\r\n${bigHeader()}\r\n`], { delayMs: 300 });
    expect(both.text.match(/HTTP\/1\.1 \d{3} /g)).toEqual(['HTTP/1.1 200 ', 'HTTP/1.1 400 ']);
    expect(memory.events().good.map((p) => paramsOf(p).eid)).toEqual(['ka-1']);
    expect(badRows(memory).map((b) => b.data.payload.raw)).toEqual(['e=pv&eid=ka-2']);
  });
});

describe('oversizedHead (pure)', () => {
  const ctx = { config: configWith({}), now: () => NOW, uuid: () => 'unused' };
  const events = (method: string, path: string): boolean => path === '/i' && method === 'GET';
  test('reads the request line and the Host, Origin and Content-Type lines that arrived whole; never more', () => {
    const out = oversizedHead({ packet: Buffer.from('GET /i?e=pv HTTP/1.1\r\nHOST: a.b\r\norigin: https://o.com\r\nContent-Type: t/x'), limit: 100 }, ctx, events);
    expect(out.status).toBe(400);
    expect(out.origin).toBe('https://o.com');
    const payload = JSON.parse(out.records[0].data).data.payload;
    expect([payload.hostname, payload.contentType, payload.raw, payload.truncated]).toEqual(['a.b', null, 'e=pv', false]);
  });

  test('no packet, a packet starting mid-request, absolute-form targets: 400, nothing recorded', () => {
    for (const packet of [undefined, Buffer.from('X-Huge: GET /i?e=pv HTTP/1.1\r\n'), Buffer.from('GET http://x/i?e=pv HTTP/1.1\r\nHost: x\r\n'), Buffer.from('GET /i?e=pv HTTP/2.0\r\n')]) {
      const out = oversizedHead({ packet, limit: 100 }, ctx, events);
      expect([out.status, out.body, out.records]).toEqual([400, 'payload too large: request line and headers over 100 bytes', []]);
    }
  });
});
