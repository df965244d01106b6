/**
 * The cores behind /micro/events, /micro/timeline and /micro/replay: the tracker payload decoded for people, the
 * filters (parsed from a query string or a Snowplow-Micro-shaped JSON body, mistakes naming the field), paging over
 * both streams with what was dropped, the timeline, and replay with the SHIPPED UDF bundles (built-ins only, then the
 * registry with examples/schemas: the demo's button_click is a bad row, then a good row, once).
 */
import { buildRuntimeBundle } from '../helpers/bundles';
import { decodePayload } from '../../collector/local/payload';
import { parseEventQuery, parseTimelineQuery } from '../../collector/local/query';
import { EventStore } from '../../collector/local/store';
import { replayBadRows, UdfHolder } from '../../collector/local/replay';
import { memorySource, storeRecord } from '../../collector/local/in-process';
import { eventItem } from '../../collector/local/api';
import { loadUdf, Udf } from '../../collector/local/udf';

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const UE = 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0';
const CONTEXTS = 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0';
const BUTTON = 'iglu:io.waymark.example/button_click/jsonschema/1-0-1';

/** A GET's collector payload (collector_payload 1-0-1: the raw query string). */
function getPayload(query: Record<string, string>, timestamp = '2026-01-01T10:00:00.000Z'): string {
  return JSON.stringify({
    schema: 'iglu:io.waymark/collector_payload/jsonschema/1-0-1',
    data: { timestamp, collector: 'waymark-collector/0.1.0', ipAddress: '10.1.2.3', userAgent: 'curl/8', refererUri: null, headers: {}, networkUserId: 'nnnnnnnn-0000-4000-8000-000000000000', contentType: null, method: 'GET', path: '/i', hostname: 'localhost', querystring: new URLSearchParams(query).toString() },
  });
}

describe('the tracker payload, decoded', () => {
  test('a GET: parameters from the query string; ue_px and cx decoded from base64url and parsed', () => {
    const ue = { schema: UE, data: { schema: BUTTON, data: { buttonId: 'b', position: 2 } } };
    const cx = { schema: CONTEXTS, data: [{ schema: 'iglu:io.waymark.example/product/jsonschema/1-0-0', data: { sku: 'É-1' } }] };
    const d = decodePayload(getPayload({ e: 'ue', aid: 'shop', ue_px: b64(ue), cx: b64(cx) }));
    expect(d.format).toBe('collector_payload');
    expect(d.parameters).toMatchObject({ e: 'ue', aid: 'shop' });
    expect(d.decoded).toEqual({ ue_px: ue, cx });
    expect(d.problems).toEqual({});
    expect(d.request).toMatchObject({ method: 'GET', path: '/i', userAgent: 'curl/8', querystring: expect.stringContaining('aid=shop') });
  });

  test('a POST event (parameters), JSON parameters parsed, and what does not decode is said', () => {
    const d = decodePayload({ schema: 'x', data: { method: 'POST', parameters: { e: 'se', ue_pr: '{"a":1}', co: '{broken', cx: '***' } } });
    expect(d.decoded).toEqual({ ue_pr: { a: 1 } });
    expect(Object.keys(d.problems).sort()).toEqual(['co', 'cx']);
    expect(d.problems.co).toMatch(/^not JSON: /);
    expect(d.problems.cx).toMatch(/^not base64: /);
    expect(d.request).not.toHaveProperty('parameters');
  });

  test('the CDN pixel\'s LogEntry, and payloads that are no payload', () => {
    const d = decodePayload({ httpRequest: { requestUrl: 'https://t.example/i?e=pv&aid=cdn#frag', userAgent: 'UA' }, timestamp: '2026-01-01T10:00:00Z' });
    expect([d.format, d.parameters]).toEqual(['log_entry', { e: 'pv', aid: 'cdn' }]);
    expect(decodePayload('not json')).toMatchObject({ format: 'unknown', request: { body: 'not json' }, parameters: {} });
    expect(decodePayload(42)).toMatchObject({ format: 'unknown', parameters: {} });
  });
});

