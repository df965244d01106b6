/**
 * The enrichment configuration of a deployment: which enrichments run and how. It is plain JSON data, baked into the
 * UDF at build time (`waymark:config`) and checked here, once, with messages that name the offending setting.
 * The construct library calls {@link resolveEnrichmentConfig} at synth time so a bad setting fails `cdktf synth`
 * rather than every event.
 */
import { ATOMIC_COLUMNS } from './columns';
import { BUILT_IN_CLICK_IDS, CampaignFields, DEFAULT_CAMPAIGN_FIELDS } from './campaign';
import { hasOwn, isArray, isInteger, isObject, keys } from './es5';
import { RefererSource } from './referer';
import { ColumnShapes } from './warehouse';

/** A JSON property of self-describing data to pseudonymise, e.g. the `email` of `iglu:com.acme/user/jsonschema/1-*-*`. */
export interface PiiJsonField {
  /** Where to look: the event (`unstruct_event`), the entities (`contexts`) or both. @default both */
  readonly in?: 'unstruct_event' | 'contexts' | 'both';
  /** Iglu schema criterion: `iglu:<vendor>/<name>/jsonschema/<M>-<R|*>-<A|*>`. */
  readonly schemaCriterion: string;
  /** Dotted property path inside the data (`email`, `$.address.line1`); arrays along the path are traversed. */
  readonly path: string;
}

/** Hash of the event fingerprint. */
export type FingerprintAlgorithm = 'md5' | 'sha256';

/** The configuration as users write it (everything optional). */
export interface EnrichmentConfig {
  /** Hosts whose referers count as internal (subdomains included); the page's own host always does. @default [] */
  readonly internalDomains?: readonly string[];
  /** Turn individual enrichments off. @default all on */
  readonly enrichments?: {
    readonly campaignAttribution?: boolean;
    readonly refererParser?: boolean;
    readonly userAgentParser?: boolean;
    readonly ipAnonymisation?: boolean;
    readonly piiPseudonymisation?: boolean;
    readonly eventFingerprint?: boolean;
    readonly crossDomainLinker?: boolean;
  };
  /** How much of an IP address to hide. @default { ipv4Octets: 1, ipv6Segments: 2 } */
  readonly ipAnonymisation?: { readonly ipv4Octets?: number; readonly ipv6Segments?: number };
  /** Salted SHA-256 of atomic columns and JSON properties. @default nothing pseudonymised */
  readonly pii?: {
    /** Atomic STRING columns, e.g. `user_id`, `user_ipaddress`, `user_fingerprint`, `domain_userid`. */
    readonly fields?: readonly string[];
    readonly jsonFields?: readonly PiiJsonField[];
    /** Secret salt prepended to each value before hashing; required when anything is pseudonymised. */
    readonly salt?: string;
  };
  /** utm parameter names and click ids. @default utm_* and the built-in click ids */
  readonly campaign?: {
    readonly fields?: Partial<CampaignFields>;
    /** Extra click-id parameters → network name (added to, and overriding, the built-ins). */
    readonly clickIds?: { readonly [param: string]: string };
  };
  /** Extra referer sources, checked before the built-in list. @default none */
  readonly refererSources?: readonly RefererSource[];
  /** Tracker parameters left out of the event fingerprint. @default ['eid', 'stm', 'nuid', 'cv'] */
  readonly fingerprintExcludeParams?: readonly string[];
  /**
   * The event fingerprint's hash. `md5` (32 hex digits; what Snowplow's event fingerprint enrichment uses by default)
   * is about twice as fast as `sha256` (64 hex digits). Either is sound for de-duplication: 128 bits make accidental
   * collisions practically impossible, and a duplicate must also repeat the event id, which only a sender who already
   * has the event's parameters can do — and that sender gets the same fingerprint from any hash.
   * @default { algorithm: 'md5' }
   */
  readonly fingerprint?: { readonly algorithm?: FingerprintAlgorithm };
  /** Guards against hostile or broken payloads. */
  readonly limits?: {
    /** Largest input message, in characters; larger → size_violation. @default 1000000 */
    readonly maxPayloadChars?: number;
    /** Deepest JSON nesting accepted anywhere (message, ue, contexts). @default 40 */
    readonly maxJsonDepth?: number;
    /** Longest value of an ordinary tracker parameter, in characters. @default 32768 */
    readonly maxFieldChars?: number;
    /** Most parameters in one event. @default 500 */
    readonly maxParams?: number;
    /** Most entities attached to one event. @default 100 */
    readonly maxContexts?: number;
  };
  /**
   * `load_tstamp`: `etl` sets it to the enrichment time; `omit` leaves it out so the warehouse's column default
   * (CURRENT_TIMESTAMP()) records the real load time. @default 'etl'
   */
  readonly loadTstamp?: 'etl' | 'omit';
  /**
   * How self-describing data maps onto the warehouse columns, generated at build time from the schema registry with
   * `buildColumnShapes` (pipeline/warehouse.ts). Without it, property names are snake_cased and values kept as they are.
   */
  readonly shapes?: ColumnShapes;
}

