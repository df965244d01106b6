/**
 * The enricher: one input message in, exactly one good row or one bad row out. Pure over plain data, engine-neutral
 * (ES5 built-ins only), configured once by {@link createEnricher} with the compiled validators and the deployment's
 * enrichment configuration. Stages, each stopping the event with its own failure type:
 *   size guard → JSON → adapter (input format) → tracker protocol → schemas → enrichments → row.
 */
import { adapt, RawEvent } from './adapters';
import { BadRow, badRow, FailureMessage, FailureType, rawPayload } from './badrow';
import { attributeCampaign } from './campaign';
import { ATOMIC_COLUMN_NAMES, parseSchemaKey, SchemaKey, selfDescribingColumnName } from './columns';
import { CriterionParts, resolveEnrichmentConfig, ResolvedConfig } from './config';
import { hasOwn, isArray, isObject, MAX_SAFE_INTEGER, preview } from './es5';
import { anonymiseIp, normaliseIp } from './ip';
import { parseJson } from './json';
import { BUILT_IN_SOURCES, classifyReferer, indexSources, RefererIndex } from './referer';
import { sha256Hex } from './sha256';
import { decodeBase64Utf8 } from './text';
import { formatTimestamp, parseEpochMillis } from './time';
import { parseQuery, parseUrl, ParsedUrl, queryParam } from './url';
import { createUserAgentParser, UserAgentInfo } from './useragent';
import { V_ETL } from './version';
import { ColumnShape, shapeData, shapeKey } from './warehouse';
import type { ValidationError, ValidatorSet } from './validation/types';

/** A good row: keys are table columns, values JSON-ready (null columns are left out). */
export interface Row {
  [column: string]: unknown;
}

export type EnrichResult = { row: Row; badRow?: undefined } | { row?: undefined; badRow: BadRow };

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
const DIMENSIONS = /^([0-9]{1,6})x([0-9]{1,6})$/;

const UNSTRUCT_ENVELOPE = 'com.snowplowanalytics.snowplow/unstruct_event';
const CONTEXTS_ENVELOPE = 'com.snowplowanalytics.snowplow/contexts';
const SNOWPLOW_VENDOR = 'com.snowplowanalytics.snowplow';

function v(value: string): string {
  return preview(value, 200);
}

interface SelfDescribing {
  readonly key: SchemaKey;
  readonly schemaKey: string;
  readonly data: unknown;
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
  const parseUa = createUserAgentParser(2000);
  const shapes = config.shapes;

  function failure(type: FailureType, messages: FailureMessage[], payload: unknown, now: number): EnrichResult {
    return { badRow: badRow(type, messages, formatTimestamp(now) || '1970-01-01T00:00:00.000Z', payload) };
  }

  function enrich(input: string): EnrichResult {
    const now = clock();
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
    return enrichParsed(parsed.value, now);
  }

  function enrichJson(json: unknown): EnrichResult {
    return enrichParsed(json, clock());
  }

  function enrichParsed(json: unknown, now: number): EnrichResult {
    const adapted = adapt(json);
    if (adapted.passThrough !== undefined) return { badRow: adapted.passThrough as BadRow };
    if (adapted.failure !== undefined) return failure(adapted.failure.type, adapted.failure.messages, json, now);
    return enrichAt(adapted.event as RawEvent, json, now);
  }

  function enrichEvent(event: RawEvent, payload: unknown): EnrichResult {
    return enrichAt(event, payload, clock());
  }

  function enrichAt(event: RawEvent, payload: unknown, now: number): EnrichResult {
    try {
      const r: Row = {};
      const failed = buildRow(event, r, now);
      if (failed !== null) return failure(failed.type, failed.messages, payload, now);
      return { row: r };
    } catch (e) {
      // A bug, not bad data: still one bad row, with the payload, never a crash of the caller.
      const message = e instanceof Error ? e.name + ': ' + e.message : String(e);
      return failure('generic_error', [{ message: preview(message, 500) }], payload, now);
    }
  }

