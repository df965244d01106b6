/**
 * The collector service: one tp2 request in, the HTTP answer and the records to sink out. Pure apart from the
 * clock and the id generator it is given; the HTTP shell (server.ts) reads bodies and writes answers.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CollectorConfig } from './config';
import {
  allowedHeaders,
  clientIp,
  cookieDomain,
  corsHeaders,
  domainMatches,
  hasKey,
  hasParameters,
  hostnameOf,
  networkUserIdCookie,
  newParams,
  originAllowed,
  Params,
  queryValue,
  queryValues,
  readCookie,
  setKey,
  VALID_USER_ID,
} from './http-parts';
import { scanBody } from './json-scan';
import { badRow, BadRowMessage, BadRowType, collectorPayload, excerpt, NIL_UUID } from './payload';
import type { SinkRecord } from './sinks/types';
import { COLLECTOR_ID } from './version';

/** How the event arrives: in the query string (pixel, GET tp2), in a POST body, or through the redirect endpoint. */
export type EventKind = 'get' | 'post' | 'redirect';

export interface EventRequest {
  readonly kind: EventKind;
  readonly method: string;
  /** Path as received, without the query string. */
  readonly path: string;
  /** Raw query string without `?` ('' when none). */
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string | undefined;
  /** POST body, when it fit in maxBodyBytes. */
  readonly body?: Buffer;
  /** Set when the request had more headers than `maxHeaderCount` (refused: the HTTP parser drops the rest). */
  readonly headerCount?: number;
  readonly maxHeaderCount?: number;
  /** POST body larger than maxBodyBytes: its first bytes and how many bytes were seen (or announced). */
  readonly bodyOverflow?: { readonly head: Buffer; readonly totalBytes: number };
}

/** Whether the buffer would take `events` records of about `bytes` bytes now ('never': not even when empty). */
export type Admission = 'accepted' | 'full' | 'unhealthy' | 'closed' | 'never';

export interface ServiceContext {
  readonly config: CollectorConfig;
  readonly now: () => number;
  readonly uuid: () => string;
  /**
   * Asked before any record of a request is built (the buffer's `admit`): a request the buffer would refuse costs no
   * records. Without it every request is admitted.
   */
  readonly admit?: (events: number, bytes: number) => Admission;
}

/** Deepest JSON nesting accepted in a POST body: envelope, data, event, and a few levels of values. */
export const MAX_JSON_DEPTH = 32;
/** Memory a record costs besides the event's own text, at least (its metadata, entry and attributes). */
const RECORD_OVERHEAD_ESTIMATE = 400;

export interface Outcome {
  readonly status: number;
  /** Flat [name, value, name, value, ...] list (Content-Length is added by the shell). */
  readonly headers: string[];
  readonly body: Buffer | string;
  /** Encoding of a string body. @default 'utf8' */
  readonly encoding?: 'utf8' | 'latin1';
  readonly records: SinkRecord[];
  /** Set when the buffer refused the request before its records were built (answered 503 by the shell). */
  readonly refused?: 'full' | 'unhealthy' | 'closed';
}

/** 1x1 transparent GIF. */
export const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
/** The pixel as a latin1 string: Node then sends headers and body in one write instead of two. */
const PIXEL_LATIN1 = PIXEL.toString('latin1');
const NO_CACHE = 'no-cache, no-store, must-revalidate';
const PAYLOAD_DATA_PREFIX = 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-';