/** The configuration with every default filled in and every value checked. */
export interface ResolvedConfig {
  readonly internalDomains: readonly string[];
  readonly enrichments: {
    readonly campaignAttribution: boolean;
    readonly refererParser: boolean;
    readonly userAgentParser: boolean;
    readonly ipAnonymisation: boolean;
    readonly piiPseudonymisation: boolean;
    readonly eventFingerprint: boolean;
    readonly crossDomainLinker: boolean;
  };
  readonly ipv4Octets: number;
  readonly ipv6Segments: number;
  readonly piiFields: readonly string[];
  readonly piiJsonFields: ReadonlyArray<{ readonly in: 'unstruct_event' | 'contexts' | 'both'; readonly criterion: CriterionParts; readonly path: readonly string[] }>;
  readonly piiSalt: string;
  readonly campaignFields: CampaignFields;
  readonly clickIds: { readonly [param: string]: string };
  readonly refererSources: readonly RefererSource[];
  readonly fingerprintExclude: { readonly [param: string]: boolean };
  readonly fingerprintAlgorithm: FingerprintAlgorithm;
  readonly maxPayloadChars: number;
  readonly maxJsonDepth: number;
  readonly maxFieldChars: number;
  readonly maxParams: number;
  readonly maxContexts: number;
  readonly loadTstamp: 'etl' | 'omit';
  readonly shapes: ColumnShapes | null;
}

export interface CriterionParts {
  readonly vendor: string;
  readonly name: string;
  readonly format: string;
  readonly model: number;
  readonly revision: number | null;
  readonly addition: number | null;
}

const CRITERION = /^iglu:([a-zA-Z0-9_.-]+)\/([a-zA-Z0-9_-]+)\/([a-zA-Z0-9_-]+)\/([1-9][0-9]*)-(\*|[0-9]+)-(\*|[0-9]+)$/;

/** Parses an Iglu schema criterion such as `iglu:com.acme/user/jsonschema/1-*-*`; null when malformed. */
export function parseCriterion(s: string): CriterionParts | null {
  const m = CRITERION.exec(s);
  if (!m) return null;
  return {
    vendor: m[1],
    name: m[2],
    format: m[3],
    model: +m[4],
    revision: m[5] === '*' ? null : +m[5],
    addition: m[6] === '*' ? null : +m[6],
  };
}

const STRING_COLUMNS: { [name: string]: boolean } = {};
for (let i = 0; i < ATOMIC_COLUMNS.length; i++) if (ATOMIC_COLUMNS[i].type === 'STRING') STRING_COLUMNS[ATOMIC_COLUMNS[i].name] = true;

/** Columns the enricher itself derives; pseudonymising them would make no sense. */
const NOT_PSEUDONYMISABLE: { [name: string]: boolean } = {
  event: true, event_vendor: true, event_name: true, event_format: true, event_version: true, event_fingerprint: true,
  v_etl: true, v_collector: true, platform: true,
};

const DOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

function fail(setting: string, problem: string): never {
  throw new Error(setting === '' ? 'enrichment config ' + problem : 'enrichment config: ' + setting + ' ' + problem);
}

function optionalBoolean(obj: Record<string, unknown>, key: string, setting: string): boolean {
  if (!hasOwn(obj, key) || obj[key] === undefined) return true;
  if (typeof obj[key] !== 'boolean') fail(setting + '.' + key, 'must be true or false, got ' + JSON.stringify(obj[key]));
  return obj[key] as boolean;
}

