import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Testing } from 'cdktf';
import { buildApp, WaymarkEnvironmentStack } from '../../examples/app';
import { ENVIRONMENTS } from '../../examples/environments';
import { STABLE_ASSET_HASHES_CONTEXT } from '../../lib/private/assets';
import { tempDir } from '../helpers/temp-dirs';

function synthEnvironment(name: string): Record<string, any> {
  const app = Testing.app({ context: { [STABLE_ASSET_HASHES_CONTEXT]: true } });
  buildApp(app, ENVIRONMENTS.filter((e) => e.name === name));
  const stack = app.node.findChild(`waymark-${name}`) as WaymarkEnvironmentStack;
  return JSON.parse(Testing.synth(stack));
}

describe('example app', () => {
  const saved = process.env.WAYMARK_STATE_BUCKET;
  afterEach(() => {
    if (saved === undefined) delete process.env.WAYMARK_STATE_BUCKET;
    else process.env.WAYMARK_STATE_BUCKET = saved;
  });

  test('one stack per environment, dev and prod at least', () => {
    const app = buildApp(new App({ outdir: tempDir('example-app') }));
    const names = app.node.children.map((c) => c.node.id).sort();
    expect(names).toEqual(expect.arrayContaining(['waymark-dev', 'waymark-prod']));
    expect(names).toHaveLength(ENVIRONMENTS.length);
  });

  test('environments differ in region, sizes and domains', () => {
    const dev = ENVIRONMENTS.find((e) => e.name === 'dev')!;
    const prod = ENVIRONMENTS.find((e) => e.name === 'prod')!;
    expect(dev.region).not.toBe(prod.region);
    expect(dev.collectorInstances.max).toBeLessThan(prod.collectorInstances.max);
    expect(dev.collectorDomains).not.toEqual(prod.collectorDomains);
    expect(prod.deletionProtection).toBe(true);
  });

  test.each(ENVIRONMENTS.map((e) => [e.name, e]))('%s: google and google-beta providers for its project and region', (name, env) => {
    const tf = synthEnvironment(name as string);
    const e = env as (typeof ENVIRONMENTS)[number];
    expect(tf.provider.google[0]).toMatchObject({ project: e.projectId, region: e.region, default_labels: e.labels });
    expect(tf.provider['google-beta'][0]).toMatchObject({ project: e.projectId, region: e.region });
  });

  test('dev adds the example schemas to its warehouse table; prod has only the built-in columns', () => {
    const columnsOf = (tf: Record<string, any>): string[] => {
      const tables = Object.values(tf.resource.google_bigquery_table) as { table_id: string; schema: string }[];
      const events = tables.find((t) => t.table_id === 'events')!;
      return (JSON.parse(events.schema) as { name: string }[]).map((c) => c.name);
    };
    const dev = columnsOf(synthEnvironment('dev'));
    const prod = columnsOf(synthEnvironment('prod'));
    expect(dev).toEqual(expect.arrayContaining(['unstruct_event_io_waymark_example_button_click_1', 'contexts_io_waymark_example_product_1']));
    expect(prod.filter((c) => c.includes('io_waymark_example'))).toEqual([]);
    expect(prod).toEqual(expect.arrayContaining(['contexts_com_snowplowanalytics_snowplow_web_page_1']));
  });

  test('local state by default, one file per environment', () => {
    delete process.env.WAYMARK_STATE_BUCKET;
    expect(synthEnvironment('dev').terraform.backend).toEqual({ local: { path: 'terraform.waymark-dev.tfstate' } });
  });

  test('a Cloud Storage backend when WAYMARK_STATE_BUCKET is set', () => {
    process.env.WAYMARK_STATE_BUCKET = 'acme-terraform-state';
    expect(synthEnvironment('prod').terraform.backend).toEqual({ gcs: { bucket: 'acme-terraform-state', prefix: 'waymark/prod' } });
  });
});

