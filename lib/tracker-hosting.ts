/**
 * TrackerHosting: serves the Waymark web tracker (`sp.js`, the minified IIFE that installs `window.waymark`) from a
 * bucket behind Cloud CDN, under two names:
 * - `sp-<content hash>.js`: immutable, cached for a year by the edge and by browsers; a new build gets a new name.
 *   Pin pages to it (the `trackerUrl` attribute) for reproducible, cache-friendly loading.
 * - `sp.js`: always the current build, cached briefly (5 minutes by default), for snippets that never change.
 *
 * Either on a load balancer of its own (`domains`: global IP, managed certificate, TLS 1.2+ and HTTP→HTTPS
 * redirect) or as a path of a GlobalCollector's URL map (`collector`, under `/t/` by default), which saves a
 * load balancer and serves the tracker from the collector's domain.
 */
import { Construct } from 'constructs';
import { ComputeBackendBucket } from '@cdktf/provider-google/lib/compute-backend-bucket';
import { ComputeUrlMap } from '@cdktf/provider-google/lib/compute-url-map';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import { StorageBucketObject } from '@cdktf/provider-google/lib/storage-bucket-object';
import { StagedBundle, stageBundle } from './private/assets';
import { HttpsFrontend } from './private/https-frontend';
import { constructLabels } from './private/labels';
import { resourceName } from './private/naming';
import { bucketNameFor, checkLocation, checkPathPrefix, NAME_PREFIX, ONE_YEAR_SECONDS, publicCdnOrigin, resolveProjectId } from './private/pixel';
import { trackerBundle } from './private/runtime-bundles';
import { checkDomains, checkInteger, checkName, PropError } from './private/validate';

const CONSTRUCT = 'TrackerHosting';

/** What TrackerHosting needs of a GlobalCollector to serve the tracker as a path of its URL map. */
export interface GlobalCollectorLike {
  /** Routes `<pathPrefix>*` (e.g. `/t/*` for `/t/`) of every collector domain to the backend bucket. */
  addBackendBucketRoute(pathPrefix: string, backendBucket: ComputeBackendBucket): void;
  /** The collector's domains; the tracker URLs use the first. */
  readonly domains: readonly string[];
}

export interface TrackerHostingProps {
  /**
   * Domains of a load balancer of the tracker's own; a managed certificate covers them all. Give this or
   * `collector`, not both.
   * @default none: then `collector` is required
   */
  readonly domains?: readonly string[];
  /**
   * A GlobalCollector whose URL map also serves the tracker, under `pathPrefix`. Give this or `domains`, not both.
   * @default none: then `domains` is required
   */
  readonly collector?: GlobalCollectorLike;
  /**
   * The URL path the tracker files live under (objects are named after their path, without the leading '/').
   * On a collector it must have at least one segment, as it is routed beside the collector's own paths.
   * @default '/t/' on a collector, '/' on a load balancer of its own
   */
  readonly pathPrefix?: string;
  /**
   * Seconds browsers and the edge may cache the stable `sp.js` name (0-86400).
   * @default 300
   */
  readonly stableMaxAge?: number;
  /**
   * The project the construct deploys into (the provider's project); it makes the default bucket name unique.
   * @default the provider's project, read at apply time
   */
  readonly projectId?: string;
  /**
   * Prefix of every resource name (1-32 characters, RFC 1035).
   * @default 'waymark-tracker'
   */
  readonly namePrefix?: string;
  /**
   * Name of the bucket holding the tracker (globally unique).
   * @default '<projectId>-<namePrefix>'
   */
  readonly bucketName?: string;
  /**
   * Location of the bucket; it is only Cloud CDN's origin.
   * @default 'US'
   */
  readonly location?: string;
  /**
   * Labels put on every resource that takes labels (plus `managed-by: waymark`).
   * @default {}
   */
  readonly labels?: Readonly<Record<string, string>>;
}

/** The web tracker on Cloud CDN: a content-hashed immutable `sp-<hash>.js` and a short-lived stable `sp.js`. */
export class TrackerHosting extends Construct {
  /** The bucket holding the tracker files; its objects (and nothing else) are publicly readable. */
  public readonly bucket: StorageBucket;
  /** allUsers `roles/storage.legacyObjectReader` on {@link bucket}: Cloud CDN serves only public objects. */
  public readonly publicRead: StorageBucketIamMember;
  /** The backend bucket with Cloud CDN and edge compression. */
  public readonly backendBucket: ComputeBackendBucket;
  /** The tracker bundle, staged as a file asset. */
  public readonly trackerAsset: StagedBundle;
  /** `<prefix>sp-<hash>.js`, immutable. */
  public readonly hashedObject: StorageBucketObject;
  /** `<prefix>sp.js`, short TTL. */
  public readonly stableObject: StorageBucketObject;
  /** The URL path files live under, e.g. `/t/` or `/`. */
  public readonly pathPrefix: string;
  /** The domain the URLs use: the first of `domains`, or the collector's first. */
  public readonly domain: string;
  /** `https://<domain><prefix>sp-<hash>.js`: the immutable tracker URL (changes with every tracker build). */
  public readonly trackerUrl: string;
  /** `https://<domain><prefix>sp.js`: the stable tracker URL. */
  public readonly stableUrl: string;
  /** The URL map of the tracker's own load balancer (undefined on a collector). */
  public readonly urlMap?: ComputeUrlMap;
  /** The tracker's own load balancer front (undefined on a collector). */
  public readonly frontend?: HttpsFrontend;

