import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, TerraformOutput, TerraformStack, Testing } from 'cdktf';
import { ComputeBackendBucket } from '@cdktf/provider-google/lib/compute-backend-bucket';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { CollectorBackend } from '../../lib/collector-backend';
import { GlobalCollector } from '../../lib/global-collector';
import { STABLE_ASSET_HASHES_CONTEXT } from '../../lib/private/assets';
import { trackerBundle } from '../../lib/private/runtime-bundles';
import { GlobalCollectorLike, TrackerHosting, TrackerHostingProps } from '../../lib/tracker-hosting';
import { allResources, takesLabels } from '../helpers/synth';

const stableApp = (): App => Testing.app({ context: { [STABLE_ASSET_HASHES_CONTEXT]: true } });

/** A stand-in for GlobalCollector that records the routes it is asked to add. */
class FakeCollector implements GlobalCollectorLike {
  public readonly routes: { pathPrefix: string; backendBucket: ComputeBackendBucket }[] = [];
  constructor(public readonly domains: readonly string[] = ['c.example.com']) {}
  public addBackendBucketRoute(pathPrefix: string, backendBucket: ComputeBackendBucket): void {
    this.routes.push({ pathPrefix, backendBucket });
  }
}

function build(props: TrackerHostingProps, app: App = stableApp()) {
  const stack = new TerraformStack(app, 'test');
  const tracker = new TrackerHosting(stack, 'tracker', { projectId: 'my-project', ...props });
  return { stack, tracker };
}

function synth(props: TrackerHostingProps, app?: App): { json: string; tf: any; tracker: TrackerHosting } {
  const { stack, tracker } = build(props, app);
  const json = Testing.synth(stack);
  return { json, tf: JSON.parse(json), tracker };
}

function only(tf: any, type: string): any {
  const all = Object.values<any>(tf.resource?.[type] ?? {});
  expect(all).toHaveLength(1);
  return all[0];
}

function objectsByName(tf: any): Record<string, any> {
  return Object.fromEntries(Object.values<any>(tf.resource.google_storage_bucket_object).map((o) => [o.name, o]));
}

