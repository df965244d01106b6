/**
 * What the collector emits (contract 2 in DESIGN.md): one self-describing CollectorPayload per event, and bad rows.
 * Pure data and builders; no I/O.
 */
import { COLLECTOR_ARTIFACT, COLLECTOR_ID, COLLECTOR_VERSION } from './version';

export const COLLECTOR_PAYLOAD_SCHEMA = 'iglu:io.waymark/collector_payload/jsonschema/1-0-1';
export const BAD_ROW_SCHEMA = 'iglu:io.waymark/bad_row/jsonschema/1-0-0';
/** Network user id of anonymous requests (`SP-Anonymous: *`). */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * The metadata of one event as the collector saw it, plus the event's tp2 parameters: the `data` of
 * iglu:io.waymark/collector_payload/jsonschema/1-0-1 (schemas/io.waymark/collector_payload). A POST event's
 * parameters are in `parameters`; a GET's stay in `querystring` as received, parsed by the enricher
 * (`queryParameters` in pipeline/adapters.ts).
 */
export interface CollectorPayloadData {
  /** Time the collector received the request, RFC 3339 UTC with milliseconds. */
  readonly timestamp: string;
  /** Collector name and version, e.g. `waymark-collector/0.1.0`. */
  readonly collector: string;
  /** Client IP (null for anonymous requests or when unknown). */
  readonly ipAddress: string | null;
  readonly userAgent: string | null;
  readonly refererUri: string | null;
  /** Allow-listed request headers, lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  /** Cookie-based network user id (UUID); the nil UUID for anonymous requests; null when cookies are off and none came. */
  readonly networkUserId: string | null;
  readonly contentType: string | null;
  readonly method: 'GET' | 'POST';
  /** Request path as received (a custom path stays custom). */
  readonly path: string;
  /** Raw query string, without `?`, when the request had one: a GET's carries the event's parameters. */
  readonly querystring?: string;
  readonly hostname: string | null;
  /**
   * A POST event's tp2 parameters, every value a string (absent for GETs: see `querystring`). In memory, names without
   * a value may be present as `undefined` (see `newParams` in http-parts.ts); the JSON text leaves them out.
   */
  readonly parameters?: Readonly<Record<string, string | undefined>>;
}

export interface CollectorPayload {
  readonly schema: typeof COLLECTOR_PAYLOAD_SCHEMA;
  readonly data: CollectorPayloadData;
}

export type BadRowType = 'size_violation' | 'collector_payload_format_violation';

export interface BadRowMessage {
  /** Where the problem is (`body`, `body.data[3]`, `url`). */
  readonly field: string;
  /** A short excerpt of the offending value (never more than 200 characters). */
  readonly value: string | null;
  /** What was expected, in words. */
  readonly expectation: string;
}

export interface BadRow {
  readonly schema: typeof BAD_ROW_SCHEMA;
  readonly data: {
    readonly type: BadRowType;
    readonly processor: { readonly artifact: string; readonly version: string };
    readonly failure: { readonly timestamp: string; readonly messages: readonly BadRowMessage[] };
    /** The request as received, truncated to badRowMaxPayloadBytes; enough to replay after a fix. */
    readonly payload: {
      readonly timestamp: string;
      readonly collector: string;
      readonly path: string;
      readonly method: string;
      readonly contentType: string | null;
      readonly hostname: string | null;
      /** Query string (without `?`), or the body for POST, as UTF-8 text, truncated. */
      readonly raw: string;
      /** Size of the raw text before truncation, in bytes (a lower bound when the body was cut off while reading). */
      readonly rawBytes: number;
      readonly truncated: boolean;
    };
  };
}

export function collectorPayload(data: CollectorPayloadData): CollectorPayload {
  return { schema: COLLECTOR_PAYLOAD_SCHEMA, data };
}

/** Keeps at most `maxBytes` of UTF-8 text, never splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): { text: string; bytes: number; truncated: boolean } {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= maxBytes) return { text, bytes, truncated: false };
  const buf = Buffer.from(text, 'utf8').subarray(0, maxBytes);
  // Drop a trailing partial character (continuation bytes 10xxxxxx and the lead byte before them).
  let end = buf.length;
  let i = end - 1;
  while (i >= 0 && (buf[i] & 0xc0) === 0x80) i--;
  if (i >= 0) {
    const lead = buf[i];
    const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (end - i < need) end = i;
  }
  return { text: buf.subarray(0, end).toString('utf8'), bytes, truncated: true };
}

export const excerpt = (value: string, max = 200): string => (value.length > max ? `${value.slice(0, max)}…` : value);

export interface BadRowInput {
  readonly type: BadRowType;
  readonly messages: readonly BadRowMessage[];
  readonly tstamp: string;
  readonly path: string;
  readonly method: string;
  readonly contentType: string | null;
  readonly hostname: string | null;
  /** The raw request content (the first bytes of it if it was cut off while reading). */
  readonly raw: string;
  /** Known full size in bytes when larger than `raw` (size violations). */
  readonly rawBytes?: number;
  /** `raw` is known to be cut off even if `rawBytes` does not say so (the rest never arrived). */
  readonly truncated?: boolean;
  readonly maxPayloadBytes: number;
}

export function badRow(input: BadRowInput): BadRow {
  const cut = truncateUtf8(input.raw, input.maxPayloadBytes);
  const rawBytes = Math.max(cut.bytes, input.rawBytes ?? 0);
  return {
    schema: BAD_ROW_SCHEMA,
    data: {
      type: input.type,
      processor: { artifact: COLLECTOR_ARTIFACT, version: COLLECTOR_VERSION },
      failure: { timestamp: input.tstamp, messages: input.messages },
      payload: {
        timestamp: input.tstamp,
        collector: COLLECTOR_ID,
        path: input.path,
        method: input.method,
        contentType: input.contentType,
        hostname: input.hostname,
        raw: cut.text,
        rawBytes,
        truncated: cut.truncated || rawBytes > cut.bytes || input.truncated === true,
      },
    },
  };
}