describe('filters of /micro/events', () => {
  test('from a query string: lists repeat or use commas, times are UTC ISO 8601 or epoch milliseconds', () => {
    const q = parseEventQuery(new URLSearchParams('validEvents=false&event_type=page_view,link_click&app_id=a&app_id=b&schema=iglu:io.waymark.example/button_click&q=%20mug%20&start=2026-01-01T10:00:00Z&end=1767261660000&page=2&pageSize=10&order=oldest'));
    expect(q).toEqual({
      valid: false, eventTypes: ['page_view', 'link_click'], appIds: ['a', 'b'], schemas: ['iglu:io.waymark.example/button_click'], failureTypes: undefined,
      userId: undefined, sessionId: undefined, q: 'mug', start: Date.UTC(2026, 0, 1, 10), end: 1767261660000, order: 'oldest', page: 2, pageSize: 10,
    });
    expect(parseEventQuery(new URLSearchParams(''))).toMatchObject({ page: 1, pageSize: 50 });
  });

  test('from a JSON body shaped like Snowplow Micro\'s (page, pageSize, filters, validEvents, timeRange)', () => {
    const q = parseEventQuery({ page: 1, pageSize: 5, validEvents: true, filters: [{ column: 'app_id', value: 'SHO' }], timeRange: { start: '2026-01-01T10:00:00.000Z', end: null }, sorting: null });
    expect(q).toMatchObject({ valid: true, page: 1, pageSize: 5, columns: [{ column: 'app_id', value: 'SHO' }], start: Date.UTC(2026, 0, 1, 10), end: undefined });
  });

  test('mistakes answer with the field at fault and what it takes', () => {
    const bad: Array<[URLSearchParams | Record<string, unknown>, string]> = [
      [new URLSearchParams('pageSize=0'), 'pageSize must be an integer from 1 to 1000, got "0"'],
      [new URLSearchParams('page=two'), 'page must be an integer from 1 to 1000000, got "two"'],
      [new URLSearchParams('start=yesterday'), 'start must be an ISO 8601 time with a zone'],
      [new URLSearchParams('end=2026-01-01T10:00:00'), 'end must be an ISO 8601 time with a zone'],
      [new URLSearchParams('start=2026-01-02T00:00:00Z&end=2026-01-01T00:00:00Z'), 'end must be after start'],
      [new URLSearchParams('validEvents=maybe'), 'validEvents must be true (good rows only) or false (bad rows only), got "maybe"'],
      [new URLSearchParams('schema=button_click'), 'schema must be an Iglu URI'],
      [new URLSearchParams('order=random'), 'order must be newest or oldest'],
      [new URLSearchParams('type=schema_violations'), 'unknown filter "type"; known filters: validEvents, event_type, app_id, schema, failure_type, user_id, session_id, q, start, end, order, page, pageSize'],
      [{ filters: [{ column: 'app_id' }] }, 'filters[0] must be {"column"'],
      [{ filters: 'app_id=x' }, 'filters must be a list'],
      [{ sorting: { column: 'app_id' } }, 'sorting is not supported'],
      [{ timeRange: { from: 'x' } }, 'timeRange.from is not a field of timeRange (start, end)'],
      [{ app_id: 7 }, 'app_id must be a string or a list of strings, got 7'],
    ];
    for (const [input, message] of bad) {
      let thrown = '';
      try {
        parseEventQuery(input);
      } catch (e) {
        thrown = (e as Error).message;
      }
      expect([JSON.stringify(input instanceof URLSearchParams ? input.toString() : input), thrown.startsWith(message) ? message : thrown]).toEqual([JSON.stringify(input instanceof URLSearchParams ? input.toString() : input), message]);
    }
    expect(parseTimelineQuery(new URLSearchParams('interval=10&app_id=a'))).toMatchObject({ interval: 10, filter: { appIds: ['a'] } });
    expect(() => parseTimelineQuery(new URLSearchParams('interval=0'))).toThrow('interval must be an integer from 1 to 3600, got "0"');
    expect(() => parseTimelineQuery(new URLSearchParams('page=2'))).toThrow('unknown filter "page"');
  });
});

