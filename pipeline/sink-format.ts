/**
 * The one place that decides how a row is written for the sink that loads it into BigQuery. The enrichment makes one
 * row (pipeline/enrich.ts); two sinks take it:
 *
 * - `dataflow`: the `PubSub_to_BigQuery_Flex` template (StreamingEnricher). The UDF returns the row as JSON text and
 *   the template turns it into a TableRow: TIMESTAMP as an RFC 3339 string, NUMERIC as a decimal string, JSON columns as
 *   JSON text, RECORD as an object, REPEATED as an array. The text is the enricher's own `JSON.stringify(row)`.
 * - `bigquery-subscription`: a Pub/Sub BigQuery subscription with `use_table_schema` (ServerlessEnricher). Pub/Sub
 *   writes each JSON message through the BigQuery Storage Write API, matching message fields to table columns by name.
 *   Google's rules, read 2026-12-02:
 *   - https://cloud.google.com/pubsub/docs/create-bigquery-subscription ("Use table schema", page last updated
 *     2026-04-08): a JSON string or number maps to NUMERIC, BIGNUMERIC, DATE, TIME, DATETIME and TIMESTAMP; "When
 *     using number to DATE, DATETIME, TIME, or TIMESTAMP conversions, the number must adhere to the supported
 *     representations"; NUMERIC as a number is limited to IEEE 754 doubles (use a string for precision); a JSON
 *     column's value must be valid JSON in an escaped string; without "Drop unknown fields", messages with extra
 *     fields are not written and stay in the backlog unless the subscription has a dead-letter topic.
 *   - https://cloud.google.com/bigquery/docs/supported-data-types (the Storage Write API's representations): DATE an
 *     int32 of days since the Unix epoch (-719162 to 2932896, i.e. 0001-01-01 to 9999-12-31), TIMESTAMP an int64 of
 *     microseconds since the epoch, JSON a string.
 *   - https://cloud.google.com/pubsub/docs/bigquery-troubleshooting: a message that cannot be written goes to the
 *     dead-letter topic with the reason in its `CloudPubSubDeadLetterSourceDeliveryErrorMessage` attribute; an empty
 *     string for a NULLABLE JSON column is an error; a subscription in an error state (table missing, permission
 *     denied, schema mismatch) does not dead-letter: its messages stay in the backlog (PipelineMonitoring alerts).
 *   - corroborating the above in code: googleapis/java-bigquerystorage JsonToProtoMessage.java (nulls skipped, a DATE
 *     number is days, a TIMESTAMP number microseconds, an unknown field throws).
 *   So the row is written in those representations exactly:
 *   - TIMESTAMP → an integer, microseconds since the Unix epoch, over BigQuery's whole TIMESTAMP range (0001-01-01 to
 *     9999-12-31 23:59:59.999999 UTC; https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types,
 *     read 2026-12-02), so a pre-1970 date-time loads as it does on the Dataflow path. String forms are parsed by the
 *     server with rules of its own (googleapis/java-bigquerystorage#1515, #1579 and #1604 show string timestamps
 *     refused or read as milliseconds; the Storage Write API lists int64, int32, uint32 and google.protobuf.Timestamp
 *     for TIMESTAMP, no string), so no string is left to interpretation. That range is about ±2.5e17 µs, beyond
 *     2^53, and the page says numbers pass through IEEE 754 doubles (for NUMERIC), so a value is written only when a
 *     double holds it exactly and prints as its own digits: every microsecond within ±2^53 µs (1684-09 to 2255-06),
 *     beyond that whole seconds and the other values that are doubles; the rest is refused with the exact value in
 *     the reason (a bad row), never rounded;
 *   - DATE → an integer, days since the Unix epoch, within -719162..2932896;
 *   - NUMERIC → a decimal string (at most 29 integer and 9 fraction digits: NUMERIC's range), never a JSON number,
 *     which would pass through a double;
 *   - JSON → a string holding valid JSON text; an empty string or text that is not JSON is refused here (BigQuery
 *     would refuse the message), an object or other value is serialised;
 *   - RECORD → an object whose keys are the record's fields, REPEATED → an array with no null element (BigQuery
 *     refuses nulls in arrays), REPEATED RECORD → an array of such objects;
 *   - a field the table does not have: refused here (we set no `drop_unknown_fields`, so nothing is dropped silently).
 *   A row that cannot be put in these types (a TIMESTAMP string that is not RFC 3339, a number or date out of range,
 *   JSON text that does not parse) is not published as a good row: {@link SinkFormat.formatRow} says why and the
 *   service makes it a bad row.
 *
 * Bad rows of the serverless path go to the dead-letter table the Dataflow template writes (timestamp, payloadString,
 * payloadBytes, attributes, errorMessage, stacktrace; lib/private/bigquery-schema.ts DEAD_LETTER_FIELDS), so both paths
 * fill the same table the same way: the original message, and the bad-row JSON as `errorMessage`.
 *
 * Engine-neutral code (no Node APIs) like the rest of pipeline/, although only the Node service uses the subscription form.
 */