  /** Fills `out` with the row; returns the failure of the first stage that failed, or null. */
  function buildRow(event: RawEvent, out: Row, now: number): StageFailure | null {
    const p = event.params;
    const r: Row = {};
    const tpv: FailureMessage[] = [];

    // ---- Guards and tracker protocol ----
    let count = 0;
    for (const k in p) {
      if (!hasOwn(p, k)) continue;
      count++;
      const value = p[k];
      if (value.length > config.maxFieldChars && !hasOwn(LARGE_PARAMS, k)) {
        tpv.push({ field: k, value: v(value), expectation: 'at most ' + config.maxFieldChars + ' characters, got ' + value.length });
      }
    }
    if (count > config.maxParams) {
      return { type: 'size_violation', messages: [{ field: 'parameters', value: count + ' parameters', expectation: 'at most ' + config.maxParams + ' parameters' }] };
    }
    const get = function (name: string): string | null {
      if (!hasOwn(p, name)) return null;
      const s = p[name];
      return s === '' ? null : s;
    };

    const e = get('e');
    let eventType: { event: string; name: string } | null = null;
    if (e === null) tpv.push({ field: 'e', value: null, expectation: 'the event type (pv, pp, se, ue, tr or ti)' });
    else if (!hasOwn(EVENT_TYPES, e)) tpv.push({ field: 'e', value: v(e), expectation: 'one of pv, pp, se, ue, tr, ti' });
    else eventType = EVENT_TYPES[e];

    const eid = get('eid');
    if (eid === null) tpv.push({ field: 'eid', value: null, expectation: 'the event id, a UUID' });
    else if (!UUID.test(eid)) tpv.push({ field: 'eid', value: v(eid), expectation: 'a UUID such as 6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a' });
    else r.event_id = eid.toLowerCase();

    if (get('tv') === null) tpv.push({ field: 'tv', value: null, expectation: 'the tracker version' });

    const platform = get('p');
    if (platform !== null) {
      if (hasOwn(PLATFORMS, platform)) r.platform = platform;
      else tpv.push({ field: 'p', value: v(platform), expectation: 'one of web, mob, pc, srv, app, tv, cnsl, iot, headset' });
    }

    for (let i = 0; i < STRING_PARAMS.length; i++) {
      const s = get(STRING_PARAMS[i][0]);
      if (s !== null && !hasOwn(r, STRING_PARAMS[i][1])) r[STRING_PARAMS[i][1]] = s;
    }
    for (let i = 0; i < INT_PARAMS.length; i++) {
      const s = get(INT_PARAMS[i][0]);
      if (s === null) continue;
      if (INTEGER.test(s) && Math.abs(+s) <= MAX_SAFE_INTEGER) r[INT_PARAMS[i][1]] = +s;
      else tpv.push({ field: INT_PARAMS[i][0], value: v(s), expectation: 'an integer' });
    }
    for (let i = 0; i < OFFSET_PARAMS.length; i++) {
      const s = get(OFFSET_PARAMS[i][0]);
      if (s === null) continue;
      if (DECIMAL.test(s)) r[OFFSET_PARAMS[i][1]] = Math.round(+s);
      else tpv.push({ field: OFFSET_PARAMS[i][0], value: v(s), expectation: 'a number of pixels' });
    }
    const seValue = get('se_va');
    if (seValue !== null) {
      if (FLOAT.test(seValue) && isFinite(+seValue)) r.se_value = +seValue;
      else tpv.push({ field: 'se_va', value: v(seValue), expectation: 'a number' });
    }
    for (let i = 0; i < NUMERIC_PARAMS.length; i++) {
      const s = get(NUMERIC_PARAMS[i][0]);
      if (s === null) continue;
      if (NUMERIC.test(s)) r[NUMERIC_PARAMS[i][1]] = s;
      else tpv.push({ field: NUMERIC_PARAMS[i][0], value: v(s), expectation: 'a decimal number with at most 29 digits before and 9 after the point, such as 12.50' });
    }
    for (let i = 0; i < BOOLEAN_PARAMS.length; i++) {
      const s = get(BOOLEAN_PARAMS[i][0]);
      if (s === null) continue;
      if (s === '1' || s === 'true') r[BOOLEAN_PARAMS[i][1]] = true;
      else if (s === '0' || s === 'false') r[BOOLEAN_PARAMS[i][1]] = false;
      else tpv.push({ field: BOOLEAN_PARAMS[i][0], value: v(s), expectation: '1 or 0' });
    }
    for (let i = 0; i < DIMENSION_PARAMS.length; i++) {
      const s = get(DIMENSION_PARAMS[i][0]);
      if (s === null) continue;
      const m = DIMENSIONS.exec(s);
      if (m) {
        r[DIMENSION_PARAMS[i][1]] = +m[1];
        r[DIMENSION_PARAMS[i][2]] = +m[2];
      } else tpv.push({ field: DIMENSION_PARAMS[i][0], value: v(s), expectation: 'width x height in pixels, such as 1920x1080' });
    }
    const tstamps: { [column: string]: number } = {};
    for (let i = 0; i < TSTAMP_PARAMS.length; i++) {
      const s = get(TSTAMP_PARAMS[i][0]);
      if (s === null) continue;
      const ms = parseEpochMillis(s);
      if (ms === null) tpv.push({ field: TSTAMP_PARAMS[i][0], value: v(s), expectation: 'milliseconds since the Unix epoch (an integer up to year 9999)' });
      else {
        tstamps[TSTAMP_PARAMS[i][1]] = ms;
        r[TSTAMP_PARAMS[i][1]] = formatTimestamp(ms);
      }
    }

    // Event-type specific required parameters.
    if (e === 'se') {
      if (get('se_ca') === null) tpv.push({ field: 'se_ca', value: null, expectation: 'the category of the structured event' });
      if (get('se_ac') === null) tpv.push({ field: 'se_ac', value: null, expectation: 'the action of the structured event' });
    } else if (e === 'ue') {
      if (get('ue_pr') === null && get('ue_px') === null) tpv.push({ field: 'ue_px', value: null, expectation: 'the self-describing event, in ue_px (base64url JSON) or ue_pr (JSON)' });
    } else if (e === 'tr') {
      if (get('tr_id') === null) tpv.push({ field: 'tr_id', value: null, expectation: 'the order id of the transaction' });
      if (get('tr_tt') === null) tpv.push({ field: 'tr_tt', value: null, expectation: 'the total of the transaction' });
    } else if (e === 'ti') {
      if (get('ti_id') === null) tpv.push({ field: 'ti_id', value: null, expectation: 'the order id of the transaction item' });
      if (get('ti_sk') === null) tpv.push({ field: 'ti_sk', value: null, expectation: 'the SKU of the transaction item' });
      if (get('ti_pr') === null) tpv.push({ field: 'ti_pr', value: null, expectation: 'the price of the transaction item' });
      if (get('ti_qu') === null) tpv.push({ field: 'ti_qu', value: null, expectation: 'the quantity of the transaction item' });
    }

    // Self-describing JSON: decode base64 here (a protocol matter), parse and validate in the schema stage.
    const ueText = decodeParam(get, 'ue_pr', 'ue_px', tpv);
    const coText = decodeParam(get, 'co', 'cx', tpv);
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
    r.collector_tstamp = formatTimestamp(collectorTstamp);
    r.etl_tstamp = formatTimestamp(now);
    if (config.loadTstamp === 'etl') r.load_tstamp = r.etl_tstamp;
    r.v_etl = V_ETL;
    if (event.collector !== null) r.v_collector = event.collector;
    r.event = (eventType as { event: string }).event;
    if (unstruct !== null) {
      r.event_vendor = unstruct.key.vendor;
      r.event_name = unstruct.key.name;
      r.event_format = unstruct.key.format;
      r.event_version = unstruct.key.version;
    } else {
      r.event_vendor = SNOWPLOW_VENDOR;
      r.event_name = (eventType as { name: string }).name;
      r.event_format = 'jsonschema';
      r.event_version = '1-0-0';
    }
    const ua = get('ua') || event.userAgent;
    if (ua !== null) r.useragent = ua;
    const ip = get('ip') || event.ipAddress;
    if (ip !== null) {
      const clean = normaliseIp(ip);
      if (clean !== null) r.user_ipaddress = clean;
      else if (!config.enrichments.ipAnonymisation) r.user_ipaddress = preview(ip, 128);
    }
    const nuid = get('tnuid') || get('nuid') || event.networkUserId;
    if (nuid !== null) r.network_userid = nuid;
    if (!hasOwn(r, 'page_url') && event.refererUri !== null) r.page_url = event.refererUri;

    // derived_tstamp: the device clock corrected by the collector's, unless the tracker set a true timestamp.
    let derived = collectorTstamp;
    if (hasOwn(tstamps, 'true_tstamp')) derived = tstamps.true_tstamp;
    else if (hasOwn(tstamps, 'dvce_created_tstamp') && hasOwn(tstamps, 'dvce_sent_tstamp')) {
      derived = collectorTstamp - (tstamps.dvce_sent_tstamp - tstamps.dvce_created_tstamp);
    }
    const derivedText = formatTimestamp(derived);
    r.derived_tstamp = derivedText !== null ? derivedText : r.collector_tstamp;

    // ---- Enrichments ----
    const ef: FailureMessage[] = [];
    runEnrichments(r, ef, p, unstruct, contexts);
    if (ef.length > 0) return { type: 'enrichment_failures', messages: ef };

    // ---- The row, in column order ----
    for (let i = 0; i < ATOMIC_COLUMN_NAMES.length; i++) {
      const c = ATOMIC_COLUMN_NAMES[i];
      const value = r[c];
      if (value !== undefined && value !== null) out[c] = value;
    }
    if (unstruct !== null) {
      const column = selfDescribingColumnName('unstruct_event', unstruct.key.vendor, unstruct.key.name, unstruct.key.version);
      out[column] = shapeData(unstruct.data, shapeFor(unstruct.key));
    }
    for (let i = 0; i < contexts.length; i++) {
      const c = contexts[i];
      const column = selfDescribingColumnName('contexts', c.key.vendor, c.key.name, c.key.version);
      const shaped = shapeData(c.data, shapeFor(c.key));
      if (shaped === null) continue;
      const list = out[column];
      if (list === undefined) out[column] = [shaped];
      else (list as unknown[]).push(shaped);
    }
    return null;
  }

