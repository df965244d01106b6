/**
 * The warehouse row: the ordered atomic columns (Snowplow's canonical enriched event, in its order) with their
 * BigQuery types, and THE naming function for self-describing columns and their property names. Engine-neutral and
 * dependency-free: the UDF uses it to build rows, and the WarehouseSink construct imports it at synth time to build
 * the `events` table schema, so table and rows cannot drift apart.
 */
import { hasOwn } from './es5';

export type AtomicType = 'STRING' | 'TIMESTAMP' | 'INTEGER' | 'FLOAT' | 'NUMERIC' | 'BOOLEAN';

export interface AtomicColumn {
  readonly name: string;
  readonly type: AtomicType;
  /** REQUIRED for collector_tstamp and event_id (every good row has them), NULLABLE otherwise. */
  readonly mode: 'REQUIRED' | 'NULLABLE';
  /** Where the value comes from; usable as the BigQuery column description. */
  readonly description: string;
}

const TABLE: ReadonlyArray<readonly [string, AtomicType, string]> = [
  ['app_id', 'STRING', "aid"],
  ['platform', 'STRING', "p"],
  ['etl_tstamp', 'TIMESTAMP', "time the enricher processed the event"],
  ['collector_tstamp', 'TIMESTAMP', "time the collector received the request (REQUIRED)"],
  ['dvce_created_tstamp', 'TIMESTAMP', "dtm (ms since epoch)"],
  ['event', 'STRING', "e mapped: pv->page_view, pp->page_ping, se->struct, ue->unstruct, tr->transaction, ti->transaction_item"],
  ['event_id', 'STRING', "eid (UUID; REQUIRED)"],
  ['txn_id', 'INTEGER', "tid (legacy)"],
  ['name_tracker', 'STRING', "tna"],
  ['v_tracker', 'STRING', "tv"],
  ['v_collector', 'STRING', "collector name/version"],
  ['v_etl', 'STRING', "enricher name/version"],
  ['user_id', 'STRING', "uid"],
  ['user_ipaddress', 'STRING', "ip param, else request IP (after anonymisation)"],
  ['user_fingerprint', 'STRING', "fp"],
  ['domain_userid', 'STRING', "duid"],
  ['domain_sessionidx', 'INTEGER', "vid"],
  ['network_userid', 'STRING', "tnuid, else nuid, else collector cookie"],
  ['geo_country', 'STRING', "IP lookup"],
  ['geo_region', 'STRING', "IP lookup"],
  ['geo_city', 'STRING', "IP lookup"],
  ['geo_zipcode', 'STRING', "IP lookup"],
  ['geo_latitude', 'FLOAT', "IP lookup"],
  ['geo_longitude', 'FLOAT', "IP lookup"],
  ['geo_region_name', 'STRING', "IP lookup"],
  ['ip_isp', 'STRING', "IP lookup"],
  ['ip_organization', 'STRING', "IP lookup"],
  ['ip_domain', 'STRING', "IP lookup"],
  ['ip_netspeed', 'STRING', "IP lookup"],
  ['page_url', 'STRING', "url"],
  ['page_title', 'STRING', "page"],
  ['page_referrer', 'STRING', "refr"],
  ['page_urlscheme', 'STRING', "parsed from url"],
  ['page_urlhost', 'STRING', "parsed from url"],
  ['page_urlport', 'INTEGER', "parsed from url (default port of the scheme when absent)"],
  ['page_urlpath', 'STRING', "parsed from url"],
  ['page_urlquery', 'STRING', "parsed from url"],
  ['page_urlfragment', 'STRING', "parsed from url"],
  ['refr_urlscheme', 'STRING', "parsed from refr"],
  ['refr_urlhost', 'STRING', "parsed from refr"],
  ['refr_urlport', 'INTEGER', "parsed from refr"],
  ['refr_urlpath', 'STRING', "parsed from refr"],
  ['refr_urlquery', 'STRING', "parsed from refr"],
  ['refr_urlfragment', 'STRING', "parsed from refr"],
  ['refr_medium', 'STRING', "referer classification: search, social, email, paid, internal, unknown"],
  ['refr_source', 'STRING', "e.g. Google, Facebook"],
  ['refr_term', 'STRING', "search term when the referer carries one"],
  ['mkt_medium', 'STRING', "utm_medium (campaign attribution)"],
  ['mkt_source', 'STRING', "utm_source"],
  ['mkt_term', 'STRING', "utm_term"],
  ['mkt_content', 'STRING', "utm_content"],
  ['mkt_campaign', 'STRING', "utm_campaign"],
  ['se_category', 'STRING', "se_ca"],
  ['se_action', 'STRING', "se_ac"],
  ['se_label', 'STRING', "se_la"],
  ['se_property', 'STRING', "se_pr"],
  ['se_value', 'FLOAT', "se_va"],
  ['tr_orderid', 'STRING', "tr_id"],
  ['tr_affiliation', 'STRING', "tr_af"],
  ['tr_total', 'NUMERIC', "tr_tt"],
  ['tr_tax', 'NUMERIC', "tr_tx"],
  ['tr_shipping', 'NUMERIC', "tr_sh"],
  ['tr_city', 'STRING', "tr_ci"],
  ['tr_state', 'STRING', "tr_st"],
  ['tr_country', 'STRING', "tr_co"],
  ['ti_orderid', 'STRING', "ti_id"],
  ['ti_sku', 'STRING', "ti_sk"],
  ['ti_name', 'STRING', "ti_nm (or ti_na)"],
  ['ti_category', 'STRING', "ti_ca"],
  ['ti_price', 'NUMERIC', "ti_pr"],
  ['ti_quantity', 'INTEGER', "ti_qu"],
  ['pp_xoffset_min', 'INTEGER', "pp_mix"],
  ['pp_xoffset_max', 'INTEGER', "pp_max"],
  ['pp_yoffset_min', 'INTEGER', "pp_miy"],
  ['pp_yoffset_max', 'INTEGER', "pp_may"],
  ['useragent', 'STRING', "ua param, else User-Agent header"],
  ['br_name', 'STRING', "UA parsing"],
  ['br_family', 'STRING', "UA parsing"],
  ['br_version', 'STRING', "UA parsing"],
  ['br_type', 'STRING', "UA parsing"],
  ['br_renderengine', 'STRING', "UA parsing"],
  ['br_lang', 'STRING', "lang"],
  ['br_features_pdf', 'BOOLEAN', "f_pdf"],
  ['br_features_flash', 'BOOLEAN', "f_fla"],
  ['br_features_java', 'BOOLEAN', "f_java"],
  ['br_features_director', 'BOOLEAN', "f_dir"],
  ['br_features_quicktime', 'BOOLEAN', "f_qt"],
  ['br_features_realplayer', 'BOOLEAN', "f_realp"],
  ['br_features_windowsmedia', 'BOOLEAN', "f_wma"],
  ['br_features_gears', 'BOOLEAN', "f_gears"],
  ['br_features_silverlight', 'BOOLEAN', "f_ag"],
  ['br_cookies', 'BOOLEAN', "cookie"],
  ['br_colordepth', 'STRING', "cd"],
  ['br_viewwidth', 'INTEGER', "vp (WxH)"],
  ['br_viewheight', 'INTEGER', "vp (WxH)"],
  ['os_name', 'STRING', "UA parsing"],
  ['os_family', 'STRING', "UA parsing"],
  ['os_manufacturer', 'STRING', "UA parsing"],
  ['os_timezone', 'STRING', "tz"],
  ['dvce_type', 'STRING', "UA parsing"],
  ['dvce_ismobile', 'BOOLEAN', "UA parsing"],
  ['dvce_screenwidth', 'INTEGER', "res (WxH)"],
  ['dvce_screenheight', 'INTEGER', "res (WxH)"],
  ['doc_charset', 'STRING', "cs"],
  ['doc_width', 'INTEGER', "ds (WxH)"],
  ['doc_height', 'INTEGER', "ds (WxH)"],
  ['tr_currency', 'STRING', "tr_cu"],
  ['tr_total_base', 'NUMERIC', "currency conversion"],
  ['tr_tax_base', 'NUMERIC', "currency conversion"],
  ['tr_shipping_base', 'NUMERIC', "currency conversion"],
  ['ti_currency', 'STRING', "ti_cu"],
  ['ti_price_base', 'NUMERIC', "currency conversion"],
  ['base_currency', 'STRING', "currency conversion"],
  ['geo_timezone', 'STRING', "IP lookup"],
  ['mkt_clickid', 'STRING', "gclid, msclkid, fbclid, dclid, ... value"],
  ['mkt_network', 'STRING', "the click id's network, e.g. Google, Microsoft, Facebook"],
  ['etl_tags', 'STRING', "free tags"],
  ['dvce_sent_tstamp', 'TIMESTAMP', "stm"],
  ['refr_domain_userid', 'STRING', "cross-domain linker (_sp param)"],
  ['refr_dvce_tstamp', 'TIMESTAMP', "cross-domain linker (_sp param)"],
  ['domain_sessionid', 'STRING', "sid"],
  ['derived_tstamp', 'TIMESTAMP', "collector_tstamp - (dvce_sent_tstamp - dvce_created_tstamp) when both device times exist, else collector_tstamp; ttm (true_tstamp) wins when sent"],
  ['event_vendor', 'STRING', "vendor of the event's schema (com.snowplowanalytics.snowplow for pv/pp/se/tr/ti)"],
  ['event_name', 'STRING', "name of the event's schema (page_view, page_ping, event, transaction, transaction_item, or the self-describing event's name)"],
  ['event_format', 'STRING', "jsonschema"],
  ['event_version', 'STRING', "SchemaVer of the event's schema, e.g. 1-0-0"],
  ['event_fingerprint', 'STRING', "hash of the event's parameters (minus volatile ones) for de-duplication"],
  ['true_tstamp', 'TIMESTAMP', "ttm"],
  ['load_tstamp', 'TIMESTAMP', "time the row was written to the warehouse (partitioning candidate)"],
];

