import { join } from 'node:path';
import * as vm from 'node:vm';
import { TerraformStack, Testing } from 'cdktf';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { GoogleBetaProvider } from '@cdktf/provider-google-beta/lib/provider';
import { GoogleDataflowFlexTemplateJob } from '@cdktf/provider-google-beta/lib/google-dataflow-flex-template-job';
import { SchemaRegistry } from '../../lib/schema-registry';
import { StreamingEnricher, StreamingEnricherProps } from '../../lib/streaming-enricher';
import { ClickstreamTopics } from '../../lib/topics';
import { WarehouseSink } from '../../lib/warehouse-sink';
import { BigQueryField } from '../../lib/private/bigquery-schema';
import { dataStack, grantedRoles, PRIMITIVE_ROLES, PROJECT, REGISTRIES, synth } from './fixtures/data-stack';

const ACME = join(REGISTRIES, 'acme');

function parts(stack: TerraformStack) {
  const registry = new SchemaRegistry(stack, 'schemas', { projectId: PROJECT, schemaFolders: [ACME] });
  const topics = new ClickstreamTopics(stack, 'topics', { projectId: PROJECT });
  const warehouse = new WarehouseSink(stack, 'warehouse', { projectId: PROJECT, registry, location: 'EU' });
  return { registry, topics, warehouse };
}

function make(props: Partial<StreamingEnricherProps> = {}, stack = dataStack()) {
  const { registry, topics, warehouse } = parts(stack);
  const enricher = new StreamingEnricher(stack, 'enricher', {
    registry, warehouse, subscription: topics.enrichSubscription, region: 'europe-west1', projectId: PROJECT, ...props,
  });
  return { stack, registry, topics, warehouse, enricher };
}

function job(text: string): any {
  return Object.values<any>(JSON.parse(text).resource.google_dataflow_flex_template_job)[0];
}