  function shapeFor(key: SchemaKey): ColumnShape | undefined {
    if (shapes === null) return undefined;
    const id = shapeKey(key.vendor, key.name, key.model);
    return hasOwn(shapes, id) ? shapes[id] : undefined;
  }

  /** The JSON text of a self-describing parameter: plain wins over base64; base64 errors are protocol violations. */
  function decodeParam(
    get: (name: string) => string | null,
    plain: string,
    encoded: string,
    tpv: FailureMessage[],
  ): { text: string; field: string } | null {
    const pr = get(plain);
    if (pr !== null) return { text: pr, field: plain };
    const px = get(encoded);
    if (px === null) return null;
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

  /** Validates `data` against `schemaKey`; appends violations; false when it failed. */
  function validate(field: string, schemaKey: string, data: unknown, pathPrefix: string, sv: FailureMessage[], index?: number): boolean {
    if (!hasOwn(validators, schemaKey)) {
      sv.push(schemaMessage(field, schemaKey, pathPrefix === '' ? '$' : pathPrefix, 'resolution', 'schema ' + schemaKey + ' is not in the registry', index));
      return false;
    }
    const errors: ValidationError[] = validators[schemaKey](data);
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
    const key = parseSchemaKey(value.schema);
    if (key === null) {
      sv.push(schemaMessage(field, preview(value.schema, 200), path + '.schema', 'iglu', 'not an Iglu schema key (iglu:<vendor>/<name>/jsonschema/<M-R-A>)', index));
      return null;
    }
    return { key: key, schemaKey: value.schema, data: value.data };
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
    if (envelope.key.vendor + '/' + envelope.key.name !== expected || envelope.key.model !== 1) {
      sv.push(schemaMessage(field, envelope.schemaKey, '$.schema', 'iglu', 'expected the envelope iglu:' + expected + '/jsonschema/1-0-0'));
      return null;
    }
    return validate(field, envelope.schemaKey, envelope.data, '$.data', sv) ? envelope : null;
  }

  function checkUnstruct(text: string, field: string, sv: FailureMessage[]): SelfDescribing | null {
    const json = parseSelfDescribingJson(text, field, sv);
    if (json === undefined) return null;
    const envelope = checkEnvelope(json, field, UNSTRUCT_ENVELOPE, sv);
    if (envelope === null) return null;
    const inner = selfDescribing(envelope.data, field, '$.data', sv);
    if (inner === null) return null;
    return validate(field, inner.schemaKey, inner.data, '$', sv) ? inner : null;
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
      if (validate(field, item.schemaKey, item.data, '$', sv, i)) out.push(item);
    }
    return out;
  }