import { ATOMIC_COLUMN_NAMES, atomicColumnType, selfDescribingColumnName } from './columns';
import { hasOwn, isArray, isObject, keys } from './es5';
import { parseRfc3339 } from './time';
import type { ColumnShape, ColumnShapes, ShapeField } from './warehouse';

export type RowSink = 'dataflow' | 'bigquery-subscription';

export const ROW_SINKS: readonly RowSink[] = ['dataflow', 'bigquery-subscription'];

/** The original Pub/Sub message a bad row is about. */
export interface SourceMessage {
  /** The message data as text (UTF-8). */
  readonly data: string;
  readonly attributes?: Readonly<Record<string, string>>;
}

export type FormattedRow = { readonly text: string; readonly refused?: undefined } | { readonly text?: undefined; readonly refused: string };

export interface SinkFormat {
  readonly sink: RowSink;
  /** The message text for a good row, or why the sink cannot take it. */
  formatRow(row: Record<string, unknown>): FormattedRow;
  /** The message text for a bad row (the enrichment's bad-row object) about `source`, at `nowMs`. */
  formatBadRow(badRow: unknown, source: SourceMessage, nowMs: number): string;
}

const NUMERIC_TEXT = /^-?[0-9]{1,29}(\.[0-9]{1,9})?$/;
const FRACTION = /\.(\d+)/;
const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;
/** Largest integer a JSON number carries exactly (INTEGER columns are INT64; larger values would be rounded). */
const MAX_EXACT = 9007199254740991;

/** BigQuery's TIMESTAMP range in seconds since the epoch: 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z (plus 999999 µs). */
const MIN_TIMESTAMP_SECONDS = -62135596800;
const MAX_TIMESTAMP_SECONDS = 253402300799;
/** The grammar pipeline/time.ts `parseRfc3339` accepts (fractions to nanoseconds, `Z` or an offset), for any year. */
const RFC3339_ANY_YEAR = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):?(\d{2}))$/;
const SIX_ZEROS = '000000';

/**
 * The exact microseconds since the epoch of an RFC 3339 timestamp anywhere in BigQuery's TIMESTAMP range
 * (https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#timestamp_type: 0001-01-01 00:00:00 to
 * 9999-12-31 23:59:59.999999 UTC; digits below the microsecond truncated, a leap second read as :59 like
 * `parseRfc3339`), as decimal digits: a double cannot hold every microsecond of that range (it is about ±2.5e17 µs,
 * beyond 2^53), so the value is assembled as text; null when the text is not such a timestamp or out of range.
 * pipeline/time.ts `parseRfc3339` stays as it is (1970 on, ms): it serves the enrichment's own columns.
 */
export function timestampMicrosText(value: string): string | null {
  const m = RFC3339_ANY_YEAR.exec(value);
  if (!m) return null;
  const days = dateDays(m[1] + '-' + m[2] + '-' + m[3]);
  const hour = +m[4];
  const minute = +m[5];
  const second = +m[6];
  if (days === null || hour > 23 || minute > 59 || second > 60) return null;
  let seconds = days * 86400 + hour * 3600 + minute * 60 + (second === 60 ? 59 : second);
  if (m[8]) {
    const offset = (+m[9] * 60 + +m[10]) * 60;
    seconds = m[8] === '+' ? seconds - offset : seconds + offset;
  }
  if (seconds < MIN_TIMESTAMP_SECONDS || seconds > MAX_TIMESTAMP_SECONDS) return null;
  const micro = m[7] ? +(m[7] + '00000').substring(0, 6) : 0;
  // Integers: seconds within ±2.6e11, so each part is exact; the sign is carried by the seconds.
  if (seconds >= 0) return seconds === 0 ? String(micro) : String(seconds) + (SIX_ZEROS + micro).slice(-6);
  if (micro === 0) return String(seconds) + SIX_ZEROS;
  const whole = -seconds - 1;
  return '-' + (whole === 0 ? String(1000000 - micro) : String(whole) + (SIX_ZEROS + (1000000 - micro)).slice(-6));
}

