/**
 * The enricher: one input message in, exactly one good row or one bad row out. Pure over plain data, engine-neutral
 * (ES5 built-ins only), configured once by {@link createEnricher} with the compiled validators and the deployment's
 * enrichment configuration. Stages, each stopping the event with its own failure type:
 *   size guard → JSON → adapter (input format) → tracker protocol → schemas → enrichments → row.
 */
import { adapt, RawEvent } from './adapters';
import { BadRow, badRow, FailureMessage, FailureType, rawPayload } from './badrow';
import { attributeCampaign, Campaign } from './campaign';
import { ATOMIC_COLUMN_NAMES, parseSchemaKey, SchemaKey, selfDescribingColumnName } from './columns';
import { CriterionParts, resolveEnrichmentConfig, ResolvedConfig } from './config';
import { hasOwn, isArray, isObject, MAX_SAFE_INTEGER, preview } from './es5';
import { anonymiseIp, normaliseIp } from './ip';
import { parseJson, stringifyJson } from './json';
import { BUILT_IN_SOURCES, classifyReferer, indexSources, RefererClassification, RefererIndex } from './referer';
import { md5Begin, md5End, md5Restore, md5Save, Md5State, md5UpdateList, md5UpdateSep } from './md5';
import { sha256Hex } from './sha256';
import { decodeBase64Utf8 } from './text';
import { digitsValue, formatTimestamp, parseEpochMillis } from './time';
import { parseQuery, parseUrl, ParsedUrl, queryParam, UrlParseResult } from './url';
import { parseUserAgent, UserAgentInfo } from './useragent';
import { createTextCache } from './cache';
import { V_ETL } from './version';
import { ColumnShape, shapeData, shapeKey } from './warehouse';
import type { ValidationError, Validator, ValidatorSet } from './validation/types';

/** A good row: keys are table columns, values JSON-ready (null columns are left out). */
export interface Row {
  [column: string]: unknown;
}

export type EnrichResult = { row: Row; badRow?: undefined } | { row?: undefined; badRow: BadRow };

/** The good row already serialised (what the UDF returns), or the bad row. */
export type EnrichJsonResult = { json: string; badRow?: undefined } | { json?: undefined; badRow: BadRow };

export interface EnricherOptions {
  /** Compiled validators keyed by full Iglu schema key (`waymark:validators` in the UDF). */
  readonly validators: ValidatorSet;
  /** The deployment's enrichment configuration (see config.ts); checked once here. @default all defaults */
  readonly config?: unknown;
  /** Milliseconds since the epoch for etl_tstamp and failure timestamps; inject a fixed clock in tests. @default Date.now */
  readonly clock?: () => number;
}

export interface Enricher {
  /** Enriches one message: the text of a Pub/Sub message or one JSONL line. */
  enrich(input: string): EnrichResult;
  /**
   * Like {@link enrich}, with the good row as JSON text: exactly `JSON.stringify(enrich(input).row)`, written
   * directly (the UDF's hot path).
   */
  enrichToJson(input: string): EnrichJsonResult;
  /** Enriches an already-parsed message (`raw`, when known, is kept in bad rows instead of re-serialising). */
  enrichJson(json: unknown): EnrichResult;
  /** Enriches one adapted event. */
  enrichEvent(event: RawEvent, payload: unknown): EnrichResult;
  /** The configuration in effect, defaults filled in. */
  readonly config: ResolvedConfig;
}

const EVENT_TYPES: { [e: string]: { event: string; name: string } } = {
  pv: { event: 'page_view', name: 'page_view' },
  pp: { event: 'page_ping', name: 'page_ping' },
  se: { event: 'struct', name: 'event' },
  ue: { event: 'unstruct', name: '' },
  tr: { event: 'transaction', name: 'transaction' },
  ti: { event: 'transaction_item', name: 'transaction_item' },
};

const PLATFORMS: { [p: string]: boolean } = { web: true, mob: true, pc: true, srv: true, app: true, tv: true, cnsl: true, iot: true, headset: true };

/** Plain string parameters → columns. */
const STRING_PARAMS: ReadonlyArray<readonly [string, string]> = [
  ['aid', 'app_id'], ['tna', 'name_tracker'], ['tv', 'v_tracker'], ['uid', 'user_id'], ['fp', 'user_fingerprint'],
  ['duid', 'domain_userid'], ['sid', 'domain_sessionid'], ['url', 'page_url'], ['page', 'page_title'], ['refr', 'page_referrer'],
  ['cd', 'br_colordepth'], ['cs', 'doc_charset'], ['lang', 'br_lang'], ['tz', 'os_timezone'],
  ['se_ca', 'se_category'], ['se_ac', 'se_action'], ['se_la', 'se_label'], ['se_pr', 'se_property'],
  ['tr_id', 'tr_orderid'], ['tr_af', 'tr_affiliation'], ['tr_ci', 'tr_city'], ['tr_st', 'tr_state'], ['tr_co', 'tr_country'], ['tr_cu', 'tr_currency'],
  ['ti_id', 'ti_orderid'], ['ti_sk', 'ti_sku'], ['ti_nm', 'ti_name'], ['ti_na', 'ti_name'], ['ti_ca', 'ti_category'], ['ti_cu', 'ti_currency'],
];
const INT_PARAMS: ReadonlyArray<readonly [string, string]> = [['vid', 'domain_sessionidx'], ['tid', 'txn_id'], ['ti_qu', 'ti_quantity']];
/** Page-ping offsets: some trackers send fractional pixels; they are rounded. */
const OFFSET_PARAMS: ReadonlyArray<readonly [string, string]> = [
  ['pp_mix', 'pp_xoffset_min'], ['pp_max', 'pp_xoffset_max'], ['pp_miy', 'pp_yoffset_min'], ['pp_may', 'pp_yoffset_max'],
];
const NUMERIC_PARAMS: ReadonlyArray<readonly [string, string]> = [['tr_tt', 'tr_total'], ['tr_tx', 'tr_tax'], ['tr_sh', 'tr_shipping'], ['ti_pr', 'ti_price']];
const BOOLEAN_PARAMS: ReadonlyArray<readonly [string, string]> = [
  ['f_pdf', 'br_features_pdf'], ['f_fla', 'br_features_flash'], ['f_java', 'br_features_java'], ['f_dir', 'br_features_director'],
  ['f_qt', 'br_features_quicktime'], ['f_realp', 'br_features_realplayer'], ['f_wma', 'br_features_windowsmedia'],
  ['f_gears', 'br_features_gears'], ['f_ag', 'br_features_silverlight'], ['cookie', 'br_cookies'],
];
const DIMENSION_PARAMS: ReadonlyArray<readonly [string, string, string]> = [
  ['res', 'dvce_screenwidth', 'dvce_screenheight'], ['vp', 'br_viewwidth', 'br_viewheight'], ['ds', 'doc_width', 'doc_height'],
];
const TSTAMP_PARAMS: ReadonlyArray<readonly [string, string]> = [['dtm', 'dvce_created_tstamp'], ['stm', 'dvce_sent_tstamp'], ['ttm', 'true_tstamp']];

