/**
 * Internals of the edge constructs (CdnPixelCollector, TrackerHosting): the pixel itself, URL path rules,
 * the Cloud Logging filter that selects pixel requests, and the public Cloud CDN origin (a bucket readable
 * by anyone, behind a backend bucket with Cloud CDN) both constructs serve from.
 */
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { ComputeBackendBucket } from '@cdktf/provider-google/lib/compute-backend-bucket';
import { DataGoogleClientConfig } from '@cdktf/provider-google/lib/data-google-client-config';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import { resourceName } from './naming';
import { BUCKET_NAME, checkName, checkProjectId, NameRule, PropError, RFC1035 } from './validate';

/**
 * A 1x1 transparent GIF (GIF89a, 43 bytes): a two-colour global table, a graphic control extension marking
 * colour 0 transparent, and one pixel of colour 0 (LZW: clear, 0, end-of-information).
 */
export const TRANSPARENT_GIF: Buffer = Buffer.from(
  '474946383961' + // "GIF89a"
    '0100' + '0100' + '80' + '00' + '00' + // 1x1, global colour table of 2 entries, background 0, aspect 0
    '000000' + 'ffffff' + // the colour table
    '21f904' + '01' + '0000' + '00' + '00' + // graphic control extension: transparent, no delay, transparent index 0
    '2c' + '0000' + '0000' + '0100' + '0100' + '00' + // image descriptor at 0,0, 1x1, no local table
    '02' + '02' + '4401' + '00' + // LZW minimum code size 2, one 2-byte sub-block, block terminator
    '3b', // trailer
  'hex',
);

/** The GET paths Snowplow-compatible trackers send events to: the legacy pixel and the tp2 GET path. */
export const DEFAULT_PIXEL_PATHS: readonly string[] = ['/i', '/com.snowplowanalytics.snowplow/tp2'];

/** One year, the longest TTL Cloud CDN accepts below its 31,622,400 s limit. */
export const ONE_YEAR_SECONDS = 31_536_000;

/**
 * The one query parameter a path-only Cloud CDN cache key allows. Cloud CDN treats an empty
 * `query_string_whitelist` as unset (the provider drops empty lists), and the default key of a backend bucket holds
 * the whole query string: every event URL would be its own cache entry, so every event a miss. Allow-listing one
 * parameter name that no tracker sends (tp2 parameters are names such as `e`, `aid`, `tv`, `ue_px`; none is
 * `_wmk`) keeps every real parameter out of the key, so one cached object answers every event.
 */
export const PATH_ONLY_CACHE_KEY_PARAMETER = '_wmk';

/** URL path characters allowed in pixel paths and prefixes: unreserved characters and '/'. */
const PATH = /^\/(?:[A-Za-z0-9._~-]+\/)*[A-Za-z0-9._~-]+$/;

/** The name prefix of the edge constructs: RFC 1035, short enough that `<project id>-<prefix>` fits a bucket name. */
export const NAME_PREFIX: NameRule = {
  description: '1-32 characters: lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen',
  pattern: RFC1035.pattern,
  maxLength: 32,
};

/** Checks a URL path an object is served at (`/i`, `/p/x.gif`): it becomes the object's name. */
export function checkObjectPath(construct: string, prop: string, path: string): void {
  if (typeof path !== 'string' || !PATH.test(path) || path.split('/').some((s) => s === '.' || s === '..')) {
    throw new PropError(construct, prop, `has '${path}': a path must start with '/', not end with '/', and use only letters, digits, '.', '_', '~', '-' and '/' (no query, '//', '.' or '..' segments)`);
  }
  if (path.length > 1024) throw new PropError(construct, prop, `has a path of ${path.length} characters; object names are at most 1024`);
}

/** Checks a path prefix a bucket is routed under (`/t/`), or `/` for the root. */
export function checkPathPrefix(construct: string, prop: string, prefix: string, options: { allowRoot: boolean }): void {
  if (prefix === '/') {
    if (!options.allowRoot) throw new PropError(construct, prop, "must not be '/' here: the prefix is routed beside other paths, so it needs at least one segment, such as '/t/'");
    return;
  }
  if (typeof prefix !== 'string' || !prefix.endsWith('/') || !PATH.test(prefix.slice(0, -1)) || prefix.split('/').some((s) => s === '.' || s === '..')) {
    throw new PropError(construct, prop, `must be a path that starts and ends with '/', such as '/t/', using only letters, digits, '.', '_', '~' and '-' in its segments; got '${prefix}'`);
  }
}

/** The object name a backend bucket serves at a URL path: the path without its leading '/'. */
export function objectNameOfPath(path: string): string {
  return path.replace(/^\/+/, '');
}

/**
 * A Cloud Logging regular expression (RE2) matching a literal path. Paths are validated to
 * [A-Za-z0-9._~-/], of which only '.' is special: it becomes `[.]`, so the filter needs no backslashes
 * (which the filter's string syntax would otherwise also interpret).
 */
function literalPathPattern(path: string): string {
  return objectNameOfPath(path).replace(/\./g, '[.]');
}

export interface PixelLogFilterOptions {
  /** Name of the load balancer's URL map (the `url_map_name` label of its request logs). */
  readonly urlMapName: string;
  /** The pixel paths, each starting with '/'. */
  readonly paths: readonly string[];
}

