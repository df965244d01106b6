/**
 * Collector configuration: environment variables and/or a JSON file, validated at start.
 *
 * Every setting has a dotted key (its place in the JSON file, e.g. `cookie.maxAgeSeconds`) and an environment
 * variable (e.g. `WAYMARK_COOKIE_MAX_AGE_SECONDS`); the environment wins over the file, the file over the defaults.
 * Errors name both, say what was expected and what was found. With no configuration at all the collector writes
 * to stdout (`sinkDefaulted` tells the caller to say so).
 */
import { readFileSync } from 'node:fs';

export type SinkType = 'stdout' | 'file' | 'memory' | 'pubsub';
export type SameSite = 'None' | 'Lax' | 'Strict';
/**
 * `buffered`: 2xx once the events are in the buffer. `delivered`: once the sink has confirmed them. `after-publish`:
 * the same wait, named for the Pub/Sub sink, where the confirmation is Pub/Sub's acknowledgement of the publish.
 */
export type AckMode = 'buffered' | 'delivered' | 'after-publish';
export type LogLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
/** The two tp2 endpoints a custom path can stand for. */
export type Tp2Target = '/com.snowplowanalytics.snowplow/tp2' | '/i';

export type SinkConfig =
  | { readonly type: 'stdout' }
  | { readonly type: 'memory'; readonly maxEvents: number }
  | { readonly type: 'file'; readonly directory: string }
  | {
      readonly type: 'pubsub';
      readonly projectId: string | null;
      readonly goodTopic: string;
      readonly badTopic: string;
      readonly batchMaxMessages: number;
      readonly batchMaxMilliseconds: number;
      readonly batchMaxBytes: number;
      readonly publishTimeoutMs: number;
    };

export interface CookieConfig {
  readonly enabled: boolean;
  readonly name: string;
  readonly maxAgeSeconds: number;
  /** Cookie domains chosen by matching the request Origin (e.g. `acme.com` matches `https://www.acme.com`). */
  readonly domains: readonly string[];
  readonly fallbackDomain: string | null;
  readonly secure: boolean;
  readonly httpOnly: boolean;
  readonly sameSite: SameSite;
}

export interface CollectorConfig {
  readonly port: number;
  readonly host: string;
  readonly sink: SinkConfig;
  readonly cookie: CookieConfig;
  /** A do-not-track cookie: name, and a regular expression its whole value must match. */
  readonly doNotTrackCookie: { readonly name: string; readonly value: RegExp } | null;
  /** Entries appended to X-Forwarded-For after the client's by trusted proxies (Google's LB: 1); null ignores the header. */
  readonly xffTrustedHops: number | null;
  readonly maxBodyBytes: number;
  /** Events in one POST batch; more: 400 and a size_violation bad row, before any record is built. */
  readonly maxEventsPerBatch: number;
  readonly maxUrlBytes: number;
  readonly badRowMaxPayloadBytes: number;
  readonly redirect: { readonly enabled: boolean; readonly allowedDomains: readonly string[] };
  readonly customPaths: Readonly<Record<string, Tp2Target>>;
  /** Preflight cache time; origins (domains, subdomains included) allowed to send events from a browser, empty = any. */
  readonly cors: { readonly maxAgeSeconds: number; readonly allowedOrigins: readonly string[] };
  /** Request headers copied into each payload (lower case). */
  readonly headersAllowList: readonly string[];
  readonly buffer: {
    readonly maxEvents: number;
    readonly maxBytes: number;
    readonly batchSize: number;
    readonly maxInflightBatches: number;
    readonly retryInitialMs: number;
    readonly retryMaxMs: number;
    readonly sinkUnhealthyAfterMs: number;
  };
  /** `buffered`: answer once events are in the buffer; `delivered`: once the sink has them (serverless). */
  readonly ackMode: AckMode;
  readonly deliveryTimeoutMs: number;
  readonly retryAfterSeconds: number;
  readonly shutdownTimeoutMs: number;
  readonly http: {
    readonly headersTimeoutMs: number;
    readonly requestTimeoutMs: number;
    readonly keepAliveTimeoutMs: number;
    readonly maxHeaderBytes: number;
    readonly maxConnections: number;
  };
  /** `GET /debug/events` and `DELETE /debug/events` (memory sink only). Test/local use only. */
  readonly debugEndpoints: boolean;
  readonly logLevel: LogLevel;
}