function optionalInt(obj: Record<string, unknown>, key: string, setting: string, min: number, max: number, dflt: number): number {
  if (!hasOwn(obj, key) || obj[key] === undefined) return dflt;
  const v = obj[key];
  if (!isInteger(v) || v < min || v > max) fail(setting + key, 'must be an integer from ' + min + ' to ' + max + ', got ' + JSON.stringify(v));
  return v as number;
}

function stringList(value: unknown, setting: string): string[] {
  if (value === undefined) return [];
  if (!isArray(value)) fail(setting, 'must be a list of strings');
  const out: string[] = [];
  const list = value as unknown[];
  for (let i = 0; i < list.length; i++) {
    if (typeof list[i] !== 'string') fail(setting + '[' + i + ']', 'must be a string, got ' + JSON.stringify(list[i]));
    out.push(list[i] as string);
  }
  return out;
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], setting: string): void {
  const ks = keys(obj);
  for (let i = 0; i < ks.length; i++) {
    let known = false;
    for (let j = 0; j < allowed.length; j++) if (allowed[j] === ks[i]) known = true;
    if (!known) fail(setting + ks[i], 'is not a known setting (known: ' + allowed.join(', ') + ')');
  }
}

function objectAt(obj: Record<string, unknown>, key: string, setting: string): Record<string, unknown> {
  const v = obj[key];
  if (v === undefined || v === null) return {};
  if (!isObject(v)) fail(setting + key, 'must be an object');
  return v as Record<string, unknown>;
}

/**
 * Checks a configuration and fills in the defaults. Throws an Error naming the setting and the fix when something is
 * wrong; accepts `undefined`/`null` as "all defaults".
 */