let lastIsoMs = -1;
let lastIso = '';
/** ISO time, cached per millisecond (many requests share one under load). */
function isoTime(ms: number): string {
  if (ms !== lastIsoMs) {
    lastIsoMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** Routing attributes: event type and app id (Pub/Sub attribute values are capped at 1024 bytes). */
function attributes(e: string | undefined, aid: string | undefined): Record<string, string> {
  const attrs: Record<string, string> = {};
  if (e !== undefined && e !== '') attrs.event_type = e.length > 256 ? e.slice(0, 256) : e;
  if (aid !== undefined && aid !== '') attrs.app_id = aid.length > 256 ? aid.slice(0, 256) : aid;
  return attrs;
}

/** The parameters the routing attributes come from: event type and app id. */
const ROUTING_PARAMETERS: readonly string[] = ['e', 'aid'];

const attributesOf = (params: Params): Record<string, string> =>
  attributes(hasKey(params, 'e') ? params.e : undefined, hasKey(params, 'aid') ? params.aid : undefined);

function text(status: number, body: string, headers: string[], records: SinkRecord[] = []): Outcome {
  return { status, headers: [...headers, 'Content-Type', 'text/plain; charset=utf-8', 'Cache-Control', NO_CACHE], body, records };
}

/** Validates a POST body: a payload_data envelope whose `data` holds parameter objects. */
function parseBatch(body: Buffer, maxEvents: number): { events: Params[]; invalid: { index: number; raw: string; message: BadRowMessage }[] } | { error: BadRowMessage; type?: BadRowType } {
  if (body.length === 0) return { error: { field: 'body', value: null, expectation: 'a JSON payload_data envelope; the body was empty' } };
  // Depth and batch size before parsing: nothing below recurses, and a huge batch is refused before it is built.
  const shape = scanBody(body, MAX_JSON_DEPTH, maxEvents);
  if (shape.tooDeepAt >= 0) {
    return { error: { field: 'body', value: null, expectation: `JSON nested at most ${MAX_JSON_DEPTH} levels deep; level ${MAX_JSON_DEPTH + 1} was reached at byte ${shape.tooDeepAt}` } };
  }
  if (shape.events > maxEvents) {
    return { type: 'size_violation', error: { field: 'body.data', value: null, expectation: `at most ${maxEvents} events in one batch (maxEventsPerBatch); it had more` } };
  }
  const textBody = body.toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(textBody);
  } catch (e) {
    return { error: { field: 'body', value: excerpt(textBody), expectation: `valid JSON (${(e as Error).message})` } };
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { error: { field: 'body', value: excerpt(textBody), expectation: 'a JSON object {"schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4", "data": [...]}' } };
  }
  const { schema, data } = doc as { schema?: unknown; data?: unknown };
  if (typeof schema !== 'string' || !schema.startsWith(PAYLOAD_DATA_PREFIX)) {
    return { error: { field: 'body.schema', value: typeof schema === 'string' ? excerpt(schema) : null, expectation: `a schema key starting with "${PAYLOAD_DATA_PREFIX}"` } };
  }
  if (!Array.isArray(data) || data.length === 0) {
    return { error: { field: 'body.data', value: Array.isArray(data) ? '[]' : data === undefined ? null : excerpt(JSON.stringify(data) ?? ''), expectation: 'a non-empty array of events (objects of string parameters)' } };
  }
  const events: Params[] = [];
  const invalid: { index: number; raw: string; message: BadRowMessage }[] = [];
  data.forEach((item: unknown, index) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      const raw = JSON.stringify(item) ?? 'undefined';
      invalid.push({ index, raw, message: { field: `body.data[${index}]`, value: excerpt(raw), expectation: 'an object of string parameters' } });
      return;
    }
    const params = newParams();
    for (const [k, v] of Object.entries(item as Record<string, unknown>)) {
      if (v === null || v === undefined) continue;
      // The protocol sends strings; numbers and booleans from lenient trackers are kept as their text.
      setKey(params, k, typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v));
    }
    events.push(params);
  });
  return { events, invalid };
}

/** Checks a /r/tp2 target: an http(s) URL on an allowed domain. */
export function redirectTarget(u: string | undefined, allowedDomains: readonly string[]): string | null {
  if (u === undefined || u === '') return null;
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.username !== '' || url.password !== '') return null;
  const host = url.hostname.toLowerCase();
  return allowedDomains.some((d) => domainMatches(host, d)) ? url.href : null;
}