const REQUIRED_COLUMNS: { [name: string]: boolean } = { collector_tstamp: true, event_id: true };

/** The atomic columns, in table order. */
export const ATOMIC_COLUMNS: readonly AtomicColumn[] = TABLE.map(function (row): AtomicColumn {
  return {
    name: row[0],
    type: row[1],
    mode: hasOwn(REQUIRED_COLUMNS, row[0]) ? 'REQUIRED' : 'NULLABLE',
    description: row[2],
  };
});

/** The atomic column names, in table order. */
export const ATOMIC_COLUMN_NAMES: readonly string[] = ATOMIC_COLUMNS.map(function (c) {
  return c.name;
});

const COLUMN_TYPES: { [name: string]: AtomicType } = {};
for (let i = 0; i < ATOMIC_COLUMNS.length; i++) COLUMN_TYPES[ATOMIC_COLUMNS[i].name] = ATOMIC_COLUMNS[i].type;

/** The BigQuery type of an atomic column, or null if `name` is not one. */
export function atomicColumnType(name: string): AtomicType | null {
  return hasOwn(COLUMN_TYPES, name) ? COLUMN_TYPES[name] : null;
}

/** The two kinds of self-describing columns. */
export type SelfDescribingKind = 'unstruct_event' | 'contexts';

