import { Construct } from 'constructs';
import { Lazy, Token } from 'cdktf';
import { ComputeBackendBucket } from '@cdktf/provider-google/lib/compute-backend-bucket';
import { ComputeSecurityPolicy, ComputeSecurityPolicyRule } from '@cdktf/provider-google/lib/compute-security-policy';
import { ComputeUrlMap, ComputeUrlMapPathMatcherPathRule } from '@cdktf/provider-google/lib/compute-url-map';
import { DataGoogleClientConfig } from '@cdktf/provider-google/lib/data-google-client-config';
import { PubsubTopicIamMember } from '@cdktf/provider-google/lib/pubsub-topic-iam-member';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import { StorageBucketObject } from '@cdktf/provider-google/lib/storage-bucket-object';
import { BoundCollectorBackend, CollectorBackend, CollectorBackendContext } from './collector-backend';
import type { TopicReference } from './topics';
import { stageBundle, StagedBundle } from './private/assets';
import { CollectorNetwork } from './private/collector-network';
import { HttpsFrontend } from './private/https-frontend';
import { constructLabels } from './private/labels';
import { resourceName } from './private/naming';
import { collectorBundle, collectorZip } from './private/runtime-bundles';
import { checkDomain, checkDomains, checkInteger, checkName, checkNumber, checkProjectId, checkRegion, PropError, RFC1035 } from './private/validate';
import type { NewRegionsOption } from './private/regions';

const NAME = 'GlobalCollector';


export interface CollectorCookieOptions {
  /** Name of the network user id cookie. @default 'sp' */
  readonly name?: string;
  /** Cookie Domain candidates, matched against the request's Origin. @default none */
  readonly domains?: readonly string[];
  /** Cookie Domain when no candidate matches. @default none: a host-only cookie */
  readonly fallbackDomain?: string;
  /** Lifetime in days (browsers cap cookies at 400). @default 365 */
  readonly lifetimeDays?: number;
}

export interface CollectorRateLimit {
  /** Requests one client IP may send per interval before it is throttled. @default 600 */
  readonly requests?: number;
  /** The interval in seconds. @default 60 */
  readonly intervalSeconds?: number;
  /** The answer to throttled requests: 429 (trackers retry) or 403. @default 429 */
  readonly status?: 429 | 403;
}

export interface GlobalCollectorProps extends NewRegionsOption {
  /** Domains the collector answers on; a Google-managed certificate is issued for them. */
  readonly domains: readonly string[];
  /** Where the collector runs: one or several backends, each in one or many regions. */
  readonly backends: readonly CollectorBackend[];
  /** The topic good events (CollectorPayloads) are published to. */
  readonly rawTopic: TopicReference;
  /** The topic bad rows (oversized or malformed requests) are published to. */
  readonly badTopic: TopicReference;
  /** The project, for IAM members that name it. @default the provider's project */
  readonly projectId?: string;
  /** Prefix of every resource name. @default 'waymark-collector' */
  readonly namePrefix?: string;
  /** Region of the bucket holding the collector code. @default the first backend's first region */
  readonly codeBucketLocation?: string;
  /** The network user id cookie. @default cookie 'sp', one year, host-only */
  readonly cookie?: CollectorCookieOptions;
  /** Two-segment paths mapped onto the tp2 endpoints, e.g. `{ '/acme/e': '/com.snowplowanalytics.snowplow/tp2' }`. @default none */
  readonly customPaths?: Readonly<Record<string, string>>;
  /** Domains `/r/tp2` may redirect to; the redirect endpoint is off when empty. @default none (off) */
  readonly redirectDomains?: readonly string[];
  /** Fraction of requests the load balancer logs (0-1). @default 1 */
  readonly logSampleRate?: number;
  /** Per-IP throttling by Cloud Armor. Needs `cloudArmor`. @default 600 requests a minute per IP, then 429 */
  readonly rateLimit?: CollectorRateLimit;
  /** Source ranges always allowed (not throttled). Needs `cloudArmor`. @default none */
  readonly allowedIpRanges?: readonly string[];
  /** Source ranges always denied (403). Needs `cloudArmor`. @default none */
  readonly deniedIpRanges?: readonly string[];
  /**
   * Attach a Cloud Armor security policy (the per-IP throttle of `rateLimit`, the allow and deny lists) to every
   * backend service. `false` attaches none and so saves Cloud Armor's fees, above all its fee per request (the
   * Cloud Armor line of docs/costs.md), at the price of any per-IP limit: one client can then send as much as the
   * backends take, and every request it sends is published, enriched and stored (Pub/Sub, Cloud Run and BigQuery
   * costs). The load balancer's own always-on protection from volumetric and protocol-based DDoS attacks stays.
   * `false` with `rateLimit`, `allowedIpRanges` or `deniedIpRanges` is an error: those are Cloud Armor rules.
   * @default true
   */
  readonly cloudArmor?: boolean;
  /** Further collector settings as environment variables (`WAYMARK_*`), applied last. @default none */
  readonly collectorSettings?: Readonly<Record<string, string>>;
  /** Labels of every resource that takes labels. @default none (plus managed-by: waymark) */
  readonly labels?: Readonly<Record<string, string>>;
}