/** Handles one event request (GET pixel / tp2, POST tp2, redirect). */
export function handleEvent(req: EventRequest, ctx: ServiceContext): Outcome {
  const { config } = ctx;
  const nowMs = ctx.now();
  const tstamp = isoTime(nowMs);
  const origin = header(req.headers, 'origin');
  // A page outside the allowed origins: refused (403 is not retried by trackers), nothing recorded, no CORS headers.
  if (!originAllowed(origin, config.cors.allowedOrigins)) return text(403, 'origin not allowed', []);
  const cors = corsHeaders(origin);
  const contentType = header(req.headers, 'content-type') ?? null;
  const hostname = hostnameOf(header(req.headers, 'host'));

  const bad = (type: BadRowType, messages: BadRowMessage[], raw: string, rawBytes?: number): SinkRecord => ({
    stream: 'bad',
    data: JSON.stringify(badRow({ type, messages, tstamp, path: req.path, method: req.method, contentType, hostname, raw, rawBytes, maxPayloadBytes: config.badRowMaxPayloadBytes })),
    attributes: { type },
  });

  // Size limits first: nothing else of an oversized request is looked at.
  const urlBytes = req.path.length + (req.query === '' ? 0 : req.query.length + 1);
  if (urlBytes > config.maxUrlBytes) {
    const messages = [{ field: 'url', value: null, expectation: `a request URL of at most ${config.maxUrlBytes} bytes; it had ${urlBytes}` }];
    return text(400, `payload too large: URL of ${urlBytes} bytes, limit ${config.maxUrlBytes}`, cors, [bad('size_violation', messages, req.query, urlBytes)]);
  }
  if (req.headerCount !== undefined && req.maxHeaderCount !== undefined && req.headerCount > req.maxHeaderCount) {
    const messages = [{ field: 'headers', value: null, expectation: `at most ${req.maxHeaderCount} request headers (the HTTP parser drops the rest, an SP-Anonymous among them); it had more` }];
    return text(400, `payload too large: more than ${req.maxHeaderCount} request headers`, cors, [bad('size_violation', messages, req.query, req.query.length)]);
  }
  if (req.bodyOverflow) {
    const { head, totalBytes } = req.bodyOverflow;
    const messages = [{ field: 'body', value: null, expectation: `a body of at most ${config.maxBodyBytes} bytes; it had ${totalBytes}` }];
    return text(400, `payload too large: body of ${totalBytes} bytes, limit ${config.maxBodyBytes}`, cors, [bad('size_violation', messages, head.toString('utf8'), totalBytes)]);
  }

  // The redirect endpoint only ever sends browsers to allowed domains.
  let redirectTo: string | null = null;
  if (req.kind === 'redirect') {
    redirectTo = redirectTarget(queryValue(req.query, 'u'), config.redirect.allowedDomains);
    if (redirectTo === null) return text(400, 'redirect target missing or not allowed', cors);
  }

  // Do not track: answer as usual, record nothing, set nothing.
  const cookieHeader = header(req.headers, 'cookie');
  const dnt = config.doNotTrackCookie;
  if (dnt !== null) {
    const v = readCookie(cookieHeader, dnt.name);
    if (v !== undefined && dnt.value.test(v)) return success(req, cors, [], null, redirectTo);
  }

  // Parameters of each event: the objects of a POST batch, or a GET's query string as received (null here), which the
  // enricher parses (collector_payload 1-0-1): parsing and re-encoding 20-30 parameters per request cost more than
  // the rest of the event together.
  let events: (Params | null)[];
  const records: SinkRecord[] = [];
  if (req.kind === 'post') {
    const body = req.body ?? Buffer.alloc(0);
    const parsed = parseBatch(body, config.maxEventsPerBatch);
    if ('error' in parsed) {
      // Only the part a bad row keeps is decoded (the row truncates to badRowMaxPayloadBytes anyway).
      const keep = Math.min(body.length, config.badRowMaxPayloadBytes + 4);
      const raw = body.toString('utf8', 0, keep);
      const type = parsed.type ?? 'collector_payload_format_violation';
      const reason = type === 'size_violation' ? 'payload too large' : 'malformed payload';
      return text(400, `${reason}: ${parsed.error.field}: expected ${parsed.error.expectation}`.slice(0, 300), cors, [bad(type, [parsed.error], raw, body.length)]);
    }
    events = parsed.events;
    for (const inv of parsed.invalid) records.push(bad('collector_payload_format_violation', [inv.message], inv.raw));
    if (events.length === 0) return text(400, 'malformed payload: no event in body.data is an object', cors, records);
  } else {
    // HEAD (monitors, link checkers) and GETs without parameters are answered but record nothing.
    events = req.method !== 'HEAD' && hasParameters(req.query) ? [null] : [];
  }

  // Ask the buffer before building anything: a refusal (busy, or a batch that could never fit) builds no record.
  if (events.length > 0 && ctx.admit !== undefined) {
    const estimate = (req.body?.length ?? req.query.length) + events.length * RECORD_OVERHEAD_ESTIMATE;
    const admission = ctx.admit(events.length + records.length, estimate);
    if (admission === 'never') return tooLargeForBuffer(events.length + records.length, estimate);
    if (admission !== 'accepted') return { ...text(503, '', cors), records: [], refused: admission };
  }

  // Identity.
  const anonymous = req.headers['sp-anonymous'] !== undefined;
  const cookie = config.cookie;
  let networkUserId: string | null;
  let setCookie: string | null = null;
  if (anonymous) {
    networkUserId = NIL_UUID;
  } else {
    const existing = readCookie(cookieHeader, cookie.name);
    networkUserId = existing !== undefined && VALID_USER_ID.test(existing) ? existing : cookie.enabled ? ctx.uuid() : null;
    if (cookie.enabled && networkUserId !== null) setCookie = networkUserIdCookie(networkUserId, cookieDomain(origin, cookie), cookie, nowMs);
  }
  const method = req.kind === 'post' ? 'POST' : 'GET';
  const querystring = req.query !== '' ? req.query : undefined;
  const ipAddress = anonymous ? null : clientIp(req.headers['x-forwarded-for'], req.remoteAddress, config.xffTrustedHops);
  const headers = allowedHeaders(req.headers, config.headersAllowList, anonymous);
  const userAgent = header(req.headers, 'user-agent') ?? null;
  const refererUri = header(req.headers, 'referer') ?? null;

  function tooLargeForBuffer(count: number, bytes: number): Outcome {
    const messages = [{ field: 'body.data', value: null, expectation: `a batch the collector's buffer can hold (buffer.maxEvents events, buffer.maxBytes bytes); it had ${count} events of about ${bytes} bytes as records` }];
    const raw = req.body === undefined ? req.query : req.body.toString('utf8', 0, Math.min(req.body.length, config.badRowMaxPayloadBytes + 4));
    return text(400, `payload too large: ${count} events could never fit in the buffer`, cors, [bad('size_violation', messages, raw, req.body?.length ?? req.query.length)]);
  }

  for (const parameters of events) {
    const payload = collectorPayload({
      timestamp: tstamp,
      collector: COLLECTOR_ID,
      ipAddress,
      userAgent,
      refererUri,
      headers,
      networkUserId,
      contentType,
      method,
      path: req.path,
      querystring,
      hostname,
      // Undefined for GETs: JSON.stringify leaves it out (one object shape for every event, no spread).
      parameters: parameters ?? undefined,
    });
    let attrs: Record<string, string>;
    if (parameters === null) {
      const [e, aid] = queryValues(req.query, ROUTING_PARAMETERS);
      attrs = attributes(e, aid);
    } else {
      attrs = attributesOf(parameters);
    }
    records.push({ stream: 'good', data: JSON.stringify(payload), attributes: attrs });
  }
  if (ctx.admit !== undefined && records.length > 1) {
    let bytes = 0;
    for (const r of records) bytes += r.data.length;
    if (ctx.admit(records.length, bytes) === 'never') return tooLargeForBuffer(records.length, bytes);
  }
  return success(req, cors, records, setCookie, redirectTo);
}

