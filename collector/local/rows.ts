/**
 * What the inspection API says about rows: a summary of each good row (event type, schema, entity columns) and bad
 * row (type, readable messages), and the filters of `/micro/good` and `/micro/bad`. Pure functions over plain data.
 */
import { columnForSchemaKey } from '../../pipeline/columns';
import type { BadRowJson, Row } from './udf';

export interface GoodEvent {
  /** `event` column: page_view, page_ping, struct, unstruct, ... */
  readonly eventType: string | null;
  /** Event name (`event_name`): page_view, link_click, button_click, ... */
  readonly eventName: string | null;
  /** Iglu URI of the event (`event_vendor`/`event_name`/`event_format`/`event_version`). */
  readonly schema: string | null;
  /** Entity columns that hold data (`contexts_<vendor>_<name>_<major>`). */
  readonly contexts: readonly string[];
  /** The row exactly as it would be loaded into BigQuery. */
  readonly event: Row;
}

export interface BadEvent {
  /** Failure type: schema_violations, tracker_protocol_violations, size_violation, ... */
  readonly type: string;
  /** Where it failed (`waymark-enrich`, `waymark-collector`). */
  readonly processor: string | null;
  /** One readable line per failure message. */
  readonly errors: readonly string[];
  /** The bad row exactly as the dead-letter table gets it. */
  readonly badRow: BadRowJson;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export function summarizeGood(row: Row): GoodEvent {
  const vendor = str(row.event_vendor);
  const name = str(row.event_name);
  const format = str(row.event_format);
  const version = str(row.event_version);
  const contexts = Object.keys(row)
    .filter((k) => k.startsWith('contexts_') && Array.isArray(row[k]) && (row[k] as unknown[]).length > 0)
    .sort();
  return {
    eventType: str(row.event),
    eventName: name,
    schema: vendor && name && format && version ? `iglu:${vendor}/${name}/${format}/${version}` : null,
    contexts,
    event: row,
  };
}

/** One failure message as a line of text (schema problems name the schema, path and keyword). */
export function messageText(m: unknown): string {
  if (typeof m === 'string') return m;
  if (m === null || typeof m !== 'object') return String(m);
  const o = m as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof o.schemaKey === 'string') parts.push(o.schemaKey);
  if (typeof o.field === 'string') parts.push(`field ${o.field}`);
  if (typeof o.path === 'string') parts.push(`at ${o.path}`);
  if (typeof o.keyword === 'string') parts.push(`(${o.keyword})`);
  const head = parts.join(' ');
  let tail = typeof o.message === 'string' ? o.message : '';
  if (typeof o.expectation === 'string') {
    const value = o.value === undefined || o.value === null ? '' : `: got ${JSON.stringify(o.value)}`;
    tail = tail ? `${tail}; expected ${o.expectation}${value}` : `expected ${o.expectation}${value}`;
  }
  if (!head && !tail) return JSON.stringify(m);
  return head && tail ? `${head}: ${tail}` : head || tail;
}

export function summarizeBad(badRow: BadRowJson): BadEvent {
  const data = badRow.data ?? ({} as BadRowJson['data']);
  const messages = data.failure && Array.isArray(data.failure.messages) ? data.failure.messages : [];
  return {
    type: typeof data.type === 'string' ? data.type : 'unknown',
    processor: data.processor && typeof data.processor.artifact === 'string' ? data.processor.artifact : null,
    errors: messages.map(messageText),
    badRow,
  };
}

export interface GoodFilter {
  /** Matches the `event` column (page_view, struct, unstruct…) or the event name (link_click, button_click…). */
  readonly eventType?: string;
  /** An Iglu URI (`iglu:com.acme/checkout_started/jsonschema/1-0-0`), or without version (`…/checkout_started`). */
  readonly schema?: string;
  /** Entities the event must carry: Iglu URIs or column names (`contexts_com_snowplowanalytics_snowplow_web_page_1`). */
  readonly contexts?: readonly string[];
  /** Newest first; at most this many. */
  readonly limit?: number;
}

