/**
 * The event as it goes through the stages: one object per event, made once and filled in place (the row's values by
 * column index, what the protocol stage read, the checked self-describing data, what one enrichment leaves for the
 * next), so that the stages pass one reference instead of allocating results.
 */
import { FailureMessage, FailureType } from '../badrow';
import { ATOMIC_COLUMN_NAMES, SchemaKey } from '../columns';
import { preview } from '../es5';
import type { Campaign } from '../campaign';
import type { RefererClassification } from '../referer';
import type { ParsedUrl, UrlParseResult } from '../url';
import type { Validator } from '../validation/types';
import type { ColumnShape } from '../warehouse';
import type { RawEvent } from '../adapters';

/** Column name → index in the row's value array (atomic columns, table order). */
export const C: { [column: string]: number } = {};
for (let i = 0; i < ATOMIC_COLUMN_NAMES.length; i++) C[ATOMIC_COLUMN_NAMES[i]] = i;
export const N_COLUMNS = ATOMIC_COLUMN_NAMES.length;

/**
 * `n` undefined values, as a dense array: copied (`slice()`) for each event rather than made with `new Array(n)`,
 * whose holes Nashorn reads by looking the index up along the prototype chain (profiled in toJson, which reads all
 * 129 columns).
 */
export function undefinedArray(n: number): unknown[] {
  const a: unknown[] = [];
  for (let i = 0; i < n; i++) a.push(undefined);
  return a;
}
const NO_VALUES = undefinedArray(N_COLUMNS);

/** Outcome of one stage that failed: the bad row's failure type and messages. */
export interface StageFailure {
  type: FailureType;
  messages: FailureMessage[];
}

/** What the enricher needs to know about a schema key, worked out once per key (stages/schemas.ts). */
export interface SchemaInfo {
  readonly key: SchemaKey;
  /** Its column as the event (`unstruct_event_*`) and as an entity (`contexts_*`). */
  readonly eventColumn: string;
  readonly contextsColumn: string;
  /** The registry's validator; null when the schema is not in the registry. */
  readonly validator: Validator | null;
  /** The warehouse shape of its MODEL, if any. */
  readonly shape: ColumnShape | undefined;
}

export interface SelfDescribing {
  readonly info: SchemaInfo;
  readonly schemaKey: string;
  readonly data: unknown;
}

/** A URL parsed, as cached by its text: never changed once made, except for the memos of what derives from it. */
export interface UrlInfo {
  readonly parsed: UrlParseResult;
  /** The decoded query parameters (read only). */
  readonly pairs: Array<[string, string]>;
  /** Whether the URL text has nothing JSON escapes. */
  readonly clean: boolean;
  /** As a page URL: its campaign attribution; null until attributed. */
  campaign: Campaign | null;
  /** As a referrer: its classification, for pages on `clsPageHost`; null until classified. */
  cls: RefererClassification | null;
  clsPageHost: string | null;
}

/** The event type parameter's meaning. */
export interface EventType {
  readonly event: string;
  readonly name: string;
}

/** The text of a self-describing parameter and the parameter it came from. */
export interface SelfDescribingText {
  readonly text: string;
  readonly field: string;
  /**
   * True when no string parsed from the text can hold a lone surrogate: it was decoded from UTF-8 (base64 `ue_px` /
   * `cx`, so it has none itself) and has no `\u` escape. Its data's JSON is then JSON.stringify's as it is (see
   * stages/row.ts); otherwise it goes through stringifyJson's surrogate check.
   */
  readonly wellFormed: boolean;
}

/** One event through the stages. */
export interface EventState {
  /** The adapted event. */
  readonly event: RawEvent;
  /** Atomic values by column index (undefined: not set). */
  readonly vals: unknown[];
  /** The self-describing columns, in order. */
  readonly sd: Array<{ readonly column: string; value: unknown; wellFormed: boolean }>;
  /**
   * Texts of useragent, page_url and page_referrer already known to hold nothing JSON escapes (checked once when
   * they entered a cache): the JSON writer need not scan those columns when they still hold exactly these.
   */
  cleanUa: string | null;
  cleanUrl: string | null;
  cleanRefr: string | null;

  // ---- Tracker protocol (stages/protocol.ts) ----
  /** The parameters' names and values in the order they came (the fingerprint's input). */
  names: string[];
  values: string[];
  /** Known parameters by slot (stages/protocol.ts PARAM_SLOT), undefined when absent or empty. */
  pv: Array<string | undefined>;
  eventType: EventType | null;
  /** dvce_created_tstamp, dvce_sent_tstamp and true_tstamp in milliseconds; -1 when absent. */
  created: number;
  sent: number;
  trueTstamp: number;
  ueText: SelfDescribingText | null;
  coText: SelfDescribingText | null;

  // ---- Schemas (stages/schemas.ts) ----
  unstruct: SelfDescribing | null;
  contexts: SelfDescribing[];

  // ---- Left by the URL parser for the enrichments after it ----
  page: ParsedUrl | null;
  pageInfo: UrlInfo | null;
  pageQuery: Array<[string, string]>;
  refr: UrlInfo | null;
}

const NONE: string[] = [];
const NO_CONTEXTS: SelfDescribing[] = [];
const NO_PAIRS: Array<[string, string]> = [];

/**
 * A new event state. One object literal with every field (esbuild would write a class's declared fields as one
 * Object.defineProperty call each, which costs Nashorn more than the rest of the event's setup).
 */
export function newEventState(event: RawEvent): EventState {
  return {
    event: event,
    vals: NO_VALUES.slice(),
    sd: [],
    cleanUa: null,
    cleanUrl: null,
    cleanRefr: null,
    names: NONE,
    values: NONE,
    pv: NONE,
    eventType: null,
    created: -1,
    sent: -1,
    trueTstamp: -1,
    ueText: null,
    coText: null,
    unstruct: null,
    contexts: NO_CONTEXTS,
    page: null,
    pageInfo: null,
    pageQuery: NO_PAIRS,
    refr: null,
  };
}


/** A value as quoted in a failure message. */
export function v(value: string): string {
  return preview(value, 200);
}

/** The engine's message for an unexpected error (generic_error and enrichment_failures bad rows). */
export function errorText(e: unknown): string {
  const message = e !== null && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string'
    ? String((e as { name?: unknown }).name || 'Error') + ': ' + (e as { message: string }).message
    : String(e);
  return preview(message, 500);
}

// eslint-disable-next-line no-control-regex -- control characters are what JSON escapes
export const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;
