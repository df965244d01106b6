/**
 * CdnPixelCollector: the collector with no servers. A 1x1 transparent GIF sits in a bucket behind Cloud CDN on a
 * global external Application Load Balancer; the load balancer logs every request (cache hits too) and a Cloud
 * Logging sink forwards the pixel requests to the raw Pub/Sub topic as `LogEntry` JSON, which the enricher
 * recognises and adapts (DESIGN contract 3).
 *
 * What this variant cannot do, compared with GlobalCollector:
 * - **First-party cookies only**: nothing runs at request time, so there is no network user id (`nuid`) cookie
 *   set on the collector's domain; user identity comes from the tracker's first-party cookie (`duid`) alone.
 * - **GET only**: trackers must send events as GET requests to the pixel (`eventMethod: 'get'`); POST batches,
 *   and so request bodies, are not collected. Long events are limited by the URL length browsers send and the
 *   load balancer accepts (~8 KB for URL plus headers).
 * - **No server-side logic**: no CORS preflight answers, no custom responses, redirects or header allow-list;
 *   the enricher sees only what the request log records (URL with query string, remote IP, user agent,
 *   referer, timestamp).
 * - **Logging delivery**: events arrive through Cloud Logging, usually within seconds but with no ordering or
 *   latency guarantee, and at Cloud Logging's routing semantics (at-least-once into Pub/Sub).
 */
import { Construct } from 'constructs';
import { ComputeBackendBucket } from '@cdktf/provider-google/lib/compute-backend-bucket';
import { ComputeUrlMap } from '@cdktf/provider-google/lib/compute-url-map';
import { LoggingProjectSink } from '@cdktf/provider-google/lib/logging-project-sink';
import { PubsubTopicIamMember } from '@cdktf/provider-google/lib/pubsub-topic-iam-member';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import { StorageBucketObject } from '@cdktf/provider-google/lib/storage-bucket-object';
import { Token } from 'cdktf';
import type { TopicReference } from './topics';
import { StagedBundle, stageBundle } from './private/assets';
import { dataFile } from './private/bundler';
import { HttpsFrontend } from './private/https-frontend';
import { constructLabels } from './private/labels';
import { resourceName } from './private/naming';
import {
  bucketNameFor,
  checkLocation,
  checkObjectPath,
  DEFAULT_PIXEL_PATHS,
  NAME_PREFIX,
  objectNameOfPath,
  ONE_YEAR_SECONDS,
  pixelLogFilter,
  publicCdnOrigin,
  resolveProjectId,
  TRANSPARENT_GIF,
} from './private/pixel';
import { checkDomains, checkName, PropError } from './private/validate';

const CONSTRUCT = 'CdnPixelCollector';

export interface CdnPixelCollectorProps {
  /** Domains the pixel answers on; a Google-managed certificate covers them all. Point their DNS at `ipAddress`. */
  readonly domains: readonly string[];
  /**
   * The raw topic: the Logging sink publishes one `LogEntry` JSON message per pixel request to it. A `PubsubTopic`
   * or any `{ id: 'projects/<project>/topics/<name>', name }` reference (e.g. `ClickstreamTopics`' raw topic).
   */
  readonly rawTopic: TopicReference;
  /**
   * The project the construct deploys into (the provider's project); it makes the default bucket name unique.
   * @default the provider's project, read at apply time
   */
  readonly projectId?: string;
  /**
   * Further GET paths that serve the pixel and count as events, e.g. `['/p/x.gif']` (each starts with '/').
   * @default none: `/i` and `/com.snowplowanalytics.snowplow/tp2` only
   */
  readonly customPaths?: readonly string[];
  /**
   * Prefix of every resource name (1-32 characters, RFC 1035).
   * @default 'waymark-pixel'
   */
  readonly namePrefix?: string;
  /**
   * Name of the bucket holding the pixel (globally unique).
   * @default '<projectId>-<namePrefix>'
   */
  readonly bucketName?: string;
  /**
   * Location of the pixel bucket; it is only Cloud CDN's origin, so a multi-region keeps cache fills near.
   * @default 'US'
   */
  readonly location?: string;
  /**
   * Labels put on every resource that takes labels (plus `managed-by: waymark`).
   * @default {}
   */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * A first-party-cookie-only collector on Cloud CDN: a pixel at `/i` and the tp2 GET path, served from the edge,
 * every request logged and routed to the raw topic. See the file comment for what it cannot do.
 */
export class CdnPixelCollector extends Construct {
  /** The URL paths that serve the pixel and count as events. */
  public readonly pixelPaths: readonly string[];
  /** The bucket holding the pixel objects; its objects (and nothing else) are publicly readable. */
  public readonly bucket: StorageBucket;
  /** allUsers `roles/storage.legacyObjectReader` on {@link bucket}: Cloud CDN serves only public objects. */
  public readonly publicRead: StorageBucketIamMember;
  /** The GIF, staged as a file asset. */
  public readonly pixelAsset: StagedBundle;
  /** One object per pixel path, by path. */
  public readonly pixelObjects: Readonly<Record<string, StorageBucketObject>>;
  /** The backend bucket with Cloud CDN. */
  public readonly backendBucket: ComputeBackendBucket;
  /** The URL map of the HTTPS load balancer: every path goes to {@link backendBucket}. */
  public readonly urlMap: ComputeUrlMap;
  /** Global IP, managed certificate, TLS policy, HTTPS proxy and the HTTP→HTTPS redirect. */
  public readonly frontend: HttpsFrontend;
  /** The Cloud Logging filter selecting this load balancer's pixel requests. */
  public readonly logFilter: string;
  /** The Logging sink routing pixel requests to the raw topic. */
  public readonly sink: LoggingProjectSink;
  /** `roles/pubsub.publisher` on the raw topic for the sink's writer identity. */
  public readonly sinkPublisher: PubsubTopicIamMember;
  /** The domains served. */
  public readonly domains: readonly string[];
  /** `https://<first domain>`: the collector URL to configure trackers with (GET). */
  public readonly endpoint: string;

