/**
 * What the tracker sent, decoded for people: the request of a collector payload (method, path, headers, user agent)
 * and its tp2 parameters, with the JSON parameters parsed (`ue_pr`, `co`) and the base64 ones decoded and parsed
 * (`ue_px`, `cx`). Pure functions over plain data; a value that does not decode is kept as sent, with the reason.
 *
 * Payload shapes: `iglu:io.waymark/collector_payload/jsonschema/1-0-1` (a GET's raw `querystring`, a POST event's
 * `parameters`), 1-0-0 (`parameters` only), and the Cloud Logging LogEntry of the CDN pixel (`httpRequest.requestUrl`).
 * Parameter names: reference/tracker-protocol.md (Snowplow tracker protocol).
 */
import { queryParameters } from '../../pipeline/adapters';
import { decodeBase64Utf8 } from '../../pipeline/text';

/** The JSON-valued tp2 parameters: as JSON text, and base64url-encoded. */
export const JSON_PARAMETERS: Readonly<Record<string, 'json' | 'base64'>> = { ue_pr: 'json', ue_px: 'base64', co: 'json', cx: 'base64' };

export interface DecodedPayload {
  /** `collector_payload` (GET or POST through the collector), `log_entry` (the CDN pixel) or `unknown`. */
  readonly format: 'collector_payload' | 'log_entry' | 'unknown';
  /** The request as the collector saw it (no parameters). */
  readonly request: Record<string, unknown>;
  /** The tp2 parameters as sent (strings). */
  readonly parameters: Record<string, string>;
  /** `ue_pr`/`ue_px`/`co`/`cx` parsed (and decoded from base64 where they were). */
  readonly decoded: Record<string, unknown>;
  /** Why a JSON parameter could not be decoded, by parameter name. */
  readonly problems: Record<string, string>;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function stringParams(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(v)) return out;
  for (const k of Object.keys(v)) {
    const x = v[k];
    if (typeof x === 'string') out[k] = x;
    else if (typeof x === 'number' || typeof x === 'boolean') out[k] = String(x);
  }
  return out;
}

function decodeJsonParameters(params: Record<string, string>): { decoded: Record<string, unknown>; problems: Record<string, string> } {
  const decoded: Record<string, unknown> = {};
  const problems: Record<string, string> = {};
  for (const name of Object.keys(JSON_PARAMETERS)) {
    if (!Object.prototype.hasOwnProperty.call(params, name)) continue;
    let text = params[name];
    if (JSON_PARAMETERS[name] === 'base64') {
      const r = decodeBase64Utf8(text);
      if (r.error !== undefined) {
        problems[name] = `not base64: ${r.error}`;
        continue;
      }
      text = r.value;
    }
    try {
      decoded[name] = JSON.parse(text) as unknown;
    } catch (e) {
      problems[name] = `not JSON: ${(e as Error).message}`;
    }
  }
  return { decoded, problems };
}

/** Decodes a collector payload (object or JSON text). Never throws. */
export function decodePayload(payload: unknown): DecodedPayload {
  let p = payload;
  if (typeof payload === 'string') {
    try {
      p = JSON.parse(payload) as unknown;
    } catch {
      return { format: 'unknown', request: { body: payload.length > 4000 ? `${payload.slice(0, 4000)}…` : payload }, parameters: {}, decoded: {}, problems: {} };
    }
  }
  if (!isObject(p)) return { format: 'unknown', request: {}, parameters: {}, decoded: {}, problems: {} };
  let format: DecodedPayload['format'] = 'unknown';
  let request: Record<string, unknown> = {};
  let parameters: Record<string, string> = {};
  if (isObject(p.data)) {
    format = 'collector_payload';
    const d = p.data;
    request = {};
    for (const k of Object.keys(d)) if (k !== 'parameters') request[k] = d[k];
    if (d.parameters !== undefined) parameters = stringParams(d.parameters);
    else if (typeof d.querystring === 'string') parameters = queryParameters(d.querystring).params;
  } else if (isObject(p.httpRequest) && typeof p.httpRequest.requestUrl === 'string') {
    format = 'log_entry';
    const url = p.httpRequest.requestUrl;
    request = { ...p.httpRequest, timestamp: p.timestamp };
    const noFragment = url.split('#')[0];
    const q = noFragment.indexOf('?');
    parameters = q === -1 ? {} : queryParameters(noFragment.slice(q + 1)).params;
  }
  return { format, request, parameters, ...decodeJsonParameters(parameters) };
}

const EVENT_TYPES: Readonly<Record<string, string>> = { pv: 'page_view', pp: 'page_ping', se: 'struct', ue: 'unstruct', tr: 'transaction', ti: 'transaction_item' };

/** The `event` column a tp2 `e` value becomes (pv → page_view), or the value itself when unknown. */
export function eventTypeOf(e: string | undefined): string | null {
  if (e === undefined || e === '') return null;
  return EVENT_TYPES[e] ?? e;
}

/** The Iglu URI of a self-describing event's payload (`ue_pr`/`ue_px` decoded), if there is one. */
export function unstructSchemaOf(decoded: Record<string, unknown>): string | null {
  const ue = decoded.ue_px ?? decoded.ue_pr;
  if (!isObject(ue) || !isObject(ue.data)) return null;
  return typeof ue.data.schema === 'string' ? ue.data.schema : null;
}
