/**
 * Stage: the tracker protocol (tp2). Reads the event's parameters in one pass, checks them (every protocol problem of
 * the event at once), writes the columns that come straight from parameters and leaves the rest (names and values
 * for the fingerprint, event type, device times, the self-describing JSON texts) on the event for the later stages.
 */
import { FailureMessage } from '../badrow';
import { hasOwn, keys, MAX_SAFE_INTEGER } from '../es5';
import { ResolvedConfig } from '../config';
import { hostBase64Utf8 } from '../host-base64';
import { decodeBase64Utf8 } from '../text';
import { md5Begin, md5End, md5UpdateSep } from '../md5';
import { digitsValue, formatTimestamp, parseEpochMillis } from '../time';
import { C, EventState, EventType, SelfDescribingText, StageFailure, undefinedArray, v } from './event';

export const EVENT_TYPES: { [e: string]: EventType } = {
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

const INTEGER = /^-?[0-9]{1,16}$/;
const DECIMAL = /^-?[0-9]{1,16}(\.[0-9]+)?$/;
const FLOAT = /^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]{1,3})?$/;
const NUMERIC = /^-?[0-9]{1,29}(\.[0-9]{1,9})?$/;

/**
 * 8-4-4-4-12 hex digits (either case), by char code: in Nashorn three times faster than the equivalent regex.
 * `c | 32` maps A-F onto a-f and nothing else onto a-f. The schema validators' `format: uuid` is the same check
 * (validation/runtime.ts fmtUuid).
 */
export function isUuid(s: string): boolean {
  if (s.length !== 36 || s.charCodeAt(8) !== 45 || s.charCodeAt(13) !== 45 || s.charCodeAt(18) !== 45 || s.charCodeAt(23) !== 45) return false;
  for (let i = 0; i < 36; i++) {
    let c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) continue;
    c |= 32;
    if ((c < 97 || c > 102) && i !== 8 && i !== 13 && i !== 18 && i !== 23) return false;
  }
  return true;
}

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
/** Slots read by the event-fields stage (stages/event-fields.ts). */
export const P_UA = slot('ua');
export const P_IP = slot('ip');
export const P_TNUID = slot('tnuid');
export const P_NUID = slot('nuid');

/** Maps parameter → column tables to [parameter, slot, column index]. */
function indexed(table: ReadonlyArray<readonly [string, string]>): Array<[string, number, number]> {
  const out: Array<[string, number, number]> = [];
  for (let i = 0; i < table.length; i++) out.push([table[i][0], slot(table[i][0]), C[table[i][1]]]);
  return out;
}
const STRING_COLS = indexed(STRING_PARAMS);
/** STRING_COLS as two flat arrays of ints (slot, column): read for every event, one array index each. */
const STRING_SLOTS: number[] = [];
const STRING_COLUMNS: number[] = [];
for (let i = 0; i < STRING_COLS.length; i++) {
  STRING_SLOTS.push(STRING_COLS[i][1]);
  STRING_COLUMNS.push(STRING_COLS[i][2]);
}
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
/**
 * The slots of the last few parameter-name lists (-1 for a name without one). Trackers send a fixed list of names per
 * kind of event, so comparing the list with a remembered one (strings equal by length and content) mostly replaces
 * a string-keyed lookup per name, which Nashorn does by hashing the fresh name text and searching the property map.
 */
interface NameSlots {
  readonly names: readonly string[];
  readonly slots: readonly number[];
}
const slotMemo: NameSlots[] = [];
let slotMemoNext = 0;
function slotsOf(names: readonly string[]): readonly number[] {
  const n = names.length;
  for (let m = 0; m < slotMemo.length; m++) {
    const memo = slotMemo[m].names;
    if (memo.length !== n) continue;
    let i = 0;
    while (i < n && memo[i] === names[i]) i++;
    if (i === n) return slotMemo[m].slots;
  }
  const slots: number[] = [];
  for (let i = 0; i < n; i++) {
    // typeof: PARAM_SLOT inherits Object.prototype, whose properties are not numbers.
    const at = PARAM_SLOT[names[i]];
    slots.push(typeof at === 'number' ? at : -1);
  }
  if (n <= 64) {
    slotMemo[slotMemoNext] = { names: names, slots: slots };
    slotMemoNext = (slotMemoNext + 1) % 16;
  }
  return slots;
}

/** Every slot undefined (see undefinedArray): copied for each event. */
const NO_PARAMS = undefinedArray(N_PARAMS) as Array<string | undefined>;

