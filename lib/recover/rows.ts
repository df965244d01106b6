/**
 * The recovery tool's pure core: bad rows in any of the shapes they are found in, turned into one record each
 * (failure type, schema keys, failure time, the original message and its attributes, a stable id), and the selection
 * by failure type, schema and time range.
 *
 * Shapes read:
 * - a row of the `bad_rows_parsed` view (lib/private/bad-rows-view.ts), e.g. from `bq query --format=json`;
 * - a row of the Dataflow dead-letter table itself (`timestamp`, `payloadString`, `attributes`, `errorMessage`): the
 *   bad-row JSON is the text of errorMessage from its first `{` to its last `}` (Nashorn wraps the thrown message as
 *   `Error: <bad-row JSON> in <eval> at line number N at column number M`);
 * - a bad row itself (`iglu:io.waymark/bad_row/...`), as local mode writes it to bad.jsonl: its payload is the message.
 */
import { createHash } from 'node:crypto';

export const BAD_ROW_SCHEMA_PREFIX = 'iglu:io.waymark/bad_row/';

export interface BadRowRecord {
  /** sha256 of the original message: the same message always has the same id, wherever it was read from. */
  readonly id: string;
  readonly failureType: string;
  /** The schema keys named by the failure messages (`iglu:vendor/name/jsonschema/M-R-A`). */
  readonly schemaKeys: readonly string[];
  /** ISO time of the failure (the bad row's, else the dead-letter row's); null when unknown. */
  readonly failureTime: string | null;
  /** The original message text to republish; null when it cannot be recovered (cut when it was huge). */
  readonly payload: string | null;
  /** Attributes of the original Pub/Sub message, when known. */
  readonly attributes: Readonly<Record<string, string>>;
  /** Why the payload is null. */
  readonly unrecoverable?: string;
}

interface BadRowLike {
  schema?: unknown;
  data?: { type?: unknown; failure?: { timestamp?: unknown; messages?: unknown }; payload?: unknown };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The bad-row JSON inside a dead-letter errorMessage: the text from its first `{` to its last `}`, parsed. */
export function badRowFromErrorMessage(errorMessage: string): BadRowLike | null {
  const first = errorMessage.indexOf('{');
  const last = errorMessage.lastIndexOf('}');
  if (first === -1 || last < first) return null;
  try {
    const parsed = JSON.parse(errorMessage.slice(first, last + 1)) as unknown;
    return isObject(parsed) && typeof parsed.schema === 'string' && parsed.schema.startsWith(BAD_ROW_SCHEMA_PREFIX) ? (parsed as BadRowLike) : null;
  } catch {
    return null;
  }
}

export function payloadId(payload: string): string {
  return createHash('sha256').update(payload, 'utf8').digest('hex');
}

/**
 * A time as BigQuery and its CLI print it (`2024-05-01 12:00:00.123 UTC`, ISO 8601, or seconds since the epoch, the
 * REST API's TIMESTAMP form) → ISO 8601; null when it is none of these.
 */
export function parseTime(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'number' || (typeof value === 'string' && /^-?\d+(\.\d+)?(E\d+)?$/i.test(value))) {
    const ms = Number(value) * 1000;
    return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
  }
  if (typeof value !== 'string') return null;
  const text = value.trim().replace(/ UTC$/, 'Z').replace(/^(\d{4}-\d{2}-\d{2}) /, '$1T');
  const withZone = /[zZ]|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text}Z`;
  const ms = Date.parse(withZone);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function schemaKeysOf(messages: unknown): string[] {
  const keys: string[] = [];
  if (!Array.isArray(messages)) return keys;
  for (const m of messages) {
    const key = isObject(m) ? m.schemaKey : undefined;
    if (typeof key === 'string' && !keys.includes(key)) keys.push(key);
  }
  return keys;
}

/** The original message of a bad row's payload: a parsed JSON message is written back as JSON; a cut one is lost. */
function payloadText(payload: unknown): { payload: string | null; unrecoverable?: string } {
  if (typeof payload === 'string') return { payload };
  if (isObject(payload) && payload.truncated === true) return { payload: null, unrecoverable: `the bad row keeps only the first part of a ${String(payload.rawChars)}-character message: replay it from the dead-letter table's payloadString` };
  if (payload === undefined) return { payload: null, unrecoverable: 'the bad row has no payload' };
  return { payload: JSON.stringify(payload) };
}