export interface BadFilter {
  /** Failure type (schema_violations, tracker_protocol_violations, size_violation…). */
  readonly type?: string;
  readonly limit?: number;
}

export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterError';
  }
}

/** The contexts column for a filter value, or throws FilterError. */
export function contextColumn(value: string): string {
  if (/^contexts_[a-z0-9_]+_\d+$/.test(value)) return value;
  const column = columnForSchemaKey('contexts', value);
  if (column === null) {
    throw new FilterError(`contexts: ${JSON.stringify(value)} is neither an Iglu URI (iglu:vendor/name/jsonschema/1-0-0) nor a column name (contexts_vendor_name_1)`);
  }
  return column;
}

/** Whether an Iglu URI matches a filter: the same URI, or vendor/name without the version. */
export function schemaMatches(filter: string, schema: string | null): boolean {
  if (schema === null) return false;
  if (filter === schema) return true;
  // Without a version: vendor/name (with or without the format).
  const base = filter.replace(/\/$/, '');
  return /^iglu:[^/]+\/[^/]+(\/jsonschema)?$/.test(base) && (schema.startsWith(`${base}/`));
}

export function matchesGood(e: GoodEvent, f: GoodFilter, columns: readonly string[] = (f.contexts ?? []).map(contextColumn)): boolean {
  if (f.eventType !== undefined && e.eventType !== f.eventType && e.eventName !== f.eventType) return false;
  if (f.schema !== undefined && !schemaMatches(f.schema, e.schema)) return false;
  for (const c of columns) if (!e.contexts.includes(c)) return false;
  return true;
}

export function matchesBad(e: BadEvent, f: BadFilter): boolean {
  return f.type === undefined || e.type === f.type;
}

const GOOD_KEYS = new Set(['event_type', 'schema', 'contexts', 'limit']);
const BAD_KEYS = new Set(['type', 'limit']);

function parseLimit(raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1) throw new FilterError(`limit must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

function parseString(key: string, raw: unknown): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string') throw new FilterError(`${key} must be a string, got ${JSON.stringify(raw)}`);
  return raw.trim();
}

function checkKeys(keys: Iterable<string>, known: ReadonlySet<string>): void {
  for (const k of keys) {
    if (!known.has(k)) throw new FilterError(`unknown filter ${JSON.stringify(k)}; known filters: ${[...known].join(', ')}`);
  }
}

/**
 * Filters from a query string (`event_type=page_view&contexts=a&contexts=b&limit=5`, commas also separate contexts)
 * or a JSON body (`{"event_type": …, "schema": …, "contexts": […], "limit": …}`, like Snowplow Micro).
 */
export function parseGoodFilter(input: URLSearchParams | Record<string, unknown>): GoodFilter {
  if (input instanceof URLSearchParams) {
    checkKeys(input.keys(), GOOD_KEYS);
    const contexts = input.getAll('contexts').flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
    const f: GoodFilter = { eventType: parseString('event_type', input.get('event_type') ?? undefined), schema: parseString('schema', input.get('schema') ?? undefined), contexts, limit: parseLimit(input.get('limit') ?? undefined) };
    contexts.forEach(contextColumn);
    return f;
  }
  checkKeys(Object.keys(input), GOOD_KEYS);
  const raw = input.contexts;
  let contexts: string[] = [];
  if (raw !== undefined && raw !== null) {
    if (typeof raw === 'string') contexts = [raw];
    else if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) contexts = raw as string[];
    else throw new FilterError('contexts must be a string or a list of strings');
  }
  contexts.forEach(contextColumn);
  return { eventType: parseString('event_type', input.event_type), schema: parseString('schema', input.schema), contexts, limit: parseLimit(input.limit) };
}

export function parseBadFilter(input: URLSearchParams | Record<string, unknown>): BadFilter {
  if (input instanceof URLSearchParams) {
    checkKeys(input.keys(), BAD_KEYS);
    return { type: parseString('type', input.get('type') ?? undefined), limit: parseLimit(input.get('limit') ?? undefined) };
  }
  checkKeys(Object.keys(input), BAD_KEYS);
  return { type: parseString('type', input.type), limit: parseLimit(input.limit) };
}