/**
 * Microseconds since the epoch of an RFC 3339 timestamp in BigQuery's range, as a number when a JSON number carries it
 * exactly (always within ±2^53 µs, about 1684-09 to 2255-06; beyond, the values that are doubles and print as their
 * own digits, e.g. any whole second), else the exact digits as a string (which {@link SinkFormat.formatRow} refuses,
 * see `convert`); null when not a timestamp BigQuery can store.
 */
export function timestampMicrosExact(value: string): number | string | null {
  const ms = parseRfc3339(value); // the fast path for the canonical form of 1970 and later
  if (ms !== null) {
    // Sub-millisecond digits: none fit in 24 characters (19 of date and time, the dot, the zone), the canonical form.
    const f = value.length <= 24 ? null : FRACTION.exec(value.substring(17));
    const micros = ms * 1000 + (f && f[1].length > 3 ? +(f[1] + '000').substring(3, 6) : 0);
    if (micros <= MAX_EXACT) return micros;
  }
  const text = timestampMicrosText(value);
  if (text === null) return null;
  const n = +text;
  return String(n) === text ? n : text;
}

/** Microseconds since the epoch of an RFC 3339 timestamp when a JSON number carries them exactly, or null. */
export function timestampMicros(value: string): number | null {
  const micros = timestampMicrosExact(value);
  return typeof micros === 'number' ? micros : null;
}

/** BigQuery's DATE range in days since the epoch: 0001-01-01 and 9999-12-31 (supported-data-types, Storage Write API). */
export const MIN_DATE_DAYS = -719162;
export const MAX_DATE_DAYS = 2932896;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days since 1970-01-01 of a proleptic Gregorian date (any year, no Date object: Date.UTC maps years 0-99 to 19xx). */
function civilDays(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

/** Days since the epoch of a `YYYY-MM-DD` calendar date (year 0000 included: the range is checked apart), or null. */
export function dateDays(value: string): number | null {
  const m = DATE_TEXT.exec(value);
  if (!m) return null;
  const y = +m[1];
  const month = +m[2];
  const day = +m[3];
  if (month < 1 || month > 12 || day < 1) return null;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (day > (month === 2 && leap ? 29 : MONTH_DAYS[month - 1])) return null;
  return civilDays(y, month, day);
}

function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

class Refusal {
  constructor(readonly reason: string) {}
}

function refuse(path: string, reason: string): never {
  throw new Refusal(path + ': ' + reason);
}

/** One value converted to the Storage Write API form of its BigQuery type. */
function convert(value: unknown, type: string, fields: readonly ShapeField[] | undefined, path: string): unknown {
  switch (type) {
    case 'TIMESTAMP': {
      if (typeof value !== 'string') refuse(path, 'a TIMESTAMP must come as an RFC 3339 string, got ' + typeof value);
      const micros = timestampMicrosExact(value);
      if (micros === null) refuse(path, 'is not an RFC 3339 timestamp within BigQuery\'s range 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z: ' + JSON.stringify(value.substring(0, 64)));
      if (typeof micros === 'string') {
        refuse(path, 'is ' + micros + ' µs since the epoch, which a JSON number cannot carry exactly (beyond ±2^53 µs, 1684 to 2255, ' +
          'not every microsecond is a double) and the subscription documents no exact text form for TIMESTAMP: ' + JSON.stringify(value.substring(0, 64)));
      }
      return micros;
    }
    case 'DATE': {
      const days = typeof value === 'string' ? dateDays(value) : null;
      if (days === null) refuse(path, 'is not a YYYY-MM-DD date: ' + JSON.stringify(String(value).substring(0, 64)));
      if (days < MIN_DATE_DAYS || days > MAX_DATE_DAYS) refuse(path, 'is outside BigQuery\'s DATE range 0001-01-01 to 9999-12-31: ' + JSON.stringify(value));
      return days;
    }
    case 'NUMERIC':
      if (typeof value !== 'string' || !NUMERIC_TEXT.test(value)) refuse(path, 'is not a NUMERIC decimal (at most 29 integer and 9 fraction digits): ' + JSON.stringify(String(value).substring(0, 64)));
      return value;
    case 'INTEGER':
      if (typeof value !== 'number' || Math.floor(value) !== value || Math.abs(value) > MAX_EXACT) refuse(path, 'is not an integer a JSON number carries exactly');
      return value;
    case 'FLOAT':
      if (typeof value !== 'number' || !isFinite(value)) refuse(path, 'is not a finite number');
      return value;
    case 'BOOLEAN':
      if (typeof value !== 'boolean') refuse(path, 'is not a boolean');
      return value;
    case 'STRING':
      if (typeof value !== 'string') refuse(path, 'is not a string');
      return value;
    case 'JSON':
      // The enrichment writes JSON columns as JSON text already; an object here is serialised the same way. A string
      // must be JSON text: BigQuery refuses an empty one and anything that does not parse (module header).
      if (typeof value !== 'string') return JSON.stringify(value);
      if (value === '') refuse(path, 'is a JSON column but the value is an empty string (BigQuery refuses it)');
      if (!isJsonText(value)) refuse(path, 'is a JSON column but the value is not valid JSON text: ' + JSON.stringify(value.substring(0, 64)));
      return value;
    case 'RECORD':
      if (!isObject(value) || fields === undefined) refuse(path, 'is not an object');
      return convertRecord(value, fields, path);
  }
  return refuse(path, 'has the unsupported type ' + type);
}

function convertRecord(data: Record<string, unknown>, fields: readonly ShapeField[], path: string): Record<string, unknown> {
  const byName: { [name: string]: ShapeField } = {};
  for (let i = 0; i < fields.length; i++) byName[fields[i].name] = fields[i];
  const out: Record<string, unknown> = {};
  const names = keys(data);
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const v = data[name];
    if (v === null || v === undefined) continue;
    if (!hasOwn(byName, name)) refuse(path + '.' + name, 'is not a field of the table');
    const f = byName[name];
    out[name] = f.mode === 'REPEATED' ? convertList(v, f.type, f.fields, path + '.' + name) : convert(v, f.type, f.fields, path + '.' + name);
  }
  return out;
}

