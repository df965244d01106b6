/**
 * `/micro/events` and `/micro/timeline`: the summary of every kept row (good or bad) that the events page shows
 * (app id, user, session, event, schema, failure type), and the filters over it, parsed from a query string (what
 * the page's shareable URLs carry) or from a JSON body shaped like Snowplow Micro's `/micro/events` request
 * (`page`, `pageSize`, `filters: [{column, value}]`, `validEvents`, `timeRange: {start, end}`; see
 * https://docs.snowplow.io/docs/api-reference/snowplow-micro/api/). Pure functions over plain data.
 */
import type { DecodedPayload } from './payload';
import { eventTypeOf, unstructSchemaOf } from './payload';
import { BadEvent, FilterError, GoodEvent, schemaMatches } from './rows';

/** What the list shows of a row, for good and bad rows alike (bad rows: read from the original payload). */
export interface EventFields {
  readonly valid: boolean;
  /** `event` column (page_view, struct, unstruct, …); for a bad row, what its `e` parameter stands for. */
  readonly eventType: string | null;
  readonly eventName: string | null;
  /** The event's Iglu URI; for a bad row the self-describing event's schema, or the schema its failure names. */
  readonly schema: string | null;
  readonly appId: string | null;
  readonly userId: string | null;
  readonly domainUserId: string | null;
  readonly networkUserId: string | null;
  readonly sessionId: string | null;
  readonly sessionIndex: number | null;
  readonly eventId: string | null;
  readonly pageUrl: string | null;
  readonly platform: string | null;
  /** Bad rows only: schema_violations, tracker_protocol_violations, … */
  readonly failureType: string | null;
}

const s = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const n = (v: unknown): number | null => (typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : null);

export function goodFields(g: GoodEvent): EventFields {
  const r = g.event;
  return {
    valid: true,
    eventType: g.eventType,
    eventName: g.eventName,
    schema: g.schema,
    appId: s(r.app_id),
    userId: s(r.user_id),
    domainUserId: s(r.domain_userid),
    networkUserId: s(r.network_userid),
    sessionId: s(r.domain_sessionid),
    sessionIndex: n(r.domain_sessionidx),
    eventId: s(r.event_id),
    pageUrl: s(r.page_url),
    platform: s(r.platform),
    failureType: null,
  };
}

