import { configWith } from '../../collector/config';
import { clientIp, cookieDomain, hasParameters, queryValue, queryValues, readCookie } from '../../collector/http-parts';
import { queryParameters } from '../../pipeline/adapters';
import { paramsOf } from '../helpers/payload';
import { truncateUtf8 } from '../../collector/payload';
import { EventRequest, handleEvent, redirectTarget } from '../../collector/service';
import { readSchema, schemaProblems } from './support';

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const ID = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';
const ctx = (file: unknown = {}) => ({ config: configWith(file), now: () => NOW, uuid: () => ID });
const get = (query: string, headers: EventRequest['headers'] = {}, extra: Partial<EventRequest> = {}): EventRequest => ({
  kind: 'get',
  method: 'GET',
  path: '/i',
  query,
  headers: { host: 'c.acme.com', ...headers },
  remoteAddress: '::ffff:10.0.0.9',
  ...extra,
});
const post = (body: string | Buffer, headers: EventRequest['headers'] = {}): EventRequest => ({
  kind: 'post',
  method: 'POST',
  path: '/com.snowplowanalytics.snowplow/tp2',
  query: '',
  headers: { host: 'c.acme.com', 'content-type': 'application/json; charset=utf-8', ...headers },
  remoteAddress: '10.0.0.9',
  body: Buffer.isBuffer(body) ? body : Buffer.from(body),
});
const envelope = (data: unknown): string => JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data });
const payloadSchema = readSchema('io.waymark', 'collector_payload', '1-0-1');
const badRowSchema = readSchema('io.waymark', 'bad_row', '1-0-0');