/**
 * The id of an event sent without `eid`: a name-based UUID (version 3: MD5) of its collector time, network user id
 * and parameters, so that the same raw event (a replay from the archive) gets the same id.
 */
export function generatedEventId(collectorTstamp: number | null, networkUserId: string | null, names: readonly string[], values: readonly string[]): string {
  md5Begin();
  md5UpdateSep('waymark-event-id', 0x1f);
  md5UpdateSep(collectorTstamp === null ? '' : String(collectorTstamp), 0x1f);
  md5UpdateSep(networkUserId === null ? '' : networkUserId, 0x1f);
  for (let i = 0; i < names.length; i++) {
    md5UpdateSep(names[i], 0x1f);
    md5UpdateSep(values[i], 0x1f);
  }
  const h = md5End();
  const variant = ((parseInt(h.charAt(16), 16) & 3) | 8).toString(16);
  return h.substring(0, 8) + '-' + h.substring(8, 12) + '-3' + h.substring(13, 16) + '-' + variant + h.substring(17, 20) + '-' + h.substring(20, 32);
}

/** Reads and checks the event's parameters into `s`; returns the failure, or null. */
export function mapProtocol(s: EventState, config: ResolvedConfig): StageFailure | null {
  const p = s.event.params;
  const r = s.vals;
  const tpv: FailureMessage[] = [];

  // One pass over the parameters: names and values in order (for the fingerprint), known ones into their slots.
  // Object.keys: the same names in the same order as for-in with hasOwnProperty, at half its cost in Nashorn.
  const names = keys(p);
  const values: string[] = [];
  for (let i = 0; i < names.length; i++) values.push(p[names[i]]);
  s.names = names;
  s.values = values;
  const count = names.length;
  if (count > config.maxParams) {
    return { type: 'size_violation', messages: [{ field: 'parameters', value: count + ' parameters', expectation: 'at most ' + config.maxParams + ' parameters' }] };
  }
  // A parameter's value, or undefined when absent or empty.
  const pv = NO_PARAMS.slice();
  s.pv = pv;
  const maxChars = config.maxFieldChars;
  const slots = slotsOf(names);
  for (let i = 0; i < count; i++) {
    const value = values[i];
    const at = slots[i];
    const known = at >= 0;
    if (value.length > maxChars && !(known && LARGE_SLOT[at] === true)) {
      tpv.push({ field: names[i], value: v(value), expectation: 'at most ' + maxChars + ' characters, got ' + value.length });
    }
    if (known && typeof value === 'string' && value !== '') pv[at] = value;
  }

  const e = pv[P_E];
  if (e === undefined) tpv.push({ field: 'e', value: null, expectation: 'the event type (pv, pp, se, ue, tr or ti)' });
  else if (!hasOwn(EVENT_TYPES, e)) tpv.push({ field: 'e', value: v(e), expectation: 'one of pv, pp, se, ue, tr, ti' });
  else s.eventType = EVENT_TYPES[e];

  const eid = pv[P_EID];
  // As Snowplow Enrich (EnrichmentManager.setupEnrichedEvent): an event without eid gets an id; ours is derived from
  // the event (generatedEventId), so a replay of the same raw event gets the same id.
  if (eid === undefined) r[C.event_id] = generatedEventId(s.event.collectorTstamp, s.event.networkUserId, names, values);
  else if (!isUuid(eid)) tpv.push({ field: 'eid', value: v(eid), expectation: 'a UUID such as 6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a' });
  else r[C.event_id] = eid.toLowerCase();

  if (pv[P_TV] === undefined) tpv.push({ field: 'tv', value: null, expectation: 'the tracker version' });

  const platform = pv[P_P];
  if (platform !== undefined) {
    if (hasOwn(PLATFORMS, platform)) r[C.platform] = platform;
    else tpv.push({ field: 'p', value: v(platform), expectation: 'one of web, mob, pc, srv, app, tv, cnsl, iot, headset' });
  }

  for (let i = 0; i < STRING_SLOTS.length; i++) {
    const t = pv[STRING_SLOTS[i]];
    if (t !== undefined && r[STRING_COLUMNS[i]] === undefined) r[STRING_COLUMNS[i]] = t;
  }
  for (let i = 0; i < INT_COLS.length; i++) {
    const t = pv[INT_COLS[i][1]];
    if (t === undefined) continue;
    if (INTEGER.test(t) && Math.abs(+t) <= MAX_SAFE_INTEGER) r[INT_COLS[i][2]] = +t;
    else tpv.push({ field: INT_COLS[i][0], value: v(t), expectation: 'an integer' });
  }
  for (let i = 0; i < OFFSET_COLS.length; i++) {
    const t = pv[OFFSET_COLS[i][1]];
    if (t === undefined) continue;
    if (DECIMAL.test(t)) r[OFFSET_COLS[i][2]] = Math.round(+t);
    else tpv.push({ field: OFFSET_COLS[i][0], value: v(t), expectation: 'a number of pixels' });
  }
  const seValue = pv[P_SE_VA];
  if (seValue !== undefined) {
    if (FLOAT.test(seValue) && isFinite(+seValue)) r[C.se_value] = +seValue;
    else tpv.push({ field: 'se_va', value: v(seValue), expectation: 'a number' });
  }
  for (let i = 0; i < NUMERIC_COLS.length; i++) {
    const t = pv[NUMERIC_COLS[i][1]];
    if (t === undefined) continue;
    if (NUMERIC.test(t)) r[NUMERIC_COLS[i][2]] = t;
    else tpv.push({ field: NUMERIC_COLS[i][0], value: v(t), expectation: 'a decimal number with at most 29 digits before and 9 after the point, such as 12.50' });
  }
  for (let i = 0; i < BOOLEAN_COLS.length; i++) {
    const t = pv[BOOLEAN_COLS[i][1]];
    if (t === undefined) continue;
    if (t === '1' || t === 'true') r[BOOLEAN_COLS[i][2]] = true;
    else if (t === '0' || t === 'false') r[BOOLEAN_COLS[i][2]] = false;
    else tpv.push({ field: BOOLEAN_COLS[i][0], value: v(t), expectation: '1 or 0' });
  }
  for (let i = 0; i < DIMENSION_COLS.length; i++) {
    const t = pv[DIMENSION_COLS[i][1]];
    if (t === undefined) continue;
    // WxH, 1 to 6 digits each (/^([0-9]{1,6})x([0-9]{1,6})$/ without the regex)
    const x = t.indexOf('x');
    const width = x > 0 ? digitsValue(t, 0, x, 6) : -1;
    const height = width >= 0 ? digitsValue(t, x + 1, t.length, 6) : -1;
    if (height >= 0) {
      r[DIMENSION_COLS[i][2]] = width;
      r[DIMENSION_COLS[i][3]] = height;
    } else tpv.push({ field: DIMENSION_COLS[i][0], value: v(t), expectation: 'width x height in pixels, such as 1920x1080' });
  }
  for (let i = 0; i < TSTAMP_COLS.length; i++) {
    const t = pv[TSTAMP_COLS[i][1]];
    if (t === undefined) continue;
    const ms = parseEpochMillis(t);
    if (ms === null) tpv.push({ field: TSTAMP_COLS[i][0], value: v(t), expectation: 'milliseconds since the Unix epoch (an integer up to year 9999)' });
    else {
      r[TSTAMP_COLS[i][2]] = formatTimestamp(ms);
      if (i === 0) s.created = ms;
      else if (i === 1) s.sent = ms;
      else s.trueTstamp = ms;
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
  s.coText = decodeParam(pv[P_CO], 'co', pv[P_CX], 'cx', tpv);
  // Only a self-describing event's ue_pr/ue_px is its event.
  if (e === 'ue') s.ueText = ueText;
  if (tpv.length > 0) return { type: 'tracker_protocol_violations', messages: tpv };
  return null;
}

/** In Nashorn, the JVM's base64 decoder for the inputs it decodes exactly as decodeBase64Utf8 (host-base64.ts). */
const HOST_BASE64 = hostBase64Utf8();

/** The JSON text of a self-describing parameter: plain wins over base64; base64 errors are protocol violations. */
function decodeParam(
  pr: string | undefined,
  plain: string,
  px: string | undefined,
  encoded: string,
  tpv: FailureMessage[],
): SelfDescribingText | null {
  if (pr !== undefined) return { text: pr, field: plain, wellFormed: false };
  if (px === undefined) return null;
  if (HOST_BASE64 !== null) {
    const text = HOST_BASE64(px);
    if (text !== null) return { text: text, field: encoded, wellFormed: text.indexOf('\\u') === -1 };
  }
  const decoded = decodeBase64Utf8(px);
  if (decoded.error !== undefined) {
    tpv.push({ field: encoded, value: v(px), expectation: 'base64url-encoded JSON: ' + decoded.error });
    return null;
  }
  return { text: decoded.value, field: encoded, wellFormed: decoded.value.indexOf('\\u') === -1 };
}
