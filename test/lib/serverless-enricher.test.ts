import { join } from 'node:path';
import { TerraformStack } from 'cdktf';
import { ClickstreamPipeline, requiredApis } from '../../lib/clickstream-pipeline';
import { CollectorBackend } from '../../lib/collector-backend';
import { Enrichment } from '../../lib/enrichment';
import { SchemaRegistry } from '../../lib/schema-registry';
import { ServerlessEnricher, ServerlessEnricherProps } from '../../lib/serverless-enricher';
import { ClickstreamTopics } from '../../lib/topics';
import { WarehouseSink } from '../../lib/warehouse-sink';
import { DEAD_LETTER_FIELDS } from '../../lib/private/bigquery-schema';
import { dataStack, grantedRoles, PRIMITIVE_ROLES, PROJECT, REGISTRIES, synth } from './fixtures/data-stack';

const ACME = join(REGISTRIES, 'acme');
// The Pub/Sub service agent, made with google_project_service_identity (lib/private/service-agents.ts).
const AGENT = /^\$\{google_project_service_identity\.[A-Za-z0-9_-]+\.member\}$/;

function make(props: Partial<ServerlessEnricherProps> = {}, stack: TerraformStack = dataStack()) {
  const registry = new SchemaRegistry(stack, 'schemas', { projectId: PROJECT, schemaFolders: [ACME] });
  const topics = new ClickstreamTopics(stack, 'topics', { projectId: PROJECT });
  const warehouse = new WarehouseSink(stack, 'warehouse', { projectId: PROJECT, registry, location: 'EU' });
  const enricher = new ServerlessEnricher(stack, 'enricher', { registry, warehouse, subscription: topics.enrichSubscription, region: 'europe-west1', projectId: PROJECT, ...props });
  return { stack, registry, topics, warehouse, enricher };
}

const env = (service: any): Record<string, string> => Object.fromEntries(service.template.containers[0].env.map((e: any) => [e.name, e.value]));