const NON_NAME_CHARS = /[^a-z0-9_]/g;

/**
 * Lowercases and replaces every character outside [a-z0-9_] with `_` (vendor and name of a schema key).
 */
export function normaliseSchemaPart(s: string): string {
  return s.toLowerCase().replace(NON_NAME_CHARS, '_');
}

/**
 * THE column name for self-describing data: `unstruct_event_<vendor>_<name>_<major>` (RECORD) or
 * `contexts_<vendor>_<name>_<major>` (REPEATED RECORD), as BigQuery Loader v2 names them. `version` is a SchemaVer
 * (`1-0-2`) or just the MODEL (`1`).
 */
export function selfDescribingColumnName(kind: SelfDescribingKind, vendor: string, name: string, version: string): string {
  const dash = version.indexOf('-');
  const major = dash === -1 ? version : version.substring(0, dash);
  return kind + '_' + normaliseSchemaPart(vendor) + '_' + normaliseSchemaPart(name) + '_' + major;
}

const IGLU_URI = /^iglu:([a-zA-Z0-9_.-]+)\/([a-zA-Z0-9_-]+)\/([a-zA-Z0-9_-]+)\/([1-9][0-9]*|0)-(0|[1-9][0-9]*)-(0|[1-9][0-9]*)$/;

/** The parts of an Iglu schema key (`iglu:<vendor>/<name>/<format>/<M-R-A>`). */
export interface SchemaKey {
  readonly vendor: string;
  readonly name: string;
  readonly format: string;
  readonly version: string;
  readonly model: number;
  readonly revision: number;
  readonly addition: number;
}

/** Parses an Iglu schema key; null if it is not one. */
export function parseSchemaKey(uri: string): SchemaKey | null {
  const m = IGLU_URI.exec(uri);
  if (!m) return null;
  return {
    vendor: m[1],
    name: m[2],
    format: m[3],
    version: m[4] + '-' + m[5] + '-' + m[6],
    model: +m[4],
    revision: +m[5],
    addition: +m[6],
  };
}

/** The column for a schema key string, or null if `schemaKey` is not a valid Iglu key. */
export function columnForSchemaKey(kind: SelfDescribingKind, schemaKey: string): string | null {
  const k = parseSchemaKey(schemaKey);
  return k === null ? null : selfDescribingColumnName(kind, k.vendor, k.name, k.version);
}

const SNAKE_1 = /([A-Z]+)([A-Z][a-z])/g;
const SNAKE_2 = /([a-z0-9])([A-Z])/g;
const LEADING_DIGIT = /^[0-9]/;

/**
 * THE field-name function for properties of self-describing data: camelCase and PascalCase become snake_case
 * (`someHTTPValue` → `some_http_value`), everything outside [a-z0-9_] becomes `_`, and a leading digit gets a `_`
 * prefix, so every result is a valid BigQuery field name.
 */
export function snakeCase(name: string): string {
  let s = name.replace(SNAKE_1, '$1_$2').replace(SNAKE_2, '$1_$2').toLowerCase().replace(NON_NAME_CHARS, '_');
  if (s === '') s = '_';
  else if (LEADING_DIGIT.test(s)) s = '_' + s;
  return s;
}
