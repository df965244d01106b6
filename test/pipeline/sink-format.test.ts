/**
 * The row format per sink (pipeline/sink-format.ts). The Dataflow form is the enricher's own JSON; the BigQuery
 * subscription form must fit the events table the WarehouseSink creates, in the Storage Write API representation of
 * each column (https://cloud.google.com/bigquery/docs/supported-data-types: TIMESTAMP an int64 of microseconds since
 * the epoch, DATE an int32 of days since the epoch within -719162..2932896, JSON a string; the "Use table schema" rules
 * of https://cloud.google.com/pubsub/docs/create-bigquery-subscription: a JSON column's value must be valid JSON in an
 * escaped string; https://cloud.google.com/pubsub/docs/bigquery-troubleshooting: an empty string for a NULLABLE JSON
 * column is an error; all read 2026-12-02), checked column by column against the table schema generated from the same
 * registry.
 */
import { DEAD_LETTER_FIELDS, eventsTableFields, BigQueryField } from '../../lib/private/bigquery-schema';
import { loadRegistry } from '../../pipeline/registry/load';
import { createSinkFormat, dateDays, deadLetterRow, timestampMicros, timestampMicrosText } from '../../pipeline/sink-format';
import { parseRfc3339 } from '../../pipeline/time';
import { buildUdfConfig } from '../../pipeline/udf-config';
import type { ColumnShapes } from '../../pipeline/warehouse';
import { EXAMPLE_SCHEMAS_DIR } from '../helpers/bundles';
import { CORPUS_NOW, loadCorpus } from './helpers/corpus';
import { testEnricher, testRegistry } from './helpers/enricher';

const NOW = CORPUS_NOW;
const corpus = loadCorpus().map((c) => ({ name: c.name, input: c.message }));
const shapes = (buildUdfConfig(undefined, testRegistry().schemas) as { shapes: ColumnShapes }).shapes;
const table = eventsTableFields(loadRegistry([EXAMPLE_SCHEMAS_DIR])).fields;
const enricher = testEnricher(NOW);
const text = (input: unknown): string => (typeof input === 'string' ? input : JSON.stringify(input));

/** Problems of `value` against BigQuery `fields` in Storage Write API form; [] when it fits exactly. */
function fit(value: Record<string, unknown>, fields: readonly BigQueryField[], at = '$'): string[] {
  const out: string[] = [];
  const byName = new Map(fields.map((f) => [f.name, f]));
  for (const [k, v] of Object.entries(value)) {
    const f = byName.get(k);
    if (!f) {
      out.push(`${at}.${k}: not in the table`);
      continue;
    }
    const items = f.mode === 'REPEATED' ? (Array.isArray(v) ? v : (out.push(`${at}.${k}: REPEATED needs an array`), [])) : [v];
    items.forEach((item, i) => {
      const p = f.mode === 'REPEATED' ? `${at}.${k}[${i}]` : `${at}.${k}`;
      const ok: Record<string, () => boolean> = {
        // BigQuery's TIMESTAMP range, 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z, in µs; an integer that is a
        // double (beyond 2^53 the writer only emits values a double holds exactly).
        TIMESTAMP: () => Number.isInteger(item) && (item as number) >= -62135596800 * 1e6 && (item as number) < 253402300800 * 1e6,
        DATE: () => Number.isSafeInteger(item),
        NUMERIC: () => typeof item === 'string' && /^-?\d{1,29}(\.\d{1,9})?$/.test(item),
        INTEGER: () => Number.isSafeInteger(item),
        FLOAT: () => typeof item === 'number' && Number.isFinite(item),
        BOOLEAN: () => typeof item === 'boolean',
        STRING: () => typeof item === 'string',
        BYTES: () => typeof item === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(item),
        JSON: () => typeof item === 'string' && (() => { try { JSON.parse(item); return true; } catch { return false; } })(),
        RECORD: () => item !== null && typeof item === 'object' && !Array.isArray(item),
      };
      if (item === null) out.push(`${p}: null`);
      else if (!ok[f.type]()) out.push(`${p}: ${JSON.stringify(item)} is not a ${f.type} in Storage Write API form`);
      else if (f.type === 'RECORD') out.push(...fit(item as Record<string, unknown>, f.fields ?? [], p));
    });
  }
  for (const f of fields) if (f.mode === 'REQUIRED' && !(f.name in value)) out.push(`${at}.${f.name}: REQUIRED but missing`);
  return out;
}

