/**
 * Input adapters: the three shapes an event arrives in, turned into one {@link RawEvent}.
 * - a Waymark CollectorPayload (contract 2): `{"schema":"iglu:io.waymark/collector_payload/jsonschema/1-0-1","data":{...}}`
 *   (1-0-0 too): a POST event's parameters in `parameters`, a GET event's in the raw `querystring`, parsed here;
 * - a Cloud Logging load-balancer LogEntry from the CDN pixel path (contract 3): parameters from the query string of
 *   `httpRequest.requestUrl`, IP/user agent/referer/time from the entry, no network user id;
 * - a bare tp2 parameter map (`{"e":"pv","eid":...}`), or a payload_data envelope holding exactly one such map.
 */
import { BAD_ROW_SCHEMA, FailureMessage, FailureType } from './badrow';
import { hasOwn, isArray, isObject, keys, preview, startsWith } from './es5';
import { stringifyJson } from './json';
import { parseRfc3339 } from './time';
import { parseQuery } from './url';

export type InputFormat = 'collector_payload' | 'log_entry' | 'tp2';

/** One event's parameters plus what the collector (or load balancer) saw. */
export interface RawEvent {
  readonly format: InputFormat;
  /** tp2 parameters, every value a string. */
  readonly params: { readonly [name: string]: string };
  /** When the collector received the event (ms since epoch); null for bare parameter maps. */
  readonly collectorTstamp: number | null;
  /** Collector name and version (`v_collector`). */
  readonly collector: string | null;
  readonly ipAddress: string | null;
  readonly userAgent: string | null;
  readonly refererUri: string | null;
  readonly networkUserId: string | null;
}

export type AdaptResult =
  | { event: RawEvent; failure?: undefined; passThrough?: undefined }
  | { event?: undefined; failure: { type: FailureType; messages: FailureMessage[] }; passThrough?: undefined }
  | { event?: undefined; failure?: undefined; passThrough: unknown };

export const COLLECTOR_PAYLOAD_PREFIX = 'iglu:io.waymark/collector_payload/jsonschema/1-';
export const PAYLOAD_DATA_PREFIX = 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-';
const BAD_ROW_PREFIX = BAD_ROW_SCHEMA.substring(0, BAD_ROW_SCHEMA.lastIndexOf('/') + 2);

/** `v_collector` of events that came through the CDN pixel's load-balancer log. */
export const CDN_PIXEL_COLLECTOR = 'gcp-cdn-pixel';

function violation(type: FailureType, field: string, value: unknown, expectation: string): AdaptResult {
  const v = value === undefined ? null : typeof value === 'string' ? preview(value, 200) : preview(stringifyJson(value), 200);
  return { failure: { type: type, messages: [{ field: field, value: v, expectation: expectation }] } };
}

function optionalString(obj: Record<string, unknown>, key: string): string | null {
  const v = obj[key];
  return typeof v === 'string' && v !== '' ? v : null;
}