function success(req: EventRequest, cors: string[], records: SinkRecord[], setCookie: string | null, redirectTo: string | null = null): Outcome {
  const headers = cors.length === 0 ? [] : cors.slice();
  if (setCookie !== null) headers.push('Set-Cookie', setCookie);
  if (req.kind === 'redirect' && redirectTo !== null) {
    return { status: 302, headers: [...headers, 'Location', redirectTo, 'Cache-Control', NO_CACHE], body: '', records };
  }
  if (req.kind === 'post') return text(200, 'ok', headers, records);
  headers.push('Content-Type', 'image/gif', 'Cache-Control', NO_CACHE);
  return { status: 200, headers, body: PIXEL_LATIN1, encoding: 'latin1', records };
}

/** What was readable of a request whose request line plus headers passed the size limit. */
export interface OversizedHead {
  /**
   * The bytes the HTTP parser was reading when it gave up (Node's `err.rawPacket`). They start with the request line
   * when the request came in one piece (the usual case); otherwise the request line is unknown.
   */
  readonly packet: Buffer | undefined;
  /** The limit that was passed (http.maxHeaderBytes). */
  readonly limit: number;
}

export interface OversizedOutcome extends Outcome {
  /** The request's Origin when it could be read (for the CORS headers of a 503). */
  readonly origin: string | undefined;
}