describe('dataflow form', () => {
  const format = createSinkFormat('dataflow', shapes);
  test.each(corpus.map((c) => [c.name, c.input] as const))('%s: exactly the JSON the UDF returns (or the bad row it throws)', (_name, input) => {
    const result = enricher.enrich(text(input));
    const json = enricher.enrichToJson(text(input));
    if (result.row) expect(format.formatRow(result.row)).toEqual({ text: json.json });
    else expect(format.formatBadRow(result.badRow, { data: text(input) }, NOW)).toBe(JSON.stringify(json.badRow));
  });
});

describe('bigquery-subscription form: fits the events table exactly', () => {
  const format = createSinkFormat('bigquery-subscription', shapes);
  const good = corpus.filter((c) => enricher.enrich(text(c.input)).row !== undefined);

  test('the corpus has good rows with TIMESTAMP, NUMERIC, RECORD and REPEATED RECORD columns', () => {
    const columns = new Set(good.flatMap((c) => Object.keys(enricher.enrich(text(c.input)).row!)));
    for (const c of ['collector_tstamp', 'tr_total', 'unstruct_event_io_waymark_example_button_click_1', 'contexts_io_waymark_example_product_1']) expect(columns.has(c)).toBe(true);
  });

  test.each(good.map((c) => [c.name, c.input] as const))('%s', (_name, input) => {
    const row = enricher.enrich(text(input)).row!;
    const formatted = format.formatRow(row);
    expect(formatted.refused).toBeUndefined();
    const written = JSON.parse(formatted.text!) as Record<string, unknown>;
    expect(fit(written, table)).toEqual([]);
    // Same columns, same instants: nothing lost on the way.
    expect(Object.keys(written).sort()).toEqual(Object.keys(row).filter((k) => row[k] !== null).sort());
    expect(written.collector_tstamp).toBe(Date.parse(row.collector_tstamp as string) * 1000);
    if (row.tr_total !== undefined) expect(written.tr_total).toBe(row.tr_total);
  });

  test('the fit check itself fails on the Dataflow form (RFC 3339 strings are not TIMESTAMP micros)', () => {
    const row = enricher.enrich(text(good[0].input)).row!;
    expect(fit(row, table).join('\n')).toMatch(/collector_tstamp: .* is not a TIMESTAMP/);
  });
});