/** Loads the UDF bundle into a fresh V8 context, as a script, the way the template's engine does. */
function loadUdf(source: string): { process(input: string): string } {
  const context = vm.createContext({});
  vm.runInContext(source, context, { filename: 'enrich.js' });
  return context as any;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('StreamingEnricher', () => {
  test('snapshot', () => {
    expect(synth(make({ labels: { env: 'test' } }).stack).text).toMatchSnapshot();
  });

  test('runs PubSub_to_BigQuery_Flex from the template bucket of its region, on the google-beta provider', () => {
    const s = synth(make({ region: 'asia-southeast1' }).stack);
    const j = job(s.text);
    expect(j.container_spec_gcs_path).toBe('gs://dataflow-templates-asia-southeast1/latest/flex/PubSub_to_BigQuery_Flex');
    expect(j.region).toBe('asia-southeast1');
    expect(j.provider).toBe('google-beta');
    expect(s.list('google_storage_bucket').find((b) => b.name.endsWith('-dataflow')).location).toBe('ASIA-SOUTHEAST1');
    const pinned = job(synth(make({ templateVersion: '2025-01-14-00_RC00' }).stack).text);
    expect(pinned.container_spec_gcs_path).toBe('gs://dataflow-templates-europe-west1/2025-01-14-00_RC00/flex/PubSub_to_BigQuery_Flex');
  });

  test('every template parameter: subscription, tables, Storage Write API, the exact UDF object and function (no reload interval)', () => {
    const s = synth(make().stack);
    const p = job(s.text).parameters;
    expect(Object.keys(p).sort()).toEqual([
      'inputSubscription', 'javascriptTextTransformFunctionName', 'javascriptTextTransformGcsPath',
      'numStorageWriteApiStreams', 'outputDeadletterTable', 'outputTableSpec', 'storageWriteApiTriggeringFrequencySec', 'useStorageWriteApi', 'useStorageWriteApiAtLeastOnce',
    ]);
    expect(p.inputSubscription).toMatch(/^\$\{google_pubsub_subscription\.topics_enrich_[0-9A-F]+\.id\}$/);
    expect(p.outputTableSpec).toMatch(/^\$\{google_bigquery_table\.warehouse_events_[0-9A-F]+\.project\}:\$\{google_bigquery_table\.warehouse_events_[0-9A-F]+\.dataset_id\}\.\$\{google_bigquery_table\.warehouse_events_[0-9A-F]+\.table_id\}$/);
    expect(p.outputDeadletterTable).toMatch(/^\$\{google_bigquery_table\.warehouse_dead-letter_[0-9A-F]+\.project\}:.+warehouse_dead-letter_[0-9A-F]+\.table_id\}$/);
    expect(p).toMatchObject({
      useStorageWriteApi: 'true',
      useStorageWriteApiAtLeastOnce: 'false',
      numStorageWriteApiStreams: '3',
      storageWriteApiTriggeringFrequencySec: '5',
      javascriptTextTransformFunctionName: 'process',
    });
    // The one content-hashed object, never a folder pattern that could match two UDFs during a deploy.
    expect(p.javascriptTextTransformGcsPath).toMatch(/^gs:\/\/\$\{google_storage_bucket\.enricher_bucket_[0-9A-F]+\.name\}\/udf\/waymark-enrich\/enrich-0000000000000000\.js$/);
    expect(p.javascriptTextTransformGcsPath).not.toContain('*');
  });

  test('at-least-once writes leave out the exactly-once stream settings', () => {
    const p = job(synth(make({ exactlyOnce: false }).stack).text).parameters;
    expect(p.useStorageWriteApiAtLeastOnce).toBe('true');
    expect(p.numStorageWriteApiStreams).toBeUndefined();
    expect(p.storageWriteApiTriggeringFrequencySec).toBeUndefined();
  });

  test('a change of the schemas or the enrichment changes a job parameter (so Terraform updates the job), nothing else does', () => {
    // Real content hashes (the other tests use stable placeholders).
    const udfPathOf = (props: Partial<StreamingEnricherProps>, folders: string[] = [ACME]): { path: string; object: string } => {
      const app = Testing.app();
      const stack = new TerraformStack(app, 'test');
      new GoogleProvider(stack, 'google', { project: PROJECT, region: 'europe-west1' });
      new GoogleBetaProvider(stack, 'google-beta', { project: PROJECT, region: 'europe-west1' });
      const registry = new SchemaRegistry(stack, 'schemas', { projectId: PROJECT, schemaFolders: folders });
      const topics = new ClickstreamTopics(stack, 'topics', { projectId: PROJECT });
      const warehouse = new WarehouseSink(stack, 'warehouse', { projectId: PROJECT, registry, location: 'EU' });
      const enricher = new StreamingEnricher(stack, 'enricher', { registry, warehouse, subscription: topics.enrichSubscription, region: 'europe-west1', projectId: PROJECT, ...props });
      const s = synth(stack);
      const object = s.list('google_storage_bucket_object').find((o) => o.name.startsWith('udf/')).name;
      expect(enricher.udfObject).toBeDefined();
      return { path: job(s.text).parameters.javascriptTextTransformGcsPath, object };
    };
    const base = udfPathOf({});
    expect(base.path).toMatch(/\/udf\/waymark-enrich\/enrich-[0-9a-f]{16}\.js$/);
    expect(base.path.endsWith(`/${base.object}`)).toBe(true);
    expect(udfPathOf({}).path).toBe(base.path);
    expect(udfPathOf({ machineType: 'n2-standard-4' }).path).toBe(base.path);
    const config = udfPathOf({ enrichmentConfig: { internalDomains: ['shop.example.com'] } });
    expect(config.path).not.toBe(base.path);
    expect(config.path.endsWith(`/${config.object}`)).toBe(true);
    // Another registry (the built-ins only): other columns, another UDF, another parameter.
    expect(udfPathOf({}, []).path).not.toBe(base.path);
  });

  test('the job is updated in place for a new UDF: it waits for the old job to drain only when it must be replaced', () => {
    const j = job(synth(make().stack).text);
    expect(j.on_delete).toBe('drain');
    // A fixed job name: the provider must wait for a drained job before launching the next one under that name.
    expect(j.skip_wait_on_job_termination).toBe(false);
    // The parameters refer to the events table, so Terraform applies a schema change to the table before the job update.
    expect(j.parameters.outputTableSpec).toContain('google_bigquery_table.warehouse_events_');
  });

  test('the UDF is uploaded under a content-hashed name, the new object before the old one is deleted', () => {
    const s = synth(make().stack);
    const udf = s.list('google_storage_bucket_object').find((o) => o.name.startsWith('udf/'));
    expect(udf).toMatchObject({ name: 'udf/waymark-enrich/enrich-0000000000000000.js', content_type: 'text/javascript', lifecycle: { create_before_destroy: true } });
    expect(udf.source).toMatch(/^assets\//);
    // The job waits for the UDF and, through a time_sleep, for every grant it needs to have propagated.
    const deps: string[] = job(s.text).depends_on;
    expect(deps.some((d) => d.startsWith('google_storage_bucket_object.enricher_udf_'))).toBe(true);
    expect(deps.filter((d) => /iam_member/.test(d))).toEqual([]);
    const sleeps = deps.filter((d) => d.startsWith('time_sleep.'));
    expect(sleeps).toHaveLength(1);
    const sleep = s.json.resource.time_sleep[sleeps[0].split('.')[1]];
    expect(sleep.create_duration).toBe('120s');
    expect(sleep.depends_on.filter((d: string) => /iam_member/.test(d))).toHaveLength(7);
  });

  test('IAM propagation: the job launches 120 s after its grants (time_sleep of hashicorp/time, declared for terraform init)', () => {
    // https://cloud.google.com/iam/docs/access-change-propagation: a grant typically takes effect within 2 minutes.
    const s = synth(make().stack);
    expect(s.json.terraform.required_providers.time).toEqual({ source: 'hashicorp/time', version: expect.stringMatching(/\d/) });
    expect(s.json.provider.time).toEqual([{}]);
  });

  test('workers: machine type, autoscaling bounds, Streaming Engine, network, drain on delete, labels, own service account', () => {
    const s = synth(make({
      machineType: 'n2-standard-4', numWorkers: 2, maxWorkers: 20, subnetwork: 'regions/europe-west1/subnetworks/dataflow', network: 'analytics', labels: { env: 'prod' },
    }).stack);
    expect(s.text).toHaveResourceWithProperties(GoogleDataflowFlexTemplateJob, {
      name: 'waymark-enrich',
      project: PROJECT,
      machine_type: 'n2-standard-4',
      num_workers: 2,
      max_workers: 20,
      enable_streaming_engine: true,
      network: 'analytics',
      subnetwork: 'regions/europe-west1/subnetworks/dataflow',
      ip_configuration: 'WORKER_IP_PRIVATE',
      on_delete: 'drain',
      labels: { env: 'prod', 'managed-by': 'waymark' },
    });
    const j = job(s.text);
    expect(j.service_account_email).toMatch(/^\$\{google_service_account\.enricher_service-account_[0-9A-F]+\.email\}$/);
    expect(j.temp_location).toMatch(/^gs:\/\/\$\{google_storage_bucket\.enricher_bucket_[0-9A-F]+\.name\}\/temp$/);
    expect(j.staging_location).toMatch(/\/staging$/);
    expect(s.one('google_service_account').account_id).toBe('waymark-enricher');
    // Long prefixes still give a valid, stable service account id.
    expect(synth(make({ namePrefix: 'a-name-prefix-too-long-for-accounts', existingBucket: { name: 'acme-dataflow' } }).stack).one('google_service_account').account_id).toMatch(/^a-name-prefix-too-long-[0-9a-f]{6}$/);
    const defaults = job(synth(make().stack).text);
    expect(defaults).toMatchObject({ machine_type: 'n2-standard-2', num_workers: 1, max_workers: 3, ip_configuration: 'WORKER_IP_PUBLIC', on_delete: 'drain' });
  });

  test('IAM: exactly what the workers need, on the narrowest resources, never a primitive role', () => {
    const s = synth(make().stack);
    const mine = grantedRoles(s.json).filter((r) => r.member.includes('enricher_service-account'));
    // metadataViewer on the dataset: BigQueryIO.Write.validate (on for the dead-letter writes) calls datasets.get.
    expect(mine.map((r) => `${r.type} ${r.role}`).sort()).toEqual([
      'google_bigquery_dataset_iam_member roles/bigquery.metadataViewer',
      'google_bigquery_table_iam_member roles/bigquery.dataEditor',
      'google_bigquery_table_iam_member roles/bigquery.dataEditor',
      'google_project_iam_member roles/dataflow.worker',
      'google_pubsub_subscription_iam_member roles/pubsub.subscriber',
      'google_pubsub_subscription_iam_member roles/pubsub.viewer',
      'google_storage_bucket_iam_member roles/storage.objectAdmin',
    ]);
    const subscriptionGrants = s.list('google_pubsub_subscription_iam_member').filter((g) => g.member.includes('enricher_service-account'));
    for (const g of subscriptionGrants) expect(g.subscription).toMatch(/topics_enrich_[0-9A-F]+\.id\}$/);
    const bucketGrant = s.list('google_storage_bucket_iam_member').find((g) => g.member.includes('enricher_service-account'));
    expect(bucketGrant.bucket).toMatch(/enricher_bucket_[0-9A-F]+\.name\}$/);
    expect(grantedRoles(s.json).some((r) => PRIMITIVE_ROLES.includes(r.role))).toBe(false);
  });

  test('work bucket: private, uniform access, temporary files expire, labelled; or an existing bucket', () => {
    const s = synth(make({ labels: { env: 'prod' } }).stack);
    const bucket = s.list('google_storage_bucket').find((b) => b.name === 'acme-analytics-waymark-dataflow');
    expect(bucket).toMatchObject({
      uniform_bucket_level_access: true,
      public_access_prevention: 'enforced',
      lifecycle_rule: [{ action: { type: 'Delete' }, condition: { age: 7, matches_prefix: ['temp/', 'bq-temp/'] } }],
      labels: { env: 'prod', 'managed-by': 'waymark' },
    });
    const existing = synth(make({ existingBucket: { name: 'acme-shared-dataflow' } }).stack);
    expect(existing.list('google_storage_bucket').map((b) => b.name)).not.toContain('acme-analytics-waymark-dataflow');
    expect(job(existing.text).parameters.javascriptTextTransformGcsPath).toBe('gs://acme-shared-dataflow/udf/waymark-enrich/enrich-0000000000000000.js');
  });

  test('no lifecycle rule of the work bucket deletes what the running job reads: its staged jars and its UDF', () => {
    // A streaming job runs for months; whenever Dataflow adds or replaces a worker, that worker loads the jars from
    // the job's stagingLocation. Expiring them breaks autoscaling and healing (apache/beam issue 18209).
    const j = job(synth(make().stack).text);
    const bucket = synth(make().stack).list('google_storage_bucket').find((b) => b.name === 'acme-analytics-waymark-dataflow');
    const objectPath = (uri: string): string => uri.replace(/^gs:\/\/[^/]+\//, '');
    const read = [objectPath(j.staging_location) + '/', objectPath(j.parameters.javascriptTextTransformGcsPath)];
    expect(read).toEqual(['staging/', 'udf/waymark-enrich/enrich-0000000000000000.js']);
    for (const rule of bucket.lifecycle_rule) {
      const prefixes: string[] = rule.condition.matches_prefix ?? [''];
      for (const path of read) expect(prefixes.filter((p) => path.startsWith(p))).toEqual([]);
    }
  });

  test('the shipped UDF writes exactly the warehouse\'s column names for the same registry (one naming function)', () => {
    const { enricher, warehouse } = make();
    const udf = loadUdf(enricher.udf.bundle.contents.toString('utf8'));
    const payload = {
      schema: 'iglu:io.waymark/collector_payload/jsonschema/1-0-0',
      data: {
        timestamp: '2025-03-01T10:00:00.000Z',
        collector: 'waymark-collector/0.1.0',
        ipAddress: '203.0.113.9',
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
        refererUri: 'https://shop.example.com/cart',
        networkUserId: '11111111-2222-4333-8444-555555555555',
        method: 'POST',
        path: '/com.snowplowanalytics.snowplow/tp2',
        parameters: {
          e: 'ue', eid: '9d5a6a2c-4c1b-4a3e-9b2a-1f0e2d3c4b5a', tv: 'js-3.0.0', p: 'web', aid: 'shop', url: 'https://shop.example.com/checkout',
          ue_px: b64({
            schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0',
            data: {
              schema: 'iglu:com.acme/checkout/jsonschema/1-0-1',
              data: {
                orderId: 'o-1', placedAt: '2025-03-01T09:59:58Z', deliveryDate: '2025-03-05', total: 42.5, itemCount: 2, weight: 1, giftWrapped: false, channel: 'web',
                address: { streetLine: '1 Main St', postCode: null, geo: { lat: 1.5, lon: 2.5 }, countryCode: 'NL' },
                items: [{ sku: 'a', quantity: 1, options: [{ name: 'size', value: 'M' }] }, { sku: 'b', quantity: 1 }],
                tags: ['x', 'y'], metadata: { any: ['thing'] }, matrix: [[1, 2], [3]], reference: 7, anything: { deep: true }, couponCode: 'SPRING',
              },
            },
          }),
          cx: b64({
            schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0',
            data: [
              { schema: 'iglu:com.acme/customer/jsonschema/1-0-0', data: { customerId: 'c-7', loyaltyTier: 'gold', HTTPReferrerURL: 'https://ads.example.net/' } },
              { schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' } },
            ],
          }),
        },
      },
    };
    const row = JSON.parse(udf.process(JSON.stringify(payload)));
    const fields = new Map(warehouse.fields.map((f) => [f.name, f]));
    // Every key the UDF emits, at every level, is a field of the generated table with a matching shape.
    const check = (value: unknown, field: BigQueryField, path: string): void => {
      if (value === null) return;
      if (field.mode === 'REPEATED') {
        expect({ path, isArray: Array.isArray(value) }).toEqual({ path, isArray: true });
        for (const item of value as unknown[]) check(item, { ...field, mode: 'NULLABLE' }, `${path}[]`);
        return;
      }
      if (field.type === 'RECORD') {
        const sub = new Map((field.fields ?? []).map((f) => [f.name, f]));
        for (const [k, v] of Object.entries(value as object)) {
          expect({ path: `${path}.${k}`, known: sub.has(k) }).toEqual({ path: `${path}.${k}`, known: true });
          check(v, sub.get(k)!, `${path}.${k}`);
        }
      } else if (field.type === 'JSON') {
        expect(typeof value).toBe('string');
        JSON.parse(value as string);
      }
    };
    for (const [key, value] of Object.entries(row)) {
      expect({ key, known: fields.has(key) }).toEqual({ key, known: true });
      check(value, fields.get(key)!, key);
    }
    // And the data landed where the names say.
    expect(row.unstruct_event_com_acme_checkout_1).toMatchObject({ order_id: 'o-1', coupon_code: 'SPRING', address: { country_code: 'NL', geo: { lat: 1.5 } } });
    expect(row.unstruct_event_com_acme_checkout_1.items[0].options).toEqual([{ name: 'size', value: 'M' }]);
    expect(row.contexts_com_acme_customer_1).toEqual([{ customer_id: 'c-7', loyalty_tier: 'gold', http_referrer_url: 'https://ads.example.net/' }]);
    expect(row.contexts_com_snowplowanalytics_snowplow_web_page_1).toEqual([{ id: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' }]);
  });

  test('an invalid enrichment configuration fails synth, naming the prop', () => {
    expect(() => make({ enrichmentConfig: { limits: { maxContexts: -1 } } })).toThrow("StreamingEnricher: prop 'enrichmentConfig' is invalid:");
    expect(() => make({ enrichmentConfig: { colour: 'blue' } as any })).toThrow("StreamingEnricher: prop 'enrichmentConfig' is invalid:");
    expect(() => make({ enrichmentConfig: { shapes: {} } as any })).toThrow("StreamingEnricher: prop 'enrichmentConfig' must not set 'shapes'");
  });

  test('without a google-beta provider in the stack the error says how to add one; an explicit one is used', () => {
    expect(() => make({}, dataStack({ beta: false }))).toThrow("StreamingEnricher: prop 'betaProvider' is required when the stack has no google-beta provider");
    const stack = dataStack({ beta: false });
    const beta = new GoogleBetaProvider(stack, 'beta-eu', { alias: 'eu', project: PROJECT, region: 'europe-west1' });
    expect(job(synth(make({ betaProvider: beta }, stack).stack).text).provider).toBe('google-beta.eu');
  });

  test.each([
    [{ region: 'Europe' }, "StreamingEnricher: prop 'region' must be a Google Cloud region"],
    [{ numWorkers: 5, maxWorkers: 2 }, "StreamingEnricher: prop 'numWorkers' (5) must not exceed 'maxWorkers' (2)"],
    [{ maxWorkers: 0 }, "prop 'maxWorkers' must be an integer between 1 and 1000, got 0"],
    [{ machineType: 'big' }, "prop 'machineType' must be a Compute Engine machine type"],
    [{ exactlyOnce: false, storageWriteApiStreams: 4 }, "prop 'storageWriteApiStreams' applies to exactly-once writes only"],
    [{ onDelete: 'stop' as any }, "prop 'onDelete' must be 'drain' or 'cancel', got 'stop'"],
    [{ templateVersion: 'v1' }, "prop 'templateVersion' must be 'latest' or a release such as '2025-01-14-00_RC00', got 'v1'"],
    [{ subnetwork: 'dataflow' }, "prop 'subnetwork' must look like 'regions/<region>/subnetworks/<name>'"],
    [{ subnetwork: 'regions/us-central1/subnetworks/a' }, "prop 'subnetwork' is in region 'us-central1', but 'region' is 'europe-west1'"],
    [{ namePrefix: 'Shop_Events' }, "StreamingEnricher: prop 'namePrefix' must be 1-63 characters"],
    [{ existingBucket: { name: 'Bad_Bucket' } }, "prop 'existingBucket' must be 3-63 characters"],
  ] as Array<[Partial<StreamingEnricherProps>, string]>)('validation: %j', (props, message) => {
    expect(() => make(props)).toThrow(message);
  });
});