  constructor(scope: Construct, id: string, props: TrackerHostingProps) {
    super(scope, id);
    const p = (props ?? {}) as TrackerHostingProps;
    if (p.domains !== undefined && p.collector !== undefined) {
      throw new PropError(CONSTRUCT, 'domains', "cannot be combined with prop 'collector': give 'domains' to serve the tracker on a load balancer of its own, or 'collector' to serve it as a path of a GlobalCollector");
    }
    if (p.domains === undefined && p.collector === undefined) {
      throw new PropError(CONSTRUCT, 'domains', "or prop 'collector' is required: 'domains' serves the tracker on a load balancer of its own, 'collector' as a path of a GlobalCollector");
    }
    const onCollector = p.collector !== undefined;
    let domains: readonly string[];
    if (p.collector !== undefined) {
      if (typeof p.collector.addBackendBucketRoute !== 'function' || !Array.isArray(p.collector.domains)) {
        throw new PropError(CONSTRUCT, 'collector', 'must be a GlobalCollector (with addBackendBucketRoute() and domains)');
      }
      if (p.collector.domains.length === 0) throw new PropError(CONSTRUCT, 'collector', 'has no domains, so the tracker would have no URL');
      domains = p.collector.domains;
    } else {
      domains = p.domains as readonly string[];
      checkDomains(CONSTRUCT, 'domains', domains);
      if (new Set(domains).size !== domains.length) throw new PropError(CONSTRUCT, 'domains', 'names a domain twice');
    }
    const pathPrefix = p.pathPrefix ?? (onCollector ? '/t/' : '/');
    checkPathPrefix(CONSTRUCT, 'pathPrefix', pathPrefix, { allowRoot: !onCollector });
    const stableMaxAge = p.stableMaxAge ?? 300;
    checkInteger(CONSTRUCT, 'stableMaxAge', stableMaxAge, 0, 86_400);
    const namePrefix = p.namePrefix ?? 'waymark-tracker';
    checkName(CONSTRUCT, 'namePrefix', namePrefix, NAME_PREFIX);
    const location = p.location ?? 'US';
    checkLocation(CONSTRUCT, 'location', location);
    const labels = constructLabels(CONSTRUCT, p.labels);
    const projectId = resolveProjectId(this, CONSTRUCT, p.projectId);
    const bucketName = bucketNameFor(CONSTRUCT, p.bucketName, projectId, namePrefix);

    const origin = publicCdnOrigin(this, {
      bucketName,
      location,
      backendBucketName: resourceName([namePrefix, 'origin']),
      description: 'Waymark web tracker (sp.js) behind Cloud CDN',
      labels,
      compress: true,
      defaultTtl: stableMaxAge,
    });
    this.bucket = origin.bucket;
    this.publicRead = origin.publicRead;
    this.backendBucket = origin.backendBucket;

    this.trackerAsset = stageBundle(this, 'tracker-js', trackerBundle());
    const folder = pathPrefix.slice(1); // '' or 't/'
    // ABANDON: a new build replaces these resources, and the replacement must not delete the objects. The previous
    // `sp-<hash>.js` stays served for pages (and year-long caches) still pinned to it; `sp.js` keeps the same
    // name, so deleting the old one would delete the new content's name too (and leave a window of 404s).
    const object = (objectId: string, name: string, cacheControl: string): StorageBucketObject =>
      new StorageBucketObject(this, objectId, {
        bucket: this.bucket.name,
        name: `${folder}${name}`,
        source: this.trackerAsset.asset.path,
        contentType: 'text/javascript; charset=utf-8',
        cacheControl,
        deletionPolicy: 'ABANDON',
      });
    this.hashedObject = object('hashed', this.trackerAsset.objectName, `public, max-age=${ONE_YEAR_SECONDS}, immutable`);
    this.stableObject = object('stable', this.trackerAsset.bundle.fileName, `public, max-age=${stableMaxAge}`);

    if (p.collector !== undefined) {
      p.collector.addBackendBucketRoute(pathPrefix, this.backendBucket);
    } else {
      this.urlMap = new ComputeUrlMap(this, 'url-map', {
        name: resourceName([namePrefix, 'urls']),
        description: 'Waymark web tracker: every path is served from the tracker bucket',
        defaultService: this.backendBucket.id,
      });
      this.frontend = new HttpsFrontend(this, 'frontend', { namePrefix, domains, urlMap: this.urlMap, labels });
    }

    this.pathPrefix = pathPrefix;
    this.domain = domains[0];
    this.trackerUrl = `https://${this.domain}${pathPrefix}${this.trackerAsset.objectName}`;
    this.stableUrl = `https://${this.domain}${pathPrefix}${this.trackerAsset.bundle.fileName}`;
  }

  /** The global IP address of the tracker's own load balancer (apply-time value); undefined on a collector. */
  public get ipAddress(): string | undefined {
    return this.frontend?.ipAddress;
  }
}