  function runEnrichments(
    r: Row,
    ef: FailureMessage[],
    params: { readonly [name: string]: string },
    unstruct: SelfDescribing | null,
    contexts: SelfDescribing[],
  ): void {
    const en = config.enrichments;
    let step = 'url_parser';
    try {
      // Page and referrer URLs.
      let page: ParsedUrl | null = null;
      let pageQuery: Array<[string, string]> = [];
      if (typeof r.page_url === 'string') {
        const parsed = parseUrl(r.page_url);
        if (parsed.error !== undefined) ef.push({ enrichment: step, field: 'page_url', value: v(r.page_url), expectation: 'a parseable URL: ' + parsed.error });
        else if (parsed.url !== undefined) {
          page = parsed.url;
          setUrlColumns(r, 'page_', page);
          pageQuery = parseQuery(page.query);
        }
      }
      let refr: ParsedUrl | null = null;
      if (typeof r.page_referrer === 'string') {
        const parsed = parseUrl(r.page_referrer);
        if (parsed.error !== undefined) ef.push({ enrichment: step, field: 'page_referrer', value: v(r.page_referrer), expectation: 'a parseable URL: ' + parsed.error });
        else if (parsed.url !== undefined) {
          refr = parsed.url;
          setUrlColumns(r, 'refr_', refr);
        }
      }

      step = 'cross_domain_linker';
      if (en.crossDomainLinker && pageQuery.length > 0) {
        const sp = queryParam(pageQuery, '_sp');
        if (sp !== null) {
          const parts = sp.split('.');
          if (parts[0] !== '') r.refr_domain_userid = parts[0];
          if (parts.length > 1) {
            const ms = parseEpochMillis(parts[1]);
            if (ms !== null) r.refr_dvce_tstamp = formatTimestamp(ms);
          }
        }
      }

      step = 'campaign_attribution';
      if (en.campaignAttribution && pageQuery.length > 0) {
        const c = attributeCampaign(pageQuery, config.campaignFields, config.clickIds);
        if (c.medium !== null) r.mkt_medium = c.medium;
        if (c.source !== null) r.mkt_source = c.source;
        if (c.term !== null) r.mkt_term = c.term;
        if (c.content !== null) r.mkt_content = c.content;
        if (c.campaign !== null) r.mkt_campaign = c.campaign;
        if (c.clickId !== null) r.mkt_clickid = c.clickId;
        if (c.network !== null) r.mkt_network = c.network;
      }

      step = 'referer_parser';
      if (en.refererParser && refr !== null && refr.host !== null) {
        const cls = classifyReferer(refererIndex, refr.host, parseQuery(refr.query), page !== null ? page.host : null, config.internalDomains);
        r.refr_medium = cls.medium;
        if (cls.source !== null) r.refr_source = cls.source;
        if (cls.term !== null) r.refr_term = cls.term;
      }

      step = 'user_agent_parser';
      if (en.userAgentParser && typeof r.useragent === 'string') {
        const info: UserAgentInfo = parseUa(r.useragent);
        r.br_name = info.br_name;
        r.br_family = info.br_family;
        r.br_version = info.br_version;
        r.br_type = info.br_type;
        r.br_renderengine = info.br_renderengine;
        r.os_name = info.os_name;
        r.os_family = info.os_family;
        r.os_manufacturer = info.os_manufacturer;
        r.dvce_type = info.dvce_type;
        r.dvce_ismobile = info.dvce_ismobile;
      }

      step = 'ip_anonymisation';
      if (en.ipAnonymisation && typeof r.user_ipaddress === 'string') {
        r.user_ipaddress = anonymiseIp(r.user_ipaddress, config.ipv4Octets, config.ipv6Segments);
      }

      step = 'pii_pseudonymisation';
      if (en.piiPseudonymisation && config.piiSalt !== '') {
        for (let i = 0; i < config.piiFields.length; i++) {
          const f = config.piiFields[i];
          if (typeof r[f] === 'string') r[f] = sha256Hex(config.piiSalt + (r[f] as string));
        }
        for (let i = 0; i < config.piiJsonFields.length; i++) {
          const jf = config.piiJsonFields[i];
          if (unstruct !== null && jf.in !== 'contexts' && matches(jf.criterion, unstruct.key)) unstruct = pseudonymiseData(unstruct, jf.path);
          if (jf.in !== 'unstruct_event') {
            for (let k = 0; k < contexts.length; k++) if (matches(jf.criterion, contexts[k].key)) contexts[k] = pseudonymiseData(contexts[k], jf.path);
          }
        }
      }

      step = 'event_fingerprint';
      if (en.eventFingerprint) r.event_fingerprint = fingerprint(params);
    } catch (err) {
      ef.push({ enrichment: step, message: preview(err instanceof Error ? err.message : String(err), 500) });
    }
  }

