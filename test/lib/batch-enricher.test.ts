import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vm from 'node:vm';
import { DataPipelinePipeline } from '@cdktf/provider-google/lib/data-pipeline-pipeline';
import { BatchEnricher, BatchEnricherProps } from '../../lib/batch-enricher';
import { RawArchive } from '../../lib/raw-archive';
import { SchemaRegistry } from '../../lib/schema-registry';
import { ClickstreamTopics } from '../../lib/topics';
import { WarehouseSink } from '../../lib/warehouse-sink';
import { dataStack, grantedRoles, PRIMITIVE_ROLES, PROJECT, REGISTRIES, synth } from './fixtures/data-stack';
import { tempDir } from '../helpers/temp-dirs';

const ACME = join(REGISTRIES, 'acme');

function make(props: Partial<BatchEnricherProps> = {}) {
  const stack = dataStack();
  const registry = new SchemaRegistry(stack, 'schemas', { projectId: PROJECT, schemaFolders: [ACME] });
  const topics = new ClickstreamTopics(stack, 'topics', { projectId: PROJECT });
  const warehouse = new WarehouseSink(stack, 'warehouse', { projectId: PROJECT, registry });
  const archive = new RawArchive(stack, 'archive', { projectId: PROJECT, topic: topics.raw, location: 'europe-west1' });
  const batch = new BatchEnricher(stack, 'replay', {
    registry, archive, warehouse, region: 'europe-west1', projectId: PROJECT, period: '2025-03-01', ...props,
  });
  return { stack, registry, warehouse, archive, batch };
}

const pipeline = (s: ReturnType<typeof synth>) => s.one('google_data_pipeline_pipeline');
const launch = (s: ReturnType<typeof synth>) => pipeline(s).workload.dataflow_flex_template_request.launch_parameter;