const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}) (\/\S*)(?: HTTP\/1\.[01])?$/;

/**
 * Answers a request whose request line and headers were too large for the HTTP parser (Node would answer 431,
 * which trackers retry forever): 400 with a short reason, CORS headers when the Origin could be read, and — when
 * the request line was readable and names an event route — a size_violation bad row with the (truncated) query
 * string, like an oversized URL. Pure: the caller reads nothing else of the request.
 */
export function oversizedHead(head: OversizedHead, ctx: ServiceContext, isEventRoute: (method: string, path: string) => boolean): OversizedOutcome {
  const { config } = ctx;
  const reason = `payload too large: request line and headers over ${head.limit} bytes`;
  const text0 = head.packet === undefined ? '' : head.packet.toString('latin1');
  const firstEnd = text0.indexOf('\n');
  const complete = firstEnd >= 0;
  const line = complete ? text0.slice(0, firstEnd).replace(/\r$/, '') : text0;
  const m = REQUEST_LINE.exec(line);
  // A complete request line names its HTTP version; an incomplete one is a URL cut off by the limit.
  const requestLine = m !== null && (complete ? / HTTP\/1\.[01]$/.test(line) : true) ? { method: m[1], target: m[2] } : null;
  // Headers: only whole lines (the last one may be cut off).
  const seen: Record<string, string> = {};
  if (requestLine !== null && complete) {
    let start = firstEnd + 1;
    for (let end = text0.indexOf('\n', start); end >= 0; start = end + 1, end = text0.indexOf('\n', start)) {
      const l = text0.slice(start, end).replace(/\r$/, '');
      if (l === '') break;
      const colon = l.indexOf(':');
      if (colon <= 0) continue;
      const name = l.slice(0, colon).trim().toLowerCase();
      if ((name === 'origin' || name === 'host' || name === 'content-type') && !(name in seen)) seen[name] = l.slice(colon + 1).trim();
    }
  }
  const origin = seen.origin;
  if (!originAllowed(origin, config.cors.allowedOrigins)) return { ...text(403, 'origin not allowed', []), origin };
  const cors = corsHeaders(origin);
  if (requestLine === null) return { ...text(400, reason, cors), origin };
  const q = requestLine.target.indexOf('?');
  const path = q < 0 ? requestLine.target : requestLine.target.slice(0, q);
  if (!isEventRoute(requestLine.method, path)) return { ...text(400, reason, cors), origin };
  const query = q < 0 ? '' : requestLine.target.slice(q + 1);
  const urlBytes = requestLine.target.length;
  const messages: BadRowMessage[] = complete
    ? [{ field: 'headers', value: null, expectation: `a request line plus headers of at most ${head.limit} bytes` }]
    : [{ field: 'url', value: null, expectation: `a request URL of at most ${config.maxUrlBytes} bytes and a request line plus headers of at most ${head.limit} bytes; the URL had more than ${urlBytes}` }];
  const tstamp = isoTime(ctx.now());
  const row = badRow({
    type: 'size_violation',
    messages,
    tstamp,
    path,
    method: requestLine.method,
    contentType: seen['content-type'] ?? null,
    hostname: hostnameOf(seen.host),
    raw: query,
    truncated: !complete,
    maxPayloadBytes: config.badRowMaxPayloadBytes,
  });
  const record: SinkRecord = { stream: 'bad', data: JSON.stringify(row), attributes: { type: 'size_violation' } };
  return { ...text(400, reason, cors, [record]), origin };
}
