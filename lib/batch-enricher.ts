/**
 * Batch replay and backfill: Google's `GCS_Text_to_BigQuery_Flex` template over the raw archive, with the same
 * enrichment UDF as the streaming path (its batch entry point, which drops bad events instead of failing the job),
 * as a Dataflow Data Pipeline that runs on a schedule or on demand.
 */
import { Construct } from 'constructs';
import { ITerraformDependable, TerraformOutput, Token } from 'cdktf';
import { DataGoogleClientConfig } from '@cdktf/provider-google/lib/data-google-client-config';
import { DataPipelinePipeline } from '@cdktf/provider-google/lib/data-pipeline-pipeline';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import { StorageBucketObject } from '@cdktf/provider-google/lib/storage-bucket-object';
import { stageBundle, StagedBundle } from './private/assets';
import { textToBigQuerySchemaFile } from './private/bigquery-schema';
import { jsonFile } from './private/bundler';
import { constructLabels } from './private/labels';
import { resourceName } from './private/naming';
import { UDF_FUNCTIONS } from './private/runtime-bundles';
import { BUCKET_NAME, checkInteger, checkName, checkProjectId, checkRegion, PropError, RFC1035 } from './private/validate';
import type { NewRegionsOption } from './private/regions';
import { periodGlob, rangeGlobs } from './raw-archive';
import type { ArchiveRange, RawArchive } from './raw-archive';
import { flexTemplatePath, uploadJobFile, workBucket } from './private/dataflow';
import { EnrichmentSettings, udfForRegistry } from './private/enrichment';
import type { BucketReference, EnrichmentDestination, EnrichmentRegistrySource } from './streaming-enricher';

const NAME = 'BatchEnricher';

/** The archive to replay: a {@link RawArchive}, typically. */
export type ReplaySource = Pick<RawArchive, 'archiveUri' | 'grantRead'>;