describe('ServerlessEnricher', () => {
  test('snapshot', () => {
    expect(synth(make({ labels: { env: 'test' } }).stack).text).toMatchSnapshot();
  });

  test('Cloud Run service: scales to zero by default, request-based CPU, internal ingress, the bundle bootstrapped from its code object, a supported Node image', () => {
    const s = synth(make().stack);
    const svc = s.one('google_cloud_run_v2_service');
    expect(svc).toMatchObject({ name: 'waymark-enricher', location: 'europe-west1', ingress: 'INGRESS_TRAFFIC_INTERNAL_ONLY', custom_audiences: ['waymark-enricher:waymark-enricher'] });
    expect(svc.template.scaling).toEqual({ min_instance_count: 0, max_instance_count: 10 });
    expect(svc.template.max_instance_request_concurrency).toBe(80);
    const c = svc.template.containers[0];
    expect(c.image).toBe('docker.io/library/node:24-bookworm-slim');
    expect(c.resources).toMatchObject({ cpu_idle: true, limits: { cpu: '1', memory: '512Mi' } });
    expect(c.startup_probe.http_get.path).toBe('/health');
    const e = env(svc);
    const object = Object.entries<any>(s.resources('google_storage_bucket_object')).find(([id]) => id.startsWith('enricher_code-object'))!;
    expect(object[1].name).toMatch(/^enricher\/enricher-0{16}\.js$/);
    expect(e.WAYMARK_BUNDLE).toBe(`gs://\${${object[1].bucket.slice(2, -1)}}/\${google_storage_bucket_object.${object[0]}.name}`);
    expect(object[1].bucket).toMatch(/google_storage_bucket\.enricher_code_/);
    expect(e).toMatchObject({
      WAYMARK_ROW_SINK: 'bigquery-subscription',
      WAYMARK_MAX_CONCURRENCY: '80',
      WAYMARK_PUSH_AUDIENCE: 'waymark-enricher:waymark-enricher',
      WAYMARK_ENRICHED_TOPIC: expect.stringMatching(/^\$\{google_pubsub_topic\.enricher_enriched_[0-9A-F]+\.id\}$/),
      WAYMARK_BAD_TOPIC: expect.stringMatching(/^\$\{google_pubsub_topic\.enricher_bad_[0-9A-F]+\.id\}$/),
    });
    expect(e.WAYMARK_PUSH_SERVICE_ACCOUNT).toMatch(/google_service_account\.enricher_push-account_[0-9A-F]+\.email/);
    expect(e.WAYMARK_PUSH_AUTH).toBeUndefined();
    const big = synth(make({ minInstances: 1, maxInstances: 50, concurrency: 200, runtime: 'nodejs22' }).stack).one('google_cloud_run_v2_service');
    expect(big.template.scaling).toEqual({ min_instance_count: 1, max_instance_count: 50 });
    expect(big.template.containers[0].image).toBe('docker.io/library/node:22-bookworm-slim');
    expect(env(big).WAYMARK_MAX_CONCURRENCY).toBe('200');
  });

  test('the enrich subscription becomes a push subscription with an OIDC token for the service audience', () => {
    const s = synth(make().stack);
    const subs = s.resources('google_pubsub_subscription');
    const enrich = Object.entries<any>(subs).find(([id]) => id.startsWith('topics_enrich'))![1];
    expect(enrich.push_config).toEqual({
      push_endpoint: expect.stringMatching(/^\$\{google_cloud_run_v2_service\.enricher_service_[0-9A-F]+\.uri\}\/push$/),
      oidc_token: { service_account_email: expect.stringMatching(/enricher_push-account_[0-9A-F]+\.email/), audience: 'waymark-enricher:waymark-enricher' },
    });
    expect(enrich.retry_policy).toEqual({ minimum_backoff: '10s', maximum_backoff: '600s' });
    // Pub/Sub pushes at once: the subscription waits for the invoker and token grants to propagate.
    expect(enrich.depends_on).toContain(Object.keys(s.resources('time_sleep')).map((id) => `time_sleep.${id}`).find((a) => a.includes('push-iam-propagation')));
    const pushSleep = Object.entries<any>(s.resources('time_sleep')).find(([id]) => id.includes('push-iam-propagation'))![1];
    expect(pushSleep.depends_on.join(' ')).toMatch(/push-invoker.*push-token-creator/);
    const dead = Object.values<any>(subs).find((x) => x.name === 'waymark-enriched-dead-letter-push');
    expect(dead.push_config.push_endpoint).toMatch(/\.uri\}\/dead-letter$/);
    expect(dead.push_config.oidc_token.audience).toBe('waymark-enricher:waymark-enricher');
  });

  test('BigQuery subscriptions: enriched → events table, bad → bad-rows table, with the table schema; refused rows dead-lettered after 5 attempts', () => {
    const s = synth(make().stack);
    const subs = Object.values<any>(s.resources('google_pubsub_subscription'));
    const events = subs.find((x) => x.name === 'waymark-enriched-bigquery');
    const t = /google_bigquery_table\.(warehouse_events_[0-9A-F]+)\.project/.exec(events.bigquery_config.table)![1];
    expect(events.bigquery_config).toEqual({ table: `\${google_bigquery_table.${t}.project}.\${google_bigquery_table.${t}.dataset_id}.\${google_bigquery_table.${t}.table_id}`, use_table_schema: true, write_metadata: false, drop_unknown_fields: false });
    expect(events.topic).toMatch(/google_pubsub_topic\.enricher_enriched_/);
    expect(events.dead_letter_policy).toEqual({ dead_letter_topic: expect.stringMatching(/google_pubsub_topic\.enricher_dead-letter_[0-9A-F]+\.id/), max_delivery_attempts: 5 });
    // A BigQuery subscription checks its table access when created: it waits for the grants to propagate.
    const bqSleep = Object.entries<any>(s.resources('time_sleep')).find(([id]) => id.includes('bigquery-iam-propagation'))!;
    expect(events.depends_on).toContain(`time_sleep.${bqSleep[0]}`);
    expect(bqSleep[1].depends_on.filter((d: string) => /bigquery_(table|dataset)_iam_member/.test(d))).toHaveLength(3);
    const bad = subs.find((x) => x.name === 'waymark-enrich-bad-bigquery');
    expect(bad.bigquery_config.table).toMatch(/warehouse_dead-letter_.*table_id\}$/);
    expect(bad.bigquery_config.use_table_schema).toBe(true);
    // The bad rows written are dead-letter-table rows: the table's fields are those sink-format.ts writes.
    expect(DEAD_LETTER_FIELDS.map((f) => f.name)).toEqual(['timestamp', 'payloadString', 'payloadBytes', 'attributes', 'errorMessage', 'stacktrace']);
    expect(synth(make({ maxDeliveryAttempts: 20 }).stack).list('google_pubsub_subscription').find((x) => x.name === 'waymark-enriched-bigquery').dead_letter_policy.max_delivery_attempts).toBe(20);
  });

  test('least privilege: every grant, to whom and on what', () => {
    const s = synth(make().stack);
    const roles = grantedRoles(s.json);
    expect(roles.some((r) => PRIMITIVE_ROLES.includes(r.role))).toBe(false);
    expect(roles.filter((r) => r.type === 'google_project_iam_member')).toEqual([]);
    const mine = (pattern: RegExp) => roles.filter((r) => pattern.test(r.member)).map((r) => `${r.type} ${r.role}`).sort();
    expect(mine(/enricher_service-account/)).toEqual([
      'google_pubsub_topic_iam_member roles/pubsub.publisher',
      'google_pubsub_topic_iam_member roles/pubsub.publisher',
      'google_storage_bucket_iam_member roles/storage.objectViewer',
    ]);
    expect(mine(/enricher_push-account/)).toEqual(['google_cloud_run_v2_service_iam_member roles/run.invoker']);
    // The Pub/Sub service agent (https://cloud.google.com/pubsub/docs/create-bigquery-subscription#assign_bigquery_service_account,
    // https://cloud.google.com/pubsub/docs/handling-failures#grant_forwarding_permissions,
    // https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions).
    const agent = roles.filter((r) => AGENT.test(r.member) && /enricher/.test(r.member)).map((r) => `${r.type} ${r.role}`).sort();
    expect(agent).toEqual([
      'google_bigquery_dataset_iam_member roles/bigquery.metadataViewer',
      'google_bigquery_table_iam_member roles/bigquery.dataEditor',
      'google_bigquery_table_iam_member roles/bigquery.dataEditor',
      'google_pubsub_subscription_iam_member roles/pubsub.subscriber',
      'google_pubsub_topic_iam_member roles/pubsub.publisher',
      'google_service_account_iam_member roles/iam.serviceAccountTokenCreator',
    ]);
    const tokenCreator = s.one('google_service_account_iam_member');
    expect(tokenCreator.service_account_id).toMatch(/enricher_push-account_[0-9A-F]+\.name/);
    const subscriber = s.one('google_pubsub_subscription_iam_member');
    expect(subscriber.subscription).toMatch(/enricher_events-subscription_[0-9A-F]+\.name/);
    const tables = s.list('google_bigquery_table_iam_member').filter((t) => AGENT.test(t.member)).map((t) => t.table_id).sort();
    expect(tables.join(' ')).toMatch(/dead-letter.*events|events.*dead-letter/);
    expect(s.list('google_cloud_run_v2_service_iam_member').some((m) => m.member === 'allUsers')).toBe(false);
  });

  test('props are checked with errors naming them', () => {
    expect(() => make({ maxDeliveryAttempts: 3 })).toThrow(/ServerlessEnricher.*maxDeliveryAttempts/);
    expect(() => make({ minInstances: 5, maxInstances: 2 })).toThrow(/minInstances/);
    expect(() => make({ memory: '1GB' })).toThrow(/memory/);
    expect(() => make({ nodeImage: 'mirror.gcr.io/library/node:24' })).toThrow(/nodeImage.*mirror\.gcr\.io/);
    expect(() => make({ runtime: 'nodejs20' })).toThrow(/runtime.*nodejs20/);
    expect(() => make({ enrichmentConfig: { shapes: {} } as never })).toThrow(/enrichmentConfig.*shapes/);
  });

  // Internal ingress admits "Pub/Sub subscriptions and Eventarc events in the same project or VPC Service Controls
  // perimeter" (gcloud run deploy --help, --ingress internal; https://cloud.google.com/run/docs/securing/ingress).
  test('ingress is internal only, so a raw subscription from another project is refused, naming the prop', () => {
    const stack = dataStack();
    const registry = new SchemaRegistry(stack, 'schemas', { projectId: PROJECT, schemaFolders: [ACME] });
    const warehouse = new WarehouseSink(stack, 'warehouse', { projectId: PROJECT, registry, location: 'EU' });
    const elsewhere = new ClickstreamTopics(stack, 'topics', { projectId: 'other-project' });
    expect(() => new ServerlessEnricher(stack, 'enricher', { registry, warehouse, subscription: elsewhere.enrichSubscription, region: 'europe-west1', projectId: PROJECT }))
      .toThrow(/ServerlessEnricher: prop 'subscription' is in project 'other-project' but the service is in '.+': its ingress is internal, which admits Pub\/Sub push only from the same project/);
    const s = synth(make().stack);
    expect(s.one('google_cloud_run_v2_service').ingress).toBe('INGRESS_TRAFFIC_INTERNAL_ONLY');
    for (const sub of s.list('google_pubsub_subscription').filter((x) => x.push_config)) {
      expect(sub.project).toBe(PROJECT);
      expect(sub.push_config.push_endpoint).toMatch(/^\$\{google_cloud_run_v2_service\.enricher_service_[0-9A-F]+\.uri\}\//);
    }
  });
});

