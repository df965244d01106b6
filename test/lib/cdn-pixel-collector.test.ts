import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, TerraformStack, Testing } from 'cdktf';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { chromium } from 'playwright-core';
import { CdnPixelCollector, CdnPixelCollectorProps } from '../../lib/cdn-pixel-collector';
import { STABLE_ASSET_HASHES_CONTEXT } from '../../lib/private/assets';
import { PATH_ONLY_CACHE_KEY_PARAMETER, pixelLogFilter, TRANSPARENT_GIF } from '../../lib/private/pixel';
import { allResources, takesLabels } from '../helpers/synth';

const TOPIC = { id: 'projects/my-project/topics/raw', name: 'raw' };
const BASE: CdnPixelCollectorProps = { domains: ['c.example.com'], rawTopic: TOPIC, projectId: 'my-project' };

function stackWith(props: Partial<CdnPixelCollectorProps> = {}, app: App = Testing.app({ context: { [STABLE_ASSET_HASHES_CONTEXT]: true } })) {
  const stack = new TerraformStack(app, 'test');
  const pixel = new CdnPixelCollector(stack, 'pixel', { ...BASE, ...props });
  return { stack, pixel };
}

function synth(props: Partial<CdnPixelCollectorProps> = {}): { json: string; tf: any; pixel: CdnPixelCollector } {
  const { stack, pixel } = stackWith(props);
  const json = Testing.synth(stack);
  return { json, tf: JSON.parse(json), pixel };
}

/** Every resource as [type, name, config]. */
function only(tf: any, type: string): any {
  const all = Object.values<any>(tf.resource?.[type] ?? {});
  expect(all).toHaveLength(1);
  return all[0];
}