/** Copies a parameter object, turning numbers and booleans into strings; reports anything else. */
function stringMap(obj: Record<string, unknown>, field: string): { params: { [k: string]: string } } | { error: AdaptResult } {
  // Trackers send strings only: then the object is used as it is, without a copy.
  const names = keys(obj);
  let allStrings = true;
  for (let i = 0; i < names.length; i++) {
    if (typeof obj[names[i]] !== 'string') {
      allStrings = false;
      break;
    }
  }
  if (allStrings) return { params: obj as { [k: string]: string } };
  const params: { [k: string]: string } = {};
  for (let i = 0; i < names.length; i++) {
    const k = names[i];
    const v = obj[k];
    if (typeof v === 'string') params[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') params[k] = String(v);
    else if (v === null) continue;
    else return { error: violation('collector_payload_format_violation', field + '.' + k, v, 'a string value (tp2 parameters are strings)') };
  }
  return { params: params };
}

/**
 * The tp2 parameters of a query string (a GET's, or the CDN pixel's request URL): names and values decoded (malformed
 * escapes kept as they are), empty names ignored, the last of a repeated name wins. `count` is how many names.
 */
export function queryParameters(query: string): { params: { [k: string]: string }; count: number } {
  const pairs = parseQuery(query);
  const params: { [k: string]: string } = {};
  let count = 0;
  for (let i = 0; i < pairs.length; i++) {
    const name = pairs[i][0];
    if (name === '') continue;
    if (!hasOwn(params, name)) count++;
    // `__proto__` is data like any other name: an own property, never the prototype.
    if (name === '__proto__') Object.defineProperty(params, name, { value: pairs[i][1], enumerable: true, writable: true, configurable: true });
    else params[name] = pairs[i][1];
  }
  return { params: params, count: count };
}

function adaptCollectorPayload(json: Record<string, unknown>): AdaptResult {
  const data = json.data;
  if (!isObject(data)) return violation('collector_payload_format_violation', 'data', data, 'an object with the collector payload fields');
  const ts = data.timestamp;
  const tstamp = typeof ts === 'string' ? parseRfc3339(ts) : null;
  if (tstamp === null) return violation('collector_payload_format_violation', 'data.timestamp', ts, 'an RFC 3339 timestamp such as 2024-05-01T12:00:00.000Z');
  const parameters = data.parameters;
  const querystring = data.querystring;
  let params: { [k: string]: string };
  if (parameters === undefined && typeof querystring === 'string' && data.method !== 'POST') {
    // A GET: the collector sends the query string as received (1-0-1).
    const parsed = queryParameters(querystring);
    if (parsed.count === 0) return violation('collector_payload_format_violation', 'data.querystring', querystring, 'a query string carrying tp2 parameters');
    params = parsed.params;
  } else {
    if (!isObject(parameters)) return violation('collector_payload_format_violation', 'data.parameters', parameters, 'an object of tp2 parameters (or, for a GET, a query string carrying them)');
    const map = stringMap(parameters, 'data.parameters');
    if ('error' in map) return map.error;
    params = map.params;
  }
  return {
    event: {
      format: 'collector_payload',
      params: params,
      collectorTstamp: tstamp,
      collector: optionalString(data, 'collector'),
      ipAddress: optionalString(data, 'ipAddress'),
      userAgent: optionalString(data, 'userAgent'),
      refererUri: optionalString(data, 'refererUri'),
      networkUserId: optionalString(data, 'networkUserId'),
    },
  };
}

function adaptLogEntry(json: Record<string, unknown>): AdaptResult {
  const req = json.httpRequest as Record<string, unknown>;
  const url = req.requestUrl as string;
  const tsRaw = typeof json.timestamp === 'string' ? json.timestamp : json.receiveTimestamp;
  const tstamp = typeof tsRaw === 'string' ? parseRfc3339(tsRaw) : null;
  if (tstamp === null) return violation('adapter_failures', 'timestamp', tsRaw, 'the LogEntry timestamp as RFC 3339');
  const hash = url.indexOf('#');
  const noFragment = hash === -1 ? url : url.substring(0, hash);
  const q = noFragment.indexOf('?');
  const parsed = queryParameters(q === -1 ? '' : noFragment.substring(q + 1));
  const params = parsed.params;
  if (parsed.count === 0 || !hasOwn(params, 'e')) {
    return violation('adapter_failures', 'httpRequest.requestUrl', url, 'a tracker pixel request whose query string carries tp2 parameters (at least e)');
  }
  return {
    event: {
      format: 'log_entry',
      params: params,
      collectorTstamp: tstamp,
      collector: CDN_PIXEL_COLLECTOR,
      ipAddress: optionalString(req, 'remoteIp'),
      userAgent: optionalString(req, 'userAgent'),
      refererUri: optionalString(req, 'referer'),
      networkUserId: null,
    },
  };
}

/** Recognises the input's format and adapts it; failures say what was expected. */
export function adapt(json: unknown): AdaptResult {
  if (!isObject(json)) {
    return violation('collector_payload_format_violation', '$', json, 'a JSON object: a collector payload, a load-balancer LogEntry or a tp2 parameter map');
  }
  const schema = json.schema;
  if (typeof schema === 'string') {
    if (startsWith(schema, COLLECTOR_PAYLOAD_PREFIX)) return adaptCollectorPayload(json);
    if (startsWith(schema, BAD_ROW_PREFIX)) return { passThrough: json };
    if (startsWith(schema, PAYLOAD_DATA_PREFIX)) {
      const data = json.data;
      if (!isArray(data) || data.length !== 1 || !isObject(data[0])) {
        return violation('adapter_failures', 'data', isArray(data) ? data.length + ' events' : data, 'exactly one event: the enricher is one-in/one-out, so batches are split before enrichment');
      }
      const map = stringMap(data[0], 'data[0]');
      if ('error' in map) return map.error;
      return { event: bareEvent(map.params) };
    }
    return violation('collector_payload_format_violation', 'schema', schema, 'iglu:io.waymark/collector_payload/jsonschema/1-0-1 (or 1-0-0) or a payload_data envelope');
  }
  const req = json.httpRequest;
  if (isObject(req)) {
    if (typeof req.requestUrl !== 'string') return violation('adapter_failures', 'httpRequest.requestUrl', req.requestUrl, 'the request URL of the pixel request');
    return adaptLogEntry(json);
  }
  if (hasOwn(json, 'e') || hasOwn(json, 'eid') || hasOwn(json, 'tv')) {
    const map = stringMap(json, '$');
    if ('error' in map) return map.error;
    return { event: bareEvent(map.params) };
  }
  return violation('collector_payload_format_violation', '$', json, 'a collector payload, a load-balancer LogEntry or a tp2 parameter map (with e, eid, tv)');
}

function bareEvent(params: { [k: string]: string }): RawEvent {
  return {
    format: 'tp2',
    params: params,
    collectorTstamp: null,
    collector: null,
    ipAddress: null,
    userAgent: null,
    refererUri: null,
    networkUserId: null,
  };
}