describe('example app topologies', () => {
  const kinds: Record<string, string> = {
    'cloud-run': 'google_cloud_run_v2_service',
    'cloud-functions': 'google_cloudfunctions2_function',
    'app-engine': 'google_app_engine_standard_app_version',
    'instance-groups': 'google_compute_region_instance_group_manager',
    gke: 'google_container_cluster',
    'cdn-pixel': 'google_logging_project_sink',
  };

  test('dev has no Dataflow job (serverless enrichment); prod stays on Dataflow', () => {
    expect(ENVIRONMENTS.find((e) => e.name === 'dev')!.enrichment).toBe('serverless');
    expect(ENVIRONMENTS.find((e) => e.name === 'prod')!.enrichment ?? 'dataflow').toBe('dataflow');
  });

  test('every collector topology appears in some environment', () => {
    expect(new Set(ENVIRONMENTS.map((e) => e.collector))).toEqual(new Set(Object.keys(kinds)));
  });

  test.each(ENVIRONMENTS.map((e) => [e.name, e.collector]))('%s (%s) synthesizes the whole pipeline', (name, kind) => {
    const tf = synthEnvironment(name);
    expect(Object.keys(tf.resource[kinds[kind]] ?? {}).length).toBeGreaterThan(0);
    for (const type of ['google_pubsub_topic', 'google_bigquery_table', 'google_storage_bucket']) expect(Object.keys(tf.resource[type] ?? {}).length).toBeGreaterThan(0);
    const serverless = ENVIRONMENTS.find((e) => e.name === name)!.enrichment === 'serverless';
    expect(Object.keys(tf.resource['google-beta_google_dataflow_flex_template_job'] ?? tf.resource.google_dataflow_flex_template_job ?? {})).toHaveLength(serverless ? 0 : 1);
    if (serverless) expect(Object.values<any>(tf.resource.google_cloud_run_v2_service).map((s) => s.name)).toContain('waymark-enricher');
    const outputs = Object.keys(tf.output ?? {});
    expect(outputs.some((o) => o.includes('events_table'))).toBe(true);
    expect(outputs.some((o) => o.includes(kind === 'cdn-pixel' ? 'pixel_endpoint' : 'collector_url'))).toBe(true);
  });

  const expectEveryStack = (out: string): void => {
    for (const e of ENVIRONMENTS) {
      const tf = JSON.parse(readFileSync(join(out, 'stacks', `waymark-${e.name}`, 'cdk.tf.json'), 'utf8'));
      expect(tf.provider.google[0].project).toBe(e.projectId);
    }
  };

  test('`npm run synth` writes a cdk.tf.json for every environment', () => {
    const out = mkdtempSync(join(tmpdir(), 'waymark-synth-'));
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'examples/app.ts'], { env: { ...process.env, CDKTF_OUTDIR: out }, stdio: 'pipe' });
      expectEveryStack(out);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('`npx cdktf synth` (the CLI, with cdktf.json) writes the same stacks, offline', () => {
    const out = mkdtempSync(join(tmpdir(), 'waymark-cdktf-synth-'));
    try {
      const cli = join(__dirname, '..', '..', 'node_modules', '.bin', 'cdktf');
      execFileSync(cli, ['synth', '--output', out], {
        cwd: join(__dirname, '..', '..'),
        env: { ...process.env, CHECKPOINT_DISABLE: '1', CI: 'true', DISABLE_VERSION_CHECK: 'true' },
        stdio: 'pipe',
      });
      expectEveryStack(out);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('appengine deploys on a fresh project: the stack creates the App Engine application the version needs, in its region', () => {
    // A fresh project has no App Engine application, and a version cannot be deployed without one
    // (https://cloud.google.com/appengine/docs/standard/nodejs/building-app/creating-project).
    const tf = synthEnvironment('appengine');
    const apps = Object.entries<any>(tf.resource.google_app_engine_application ?? {});
    expect(apps.map(([, a]) => a.location_id)).toEqual(['us-central']);
    const version = Object.values<any>(tf.resource.google_app_engine_standard_app_version)[0];
    expect(version.depends_on).toContain(`google_app_engine_application.${apps[0][0]}`);
  });
  test('prod launches its Dataflow jobs from a dated template release, not latest', () => {
    const tf = synthEnvironment('prod');
    const job = Object.values<any>(tf.resource.google_dataflow_flex_template_job)[0];
    expect(job.container_spec_gcs_path).toBe('gs://dataflow-templates-us-central1/2025-10-01-00_RC00/flex/PubSub_to_BigQuery_Flex');
    // The environments without a pin follow 'latest' (dev has no Dataflow job: it enriches serverless).
    const gke = Object.values<any>(synthEnvironment('gke').resource.google_dataflow_flex_template_job)[0];
    expect(gke.container_spec_gcs_path).toMatch(/^gs:\/\/dataflow-templates-[a-z0-9-]+\/latest\/flex\/PubSub_to_BigQuery_Flex$/);
  });
});