/** Parameters holding self-describing JSON may be as large as the whole payload; the others are capped. */
const LARGE_PARAMS: { [p: string]: boolean } = { ue_pr: true, ue_px: true, co: true, cx: true };

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const INTEGER = /^-?[0-9]{1,16}$/;
const DECIMAL = /^-?[0-9]{1,16}(\.[0-9]+)?$/;
const FLOAT = /^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]{1,3})?$/;
const NUMERIC = /^-?[0-9]{1,29}(\.[0-9]{1,9})?$/;

/** Column name → index in the row's value array (atomic columns, table order). */
const C: { [column: string]: number } = {};
for (let i = 0; i < ATOMIC_COLUMN_NAMES.length; i++) C[ATOMIC_COLUMN_NAMES[i]] = i;
const N_COLUMNS = ATOMIC_COLUMN_NAMES.length;
/** `"column":` for the JSON writer. */
const JSON_KEYS: string[] = [];
for (let i = 0; i < N_COLUMNS; i++) JSON_KEYS.push(JSON.stringify(ATOMIC_COLUMN_NAMES[i]) + ':');

/**
 * Parameter name → slot in the event's parameter array. The parameters are read once, in one pass over the
 * event's own properties, into that array; every later read is an array index. (Looking each name up in the
 * parameter object instead costs a hash lookup per name, mostly for names the event does not have.)
 */
const PARAM_SLOT: { [name: string]: number } = {};
let N_PARAMS = 0;
function slot(name: string): number {
  if (!hasOwn(PARAM_SLOT, name)) PARAM_SLOT[name] = N_PARAMS++;
  return PARAM_SLOT[name];
}
const P_E = slot('e');
const P_EID = slot('eid');
const P_TV = slot('tv');
const P_P = slot('p');
const P_SE_CA = slot('se_ca');
const P_SE_AC = slot('se_ac');
const P_SE_VA = slot('se_va');
const P_UE_PR = slot('ue_pr');
const P_UE_PX = slot('ue_px');
const P_CO = slot('co');
const P_CX = slot('cx');
const P_TR_ID = slot('tr_id');
const P_TR_TT = slot('tr_tt');
const P_TI_ID = slot('ti_id');
const P_TI_SK = slot('ti_sk');
const P_TI_PR = slot('ti_pr');
const P_TI_QU = slot('ti_qu');
const P_UA = slot('ua');
const P_IP = slot('ip');
const P_TNUID = slot('tnuid');
const P_NUID = slot('nuid');

/** Maps parameter → column tables to [parameter, slot, column index]. */
function indexed(table: ReadonlyArray<readonly [string, string]>): Array<[string, number, number]> {
  const out: Array<[string, number, number]> = [];
  for (let i = 0; i < table.length; i++) out.push([table[i][0], slot(table[i][0]), C[table[i][1]]]);
  return out;
}
const STRING_COLS = indexed(STRING_PARAMS);
const INT_COLS = indexed(INT_PARAMS);
const OFFSET_COLS = indexed(OFFSET_PARAMS);
const NUMERIC_COLS = indexed(NUMERIC_PARAMS);
const BOOLEAN_COLS = indexed(BOOLEAN_PARAMS);
const TSTAMP_COLS = indexed(TSTAMP_PARAMS);
const DIMENSION_COLS: Array<[string, number, number, number]> = [];
for (let i = 0; i < DIMENSION_PARAMS.length; i++) {
  DIMENSION_COLS.push([DIMENSION_PARAMS[i][0], slot(DIMENSION_PARAMS[i][0]), C[DIMENSION_PARAMS[i][1]], C[DIMENSION_PARAMS[i][2]]]);
}
/** Slots of the parameters that may be larger than `limits.maxFieldChars`. */
const LARGE_SLOT: boolean[] = [];
for (const name in LARGE_PARAMS) if (hasOwn(LARGE_PARAMS, name)) LARGE_SLOT[slot(name)] = true;

/** A row under construction: atomic values by column index, then the self-describing columns in order. */
interface Built {
  readonly vals: unknown[];
  readonly sd: Array<{ readonly column: string; value: unknown }>;
  /**
   * Texts of useragent, page_url and page_referrer already known to hold nothing JSON escapes (checked once when
   * they entered a cache): the JSON writer need not scan those columns when they still hold exactly these.
   */
  cleanUa: string | null;
  cleanUrl: string | null;
  cleanRefr: string | null;
}

/** Names of the envelope schemas (vendor com.snowplowanalytics.snowplow). */
const UNSTRUCT_ENVELOPE = 'unstruct_event';
const CONTEXTS_ENVELOPE = 'contexts';
const SNOWPLOW_VENDOR = 'com.snowplowanalytics.snowplow';

function v(value: string): string {
  return preview(value, 200);
}

/** What the enricher needs to know about a schema key, worked out once per key (see `schemaInfo`). */
interface SchemaInfo {
  readonly key: SchemaKey;
  /** Its column as the event (`unstruct_event_*`) and as an entity (`contexts_*`). */
  readonly eventColumn: string;
  readonly contextsColumn: string;
  /** The registry's validator; null when the schema is not in the registry. */
  readonly validator: Validator | null;
  /** The warehouse shape of its MODEL, if any. */
  readonly shape: ColumnShape | undefined;
}

interface SelfDescribing {
  readonly info: SchemaInfo;
  readonly schemaKey: string;
  readonly data: unknown;
}