export interface LoadedConfig {
  readonly config: CollectorConfig;
  /** True when no sink was configured and stdout was chosen: the caller should log it. */
  readonly sinkDefaulted: boolean;
  /** Where settings came from, for the start-up log (no values). */
  readonly sources: readonly string[];
  /** Things to log as warnings (unknown WAYMARK_* variables, each naming the closest setting). */
  readonly warnings: readonly string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid collector configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The settings table

type Parser = (raw: unknown) => unknown; // throws Error(message) on a bad value

interface Setting {
  readonly key: string;
  readonly env: string;
  readonly parse: Parser;
  readonly def: unknown;
  readonly doc: string;
}

const fail = (message: string): never => {
  throw new Error(message);
};
const shown = (raw: unknown): string => (typeof raw === 'string' ? JSON.stringify(raw) : JSON.stringify(raw) ?? String(raw));

const int = (min: number, max = Number.MAX_SAFE_INTEGER): Parser => (raw) => {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    return fail(`must be an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'any size' : max}, got ${shown(raw)}`);
  }
  return n;
};
const bool: Parser = (raw) => {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string') {
    const v = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
  }
  return fail(`must be true or false, got ${shown(raw)}`);
};
const str = (pattern?: RegExp, expectation?: string): Parser => (raw) => {
  if (typeof raw !== 'string' || raw.trim() === '') return fail(`must be a non-empty string, got ${shown(raw)}`);
  const v = raw.trim();
  if (pattern && !pattern.test(v)) return fail(`must be ${expectation}, got ${shown(raw)}`);
  return v;
};
const oneOf = <T extends string>(values: readonly T[], caseInsensitive = false): Parser => (raw) => {
  const v = typeof raw === 'string' ? raw.trim() : raw;
  const hit = values.find((x) => x === v || (caseInsensitive && typeof v === 'string' && x.toLowerCase() === v.toLowerCase()));
  return hit ?? fail(`must be one of ${values.map((x) => `"${x}"`).join(', ')}, got ${shown(raw)}`);
};
const list = (item: Parser): Parser => (raw) => {
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter((s) => s !== '') : fail(`must be a list (JSON array, or comma-separated in an environment variable), got ${shown(raw)}`);
  return (items as unknown[]).map((x, i) => {
    try {
      return item(x);
    } catch (e) {
      return fail(`item ${i + 1}: ${(e as Error).message}`);
    }
  });
};
const DOMAIN = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/;
const domain: Parser = (raw) => {
  const v = typeof raw === 'string' ? raw.trim().toLowerCase().replace(/^\./, '') : raw;
  return str(DOMAIN, 'a domain name such as "acme.com" (no scheme, port or path)')(v);
};
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const headerName: Parser = (raw) => (str(TOKEN, 'an HTTP header name')(raw) as string).toLowerCase();
const regex: Parser = (raw) => {
  const source = str()(raw) as string;
  try {
    return new RegExp(`^(?:${source})$`);
  } catch (e) {
    return fail(`must be a valid regular expression: ${(e as Error).message}`);
  }
};
const hops: Parser = (raw) => (typeof raw === 'string' && raw.trim().toLowerCase() === 'off') || raw === null ? null : int(0, 16)(raw);
const TP2_TARGETS: readonly Tp2Target[] = ['/com.snowplowanalytics.snowplow/tp2', '/i'];
const TWO_SEGMENTS = /^\/[A-Za-z0-9._~-]+\/[A-Za-z0-9._~-]+$/;
const customPaths: Parser = (raw) => {
  let entries: [string, unknown][];
  if (typeof raw === 'string') {
    entries = raw.split(',').map((s) => s.trim()).filter((s) => s !== '').map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? fail(`entries must look like "/vendor/path=/i" or "/vendor/path=/com.snowplowanalytics.snowplow/tp2", got ${shown(pair)}`) : [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
    });
  } else if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    entries = Object.entries(raw);
  } else {
    return fail(`must be an object mapping paths to tp2 endpoints, got ${shown(raw)}`);
  }
  const out: Record<string, Tp2Target> = {};
  for (const [path, target] of entries) {
    if (!TWO_SEGMENTS.test(path)) fail(`path ${shown(path)} must have exactly two segments, like "/acme/events"`);
    if (path.startsWith('/com.snowplowanalytics.snowplow/') || path === '/r/tp2') fail(`path ${shown(path)} is a built-in endpoint`);
    if (!TP2_TARGETS.includes(target as Tp2Target)) fail(`path ${shown(path)} must map to one of ${TP2_TARGETS.map((t) => `"${t}"`).join(', ')}, got ${shown(target)}`);
    out[path] = target as Tp2Target;
  }
  return out;
};