const TP2_PATHS = ['/i', '/com.snowplowanalytics.snowplow/tp2'];
const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/;

/**
 * The third-party-cookie collector: one global external Application Load Balancer (one IP, managed TLS,
 * HTTP→HTTPS redirect, Cloud Armor per-IP throttling unless `cloudArmor: false`, request logging) in front of one or several backends
 * running the same collector bundle in many regions. Events go to the raw topic, bad rows to the bad topic.
 *
 * ```ts
 * new GlobalCollector(this, 'collector', {
 *   domains: ['c.example.com'],
 *   backends: [CollectorBackend.cloudRun({ regions: ['us-central1', 'europe-west1'] })],
 *   rawTopic: topics.raw, badTopic: topics.bad,
 * });
 * ```
 */
export class GlobalCollector extends Construct {
  public readonly domains: readonly string[];
  /** The collector's own service account: publisher on the two topics, reader of its code. */
  public readonly serviceAccount: ServiceAccount;
  /** The bucket holding the collector code (bundle and zip, content-hashed names). */
  public readonly codeBucket: StorageBucket;
  public readonly bundleObject: StorageBucketObject;
  public readonly zipObject: StorageBucketObject;
  /** The Cloud Armor policy on every backend service; undefined with `cloudArmor: false`. */
  public readonly securityPolicy?: ComputeSecurityPolicy;
  public readonly urlMap: ComputeUrlMap;
  public readonly frontend: HttpsFrontend;
  /** The bound backends, in the order given. */
  public readonly backends: readonly BoundCollectorBackend[];
  /** The collector's configuration, as the environment variables every backend receives. */
  public readonly environment: Readonly<Record<string, string>>;
  private readonly routes: Array<{ pathPrefix: string; backendBucket: ComputeBackendBucket }> = [];
  private vpc?: CollectorNetwork;