/** A URL parsed, as cached by its text: never changed once made, except for the memos of what derives from it. */
interface UrlInfo {
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

/** Outcome of one stage: the failure type and messages when it failed. */
interface StageFailure {
  type: FailureType;
  messages: FailureMessage[];
}

/** Creates an enricher. Throws (with a message naming the setting) when the configuration is invalid. */
export function createEnricher(options: EnricherOptions): Enricher {
  const config = resolveEnrichmentConfig(options.config);
  const validators = options.validators;
  const clock = options.clock || Date.now;
  const refererIndex: RefererIndex = indexSources(config.refererSources.concat(BUILT_IN_SOURCES));
  /** User agents parsed, and whether their text has nothing JSON escapes, cached by UA text. */
  const uaCache = createTextCache<{ readonly info: UserAgentInfo; readonly clean: boolean }>(2000);
  const shapes = config.shapes;
  const en = config.enrichments;

  // The last etl time and its text: events of the same millisecond share them.
  let lastNow = -1;
  let lastNowText = '';
  function nowText(now: number): string {
    if (now !== lastNow) {
      lastNowText = formatTimestamp(now) || '1970-01-01T00:00:00.000Z';
      lastNow = now;
    }
    return lastNowText;
  }

  function failure(type: FailureType, messages: FailureMessage[], payload: unknown, now: number): { badRow: BadRow } {
    return { badRow: badRow(type, messages, nowText(now), payload) };
  }

  /** Message text → a built row or a bad row. */
  function fromText(input: string, now: number): Built | { badRow: BadRow } {
    if (typeof input !== 'string') {
      return failure('collector_payload_format_violation', [{ field: '$', value: null, expectation: 'the message text (a JSON string)' }], null, now);
    }
    if (input.length > config.maxPayloadChars) {
      return failure('size_violation', [{
        field: '$',
        value: input.length + ' characters',
        expectation: 'a message of at most ' + config.maxPayloadChars + ' characters',
      }], rawPayload(input), now);
    }
    const parsed = parseJson(input, config.maxJsonDepth);
    if (parsed.error !== undefined) {
      return failure('collector_payload_format_violation', [{ field: '$', value: preview(input, 200), expectation: 'a JSON object (' + parsed.error + ')' }], rawPayload(input), now);
    }
    return fromJson(parsed.value, now);
  }

  function fromJson(json: unknown, now: number): Built | { badRow: BadRow } {
    let adapted;
    try {
      adapted = adapt(json);
    } catch (e) {
      return failure('generic_error', [{ message: errorText(e) }], json, now);
    }
    if (adapted.passThrough !== undefined) {
      // A bad row from the collector stays that bad row, if it is one (valid against its schema).
      const passed = adapted.passThrough as BadRow;
      const check = hasOwn(validators, passed.schema) ? validators[passed.schema](passed.data) : [{ path: '$', keyword: 'resolution', message: 'schema ' + passed.schema + ' is not in the registry' }];
      if (check.length === 0) return { badRow: passed };
      return failure('collector_payload_format_violation', [{
        field: '$',
        value: preview(stringifyJson(json), 200),
        expectation: 'a valid ' + passed.schema + ' bad row (' + check[0].path + ': ' + check[0].message + ')',
      }], json, now);
    }
    if (adapted.failure !== undefined) return failure(adapted.failure.type, adapted.failure.messages, json, now);
    return fromEvent(adapted.event as RawEvent, json, now);
  }

  function fromEvent(event: RawEvent, payload: unknown, now: number): Built | { badRow: BadRow } {
    try {
      const built: Built = { vals: new Array(N_COLUMNS), sd: [], cleanUa: null, cleanUrl: null, cleanRefr: null };
      const failed = buildRow(event, built, now);
      if (failed !== null) return failure(failed.type, failed.messages, payload, now);
      return built;
    } catch (e) {
      // A bug, not bad data: still one bad row, with the payload, never a crash of the caller.
      return failure('generic_error', [{ message: errorText(e) }], payload, now);
    }
  }

  function asRow(b: Built | { badRow: BadRow }): EnrichResult {
    return 'vals' in b ? { row: toRow(b) } : b;
  }

  const enricher: Enricher = {
    enrich: function (input: string): EnrichResult {
      return asRow(fromText(input, clock()));
    },
    enrichToJson: function (input: string): EnrichJsonResult {
      const b = fromText(input, clock());
      return 'vals' in b ? { json: toJson(b) } : b;
    },
    enrichJson: function (json: unknown): EnrichResult {
      return asRow(fromJson(json, clock()));
    },
    enrichEvent: function (event: RawEvent, payload: unknown): EnrichResult {
      return asRow(fromEvent(event, payload, clock()));
    },
    config: config,
  };

  /** Fills `b` with the row; returns the failure of the first stage that failed, or null. */
  function buildRow(event: RawEvent, b: Built, now: number): StageFailure | null {
    const p = event.params;
    const r = b.vals;
    const tpv: FailureMessage[] = [];

    // ---- Guards and tracker protocol ----
    // One pass over the parameters: names and values in order (for the fingerprint), known ones into their slots.
    const names: string[] = [];
    const values: string[] = [];
    for (const k in p) {
      if (hasOwn(p, k)) {
        names.push(k);
        values.push(p[k]);
      }
    }
    const count = names.length;
    if (count > config.maxParams) {
      return { type: 'size_violation', messages: [{ field: 'parameters', value: count + ' parameters', expectation: 'at most ' + config.maxParams + ' parameters' }] };
    }
    // A parameter's value, or undefined when absent or empty.
    const pv: Array<string | undefined> = new Array(N_PARAMS);
    const maxChars = config.maxFieldChars;
    for (let i = 0; i < count; i++) {
      const value = values[i];
      // typeof: PARAM_SLOT inherits Object.prototype, whose properties are not numbers.
      const at = PARAM_SLOT[names[i]];
      const known = typeof at === 'number';
      if (value.length > maxChars && !(known && LARGE_SLOT[at] === true)) {
        tpv.push({ field: names[i], value: v(value), expectation: 'at most ' + maxChars + ' characters, got ' + value.length });
      }
      if (known && typeof value === 'string' && value !== '') pv[at] = value;
    }

    const e = pv[P_E];
    let eventType: { event: string; name: string } | null = null;
    if (e === undefined) tpv.push({ field: 'e', value: null, expectation: 'the event type (pv, pp, se, ue, tr or ti)' });
    else if (!hasOwn(EVENT_TYPES, e)) tpv.push({ field: 'e', value: v(e), expectation: 'one of pv, pp, se, ue, tr, ti' });
    else eventType = EVENT_TYPES[e];

    const eid = pv[P_EID];
    if (eid === undefined) tpv.push({ field: 'eid', value: null, expectation: 'the event id, a UUID' });
    else if (!UUID.test(eid)) tpv.push({ field: 'eid', value: v(eid), expectation: 'a UUID such as 6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a' });
    else r[C.event_id] = eid.toLowerCase();

    if (pv[P_TV] === undefined) tpv.push({ field: 'tv', value: null, expectation: 'the tracker version' });

    const platform = pv[P_P];
    if (platform !== undefined) {
      if (hasOwn(PLATFORMS, platform)) r[C.platform] = platform;
      else tpv.push({ field: 'p', value: v(platform), expectation: 'one of web, mob, pc, srv, app, tv, cnsl, iot, headset' });
    }

    for (let i = 0; i < STRING_COLS.length; i++) {
      const s = pv[STRING_COLS[i][1]];
      if (s !== undefined && r[STRING_COLS[i][2]] === undefined) r[STRING_COLS[i][2]] = s;
    }
    for (let i = 0; i < INT_COLS.length; i++) {
      const s = pv[INT_COLS[i][1]];
      if (s === undefined) continue;
      if (INTEGER.test(s) && Math.abs(+s) <= MAX_SAFE_INTEGER) r[INT_COLS[i][2]] = +s;
      else tpv.push({ field: INT_COLS[i][0], value: v(s), expectation: 'an integer' });
    }
    for (let i = 0; i < OFFSET_COLS.length; i++) {
      const s = pv[OFFSET_COLS[i][1]];
      if (s === undefined) continue;
      if (DECIMAL.test(s)) r[OFFSET_COLS[i][2]] = Math.round(+s);
      else tpv.push({ field: OFFSET_COLS[i][0], value: v(s), expectation: 'a number of pixels' });
    }
    const seValue = pv[P_SE_VA];
    if (seValue !== undefined) {
      if (FLOAT.test(seValue) && isFinite(+seValue)) r[C.se_value] = +seValue;
      else tpv.push({ field: 'se_va', value: v(seValue), expectation: 'a number' });
    }
    for (let i = 0; i < NUMERIC_COLS.length; i++) {
      const s = pv[NUMERIC_COLS[i][1]];
      if (s === undefined) continue;
      if (NUMERIC.test(s)) r[NUMERIC_COLS[i][2]] = s;
      else tpv.push({ field: NUMERIC_COLS[i][0], value: v(s), expectation: 'a decimal number with at most 29 digits before and 9 after the point, such as 12.50' });
    }
    for (let i = 0; i < BOOLEAN_COLS.length; i++) {
      const s = pv[BOOLEAN_COLS[i][1]];
      if (s === undefined) continue;
      if (s === '1' || s === 'true') r[BOOLEAN_COLS[i][2]] = true;
      else if (s === '0' || s === 'false') r[BOOLEAN_COLS[i][2]] = false;
      else tpv.push({ field: BOOLEAN_COLS[i][0], value: v(s), expectation: '1 or 0' });
    }
    for (let i = 0; i < DIMENSION_COLS.length; i++) {
      const s = pv[DIMENSION_COLS[i][1]];
      if (s === undefined) continue;
      // WxH, 1 to 6 digits each (/^([0-9]{1,6})x([0-9]{1,6})$/ without the regex)
      const x = s.indexOf('x');
      const width = x > 0 ? digitsValue(s, 0, x, 6) : -1;
      const height = width >= 0 ? digitsValue(s, x + 1, s.length, 6) : -1;
      if (height >= 0) {
        r[DIMENSION_COLS[i][2]] = width;
        r[DIMENSION_COLS[i][3]] = height;
      } else tpv.push({ field: DIMENSION_COLS[i][0], value: v(s), expectation: 'width x height in pixels, such as 1920x1080' });
    }
    let created = -1;
    let sent = -1;
    let trueTstamp = -1;
    for (let i = 0; i < TSTAMP_COLS.length; i++) {
      const s = pv[TSTAMP_COLS[i][1]];
      if (s === undefined) continue;
      const ms = parseEpochMillis(s);
      if (ms === null) tpv.push({ field: TSTAMP_COLS[i][0], value: v(s), expectation: 'milliseconds since the Unix epoch (an integer up to year 9999)' });
      else {
        r[TSTAMP_COLS[i][2]] = formatTimestamp(ms);
        if (i === 0) created = ms;
        else if (i === 1) sent = ms;
        else trueTstamp = ms;
      }
    }

    // Event-type specific required parameters.
    if (e === 'se') {
      if (pv[P_SE_CA] === undefined) tpv.push({ field: 'se_ca', value: null, expectation: 'the category of the structured event' });
      if (pv[P_SE_AC] === undefined) tpv.push({ field: 'se_ac', value: null, expectation: 'the action of the structured event' });
    } else if (e === 'ue') {
      if (pv[P_UE_PR] === undefined && pv[P_UE_PX] === undefined) tpv.push({ field: 'ue_px', value: null, expectation: 'the self-describing event, in ue_px (base64url JSON) or ue_pr (JSON)' });
    } else if (e === 'tr') {
      if (pv[P_TR_ID] === undefined) tpv.push({ field: 'tr_id', value: null, expectation: 'the order id of the transaction' });
      if (pv[P_TR_TT] === undefined) tpv.push({ field: 'tr_tt', value: null, expectation: 'the total of the transaction' });
    } else if (e === 'ti') {
      if (pv[P_TI_ID] === undefined) tpv.push({ field: 'ti_id', value: null, expectation: 'the order id of the transaction item' });
      if (pv[P_TI_SK] === undefined) tpv.push({ field: 'ti_sk', value: null, expectation: 'the SKU of the transaction item' });
      if (pv[P_TI_PR] === undefined) tpv.push({ field: 'ti_pr', value: null, expectation: 'the price of the transaction item' });
      if (pv[P_TI_QU] === undefined) tpv.push({ field: 'ti_qu', value: null, expectation: 'the quantity of the transaction item' });
    }

    // Self-describing JSON: decode base64 here (a protocol matter), parse and validate in the schema stage.
    const ueText = decodeParam(pv[P_UE_PR], 'ue_pr', pv[P_UE_PX], 'ue_px', tpv);
    const coText = decodeParam(pv[P_CO], 'co', pv[P_CX], 'cx', tpv);
    if (tpv.length > 0) return { type: 'tracker_protocol_violations', messages: tpv };

    // ---- Schemas ----
    const sv: FailureMessage[] = [];
    let unstruct: SelfDescribing | null = null;
    if (e === 'ue' && ueText !== null) unstruct = checkUnstruct(ueText.text, ueText.field, sv);
    let contexts: SelfDescribing[] = [];
    if (coText !== null) contexts = checkContexts(coText.text, coText.field, sv);
    if (sv.length > 0) return { type: 'schema_violations', messages: sv };

    // ---- Atomic fields from the collector ----
    const collectorTstamp = event.collectorTstamp !== null ? event.collectorTstamp : now;
    const collectorText = formatTimestamp(collectorTstamp);
    r[C.collector_tstamp] = collectorText;
    r[C.etl_tstamp] = nowText(now);
    if (config.loadTstamp === 'etl') r[C.load_tstamp] = nowText(now);
    r[C.v_etl] = V_ETL;
    if (event.collector !== null) r[C.v_collector] = event.collector;
    r[C.event] = (eventType as { event: string }).event;
    if (unstruct !== null) {
      r[C.event_vendor] = unstruct.info.key.vendor;
      r[C.event_name] = unstruct.info.key.name;
      r[C.event_format] = unstruct.info.key.format;
      r[C.event_version] = unstruct.info.key.version;
    } else {
      r[C.event_vendor] = SNOWPLOW_VENDOR;
      r[C.event_name] = (eventType as { name: string }).name;
      r[C.event_format] = 'jsonschema';
      r[C.event_version] = '1-0-0';
    }
    const ua = pv[P_UA] || event.userAgent;
    if (ua) r[C.useragent] = ua;
    const ip = pv[P_IP] || event.ipAddress;
    if (ip) {
      const clean = normaliseIp(ip);
      if (clean !== null) r[C.user_ipaddress] = clean;
      else if (!en.ipAnonymisation) r[C.user_ipaddress] = preview(ip, 128);
    }
    const nuid = pv[P_TNUID] || pv[P_NUID] || event.networkUserId;
    if (nuid) r[C.network_userid] = nuid;
    if (r[C.page_url] === undefined && event.refererUri !== null) r[C.page_url] = event.refererUri;

    // derived_tstamp: the device clock corrected by the collector's, unless the tracker set a true timestamp.
    let derived = collectorTstamp;
    if (trueTstamp >= 0) derived = trueTstamp;
    else if (created >= 0 && sent >= 0) derived = collectorTstamp - (sent - created);
    const derivedText = derived === collectorTstamp ? collectorText : formatTimestamp(derived);
    r[C.derived_tstamp] = derivedText !== null ? derivedText : collectorText;

    // ---- Enrichments ----
    const ef: FailureMessage[] = [];
    runEnrichments(b, ef, names, values, unstruct, contexts);
    if (ef.length > 0) return { type: 'enrichment_failures', messages: ef };

    // ---- Self-describing columns, in order of appearance (entities of one schema MODEL share a column) ----
    if (unstruct !== null) {
      const column = unstruct.info.eventColumn;
      b.sd.push({ column: column, value: shapeData(unstruct.data, unstruct.info.shape) });
    }
    for (let i = 0; i < contexts.length; i++) {
      const c = contexts[i];
      const shaped = shapeData(c.data, c.info.shape);
      if (shaped === null) continue;
      const column = c.info.contextsColumn;
      let found = false;
      for (let k = 0; k < b.sd.length; k++) {
        if (b.sd[k].column === column) {
          (b.sd[k].value as unknown[]).push(shaped);
          found = true;
          break;
        }
      }
      if (!found) b.sd.push({ column: column, value: [shaped] });
    }
    return null;
  }

  /**
   * Parsed schema keys with their columns, validator and shape, cached by key text: events repeat a few schemas, and
   * looking the key up once beats parsing it and looking up its validator and shape each time.
   */
  const schemaCache = createTextCache<SchemaInfo>(1000);
  function schemaInfo(schemaKey: string): SchemaInfo | null {
    const hit = schemaCache.get(schemaKey);
    if (hit !== undefined) return hit;
    const key = parseSchemaKey(schemaKey);
    if (key === null) return null;
    const id = shapeKey(key.vendor, key.name, key.model);
    const info: SchemaInfo = {
      key: key,
      eventColumn: selfDescribingColumnName('unstruct_event', key.vendor, key.name, key.version),
      contextsColumn: selfDescribingColumnName('contexts', key.vendor, key.name, key.version),
      validator: hasOwn(validators, schemaKey) ? validators[schemaKey] : null,
      shape: shapes !== null && hasOwn(shapes, id) ? shapes[id] : undefined,
    };
    schemaCache.set(schemaKey, info);
    return info;
  }

  /** The JSON text of a self-describing parameter: plain wins over base64; base64 errors are protocol violations. */
  function decodeParam(
    pr: string | undefined,
    plain: string,
    px: string | undefined,
    encoded: string,
    tpv: FailureMessage[],
  ): { text: string; field: string } | null {
    if (pr !== undefined) return { text: pr, field: plain };
    if (px === undefined) return null;
    const decoded = decodeBase64Utf8(px);
    if (decoded.error !== undefined) {
      tpv.push({ field: encoded, value: v(px), expectation: 'base64url-encoded JSON: ' + decoded.error });
      return null;
    }
    return { text: decoded.value, field: encoded };
  }

  function schemaMessage(field: string, schemaKey: string | undefined, path: string, keyword: string, message: string, index?: number): FailureMessage {
    const m: { [k: string]: unknown } = { field: field };
    if (index !== undefined) m.index = index;
    if (schemaKey !== undefined) m.schemaKey = schemaKey;
    m.path = path;
    m.keyword = keyword;
    m.message = message;
    return m as FailureMessage;
  }

  /** Validates a self-describing value's data against its schema; appends violations; false when it failed. */
  function validate(field: string, sd: SelfDescribing, pathPrefix: string, sv: FailureMessage[], index?: number): boolean {
    const schemaKey = sd.schemaKey;
    const validator = sd.info.validator;
    if (validator === null) {
      sv.push(schemaMessage(field, schemaKey, pathPrefix === '' ? '$' : pathPrefix, 'resolution', 'schema ' + schemaKey + ' is not in the registry', index));
      return false;
    }
    const errors: ValidationError[] = validator(sd.data);
    for (let i = 0; i < errors.length && i < 20; i++) {
      const err = errors[i];
      sv.push(schemaMessage(field, schemaKey, err.path, err.keyword, err.message, index));
    }
    return errors.length === 0;
  }

  /** Checks a `{schema, data}` pair; returns it with its parsed key, or null after recording why not. */
  function selfDescribing(value: unknown, field: string, path: string, sv: FailureMessage[], index?: number): SelfDescribing | null {
    if (!isObject(value) || typeof value.schema !== 'string' || !hasOwn(value, 'data')) {
      sv.push(schemaMessage(field, undefined, path, 'iglu', 'expected a self-describing JSON object {"schema": "iglu:...", "data": ...}', index));
      return null;
    }
    const known = schemaInfo(value.schema);
    if (known === null) {
      sv.push(schemaMessage(field, preview(value.schema, 200), path + '.schema', 'iglu', 'not an Iglu schema key (iglu:<vendor>/<name>/jsonschema/<M-R-A>)', index));
      return null;
    }
    return { info: known, schemaKey: value.schema, data: value.data };
  }

  function parseSelfDescribingJson(text: string, field: string, sv: FailureMessage[]): unknown {
    const parsed = parseJson(text, config.maxJsonDepth);
    if (parsed.error !== undefined) {
      sv.push(schemaMessage(field, undefined, '$', 'json', parsed.error + ': ' + preview(text, 200)));
      return undefined;
    }
    return parsed.value;
  }

  function checkEnvelope(json: unknown, field: string, expected: string, sv: FailureMessage[]): SelfDescribing | null {
    const envelope = selfDescribing(json, field, '$', sv);
    if (envelope === null) return null;
    const key = envelope.info.key;
    if (key.vendor !== SNOWPLOW_VENDOR || key.name !== expected || key.model !== 1) {
      sv.push(schemaMessage(field, envelope.schemaKey, '$.schema', 'iglu', 'expected the envelope iglu:' + SNOWPLOW_VENDOR + '/' + expected + '/jsonschema/1-0-0'));
      return null;
    }
    return validate(field, envelope, '$.data', sv) ? envelope : null;
  }

  function checkUnstruct(text: string, field: string, sv: FailureMessage[]): SelfDescribing | null {
    const json = parseSelfDescribingJson(text, field, sv);
    if (json === undefined) return null;
    const envelope = checkEnvelope(json, field, UNSTRUCT_ENVELOPE, sv);
    if (envelope === null) return null;
    const inner = selfDescribing(envelope.data, field, '$.data', sv);
    if (inner === null) return null;
    return validate(field, inner, '$', sv) ? inner : null;
  }

  function checkContexts(text: string, field: string, sv: FailureMessage[]): SelfDescribing[] {
    const out: SelfDescribing[] = [];
    const json = parseSelfDescribingJson(text, field, sv);
    if (json === undefined) return out;
    const envelope = checkEnvelope(json, field, CONTEXTS_ENVELOPE, sv);
    if (envelope === null) return out;
    const list = envelope.data;
    if (!isArray(list)) {
      sv.push(schemaMessage(field, envelope.schemaKey, '$.data', 'type', 'expected an array of entities'));
      return out;
    }
    if (list.length > config.maxContexts) {
      sv.push(schemaMessage(field, envelope.schemaKey, '$.data', 'maxItems', 'at most ' + config.maxContexts + ' entities are accepted, got ' + list.length));
      return out;
    }
    for (let i = 0; i < list.length; i++) {
      const item = selfDescribing(list[i], field, '$.data[' + i + ']', sv, i);
      if (item === null) continue;
      if (validate(field, item, '$', sv, i)) out.push(item);
    }
    return out;
  }

  /** Page and referrer URLs parsed (with their decoded query), cached by URL text. */
  const urlCache = createTextCache<UrlInfo>(2000);
  function urlInfo(text: string): UrlInfo {
    const hit = urlCache.get(text);
    if (hit !== undefined) return hit;
    const parsed = parseUrl(text);
    const info: UrlInfo = {
      parsed: parsed,
      pairs: parsed.url !== undefined ? parseQuery(parsed.url.query) : [],
      clean: !NEEDS_ESCAPE.test(text),
      campaign: null,
      cls: null,
      clsPageHost: null,
    };
    urlCache.set(text, info);
    return info;
  }

  function runEnrichments(
    b: Built,
    ef: FailureMessage[],
    names: readonly string[],
    values: readonly string[],
    unstruct: SelfDescribing | null,
    contexts: SelfDescribing[],
  ): void {
    const r = b.vals;
    let step = 'url_parser';
    try {
      // Page and referrer URLs.
      let page: ParsedUrl | null = null;
      let pageInfo: UrlInfo | null = null;
      let pageQuery: Array<[string, string]> = [];
      const pageUrl = r[C.page_url];
      if (typeof pageUrl === 'string') {
        const info = urlInfo(pageUrl);
        const parsed = info.parsed;
        if (parsed.error !== undefined) ef.push({ enrichment: step, field: 'page_url', value: v(pageUrl), expectation: 'a parseable URL: ' + parsed.error });
        else if (parsed.url !== undefined) {
          page = parsed.url;
          pageInfo = info;
          if (info.clean) b.cleanUrl = pageUrl;
          setUrlColumns(r, PAGE_URL_COLUMNS, page);
          pageQuery = info.pairs;
        }
      }
      let refr: UrlInfo | null = null;
      const refrUrl = r[C.page_referrer];
      if (typeof refrUrl === 'string') {
        const info = urlInfo(refrUrl);
        const parsed = info.parsed;
        if (parsed.error !== undefined) ef.push({ enrichment: step, field: 'page_referrer', value: v(refrUrl), expectation: 'a parseable URL: ' + parsed.error });
        else if (parsed.url !== undefined) {
          refr = info;
          if (info.clean) b.cleanRefr = refrUrl;
          setUrlColumns(r, REFR_URL_COLUMNS, parsed.url);
        }
      }

      step = 'cross_domain_linker';
      if (en.crossDomainLinker && pageQuery.length > 0) {
        const sp = queryParam(pageQuery, '_sp');
        if (sp !== null) {
          const parts = sp.split('.');
          if (parts[0] !== '') r[C.refr_domain_userid] = parts[0];
          if (parts.length > 1) {
            const ms = parseEpochMillis(parts[1]);
            if (ms !== null) r[C.refr_dvce_tstamp] = formatTimestamp(ms);
          }
        }
      }

      step = 'campaign_attribution';
      if (en.campaignAttribution && pageInfo !== null && pageQuery.length > 0) {
        // It depends on the page URL only: remembered with it.
        let c = pageInfo.campaign;
        if (c === null) {
          c = attributeCampaign(pageQuery, config.campaignFields, config.clickIds);
          pageInfo.campaign = c;
        }
        if (c.medium !== null) r[C.mkt_medium] = c.medium;
        if (c.source !== null) r[C.mkt_source] = c.source;
        if (c.term !== null) r[C.mkt_term] = c.term;
        if (c.content !== null) r[C.mkt_content] = c.content;
        if (c.campaign !== null) r[C.mkt_campaign] = c.campaign;
        if (c.clickId !== null) r[C.mkt_clickid] = c.clickId;
        if (c.network !== null) r[C.mkt_network] = c.network;
      }

      step = 'referer_parser';
      const refrHost = refr !== null && refr.parsed.url !== undefined ? refr.parsed.url.host : null;
      if (en.refererParser && refr !== null && refrHost !== null) {
        // The classification depends on the referrer and the page host only: remembered with the referrer.
        const pageHost = page !== null ? page.host : null;
        let cls = refr.cls;
        if (cls === null || refr.clsPageHost !== pageHost) {
          cls = classifyReferer(refererIndex, refrHost, refr.pairs, pageHost, config.internalDomains);
          refr.cls = cls;
          refr.clsPageHost = pageHost;
        }
        r[C.refr_medium] = cls.medium;
        if (cls.source !== null) r[C.refr_source] = cls.source;
        if (cls.term !== null) r[C.refr_term] = cls.term;
      }

      step = 'user_agent_parser';
      const ua = r[C.useragent];
      if (en.userAgentParser && typeof ua === 'string') {
        let parsedUa = uaCache.get(ua);
        if (parsedUa === undefined) {
          parsedUa = { info: parseUserAgent(ua), clean: !NEEDS_ESCAPE.test(ua) };
          uaCache.set(ua, parsedUa);
        }
        if (parsedUa.clean) b.cleanUa = ua;
        const info: UserAgentInfo = parsedUa.info;
        r[C.br_name] = info.br_name;
        r[C.br_family] = info.br_family;
        r[C.br_version] = info.br_version;
        r[C.br_type] = info.br_type;
        r[C.br_renderengine] = info.br_renderengine;
        r[C.os_name] = info.os_name;
        r[C.os_family] = info.os_family;
        r[C.os_manufacturer] = info.os_manufacturer;
        r[C.dvce_type] = info.dvce_type;
        r[C.dvce_ismobile] = info.dvce_ismobile;
      }

      step = 'ip_anonymisation';
      const ip = r[C.user_ipaddress];
      if (en.ipAnonymisation && typeof ip === 'string') r[C.user_ipaddress] = anonymiseIp(ip, config.ipv4Octets, config.ipv6Segments);

      step = 'pii_pseudonymisation';
      if (en.piiPseudonymisation && config.piiSalt !== '') {
        for (let i = 0; i < config.piiFields.length; i++) {
          const column = C[config.piiFields[i]];
          const value = r[column];
          if (typeof value === 'string') r[column] = sha256Hex(config.piiSalt + value);
        }
        for (let i = 0; i < config.piiJsonFields.length; i++) {
          const jf = config.piiJsonFields[i];
          if (unstruct !== null && jf.in !== 'contexts' && matches(jf.criterion, unstruct.info.key)) hashPath(unstruct.data, jf.path, 0);
          if (jf.in !== 'unstruct_event') {
            for (let k = 0; k < contexts.length; k++) if (matches(jf.criterion, contexts[k].info.key)) hashPath(contexts[k].data, jf.path, 0);
          }
        }
      }

      step = 'event_fingerprint';
      if (en.eventFingerprint) r[C.event_fingerprint] = fingerprint(names, values);
    } catch (err) {
      ef.push({ enrichment: step, message: errorText(err) });
    }
  }

  /** Replaces the strings at `path` (arrays along the way are traversed) by their salted SHA-256. */
  function hashPath(node: unknown, path: readonly string[], at: number): void {
    if (isArray(node)) {
      for (let i = 0; i < node.length; i++) hashPath(node[i], path, at);
      return;
    }
    if (!isObject(node) || !hasOwn(node, path[at])) return;
    if (at === path.length - 1) {
      const value = node[path[at]];
      if (typeof value === 'string') node[path[at]] = sha256Hex(config.piiSalt + value);
      else if (isArray(value)) {
        for (let i = 0; i < value.length; i++) if (typeof value[i] === 'string') value[i] = sha256Hex(config.piiSalt + (value[i] as string));
      }
      return;
    }
    hashPath(node[path[at]], path, at + 1);
  }

  /**
   * The parameters to fingerprint (exclusions left out) in order of their names: indexes into `names`, and, once
   * worked out, the MD5 state after the names part of the text. Trackers send their parameters in a fixed order per
   * event type, so the last few name lists are remembered with these: comparing a list with a remembered one is much
   * cheaper than sorting it and hashing the names again.
   */
  interface SortedNames {
    readonly names: readonly string[];
    readonly order: number[];
    prefix: Md5State | null;
  }
  const sortMemo: SortedNames[] = [];
  let sortMemoNext = 0;
  function sortedNames(names: readonly string[]): SortedNames {
    const n = names.length;
    for (let m = 0; m < sortMemo.length; m++) {
      const memo = sortMemo[m].names;
      if (memo.length !== n) continue;
      let i = 0;
      while (i < n && memo[i] === names[i]) i++;
      if (i === n) return sortMemo[m];
    }
    const exclude = config.fingerprintExclude;
    // Insertion sort (a tracker sends 20–40 parameters): cheaper than Array#sort's generic comparisons.
    const order: number[] = [];
    for (let i = 0; i < n; i++) {
      const k = names[i];
      if (hasOwn(exclude, k)) continue;
      let j = order.length;
      order.push(i);
      while (j > 0 && names[order[j - 1]] > k) {
        order[j] = order[j - 1];
        j--;
      }
      order[j] = i;
    }
    const sorted: SortedNames = { names: names.slice(), order: order, prefix: null };
    if (n <= 64) {
      sortMemo[sortMemoNext] = sorted;
      sortMemoNext = (sortMemoNext + 1) % 16;
    }
    return sorted;
  }

  /**
   * Hash (MD5 by default, see config.ts) of the event's parameters, sorted by name, volatile ones excluded, so that
   * retried sends fingerprint alike: the UTF-8 text of the names, each followed by U+0001, then U+0000, then the
   * values in the same order, each followed by U+0002.
   */
  function fingerprint(names: readonly string[], values: readonly string[]): string {
    const sorted = sortedNames(names);
    const order = sorted.order;
    if (config.fingerprintAlgorithm === 'md5') {
      // The names part is the same for every event with these names: hashed once, continued from its state.
      if (sorted.prefix === null) {
        md5Begin();
        md5UpdateList(names, order, 1);
        md5UpdateSep('', 0);
        sorted.prefix = md5Save();
      }
      md5Restore(sorted.prefix);
      md5UpdateList(values, order, 2);
      return md5End();
    }
    let text = '';
    for (let i = 0; i < order.length; i++) text += names[order[i]] + '\u0001';
    text += '\u0000';
    for (let i = 0; i < order.length; i++) text += values[order[i]] + '\u0002';
    return sha256Hex(text);
  }

  return enricher;
}

/** The engine's message for an unexpected error (generic_error and enrichment_failures bad rows). */
function errorText(e: unknown): string {
  const message = e !== null && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string'
    ? String((e as { name?: unknown }).name || 'Error') + ': ' + (e as { message: string }).message
    : String(e);
  return preview(message, 500);
}

function matches(c: CriterionParts, k: SchemaKey): boolean {
  return c.vendor === k.vendor && c.name === k.name && c.format === k.format && c.model === k.model &&
    (c.revision === null || c.revision === k.revision) && (c.addition === null || c.addition === k.addition);
}

const URL_PARTS = ['urlscheme', 'urlhost', 'urlport', 'urlpath', 'urlquery', 'urlfragment'];
const PAGE_URL_COLUMNS = URL_PARTS.map(function (part) {
  return C['page_' + part];
});
const REFR_URL_COLUMNS = URL_PARTS.map(function (part) {
  return C['refr_' + part];
});

function setUrlColumns(r: unknown[], columns: readonly number[], u: ParsedUrl): void {
  r[columns[0]] = u.scheme;
  if (u.host !== null) r[columns[1]] = u.host;
  if (u.port !== null) r[columns[2]] = u.port;
  if (u.path !== null) r[columns[3]] = u.path;
  if (u.query !== null) r[columns[4]] = u.query;
  if (u.fragment !== null) r[columns[5]] = u.fragment;
}

/** The row object: atomic columns in table order (null ones left out), then the self-describing columns. */
function toRow(b: Built): Row {
  const row: Row = {};
  const vals = b.vals;
  for (let i = 0; i < N_COLUMNS; i++) {
    const value = vals[i];
    if (value !== undefined && value !== null) row[ATOMIC_COLUMN_NAMES[i]] = value;
  }
  for (let i = 0; i < b.sd.length; i++) row[b.sd[i].column] = b.sd[i].value;
  return row;
}

// eslint-disable-next-line no-control-regex -- control characters are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;

/**
 * String columns the JSON writer need not scan for characters to escape: the enricher writes them itself (times,
 * names, hashes, validated ids and vocabularies) or cuts them out of another column's text without decoding
 * (URL components out of page_url/page_referrer, browser and OS names out of useragent). A character needing an
 * escape in one of them is therefore also in a scanned column, which switches on the per-string check for all.
 * Decoded values (campaign fields, search terms, the linker's user id) and configured names are scanned.
 */
const UNSCANNED_COLUMNS = [
  'platform', 'etl_tstamp', 'collector_tstamp', 'dvce_created_tstamp', 'event', 'event_id', 'v_etl',
  'page_urlscheme', 'page_urlhost', 'page_urlpath', 'page_urlquery', 'page_urlfragment',
  'refr_urlscheme', 'refr_urlhost', 'refr_urlpath', 'refr_urlquery', 'refr_urlfragment', 'refr_medium',
  'br_name', 'br_family', 'br_version', 'br_type', 'br_renderengine', 'os_name', 'os_family', 'os_manufacturer', 'dvce_type',
  'dvce_sent_tstamp', 'refr_dvce_tstamp', 'derived_tstamp', 'event_vendor', 'event_name', 'event_format', 'event_version',
  'event_fingerprint', 'true_tstamp', 'load_tstamp',
];
const C_USERAGENT = C.useragent;
const C_PAGE_URL = C.page_url;
const C_PAGE_REFERRER = C.page_referrer;
const SCANNED: boolean[] = [];
for (let i = 0; i < N_COLUMNS; i++) SCANNED.push(true);
for (let i = 0; i < UNSCANNED_COLUMNS.length; i++) SCANNED[C[UNSCANNED_COLUMNS[i]]] = false;
/** `{"column":` for the first column written, `,"column":` for the others; `"` appended for string values. */
const KEY_FIRST: string[] = [];
const KEY_NEXT: string[] = [];
const KEY_FIRST_Q: string[] = [];
const KEY_NEXT_Q: string[] = [];
for (let i = 0; i < N_COLUMNS; i++) {
  KEY_FIRST.push('{' + JSON_KEYS[i]);
  KEY_NEXT.push(',' + JSON_KEYS[i]);
  KEY_FIRST_Q.push('{' + JSON_KEYS[i] + '"');
  KEY_NEXT_Q.push(',' + JSON_KEYS[i] + '"');
}

/** `"column":` of self-describing columns (their names are snake_case identifiers: nothing to escape). */
let sdKeys: { [column: string]: string } = {};
let sdKeyCount = 0;
function sdKey(column: string): string {
  const hit = sdKeys[column];
  if (typeof hit === 'string') return hit;
  if (sdKeyCount >= 1000) {
    sdKeys = {};
    sdKeyCount = 0;
  }
  const key = JSON.stringify(column) + ':';
  sdKeys[column] = key;
  sdKeyCount++;
  return key;
}

/**
 * `JSON.stringify(toRow(b))`, written directly. Strings with nothing to escape (the usual case, checked with one
 * regex test over the scanned columns together) are quoted as they are; otherwise each string is checked on its own.
 */
function toJson(b: Built): string {
  const vals = b.vals;
  let all = '';
  for (let i = 0; i < N_COLUMNS; i++) {
    const value = vals[i];
    if (SCANNED[i] && typeof value === 'string') {
      if (i === C_USERAGENT ? value === b.cleanUa : i === C_PAGE_URL ? value === b.cleanUrl : i === C_PAGE_REFERRER && value === b.cleanRefr) continue;
      all += value;
    }
  }
  const checkEach = NEEDS_ESCAPE.test(all);
  let out = '';
  let first = true;
  for (let i = 0; i < N_COLUMNS; i++) {
    const value = vals[i];
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') {
      if (checkEach && NEEDS_ESCAPE.test(value)) out += (first ? KEY_FIRST[i] : KEY_NEXT[i]) + JSON.stringify(value);
      else out += (first ? KEY_FIRST_Q[i] : KEY_NEXT_Q[i]) + value + '"';
    } else {
      out += (first ? KEY_FIRST[i] : KEY_NEXT[i]) + String(value);
    }
    first = false;
  }
  for (let i = 0; i < b.sd.length; i++) {
    out += (first ? '{' : ',') + sdKey(b.sd[i].column) + JSON.stringify(b.sd[i].value);
    first = false;
  }
  return out === '' ? '{}' : out + '}';
}