const DEFAULT_HEADERS = [
  'accept-language',
  'origin',
  'dnt',
  'sec-gpc',
  'sec-ch-ua',
  'sec-ch-ua-mobile',
  'sec-ch-ua-platform',
  'x-client-region',
  'x-client-city',
  'x-client-geo-location',
];

/** Every setting: JSON key, environment variable, parser, default. Exported for the documentation test. */
export const SETTINGS: readonly Setting[] = [
  { key: 'port', env: 'PORT', parse: int(0, 65535), def: 8080, doc: 'TCP port to listen on (0 = any free port)' },
  { key: 'host', env: 'WAYMARK_HOST', parse: str(), def: '0.0.0.0', doc: 'address to listen on' },
  { key: 'sink.type', env: 'WAYMARK_SINK', parse: oneOf<SinkType>(['stdout', 'file', 'memory', 'pubsub']), def: undefined, doc: 'where events go: pubsub, stdout, file (JSONL) or memory; stdout when nothing is configured' },
  { key: 'sink.projectId', env: 'WAYMARK_PUBSUB_PROJECT', parse: str(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'a Google Cloud project id'), def: undefined, doc: 'pubsub: project of the topics (else GOOGLE_CLOUD_PROJECT, else detected)' },
  { key: 'sink.goodTopic', env: 'WAYMARK_PUBSUB_GOOD_TOPIC', parse: str(/^(projects\/[^/]+\/topics\/)?[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/, 'a topic name or projects/<p>/topics/<t>'), def: undefined, doc: 'pubsub: topic for collector payloads (raw)' },
  { key: 'sink.badTopic', env: 'WAYMARK_PUBSUB_BAD_TOPIC', parse: str(/^(projects\/[^/]+\/topics\/)?[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/, 'a topic name or projects/<p>/topics/<t>'), def: undefined, doc: 'pubsub: topic for bad rows' },
  { key: 'sink.batchMaxMessages', env: 'WAYMARK_PUBSUB_BATCH_MAX_MESSAGES', parse: int(1, 1000), def: 1000, doc: 'pubsub: messages per publish request' },
  { key: 'sink.batchMaxMilliseconds', env: 'WAYMARK_PUBSUB_BATCH_MAX_MS', parse: int(0, 10000), def: 20, doc: 'pubsub: longest wait to fill a publish request' },
  { key: 'sink.batchMaxBytes', env: 'WAYMARK_PUBSUB_BATCH_MAX_BYTES', parse: int(1024, 9 * 1024 * 1024), def: 8 * 1024 * 1024, doc: 'pubsub: bytes per publish request' },
  { key: 'sink.publishTimeoutMs', env: 'WAYMARK_PUBSUB_PUBLISH_TIMEOUT_MS', parse: int(100, 600000), def: 15000, doc: 'pubsub: time a publish may take (with the client\'s own retries) before the collector retries it' },
  { key: 'sink.directory', env: 'WAYMARK_FILE_DIR', parse: str(), def: undefined, doc: 'file: folder for good.jsonl and bad.jsonl' },
  { key: 'sink.maxEvents', env: 'WAYMARK_MEMORY_SINK_MAX_EVENTS', parse: int(1, 10_000_000), def: 10000, doc: 'memory: events kept (the latest, in at most 64 MiB; older ones are counted, then dropped)' },
  { key: 'cookie.enabled', env: 'WAYMARK_COOKIE_ENABLED', parse: bool, def: true, doc: 'set the network user id cookie' },
  { key: 'cookie.name', env: 'WAYMARK_COOKIE_NAME', parse: str(TOKEN, 'a cookie name (token characters)'), def: 'sp', doc: 'network user id cookie name' },
  { key: 'cookie.maxAgeSeconds', env: 'WAYMARK_COOKIE_MAX_AGE_SECONDS', parse: int(1, 400 * 86400), def: 365 * 86400, doc: 'cookie lifetime (browsers cap at 400 days)' },
  { key: 'cookie.domains', env: 'WAYMARK_COOKIE_DOMAINS', parse: list(domain), def: [], doc: 'cookie Domain candidates, matched against the request Origin' },
  { key: 'cookie.fallbackDomain', env: 'WAYMARK_COOKIE_FALLBACK_DOMAIN', parse: domain, def: null, doc: 'cookie Domain when no candidate matches (else host-only)' },
  { key: 'cookie.secure', env: 'WAYMARK_COOKIE_SECURE', parse: bool, def: true, doc: 'Secure attribute' },
  { key: 'cookie.httpOnly', env: 'WAYMARK_COOKIE_HTTP_ONLY', parse: bool, def: true, doc: 'HttpOnly attribute' },
  { key: 'cookie.sameSite', env: 'WAYMARK_COOKIE_SAME_SITE', parse: oneOf<SameSite>(['None', 'Lax', 'Strict'], true), def: 'None', doc: 'SameSite attribute' },
  { key: 'doNotTrackCookie.name', env: 'WAYMARK_DNT_COOKIE_NAME', parse: str(TOKEN, 'a cookie name'), def: null, doc: 'a cookie that makes the collector record nothing' },
  { key: 'doNotTrackCookie.value', env: 'WAYMARK_DNT_COOKIE_VALUE', parse: regex, def: null, doc: 'regular expression the whole do-not-track cookie value must match (default: any value)' },
  { key: 'xffTrustedHops', env: 'WAYMARK_XFF_TRUSTED_HOPS', parse: hops, def: 1, doc: 'X-Forwarded-For entries appended after the client IP by trusted proxies ("off" ignores the header)' },
  { key: 'maxBodyBytes', env: 'WAYMARK_MAX_BODY_BYTES', parse: int(1024, 64 * 1024 * 1024), def: 1024 * 1024, doc: 'largest POST body; larger becomes a size_violation bad row' },
  // Snowplow's web tracker sends bufferSize (default 1) events per POST and at most maxPostBytes (default 40,000) bytes,
  // so a few hundred events at most (snowplow/documentation: docs/sources/web-trackers/configuring-how-events-sent).
  { key: 'maxEventsPerBatch', env: 'WAYMARK_MAX_EVENTS_PER_BATCH', parse: int(1, 100_000), def: 1000, doc: 'events in one POST batch (trackers send at most a few hundred); more becomes a size_violation bad row' },
  { key: 'maxUrlBytes', env: 'WAYMARK_MAX_URL_BYTES', parse: int(256, 1024 * 1024), def: 20 * 1024, doc: 'longest request URL; longer becomes a size_violation bad row' },
  { key: 'badRowMaxPayloadBytes', env: 'WAYMARK_BAD_ROW_MAX_PAYLOAD_BYTES', parse: int(256, 8 * 1024 * 1024), def: 64 * 1024, doc: 'payload kept in a bad row (truncated beyond)' },
  { key: 'redirect.enabled', env: 'WAYMARK_REDIRECT_ENABLED', parse: bool, def: false, doc: 'serve /r/tp2' },
  { key: 'redirect.allowedDomains', env: 'WAYMARK_REDIRECT_ALLOWED_DOMAINS', parse: list(domain), def: [], doc: 'domains (and their subdomains) /r/tp2 may redirect to' },
  { key: 'customPaths', env: 'WAYMARK_CUSTOM_PATHS', parse: customPaths, def: {}, doc: 'two-segment paths mapped onto /i or /com.snowplowanalytics.snowplow/tp2 ("/acme/e=/com.snowplowanalytics.snowplow/tp2,/acme/p=/i")' },
  { key: 'cors.maxAgeSeconds', env: 'WAYMARK_CORS_MAX_AGE_SECONDS', parse: int(0, 86400), def: 3600, doc: 'preflight cache time' },
  { key: 'cors.allowedOrigins', env: 'WAYMARK_CORS_ALLOWED_ORIGINS', parse: list(domain), def: [], doc: 'domains (and subdomains) whose pages may send events (Origin header); others get 403; empty = any origin' },
  { key: 'headersAllowList', env: 'WAYMARK_HEADERS_ALLOWLIST', parse: list(headerName), def: DEFAULT_HEADERS, doc: 'request headers copied into payloads' },
  { key: 'buffer.maxEvents', env: 'WAYMARK_BUFFER_MAX_EVENTS', parse: int(1), def: 100_000, doc: 'events held before answering 503' },
  { key: 'buffer.maxBytes', env: 'WAYMARK_BUFFER_MAX_BYTES', parse: int(1024), def: 64 * 1024 * 1024, doc: 'bytes of events held before answering 503' },
  { key: 'buffer.batchSize', env: 'WAYMARK_BUFFER_BATCH_SIZE', parse: int(1, 10000), def: 500, doc: 'events handed to the sink at once' },
  { key: 'buffer.maxInflightBatches', env: 'WAYMARK_BUFFER_MAX_INFLIGHT_BATCHES', parse: int(1, 1000), def: 16, doc: 'sink writes in flight at once' },
  { key: 'buffer.retryInitialMs', env: 'WAYMARK_RETRY_INITIAL_MS', parse: int(1, 600000), def: 200, doc: 'first retry delay after a failed write (doubles)' },
  { key: 'buffer.retryMaxMs', env: 'WAYMARK_RETRY_MAX_MS', parse: int(1, 600000), def: 10000, doc: 'longest retry delay' },
  { key: 'buffer.sinkUnhealthyAfterMs', env: 'WAYMARK_SINK_UNHEALTHY_AFTER_MS', parse: int(0, 3600000), def: 30000, doc: 'after failing this long the sink is unhealthy: /sink-health and new events get 503' },
  { key: 'ackMode', env: 'WAYMARK_ACK_MODE', parse: oneOf<AckMode>(['buffered', 'delivered', 'after-publish']), def: 'buffered', doc: 'answer 2xx once events are buffered, or once the sink has them (delivered; after-publish: the same, named for Pub/Sub, whose acknowledgement of the publish is awaited)' },
  { key: 'deliveryTimeoutMs', env: 'WAYMARK_DELIVERY_TIMEOUT_MS', parse: int(1, 600000), def: 10000, doc: 'ackMode delivered or after-publish: wait this long for the sink, then 503' },
  { key: 'retryAfterSeconds', env: 'WAYMARK_RETRY_AFTER_SECONDS', parse: int(1, 3600), def: 5, doc: 'Retry-After of 503 answers' },
  { key: 'shutdownTimeoutMs', env: 'WAYMARK_SHUTDOWN_TIMEOUT_MS', parse: int(0, 3600000), def: 8000, doc: 'on SIGTERM, time allowed to drain the buffer' },
  { key: 'http.headersTimeoutMs', env: 'WAYMARK_HEADERS_TIMEOUT_MS', parse: int(100, 600000), def: 10000, doc: 'time to receive request headers (slow clients get 408)' },
  { key: 'http.requestTimeoutMs', env: 'WAYMARK_REQUEST_TIMEOUT_MS', parse: int(100, 600000), def: 30000, doc: 'time to receive a whole request' },
  { key: 'http.keepAliveTimeoutMs', env: 'WAYMARK_KEEP_ALIVE_TIMEOUT_MS', parse: int(0, 3600000), def: 620000, doc: 'idle keep-alive time (above Google LB\'s 600 s)' },
  { key: 'http.maxHeaderBytes', env: 'WAYMARK_MAX_HEADER_BYTES', parse: int(1024, 1024 * 1024), def: 64 * 1024, doc: 'request line plus headers (larger: 400 and a size_violation bad row)' },
  { key: 'http.maxConnections', env: 'WAYMARK_MAX_CONNECTIONS', parse: int(0), def: 20000, doc: 'open connections (0 = unlimited)' },
  { key: 'debugEndpoints', env: 'WAYMARK_DEBUG_ENDPOINTS', parse: bool, def: false, doc: 'serve GET/DELETE /debug/events from the memory sink (tests, local)' },
  { key: 'logLevel', env: 'WAYMARK_LOG_LEVEL', parse: oneOf<LogLevel>(['DEBUG', 'INFO', 'WARNING', 'ERROR'], true), def: 'INFO', doc: 'lowest log severity' },
];

const BY_KEY = new Map(SETTINGS.map((s) => [s.key, s]));
const label = (s: Setting): string => `${s.key} (${s.env})`;

/** Environment variable that names a JSON configuration file. */
export const CONFIG_FILE_ENV = 'WAYMARK_CONFIG_FILE';

/**
 * WAYMARK_* variables that are not settings but are read by other parts (the multi-process mode, the VM bootstrap
 * script, the local mode's WAYMARK_LOCAL_*): never reported as unknown.
 */
const OTHER_VARIABLES: ReadonlySet<string> = new Set([CONFIG_FILE_ENV, 'WAYMARK_WORKERS', 'WAYMARK_BUNDLE', 'WAYMARK_BUNDLE_FILE', 'WAYMARK_BOOTSTRAP', 'WAYMARK_METADATA_URL', 'WAYMARK_STORAGE_URL']);

/** Edit distance (insertions, deletions, substitutions), for naming the setting a misspelled variable meant. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** One warning per WAYMARK_* variable that is no setting: ignored, so a typo would otherwise go unnoticed. */
function unknownVariables(env: Readonly<Record<string, string | undefined>>): string[] {
  const known = new Set(SETTINGS.map((s) => s.env));
  const out: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('WAYMARK_') || known.has(name) || OTHER_VARIABLES.has(name) || name.startsWith('WAYMARK_LOCAL_')) continue;
    let best: Setting | null = null;
    let bestD = Infinity;
    for (const s of SETTINGS) {
      const d = distance(name, s.env);
      if (d < bestD) {
        best = s;
        bestD = d;
      }
    }
    const close = best !== null && bestD <= Math.max(2, Math.floor(name.length / 4));
    out.push(`unknown environment variable ${name} is ignored${close ? `: did you mean ${best!.env} (${best!.key})?` : ` (no setting has a similar name; settings: collector/README.md)`}`);
  }
  return out;
}