  function pseudonymiseData(sd: SelfDescribing, path: readonly string[]): SelfDescribing {
    hashPath(sd.data, path, 0);
    return sd;
  }

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

  /** SHA-256 of the event's parameters (sorted, volatile ones excluded), so retried sends fingerprint alike. */
  function fingerprint(p: { readonly [name: string]: string }): string {
    const names: string[] = [];
    for (const k in p) if (hasOwn(p, k) && !hasOwn(config.fingerprintExclude, k)) names.push(k);
    names.sort();
    let text = '';
    for (let i = 0; i < names.length; i++) text += names[i] + '\u0001' + p[names[i]] + '\u0002';
    return sha256Hex(text);
  }

  const enricher: Enricher = {
    enrich: enrich,
    enrichJson: enrichJson,
    enrichEvent: enrichEvent,
    config: config,
  };
  return enricher;
}

function matches(c: CriterionParts, k: SchemaKey): boolean {
  return c.vendor === k.vendor && c.name === k.name && c.format === k.format && c.model === k.model &&
    (c.revision === null || c.revision === k.revision) && (c.addition === null || c.addition === k.addition);
}

function setUrlColumns(r: Row, prefix: string, u: ParsedUrl): void {
  r[prefix + 'urlscheme'] = u.scheme;
  if (u.host !== null) r[prefix + 'urlhost'] = u.host;
  if (u.port !== null) r[prefix + 'urlport'] = u.port;
  if (u.path !== null) r[prefix + 'urlpath'] = u.path;
  if (u.query !== null) r[prefix + 'urlquery'] = u.query;
  if (u.fragment !== null) r[prefix + 'urlfragment'] = u.fragment;
}