export function resolveEnrichmentConfig(input: unknown): ResolvedConfig {
  if (input === undefined || input === null) input = {};
  if (!isObject(input)) fail('', 'must be an object, got ' + JSON.stringify(input));
  const c = input as Record<string, unknown>;
  checkKeys(c, ['internalDomains', 'enrichments', 'ipAnonymisation', 'pii', 'campaign', 'refererSources', 'fingerprintExcludeParams', 'fingerprint', 'limits', 'loadTstamp', 'shapes'], '');

  const internalDomains = stringList(c.internalDomains, 'internalDomains');
  for (let i = 0; i < internalDomains.length; i++) {
    const d = internalDomains[i].toLowerCase();
    if (!DOMAIN.test(d)) fail('internalDomains[' + i + ']', 'must be a domain name like "example.com", got ' + JSON.stringify(internalDomains[i]));
    internalDomains[i] = d;
  }

  const e = objectAt(c, 'enrichments', '');
  const enrichmentNames = ['campaignAttribution', 'refererParser', 'userAgentParser', 'ipAnonymisation', 'piiPseudonymisation', 'eventFingerprint', 'crossDomainLinker'];
  checkKeys(e, enrichmentNames, 'enrichments.');
  const enrichments = {
    campaignAttribution: optionalBoolean(e, 'campaignAttribution', 'enrichments'),
    refererParser: optionalBoolean(e, 'refererParser', 'enrichments'),
    userAgentParser: optionalBoolean(e, 'userAgentParser', 'enrichments'),
    ipAnonymisation: optionalBoolean(e, 'ipAnonymisation', 'enrichments'),
    piiPseudonymisation: optionalBoolean(e, 'piiPseudonymisation', 'enrichments'),
    eventFingerprint: optionalBoolean(e, 'eventFingerprint', 'enrichments'),
    crossDomainLinker: optionalBoolean(e, 'crossDomainLinker', 'enrichments'),
  };

  const ip = objectAt(c, 'ipAnonymisation', '');
  checkKeys(ip, ['ipv4Octets', 'ipv6Segments'], 'ipAnonymisation.');
  const ipv4Octets = optionalInt(ip, 'ipv4Octets', 'ipAnonymisation.', 0, 4, 1);
  const ipv6Segments = optionalInt(ip, 'ipv6Segments', 'ipAnonymisation.', 0, 8, 2);

  const pii = objectAt(c, 'pii', '');
  checkKeys(pii, ['fields', 'jsonFields', 'salt'], 'pii.');
  const piiFields = stringList(pii.fields, 'pii.fields');
  for (let i = 0; i < piiFields.length; i++) {
    if (!hasOwn(STRING_COLUMNS, piiFields[i]) || hasOwn(NOT_PSEUDONYMISABLE, piiFields[i])) {
      fail('pii.fields[' + i + ']', 'must name an atomic STRING column holding user data (e.g. user_id, user_ipaddress, domain_userid), got ' + JSON.stringify(piiFields[i]));
    }
  }
  const piiJsonFields: Array<{ in: 'unstruct_event' | 'contexts' | 'both'; criterion: CriterionParts; path: string[] }> = [];
  if (pii.jsonFields !== undefined) {
    if (!isArray(pii.jsonFields)) fail('pii.jsonFields', 'must be a list of { schemaCriterion, path, in? }');
    const list = pii.jsonFields as unknown[];
    for (let i = 0; i < list.length; i++) {
      const setting = 'pii.jsonFields[' + i + ']';
      const f = list[i];
      if (!isObject(f)) fail(setting, 'must be an object { schemaCriterion, path, in? }');
      const fo = f as Record<string, unknown>;
      checkKeys(fo, ['in', 'schemaCriterion', 'path'], setting + '.');
      const criterion = typeof fo.schemaCriterion === 'string' ? parseCriterion(fo.schemaCriterion) : null;
      if (criterion === null) fail(setting + '.schemaCriterion', 'must look like "iglu:com.acme/user/jsonschema/1-*-*", got ' + JSON.stringify(fo.schemaCriterion));
      if (typeof fo.path !== 'string' || fo.path.replace(/^\$\.?/, '') === '') fail(setting + '.path', 'must be a property path like "email" or "$.address.line1"');
      const where = fo.in === undefined ? 'both' : fo.in;
      if (where !== 'unstruct_event' && where !== 'contexts' && where !== 'both') fail(setting + '.in', 'must be "unstruct_event", "contexts" or "both"');
      piiJsonFields.push({ in: where, criterion: criterion as CriterionParts, path: (fo.path as string).replace(/^\$\.?/, '').split('.') });
    }
  }
  let piiSalt = '';
  if (pii.salt !== undefined) {
    if (typeof pii.salt !== 'string') fail('pii.salt', 'must be a string');
    piiSalt = pii.salt as string;
  }
  if ((piiFields.length > 0 || piiJsonFields.length > 0) && enrichments.piiPseudonymisation && piiSalt.length < 8) {
    fail('pii.salt', 'must be a secret of at least 8 characters when pii.fields or pii.jsonFields are set (unsalted hashes of e-mail addresses or user ids are easy to reverse)');
  }

  const campaign = objectAt(c, 'campaign', '');
  checkKeys(campaign, ['fields', 'clickIds'], 'campaign.');
  const cf = objectAt(campaign, 'fields', 'campaign.');
  checkKeys(cf, ['medium', 'source', 'term', 'content', 'campaign'], 'campaign.fields.');
  const campaignFields: CampaignFields = {
    medium: cf.medium === undefined ? DEFAULT_CAMPAIGN_FIELDS.medium : stringList(cf.medium, 'campaign.fields.medium'),
    source: cf.source === undefined ? DEFAULT_CAMPAIGN_FIELDS.source : stringList(cf.source, 'campaign.fields.source'),
    term: cf.term === undefined ? DEFAULT_CAMPAIGN_FIELDS.term : stringList(cf.term, 'campaign.fields.term'),
    content: cf.content === undefined ? DEFAULT_CAMPAIGN_FIELDS.content : stringList(cf.content, 'campaign.fields.content'),
    campaign: cf.campaign === undefined ? DEFAULT_CAMPAIGN_FIELDS.campaign : stringList(cf.campaign, 'campaign.fields.campaign'),
  };
  const clickIds: { [param: string]: string } = {};
  const builtIn = keys(BUILT_IN_CLICK_IDS);
  for (let i = 0; i < builtIn.length; i++) clickIds[builtIn[i]] = BUILT_IN_CLICK_IDS[builtIn[i]];
  const extraIds = objectAt(campaign, 'clickIds', 'campaign.');
  const extraKeys = keys(extraIds);
  for (let i = 0; i < extraKeys.length; i++) {
    if (typeof extraIds[extraKeys[i]] !== 'string') fail('campaign.clickIds.' + extraKeys[i], 'must be the network name (a string)');
    clickIds[extraKeys[i]] = extraIds[extraKeys[i]] as string;
  }

  const refererSources: RefererSource[] = [];
  if (c.refererSources !== undefined) {
    if (!isArray(c.refererSources)) fail('refererSources', 'must be a list of { medium, source, domains, params? }');
    const list = c.refererSources as unknown[];
    for (let i = 0; i < list.length; i++) {
      const setting = 'refererSources[' + i + ']';
      const s = list[i];
      if (!isObject(s)) fail(setting, 'must be an object { medium, source, domains, params? }');
      const so = s as Record<string, unknown>;
      checkKeys(so, ['medium', 'source', 'domains', 'params', 'brands'], setting + '.');
      if (so.medium !== 'search' && so.medium !== 'social' && so.medium !== 'email' && so.medium !== 'paid') {
        fail(setting + '.medium', 'must be "search", "social", "email" or "paid"');
      }
      if (typeof so.source !== 'string' || so.source === '') fail(setting + '.source', 'must be a non-empty name, e.g. "Intranet search"');
      const domains = stringList(so.domains, setting + '.domains');
      if (domains.length === 0) fail(setting + '.domains', 'must list at least one domain');
      refererSources.push({
        medium: so.medium as RefererSource['medium'],
        source: so.source as string,
        domains: domains,
        params: stringList(so.params, setting + '.params'),
        brands: stringList(so.brands, setting + '.brands'),
      });
    }
  }

  const excludeList = c.fingerprintExcludeParams === undefined ? ['eid', 'stm', 'nuid', 'cv'] : stringList(c.fingerprintExcludeParams, 'fingerprintExcludeParams');
  const fingerprintExclude: { [param: string]: boolean } = {};
  for (let i = 0; i < excludeList.length; i++) fingerprintExclude[excludeList[i]] = true;
  const fp = objectAt(c, 'fingerprint', '');
  checkKeys(fp, ['algorithm'], 'fingerprint.');
  let fingerprintAlgorithm: FingerprintAlgorithm = 'md5';
  if (fp.algorithm !== undefined) {
    if (fp.algorithm !== 'md5' && fp.algorithm !== 'sha256') fail('fingerprint.algorithm', 'must be "md5" or "sha256", got ' + JSON.stringify(fp.algorithm));
    fingerprintAlgorithm = fp.algorithm as FingerprintAlgorithm;
  }

  const limits = objectAt(c, 'limits', '');
  checkKeys(limits, ['maxPayloadChars', 'maxJsonDepth', 'maxFieldChars', 'maxParams', 'maxContexts'], 'limits.');

  let loadTstamp: 'etl' | 'omit' = 'etl';
  if (c.loadTstamp !== undefined) {
    if (c.loadTstamp !== 'etl' && c.loadTstamp !== 'omit') fail('loadTstamp', 'must be "etl" or "omit"');
    loadTstamp = c.loadTstamp as 'etl' | 'omit';
  }
  let shapes: ColumnShapes | null = null;
  if (c.shapes !== undefined && c.shapes !== null) {
    if (!isObject(c.shapes)) fail('shapes', 'must be the object generated by buildColumnShapes');
    shapes = c.shapes as unknown as ColumnShapes;
  }

  return {
    internalDomains: internalDomains,
    enrichments: enrichments,
    ipv4Octets: ipv4Octets,
    ipv6Segments: ipv6Segments,
    piiFields: piiFields,
    piiJsonFields: piiJsonFields,
    piiSalt: piiSalt,
    campaignFields: campaignFields,
    clickIds: clickIds,
    refererSources: refererSources,
    fingerprintExclude: fingerprintExclude,
    fingerprintAlgorithm: fingerprintAlgorithm,
    maxPayloadChars: optionalInt(limits, 'maxPayloadChars', 'limits.', 1000, 100000000, 1000000),
    maxJsonDepth: optionalInt(limits, 'maxJsonDepth', 'limits.', 4, 1000, 40),
    maxFieldChars: optionalInt(limits, 'maxFieldChars', 'limits.', 64, 10000000, 32768),
    maxParams: optionalInt(limits, 'maxParams', 'limits.', 10, 100000, 500),
    maxContexts: optionalInt(limits, 'maxContexts', 'limits.', 1, 100000, 100),
    loadTstamp: loadTstamp,
    shapes: shapes,
  };
}