/**
 * The Cloud Logging filter that selects a load balancer's pixel requests: GET requests, answered from cache
 * or not, whose URL path is exactly one of the pixel paths (any query string). Backend buckets log every
 * request, cache hits included (`httpRequest.cacheHit`), so every event reaches the sink.
 */
export function pixelLogFilter(options: PixelLogFilterOptions): string {
  if (options.paths.length === 0) throw new Error('pixelLogFilter: no paths');
  const alternatives = options.paths.map(literalPathPattern).join('|');
  return [
    'resource.type="http_load_balancer"',
    `resource.labels.url_map_name="${options.urlMapName}"`,
    'httpRequest.requestMethod="GET"',
    `httpRequest.requestUrl=~"^https?://[^/?#]+/(${alternatives})([?#]|$)"`,
  ].join(' AND ');
}

/** The project id given, checked, or the provider's project as an apply-time value. */
export function resolveProjectId(scope: Construct, construct: string, projectId: string | undefined): string {
  if (projectId !== undefined) {
    checkProjectId(construct, 'projectId', projectId);
    return projectId;
  }
  return new DataGoogleClientConfig(scope, 'client-config').project;
}

/**
 * The name of a construct's bucket: the user's (checked), or `<project id>-<namePrefix>`, which is globally
 * unique because project ids are. With an apply-time project id the name can't be shortened, but a 30-character
 * project id plus a 32-character prefix still fits the 63 characters of a bucket name.
 */
export function bucketNameFor(construct: string, bucketName: string | undefined, projectId: string, namePrefix: string): string {
  if (bucketName !== undefined) {
    checkName(construct, 'bucketName', bucketName, BUCKET_NAME);
    if (/^goog|google|g00gle/.test(bucketName)) throw new PropError(construct, 'bucketName', `must not start with 'goog' or contain 'google'; got '${bucketName}'`);
    return bucketName;
  }
  return Token.isUnresolved(projectId) ? `${projectId}-${namePrefix}` : resourceName([projectId, namePrefix]);
}

/** Checks a Cloud Storage location such as `US`, `EU` or `europe-west1`. */
export function checkLocation(construct: string, prop: string, location: string): void {
  if (Token.isUnresolved(location)) return;
  if (!/^[A-Za-z]+(?:-[A-Za-z]+[0-9]*)*[0-9]*$/.test(location)) {
    throw new PropError(construct, prop, `must be a Cloud Storage location such as 'US', 'EU' or 'europe-west1'; got '${location}'`);
  }
}

export interface PublicCdnOriginProps {
  readonly bucketName: string;
  readonly location: string;
  /** Name of the backend bucket. */
  readonly backendBucketName: string;
  readonly description: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Compress text responses (gzip/brotli) at the edge. */
  readonly compress: boolean;
  /** TTL at the edge for responses without their own max-age. */
  readonly defaultTtl: number;
}

export interface PublicCdnOrigin {
  readonly bucket: StorageBucket;
  /** allUsers may read (get, not list) the bucket's objects: what Cloud CDN needs to serve them. */
  readonly publicRead: StorageBucketIamMember;
  readonly backendBucket: ComputeBackendBucket;
}

/**
 * A bucket whose objects anyone may read, behind a backend bucket with Cloud CDN. The objects' own
 * Cache-Control decides how long they are cached (CACHE_ALL_STATIC; at most a year at the edge and in
 * browsers). The cache key is the path alone: a backend bucket's key has no protocol or host, and the allow-list of
 * one parameter no client sends ({@link PATH_ONLY_CACHE_KEY_PARAMETER}) keeps every query parameter out of it (an
 * empty allow-list would not: Cloud CDN treats it as unset and keys on the whole query string).
 *
 * Public read is `roles/storage.legacyObjectReader` (storage.objects.get) rather than objectViewer, which would
 * also let anyone list the bucket. Uniform bucket-level access: no object ACLs.
 */
export function publicCdnOrigin(scope: Construct, props: PublicCdnOriginProps): PublicCdnOrigin {
  const bucket = new StorageBucket(scope, 'bucket', {
    name: props.bucketName,
    location: props.location,
    storageClass: 'STANDARD',
    uniformBucketLevelAccess: true,
    // The objects are public by design; an org policy that enforces prevention makes the deployment fail loudly.
    publicAccessPrevention: 'inherited',
    // Every object is generated by the construct: nothing of value is lost when the bucket goes.
    forceDestroy: true,
    labels: { ...props.labels },
  });
  const publicRead = new StorageBucketIamMember(scope, 'public-read', {
    bucket: bucket.name,
    role: 'roles/storage.legacyObjectReader',
    member: 'allUsers',
  });
  const backendBucket = new ComputeBackendBucket(scope, 'backend-bucket', {
    name: props.backendBucketName,
    description: props.description,
    bucketName: bucket.name,
    enableCdn: true,
    compressionMode: props.compress ? 'AUTOMATIC' : 'DISABLED',
    cdnPolicy: {
      cacheMode: 'CACHE_ALL_STATIC',
      defaultTtl: props.defaultTtl,
      maxTtl: ONE_YEAR_SECONDS,
      clientTtl: ONE_YEAR_SECONDS,
      negativeCaching: true,
      requestCoalescing: true,
      serveWhileStale: 86_400,
      cacheKeyPolicy: { queryStringWhitelist: [PATH_ONLY_CACHE_KEY_PARAMETER] },
    },
    dependsOn: [publicRead],
  });
  return { bucket, publicRead, backendBucket };
}