export interface BatchEnricherProps extends NewRegionsOption {
  /** The schema registry compiled into the UDF: the same as the streaming enricher's. */
  readonly registry: EnrichmentRegistrySource;
  /** The raw archive to read. */
  readonly archive: ReplaySource;
  /** The warehouse whose events table receives the rows. */
  readonly warehouse: EnrichmentDestination;
  /** The Dataflow region (and the pipeline's location); the template is read from `gs://dataflow-templates-<region>/`. */
  readonly region: string;
  /**
   * What a run replays: a UTC day `2025-03-01`, month `2025-03`, year `2025` or hour `2025-03-01T13` of the archive.
   * Exactly one of `period`, `range` and `inputPattern` is required.
   */
  readonly period?: string;
  /**
   * What a run replays: a range of UTC days (`{ from: '2025-03-05', to: '2025-04-12' }`) or hours
   * (`{ from: '2025-03-01T22', to: '2025-03-02T06' }`), both ends included. The template reads one glob per job and
   * Cloud Storage globs have no alternation, so the range becomes the tightest set of globs that select exactly its
   * files (whole years, runs of months, days and hours as character classes), and one data pipeline per glob
   * (`<prefix>-replay`, `<prefix>-replay-2`, ...), all with the same schedule; `runCommand` runs them all.
   */
  readonly range?: ArchiveRange;
  /** What a run replays, as a glob below the archive's `raw/` folder, e.g. `2025-03-0[1-7]/*`. */
  readonly inputPattern?: string;
  /**
   * Run on this schedule (unix-cron, e.g. `0 3 * * *`). The period or range does not move with the schedule: use it for
   * recurring re-processing of a fixed period, or leave it out and run on demand (see the `runCommand` output).
   * @default no schedule: runs on demand only
   */
  readonly schedule?: string;
  /** Time zone of the schedule (IANA name). @default 'UTC' */
  readonly timeZone?: string;
  /** The project of the pipeline. @default the provider's project */
  readonly projectId?: string;
  /** Prefix of resource names (pipeline and job `<prefix>-replay`). @default 'waymark' */
  readonly namePrefix?: string;
  /** The enrichment configuration, as for the streaming enricher (use the same). @default the enrichment's defaults */
  readonly enrichmentConfig?: EnrichmentSettings;
  /** Worker machine type. @default 'n2-standard-2' */
  readonly machineType?: string;
  /** Upper bound of autoscaling. @default 10 */
  readonly maxWorkers?: number;
  /** The VPC network of the workers. @default the project's `default` network */
  readonly network?: string;
  /** The subnetwork of the workers (`regions/<region>/subnetworks/<name>`). @default the network's subnetwork in the region */
  readonly subnetwork?: string;
  /** Give workers public IP addresses. @default false when `subnetwork` is set, true otherwise */
  readonly publicIps?: boolean;
  /** The template release, `latest` or a dated one such as `2025-01-14-00_RC00`. @default 'latest' */
  readonly templateVersion?: string;
  /** The bucket for the UDF, the schema file and temporary files. @default a new bucket `<projectId>-<prefix>-replay` */
  readonly existingBucket?: BucketReference;
  /** Labels of every resource that takes labels, the jobs included. @default none (plus managed-by: waymark) */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * Replays archived raw events through the enrichment into the events table: a batch `google_data_pipeline_pipeline`
 * (optionally scheduled; one per glob of a `range`) launching `GCS_Text_to_BigQuery_Flex` with the UDF's batch entry
 * point and a `JSONPath` schema file generated from the warehouse's table schema. Two Terraform outputs give the
 * commands to run the pipelines now (the whole period or range), and to replay any other periods.
 *
 * Replays add rows: replaying a period the streaming enricher already loaded duplicates its events (the warehouse
 * views de-duplicate by event_id). Bad events are dropped by the batch entry point; they stay in the archive.
 */
export class BatchEnricher extends Construct {
  /** The (first) data pipeline. */
  public readonly pipeline: DataPipelinePipeline;
  /** Every data pipeline: one, or with `range` one per glob of {@link inputFilePatterns}. */
  public readonly pipelines: readonly DataPipelinePipeline[];
  /** The `gs://` input patterns the pipelines read, one per pipeline, together exactly the period or range. */
  public readonly inputFilePatterns: readonly string[];
  /** The identity of the replay workers. */
  public readonly serviceAccount: ServiceAccount;
  /** The identity Cloud Scheduler runs the pipeline as (only with a schedule). */
  public readonly schedulerServiceAccount?: ServiceAccount;
  public readonly bucket: BucketReference;
  public readonly udfObject: StorageBucketObject;
  public readonly udf: StagedBundle;
  /** The `{"BigQuery Schema": [...]}` file the template loads the table schema from. */
  public readonly schemaObject: StorageBucketObject;
  /** `gs://dataflow-templates-<region>/<version>/flex/GCS_Text_to_BigQuery_Flex`. */
  public readonly templatePath: string;
  /** The template parameters of a run (of the first pipeline; the others differ only in `inputFilePattern`). */
  public readonly parameters: Readonly<Record<string, string>>;
  /** Runs every pipeline now (`gcloud beta datapipelines pipeline run ...`, one per pipeline): the whole period or range. */
  public readonly runCommand: TerraformOutput;
  /**
   * Replays any periods: set `REPLAY` to one or more space-separated globs below `raw/` (e.g.
   * `REPLAY='2025-03-01/* 2025-03-0[2-3]/*'`), then run the command: one Dataflow job per glob.
   */
  public readonly replayCommand: TerraformOutput;
  public readonly labels: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: BatchEnricherProps) {
    super(scope, id);
    validate(props);
    this.labels = constructLabels(NAME, props.labels);
    const project = props.projectId;
    const prefix = props.namePrefix ?? 'waymark';
    const region = props.region;
    const projectId = props.projectId ?? new DataGoogleClientConfig(this, 'client').project;
    const name = resourceName([prefix, 'replay']);

    this.bucket = props.existingBucket ?? workBucket(this, project, `${projectId}-${prefix}-replay`, region, this.labels);
    this.udf = stageBundle(this, 'udf-bundle', udfForRegistry(NAME, props.registry.registry, props.enrichmentConfig));
    const udfPath = `udf/${name}/${this.udf.objectName}`;
    this.udfObject = uploadJobFile(this, 'udf', this.bucket, udfPath, this.udf, 'text/javascript');
    const schema = stageBundle(this, 'schema-file', jsonFile('events-schema.json', textToBigQuerySchemaFile(props.warehouse.fields)));
    const schemaPath = `schemas/${name}/${schema.objectName}`;
    this.schemaObject = uploadJobFile(this, 'schema', this.bucket, schemaPath, schema, 'application/json');

    this.serviceAccount = new ServiceAccount(this, 'service-account', {
      project,
      accountId: resourceName([prefix, 'replay'], 30),
      displayName: 'Waymark batch replay',
      description: 'Dataflow workers of the batch replay: read the raw archive, load the events table',
    });
    const member = this.serviceAccount.member;
    const grants: ITerraformDependable[] = [
      new ProjectIamMember(this, 'dataflow-worker', { project: projectId, role: 'roles/dataflow.worker', member }),
      // The template loads through BigQuery load jobs, which are created in the project.
      new ProjectIamMember(this, 'bigquery-job-user', { project: projectId, role: 'roles/bigquery.jobUser', member }),
      new StorageBucketIamMember(this, 'bucket-access', { bucket: this.bucket.name, role: 'roles/storage.objectAdmin', member }),
      props.archive.grantRead(member),
      ...props.warehouse.grantWrite(member, { deadLetter: false }),
    ];

    this.templatePath = flexTemplatePath(region, props.templateVersion, 'GCS_Text_to_BigQuery_Flex');
    const common = {
      JSONPath: `gs://${this.bucket.name}/${schemaPath}`,
      outputTable: props.warehouse.eventsTableSpec,
      javascriptTextTransformGcsPath: `gs://${this.bucket.name}/${udfPath}`,
      javascriptTextTransformFunctionName: UDF_FUNCTIONS.batch,
      bigQueryLoadingTemporaryDirectory: `gs://${this.bucket.name}/bq-temp`,
    };
    const inputs = props.period !== undefined ? [periodGlob(NAME, 'period', props.period)]
      : props.range !== undefined ? rangeGlobs(NAME, 'range', props.range)
        : [props.inputPattern!];
    this.inputFilePatterns = inputs.map((glob) => `${props.archive.archiveUri}${glob}`);
    this.parameters = { inputFilePattern: this.inputFilePatterns[0], ...common };

    const publicIps = props.publicIps ?? props.subnetwork === undefined;
    const machineType = props.machineType ?? 'n2-standard-2';
    const maxWorkers = props.maxWorkers ?? 10;
    if (props.schedule !== undefined) {
      this.schedulerServiceAccount = new ServiceAccount(this, 'scheduler-service-account', {
        project,
        accountId: resourceName([prefix, 'replay-scheduler'], 30),
        displayName: 'Waymark batch replay scheduler',
        description: 'Cloud Scheduler runs the replay pipeline as this account',
      });
      grants.push(
        new ProjectIamMember(this, 'scheduler-invoker', { project: projectId, role: 'roles/datapipelines.invoker', member: this.schedulerServiceAccount.member }),
        // Launching a job that runs as the worker account requires acting as it.
        new ServiceAccountIamMember(this, 'scheduler-acts-as-worker', {
          serviceAccountId: this.serviceAccount.name,
          role: 'roles/iam.serviceAccountUser',
          member: this.schedulerServiceAccount.member,
        }),
      );
    }

    // One pipeline per input glob; the first keeps the plain id and name (its Terraform address never changes).
    const names = this.inputFilePatterns.map((_, i) => (i === 0 ? name : resourceName([prefix, 'replay', String(i + 1)])));
    this.pipelines = this.inputFilePatterns.map((inputFilePattern, i) => new DataPipelinePipeline(this, i === 0 ? 'pipeline' : `pipeline-${i + 1}`, {
      project,
      region,
      name: names[i],
      displayName: names[i],
      type: 'PIPELINE_TYPE_BATCH',
      state: 'STATE_ACTIVE',
      scheduleInfo: props.schedule !== undefined ? { schedule: props.schedule, timeZone: props.timeZone ?? 'UTC' } : undefined,
      schedulerServiceAccountEmail: this.schedulerServiceAccount?.email,
      workload: {
        dataflowFlexTemplateRequest: {
          projectId,
          location: region,
          launchParameter: {
            // Distinct job names: Dataflow refuses a second active job of the same name in a region.
            jobName: names[i],
            containerSpecGcsPath: this.templatePath,
            parameters: { ...this.parameters, inputFilePattern },
            environment: {
              serviceAccountEmail: this.serviceAccount.email,
              tempLocation: `gs://${this.bucket.name}/temp`,
              machineType,
              maxWorkers,
              network: props.network,
              subnetwork: props.subnetwork,
              ipConfiguration: publicIps ? 'WORKER_IP_PUBLIC' : 'WORKER_IP_PRIVATE',
              additionalUserLabels: { ...this.labels },
            },
          },
        },
      },
      dependsOn: [...grants, this.udfObject, this.schemaObject],
    }));
    this.pipeline = this.pipelines[0];

    this.runCommand = new TerraformOutput(this, 'run-command', {
      description: names.length === 1 ? 'Runs the batch replay pipeline now' : `Runs the ${names.length} batch replay pipelines of the range now`,
      value: names.map((n) => `gcloud beta datapipelines pipeline run ${n} --project=${projectId} --region=${region}`).join(' && '),
    });
    const flags = [
      `--project=${projectId}`,
      `--region=${region}`,
      `--template-file-gcs-location=${this.templatePath}`,
      `--service-account-email=${this.serviceAccount.email}`,
      `--temp-location=gs://${this.bucket.name}/temp`,
      `--worker-machine-type=${machineType}`,
      `--max-workers=${maxWorkers}`,
      ...(props.network !== undefined ? [`--network=${props.network}`] : []),
      ...(props.subnetwork !== undefined ? [`--subnetwork=${props.subnetwork}`] : []),
      ...(publicIps ? [] : ['--disable-public-ips']),
    ];
    // `^~^` makes '~' the separator of the parameter list (the values hold commas and colons). $REPLAY holds one or
    // more globs below raw/, separated by spaces: the subshell turns off pathname expansion (`set -f`) so that the
    // shell splits them without expanding them, and runs one job per glob, stopping at the first failure.
    const parameters = Object.entries({ inputFilePattern: `${props.archive.archiveUri}$glob`, ...common }).map(([k, v]) => `${k}=${v}`).join('~');
    const configured = props.inputPattern === undefined ? `; this construct's ${props.period !== undefined ? 'period' : 'range'} is REPLAY='${inputs.join(' ')}'` : '';
    this.replayCommand = new TerraformOutput(this, 'replay-command', {
      description: `Replays periods of the raw archive: set REPLAY to one or more space-separated globs below raw/ (a day '2025-03-01/*', a month '2025-03-*/*', an hour '2025-03-01/13_*'${configured}), then run`,
      value: `(set -f; i=0; for glob in $REPLAY; do i=$((i + 1)); gcloud dataflow flex-template run "${name}-$(date -u +%Y%m%d%H%M%S)-$i" ${flags.join(' ')} --parameters="^~^${parameters}" || exit 1; done)`,
    });
  }
}