  constructor(scope: Construct, id: string, props: CdnPixelCollectorProps) {
    super(scope, id);
    const p = (props ?? {}) as Partial<CdnPixelCollectorProps>;
    const domains = validateDomains(p.domains);
    const rawTopic = validateTopic(p.rawTopic);
    const namePrefix = p.namePrefix ?? 'waymark-pixel';
    checkName(CONSTRUCT, 'namePrefix', namePrefix, NAME_PREFIX);
    const location = p.location ?? 'US';
    checkLocation(CONSTRUCT, 'location', location);
    this.pixelPaths = pixelPathsOf(p.customPaths);
    const labels = constructLabels(CONSTRUCT, p.labels);
    const projectId = resolveProjectId(this, CONSTRUCT, p.projectId);
    const bucketName = bucketNameFor(CONSTRUCT, p.bucketName, projectId, namePrefix);
    this.domains = domains;
    this.endpoint = `https://${domains[0]}`;

    const origin = publicCdnOrigin(this, {
      bucketName,
      location,
      backendBucketName: resourceName([namePrefix, 'origin']),
      description: 'Waymark CDN pixel collector: the 1x1 GIF behind Cloud CDN',
      labels,
      compress: false,
      defaultTtl: ONE_YEAR_SECONDS,
      // Every event URL has its own query string: only a path-only key lets one cached pixel answer them all.
    });
    this.bucket = origin.bucket;
    this.publicRead = origin.publicRead;
    this.backendBucket = origin.backendBucket;

    this.pixelAsset = stageBundle(this, 'pixel-gif', dataFile('pixel.gif', TRANSPARENT_GIF));
    const objects: Record<string, StorageBucketObject> = {};
    for (const path of this.pixelPaths) {
      const name = objectNameOfPath(path);
      objects[path] = new StorageBucketObject(this, `object:${name}`, {
        bucket: this.bucket.name,
        name,
        source: this.pixelAsset.asset.path,
        contentType: 'image/gif',
        // Cached at the edge for a year; every event URL carries its own query string, so browsers never reuse it.
        cacheControl: `public, max-age=${ONE_YEAR_SECONDS}`,
      });
    }
    this.pixelObjects = objects;

    const urlMapName = resourceName([namePrefix, 'urls']);
    this.urlMap = new ComputeUrlMap(this, 'url-map', {
      name: urlMapName,
      description: 'Waymark CDN pixel collector: every path is served from the pixel bucket',
      defaultService: this.backendBucket.id,
    });
    this.frontend = new HttpsFrontend(this, 'frontend', { namePrefix, domains, urlMap: this.urlMap, labels });

    this.logFilter = pixelLogFilter({ urlMapName, paths: this.pixelPaths });
    this.sink = new LoggingProjectSink(this, 'sink', {
      name: resourceName([namePrefix, 'requests'], 100),
      description: `Waymark CDN pixel requests of ${urlMapName} to the raw topic (LogEntry JSON)`,
      destination: `pubsub.googleapis.com/${rawTopic.id}`,
      filter: this.logFilter,
      uniqueWriterIdentity: true,
    });
    this.sinkPublisher = new PubsubTopicIamMember(this, 'sink-publisher', {
      topic: rawTopic.id,
      role: 'roles/pubsub.publisher',
      member: this.sink.writerIdentity,
    });
  }

  /** The global IP address the domains must point at (apply-time value). */
  public get ipAddress(): string {
    return this.frontend.ipAddress;
  }
}

function validateDomains(domains: readonly string[] | undefined): readonly string[] {
  if (domains === undefined) throw new PropError(CONSTRUCT, 'domains', 'is required: the domains the pixel answers on, such as [\'c.example.com\']');
  checkDomains(CONSTRUCT, 'domains', domains);
  const seen = new Set<string>();
  for (const d of domains) {
    if (seen.has(d)) throw new PropError(CONSTRUCT, 'domains', `names '${d}' twice`);
    seen.add(d);
  }
  return [...domains];
}

function validateTopic(topic: TopicReference | undefined): TopicReference {
  if (!topic || typeof topic.id !== 'string') {
    throw new PropError(CONSTRUCT, 'rawTopic', 'is required: a PubsubTopic or an { id, name } reference to the raw topic');
  }
  if (!Token.isUnresolved(topic.id) && !/^projects\/[^/]+\/topics\/[^/]+$/.test(topic.id)) {
    throw new PropError(CONSTRUCT, 'rawTopic', `must have an id of the form 'projects/<project>/topics/<name>'; got '${topic.id}'`);
  }
  return topic;
}

function pixelPathsOf(customPaths: readonly string[] | undefined): readonly string[] {
  const paths = [...DEFAULT_PIXEL_PATHS];
  for (const path of customPaths ?? []) {
    checkObjectPath(CONSTRUCT, 'customPaths', path);
    if (paths.includes(path)) throw new PropError(CONSTRUCT, 'customPaths', `names '${path}', which is already a pixel path`);
    paths.push(path);
  }
  return paths;
}
