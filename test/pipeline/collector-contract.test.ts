/**
 * Contract 2 end to end, in process: tracker requests go through the collector's own request handling
 * (collector/service.ts), and every record it publishes enriches into a good row (events) or stays a bad row.
 */
import { configWith } from '../../collector/config';
import { handleEvent, EventRequest } from '../../collector/service';
import { encodeBase64UrlUtf8 } from '../../pipeline/text';
import { CORPUS_NOW } from './helpers/corpus';
import { expectOnlyColumns, testEnricher } from './helpers/enricher';

const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const cx = encodeBase64UrlUtf8(JSON.stringify({
  schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0',
  data: [{ schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: '9f0a1b2c-3d4e-4f5a-8b6c-7d8e9f0a1b2c' } }],
}));
const event = (eid: string, extra: Record<string, string> = {}) => ({
  e: 'pv', eid, tv: 'js-4.1.0', tna: 'sp', aid: 'site', p: 'web', dtm: '1714564800000', stm: '1714564800100',
  url: 'https://www.example.com/?utm_source=x', page: 'Home', cx, ...extra,
});

function collect(req: Partial<EventRequest>): Array<{ stream: string; data: string }> {
  const ctx = { config: configWith(), now: () => Date.UTC(2024, 4, 1, 12, 0, 0, 500), uuid: () => 'c6ef3124-b53a-4b13-a233-0088f79dcbcb' };
  const outcome = handleEvent({
    kind: 'post', method: 'POST', path: '/com.snowplowanalytics.snowplow/tp2', query: '', remoteAddress: '10.0.0.2',
    headers: { 'user-agent': UA, 'x-forwarded-for': '203.0.113.7, 10.0.0.1', origin: 'https://www.example.com', referer: 'https://www.example.com/', 'content-type': 'application/json; charset=UTF-8' },
    ...req,
  } as EventRequest, ctx);
  return outcome.records.map((r) => ({ stream: r.stream, data: typeof r.data === 'string' ? r.data : String(r.data) }));
}

describe('collector → enricher', () => {
  const enricher = testEnricher(CORPUS_NOW);

  it('a POST batch becomes one message per event, each a good row with the collector\'s metadata', () => {
    const body = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [event('0f6d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f01'), event('0f6d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f02', { e: 'se', se_ca: 'c', se_ac: 'a' })] });
    const records = collect({ body: Buffer.from(body) });
    expect(records.map((r) => r.stream)).toEqual(['good', 'good']);
    const rows = records.map((r) => {
      const result = enricher.enrich(r.data);
      if (!result.row) throw new Error(JSON.stringify(result.badRow));
      expectOnlyColumns(result.row);
      return result.row;
    });
    expect(rows.map((r) => r.event)).toEqual(['page_view', 'struct']);
    expect(rows[0]).toMatchObject({
      collector_tstamp: '2024-05-01T12:00:00.500Z', v_collector: expect.stringMatching(/^waymark-collector[-/][0-9]/), user_ipaddress: expect.stringMatching(/\.x$/),
      useragent: UA, br_family: 'Chrome', network_userid: expect.stringMatching(/^[0-9a-f-]{36}$/), mkt_source: 'x',
      contexts_com_snowplowanalytics_snowplow_web_page_1: [{ id: '9f0a1b2c-3d4e-4f5a-8b6c-7d8e9f0a1b2c' }],
    });
  });

  it('a GET pixel request becomes a good row', () => {
    const query = Object.entries(event('0f6d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f03')).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    const records = collect({ kind: 'get', method: 'GET', path: '/i', query, body: undefined });
    expect(records).toHaveLength(1);
    const result = enricher.enrich(records[0].data);
    expect(result.row).toMatchObject({ event: 'page_view', event_id: '0f6d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f03', page_title: 'Home' });
  });

  it('an anonymous request (SP-Anonymous) has no IP and the nil network user id', () => {
    const body = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [event('0f6d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f04')] });
    const records = collect({ body: Buffer.from(body), headers: { 'user-agent': UA, 'sp-anonymous': '*', 'content-type': 'application/json' } });
    const row = enricher.enrich(records[0].data).row as Record<string, unknown>;
    expect(row.user_ipaddress).toBeUndefined();
    expect(row.network_userid).toBe('00000000-0000-0000-0000-000000000000');
  });

  it('a malformed body is the collector\'s bad row, which the enricher keeps as it is', () => {
    const records = collect({ body: Buffer.from('{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":') });
    expect(records.map((r) => r.stream)).toEqual(['bad']);
    const result = enricher.enrich(records[0].data);
    expect(result.badRow).toEqual(JSON.parse(records[0].data));
  });
});