describe('TrackerHosting', () => {
  test('synthesizes the same stack on a load balancer of its own', () => {
    expect(synth({ domains: ['t.example.com'], labels: { env: 'test' } }).json).toMatchSnapshot();
  });

  test('synthesizes the same stack as a path of a collector', () => {
    expect(synth({ collector: new FakeCollector() }).json).toMatchSnapshot();
  });

  test('uploads sp-<content hash>.js (immutable, a year) and sp.js (5 minutes) as JavaScript', () => {
    const { tf, tracker } = synth({ domains: ['t.example.com'] }, Testing.app());
    const { hash } = trackerBundle();
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    const objects = objectsByName(tf);
    expect(Object.keys(objects).sort()).toEqual([`sp-${hash}.js`, 'sp.js']);
    expect(objects[`sp-${hash}.js`]).toMatchObject({ content_type: 'text/javascript; charset=utf-8', cache_control: 'public, max-age=31536000, immutable' });
    expect(objects['sp.js']).toMatchObject({ content_type: 'text/javascript; charset=utf-8', cache_control: 'public, max-age=300' });
    // Both names upload the same staged bundle.
    expect(objects['sp.js'].source).toBe(objects[`sp-${hash}.js`].source);
    expect(tracker.trackerUrl).toBe(`https://t.example.com/sp-${hash}.js`);
    expect(tracker.stableUrl).toBe('https://t.example.com/sp.js');
  });

  test('a new build leaves the previous objects in place: pages pinned to the old sp-<hash>.js keep working, sp.js never 404s', () => {
    const { tf } = synth({ domains: ['t.example.com'] });
    for (const object of Object.values<any>(tf.resource.google_storage_bucket_object)) {
      // A new hash renames sp-<hash>.js and changes sp.js's content: both are replacements, which must not delete.
      expect(object.deletion_policy).toBe('ABANDON');
      // Create-before-destroy would be wrong for sp.js (same name): the old resource's delete would remove the new content.
      expect(object.lifecycle?.create_before_destroy).toBeUndefined();
    }
    expect(only(tf, 'google_storage_bucket').force_destroy).toBe(true);
  });

  test('the asset it uploads is the shipped tracker bundle', () => {
    const { stack, tracker } = build({ domains: ['t.example.com'] }, Testing.app());
    new GoogleProvider(stack, 'google', { project: 'my-project' });
    const outdir = Testing.fullSynth(stack);
    const shipped = readFileSync(join(outdir, 'stacks', 'test', tracker.trackerAsset.asset.path));
    expect(shipped.equals(trackerBundle().contents)).toBe(true);
    expect(shipped.length).toBeGreaterThan(1000);
  });

  test('stableMaxAge sets the stable name\'s max-age and the edge default TTL', () => {
    const { tf } = synth({ domains: ['t.example.com'], stableMaxAge: 60 });
    expect(objectsByName(tf)['sp.js'].cache_control).toBe('public, max-age=60');
    expect(objectsByName(tf)['sp-0000000000000000.js'].cache_control).toBe('public, max-age=31536000, immutable');
    expect(only(tf, 'google_compute_backend_bucket').cdn_policy.default_ttl).toBe(60);
  });

  test('serves the bucket through Cloud CDN with edge compression, caching by path alone', () => {
    const { tf } = synth({ domains: ['t.example.com'] });
    const backend = only(tf, 'google_compute_backend_bucket');
    expect(backend).toMatchObject({
      enable_cdn: true,
      compression_mode: 'AUTOMATIC',
      bucket_name: '${google_storage_bucket.tracker_bucket_F223954C.name}',
      cdn_policy: { cache_mode: 'CACHE_ALL_STATIC', max_ttl: 31536000, client_ttl: 31536000 },
    });
    // One allow-listed parameter no client sends: an empty list would be treated as unset (whole query in the key).
    expect(backend.cdn_policy.cache_key_policy).toEqual({ query_string_whitelist: ['_wmk'] });
  });

  test('on its own load balancer: TLS 1.2+ MODERN, HTTP redirected to HTTPS, every path to the bucket', () => {
    const { json, tf, tracker } = synth({ domains: ['t.example.com', 'cdn.example.org'] });
    expect(json).toHaveResourceWithProperties({ tfResourceType: 'google_compute_ssl_policy' }, { profile: 'MODERN', min_tls_version: 'TLS_1_2' });
    expect(json).toHaveResourceWithProperties({ tfResourceType: 'google_compute_url_map' }, {
      default_url_redirect: { https_redirect: true, redirect_response_code: 'MOVED_PERMANENTLY_DEFAULT', strip_query: false },
    });
    expect(json).toHaveResourceWithProperties({ tfResourceType: 'google_compute_url_map' }, {
      name: 'waymark-tracker-urls',
      default_service: '${google_compute_backend_bucket.tracker_backend-bucket_E54A2DBB.id}',
    });
    expect(json).toHaveResourceWithProperties({ tfResourceType: 'google_compute_target_https_proxy' }, {
      url_map: '${google_compute_url_map.tracker_url-map_5A6D5065.id}',
      ssl_policy: '${google_compute_ssl_policy.tracker_frontend_ssl-policy_6B5F4399.id}',
    });
    expect(only(tf, 'google_compute_managed_ssl_certificate').managed.domains).toEqual(['t.example.com', 'cdn.example.org']);
    expect(Object.values<any>(tf.resource.google_compute_global_forwarding_rule).map((r) => r.port_range).sort()).toEqual(['443', '80']);
    expect(tracker.urlMap).toBeDefined();
    expect(tracker.frontend).toBeDefined();
    expect(tracker.domain).toBe('t.example.com');
  });

  test('on a collector: adds one route for /t/ to the backend bucket, objects under t/, no load balancer of its own', () => {
    const collector = new FakeCollector(['c.example.com', 'c.example.org']);
    const { tf, tracker } = synth({ collector });
    expect(collector.routes).toHaveLength(1);
    expect(collector.routes[0].pathPrefix).toBe('/t/');
    expect(collector.routes[0].backendBucket).toBe(tracker.backendBucket);
    expect(Object.keys(objectsByName(tf)).sort()).toEqual(['t/sp-0000000000000000.js', 't/sp.js']);
    for (const type of ['google_compute_url_map', 'google_compute_target_https_proxy', 'google_compute_global_forwarding_rule', 'google_compute_global_address', 'google_compute_managed_ssl_certificate']) {
      expect(`${type}: ${JSON.stringify(tf.resource[type])}`).toBe(`${type}: undefined`);
    }
    expect(tracker.urlMap).toBeUndefined();
    expect(tracker.frontend).toBeUndefined();
    expect(tracker.ipAddress).toBeUndefined();
    expect(tracker.trackerUrl).toBe('https://c.example.com/t/sp-0000000000000000.js');
    expect(tracker.stableUrl).toBe('https://c.example.com/t/sp.js');
  });

  test("on a real GlobalCollector: the collector's URL map routes /t/* to the tracker's backend bucket", () => {
    const stack = new TerraformStack(stableApp(), 'test');
    const collector = new GlobalCollector(stack, 'collector', {
      domains: ['c.example.com'],
      backends: [CollectorBackend.cloudRun({ regions: ['us-central1'] })],
      rawTopic: new PubsubTopic(stack, 'raw', { name: 'raw' }),
      badTopic: new PubsubTopic(stack, 'bad', { name: 'bad' }),
      projectId: 'my-project',
    });
    const tracker = new TrackerHosting(stack, 'tracker', { collector, projectId: 'my-project' });
    const tf = JSON.parse(Testing.synth(stack));
    const routed = Object.values<any>(tf.resource.google_compute_url_map).flatMap((m) => (m.path_matcher ?? []).flatMap((pm: any) => pm.path_rule ?? []));
    expect(routed).toContainEqual({ paths: ['/t/*'], service: '${google_compute_backend_bucket.tracker_backend-bucket_E54A2DBB.id}' });
    expect(tracker.stableUrl).toBe('https://c.example.com/t/sp.js');
    // The tracker adds no load balancer: the collector's is the only HTTPS proxy.
    expect(Object.keys(tf.resource.google_compute_target_https_proxy)).toHaveLength(1);
  });

  test('a custom path prefix names the objects and the route', () => {
    const collector = new FakeCollector();
    const { tf, tracker } = synth({ collector, pathPrefix: '/static/waymark/' });
    expect(collector.routes.map((r) => r.pathPrefix)).toEqual(['/static/waymark/']);
    expect(Object.keys(objectsByName(tf)).sort()).toEqual(['static/waymark/sp-0000000000000000.js', 'static/waymark/sp.js']);
    expect(tracker.stableUrl).toBe('https://c.example.com/static/waymark/sp.js');
    const own = synth({ domains: ['t.example.com'], pathPrefix: '/js/' });
    expect(Object.keys(objectsByName(own.tf)).sort()).toEqual(['js/sp-0000000000000000.js', 'js/sp.js']);
    expect(own.tracker.trackerUrl).toBe('https://t.example.com/js/sp-0000000000000000.js');
  });

  test('the URLs work as Terraform outputs', () => {
    const { stack, tracker } = build({ domains: ['t.example.com'] });
    new TerraformOutput(stack, 'tracker_url', { value: tracker.trackerUrl });
    new TerraformOutput(stack, 'stable_url', { value: tracker.stableUrl });
    const tf = JSON.parse(Testing.synth(stack));
    expect(tf.output.tracker_url.value).toBe('https://t.example.com/sp-0000000000000000.js');
    expect(tf.output.stable_url.value).toBe('https://t.example.com/sp.js');
  });

  test('the only public grant is read of the tracker bucket objects', () => {
    for (const props of [{ domains: ['t.example.com'] }, { collector: new FakeCollector() }]) {
      const { tf } = synth(props);
      const publicGrants = allResources(tf).filter(([, , config]) => /allUsers|allAuthenticatedUsers/.test(JSON.stringify(config)));
      expect(publicGrants).toEqual([
        ['google_storage_bucket_iam_member', 'tracker_public-read_BA213BE6', {
          bucket: '${google_storage_bucket.tracker_bucket_F223954C.name}',
          role: 'roles/storage.legacyObjectReader',
          member: 'allUsers',
        }],
      ]);
      expect(only(tf, 'google_storage_bucket')).toMatchObject({ name: 'my-project-waymark-tracker', uniform_bucket_level_access: true });
    }
  });

  test('labels every resource that takes labels', () => {
    const { tf } = synth({ domains: ['t.example.com'], labels: { env: 'test' } });
    const labelled = allResources(tf).filter(([type]) => takesLabels(type));
    expect(new Set(labelled.map(([type]) => type))).toEqual(new Set(['google_storage_bucket', 'google_compute_global_address', 'google_compute_global_forwarding_rule']));
    for (const [type, name, config] of labelled) {
      expect({ resource: `${type}.${name}`, labels: config.labels }).toEqual({ resource: `${type}.${name}`, labels: { env: 'test', 'managed-by': 'waymark' } });
    }
  });

  describe('validates props at construct time', () => {
    const collector = new FakeCollector();
    const cases: [string, TrackerHostingProps, string][] = [
      ['both domains and collector', { domains: ['t.example.com'], collector }, "TrackerHosting: prop 'domains' cannot be combined with prop 'collector'"],
      ['neither domains nor collector', {}, "TrackerHosting: prop 'domains' or prop 'collector' is required"],
      ['empty domains', { domains: [] }, "TrackerHosting: prop 'domains' must name at least one domain"],
      ['a URL for a domain', { domains: ['https://t.example.com/'] }, "TrackerHosting: prop 'domains' must be a lower-case DNS name such as 'c.example.com' (no scheme, port or path), got 'https://t.example.com/'"],
      ['a domain with a port', { domains: ['t.example.com:443'] }, "prop 'domains' must be a lower-case DNS name"],
      ['a duplicate domain', { domains: ['t.example.com', 't.example.com'] }, "TrackerHosting: prop 'domains' names a domain twice"],
      ['a collector without domains', { collector: new FakeCollector([]) }, "TrackerHosting: prop 'collector' has no domains"],
      ['something else for a collector', { collector: { domains: ['c.example.com'] } as unknown as GlobalCollectorLike }, "TrackerHosting: prop 'collector' must be a GlobalCollector"],
      ["the root prefix on a collector", { collector, pathPrefix: '/' }, "TrackerHosting: prop 'pathPrefix' must not be '/' here"],
      ['a prefix without a trailing slash', { collector, pathPrefix: '/t' }, "TrackerHosting: prop 'pathPrefix' must be a path that starts and ends with '/', such as '/t/'"],
      ['a prefix without a leading slash', { domains: ['t.example.com'], pathPrefix: 't/' }, "prop 'pathPrefix' must be a path that starts and ends with '/'"],
      ['a prefix with ..', { collector, pathPrefix: '/t/../' }, "prop 'pathPrefix' must be a path that starts and ends with '/'"],
      ['a prefix with a wildcard', { collector, pathPrefix: '/t/*' }, "prop 'pathPrefix' must be a path that starts and ends with '/'"],
      ['a negative max-age', { domains: ['t.example.com'], stableMaxAge: -1 }, "TrackerHosting: prop 'stableMaxAge' must be an integer between 0 and 86400, got -1"],
      ['a fractional max-age', { domains: ['t.example.com'], stableMaxAge: 1.5 }, "prop 'stableMaxAge' must be an integer between 0 and 86400, got 1.5"],
      ['a long max-age', { domains: ['t.example.com'], stableMaxAge: 86401 }, "prop 'stableMaxAge' must be an integer between 0 and 86400, got 86401"],
      ['a bad name prefix', { domains: ['t.example.com'], namePrefix: 'tracker-' }, "TrackerHosting: prop 'namePrefix' must be 1-32 characters"],
      ['a bad bucket name', { domains: ['t.example.com'], bucketName: 'a' }, "TrackerHosting: prop 'bucketName' must be 3-63 characters"],
      ['a bad project id', { domains: ['t.example.com'], projectId: 'p' }, "TrackerHosting: prop 'projectId' must be a project id"],
      ['a bad label value', { domains: ['t.example.com'], labels: { env: 'Prod' } }, "TrackerHosting: prop 'labels' has label 'env' with value 'Prod'"],
    ];
    test.each(cases)('%s', (_name, props, message) => {
      expect(() => build(props)).toThrow(message);
    });

    test('nothing is routed when validation fails', () => {
      const fresh = new FakeCollector();
      expect(() => build({ collector: fresh, pathPrefix: '/' })).toThrow();
      expect(fresh.routes).toEqual([]);
    });
  });
});