function convertList(value: unknown, type: string, fields: readonly ShapeField[] | undefined, path: string): unknown[] {
  if (!isArray(value)) refuse(path, 'is REPEATED but not an array');
  const out: unknown[] = [];
  for (let i = 0; i < value.length; i++) {
    if (value[i] === null || value[i] === undefined) continue; // BigQuery refuses null elements; the Dataflow form drops them too
    out.push(convert(value[i], type, fields, path + '[' + i + ']'));
  }
  return out;
}

/** Self-describing column name → its shape (a RECORD's fields or 'JSON') and whether it is REPEATED. */
function columnShapes(shapes: ColumnShapes | null | undefined): { [column: string]: { shape: ColumnShape; repeated: boolean } } {
  const out: { [column: string]: { shape: ColumnShape; repeated: boolean } } = {};
  if (!shapes) return out;
  const ids = keys(shapes);
  for (let i = 0; i < ids.length; i++) {
    const parts = ids[i].split('/');
    if (parts.length !== 3) continue;
    out[selfDescribingColumnName('unstruct_event', parts[0], parts[1], parts[2])] = { shape: shapes[ids[i]], repeated: false };
    out[selfDescribingColumnName('contexts', parts[0], parts[1], parts[2])] = { shape: shapes[ids[i]], repeated: true };
  }
  return out;
}

/** A character JSON.stringify writes escaped (any surrogate: it escapes lone ones, and the general path decides). */
// eslint-disable-next-line no-control-regex -- the control characters are what the test looks for
const JSON_ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** How one column of the events table is written: its `"name":` prefix and its type. */
interface ColumnPlan {
  readonly prefix: string;
  readonly type: string;
  readonly fields: readonly ShapeField[] | undefined;
  readonly repeated: boolean;
}

/** The plans of the atomic columns (and `load_tstamp`); the self-describing ones are added per format. */
function atomicPlans(): { [column: string]: ColumnPlan } {
  const out: { [column: string]: ColumnPlan } = {};
  for (let i = 0; i < ATOMIC_COLUMN_NAMES.length; i++) {
    const name = ATOMIC_COLUMN_NAMES[i];
    out[name] = { prefix: JSON.stringify(name) + ':', type: atomicColumnType(name) as string, fields: undefined, repeated: false };
  }
  if (!hasOwn(out, 'load_tstamp')) out.load_tstamp = { prefix: '"load_tstamp":', type: 'TIMESTAMP', fields: undefined, repeated: false };
  return out;
}