describe('BatchEnricher', () => {
  test('snapshot', () => {
    expect(synth(make({ schedule: '0 3 * * *', labels: { env: 'test' } }).stack).text).toMatchSnapshot();
  });

  test('a batch data pipeline running GCS_Text_to_BigQuery_Flex from the template bucket of its region', () => {
    const s = synth(make({ region: 'us-east1' }).stack);
    expect(s.text).toHaveResourceWithProperties(DataPipelinePipeline, {
      name: 'waymark-replay',
      type: 'PIPELINE_TYPE_BATCH',
      state: 'STATE_ACTIVE',
      region: 'us-east1',
      project: PROJECT,
    });
    expect(pipeline(s).workload.dataflow_flex_template_request).toMatchObject({ project_id: PROJECT, location: 'us-east1' });
    expect(launch(s)).toMatchObject({ job_name: 'waymark-replay', container_spec_gcs_path: 'gs://dataflow-templates-us-east1/latest/flex/GCS_Text_to_BigQuery_Flex' });
    expect(pipeline(s).schedule_info).toBeUndefined();
  });

  test('every template parameter: archive files of the period, JSONPath schema, output table, the UDF batch entry point, load directory', () => {
    const s = synth(make().stack);
    const p = launch(s).parameters;
    expect(Object.keys(p).sort()).toEqual(['JSONPath', 'bigQueryLoadingTemporaryDirectory', 'inputFilePattern', 'javascriptTextTransformFunctionName', 'javascriptTextTransformGcsPath', 'outputTable']);
    expect(p.inputFilePattern).toMatch(/^gs:\/\/\$\{google_storage_bucket\.archive_bucket_[0-9A-F]+\.name\}\/raw\/2025-03-01\/\*$/);
    expect(p.JSONPath).toMatch(/^gs:\/\/\$\{google_storage_bucket\.replay_bucket_[0-9A-F]+\.name\}\/schemas\/waymark-replay\/events-schema-0000000000000000\.json$/);
    expect(p.outputTable).toMatch(/^\$\{google_bigquery_table\.warehouse_events_[0-9A-F]+\.project\}:.+warehouse_events_[0-9A-F]+\.table_id\}$/);
    expect(p.javascriptTextTransformGcsPath).toMatch(/replay_bucket_[0-9A-F]+\.name\}\/udf\/waymark-replay\/enrich-0000000000000000\.js$/);
    expect(p.javascriptTextTransformFunctionName).toBe('processBatch');
    expect(p.bigQueryLoadingTemporaryDirectory).toMatch(/replay_bucket_[0-9A-F]+\.name\}\/bq-temp$/);
    const custom = launch(synth(make({ period: undefined, inputPattern: '2025-03-0[1-7]/*' }).stack)).parameters;
    expect(custom.inputFilePattern).toMatch(/\/raw\/2025-03-0\[1-7\]\/\*$/);
  });

  test('the JSONPath file is the events table schema in the template\'s format', () => {
    const { stack, batch, warehouse } = make();
    synth(stack);
    const asset = stack.node.findAll().find((c) => c.node.path.endsWith('replay/schema-file')) as any;
    const file = JSON.parse(readFileSync(asset.sourcePath ?? asset.path, 'utf8'));
    const strip = (f: any): any => ({ name: f.name, type: f.type, mode: f.mode, ...(f.fields ? { fields: f.fields.map(strip) } : {}) });
    expect(file).toEqual({ 'BigQuery Schema': warehouse.fields.map(strip) });
    expect(batch.schemaObject).toBeDefined();
  });

  test('the batch entry point of the same UDF returns rows and drops bad events instead of failing the job', () => {
    const { batch } = make();
    const context = vm.createContext({});
    vm.runInContext(batch.udf.bundle.contents.toString('utf8'), context);
    const fn = (context as any).processBatch as (line: string) => string | null;
    const good = {
      schema: 'iglu:io.waymark/collector_payload/jsonschema/1-0-0',
      data: { timestamp: '2025-03-01T10:00:00.000Z', collector: 'waymark-collector/0.1.0', path: '/i', parameters: { e: 'pv', eid: '9d5a6a2c-4c1b-4a3e-9b2a-1f0e2d3c4b5a', tv: 'js-3.0.0', p: 'web', url: 'https://shop.example.com/' } },
    };
    expect(JSON.parse(fn(JSON.stringify(good))!)).toMatchObject({ event_id: '9d5a6a2c-4c1b-4a3e-9b2a-1f0e2d3c4b5a', event_name: 'page_view' });
    expect(fn('{not json')).toBeNull();
  });

  test('schedule: a cron with a time zone, run by its own scheduler account', () => {
    const s = synth(make({ schedule: '0 3 * * *', timeZone: 'Europe/Amsterdam' }).stack);
    expect(pipeline(s).schedule_info).toEqual({ schedule: '0 3 * * *', time_zone: 'Europe/Amsterdam' });
    expect(pipeline(s).scheduler_service_account_email).toMatch(/replay_scheduler-service-account_[0-9A-F]+\.email\}$/);
  });

  test('workers: own service account, machine type, autoscaling bound, network, private IPs, labels on the jobs', () => {
    const s = synth(make({ machineType: 'n2-highmem-4', maxWorkers: 25, network: 'analytics', subnetwork: 'regions/europe-west1/subnetworks/batch', labels: { env: 'prod' } }).stack);
    expect(launch(s).environment).toMatchObject({
      machine_type: 'n2-highmem-4',
      max_workers: 25,
      network: 'analytics',
      subnetwork: 'regions/europe-west1/subnetworks/batch',
      ip_configuration: 'WORKER_IP_PRIVATE',
      additional_user_labels: { env: 'prod', 'managed-by': 'waymark' },
    });
    expect(launch(s).environment.service_account_email).toMatch(/replay_service-account_[0-9A-F]+\.email\}$/);
    expect(launch(s).environment.temp_location).toMatch(/replay_bucket_[0-9A-F]+\.name\}\/temp$/);
  });

  test('IAM: exactly what a replay needs, never a primitive role', () => {
    const s = synth(make({ schedule: '0 3 * * *' }).stack);
    const roles = grantedRoles(s.json);
    const worker = roles.filter((r) => r.member.includes('replay_service-account_'));
    // metadataViewer on the dataset: GCS_Text_to_BigQuery keeps BigQueryIO's validation on, which calls datasets.get.
    expect(worker.map((r) => `${r.type} ${r.role}`).sort()).toEqual([
      'google_bigquery_dataset_iam_member roles/bigquery.metadataViewer',
      'google_bigquery_table_iam_member roles/bigquery.dataEditor',
      'google_project_iam_member roles/bigquery.jobUser',
      'google_project_iam_member roles/dataflow.worker',
      'google_storage_bucket_iam_member roles/storage.objectAdmin',
      'google_storage_bucket_iam_member roles/storage.objectViewer',
    ]);
    // Write access to the events table only, read access to the archive only.
    expect(s.list('google_bigquery_table_iam_member').find((m) => m.member.includes('replay_service-account_')).table_id).toMatch(/warehouse_events_/);
    expect(s.list('google_storage_bucket_iam_member').find((m) => m.role === 'roles/storage.objectViewer' && m.member.includes('replay_service-account_')).bucket).toMatch(/archive_bucket_/);
    const scheduler = roles.filter((r) => r.member.includes('replay_scheduler-service-account_'));
    expect(scheduler.map((r) => `${r.type} ${r.role}`).sort()).toEqual([
      'google_project_iam_member roles/datapipelines.invoker',
      'google_service_account_iam_member roles/iam.serviceAccountUser',
    ]);
    expect(s.one('google_service_account_iam_member').service_account_id).toMatch(/replay_service-account_[0-9A-F]+\.name\}$/);
    expect(roles.some((r) => PRIMITIVE_ROLES.includes(r.role))).toBe(false);
    // The pipeline waits for its grants and files.
    expect(pipeline(s).depends_on.length).toBe(worker.length + scheduler.length + 2);
  });

  test('Terraform outputs: the command to run the pipeline now and the command to replay any periods', () => {
    const s = synth(make().stack);
    const outputs = Object.values<any>(s.json.output);
    const run = outputs.find((o) => o.description.startsWith('Runs'));
    expect(run.value).toBe('gcloud beta datapipelines pipeline run waymark-replay --project=acme-analytics --region=europe-west1');
    const replay = outputs.find((o) => o.description.startsWith('Replays'));
    expect(replay.description).toContain("; this construct's period is REPLAY='2025-03-01/*'), then run");
    expect(replay.value).toMatch(/^\(set -f; i=0; for glob in \$REPLAY; do i=\$\(\(i \+ 1\)\); gcloud dataflow flex-template run "waymark-replay-\$\(date -u \+%Y%m%d%H%M%S\)-\$i" --project=acme-analytics --region=europe-west1 --template-file-gcs-location=gs:\/\/dataflow-templates-europe-west1\/latest\/flex\/GCS_Text_to_BigQuery_Flex /);
    expect(replay.value).toContain('--parameters="^~^inputFilePattern=gs://${google_storage_bucket.archive_bucket_');
    expect(replay.value).toContain('/raw/$glob~JSONPath=');
    expect(replay.value).toContain('~javascriptTextTransformFunctionName=processBatch~');
    expect(replay.value).toMatch(/" \|\| exit 1; done\)$/);
    // No Terraform interpolation sequences other than resource references.
    expect(replay.value.replace(/\$\{[a-z_]+\.[A-Za-z0-9_-]+\.[a-z_]+\}/g, '')).not.toMatch(/\$\{|%\{/);
  });

  test('the replay command runs one job per glob of REPLAY, in a real shell, without expanding the globs', () => {
    const replay = Object.values<any>(synth(make().stack).json.output).find((o) => o.description.startsWith('Replays')).value as string;
    // Stand-ins for the Terraform references, and a fake gcloud that prints its job name and input pattern.
    const command = replay.replace(/\$\{[^}]+\}/g, 'X');
    const dir = tempDir('replay');
    writeFileSync(join(dir, 'gcloud'), '#!/bin/sh\nfor a in "$@"; do case "$a" in waymark-replay-*) echo "job ${a##*-}";; --parameters=*) echo "$a" | tr "~" "\\n" | grep inputFilePattern;; esac; done\n', { mode: 0o755 });
    // A file in the working directory that an expanded glob would match.
    mkdirSync(join(dir, '2025-03-01'));
    writeFileSync(join(dir, '2025-03-01', 'x'), '');
    const out = execFileSync('/bin/sh', ['-c', command], { cwd: dir, env: { PATH: `${dir}:/usr/bin:/bin`, REPLAY: '2025-03-01/* 2025-03-0[2-3]/*' }, encoding: 'utf8' });
    expect(out.trim().split('\n')).toEqual([
      'job 1', '^inputFilePattern=gs://X/raw/2025-03-01/*',
      'job 2', '^inputFilePattern=gs://X/raw/2025-03-0[2-3]/*',
    ]);
  });

  test('range: the tightest globs of the range, one pipeline each (distinct names and job names), run together by runCommand', () => {
    const { stack, batch } = make({ period: undefined, range: { from: '2025-03-05', to: '2025-04-12' }, schedule: '0 3 * * *' });
    const s = synth(stack);
    const names = ['waymark-replay', 'waymark-replay-2', 'waymark-replay-3', 'waymark-replay-4'];
    const pipelines = names.map((n) => s.list('google_data_pipeline_pipeline').find((p) => p.name === n));
    expect(s.list('google_data_pipeline_pipeline')).toHaveLength(4);
    const globs = ['2025-03-0[5-9]/*', '2025-03-[1-3][0-9]/*', '2025-04-0[0-9]/*', '2025-04-1[0-2]/*'];
    expect(pipelines.map((p) => p.workload.dataflow_flex_template_request.launch_parameter.parameters.inputFilePattern.replace(/^.*\/raw\//, ''))).toEqual(globs);
    expect(pipelines.map((p) => p.workload.dataflow_flex_template_request.launch_parameter.job_name)).toEqual(pipelines.map((p) => p.name));
    for (const p of pipelines) expect(p.schedule_info).toEqual({ schedule: '0 3 * * *', time_zone: 'UTC' });
    // The first pipeline keeps the address a single-period replay has.
    const first = Object.entries<any>(s.resources('google_data_pipeline_pipeline')).find(([, p]) => p.name === 'waymark-replay')!;
    expect(first[0]).toMatch(/^replay_pipeline_[0-9A-F]+$/);
    expect(batch.pipelines).toHaveLength(4);
    expect(batch.pipeline).toBe(batch.pipelines[0]);
    expect(batch.inputFilePatterns.map((g) => g.replace(/^.*\/raw\//, ''))).toEqual(globs);
    const outputs = Object.values<any>(s.json.output);
    const run = outputs.find((o) => o.description.startsWith('Runs'));
    expect(run.value).toBe(['', '-2', '-3', '-4'].map((n) => `gcloud beta datapipelines pipeline run waymark-replay${n} --project=acme-analytics --region=europe-west1`).join(' && '));
    expect(outputs.find((o) => o.description.startsWith('Replays')).description).toContain(`; this construct's range is REPLAY='${globs.join(' ')}'), then run`);
  });

  test.each([
    [{ period: undefined }, "BatchEnricher: prop 'period' (or 'range', or 'inputPattern') is required: what a run replays"],
    [{ inputPattern: '2025-*/*' }, "BatchEnricher: prop 'inputPattern' conflicts with 'period': give exactly one of 'period', 'range' and 'inputPattern'"],
    [{ range: { from: '2025-03-01', to: '2025-03-02' } }, "BatchEnricher: prop 'range' conflicts with 'period'"],
    [{ period: undefined, range: { from: '2025-02-29', to: '2025-03-02' } }, "BatchEnricher: prop 'range.from' must be a UTC day such as '2025-03-01' or a UTC hour such as '2025-03-01T13', got '2025-02-29'"],
    [{ period: undefined, range: { from: '2025-03-01', to: 'tomorrow' } }, "BatchEnricher: prop 'range.to' must be a UTC day"],
    [{ period: undefined, range: { from: '2025-03-02', to: '2025-03-01' } }, "BatchEnricher: prop 'range' 'from' (2025-03-02) must not be after 'to' (2025-03-01)"],
    [{ period: undefined, range: { from: '2025-03-01', to: '2025-03-02T05' } }, "BatchEnricher: prop 'range' must give both ends as days or both as hours"],
    [{ period: '2025-02-30T25' }, "BatchEnricher: prop 'period' must be a UTC day"],
    [{ period: undefined, inputPattern: '../secrets/*' }, "BatchEnricher: prop 'inputPattern' must be a glob below the archive's raw/ folder"],
    [{ schedule: 'daily' }, "BatchEnricher: prop 'schedule' must be a unix-cron expression with five fields"],
    [{ timeZone: 'UTC' }, "BatchEnricher: prop 'timeZone' applies to a 'schedule' only"],
    [{ region: 'eu' }, "BatchEnricher: prop 'region' must be a Google Cloud region"],
    [{ maxWorkers: 0 }, "BatchEnricher: prop 'maxWorkers' must be an integer between 1 and 1000, got 0"],
    [{ subnetwork: 'regions/us-east1/subnetworks/x' }, "BatchEnricher: prop 'subnetwork' is in region 'us-east1', but 'region' is 'europe-west1'"],
    [{ enrichmentConfig: { nope: true } as any }, "BatchEnricher: prop 'enrichmentConfig' is invalid:"],
  ] as Array<[Partial<BatchEnricherProps>, string]>)('validation: %j', (props, message) => {
    expect(() => make(props)).toThrow(message);
  });
});
