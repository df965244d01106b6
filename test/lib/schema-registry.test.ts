import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TerraformOutput } from 'cdktf';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { SchemaRegistry, SchemaRegistryProps } from '../../lib/schema-registry';
import { BUILTIN_SCHEMAS_DIR } from '../../pipeline/registry/load';
import { dataStack, grantedRoles, PRIMITIVE_ROLES, PROJECT, REGISTRIES, synth } from './fixtures/data-stack';

const ACME = join(REGISTRIES, 'acme');

function make(props: SchemaRegistryProps = { projectId: PROJECT, schemaFolders: [ACME] }) {
  const stack = dataStack();
  const registry = new SchemaRegistry(stack, 'schemas', props);
  return { stack, registry };
}

describe('SchemaRegistry', () => {
  test('snapshot', () => {
    expect(synth(make().stack).text).toMatchSnapshot();
  });

  test('merges the built-in schemas with the user folder and exposes the parsed registry', () => {
    const { registry } = make();
    const keys = registry.registry.schemas.map((s) => s.key);
    expect(keys).toEqual(expect.arrayContaining([
      'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0',
      'iglu:io.waymark/collector_payload/jsonschema/1-0-0',
      'iglu:com.acme/checkout/jsonschema/1-0-0',
      'iglu:com.acme/checkout/jsonschema/1-0-1',
      'iglu:com.acme/checkout/jsonschema/2-0-0',
      'iglu:com.acme/customer/jsonschema/1-0-0',
    ]));
    expect(registry.schemaFolders).toEqual([ACME]);
    const checkout = registry.models().filter((m) => m.vendor === 'com.acme' && m.name === 'checkout');
    expect(checkout.map((m) => [m.model, m.versions.length])).toEqual([[1, 2], [2, 1]]);
  });

  test('publishes a static Iglu registry: one JSON object per schema under schemas/<vendor>/<name>/jsonschema/<version>', () => {
    const { stack, registry } = make();
    new TerraformOutput(stack, 'url', { value: registry.registryUrl });
    const s = synth(stack);
    const objects = s.list('google_storage_bucket_object');
    expect(objects).toHaveLength(registry.registry.schemas.length);
    const names = objects.map((o) => o.name).sort();
    expect(names).toContain('schemas/com.acme/checkout/jsonschema/1-0-1');
    expect(names).toContain('schemas/com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0');
    for (const o of objects) {
      expect(o.content_type).toBe('application/json');
      expect(o.bucket).toMatch(/^\$\{google_storage_bucket\.schemas_bucket_[0-9A-F]+\.name\}$/);
      expect(o.source).toMatch(/^assets\//);
    }
    expect(s.json.output.url.value).toMatch(/^https:\/\/storage\.googleapis\.com\/\$\{google_storage_bucket\.schemas_bucket_[0-9A-F]+\.name\}$/);
  });

  test('the uploaded files hold exactly the schemas (bundled through the data-file bundler)', () => {
    const { stack, registry } = make();
    synth(stack);
    const webPage = registry.registry.get('iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0')!;
    const asset = stack.node.findAll().find((c) => c.node.id === 'schema-asset-com-snowplowanalytics-snowplow-web-page-jsonschema-1-0-0') as any;
    expect(asset).toBeDefined();
    const uploaded = JSON.parse(readFileSync(asset.sourcePath ?? asset.props?.path ?? asset.path, 'utf8'));
    expect(uploaded).toEqual(webPage.schema);
    expect(uploaded).toEqual(JSON.parse(readFileSync(join(BUILTIN_SCHEMAS_DIR, 'com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0'), 'utf8')));
  });

  test('private bucket by default: uniform access, public access prevented, labelled, no public grant', () => {
    const s = synth(make({ projectId: PROJECT, labels: { team: 'data' } }).stack);
    expect(s.text).toHaveResourceWithProperties(StorageBucket, {
      name: 'acme-analytics-waymark-iglu',
      location: 'US',
      uniform_bucket_level_access: true,
      public_access_prevention: 'enforced',
      labels: { team: 'data', 'managed-by': 'waymark' },
    });
    expect(grantedRoles(s.json)).toEqual([]);
  });

  test('publicRead opens the registry to everyone (objectViewer for allUsers), like Iglu Central', () => {
    const s = synth(make({ projectId: PROJECT, publicRead: true, location: 'europe-west1' }).stack);
    expect(s.one('google_storage_bucket')).toMatchObject({ public_access_prevention: 'inherited', location: 'EUROPE-WEST1' });
    expect(grantedRoles(s.json)).toEqual([{ type: 'google_storage_bucket_iam_member', role: 'roles/storage.objectViewer', member: 'allUsers' }]);
  });

  test('grantRead gives objectViewer on the registry bucket only', () => {
    const { stack, registry } = make();
    registry.grantRead('serviceAccount:resolver@acme-analytics.iam.gserviceaccount.com');
    const roles = grantedRoles(synth(stack).json);
    expect(roles).toEqual([{ type: 'google_storage_bucket_iam_member', role: 'roles/storage.objectViewer', member: 'serviceAccount:resolver@acme-analytics.iam.gserviceaccount.com' }]);
    expect(roles.some((r) => PRIMITIVE_ROLES.includes(r.role))).toBe(false);
  });

  test('without projectId the bucket name uses the provider project at apply time', () => {
    const s = synth(make({}).stack);
    expect(s.one('google_storage_bucket').name).toMatch(/^\$\{data\.google_client_config\.schemas_client_[0-9A-F]+\.project\}-waymark-iglu$/);
  });

  test('a breaking change inside a MODEL fails synth, naming the file and the fix', () => {
    expect(() => make({ schemaFolders: [join(REGISTRIES, 'breaking')] })).toThrow(
      "SchemaRegistry: prop 'schemaFolders' holds invalid schemas. Invalid schema: " +
      join(REGISTRIES, 'breaking', 'com.acme/checkout/jsonschema/1-0-1') +
      ': breaking change from 1-0-0 within MODEL 1: #/properties/orderId/type: type changed from "string" to "integer". ' +
      'Versions within a MODEL may only add optional properties or loosen constraints; publish this change as 2-0-0',
    );
  });

  test('a missing folder fails synth with its path', () => {
    expect(() => make({ schemaFolders: ['/nonexistent/schemas'] })).toThrow("SchemaRegistry: prop 'schemaFolders' holds invalid schemas. Schema folder /nonexistent/schemas does not exist");
  });

  test.each([
    [{ projectId: 'Bad' }, "SchemaRegistry: prop 'projectId' must be a project id"],
    [{ bucketName: 'UPPER' }, "SchemaRegistry: prop 'bucketName' must be 3-63 characters"],
    [{ projectId: 'a-very-long-project-id-123456', namePrefix: 'a-longer-prefix-for-the-names' }, "SchemaRegistry: prop 'namePrefix' makes the bucket name"],
    [{ location: 'mars' }, "SchemaRegistry: prop 'location' must be a Google Cloud region"],
    [{ labels: { ok: 'Not OK' } }, "SchemaRegistry: prop 'labels' has label 'ok' with value 'Not OK'"],
  ] as Array<[SchemaRegistryProps, string]>)('validation: %j', (props, message) => {
    expect(() => make(props)).toThrow(message);
  });
});