describe('query strings, cookies, client IP', () => {
  test("a GET's query string: the enricher's parser decodes + and %XX, keeps malformed escapes, last name wins, never touches the prototype", () => {
    const { params: q, count } = queryParameters('e=pv&url=https%3A%2F%2Fa.com%2F%3Fx%3D1&page=Hello+World&bad=%E0%A4%A&e=se&flag&=x&__proto__=p&empty=');
    expect(JSON.stringify(q)).toBe('{"e":"se","url":"https://a.com/?x=1","page":"Hello World","bad":"%E0%A4%A","flag":"","__proto__":"p","empty":""}');
    expect(count).toBe(7);
    expect(Object.getPrototypeOf(q)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(q, '__proto__')?.value).toBe('p');
    expect(JSON.stringify(queryParameters('constructor=c&toString=t&hasOwnProperty=h').params)).toBe('{"constructor":"c","toString":"t","hasOwnProperty":"h"}');
    expect(queryParameters('')).toEqual({ params: {}, count: 0 });
  });

  test('the collector reads only what it needs from a query string: routing values (last wins, decoded) and whether any parameter is there', () => {
    const q = 'e=pv&aid=a%20b&%61id=c+d&x=1&e=se&u=https%3A%2F%2Fwww.acme.com%2F&flag';
    expect(queryValue(q, 'e')).toBe('se');
    expect(queryValue(q, 'aid')).toBe('c d');
    expect(queryValue(q, 'u')).toBe('https://www.acme.com/');
    expect(queryValue(q, 'flag')).toBe('');
    expect(queryValue(q, 'missing')).toBeUndefined();
    expect(queryValue('ee=1&e', 'e')).toBe('');
    expect(queryValue('', 'e')).toBeUndefined();
    expect(queryValues(q, ['e', 'aid', 'nope', 'x'])).toEqual(['se', 'c d', undefined, '1']);
    for (const yes of ['e=pv', 'flag', '&&x=', '=1&y']) expect(hasParameters(yes)).toBe(true);
    for (const no of ['', '&', '&&', '=x', '=x&=y&']) expect(hasParameters(no)).toBe(false);
  });

  test('readCookie finds one cookie among many, trims and unquotes', () => {
    expect(readCookie('a=1; sp=abc ;b=2', 'sp')).toBe('abc');
    expect(readCookie('xsp=1; sp="q"', 'sp')).toBe('q');
    expect(readCookie('a=1', 'sp')).toBeUndefined();
    expect(readCookie(undefined, 'sp')).toBeUndefined();
  });

  test("client IP: the entry Google's LB appended before its own, never a client-sent prefix; else the TCP peer", () => {
    // The client claims 6.6.6.6; the LB appends "<client-ip>, <lb-ip>".
    expect(clientIp('6.6.6.6, 203.0.113.7, 130.211.0.1', '10.0.0.1', 1)).toBe('203.0.113.7');
    expect(clientIp('203.0.113.7, 130.211.0.1', '10.0.0.1', 1)).toBe('203.0.113.7');
    expect(clientIp('2001:db8::1, 130.211.0.1', '10.0.0.1', 1)).toBe('2001:db8::1');
    expect(clientIp('203.0.113.7', '10.0.0.1', 0)).toBe('203.0.113.7');
    expect(clientIp('6.6.6.6, 203.0.113.7, 35.1.1.1, 130.211.0.1', '10.0.0.1', 2)).toBe('203.0.113.7');
    // Too short (not through the LB), not an IP, or XFF ignored: the TCP peer.
    expect(clientIp('203.0.113.7', '::ffff:10.0.0.1', 1)).toBe('10.0.0.1');
    expect(clientIp('evil, 130.211.0.1', '10.0.0.1', 1)).toBe('10.0.0.1');
    expect(clientIp('203.0.113.7, 130.211.0.1', '10.0.0.1', null)).toBe('10.0.0.1');
    expect(clientIp(undefined, undefined, 1)).toBeNull();
  });

  test('cookie Domain: first configured domain matching the Origin, else the fallback, else host-only', () => {
    const cookie = configWith({ cookie: { domains: ['acme.com', 'acme.co.uk'], fallbackDomain: 'acme.net' } }).cookie;
    expect(cookieDomain('https://shop.acme.co.uk:8443', cookie)).toBe('acme.co.uk');
    expect(cookieDomain('https://acme.com', cookie)).toBe('acme.com');
    expect(cookieDomain('https://notacme.com', cookie)).toBe('acme.net');
    expect(cookieDomain(undefined, cookie)).toBe('acme.net');
    expect(cookieDomain('https://other.org', configWith().cookie)).toBeNull();
  });

  test('truncateUtf8 never splits a character', () => {
    expect(truncateUtf8('aé€😀', 4)).toEqual({ text: 'aé', bytes: 10, truncated: true });
    expect(truncateUtf8('aé€😀', 6)).toEqual({ text: 'aé€', bytes: 10, truncated: true });
    expect(truncateUtf8('abc', 3)).toEqual({ text: 'abc', bytes: 3, truncated: false });
  });

  test('redirect targets: http(s) on an allowed domain or its subdomains only', () => {
    const allowed = ['acme.com'];
    expect(redirectTarget('https://www.acme.com/p?q=1', allowed)).toBe('https://www.acme.com/p?q=1');
    expect(redirectTarget('https://acme.com.evil.org/', allowed)).toBeNull();
    expect(redirectTarget('https://evilacme.com/', allowed)).toBeNull();
    expect(redirectTarget('javascript:alert(1)', allowed)).toBeNull();
    expect(redirectTarget('//evil.org', allowed)).toBeNull();
    expect(redirectTarget('https://acme.com@evil.org/', allowed)).toBeNull();
    expect(redirectTarget('https://user@acme.com/', allowed)).toBeNull();
    expect(redirectTarget(undefined, allowed)).toBeNull();
  });
});