export interface LoadOptions {
  /** Defaults replacing the built-in ones, by dotted key (e.g. the Cloud Functions handler uses ackMode delivered). */
  readonly defaults?: Readonly<Record<string, unknown>>;
  /** Configuration object with the JSON file's shape, applied under the environment (programmatic use). */
  readonly file?: unknown;
  /** Reads the JSON file named by WAYMARK_CONFIG_FILE. */
  readonly readFile?: (path: string) => string;
}

/** Flattens the JSON file's nested objects into dotted keys, reporting unknown keys. */
function flattenFile(obj: unknown, where: string, problems: string[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    problems.push(`${where}: must contain a JSON object, got ${shown(obj)}`);
    return out;
  }
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(node)) {
      const key = prefix + k;
      if (BY_KEY.has(key)) {
        out.set(key, v);
      } else if (v !== null && typeof v === 'object' && !Array.isArray(v) && SETTINGS.some((s) => s.key.startsWith(`${key}.`))) {
        walk(v as Record<string, unknown>, `${key}.`);
      } else {
        const near = SETTINGS.filter((s) => s.key.toLowerCase() === key.toLowerCase() || s.key.startsWith(prefix)).map((s) => s.key);
        problems.push(`${where}: unknown setting "${key}"${near.length ? ` (known here: ${near.slice(0, 12).join(', ')})` : ''}`);
      }
    }
  };
  walk(obj as Record<string, unknown>, '');
  return out;
}

