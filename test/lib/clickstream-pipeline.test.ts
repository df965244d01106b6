import { Construct } from 'constructs';
import { GoogleBetaProvider } from '@cdktf/provider-google-beta/lib/provider';
import { ClickstreamPipeline, ClickstreamPipelineProps } from '../../lib/clickstream-pipeline';
import { CollectorBackend } from '../../lib/collector-backend';
import { allResources, synth } from '../helpers/synth';

function pipeline(props: Partial<ClickstreamPipelineProps> = {}) {
  return synth((scope: Construct) => {
    new GoogleBetaProvider(scope, 'google-beta', { project: 'acme-analytics', region: 'europe-west1' });
    new ClickstreamPipeline(scope, 'clickstream', {
      region: 'europe-west1',
      projectId: 'acme-analytics',
      collector: { domains: ['c.example.com'], backends: [CollectorBackend.cloudRun({ regions: ['europe-west1'] })] },
      labels: { env: 'test' },
      ...props,
    });
  });
}

describe('ClickstreamPipeline', () => {
  const s = pipeline();

  test('snapshot (locks Terraform addresses)', () => {
    expect(s.text).toMatchSnapshot();
  });

  test('the minimal app: collector, topics, registry, enricher, warehouse, archive and tracker, wired together', () => {
    const run = s.only('google_cloud_run_v2_service');
    const env = Object.fromEntries(run.template.containers[0].env.map((e: any) => [e.name, e.value]));
    const topics = s.resources('google_pubsub_topic');
    const raw = Object.keys(topics).find((k) => topics[k].name.endsWith('-raw'))!;
    expect(env.WAYMARK_PUBSUB_GOOD_TOPIC).toBe(`\${google_pubsub_topic.${raw}.id}`);
    const job = Object.values<any>(s.json.resource.google_dataflow_flex_template_job)[0];
    expect(job.parameters.inputSubscription).toMatch(/google_pubsub_subscription\..*enrich.*\.id/);
    expect(job.parameters.outputTableSpec).toMatch(/google_bigquery_table\..*events/);
    expect(Object.values<any>(s.resources('google_pubsub_subscription')).some((sub) => sub.cloud_storage_config)).toBe(true);
    const map = Object.values<any>(s.resources('google_compute_url_map')).find((m) => m.host_rule);
    expect(map.path_matcher[0].path_rule[0].paths).toEqual(['/t/*']);
    expect(s.resources('google_data_pipeline_pipeline')).toEqual({});
  });

  test('outputs: collector URL and IP, tracker URL, events table', () => {
    const outputs = s.json.output;
    const find = (name: string) => Object.keys(outputs).find((k) => k.includes(name));
    expect(outputs[find('collector_url')!].value).toBe('https://c.example.com');
    expect(outputs[find('collector_ip')!].value).toMatch(/google_compute_global_address/);
    expect(outputs[find('tracker_url')!].value).toMatch(/^https:\/\/c\.example\.com\/t\/sp-0{16}\.js$/);
    expect(outputs[find('events_table')!].value).toMatch(/google_bigquery_table/);
  });

  test('enables the APIs it uses, and every Google resource waits for them', () => {
    const services = Object.values<any>(s.resources('google_project_service')).map((r) => r.service).sort();
    expect(services).toEqual([
      'bigquery.googleapis.com', 'cloudresourcemanager.googleapis.com', 'compute.googleapis.com', 'dataflow.googleapis.com',
      'iam.googleapis.com', 'logging.googleapis.com', 'monitoring.googleapis.com', 'pubsub.googleapis.com', 'run.googleapis.com', 'storage.googleapis.com',
    ]);
    for (const r of Object.values<any>(s.resources('google_project_service'))) expect(r.disable_on_destroy).toBe(false);
    for (const [type, id, config] of allResources(s)) {
      if (type === 'google_project_service' || !type.startsWith('google_')) continue;
      expect({ id, waits: (config.depends_on ?? []).filter((d: string) => d.startsWith('google_project_service.')).length }).toEqual({ id, waits: services.length });
    }
    const gke = pipeline({ collector: { domains: ['c.example.com'], backends: [CollectorBackend.gke({ regions: ['europe-west1'] })] }, replay: { period: '2025-03-01' }, enableApis: true });
    const more = Object.values<any>(gke.resources('google_project_service')).map((r) => r.service);
    expect(more).toEqual(expect.arrayContaining(['container.googleapis.com', 'datapipelines.googleapis.com', 'cloudscheduler.googleapis.com']));
    expect(pipeline({ enableApis: false }).resources('google_project_service')).toEqual({});
  });

  test('no data source waits for anything: a deferred read would make project ids, bucket names and IAM members unknown at plan time', () => {
    // https://developer.hashicorp.com/terraform/language/data-sources#data-resource-dependencies
    const readme = pipeline({ projectId: undefined });
    for (const tf of [s.json, readme.json]) {
      for (const [type, byId] of Object.entries<Record<string, any>>(tf.data ?? {})) {
        for (const [id, config] of Object.entries(byId)) expect({ type, id, depends_on: config.depends_on }).toEqual({ type, id, depends_on: undefined });
      }
      // The project number is never read: the Pub/Sub service agent comes from google_project_service_identity.
      expect(tf.data?.google_project).toBeUndefined();
    }
    // Without projectId, every bucket name is built from google_client_config's project, known at plan time.
    const archive = Object.values<any>(readme.resources('google_storage_bucket')).find((b) => b.name.endsWith('-raw-archive'));
    expect(archive.name).toMatch(/^\$\{data\.google_client_config\.[^}]+\.project\}-waymark-raw-archive$/);
  });

  test('labels on everything, no primitive role anywhere', () => {
    for (const [type, , config] of allResources(s)) {
      if (config.labels) expect({ type, labels: config.labels }).toEqual({ type, labels: expect.objectContaining({ env: 'test', 'managed-by': 'waymark' }) });
      if (type.endsWith('_iam_member')) expect(config.role).not.toMatch(/^roles\/(owner|editor|viewer)$/);
    }
  });

  test('a replay pipeline when a period is given; a pixel collector instead of the LB collector', () => {
    const p = pipeline({ collector: undefined, pixelCollector: { domains: ['p.example.com'] }, replay: { period: '2025-03-01' } });
    expect(Object.keys(p.resources('google_data_pipeline_pipeline'))).toHaveLength(1);
    expect(Object.keys(p.resources('google_logging_project_sink'))).toHaveLength(1);
    expect(p.resources('google_cloud_run_v2_service')).toEqual({});
    expect(Object.keys(p.json.output).some((k) => k.includes('pixel_endpoint'))).toBe(true);
  });

  test.each([
    ['no way in', { collector: undefined }, "ClickstreamPipeline: prop 'collector' or 'pixelCollector' must be given: events need a way in"],
    ['replay without archive', { archive: false as const, replay: { period: '2025-03-01' } }, "ClickstreamPipeline: prop 'replay' needs the raw archive, but 'archive' is false"],
    ['tracker without collector', { collector: undefined, pixelCollector: { domains: ['p.example.com'] }, trackerHosting: true }, "ClickstreamPipeline: prop 'trackerHosting' is true but there is no 'collector'"],
    ['region', { region: 'europe' }, "ClickstreamPipeline: prop 'region' must be a Google Cloud region"],
  ])('validation: %s', (_name, props, message) => {
    expect(() => pipeline(props as Partial<ClickstreamPipelineProps>)).toThrow(message);
  });
});
