/**
 * Bad rows: `iglu:io.waymark/bad_row/jsonschema/1-0-0` (the same envelope the collector uses). Every event that
 * can't become a good row becomes one of these, with what was wrong and the original payload for replay.
 */
import { ENRICH_ARTIFACT, ENRICH_VERSION } from './version';

export const BAD_ROW_SCHEMA = 'iglu:io.waymark/bad_row/jsonschema/1-0-0';

export type FailureType =
  | 'collector_payload_format_violation'
  | 'adapter_failures'
  | 'tracker_protocol_violations'
  | 'schema_violations'
  | 'enrichment_failures'
  | 'size_violation'
  | 'generic_error';

/**
 * One failure message. Protocol and adapter problems carry field/value/expectation; schema problems carry
 * schemaKey/path/keyword/message (plus `field`, the parameter the data came from, and `index` for entities).
 */
export interface FailureMessage {
  readonly field?: string;
  readonly value?: string | null;
  readonly expectation?: string;
  readonly schemaKey?: string;
  readonly path?: string;
  readonly keyword?: string;
  readonly message?: string;
  /** Position of the entity in `co`/`cx` (schema violations of entities). */
  readonly index?: number;
  /** The enrichment that failed (enrichment failures). */
  readonly enrichment?: string;
}

export interface BadRow {
  readonly schema: typeof BAD_ROW_SCHEMA;
  readonly data: {
    readonly type: FailureType;
    readonly processor: { readonly artifact: string; readonly version: string };
    readonly failure: { readonly timestamp: string; readonly messages: readonly FailureMessage[] };
    /** The original input: the parsed JSON message when it parsed, else the raw text (truncated when huge). */
    readonly payload: unknown;
  };
}

/** Longest raw text kept in a bad row's payload (the dead-letter table also keeps the full message). */
export const MAX_RAW_PAYLOAD_CHARS = 100000;

export function badRow(type: FailureType, messages: readonly FailureMessage[], timestamp: string, payload: unknown): BadRow {
  return {
    schema: BAD_ROW_SCHEMA,
    data: {
      type: type,
      processor: { artifact: ENRICH_ARTIFACT, version: ENRICH_VERSION },
      failure: { timestamp: timestamp, messages: messages.length > 0 ? messages : [{ message: 'no details' }] },
      payload: payload,
    },
  };
}

/** Raw text for a payload, cut to {@link MAX_RAW_PAYLOAD_CHARS} with a note of the original size. */
export function rawPayload(raw: string): unknown {
  if (raw.length <= MAX_RAW_PAYLOAD_CHARS) return raw;
  return { raw: raw.substring(0, MAX_RAW_PAYLOAD_CHARS), rawChars: raw.length, truncated: true };
}
