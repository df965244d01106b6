/**
 * Stage: the row. Adds the self-describing columns (the event's, then the entities', entities of one schema MODEL
 * sharing a column) and writes the row as an object ({@link toRow}) or directly as its JSON text ({@link toJson}).
 */
import { ATOMIC_COLUMN_NAMES } from '../columns';
import { stringifyJson } from '../json';
import { shapeData } from '../warehouse';
import { C, EventState, N_COLUMNS, NEEDS_ESCAPE } from './event';

/** A good row: keys are table columns, values JSON-ready (null columns are left out). */
export interface Row {
  [column: string]: unknown;
}

/** Adds the self-describing columns, in order of appearance. */
export function addSelfDescribingColumns(s: EventState): void {
  const unstruct = s.unstruct;
  if (unstruct !== null) {
    s.sd.push({ column: unstruct.info.eventColumn, value: shapeData(unstruct.data, unstruct.info.shape), wellFormed: s.ueText !== null && s.ueText.wellFormed });
  }
  const contexts = s.contexts;
  const contextsWellFormed = s.coText !== null && s.coText.wellFormed;
  for (let i = 0; i < contexts.length; i++) {
    const c = contexts[i];
    const shaped = shapeData(c.data, c.info.shape);
    if (shaped === null) continue;
    const column = c.info.contextsColumn;
    let found = false;
    for (let k = 0; k < s.sd.length; k++) {
      if (s.sd[k].column === column) {
        (s.sd[k].value as unknown[]).push(shaped);
        found = true;
        break;
      }
    }
    if (!found) s.sd.push({ column: column, value: [shaped], wellFormed: contextsWellFormed });
  }
}

/** The row object: atomic columns in table order (null ones left out), then the self-describing columns. */
export function toRow(s: EventState): Row {
  const row: Row = {};
  const vals = s.vals;
  for (let i = 0; i < N_COLUMNS; i++) {
    const value = vals[i];
    if (value !== undefined && value !== null) row[ATOMIC_COLUMN_NAMES[i]] = value;
  }
  for (let i = 0; i < s.sd.length; i++) row[s.sd[i].column] = s.sd[i].value;
  return row;
}

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
/** `"column":` for the JSON writer. */
const JSON_KEYS: string[] = [];
for (let i = 0; i < N_COLUMNS; i++) JSON_KEYS.push(JSON.stringify(ATOMIC_COLUMN_NAMES[i]) + ':');
/**
 * `{"column":` for the first column written, `,"column":` for the others, `","column":` after a string value whose
 * closing quote is still to write; with `"` appended for raw string values. One concatenation per column: a string's
 * closing quote travels with the next key.
 */
const KEY_FIRST: string[] = [];
const KEY_NEXT: string[] = [];
const KEY_CLOSE: string[] = [];
const KEY_FIRST_Q: string[] = [];
const KEY_NEXT_Q: string[] = [];
const KEY_CLOSE_Q: string[] = [];
for (let i = 0; i < N_COLUMNS; i++) {
  KEY_FIRST.push('{' + JSON_KEYS[i]);
  KEY_NEXT.push(',' + JSON_KEYS[i]);
  KEY_CLOSE.push('",' + JSON_KEYS[i]);
  KEY_FIRST_Q.push('{' + JSON_KEYS[i] + '"');
  KEY_NEXT_Q.push(',' + JSON_KEYS[i] + '"');
  KEY_CLOSE_Q.push('",' + JSON_KEYS[i] + '"');
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
 * `JSON.stringify(toRow(s))`, written directly, in one pass over the columns: strings are quoted as they are, and the
 * scanned columns' strings are collected meanwhile; one regex test over them then says whether anything needed an
 * escape. Rarely so: then the row is written again by {@link escapedJson}, checking each string on its own.
 * Escaped text is written by `stringifyJson`, so a lone surrogate is `\udXXX` in Nashorn as in Node: the row text
 * is the same bytes in every engine.
 */
export function toJson(s: EventState): string {
  const vals = s.vals;
  let all = '';
  // Built with `+=`: in Nashorn, collecting the pieces in an array and joining them measured slower (the join's
  // buffer grows by copying), and the text is flattened once either way when it leaves the script.
  let out = '';
  let first = true;
  // The last value written is a string whose closing quote is not written yet.
  let open = false;
  for (let i = 0; i < N_COLUMNS; i++) {
    const value = vals[i];
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') {
      if (SCANNED[i] && !(i === C_USERAGENT ? value === s.cleanUa : i === C_PAGE_URL ? value === s.cleanUrl : i === C_PAGE_REFERRER && value === s.cleanRefr)) all += value;
      out += (first ? KEY_FIRST_Q[i] : open ? KEY_CLOSE_Q[i] : KEY_NEXT_Q[i]) + value;
      open = true;
    } else {
      // Numbers and booleans: `+` writes them as String(value) does.
      out += (first ? KEY_FIRST[i] : open ? KEY_CLOSE[i] : KEY_NEXT[i]) + value;
      open = false;
    }
    first = false;
  }
  if (NEEDS_ESCAPE.test(all)) return escapedJson(s);
  return withSelfDescribing(s, out, first, open);
}

/** {@link toJson} for a row with a string that needs escapes: each string checked, escaped ones by stringifyJson. */
function escapedJson(s: EventState): string {
  const vals = s.vals;
  let out = '';
  let first = true;
  let open = false;
  for (let i = 0; i < N_COLUMNS; i++) {
    const value = vals[i];
    if (value === undefined || value === null) continue;
    if (typeof value === 'string' && !NEEDS_ESCAPE.test(value)) {
      out += (first ? KEY_FIRST_Q[i] : open ? KEY_CLOSE_Q[i] : KEY_NEXT_Q[i]) + value;
      open = true;
    } else {
      out += (first ? KEY_FIRST[i] : open ? KEY_CLOSE[i] : KEY_NEXT[i]) + (typeof value === 'string' ? stringifyJson(value) : value);
      open = false;
    }
    first = false;
  }
  return withSelfDescribing(s, out, first, open);
}

/** The row text `out` (atomic columns so far) completed with the self-describing columns and the closing brace. */
function withSelfDescribing(s: EventState, out: string, first: boolean, open: boolean): string {
  for (let i = 0; i < s.sd.length; i++) {
    // A value parsed from text that cannot hold a lone surrogate needs no surrogate check (SelfDescribingText.wellFormed).
    const sd = s.sd[i];
    out += (first ? '{' : open ? '",' : ',') + sdKey(sd.column) + (sd.wellFormed ? JSON.stringify(sd.value) : stringifyJson(sd.value));
    first = false;
    open = false;
  }
  return first ? '{}' : open ? out + '"}' : out + '}';
}