describe('/micro/events over the store, and replay with the shipped UDFs', () => {
  let builtinsOnly: Udf;
  let withExamples: Udf;
  beforeAll(async () => {
    builtinsOnly = loadUdf(await buildRuntimeBundle('udf'));
    withExamples = loadUdf(await buildRuntimeBundle('udf-examples'));
  }, 120000);

  const click = (eid: string, data: Record<string, unknown>, aid = 'shop'): string =>
    getPayload({ e: 'ue', eid, tv: 'test', p: 'web', aid, duid: 'u-1', sid: 's-1', vid: '3', ue_px: b64({ schema: UE, data: { schema: BUTTON, data } }) });
  const pageView = (eid: string, aid: string, url: string): string => getPayload({ e: 'pv', eid, tv: 'test', p: 'web', aid, url, uid: 'alice' });
  const eid = (i: number): string => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

  test('every kept row in one list, newest first, paged to the oldest kept one; what was dropped is counted', () => {
    let t = Date.UTC(2026, 0, 1, 10);
    const store = new EventStore(4, () => (t += 500));
    for (let i = 1; i <= 6; i++) storeRecord(store, withExamples, { stream: 'good', data: pageView(eid(i), i % 2 ? 'odd' : 'even', `https://shop.example/p/${i}`) } as never);
    storeRecord(store, withExamples, { stream: 'good', data: click(eid(7), { label: 'no id' }) } as never);
    expect(store.retention()).toEqual({ max: 4, kept: { good: 4, bad: 1 }, dropped: { good: 2, bad: 0 } });
    const first = store.queryEvents({ page: 1, pageSize: 2 });
    expect([first.totalItems, first.totalPages, first.events.map((e) => e.seq)]).toEqual([5, 3, [7, 6]]);
    const last = store.queryEvents({ page: 3, pageSize: 2 });
    expect(last.events.map((e) => [e.seq, e.fields.pageUrl])).toEqual([[3, 'https://shop.example/p/3']]);
    expect(store.queryEvents({ page: 1, pageSize: 2, order: 'oldest' }).events.map((e) => e.seq)).toEqual([3, 4]);

    // The bad row tells its app, user, session and event from the payload it kept.
    const bad = store.queryEvents({ page: 1, pageSize: 10, valid: false }).events;
    expect(bad.map((e) => e.fields)).toEqual([{
      valid: false, eventType: 'unstruct', eventName: 'button_click', schema: BUTTON, appId: 'shop', userId: null, domainUserId: 'u-1',
      networkUserId: 'nnnnnnnn-0000-4000-8000-000000000000', sessionId: 's-1', sessionIndex: 3, eventId: eid(7), pageUrl: null, platform: 'web', failureType: 'schema_violations',
    }]);
    const item = eventItem(bad[0]) as any;
    expect(item.failures[0]).toEqual({ field: 'ue_px', path: '$', keyword: 'required', text: `${BUTTON} field ue_px at $ (required): missing required property "buttonId"`, message: 'at $ (required): missing required property "buttonId"' });
    expect(item.payload.decoded.ue_px.data.data).toEqual({ label: 'no id' });
    // Good rows keep the payload they were enriched from, decoded.
    const good = eventItem(store.queryEvents({ page: 1, pageSize: 1, valid: true }).events[0]) as any;
    expect(good.payload.parameters).toMatchObject({ e: 'pv', aid: 'even', url: 'https://shop.example/p/6' });
    expect(good.event).toMatchObject({ app_id: 'even', user_id: 'alice' });

    // Filters narrow: app id, event type or name, schema without version, failure type, user, free text, time range.
    const seqs = (q: Parameters<EventStore['queryEvents']>[0]) => store.queryEvents(q).events.map((e) => e.seq);
    expect(seqs({ page: 1, pageSize: 10, appIds: ['odd'] })).toEqual([5, 3]);
    expect(seqs({ page: 1, pageSize: 10, eventTypes: ['button_click'] })).toEqual([7]);
    expect(seqs({ page: 1, pageSize: 10, schemas: ['iglu:io.waymark.example/button_click'] })).toEqual([7]);
    expect(seqs({ page: 1, pageSize: 10, failureTypes: ['schema_violations'] })).toEqual([7]);
    expect(seqs({ page: 1, pageSize: 10, failureTypes: ['size_violation'] })).toEqual([]);
    expect(seqs({ page: 1, pageSize: 10, userId: 'alice', appIds: ['even'] })).toEqual([6, 4]);
    // The free text reaches into the base64 payload of the bad row, decoded.
    expect(seqs({ page: 1, pageSize: 10, q: '"NO ID"' })).toEqual([7]);
    expect(seqs({ page: 1, pageSize: 10, q: 'no id' })).toEqual([7, 6, 5, 4, 3]); // words: each anywhere ("id" is in every row)
    expect(seqs({ page: 1, pageSize: 10, q: 'p/5 odd' })).toEqual([5]);
    expect(seqs({ page: 1, pageSize: 10, columns: [{ column: 'page_url', value: 'P/4' }] })).toEqual([4]);
    expect(seqs({ page: 1, pageSize: 10, start: Date.UTC(2026, 0, 1, 10, 0, 2), end: Date.UTC(2026, 0, 1, 10, 0, 3) })).toEqual([5, 4]);

    // The timeline: per second, good and bad.
    expect(store.timeline({}, 1)).toEqual([
      { time: '2026-01-01T10:00:01.000Z', good: 1, bad: 0 },
      { time: '2026-01-01T10:00:02.000Z', good: 2, bad: 0 },
      { time: '2026-01-01T10:00:03.000Z', good: 1, bad: 1 },
    ]);
    expect(store.timeline({ valid: false }, 60)).toEqual([{ time: '2026-01-01T10:00:00.000Z', good: 0, bad: 1 }]);
  });

  test('replay after the registry changed: the bad row becomes one good row; a second replay adds nothing', async () => {
    const store = new EventStore(100);
    const holder: UdfHolder = { current: builtinsOnly, rebuild: async () => withExamples };
    const source = memorySource(store, holder);
    storeRecord(store, builtinsOnly, { stream: 'good', data: click(eid(1), { buttonId: 'add-to-basket', position: 0 }) } as never);
    storeRecord(store, builtinsOnly, { stream: 'good', data: click(eid(2), { buttonId: 'x', position: -1 }) } as never);
    // The missing schema's message goes on to say how to add it (pipeline/stages/schemas.ts).
    const missing = `${BUTTON} field ue_px at $ (resolution): schema ${BUTTON} is not in the registry: add it to a schema folder`;
    expect(store.queryBad().map((s) => s.item.errors[0].slice(0, missing.length))).toEqual([missing, missing]);
    const r1 = await source.replay!();
    expect(r1).toMatchObject({ udf: withExamples.path, rebuilt: true, replayed: 2, good: 1, stillBad: 1, duplicates: 0, skipped: [] });
    expect(holder.current).toBe(withExamples);
    const good = store.queryGood();
    expect(good.map((g) => g.item.event.unstruct_event_io_waymark_example_button_click_1)).toEqual([{ button_id: 'add-to-basket', position: 0 }]);
    expect(store.get(good[0].seq)!.replayedFrom).toBe(1);
    // The one still bad now says what the schema says.
    expect(store.queryBad().map((s) => s.item.errors)).toEqual([[`${BUTTON} field ue_px at $.position (minimum): expected a number >= 0, found number -1`]]);
    expect(store.counts()).toMatchObject({ total: 2, good: 1, bad: 1 });

    const r2 = await source.replay!();
    expect(r2).toMatchObject({ replayed: 1, good: 0, stillBad: 1 });
    expect(store.queryGood()).toHaveLength(1);
    // Asking for a row that is gone, or a good one, skips it with the reason.
    const r3 = await source.replay!([1, good[0].seq]);
    expect(r3.skipped).toEqual([
      { seq: 1, reason: 'no such row is kept (replayed already, dropped or reset)' },
      { seq: good[0].seq, reason: 'a good row' },
    ]);
    expect(store.queryGood()).toHaveLength(1);
  });

  test('a replayed event that is already kept as a good row is not added again', async () => {
    const store = new EventStore(100);
    const same = click(eid(3), { buttonId: 'b' });
    storeRecord(store, withExamples, { stream: 'good', data: same } as never);
    storeRecord(store, builtinsOnly, { stream: 'good', data: same } as never); // the same event, enriched before the fix
    const r = await replayBadRows(store, { current: withExamples });
    expect(r).toMatchObject({ rebuilt: false, replayed: 1, good: 0, duplicates: 1 });
    expect(store.queryGood()).toHaveLength(1);
    expect(store.queryBad()).toHaveLength(0);
  });

  test('a failed rebuild replays nothing and says why; rows without a collector payload are skipped', async () => {
    const store = new EventStore(100);
    storeRecord(store, builtinsOnly, { stream: 'good', data: click(eid(4), { buttonId: 'b' }) } as never);
    store.addBad({ schema: 'iglu:io.waymark/bad_row/jsonschema/1-0-0', data: { type: 'size_violation', payload: 'x'.repeat(10) } });
    await expect(replayBadRows(store, { current: builtinsOnly, rebuild: async () => { throw new Error('schema broken.json is not JSON'); } })).rejects.toThrow('the enrichment could not be rebuilt from the schema folders, nothing was replayed: schema broken.json is not JSON');
    expect(store.queryBad()).toHaveLength(2);
    const r = await replayBadRows(store, { current: withExamples });
    expect(r).toMatchObject({ good: 1, skipped: [{ seq: 2, reason: 'its original payload is not a collector payload (nothing to enrich again)' }] });
  });
});