describe('ClickstreamPipeline with Enrichment.serverless', () => {
  const pipeline = (props: Record<string, unknown>) => {
    const stack = dataStack();
    const p = new ClickstreamPipeline(stack, 'clickstream', { region: 'europe-west1', projectId: PROJECT, collector: { domains: ['c.acme.com'], backends: [CollectorBackend.cloudRun({ regions: ['europe-west1'] })] }, ...props });
    return { p, s: synth(stack) };
  };

  test('no Dataflow job and no Dataflow API; the serverless enricher in its place, exposed with its service name and region', () => {
    const { p, s } = pipeline({ enrichment: Enrichment.serverless({ maxInstances: 3 }) });
    expect(Object.keys(s.resources('google_dataflow_flex_template_job'))).toEqual([]);
    expect(p.enricher).toBeUndefined();
    expect(p.serverlessEnricher).toBeInstanceOf(ServerlessEnricher);
    expect([p.serverlessEnricher!.serviceName, p.serverlessEnricher!.region]).toEqual(['waymark-enricher', 'europe-west1']);
    const services = s.list('google_project_service').map((x) => x.service);
    expect(services).not.toContain('dataflow.googleapis.com');
    expect(services).toContain('run.googleapis.com');
    expect(s.list('google_cloud_run_v2_service').find((x) => x.name === 'waymark-enricher').template.scaling.max_instance_count).toBe(3);
  });

  test('the default stays Dataflow; Enrichment.dataflow takes its settings; enricher and enrichment together are refused', () => {
    const { p, s } = pipeline({});
    expect(p.enricher).toBeDefined();
    expect(p.serverlessEnricher).toBeUndefined();
    expect(s.list('google_dataflow_flex_template_job')).toHaveLength(1);
    const { s: s2 } = pipeline({ enrichment: Enrichment.dataflow({ maxWorkers: 7 }) });
    expect(s2.one('google_dataflow_flex_template_job').max_workers).toBe(7);
    expect(() => pipeline({ enrichment: Enrichment.serverless(), enricher: { maxWorkers: 2 } })).toThrow(/ClickstreamPipeline.*enricher.*enrichment/);
    expect(requiredApis({ region: 'europe-west1', enrichment: Enrichment.serverless(), replay: { period: '2025-03-01' } } as never)).toContain('dataflow.googleapis.com');
  });
});