function attributesOf(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const list = typeof value === 'string' ? safeParse(value) : value;
  if (Array.isArray(list)) {
    for (const a of list) if (isObject(a) && typeof a.key === 'string' && typeof a.value === 'string') out[a.key] = a.value;
  } else if (isObject(list)) {
    for (const [k, v] of Object.entries(list)) if (typeof v === 'string') out[k] = v;
  }
  return out;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function stringList(value: unknown): string[] {
  const list = typeof value === 'string' ? safeParse(value) : value;
  return Array.isArray(list) ? list.filter((v): v is string => typeof v === 'string') : [];
}

function record(payload: { payload: string | null; unrecoverable?: string }, failureType: string, schemaKeys: string[], failureTime: string | null, attributes: Record<string, string>): BadRowRecord {
  return {
    id: payload.payload !== null ? payloadId(payload.payload) : payloadId(`unrecoverable:${failureType}:${failureTime}:${schemaKeys.join(',')}`),
    failureType,
    schemaKeys,
    failureTime,
    payload: payload.payload,
    attributes,
    ...(payload.unrecoverable ? { unrecoverable: payload.unrecoverable } : {}),
  };
}

/** One row of any supported shape → a record; throws with the reason when the row is none of them. */
export function recordFromRow(row: unknown): BadRowRecord {
  if (!isObject(row)) throw new Error('is not a JSON object');
  // A row of the bad_rows_parsed view.
  if ('failure_type' in row && 'original_payload' in row) {
    const original = typeof row.original_payload === 'string' ? { payload: row.original_payload } : { payload: null, unrecoverable: 'original_payload is empty' };
    const badRow = typeof row.bad_row === 'string' ? (safeParse(row.bad_row) as BadRowLike | undefined) : isObject(row.bad_row) ? (row.bad_row as BadRowLike) : undefined;
    const keys = stringList(row.schema_keys);
    return record(original, String(row.failure_type), keys.length ? keys : schemaKeysOf(badRow?.data?.failure?.messages), parseTime(row.failure_tstamp) ?? parseTime(row.dead_letter_tstamp), attributesOf(row.original_attributes));
  }
  // A row of the dead-letter table.
  if ('payloadString' in row || 'errorMessage' in row) {
    const badRow = typeof row.errorMessage === 'string' ? badRowFromErrorMessage(row.errorMessage) : null;
    const original = typeof row.payloadString === 'string' ? { payload: row.payloadString } : badRow ? payloadText(badRow.data?.payload) : { payload: null, unrecoverable: 'the row has no payloadString' };
    const type = badRow && typeof badRow.data?.type === 'string' ? badRow.data.type : 'template_error';
    return record(original, type, schemaKeysOf(badRow?.data?.failure?.messages), parseTime(badRow?.data?.failure?.timestamp) ?? parseTime(row.timestamp), attributesOf(row.attributes));
  }
  // A bad row itself.
  if (typeof row.schema === 'string' && row.schema.startsWith(BAD_ROW_SCHEMA_PREFIX) && isObject(row.data)) {
    const b = row as BadRowLike;
    return record(payloadText(b.data?.payload), String(b.data?.type), schemaKeysOf(b.data?.failure?.messages), parseTime(b.data?.failure?.timestamp), {});
  }
  throw new Error('is neither a bad_rows_parsed row, a dead-letter row nor a bad row');
}

/**
 * Rows from a file's text: a JSON array (what `bq query --format=json` writes), or JSON lines (bad.jsonl). A row that
 * is none of the known shapes is reported, never silently dropped.
 */
export function recordsFromText(text: string, source: string): { records: BadRowRecord[]; problems: string[] } {
  const trimmed = text.trim();
  const problems: string[] = [];
  let rows: Array<{ row: unknown; where: string }>;
  if (trimmed.startsWith('[')) {
    const all = safeParse(trimmed);
    if (!Array.isArray(all)) return { records: [], problems: [`${source}: not a JSON array (a \`bq query --format=json\` result) nor JSON lines`] };
    rows = all.map((row, i) => ({ row, where: `${source} row ${i + 1}` }));
  } else {
    rows = [];
    trimmed.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      const row = safeParse(line);
      if (row === undefined) problems.push(`${source} line ${i + 1}: not JSON`);
      else rows.push({ row, where: `${source} line ${i + 1}` });
    });
  }
  const records: BadRowRecord[] = [];
  for (const { row, where } of rows) {
    try {
      records.push(recordFromRow(row));
    } catch (e) {
      problems.push(`${where}: ${(e as Error).message}`);
    }
  }
  return { records, problems };
}

export interface Selection {
  /** Failure types to keep (any of them). @default all */
  readonly types?: readonly string[];
  /**
   * Schemas to keep: a record is kept when one of its schema keys starts with one of these (so
   * `iglu:com.acme/checkout/` selects every version of that schema). @default all
   */
  readonly schemas?: readonly string[];
  /** Keep failures at or after this ISO time. */
  readonly from?: string;
  /** Keep failures before this ISO time. */
  readonly to?: string;
}

export function selectRecords(records: readonly BadRowRecord[], s: Selection): BadRowRecord[] {
  const from = s.from !== undefined ? Date.parse(s.from) : undefined;
  const to = s.to !== undefined ? Date.parse(s.to) : undefined;
  return records.filter((r) => {
    if (s.types && s.types.length > 0 && !s.types.includes(r.failureType)) return false;
    if (s.schemas && s.schemas.length > 0 && !r.schemaKeys.some((k) => s.schemas!.some((p) => k.startsWith(p)))) return false;
    if (from !== undefined || to !== undefined) {
      if (r.failureTime === null) return false;
      const t = Date.parse(r.failureTime);
      if (from !== undefined && t < from) return false;
      if (to !== undefined && t >= to) return false;
    }
    return true;
  });
}

/** One record per id (the same message failing twice is replayed once), first occurrence kept. */
export function uniqueRecords(records: readonly BadRowRecord[]): BadRowRecord[] {
  const seen = new Set<string>();
  return records.filter((r) => (seen.has(r.id) ? false : (seen.add(r.id), true)));
}