  constructor(scope: Construct, id: string, props: GlobalCollectorProps) {
    super(scope, id);
    validate(props);
    const labels = constructLabels(NAME, props.labels);
    const prefix = props.namePrefix ?? 'waymark-collector';
    const projectId = props.projectId ?? new DataGoogleClientConfig(this, 'client').project;
    this.domains = [...props.domains];

    this.serviceAccount = new ServiceAccount(this, 'service-account', {
      accountId: resourceName([prefix], 30),
      displayName: 'Waymark collector',
      description: 'Publishes collected events to the raw and bad topics',
    });
    new PubsubTopicIamMember(this, 'publish-raw', { topic: props.rawTopic.id, role: 'roles/pubsub.publisher', member: this.serviceAccount.member });
    new PubsubTopicIamMember(this, 'publish-bad', { topic: props.badTopic.id, role: 'roles/pubsub.publisher', member: this.serviceAccount.member });

    this.codeBucket = new StorageBucket(this, 'code', {
      // Bucket names are global: the project id makes this one unique.
      name: `${projectId}-${prefix}-code`,
      location: (props.codeBucketLocation ?? props.backends[0].regions[0]).toUpperCase(),
      uniformBucketLevelAccess: true,
      publicAccessPrevention: 'enforced',
      forceDestroy: true,
      labels,
      versioning: { enabled: false },
    });
    const codeReadGrant = new StorageBucketIamMember(this, 'read-code', { bucket: this.codeBucket.name, role: 'roles/storage.objectViewer', member: this.serviceAccount.member });

    const bundle = stageBundle(this, 'bundle', collectorBundle());
    const zip = stageBundle(this, 'zip', collectorZip());
    this.bundleObject = upload(this, 'bundle-object', this.codeBucket, bundle, 'text/javascript');
    this.zipObject = upload(this, 'zip-object', this.codeBucket, zip, 'application/zip');

    this.environment = collectorEnvironment(props);
    this.securityPolicy = props.cloudArmor === false ? undefined : armorPolicy(this, prefix, props);

    const context: CollectorBackendContext = {
      namePrefix: prefix,
      labels,
      environment: this.environment,
      serviceAccount: this.serviceAccount,
      codeBucket: this.codeBucket,
      codeReadGrant,
      bundle,
      zip,
      securityPolicy: this.securityPolicy,
      logSampleRate: props.logSampleRate ?? 1,
      projectId,
      network: () => (this.vpc ??= new CollectorNetwork(this, 'network', prefix)),
    };
    const kinds = new Map<string, number>();
    this.backends = props.backends.map((backend) => {
      const n = kinds.get(backend.kind) ?? 0;
      kinds.set(backend.kind, n + 1);
      return backend.bind(this, n === 0 ? backend.kind : `${backend.kind}-${n + 1}`, context);
    });

    const collectorRoute = this.backends.length === 1
      ? { defaultService: this.backends[0].backendService.id }
      : { defaultRouteAction: { weightedBackendServices: this.backends.map((b) => ({ backendService: b.backendService.id, weight: b.weight })) } };
    this.urlMap = new ComputeUrlMap(this, 'url-map', {
      name: resourceName([prefix, 'urlmap']),
      description: 'Waymark collector: every path goes to the collector, except routes added for static content',
      ...collectorRoute,
      hostRule: [{ hosts: ['*'], pathMatcher: 'collector' }],
      pathMatcher: [{
        name: 'collector',
        ...collectorRoute,
        pathRule: Lazy.anyValue({ produce: () => this.pathRules() }) as unknown as ComputeUrlMapPathMatcherPathRule[],
      }],
    });
    this.frontend = new HttpsFrontend(this, 'frontend', { namePrefix: prefix, domains: props.domains, urlMap: this.urlMap, labels });
  }

  /** The global IP address of the collector (known after apply); point the domains' DNS A records at it. */
  public get ipAddress(): string {
    return this.frontend.address.address;
  }

  /** The collector's base URL, on its first domain. */
  public get url(): string {
    return `https://${this.domains[0]}`;
  }

  /** The VPC of VM and GKE backends, if one was needed. */
  public get network(): CollectorNetwork | undefined {
    return this.vpc;
  }

  /**
   * Routes `<pathPrefix>*` on the collector's domains to a backend bucket (static content such as the tracker).
   * The prefix must start and end with '/' and must not shadow the collector's own paths.
   */
  public addBackendBucketRoute(pathPrefix: string, backendBucket: ComputeBackendBucket): void {
    if (!/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*\/$/.test(pathPrefix)) {
      throw new PropError(NAME, 'pathPrefix', `must look like '/t/' (starts and ends with '/'), got '${pathPrefix}'`);
    }
    const shadowed = TP2_PATHS.concat(['/r/', '/health', '/sink-health', '/robots.txt']).find((p) => p.startsWith(pathPrefix));
    if (shadowed) throw new PropError(NAME, 'pathPrefix', `'${pathPrefix}' would shadow the collector path '${shadowed}'`);
    if (this.routes.some((r) => r.pathPrefix === pathPrefix)) throw new PropError(NAME, 'pathPrefix', `'${pathPrefix}' is routed already`);
    this.routes.push({ pathPrefix, backendBucket });
  }

  private pathRules(): unknown[] | undefined {
    if (this.routes.length === 0) return undefined;
    return this.routes.map((r) => ({ paths: [`${r.pathPrefix}*`], service: r.backendBucket.id }));
  }
}

/**
 * A content-hashed code object. A new bundle is a new object name, which Terraform handles as a replacement;
 * ABANDON makes the replacement leave the previous object in place, so VMs and pods of the previous rollout
 * that restart or are autohealed mid-rollout can still fetch their bundle. Old objects are small and stay
 * until deleted by hand (the bucket is emptied on destroy); a lifecycle rule cannot tell them from the current one.
 */