describe('handleEvent', () => {
  test('GET: one CollectorPayload that matches the registry schema, with the allow-listed headers and routing attributes', () => {
    const out = handleEvent(
      get('e=pv&eid=e1&aid=shop&tv=js-1', {
        origin: 'https://www.acme.com',
        'user-agent': 'UA/1',
        referer: 'https://www.acme.com/a',
        'accept-language': 'fr',
        'x-forwarded-for': '1.1.1.1, 203.0.113.7, 130.211.0.1',
        cookie: `sp=${'2c7a6f7e-1111-4222-8333-444455556666'}`,
        'x-secret': 's',
      }),
      ctx(),
    );
    expect(out.status).toBe(200);
    expect(out.records).toHaveLength(1);
    const record = out.records[0];
    expect(record.stream).toBe('good');
    expect(record.attributes).toEqual({ event_type: 'pv', app_id: 'shop' });
    const message = JSON.parse(record.data);
    expect(message).toEqual({
      schema: 'iglu:io.waymark/collector_payload/jsonschema/1-0-1',
      data: {
        timestamp: '2026-01-02T03:04:05.678Z',
        collector: 'waymark-collector/0.1.0',
        ipAddress: '203.0.113.7',
        userAgent: 'UA/1',
        refererUri: 'https://www.acme.com/a',
        headers: { 'accept-language': 'fr', origin: 'https://www.acme.com' },
        networkUserId: '2c7a6f7e-1111-4222-8333-444455556666',
        contentType: null,
        method: 'GET',
        path: '/i',
        // The query string as received: the enricher parses it (collector_payload 1-0-1).
        querystring: 'e=pv&eid=e1&aid=shop&tv=js-1',
        hostname: 'c.acme.com',
      },
    });
    expect(schemaProblems(payloadSchema, message.data)).toEqual([]);
    expect(paramsOf(message)).toEqual({ e: 'pv', eid: 'e1', aid: 'shop', tv: 'js-1' });
  });

  test('POST: a batch is split into one payload per event; a query string on the POST is kept', () => {
    const out = handleEvent({ ...post(envelope([{ e: 'pv', eid: 'a' }, { e: 'se', eid: 'b', se_va: 2.5, f_pdf: true, skip: null }])), query: 'x=1' }, ctx());
    expect(out.status).toBe(200);
    expect(out.body).toBe('ok');
    const data = out.records.map((r) => JSON.parse(r.data).data);
    expect(data.map((d) => d.parameters)).toEqual([{ e: 'pv', eid: 'a' }, { e: 'se', eid: 'b', se_va: '2.5', f_pdf: 'true' }]);
    expect(data.map((d) => [d.method, d.contentType, d.querystring, d.networkUserId])).toEqual([
      ['POST', 'application/json; charset=utf-8', 'x=1', ID],
      ['POST', 'application/json; charset=utf-8', 'x=1', ID],
    ]);
    for (const d of data) expect(schemaProblems(payloadSchema, d)).toEqual([]);
  });

  test('malformed bodies: 400 (trackers do not retry it), a short reason, and a format-violation bad row matching the schema', () => {
    const cases: [string, string][] = [
      ['', 'malformed payload: body: expected a JSON payload_data envelope; the body was empty'],
      ['{"schema":', 'malformed payload: body: expected valid JSON'],
      ['[1,2]', 'malformed payload: body: expected a JSON object'],
      ['{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":[{}]}', 'malformed payload: body.schema: expected a schema key starting with "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-"'],
      [envelope([]), 'malformed payload: body.data: expected a non-empty array of events'],
      [envelope(['x', 3]), 'malformed payload: no event in body.data is an object'],
    ];
    for (const [body, reason] of cases) {
      const out = handleEvent(post(body), ctx());
      expect(out.status).toBe(400);
      expect(String(out.body).startsWith(reason)).toBe(true);
      expect(out.records.length).toBeGreaterThan(0);
      for (const r of out.records) {
        expect(r.stream).toBe('bad');
        const row = JSON.parse(r.data);
        expect(row.schema).toBe('iglu:io.waymark/bad_row/jsonschema/1-0-0');
        expect(row.data.type).toBe('collector_payload_format_violation');
        expect(row.data.processor).toEqual({ artifact: 'waymark-collector', version: '0.1.0' });
        expect(schemaProblems(badRowSchema, row.data)).toEqual([]);
      }
    }
  });

  test('a batch with some non-object events: the good ones are recorded (200), each bad one becomes a bad row', () => {
    const out = handleEvent(post(envelope([{ e: 'pv', eid: 'a' }, 'oops', [1]])), ctx());
    expect(out.status).toBe(200);
    expect(out.records.map((r) => r.stream)).toEqual(['bad', 'bad', 'good']);
    expect(JSON.parse(out.records[0].data).data.failure.messages).toEqual([{ field: 'body.data[1]', value: '"oops"', expectation: 'an object of string parameters' }]);
    expect(JSON.parse(out.records[1].data).data.payload.raw).toBe('[1]');
  });

  test('oversized body and URL: size_violation bad row with the truncated payload, 400 with a short reason', () => {
    const head = Buffer.from('x'.repeat(100000));
    const out = handleEvent({ ...post(''), body: undefined, bodyOverflow: { head, totalBytes: 2_000_000 } }, ctx({ badRowMaxPayloadBytes: 1000 }));
    expect(out.status).toBe(400);
    expect(out.body).toBe('payload too large: body of 2000000 bytes, limit 1048576');
    const row = JSON.parse(out.records[0].data).data;
    expect(row.type).toBe('size_violation');
    expect(row.failure.messages).toEqual([{ field: 'body', value: null, expectation: 'a body of at most 1048576 bytes; it had 2000000' }]);
    expect(row.payload).toMatchObject({ raw: 'x'.repeat(1000), rawBytes: 2000000, truncated: true, method: 'POST' });
    expect(schemaProblems(badRowSchema, row)).toEqual([]);

    const long = handleEvent(get(`e=pv&x=${'a'.repeat(30000)}`), ctx());
    expect(long.status).toBe(400);
    expect(long.body).toBe('payload too large: URL of 30010 bytes, limit 20480');
    expect(JSON.parse(long.records[0].data).data.type).toBe('size_violation');
  });

  test('SP-Anonymous: no cookie, no IP, no identifying headers, nil network user id', () => {
    const out = handleEvent(
      get('e=pv', { 'sp-anonymous': '*', cookie: 'sp=2c7a6f7e-1111-4222-8333-444455556666', 'x-forwarded-for': '203.0.113.7, 130.211.0.1', 'x-client-geo-location': '1,2', 'accept-language': 'de' }),
      ctx({ headersAllowList: ['accept-language', 'x-client-geo-location', 'x-forwarded-for', 'cookie'] }),
    );
    expect(out.headers).not.toContain('Set-Cookie');
    const data = JSON.parse(out.records[0].data).data;
    expect(data.ipAddress).toBeNull();
    expect(data.networkUserId).toBe('00000000-0000-0000-0000-000000000000');
    expect(data.headers).toEqual({ 'accept-language': 'de' });
  });

  test('a cookie value that is not a UUID is replaced by a new id', () => {
    const out = handleEvent(get('e=pv', { cookie: 'sp=<script>' }), ctx());
    expect(JSON.parse(out.records[0].data).data.networkUserId).toBe(ID);
  });

  test('do-not-track cookie: 200 and nothing recorded, no cookie set', () => {
    const c = ctx({ doNotTrackCookie: { name: 'optout', value: '1|yes' } });
    const out = handleEvent(get('e=pv', { cookie: 'optout=yes' }), c);
    expect(out.status).toBe(200);
    expect(out.records).toEqual([]);
    expect(out.headers).not.toContain('Set-Cookie');
    expect(handleEvent(get('e=pv', { cookie: 'optout=no' }), c).records).toHaveLength(1);
  });

  test('HEAD and parameterless GETs are answered with the pixel but record nothing', () => {
    expect(handleEvent(get('e=pv', {}, { method: 'HEAD' }), ctx()).records).toEqual([]);
    const out = handleEvent(get(''), ctx());
    expect(out.status).toBe(200);
    expect(out.records).toEqual([]);
  });
});