function validate(props: BatchEnricherProps): void {
  for (const prop of ['registry', 'archive', 'warehouse'] as const) {
    if (props[prop] === undefined) throw new PropError(NAME, prop, 'is required');
  }
  checkRegion(NAME, 'region', props.region, props.newRegions);
  const given = (['period', 'range', 'inputPattern'] as const).filter((prop) => props[prop] !== undefined);
  if (given.length === 0) throw new PropError(NAME, 'period', "(or 'range', or 'inputPattern') is required: what a run replays");
  if (given.length > 1) throw new PropError(NAME, given[1], `conflicts with '${given[0]}': give exactly one of 'period', 'range' and 'inputPattern'`);
  if (props.period !== undefined) periodGlob(NAME, 'period', props.period);
  if (props.range !== undefined) rangeGlobs(NAME, 'range', props.range);
  if (props.inputPattern !== undefined && !Token.isUnresolved(props.inputPattern)) {
    if (props.inputPattern === '' || props.inputPattern.startsWith('/') || props.inputPattern.includes('..') || /[\s"'$~`\\]/.test(props.inputPattern)) {
      throw new PropError(NAME, 'inputPattern', `must be a glob below the archive's raw/ folder such as '2025-03-0[1-7]/*', got '${props.inputPattern}'`);
    }
  }
  if (props.schedule !== undefined && !Token.isUnresolved(props.schedule) && !/^(\S+\s+){4}\S+$/.test(props.schedule.trim())) {
    throw new PropError(NAME, 'schedule', `must be a unix-cron expression with five fields such as '0 3 * * *', got '${props.schedule}'`);
  }
  if (props.timeZone !== undefined && props.schedule === undefined) throw new PropError(NAME, 'timeZone', "applies to a 'schedule' only");
  if (props.timeZone !== undefined && !/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(props.timeZone)) {
    throw new PropError(NAME, 'timeZone', `must be an IANA time zone such as 'Europe/Amsterdam', got '${props.timeZone}'`);
  }
  if (props.projectId !== undefined) {
    checkProjectId(NAME, 'projectId', props.projectId);
    if (props.existingBucket === undefined) {
      const name = `${props.projectId}-${props.namePrefix ?? 'waymark'}-replay`;
      if (name.length > 63) throw new PropError(NAME, 'namePrefix', `makes the bucket name '${name}' longer than 63 characters; choose a shorter prefix or pass 'existingBucket'`);
    }
  }
  if (props.namePrefix !== undefined) checkName(NAME, 'namePrefix', props.namePrefix, RFC1035);
  if (props.existingBucket !== undefined) checkName(NAME, 'existingBucket', props.existingBucket.name, BUCKET_NAME);
  if (props.machineType !== undefined && !/^[a-z][a-z0-9]*-[a-z0-9-]+$/.test(props.machineType)) {
    throw new PropError(NAME, 'machineType', `must be a Compute Engine machine type such as 'n2-standard-2', got '${props.machineType}'`);
  }
  checkInteger(NAME, 'maxWorkers', props.maxWorkers ?? 10, 1, 1000);
  if (props.templateVersion !== undefined && !/^(latest|\d{4}-\d{2}-\d{2}-\d{2}_RC\d{2})$/.test(props.templateVersion)) {
    throw new PropError(NAME, 'templateVersion', `must be 'latest' or a release such as '2025-01-14-00_RC00', got '${props.templateVersion}'`);
  }
  if (props.subnetwork !== undefined && !Token.isUnresolved(props.subnetwork)) {
    const m = /^(?:https:\/\/www\.googleapis\.com\/compute\/v1\/projects\/[^/]+\/)?regions\/([a-z0-9-]+)\/subnetworks\/[a-z0-9-]+$/.exec(props.subnetwork);
    if (!m) throw new PropError(NAME, 'subnetwork', `must look like 'regions/<region>/subnetworks/<name>' (or the subnetwork URL), got '${props.subnetwork}'`);
    if (m[1] !== props.region) throw new PropError(NAME, 'subnetwork', `is in region '${m[1]}', but 'region' is '${props.region}'`);
  }
}