describe('bigquery-subscription form: the conversions', () => {
  test('TIMESTAMP: microseconds since the epoch, sub-millisecond digits and offsets kept', () => {
    expect(timestampMicros('2024-05-01T12:34:56.789Z')).toBe(1714566896789000);
    expect(timestampMicros('2024-05-01T12:34:56.789123Z')).toBe(1714566896789123);
    expect(timestampMicros('2024-05-01T14:34:56.7891+02:00')).toBe(1714566896789100);
    expect(timestampMicros('2024-05-01T12:34:56Z')).toBe(1714566896000000);
    expect(timestampMicros('2024-05-01')).toBeNull();
    expect(timestampMicros('yesterday')).toBeNull();
  });

  // BigQuery's TIMESTAMP range: 0001-01-01 00:00:00 to 9999-12-31 23:59:59.999999 UTC
  // (https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#timestamp_type, read 2026-12-02).
  const MIN_MICROS = -62135596800000000n;
  const MAX_MICROS = 253402300799999999n;
  /** RFC 3339 text of `micros` (a BigInt) from the engine's calendar (setUTCFullYear: years 0-99 are not 19xx). */
  const rfc3339 = (micros: bigint): string => {
    const seconds = micros >= 0n ? micros / 1000000n : -((-micros + 999999n) / 1000000n);
    const d = new Date(0);
    d.setUTCFullYear(1970, 0, 1);
    d.setUTCSeconds(Number(seconds)); // whole seconds: exact in a Date's ms
    const pad = (n: number, w: number): string => String(n).padStart(w, '0');
    return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(Number(micros - seconds * 1000000n), 6)}Z`;
  };

  test('TIMESTAMP: the whole BigQuery range, exact to the microsecond (digits assembled as text, checked with BigInt)', () => {
    expect(timestampMicrosText('0001-01-01T00:00:00Z')).toBe(String(MIN_MICROS));
    expect(timestampMicrosText('9999-12-31T23:59:59.999999Z')).toBe(String(MAX_MICROS));
    expect(timestampMicrosText('1969-12-31T23:59:59.5Z')).toBe('-500000');
    expect(timestampMicrosText('1969-12-31T23:59:59.999999Z')).toBe('-1');
    expect(timestampMicrosText('1969-12-31T23:59:59Z')).toBe('-1000000');
    expect(timestampMicrosText('1970-01-01T00:00:00.000001Z')).toBe('1');
    expect(timestampMicrosText('1600-01-01T00:00:00.5Z')).toBe('-11676095999500000');
    // An offset can move a year-0000 or year-10000-side text into the range, and out of it.
    expect(timestampMicrosText('0000-12-31T23:00:00-01:00')).toBe(String(MIN_MICROS));
    expect(timestampMicrosText('0000-12-31T23:59:59.999999Z')).toBeNull();
    expect(timestampMicrosText('0001-01-01T00:30:00+01:00')).toBeNull();
    expect(timestampMicrosText('9999-12-31T23:59:59.999999-00:01')).toBeNull();
    expect(timestampMicrosText('1900-02-29T00:00:00Z')).toBeNull();
    expect(timestampMicrosText('1600-02-29T00:00:00Z')).toBe(String(BigInt(Date.UTC(1600, 1, 29)) * 1000n));
    // Spread over the range: every sample agrees with the calendar, negative fractions included.
    const span = MAX_MICROS - MIN_MICROS;
    for (let i = 0n; i <= 4000n; i++) {
      const micros = MIN_MICROS + (span * i) / 4000n + ((i * 7919n) % 1000000n) - (i === 4000n ? 1000000n : 0n);
      expect([rfc3339(micros), timestampMicrosText(rfc3339(micros))]).toEqual([rfc3339(micros), String(micros)]);
    }
  });

  test('TIMESTAMP: the same value as before for everything parseRfc3339 reads (1970 on, within 2^53 µs)', () => {
    for (const v of ['2024-05-01T12:34:56.789Z', '2024-05-01T12:34:56.789123456Z', '2024-05-01 14:34:56.7+02:00', '1970-01-01T00:00:00Z', '2016-12-31T23:59:60.5Z', '2255-06-05T23:47:34.740991Z']) {
      const ms = parseRfc3339(v)!;
      const sub = /\.(\d+)/.exec(v.substring(17));
      expect([v, timestampMicros(v)]).toEqual([v, ms * 1000 + (sub && sub[1].length > 3 ? +(sub[1] + '000').substring(3, 6) : 0)]);
      expect(timestampMicrosText(v)).toBe(String(timestampMicros(v)));
    }
  });

  test('DATE: days since the epoch; impossible dates refused', () => {
    expect(dateDays('1970-01-02')).toBe(1);
    expect(dateDays('2024-05-01')).toBe(19844);
    expect(dateDays('2024-02-29')).toBe(19782);
    expect(dateDays('2023-02-30')).toBeNull();
    expect(dateDays('2023-02-29')).toBeNull();
    expect(dateDays('1900-02-29')).toBeNull();
    expect(dateDays('2024-13-01')).toBeNull();
    expect(dateDays('2024-5-1')).toBeNull();
  });

  test('DATE: BigQuery\'s range is -719162 (0001-01-01) to 2932896 (9999-12-31) days; every day agrees with the calendar', () => {
    expect(dateDays('0001-01-01')).toBe(-719162);
    expect(dateDays('9999-12-31')).toBe(2932896);
    // Date.UTC would read years 0-99 as 1900-1999; a Date with setUTCFullYear does not.
    const calendar = (days: number): string => {
      const d = new Date(0);
      d.setUTCFullYear(1970, 0, 1 + days);
      return `${String(d.getUTCFullYear()).padStart(4, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
    };
    for (let days = -719162; days <= 2932896; days += 997) expect([days, dateDays(calendar(days))]).toEqual([days, days]);
    expect(calendar(-719162)).toBe('0001-01-01');
    expect(calendar(2932896)).toBe('9999-12-31');
  });

  const custom: ColumnShapes = {
    'com.acme/order/1': [
      { name: 'placed_at', source: 'placedAt', type: 'TIMESTAMP', mode: 'NULLABLE' },
      { name: 'ship_on', source: 'shipOn', type: 'DATE', mode: 'NULLABLE' },
      { name: 'extra', source: 'extra', type: 'JSON', mode: 'NULLABLE' },
      { name: 'tags', source: 'tags', type: 'STRING', mode: 'REPEATED' },
      { name: 'lines', source: 'lines', type: 'RECORD', mode: 'REPEATED', fields: [{ name: 'at', source: 'at', type: 'TIMESTAMP', mode: 'NULLABLE' }, { name: 'qty', source: 'qty', type: 'INTEGER', mode: 'NULLABLE' }] },
    ],
    'com.acme/blob/1': 'JSON',
  };
  const format = createSinkFormat('bigquery-subscription', custom);
  const base = { event_id: 'e1', collector_tstamp: '2024-05-01T12:00:00.000Z' };

  test('RECORD and REPEATED RECORD: nested TIMESTAMP and DATE converted, JSON kept as text, null elements dropped', () => {
    const out = format.formatRow({
      ...base,
      tr_total: '12.50',
      unstruct_event_com_acme_order_1: { placed_at: '2024-05-01T12:00:00.5Z', ship_on: '2024-05-03', extra: '{"a":[1,2]}', tags: ['x', null, 'y'], lines: [{ at: '2024-05-01T12:00:01Z', qty: 2 }, null] },
      contexts_com_acme_order_1: [{ placed_at: '1970-01-01T00:00:00Z' }],
      unstruct_event_com_acme_blob_1: '{"free":"form"}',
    });
    expect(JSON.parse(out.text!)).toEqual({
      event_id: 'e1',
      collector_tstamp: 1714564800000000,
      tr_total: '12.50',
      unstruct_event_com_acme_order_1: { placed_at: 1714564800500000, ship_on: 19846, extra: '{"a":[1,2]}', tags: ['x', 'y'], lines: [{ at: 1714564801000000, qty: 2 }] },
      contexts_com_acme_order_1: [{ placed_at: 0 }],
      unstruct_event_com_acme_blob_1: '{"free":"form"}',
    });
  });

  test('TIMESTAMP before 1970 and up to 9999: written as exact µs; a value a JSON number cannot carry is refused, not rounded', () => {
    const row = { ...base, unstruct_event_com_acme_order_1: { placed_at: '1969-07-20T20:17:40.123456Z', lines: [{ at: '0001-01-01T00:00:00Z' }, { at: '9999-12-31T23:59:59Z' }] }, contexts_com_acme_order_1: [{ placed_at: '1600-01-01T00:00:00.5Z' }] };
    const out = format.formatRow(row);
    expect(out.refused).toBeUndefined();
    // The digits in the message text itself (JSON.parse would go through a double).
    expect(out.text).toContain('"placed_at":-14182939876544');
    expect(out.text).toContain('"lines":[{"at":-62135596800000000},{"at":253402300799000000}]');
    expect(out.text).toContain('"contexts_com_acme_order_1":[{"placed_at":-11676095999500000}]');
    expect(JSON.parse(out.text!).unstruct_event_com_acme_order_1.placed_at).toBe(Date.UTC(1969, 6, 20, 20, 17, 40) * 1000 + 123456);
    // 253402300799999999 is not a double (the nearest is 253402300800000000): refused with the exact value.
    const far = format.formatRow({ ...base, unstruct_event_com_acme_order_1: { placed_at: '9999-12-31T23:59:59.999999Z' } });
    expect(far.text).toBeUndefined();
    expect(far.refused).toMatch(/^unstruct_event_com_acme_order_1\.placed_at: is 253402300799999999 µs since the epoch, which a JSON number cannot carry exactly/);
    expect(format.formatRow({ ...base, unstruct_event_com_acme_order_1: { placed_at: '0000-12-31T23:59:59Z' } }).refused).toMatch(/placed_at: is not an RFC 3339 timestamp within BigQuery's range 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z/);
    // The Dataflow form is the row's own JSON, pre-1970 strings and all (the template takes RFC 3339 text).
    expect(createSinkFormat('dataflow', custom).formatRow(row)).toEqual({ text: JSON.stringify(row) });
  });

  test('STRING columns: exactly the text JSON.stringify writes (quotes, backslashes, control characters, surrogates, U+2028)', () => {
    const pieces = ['a', 'é', '"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u2028', '😀', '\ud83d', '\ude00', '/', '<', ' '];
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648);
    for (let i = 0; i < 2000; i++) {
      let v = '';
      for (let n = next() % 12; n > 0; n--) v += pieces[next() % pieces.length];
      const out = format.formatRow({ ...base, page_title: v });
      expect([v, out.text]).toEqual([v, `{"event_id":"e1","collector_tstamp":1714564800000000,"page_title":${JSON.stringify(v)}}`]);
    }
  });

  test.each([
    [{ no_such_column: 1 }, /no_such_column: is not a column of the events table/],
    [{ unstruct_event_com_acme_order_1: { surprise: 1 } }, /unstruct_event_com_acme_order_1\.surprise: is not a field of the table/],
    [{ unstruct_event_com_acme_order_1: { placed_at: 'last tuesday' } }, /unstruct_event_com_acme_order_1\.placed_at: is not an RFC 3339 timestamp/],
    [{ unstruct_event_com_acme_order_1: { lines: [{ at: '2024-13-01T00:00:00Z' }] } }, /lines\[0\]\.at: is not an RFC 3339/],
    [{ tr_total: 12.5 }, /tr_total: is not a NUMERIC decimal/],
    [{ tr_total: '123456789012345678901234567890.1' }, /tr_total: is not a NUMERIC decimal/],
    [{ contexts_com_acme_order_1: { placed_at: '2024-05-01T00:00:00Z' } }, /contexts_com_acme_order_1: is REPEATED but not an array/],
    [{ unstruct_event_com_acme_order_1: { lines: [{ qty: 2 ** 60 }] } }, /qty: is not an integer/],
    // DATE outside 0001-01-01..9999-12-31 (the Storage Write API's -719162..2932896 days)
    [{ unstruct_event_com_acme_order_1: { ship_on: '0000-12-31' } }, /ship_on: is outside BigQuery's DATE range 0001-01-01 to 9999-12-31/],
    [{ unstruct_event_com_acme_order_1: { ship_on: 19846 } }, /ship_on: is not a YYYY-MM-DD date/],
    // JSON columns: valid JSON text in a string; an empty string is an error for BigQuery (bigquery-troubleshooting)
    [{ unstruct_event_com_acme_order_1: { extra: '' } }, /unstruct_event_com_acme_order_1\.extra: is a JSON column but the value is an empty string/],
    [{ unstruct_event_com_acme_order_1: { extra: '{"a":' } }, /extra: is a JSON column but the value is not valid JSON text: "\{\\"a\\":"/],
    [{ unstruct_event_com_acme_blob_1: 'free text' }, /unstruct_event_com_acme_blob_1: is a JSON column but the value is not valid JSON text/],
    [{ unstruct_event_com_acme_blob_1: '' }, /unstruct_event_com_acme_blob_1: is a JSON column but the value is an empty string/],
  ])('refuses %j with the reason', (extra, reason) => {
    const out = format.formatRow({ ...base, ...extra });
    expect(out.text).toBeUndefined();
    expect(out.refused).toMatch(reason);
  });

  test('JSON columns: an object is serialised, JSON text kept as it is; DATE at both ends of the range written', () => {
    const out = format.formatRow({
      ...base,
      unstruct_event_com_acme_order_1: { extra: { a: [1, 'x'], b: null }, ship_on: '0001-01-01' },
      contexts_com_acme_order_1: [{ extra: '"just a string"', ship_on: '9999-12-31' }, { extra: ' [1, 2] ' }],
      unstruct_event_com_acme_blob_1: { free: 'form' },
    });
    expect(out.refused).toBeUndefined();
    expect(JSON.parse(out.text!)).toMatchObject({
      unstruct_event_com_acme_order_1: { extra: '{"a":[1,"x"],"b":null}', ship_on: -719162 },
      contexts_com_acme_order_1: [{ extra: '"just a string"', ship_on: 2932896 }, { extra: ' [1, 2] ' }],
      unstruct_event_com_acme_blob_1: '{"free":"form"}',
    });
  });

  test('a bad row becomes a row of the dead-letter table (the Dataflow template\'s columns), in Write API types', () => {
    const source = { data: '{"not":"an event"} é', attributes: { b: '2', a: '1' } };
    const row = deadLetterRow('{"schema":"iglu:io.waymark/bad_row/jsonschema/1-0-0"}', source, NOW);
    expect(fit(row, DEAD_LETTER_FIELDS)).toEqual([]);
    expect(Object.keys(row).sort()).toEqual(DEAD_LETTER_FIELDS.map((f) => f.name).filter((n) => n !== 'stacktrace').sort());
    expect(row).toMatchObject({ timestamp: NOW * 1000, payloadString: source.data, errorMessage: '{"schema":"iglu:io.waymark/bad_row/jsonschema/1-0-0"}', attributes: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }] });
    expect(Buffer.from(row.payloadBytes as string, 'base64').toString('utf8')).toBe(source.data);
    expect(JSON.parse(format.formatBadRow({ x: 1 }, source, NOW))).toMatchObject({ errorMessage: '{"x":1}' });
  });

  test('an unknown sink is an error naming the known ones', () => {
    expect(() => createSinkFormat('bigtable' as never)).toThrow(/known: dataflow, bigquery-subscription/);
  });
});
