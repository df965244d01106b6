/**
 * Hostile requests (issue reproductions, run against the shipped bundle where the answer is what matters, in process
 * where the work done is what matters): deep JSON, batches that can never fit, event amplification, quadratic
 * query strings. Nothing here measures time: work is counted (records built, characters scanned).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configWith } from '../../collector/config';
import { queryValues } from '../../collector/http-parts';
import { scanBody } from '../../collector/json-scan';
import { createLogger } from '../../collector/log';
import { Collector, createCollector } from '../../collector/server';
import { EventRequest, handleEvent, MAX_JSON_DEPTH } from '../../collector/service';
import type { Sink, SinkRecord } from '../../collector/sinks/types';
import { buildRuntimeBundle } from '../helpers/bundles';
import { request, runBundle, RunningCollector, waitFor } from './support';

const TP2 = '/com.snowplowanalytics.snowplow/tp2';
const SCHEMA = 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4';

interface DebugEvents {
  good: unknown[];
  bad: { data: { type: string; failure: { messages: { field: string; expectation: string }[] }; payload: { rawBytes: number; truncated: boolean } } }[];
  totals: { good: number; bad: number };
}

describe('the shipped bundle under hostile batches', () => {
  let dir: string;
  let c: RunningCollector;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'waymark-collector-hostile-'));
    copyFileSync(await buildRuntimeBundle('collector'), join(dir, 'collector.js'));
    c = await runBundle(join(dir, 'collector.js'), { WAYMARK_SINK: 'memory', WAYMARK_DEBUG_ENDPOINTS: 'true' }, { cwd: dir });
  }, 60000);
  afterAll(async () => {
    await c?.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const debug = async (): Promise<DebugEvents> => JSON.parse((await request(c.port, { path: '/debug/events' })).text) as DebugEvents;
  beforeEach(async () => {
    await request(c.port, { method: 'DELETE', path: '/debug/events' });
  });

  test('a value nested 4,115 levels (an 8 KB body, the reproduction) and 500,000 levels (the 1 MB body limit): 400 and a bad row, never 500', async () => {
    // 4,115 levels answered "500 internal error" (JSON.stringify overflowed the stack) and recorded nothing.
    const small = `{"schema":"${SCHEMA}","data":[{"e":"pv","co":${'['.repeat(4115)}${']'.repeat(4115)}}]}`;
    expect(Buffer.byteLength(small)).toBeLessThan(8400);
    const limit = 1024 * 1024;
    const prefix = `{"schema":"${SCHEMA}","data":[{"e":"pv","co":`;
    const levels = Math.floor((limit - prefix.length - 4) / 2);
    const huge = `${prefix}${'['.repeat(levels)}${']'.repeat(levels)}}]}`;
    expect(Buffer.byteLength(huge)).toBeLessThanOrEqual(limit);
    for (const body of [small, huge]) {
      const r = await request(c.port, { method: 'POST', path: TP2, body, headers: { 'content-type': 'application/json' } });
      expect([r.status, r.text]).toEqual([400, expect.stringMatching(/^malformed payload: body: expected JSON nested at most 32 levels deep/)]);
    }
    const events = await waitFor('two bad rows', async () => {
      const e = await debug();
      return e.totals.bad === 2 ? e : undefined;
    });
    expect(events.totals.good).toBe(0);
    expect(events.bad.map((b) => [b.data.type, b.data.failure.messages[0].field, b.data.payload.rawBytes])).toEqual([
      ['collector_payload_format_violation', 'body', Buffer.byteLength(small)],
      ['collector_payload_format_violation', 'body', Buffer.byteLength(huge)],
    ]);
    // Still serving.
    expect((await request(c.port, { path: '/health' })).status).toBe(200);
  });

  // Snowplow's trackers retry every non-2xx answer except a few, 400 among them (snowplow/documentation:
  // docs/sources/web-trackers/configuring-how-events-sent, "retries"; the node tracker's dontRetryStatusCodes).
  test('100,001 `{}` events (300 KB, the reproduction) on an idle collector: 400 (not retried) and a size_violation bad row, every time', async () => {
    const body = `{"schema":"${SCHEMA}","data":[${Array(100_001).fill('{}').join(',')}]}`;
    for (let i = 0; i < 2; i++) {
      const r = await request(c.port, { method: 'POST', path: TP2, body });
      expect([r.status, r.headers['retry-after'], r.text]).toEqual([400, undefined, 'payload too large: body.data: expected at most 1000 events in one batch (maxEventsPerBatch); it had more']);
    }
    const events = await waitFor('two bad rows', async () => {
      const e = await debug();
      return e.totals.bad === 2 ? e : undefined;
    });
    expect(events.bad[0].data).toMatchObject({ type: 'size_violation', payload: { rawBytes: Buffer.byteLength(body), truncated: true } });
    expect(events.totals.good).toBe(0);
    // A batch at the cap is taken.
    const atCap = `{"schema":"${SCHEMA}","data":[${Array(1000).fill('{"e":"pv"}').join(',')}]}`;
    expect((await request(c.port, { method: 'POST', path: TP2, body: atCap })).status).toBe(200);
    await waitFor('1000 events', async () => ((await debug()).totals.good === 1000 ? true : undefined));
  });
});

describe('a batch the buffer could never hold', () => {
  test('more events than buffer.maxEvents (under the batch cap): 400 and a size_violation bad row instead of a 503 forever', async () => {
    const written: SinkRecord[] = [];
    const sink: Sink = { kind: 'test', write: async (r) => (written.push(...r), []), close: async () => {} };
    const c = createCollector({ config: configWith({ host: '127.0.0.1', port: 0, buffer: { maxEvents: 50 } }), sink, logger: createLogger({ write: () => {} }) });
    const { port } = await c.listen();
    try {
      const body = JSON.stringify({ schema: SCHEMA, data: Array.from({ length: 51 }, (_, i) => ({ e: 'pv', eid: `e${i}` })) });
      const r = await request(port, { method: 'POST', path: TP2, body });
      expect([r.status, r.text]).toEqual([400, 'payload too large: 51 events could never fit in the buffer']);
      await waitFor('the bad row', () => (written.length === 1 ? true : undefined));
      expect(JSON.parse(written[0].data).data).toMatchObject({ type: 'size_violation', failure: { messages: [{ field: 'body.data' }] } });
      // 50 fit.
      const fits = JSON.stringify({ schema: SCHEMA, data: Array.from({ length: 50 }, (_, i) => ({ e: 'pv', eid: `f${i}` })) });
      expect((await request(port, { method: 'POST', path: TP2, body: fits })).status).toBe(200);
    } finally {
      await c.shutdown();
    }
  });
});

describe('a refused batch costs no records', () => {
  const post = (n: number): EventRequest => ({
    kind: 'post',
    method: 'POST',
    path: TP2,
    query: '',
    headers: { host: 'c.acme.com' },
    remoteAddress: '10.0.0.1',
    body: Buffer.from(JSON.stringify({ schema: SCHEMA, data: Array.from({ length: n }, () => ({ e: 'pv' })) })),
  });

  test('the buffer is asked before any record is built: busy → no record, no JSON text built', () => {
    const asked: [number, number][] = [];
    const ctx = { config: configWith({}), now: () => 0, uuid: () => '1b4e28ba-2fa1-41d2-883f-0016d3cca427', admit: (events: number, bytes: number) => (asked.push([events, bytes]), 'full' as const) };
    const req = post(900);
    const stringify = jest.spyOn(JSON, 'stringify');
    try {
      const out = handleEvent(req, ctx);
      expect([out.refused, out.records.length]).toEqual(['full', 0]);
      // Not one record's JSON text was built (the old code built all 900, then the buffer refused them).
      expect(stringify).not.toHaveBeenCalled();
    } finally {
      stringify.mockRestore();
    }
    expect(asked).toEqual([[900, expect.any(Number)]]);
  });

  test('in the server: with the buffer full, a 900-event POST is answered 503 without building its records', async () => {
    const hung: (() => void)[] = [];
    const sink: Sink = { kind: 'hang', write: () => new Promise((r) => hung.push(() => r([]))), close: async () => hung.forEach((h) => h()) };
    const c: Collector = createCollector({ config: configWith({ host: '127.0.0.1', port: 0, buffer: { maxEvents: 1000 } }), sink, logger: createLogger({ write: () => {} }) });
    const { port } = await c.listen();
    try {
      const first = JSON.stringify({ schema: SCHEMA, data: Array.from({ length: 900 }, () => ({ e: 'pv' })) });
      expect((await request(port, { method: 'POST', path: TP2, body: first })).status).toBe(200);
      const stringify = jest.spyOn(JSON, 'stringify');
      let calls: number;
      try {
        const r = await request(port, { method: 'POST', path: TP2, body: first });
        expect([r.status, r.text]).toEqual([503, 'busy: buffer full, retry later']);
        calls = stringify.mock.calls.length;
      } finally {
        stringify.mockRestore();
      }
      expect(calls).toBeLessThan(10);
      expect(c.buffer.stats().events).toBe(900);
    } finally {
      void c.shutdown();
      hung.forEach((h) => h());
    }
  });
});

describe('linear work', () => {
  /** Characters String.prototype.indexOf reads while `fn` runs (from its start position to the hit or the end). */
  function scanned(fn: () => void): number {
    const original = String.prototype.indexOf;
    let count = 0;
    String.prototype.indexOf = function counted(this: string, search: string, from?: number): number {
      const at = original.call(this, search, from);
      count += (at < 0 ? this.length : at) - Math.max(0, from ?? 0);
      return at;
    };
    try {
      fn();
    } finally {
      String.prototype.indexOf = original;
    }
    return count;
  }

  test('queryValues reads an `x&x&…` query in linear work: 4x the parameters cost about 4x, not 16x (the old scan to the end per parameter)', () => {
    const q = (n: number): string => Array(n).fill('x').join('&');
    const small = scanned(() => queryValues(q(2500), ['e', 'aid']));
    const large = scanned(() => queryValues(q(10000), ['e', 'aid']));
    expect(large / small).toBeLessThan(5);
    // And about one read of the string per searched character (&, =, %, +).
    expect(large).toBeLessThan(5 * q(10000).length);
    // Same answers as ever.
    expect(queryValues('x&e=pv&x&%61id=a+b&e', ['e', 'aid'])).toEqual(['', 'a b']);
    expect(queryValues('e=pv&aid=site', ['e', 'aid'])).toEqual(['pv', 'site']);
  });

  test('the body scan keeps no stack and counts the batch: depth and events of nested and escaped JSON', () => {
    expect(scanBody(Buffer.from('{"data":[{"a":"[[["},{"b":"\\"]"},[1,[2]]],"x":[1,2,3]}'), 32, 10)).toEqual({ depth: 4, tooDeepAt: -1, events: 6 });
    expect(scanBody(Buffer.from(`{"data":[{"co":${'['.repeat(40)}`), MAX_JSON_DEPTH, 10).tooDeepAt).toBe(15 + MAX_JSON_DEPTH - 3);
    expect(scanBody(Buffer.from(`{"data":[${Array(20).fill('{}').join(',')}]}`), 32, 10).events).toBe(11);
    expect(scanBody(Buffer.from('{"data":[ ]}'), 32, 10).events).toBe(0);
  });
});