/**
 * Reads, merges and validates the configuration. Throws ConfigError listing every problem found.
 * @param env usually process.env
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, options: LoadOptions = {}): LoadedConfig {
  const problems: string[] = [];
  const sources: string[] = [];
  const raw = new Map<string, { value: unknown; from: string }>();

  const fileLayers: { where: string; obj: unknown }[] = [];
  if (options.file !== undefined) fileLayers.push({ where: 'configuration object', obj: options.file });
  const filePath = env[CONFIG_FILE_ENV];
  if (filePath !== undefined && filePath.trim() !== '') {
    const where = `${CONFIG_FILE_ENV}=${filePath}`;
    try {
      const text = (options.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(filePath);
      try {
        fileLayers.push({ where, obj: JSON.parse(text) });
      } catch (e) {
        problems.push(`${where}: not valid JSON (${(e as Error).message})`);
      }
    } catch (e) {
      problems.push(`${where}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  for (const layer of fileLayers) {
    for (const [key, value] of flattenFile(layer.obj, layer.where, problems)) raw.set(key, { value, from: layer.where });
    sources.push(layer.where.replace(/=.*/, ''));
  }
  let fromEnv = 0;
  for (const s of SETTINGS) {
    const v = env[s.env];
    if (v !== undefined && v !== '') {
      raw.set(s.key, { value: v, from: s.env });
      if (s.env !== 'PORT') fromEnv++;
    }
  }
  if (fromEnv > 0) sources.push('environment');
  // The usual Google variable names the project when WAYMARK_PUBSUB_PROJECT does not.
  const googleProject = env.GOOGLE_CLOUD_PROJECT ?? env.GCLOUD_PROJECT;

  const values = new Map<string, unknown>();
  for (const s of SETTINGS) {
    const given = raw.get(s.key);
    const def = options.defaults && s.key in options.defaults ? options.defaults[s.key] : s.def;
    if (given === undefined) {
      values.set(s.key, def);
      continue;
    }
    try {
      values.set(s.key, s.parse(given.value));
    } catch (e) {
      problems.push(`${label(s)} ${(e as Error).message}${given.from === s.env ? '' : ` (in ${given.from})`}`);
      values.set(s.key, def);
    }
  }
  const get = <T>(key: string): T => values.get(key) as T;
  const given = (key: string): boolean => raw.has(key);

  // Sink: explicit type, else inferred from its settings, else stdout.
  const sinkKeys: Record<SinkType, string[]> = {
    stdout: [],
    memory: ['sink.maxEvents'],
    file: ['sink.directory'],
    pubsub: ['sink.projectId', 'sink.goodTopic', 'sink.badTopic', 'sink.batchMaxMessages', 'sink.batchMaxMilliseconds', 'sink.batchMaxBytes', 'sink.publishTimeoutMs'],
  };
  let sinkType = get<SinkType | undefined>('sink.type');
  let sinkDefaulted = false;
  if (sinkType === undefined) {
    const inferred = (Object.keys(sinkKeys) as SinkType[]).filter((t) => sinkKeys[t].some(given));
    if (inferred.length === 1) sinkType = inferred[0];
    else if (inferred.length > 1) problems.push(`${label(BY_KEY.get('sink.type')!)} is not set and settings of several sinks are (${inferred.join(', ')}): choose one`);
    if (inferred.length === 0) sinkDefaulted = true;
    sinkType ??= 'stdout';
  }
  for (const t of Object.keys(sinkKeys) as SinkType[]) {
    if (t === sinkType) continue;
    for (const key of sinkKeys[t].filter(given)) {
      problems.push(`${label(BY_KEY.get(key)!)} applies only to sink.type "${t}", but the sink is "${sinkType}" (WAYMARK_SINK)`);
    }
  }
  let sink: SinkConfig;
  switch (sinkType) {
    case 'pubsub': {
      const need = (key: string): string => {
        const v = get<string | undefined>(key);
        if (v === undefined && !problems.some((p) => p.startsWith(`${key} `))) problems.push(`${label(BY_KEY.get(key)!)} is required when sink.type is "pubsub"`);
        return v ?? '';
      };
      sink = {
        type: 'pubsub',
        projectId: get<string | undefined>('sink.projectId') ?? googleProject ?? null,
        goodTopic: need('sink.goodTopic'),
        badTopic: need('sink.badTopic'),
        batchMaxMessages: get('sink.batchMaxMessages'),
        batchMaxMilliseconds: get('sink.batchMaxMilliseconds'),
        batchMaxBytes: get('sink.batchMaxBytes'),
        publishTimeoutMs: get('sink.publishTimeoutMs'),
      };
      if (sink.goodTopic !== '' && sink.goodTopic === sink.badTopic) {
        problems.push(`sink.goodTopic (WAYMARK_PUBSUB_GOOD_TOPIC) and sink.badTopic (WAYMARK_PUBSUB_BAD_TOPIC) must differ: bad rows would mix with events`);
      }
      break;
    }
    case 'file': {
      const directory = get<string | undefined>('sink.directory');
      if (directory === undefined && !problems.some((p) => p.startsWith('sink.directory '))) problems.push(`${label(BY_KEY.get('sink.directory')!)} is required when sink.type is "file"`);
      sink = { type: 'file', directory: directory ?? '' };
      break;
    }
    case 'memory':
      sink = { type: 'memory', maxEvents: get('sink.maxEvents') };
      break;
    default:
      sink = { type: 'stdout' };
  }

  const cookie: CookieConfig = {
    enabled: get('cookie.enabled'),
    name: get('cookie.name'),
    maxAgeSeconds: get('cookie.maxAgeSeconds'),
    domains: get('cookie.domains'),
    fallbackDomain: get('cookie.fallbackDomain'),
    secure: get('cookie.secure'),
    httpOnly: get('cookie.httpOnly'),
    sameSite: get('cookie.sameSite'),
  };
  if (cookie.sameSite === 'None' && !cookie.secure) {
    problems.push('cookie.sameSite (WAYMARK_COOKIE_SAME_SITE) "None" requires cookie.secure (WAYMARK_COOKIE_SECURE) true: browsers reject SameSite=None cookies without Secure');
  }

  const dntName = get<string | null>('doNotTrackCookie.name');
  const dntValue = get<RegExp | null>('doNotTrackCookie.value');
  if (dntValue !== null && dntName === null) {
    problems.push('doNotTrackCookie.value (WAYMARK_DNT_COOKIE_VALUE) is set but doNotTrackCookie.name (WAYMARK_DNT_COOKIE_NAME) is not');
  }
  if (dntName !== null && dntName === cookie.name) {
    problems.push(`doNotTrackCookie.name (WAYMARK_DNT_COOKIE_NAME) must differ from cookie.name (WAYMARK_COOKIE_NAME), both are "${dntName}"`);
  }

  const redirect = { enabled: get<boolean>('redirect.enabled'), allowedDomains: get<string[]>('redirect.allowedDomains') };
  if (redirect.enabled && redirect.allowedDomains.length === 0) {
    problems.push('redirect.allowedDomains (WAYMARK_REDIRECT_ALLOWED_DOMAINS) must list at least one domain when redirect.enabled (WAYMARK_REDIRECT_ENABLED) is true: an unrestricted redirect is an open redirect');
  }

  const buffer = {
    maxEvents: get<number>('buffer.maxEvents'),
    maxBytes: get<number>('buffer.maxBytes'),
    batchSize: get<number>('buffer.batchSize'),
    maxInflightBatches: get<number>('buffer.maxInflightBatches'),
    retryInitialMs: get<number>('buffer.retryInitialMs'),
    retryMaxMs: get<number>('buffer.retryMaxMs'),
    sinkUnhealthyAfterMs: get<number>('buffer.sinkUnhealthyAfterMs'),
  };
  if (buffer.retryMaxMs < buffer.retryInitialMs) {
    problems.push(`buffer.retryMaxMs (WAYMARK_RETRY_MAX_MS) must be at least buffer.retryInitialMs (WAYMARK_RETRY_INITIAL_MS) = ${buffer.retryInitialMs}`);
  }
  const maxBodyBytes = get<number>('maxBodyBytes');
  if (buffer.maxBytes < maxBodyBytes * 2) {
    problems.push(`buffer.maxBytes (WAYMARK_BUFFER_MAX_BYTES) must be at least twice maxBodyBytes (WAYMARK_MAX_BODY_BYTES) = ${maxBodyBytes * 2}, or a full-size request could never be accepted`);
  }
  const http = {
    headersTimeoutMs: get<number>('http.headersTimeoutMs'),
    requestTimeoutMs: get<number>('http.requestTimeoutMs'),
    keepAliveTimeoutMs: get<number>('http.keepAliveTimeoutMs'),
    maxHeaderBytes: get<number>('http.maxHeaderBytes'),
    maxConnections: get<number>('http.maxConnections'),
  };
  if (http.headersTimeoutMs > http.requestTimeoutMs) {
    problems.push(`http.headersTimeoutMs (WAYMARK_HEADERS_TIMEOUT_MS) must not exceed http.requestTimeoutMs (WAYMARK_REQUEST_TIMEOUT_MS) = ${http.requestTimeoutMs}`);
  }
  const debugEndpoints = get<boolean>('debugEndpoints');
  if (debugEndpoints && sink.type !== 'memory') {
    problems.push(`debugEndpoints (WAYMARK_DEBUG_ENDPOINTS) needs sink.type "memory" (WAYMARK_SINK=memory), the sink is "${sink.type}"`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  const config: CollectorConfig = {
    port: get('port'),
    host: get('host'),
    sink,
    cookie,
    doNotTrackCookie: dntName === null ? null : { name: dntName, value: dntValue ?? /^(?:[\s\S]*)$/ },
    xffTrustedHops: get('xffTrustedHops'),
    maxBodyBytes,
    maxEventsPerBatch: get('maxEventsPerBatch'),
    maxUrlBytes: get('maxUrlBytes'),
    badRowMaxPayloadBytes: get('badRowMaxPayloadBytes'),
    redirect,
    customPaths: get('customPaths'),
    cors: { maxAgeSeconds: get('cors.maxAgeSeconds'), allowedOrigins: get('cors.allowedOrigins') },
    headersAllowList: get('headersAllowList'),
    buffer,
    ackMode: get('ackMode'),
    deliveryTimeoutMs: get('deliveryTimeoutMs'),
    retryAfterSeconds: get('retryAfterSeconds'),
    shutdownTimeoutMs: get('shutdownTimeoutMs'),
    http,
    debugEndpoints,
    logLevel: (get<string>('logLevel').toUpperCase() as LogLevel),
  };
  return { config, sinkDefaulted, sources: sources.length ? sources : ['defaults'], warnings: unknownVariables(env) };
}

/** The configuration with every default and the given overrides (dotted keys or file-shaped object): for tests and embedding. */
export function configWith(file: unknown = {}, defaults?: Readonly<Record<string, unknown>>): CollectorConfig {
  return loadConfig({}, { file, defaults }).config;
}