export function badFields(b: BadEvent, payload: DecodedPayload | null): EventFields {
  const p = payload?.parameters ?? {};
  const eventType = eventTypeOf(p.e);
  let schema = payload ? unstructSchemaOf(payload.decoded) : null;
  if (schema === null) {
    const messages = b.badRow.data?.failure?.messages ?? [];
    for (const m of messages) {
      const key = m !== null && typeof m === 'object' ? (m as { schemaKey?: unknown }).schemaKey : undefined;
      if (typeof key === 'string') {
        schema = key;
        break;
      }
    }
  }
  const name = schema !== null ? (/^iglu:[^/]+\/([^/]+)\//.exec(schema)?.[1] ?? null) : eventType;
  const request = payload?.request ?? {};
  return {
    valid: false,
    eventType,
    eventName: eventType === 'unstruct' ? name : eventType === 'struct' ? 'event' : eventType,
    schema,
    appId: s(p.aid),
    userId: s(p.uid),
    domainUserId: s(p.duid),
    networkUserId: s(p.nuid) ?? s(p.tnuid) ?? s(request.networkUserId),
    sessionId: s(p.sid),
    sessionIndex: n(p.vid),
    eventId: s(p.eid),
    pageUrl: s(p.url),
    platform: s(p.p),
    failureType: b.type,
  };
}

export interface ColumnFilter {
  readonly column: string;
  /** Case-insensitive substring (as Snowplow Micro's in-memory filters). */
  readonly value: string;
}

export interface EventQuery {
  /** true: good rows only; false: bad rows only. */
  readonly valid?: boolean;
  /** Any of these: the event column or the event name. */
  readonly eventTypes?: readonly string[];
  readonly appIds?: readonly string[];
  /** Any of these Iglu URIs (with or without version). */
  readonly schemas?: readonly string[];
  /** Any of these failure types (only bad rows match). */
  readonly failureTypes?: readonly string[];
  /** user_id, domain_userid or network_userid, exactly. */
  readonly userId?: string;
  /** domain_sessionid, exactly. */
  readonly sessionId?: string;
  /** Free text: every word (or "quoted phrase") must occur in the decoded event (row, bad row, tracker payload), case-insensitive. */
  readonly q?: string;
  /** Received at or after (ms since the epoch). */
  readonly start?: number;
  /** Received before (ms since the epoch). */
  readonly end?: number;
  readonly columns?: readonly ColumnFilter[];
  /** `newest` (default) or `oldest` first. */
  readonly order?: 'newest' | 'oldest';
  /** 1-based. */
  readonly page: number;
  readonly pageSize: number;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

/** A row as the query sees it. */
export interface Queryable {
  readonly receivedMs: number;
  readonly fields: EventFields;
  /** The row's columns (good) or the payload's parameters (bad), for column filters. */
  column(name: string): unknown;
  /** Lower-case text of the decoded event, for `q`. */
  text(): string;
}

/** The terms of a free-text search: "quoted phrases" and words, lower-case. */
export function searchTerms(q: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(q); m !== null; m = re.exec(q)) {
    const t = (m[1] ?? m[2]).toLowerCase();
    if (t !== '') out.push(t);
  }
  return out;
}

export function matchesQuery(e: Queryable, f: Omit<EventQuery, 'page' | 'pageSize'>): boolean {
  const x = e.fields;
  if (f.valid !== undefined && x.valid !== f.valid) return false;
  if (f.start !== undefined && e.receivedMs < f.start) return false;
  if (f.end !== undefined && e.receivedMs >= f.end) return false;
  if (f.eventTypes && f.eventTypes.length > 0 && !f.eventTypes.some((t) => t === x.eventType || t === x.eventName)) return false;
  if (f.appIds && f.appIds.length > 0 && !f.appIds.some((a) => a === x.appId)) return false;
  if (f.schemas && f.schemas.length > 0 && !f.schemas.some((sc) => schemaMatches(sc, x.schema))) return false;
  if (f.failureTypes && f.failureTypes.length > 0 && !f.failureTypes.some((t) => t === x.failureType)) return false;
  if (f.userId !== undefined && f.userId !== x.userId && f.userId !== x.domainUserId && f.userId !== x.networkUserId) return false;
  if (f.sessionId !== undefined && f.sessionId !== x.sessionId) return false;
  if (f.columns) {
    for (const c of f.columns) {
      const v = e.column(c.column);
      if (v === undefined || v === null) return false;
      const text = typeof v === 'string' ? v : JSON.stringify(v);
      if (!text.toLowerCase().includes(c.value.toLowerCase())) return false;
    }
  }
  if (f.q !== undefined) {
    const text = e.text();
    for (const term of searchTerms(f.q)) if (!text.includes(term)) return false;
  }
  return true;
}

// ---- parsing ----

const QUERY_KEYS = ['validEvents', 'event_type', 'app_id', 'schema', 'failure_type', 'user_id', 'session_id', 'q', 'start', 'end', 'order', 'page', 'pageSize'];
const BODY_KEYS = [...QUERY_KEYS, 'filters', 'timeRange', 'sorting'];
/** Keys of /micro/timeline: the filters without paging, plus the bucket width. */
const TIMELINE_KEYS = [...QUERY_KEYS.filter((k) => k !== 'page' && k !== 'pageSize' && k !== 'order'), 'interval'];

function unknownKeys(keys: Iterable<string>, known: readonly string[]): void {
  for (const k of keys) {
    if (!known.includes(k)) throw new FilterError(`unknown filter ${JSON.stringify(k)}; known filters: ${known.join(', ')}`);
  }
}

function intIn(key: string, raw: unknown, min: number, max: number, dflt: number): number {
  if (raw === undefined || raw === null || raw === '') return dflt;
  const v = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(v) || v < min || v > max) throw new FilterError(`${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return v;
}

function time(key: string, raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  // ISO 8601 with a date and a time and a zone (Z or ±hh:mm), or milliseconds since the epoch.
  if (typeof raw === 'number' && Number.isFinite(raw)) return raw;
  if (typeof raw === 'string') {
    const t = raw.trim();
    if (/^\d{10,14}$/.test(t)) return Number(t);
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(t)) {
      const ms = Date.parse(t);
      if (!Number.isNaN(ms)) return ms;
    }
  }
  throw new FilterError(`${key} must be an ISO 8601 time with a zone (2026-01-01T10:00:00Z) or milliseconds since 1970, got ${JSON.stringify(raw)}`);
}

function bool(key: string, raw: unknown): boolean | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new FilterError(`${key} must be true (good rows only) or false (bad rows only), got ${JSON.stringify(raw)}`);
}

function text(key: string, raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string') throw new FilterError(`${key} must be a string, got ${JSON.stringify(raw)}`);
  const t = raw.trim();
  return t === '' ? undefined : t;
}

/** A list filter: repeated, comma-separated, or (JSON) an array of strings. */
function list(key: string, raw: unknown): string[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  const items = Array.isArray(raw) ? raw : [raw];
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') throw new FilterError(`${key} must be a string or a list of strings, got ${JSON.stringify(raw)}`);
    for (const v of item.split(',')) if (v.trim() !== '') out.push(v.trim());
  }
  return out.length > 0 ? out : undefined;
}

function schemaList(raw: unknown): string[] | undefined {
  const v = list('schema', raw);
  for (const sc of v ?? []) {
    if (!/^iglu:[^/\s]+\/[^/\s]+(\/jsonschema(\/\d+-\d+-\d+)?)?\/?$/.test(sc)) {
      throw new FilterError(`schema must be an Iglu URI (iglu:vendor/name/jsonschema/1-0-0, or iglu:vendor/name for every version), got ${JSON.stringify(sc)}`);
    }
  }
  return v;
}

function order(raw: unknown): 'newest' | 'oldest' | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (raw === 'newest' || raw === 'oldest') return raw;
  throw new FilterError(`order must be newest or oldest, got ${JSON.stringify(raw)}`);
}

type Raw = (key: string) => unknown;

function fromRaw(get: Raw): EventQuery {
  const start = time('start', get('start'));
  const end = time('end', get('end'));
  if (start !== undefined && end !== undefined && end <= start) throw new FilterError(`end must be after start (start ${new Date(start).toISOString()}, end ${new Date(end).toISOString()})`);
  return {
    valid: bool('validEvents', get('validEvents')),
    eventTypes: list('event_type', get('event_type')),
    appIds: list('app_id', get('app_id')),
    schemas: schemaList(get('schema')),
    failureTypes: list('failure_type', get('failure_type')),
    userId: text('user_id', get('user_id')),
    sessionId: text('session_id', get('session_id')),
    q: text('q', get('q')),
    start,
    end,
    order: order(get('order')),
    page: intIn('page', get('page'), 1, 1_000_000, 1),
    pageSize: intIn('pageSize', get('pageSize'), 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE),
  };
}

function fromParams(p: URLSearchParams, known: readonly string[]): EventQuery {
  unknownKeys(p.keys(), known);
  return fromRaw((k) => {
    const all = p.getAll(k);
    if (all.length === 0) return undefined;
    return ['event_type', 'app_id', 'schema', 'failure_type'].includes(k) ? all : all[all.length - 1];
  });
}

function fromBody(b: Record<string, unknown>): EventQuery {
  unknownKeys(Object.keys(b), BODY_KEYS);
  if (b.sorting !== undefined && b.sorting !== null) throw new FilterError('sorting is not supported: events are sorted by arrival (order: "newest" or "oldest")');
  let start: unknown = b.start;
  let end: unknown = b.end;
  if (b.timeRange !== undefined && b.timeRange !== null) {
    const tr = b.timeRange as Record<string, unknown>;
    if (typeof tr !== 'object' || Array.isArray(tr)) throw new FilterError('timeRange must be an object {"start": ISO 8601 or null, "end": ISO 8601 or null}');
    for (const k of Object.keys(tr)) if (k !== 'start' && k !== 'end') throw new FilterError(`timeRange.${k} is not a field of timeRange (start, end)`);
    start = tr.start ?? start;
    end = tr.end ?? end;
  }
  const base = fromRaw((k) => (k === 'start' ? start : k === 'end' ? end : b[k]));
  let columns: ColumnFilter[] | undefined;
  if (b.filters !== undefined && b.filters !== null) {
    if (!Array.isArray(b.filters)) throw new FilterError('filters must be a list of {"column": …, "value": …}');
    columns = b.filters.map((f: unknown, i: number) => {
      const o = f as Record<string, unknown>;
      if (o === null || typeof o !== 'object' || typeof o.column !== 'string' || !/^[a-z][a-z0-9_]*$/.test(o.column) || typeof o.value !== 'string') {
        throw new FilterError(`filters[${i}] must be {"column": "<column name, e.g. app_id>", "value": "<text>"}, got ${JSON.stringify(f)}`);
      }
      return { column: o.column, value: o.value };
    });
  }
  return { ...base, columns };
}

/** The query of `/micro/events` from a query string or a JSON body; throws FilterError naming the field at fault. */
export function parseEventQuery(input: URLSearchParams | Record<string, unknown>): EventQuery {
  return input instanceof URLSearchParams ? fromParams(input, QUERY_KEYS) : fromBody(input);
}

export interface TimelineQuery {
  readonly filter: Omit<EventQuery, 'page' | 'pageSize'>;
  /** Bucket width in seconds. */
  readonly interval: number;
}

export function parseTimelineQuery(input: URLSearchParams | Record<string, unknown>): TimelineQuery {
  let interval: unknown;
  let filter: EventQuery;
  if (input instanceof URLSearchParams) {
    unknownKeys(input.keys(), TIMELINE_KEYS);
    interval = input.get('interval') ?? undefined;
    const rest = new URLSearchParams(input);
    rest.delete('interval');
    filter = fromParams(rest, QUERY_KEYS);
  } else {
    const { interval: iv, ...rest } = input;
    interval = iv;
    unknownKeys(Object.keys(rest), BODY_KEYS.filter((k) => k !== 'page' && k !== 'pageSize' && k !== 'order'));
    filter = fromBody(rest);
  }
  const { page: _page, pageSize: _pageSize, ...f } = filter;
  void _page;
  void _pageSize;
  return { filter: f, interval: intIn('interval', interval, 1, 3600, 1) };
}