describe('CdnPixelCollector', () => {
  test('synthesizes the same stack (Terraform addresses users depend on)', () => {
    const app = Testing.app({ context: { [STABLE_ASSET_HASHES_CONTEXT]: true } });
    const stack = new TerraformStack(app, 'test');
    const raw = new PubsubTopic(stack, 'raw', { name: 'raw' });
    new CdnPixelCollector(stack, 'pixel', { domains: ['c.example.com', 'c.example.org'], rawTopic: raw, projectId: 'my-project', customPaths: ['/p/x.gif'], labels: { env: 'test' } });
    expect(Testing.synth(stack)).toMatchSnapshot();
  });

  test('serves the bucket through Cloud CDN, caching by path alone for a year', () => {
    const { tf, pixel } = synth();
    const backend = only(tf, 'google_compute_backend_bucket');
    expect(backend).toMatchObject({
      enable_cdn: true,
      bucket_name: '${google_storage_bucket.pixel_bucket_7CD482F3.name}',
      cdn_policy: {
        cache_mode: 'CACHE_ALL_STATIC',
        default_ttl: 31536000,
        max_ttl: 31536000,
        client_ttl: 31536000,
      },
    });
    // Path-only cache key. An empty allow-list would be dropped as unset (the key would hold the whole query
    // string, so every event a cache miss): the key allow-lists exactly one parameter that no tracker sends.
    expect(backend.cdn_policy.cache_key_policy).toEqual({ query_string_whitelist: [PATH_ONLY_CACHE_KEY_PARAMETER] });
    expect(PATH_ONLY_CACHE_KEY_PARAMETER).toBe('_wmk');
    expect(backend.compression_mode).toBe('DISABLED');
    expect(backend.name).toBe('waymark-pixel-origin');
    // Every path of the HTTPS URL map goes to the backend bucket.
    const urlMap = tf.resource.google_compute_url_map[Object.keys(tf.resource.google_compute_url_map).find((k) => k.includes('url-map'))!];
    expect(urlMap.default_service).toBe('${google_compute_backend_bucket.pixel_backend-bucket_32AE8552.id}');
    expect(urlMap.name).toBe('waymark-pixel-urls');
    expect(pixel.logFilter).toContain('url_map_name="waymark-pixel-urls"');
  });

  test('the cache key parameter is no parameter of the protocol: neither the tracker nor the enrichment knows it', () => {
    const sources = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
    const files = [...sources(join(__dirname, '../../tracker')), ...sources(join(__dirname, '../../pipeline'))];
    expect(files.length).toBeGreaterThan(10);
    // The enrichment reads the tp2 parameters by name: the list is there, and the allow-listed name is not in it.
    expect(readFileSync(join(__dirname, '../../pipeline/stages/protocol.ts'), 'utf8')).toContain("'ue_px'");
    for (const file of files) expect([file, readFileSync(file, 'utf8').includes(PATH_ONLY_CACHE_KEY_PARAMETER)]).toEqual([file, false]);
  });

  test('puts the GIF at /i and the tp2 GET path (plus custom paths), image/gif with a long max-age', () => {
    const { tf, pixel } = synth({ customPaths: ['/p/x.gif'] });
    const objects = Object.values<any>(tf.resource.google_storage_bucket_object);
    expect(objects.map((o) => o.name).sort()).toEqual(['com.snowplowanalytics.snowplow/tp2', 'i', 'p/x.gif']);
    for (const o of objects) {
      expect(o.content_type).toBe('image/gif');
      expect(o.cache_control).toBe('public, max-age=31536000');
      expect(o.bucket).toBe('${google_storage_bucket.pixel_bucket_7CD482F3.name}');
      expect(o.source).toBe(pixel.pixelAsset.asset.path);
    }
    expect(pixel.pixelPaths).toEqual(['/i', '/com.snowplowanalytics.snowplow/tp2', '/p/x.gif']);
    expect(Object.keys(pixel.pixelObjects)).toEqual(pixel.pixelPaths);
  });

  test('ships the 1x1 transparent GIF as the asset every pixel object uploads', () => {
    const { stack, pixel } = stackWith({}, Testing.app());
    new GoogleProvider(stack, 'google', { project: 'my-project' });
    const outdir = Testing.fullSynth(stack);
    const shipped = readFileSync(join(outdir, 'stacks', 'test', pixel.pixelAsset.asset.path));
    expect(shipped.equals(TRANSPARENT_GIF)).toBe(true);
    // GIF89a, 1x1, a graphic control extension with the transparency flag on colour 0, and the trailer.
    expect(shipped.subarray(0, 6).toString('latin1')).toBe('GIF89a');
    expect([shipped.readUInt16LE(6), shipped.readUInt16LE(8)]).toEqual([1, 1]);
    const gce = shipped.indexOf(Buffer.from([0x21, 0xf9, 0x04]));
    expect(gce).toBeGreaterThan(0);
    expect(shipped[gce + 3] & 1).toBe(1);
    expect(shipped[gce + 6]).toBe(0);
    expect(shipped[shipped.length - 1]).toBe(0x3b);
  });

  test('the GIF decodes in Chromium as one fully transparent pixel', async () => {
    const executablePath = '/usr/bin/chromium';
    if (!existsSync(executablePath)) throw new Error('Chromium is missing: run `apt-get update && apt-get install -y chromium`');
    const browser = await chromium.launch({ executablePath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const page = await browser.newPage();
      const result = await page.evaluate(async (src) => {
        const img = new Image();
        await new Promise((resolve, reject) => { img.onload = resolve; img.onerror = () => reject(new Error('GIF did not decode')); img.src = src; });
        const canvas = document.createElement('canvas');
        canvas.width = 1;
        canvas.height = 1;
        const ctx = canvas.getContext('2d')!;
        ctx.fillStyle = 'rgba(0,0,0,0)';
        ctx.drawImage(img, 0, 0);
        return { width: img.naturalWidth, height: img.naturalHeight, rgba: Array.from(ctx.getImageData(0, 0, 1, 1).data) };
      }, `data:image/gif;base64,${TRANSPARENT_GIF.toString('base64')}`);
      expect(result.width).toBe(1);
      expect(result.height).toBe(1);
      expect(result.rgba[3]).toBe(0);
    } finally {
      await browser.close();
    }
  });

  test('answers HTTPS only with a TLS 1.2+ MODERN policy and redirects HTTP to HTTPS', () => {
    const { json, tf } = synth();
    expect(json).toHaveResourceWithProperties({ tfResourceType: 'google_compute_ssl_policy' }, { profile: 'MODERN', min_tls_version: 'TLS_1_2' });
    expect(json).toHaveResourceWithProperties({ tfResourceType: 'google_compute_target_https_proxy' }, {
      url_map: '${google_compute_url_map.pixel_url-map_13CA0FD2.id}',
      ssl_policy: '${google_compute_ssl_policy.pixel_frontend_ssl-policy_18938B48.id}',
    });
    expect(json).toHaveResourceWithProperties({ tfResourceType: 'google_compute_url_map' }, {
      default_url_redirect: { https_redirect: true, redirect_response_code: 'MOVED_PERMANENTLY_DEFAULT', strip_query: false },
    });
    const rules = Object.values<any>(tf.resource.google_compute_global_forwarding_rule);
    expect(rules.map((r) => r.port_range).sort()).toEqual(['443', '80']);
    for (const r of rules) expect(r.load_balancing_scheme).toBe('EXTERNAL_MANAGED');
    expect(only(tf, 'google_compute_managed_ssl_certificate').managed.domains).toEqual(['c.example.com']);
  });

  test("routes this load balancer's pixel requests (cache hits too) to the raw topic", () => {
    const { tf, pixel } = synth({ customPaths: ['/p/x.gif'] });
    const sink = only(tf, 'google_logging_project_sink');
    expect(sink.destination).toBe('pubsub.googleapis.com/projects/my-project/topics/raw');
    expect(sink.unique_writer_identity).toBe(true);
    expect(sink.filter).toBe(
      'resource.type="http_load_balancer"' +
        ' AND resource.labels.url_map_name="waymark-pixel-urls"' +
        ' AND httpRequest.requestMethod="GET"' +
        ' AND httpRequest.requestUrl=~"^https?://[^/?#]+/(i|com[.]snowplowanalytics[.]snowplow/tp2|p/x[.]gif)([?#]|$)"',
    );
    expect(sink.filter).toBe(pixel.logFilter);
    // No condition on httpRequest.cacheHit: requests answered from the edge cache are events too.
    expect(sink.filter).not.toContain('cacheHit');
  });

  test('the filter selects exactly the pixel paths, whatever the host and query string', () => {
    const filter = pixelLogFilter({ urlMapName: 'm', paths: ['/i', '/com.snowplowanalytics.snowplow/tp2', '/p/x.gif'] });
    // The filter's RE2 pattern uses no construct where RE2 and JavaScript differ.
    const pattern = new RegExp(filter.match(/requestUrl=~"(.*)"$/)![1]);
    for (const url of [
      'https://c.example.com/i?e=pv&url=https%3A%2F%2Fexample.com%2F&aid=site',
      'https://c.example.com/i',
      'https://c.example.org/com.snowplowanalytics.snowplow/tp2?e=se&se_ca=a',
      'https://c.example.com/p/x.gif?e=pv',
    ]) expect(`${url}: ${pattern.test(url)}`).toBe(`${url}: true`);
    for (const url of [
      'https://c.example.com/ix?e=pv',
      'https://c.example.com/i/x',
      'https://c.example.com/xi',
      'https://c.example.com/',
      'https://c.example.com/com.snowplowanalyticsXsnowplow/tp2',
      'https://c.example.com/com.snowplowanalytics.snowplow/tp2x',
      'https://c.example.com/p/xXgif',
      'https://c.example.com/x?u=https://c.example.com/i',
    ]) expect(`${url}: ${pattern.test(url)}`).toBe(`${url}: false`);
  });

  test("grants the sink's writer identity roles/pubsub.publisher on the raw topic, and nothing else", () => {
    const { tf } = synth();
    const grant = only(tf, 'google_pubsub_topic_iam_member');
    expect(grant).toEqual({
      topic: 'projects/my-project/topics/raw',
      role: 'roles/pubsub.publisher',
      member: '${google_logging_project_sink.pixel_sink_19394529.writer_identity}',
    });
    const iamTypes = allResources(tf).map(([type]) => type).filter((t) => /iam|_binding|_policy$/.test(t) && t !== 'google_compute_ssl_policy');
    expect(iamTypes.sort()).toEqual(['google_pubsub_topic_iam_member', 'google_storage_bucket_iam_member']);
  });

  test('accepts a PubsubTopic: the sink and the grant reference it', () => {
    const app = Testing.app({ context: { [STABLE_ASSET_HASHES_CONTEXT]: true } });
    const stack = new TerraformStack(app, 'test');
    const raw = new PubsubTopic(stack, 'raw', { name: 'raw' });
    new CdnPixelCollector(stack, 'pixel', { ...BASE, rawTopic: raw });
    const tf = JSON.parse(Testing.synth(stack));
    expect(only(tf, 'google_logging_project_sink').destination).toBe('pubsub.googleapis.com/${google_pubsub_topic.raw.id}');
    expect(only(tf, 'google_pubsub_topic_iam_member').topic).toBe('${google_pubsub_topic.raw.id}');
  });

  test('the only public grant is read of the pixel bucket objects', () => {
    const { tf } = synth();
    const publicGrants = allResources(tf).filter(([, , config]) => /allUsers|allAuthenticatedUsers/.test(JSON.stringify(config)));
    expect(publicGrants).toEqual([
      ['google_storage_bucket_iam_member', 'pixel_public-read_D9A25703', {
        bucket: '${google_storage_bucket.pixel_bucket_7CD482F3.name}',
        // get, not list: objectViewer would let anyone list the bucket.
        role: 'roles/storage.legacyObjectReader',
        member: 'allUsers',
      }],
    ]);
    expect(only(tf, 'google_storage_bucket')).toMatchObject({ uniform_bucket_level_access: true, public_access_prevention: 'inherited' });
  });

  test('labels every resource that takes labels', () => {
    const { tf } = synth({ labels: { env: 'test', team: 'data' } });
    const labelled = allResources(tf).filter(([type]) => takesLabels(type));
    expect(new Set(labelled.map(([type]) => type))).toEqual(new Set(['google_storage_bucket', 'google_compute_global_address', 'google_compute_global_forwarding_rule']));
    for (const [type, name, config] of labelled) {
      expect({ resource: `${type}.${name}`, labels: config.labels }).toEqual({ resource: `${type}.${name}`, labels: { env: 'test', team: 'data', 'managed-by': 'waymark' } });
    }
  });

  test('names the bucket after the project, or after the provider project at apply time', () => {
    expect(only(synth().tf, 'google_storage_bucket').name).toBe('my-project-waymark-pixel');
    expect(only(synth({ bucketName: 'my-pixels' }).tf, 'google_storage_bucket').name).toBe('my-pixels');
    const { tf } = synth({ projectId: undefined, namePrefix: 'edge' });
    const [clientConfig] = Object.keys(tf.data.google_client_config);
    expect(Object.keys(tf.data.google_client_config)).toHaveLength(1);
    expect(only(tf, 'google_storage_bucket').name).toBe(`\${data.google_client_config.${clientConfig}.project}-edge`);
  });

  test('exposes the endpoint and domains', () => {
    const { pixel } = synth({ domains: ['c.example.com', 'c.example.org'] });
    expect(pixel.endpoint).toBe('https://c.example.com');
    expect(pixel.domains).toEqual(['c.example.com', 'c.example.org']);
    expect(typeof pixel.ipAddress).toBe('string');
  });

  describe('validates props at construct time', () => {
    const cases: [string, Partial<CdnPixelCollectorProps> | Record<string, unknown>, string][] = [
      ['no domains', { domains: undefined }, "CdnPixelCollector: prop 'domains' is required"],
      ['empty domains', { domains: [] }, "CdnPixelCollector: prop 'domains' must name at least one domain"],
      ['a URL for a domain', { domains: ['https://c.example.com'] }, "CdnPixelCollector: prop 'domains' must be a lower-case DNS name such as 'c.example.com' (no scheme, port or path), got 'https://c.example.com'"],
      ['an upper-case domain', { domains: ['C.example.com'] }, "prop 'domains' must be a lower-case DNS name"],
      ['a duplicate domain', { domains: ['c.example.com', 'c.example.com'] }, "CdnPixelCollector: prop 'domains' names 'c.example.com' twice"],
      ['no topic', { rawTopic: undefined }, "CdnPixelCollector: prop 'rawTopic' is required"],
      ['a topic name for an id', { rawTopic: { id: 'raw', name: 'raw' } }, "CdnPixelCollector: prop 'rawTopic' must have an id of the form 'projects/<project>/topics/<name>'; got 'raw'"],
      ['a relative custom path', { customPaths: ['i2'] }, "CdnPixelCollector: prop 'customPaths' has 'i2': a path must start with '/'"],
      ['a custom path with a query', { customPaths: ['/p?x=1'] }, "prop 'customPaths' has '/p?x=1'"],
      ['a custom path with //', { customPaths: ['/a//b'] }, "prop 'customPaths' has '/a//b'"],
      ['a custom path with ..', { customPaths: ['/a/../i'] }, "prop 'customPaths' has '/a/../i'"],
      ['a custom folder path', { customPaths: ['/p/'] }, "prop 'customPaths' has '/p/'"],
      ['a custom path repeating a default', { customPaths: ['/i'] }, "CdnPixelCollector: prop 'customPaths' names '/i', which is already a pixel path"],
      ['an upper-case name prefix', { namePrefix: 'Waymark' }, "CdnPixelCollector: prop 'namePrefix' must be 1-32 characters: lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen; got 'Waymark'"],
      ['a long name prefix', { namePrefix: 'a'.repeat(33) }, "prop 'namePrefix' must be 1-32 characters"],
      ['a bad bucket name', { bucketName: 'My_Bucket' }, "CdnPixelCollector: prop 'bucketName' must be 3-63 characters"],
      ['a google bucket name', { bucketName: 'my-google-pixel' }, "CdnPixelCollector: prop 'bucketName' must not start with 'goog' or contain 'google'"],
      ['a bad project id', { projectId: 'My Project' }, "CdnPixelCollector: prop 'projectId' must be a project id"],
      ['a bad location', { location: 'us central' }, "CdnPixelCollector: prop 'location' must be a Cloud Storage location"],
      ['a bad label', { labels: { Env: 'x' } }, "CdnPixelCollector: prop 'labels' has label key 'Env'"],
    ];
    test.each(cases)('%s', (_name, props, message) => {
      expect(() => stackWith(props as Partial<CdnPixelCollectorProps>)).toThrow(message);
    });
  });
});