function upload(scope: Construct, id: string, bucket: StorageBucket, staged: StagedBundle, contentType: string): StorageBucketObject {
  return new StorageBucketObject(scope, id, {
    bucket: bucket.name,
    name: staged.objectName,
    source: staged.asset.path,
    contentType,
    cacheControl: 'no-store',
    deletionPolicy: 'ABANDON',
  });
}

function validate(props: GlobalCollectorProps): void {
  checkDomains(NAME, 'domains', props.domains);
  if (props.domains.length > 100) throw new PropError(NAME, 'domains', 'names more than 100 domains, the most one managed certificate covers');
  if (props.backends.length === 0) throw new PropError(NAME, 'backends', 'must name at least one backend, e.g. CollectorBackend.cloudRun({ regions: [...] })');
  if (props.backends.length > 1 && props.backends.some((b) => b.kind === 'gke') && props.backends.filter((b) => b.kind === 'gke').length > 1) {
    throw new PropError(NAME, 'backends', 'may hold at most one GKE backend (one NEG name per project)');
  }
  if (props.projectId !== undefined) {
    checkProjectId(NAME, 'projectId', props.projectId);
    const bucket = `${props.projectId}-${props.namePrefix ?? 'waymark-collector'}-code`;
    if (bucket.length > 63) throw new PropError(NAME, 'namePrefix', `makes the code bucket name '${bucket}' longer than 63 characters; choose a shorter prefix`);
  }
  if (props.namePrefix !== undefined) {
    checkName(NAME, 'namePrefix', props.namePrefix, RFC1035);
    if (props.namePrefix.length > 24) throw new PropError(NAME, 'namePrefix', `must be at most 24 characters (derived names get suffixes), got ${props.namePrefix.length}`);
  }
  if (props.codeBucketLocation !== undefined) checkRegion(NAME, 'codeBucketLocation', props.codeBucketLocation, props.newRegions);
  const cookie = props.cookie ?? {};
  if (cookie.name !== undefined && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookie.name)) {
    throw new PropError(NAME, 'cookie.name', `must be a cookie name (letters, digits and !#$%&'*+-.^_\`|~), got '${cookie.name}'`);
  }
  checkDomains(NAME, 'cookie.domains', cookie.domains ?? [], { allowEmpty: true });
  if (cookie.fallbackDomain !== undefined) checkDomain(NAME, 'cookie.fallbackDomain', cookie.fallbackDomain);
  checkInteger(NAME, 'cookie.lifetimeDays', cookie.lifetimeDays ?? 365, 1, 400);
  for (const [from, to] of Object.entries(props.customPaths ?? {})) {
    if (!/^\/[A-Za-z0-9._~-]+\/[A-Za-z0-9._~-]+$/.test(from)) throw new PropError(NAME, 'customPaths', `key '${from}' must be a two-segment path such as '/acme/events'`);
    if (!TP2_PATHS.includes(to)) throw new PropError(NAME, 'customPaths', `'${from}' must map onto ${TP2_PATHS.join(' or ')}, got '${to}'`);
  }
  for (const [key, value] of Object.entries(props.collectorSettings ?? {})) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(key)) throw new PropError(NAME, 'collectorSettings', `key '${key}' must be an environment variable name (upper-case letters, digits, underscores)`);
    // Terraform reads `${` and `%{` in any string as a template: a literal one would fail the plan.
    const template = Token.isUnresolved(value) ? null : /(?<!\$)\$\{|(?<!%)%\{/.exec(value);
    if (template) {
      throw new PropError(NAME, 'collectorSettings', `${key} holds '${template[0]}', which Terraform would read as a template; write '$\${' or '%%{' for a literal one`);
    }
  }
  checkDomains(NAME, 'redirectDomains', props.redirectDomains ?? [], { allowEmpty: true });
  checkNumber(NAME, 'logSampleRate', props.logSampleRate ?? 1, 0, 1);
  if (props.cloudArmor !== undefined && typeof props.cloudArmor !== 'boolean') throw new PropError(NAME, 'cloudArmor', `must be true or false, got ${JSON.stringify(props.cloudArmor)}`);
  if (props.cloudArmor === false) {
    const needsArmor = (['rateLimit', 'allowedIpRanges', 'deniedIpRanges'] as const).find((p) => p === 'rateLimit' ? props.rateLimit !== undefined : (props[p] ?? []).length > 0);
    if (needsArmor) throw new PropError(NAME, needsArmor, "is a Cloud Armor rule, but 'cloudArmor' is false (no security policy): remove one of them");
  }
  const rate = props.rateLimit ?? {};
  checkInteger(NAME, 'rateLimit.requests', rate.requests ?? 600, 1, 1_000_000);
  if (![10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600].includes(rate.intervalSeconds ?? 60)) {
    throw new PropError(NAME, 'rateLimit.intervalSeconds', `must be one of Cloud Armor's intervals (10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600), got ${rate.intervalSeconds}`);
  }
  for (const [prop, ranges] of [['allowedIpRanges', props.allowedIpRanges], ['deniedIpRanges', props.deniedIpRanges]] as const) {
    for (const range of ranges ?? []) if (!CIDR.test(range)) throw new PropError(NAME, prop, `must hold CIDR ranges such as '203.0.113.0/24', got '${range}'`);
    if ((ranges ?? []).length > 10) throw new PropError(NAME, prop, 'may hold at most 10 ranges (one Cloud Armor rule)');
  }
}