/**
 * The row as the message text, in the Storage Write API types of the events table (atomic columns + the registry's
 * shapes). Throws a Refusal. The text is assembled column by column (what `JSON.stringify` of the converted row
 * gives, the same keys in the same order) instead of building a second object of ~60 properties first: that object
 * was most of the cost of this form.
 */
function subscriptionText(row: Record<string, unknown>, plans: { [column: string]: ColumnPlan }): string {
  let text = '{';
  const names = keys(row);
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const v = row[name];
    if (v === null || v === undefined) continue;
    if (!hasOwn(plans, name)) refuse(name, 'is not a column of the events table');
    const plan = plans[name];
    let value: string;
    if (plan.repeated) value = JSON.stringify(convertList(v, plan.type, plan.fields, name));
    else if (plan.type === 'STRING') {
      if (typeof v !== 'string') refuse(name, 'is not a string');
      // What JSON.stringify gives: it escapes only quotes, backslashes, control characters and (lone) surrogates.
      value = JSON_ESCAPED.test(v) ? JSON.stringify(v) : '"' + v + '"';
    } else if (plan.type === 'TIMESTAMP') value = String(convert(v, 'TIMESTAMP', undefined, name)); // a number
    else value = JSON.stringify(convert(v, plan.type, plan.fields, name));
    text += (text.length === 1 ? '' : ',') + plan.prefix + value;
  }
  return text + '}';
}

function base64(text: string): string {
  // Node's Buffer where present (the service); the format is only used in Node.
  const B = (globalThis as unknown as { Buffer?: { from(s: string, e: string): { toString(e: string): string } } }).Buffer;
  if (!B) throw new Error('sink-format: BYTES need Buffer (Node)');
  return B.from(text, 'utf8').toString('base64');
}

/**
 * A row of the dead-letter table (DEAD_LETTER_FIELDS) for a BigQuery subscription: the fields the Dataflow template
 * writes for a failed message, in Storage Write API types (TIMESTAMP in µs, BYTES as base64, attributes as key/value
 * records).
 */
export function deadLetterRow(errorMessage: string, source: SourceMessage, nowMs: number): Record<string, unknown> {
  const attributes: Array<{ key: string; value: string }> = [];
  const attrs = source.attributes || {};
  const names = keys(attrs).sort();
  for (let i = 0; i < names.length; i++) attributes.push({ key: names[i], value: String(attrs[names[i]]) });
  return {
    timestamp: Math.floor(nowMs) * 1000,
    payloadString: source.data,
    payloadBytes: base64(source.data),
    attributes: attributes,
    errorMessage: errorMessage,
  };
}

/** The formatter for `sink`; `shapes` are the registry's column shapes (config.shapes), needed by the subscription form. */
export function createSinkFormat(sink: RowSink, shapes?: ColumnShapes | null): SinkFormat {
  if (sink === 'dataflow') {
    return {
      sink: sink,
      formatRow: (row) => ({ text: JSON.stringify(row) }),
      formatBadRow: (badRow) => JSON.stringify(badRow),
    };
  }
  if (sink !== 'bigquery-subscription') throw new Error('sink-format: unknown sink ' + JSON.stringify(sink) + ' (known: ' + ROW_SINKS.join(', ') + ')');
  const columns = columnShapes(shapes);
  const plans = atomicPlans();
  const names = keys(columns);
  for (let i = 0; i < names.length; i++) {
    const c = columns[names[i]];
    if (!hasOwn(plans, names[i])) plans[names[i]] = { prefix: JSON.stringify(names[i]) + ':', type: c.shape === 'JSON' ? 'JSON' : 'RECORD', fields: c.shape === 'JSON' ? undefined : c.shape, repeated: c.repeated };
  }
  return {
    sink: sink,
    formatRow(row) {
      try {
        return { text: subscriptionText(row, plans) };
      } catch (e) {
        if (e instanceof Refusal) return { refused: e.reason };
        throw e;
      }
    },
    formatBadRow: (badRow, source, nowMs) => JSON.stringify(deadLetterRow(JSON.stringify(badRow), source, nowMs)),
  };
}