function collectorEnvironment(props: GlobalCollectorProps): Record<string, string> {
  const cookie = props.cookie ?? {};
  const env: Record<string, string> = {
    WAYMARK_SINK: 'pubsub',
    WAYMARK_PUBSUB_GOOD_TOPIC: props.rawTopic.id,
    WAYMARK_PUBSUB_BAD_TOPIC: props.badTopic.id,
    WAYMARK_COOKIE_NAME: cookie.name ?? 'sp',
    WAYMARK_COOKIE_MAX_AGE_SECONDS: String((cookie.lifetimeDays ?? 365) * 86400),
    // Google's load balancer appends "<client-ip>, <lb-ip>": one trusted hop.
    WAYMARK_XFF_TRUSTED_HOPS: '1',
  };
  if (cookie.domains?.length) env.WAYMARK_COOKIE_DOMAINS = cookie.domains.join(',');
  if (cookie.fallbackDomain) env.WAYMARK_COOKIE_FALLBACK_DOMAIN = cookie.fallbackDomain;
  const custom = Object.entries(props.customPaths ?? {});
  if (custom.length) env.WAYMARK_CUSTOM_PATHS = custom.map(([from, to]) => `${from}=${to}`).join(',');
  if (props.redirectDomains?.length) {
    env.WAYMARK_REDIRECT_ENABLED = 'true';
    env.WAYMARK_REDIRECT_ALLOWED_DOMAINS = props.redirectDomains.join(',');
  }
  return { ...env, ...props.collectorSettings };
}

function armorPolicy(scope: Construct, prefix: string, props: GlobalCollectorProps): ComputeSecurityPolicy {
  const rate = props.rateLimit ?? {};
  const rules: ComputeSecurityPolicyRule[] = [];
  if (props.deniedIpRanges?.length) {
    rules.push({ priority: 100, action: 'deny(403)', description: 'Denied ranges', match: { versionedExpr: 'SRC_IPS_V1', config: { srcIpRanges: [...props.deniedIpRanges] } } });
  }
  if (props.allowedIpRanges?.length) {
    rules.push({ priority: 200, action: 'allow', description: 'Allowed ranges (not throttled)', match: { versionedExpr: 'SRC_IPS_V1', config: { srcIpRanges: [...props.allowedIpRanges] } } });
  }
  rules.push({
    priority: 1000,
    action: 'throttle',
    description: 'Per-IP throttle',
    match: { versionedExpr: 'SRC_IPS_V1', config: { srcIpRanges: ['*'] } },
    rateLimitOptions: {
      conformAction: 'allow',
      exceedAction: `deny(${rate.status ?? 429})`,
      enforceOnKey: 'IP',
      rateLimitThreshold: { count: rate.requests ?? 600, intervalSec: rate.intervalSeconds ?? 60 },
    },
  });
  rules.push({ priority: 2147483647, action: 'allow', description: 'Default rule', match: { versionedExpr: 'SRC_IPS_V1', config: { srcIpRanges: ['*'] } } });
  return new ComputeSecurityPolicy(scope, 'armor', {
    name: resourceName([prefix, 'armor']),
    description: 'Waymark collector: per-IP rate limiting',
    type: 'CLOUD_ARMOR',
    rule: rules,
  });
}
