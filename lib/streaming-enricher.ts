/**
 * Real-time enrichment: Google's maintained `PubSub_to_BigQuery_Flex` Dataflow template running Waymark's
 * enrichment UDF (the same bundle the batch replay runs), reading the enrich subscription and writing the events
 * table through the Storage Write API, failed rows to the dead-letter table.
 */
import { Construct } from 'constructs';
import { TerraformProvider, Token } from 'cdktf';
import { GoogleDataflowFlexTemplateJob } from '@cdktf/provider-google-beta/lib/google-dataflow-flex-template-job';
import { DataGoogleClientConfig } from '@cdktf/provider-google/lib/data-google-client-config';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { PubsubSubscriptionIamMember } from '@cdktf/provider-google/lib/pubsub-subscription-iam-member';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import { StorageBucketObject } from '@cdktf/provider-google/lib/storage-bucket-object';
import type { Registry } from '../pipeline/registry/registry';
import { stageBundle, StagedBundle } from './private/assets';
import { findBetaProvider, flexTemplatePath, uploadJobFile, workBucket } from './private/dataflow';
import { EnrichmentSettings, udfForRegistry } from './private/enrichment';
import { afterIamPropagation } from './private/iam-propagation';
import { constructLabels } from './private/labels';
import { resourceName } from './private/naming';
import { UDF_FUNCTIONS } from './private/runtime-bundles';
import { BUCKET_NAME, checkInteger, checkName, checkProjectId, checkRegion, PropError, RFC1035 } from './private/validate';
import type { NewRegionsOption } from './private/regions';
import type { WarehouseSink } from './warehouse-sink';

const NAME = 'StreamingEnricher';

/** The schema registry the UDF is compiled from: a {@link SchemaRegistry} construct, typically. */
export interface EnrichmentRegistrySource {
  readonly registry: Registry;
  /** The user's schema folders (the built-ins are always included). */
  readonly schemaFolders: readonly string[];
}

export type { EnrichmentSettings };

/** A Pub/Sub subscription: a `PubsubSubscription` or any object with its id and name. */
export interface SubscriptionReference {
  /** `projects/<project>/subscriptions/<name>`. */
  readonly id: string;
  readonly name: string;
}

/** A Cloud Storage bucket: a `StorageBucket` or any object with its name. */
export interface BucketReference {
  readonly name: string;
}

/** Where the data goes: a {@link WarehouseSink}, typically. */
export type EnrichmentDestination = Pick<WarehouseSink, 'eventsTableSpec' | 'deadLetterTableSpec' | 'fields' | 'grantWrite'>;

export interface StreamingEnricherProps extends NewRegionsOption {
  /** The schema registry compiled into the UDF (validators and warehouse column shapes). */
  readonly registry: EnrichmentRegistrySource;
  /** The subscription to read, e.g. `topics.enrichSubscription`. */
  readonly subscription: SubscriptionReference;
  /** The warehouse: events table, dead-letter table and the grant to write them. */
  readonly warehouse: EnrichmentDestination;
  /** The Dataflow region; the template is read from `gs://dataflow-templates-<region>/`. */
  readonly region: string;
  /** The project of the job. @default the provider's project */
  readonly projectId?: string;
  /** Prefix of resource names (job `<prefix>-enrich`, service account `<prefix>-enricher`). @default 'waymark' */
  readonly namePrefix?: string;
  /**
   * The enrichment configuration (pipeline/config.ts: internal domains, enrichments on/off, IP anonymisation, PII
   * pseudonymisation, campaign fields, limits). Checked at synth time; the column shapes of the registry are added.
   * @default the enrichment's defaults
   */
  readonly enrichmentConfig?: EnrichmentSettings;
  /** Worker machine type. @default 'n2-standard-2' */
  readonly machineType?: string;
  /** Workers at start. @default 1 */
  readonly numWorkers?: number;
  /** Upper bound of autoscaling. @default 3 */
  readonly maxWorkers?: number;
  /** Run the shuffle and state in the Streaming Engine service (smaller workers, faster autoscaling). @default true */
  readonly streamingEngine?: boolean;
  /** The VPC network of the workers. @default the project's `default` network */
  readonly network?: string;
  /** The subnetwork of the workers (`regions/<region>/subnetworks/<name>` or its URL). @default the network's subnetwork in the region */
  readonly subnetwork?: string;
  /**
   * Give workers public IP addresses. Without them the subnetwork needs Private Google Access.
   * @default false when `subnetwork` is set (you manage the network), true otherwise
   */
  readonly publicIps?: boolean;
  /** The Storage Write API with exactly-once semantics; false gives at-least-once (cheaper, may duplicate rows). @default true */
  readonly exactlyOnce?: boolean;
  /** Storage Write API streams (exactly-once only). @default 3 */
  readonly storageWriteApiStreams?: number;
  /** Seconds between Storage Write API commits (exactly-once only): the latency floor. @default 5 */
  readonly storageWriteApiTriggeringFrequencySeconds?: number;
  /**
   * What `terraform destroy`, or a change that replaces the job (see the class comment), does to the running job:
   * drain stops reading and finishes in-flight data (Terraform waits for it); cancel stops at once, and messages
   * not yet acknowledged are redelivered to the next job. A UDF or schema change does not replace the job.
   * @default 'drain'
   */
  readonly onDelete?: 'drain' | 'cancel';
  /** The template release, `latest` or a dated one such as `2025-01-14-00_RC00`. @default 'latest' */
  readonly templateVersion?: string;
  /** The bucket for the UDF and Dataflow's temporary and staging files. @default a new bucket `<projectId>-<prefix>-dataflow` */
  readonly existingBucket?: BucketReference;
  /** The google-beta provider (the flex template job exists only there). @default the stack's unaliased google-beta provider */
  readonly betaProvider?: TerraformProvider;
  /** Labels of every resource that takes labels, the job included. @default none (plus managed-by: waymark) */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * The streaming enricher: a `PubSub_to_BigQuery_Flex` job (region-correct template path) with the enrichment UDF,
 * its own least-privilege worker service account, Streaming Engine, autoscaling and drain on delete.
 *
 * Updating the enrichment: the UDF is uploaded under a content-hashed name (`udf/<job name>/enrich-<hash>.js`) and
 * the job's `javascriptTextTransformGcsPath` names that exact object. A change of the schemas, the enrichment
 * configuration or the code makes a new object name, so a new job parameter, and the google-beta provider updates the
 * streaming job in place: it launches a replacement job with the same name and `update: true` (Dataflow checks
 * compatibility and carries the in-flight state over, the subscription's unacknowledged messages stay where they are)
 * and waits until it runs. The replacement job reads the table schema when it starts, so columns added to the events
 * table in the same deploy (the job's parameters refer to the table, so Terraform updates the table first) are
 * written from then on; a running job keeps the schema it started with. The new UDF object is created before the job
 * update and the old one deleted only after it (create before destroy), and exactly one UDF is ever loaded.
 *
 * Not updated in place (the provider replaces the job: drain, then a new job; the backlog waits in the subscription):
 * `numWorkers`, `maxWorkers`, `streamingEngine`, `region`, `projectId` and the job name (`namePrefix`).
 */
export class StreamingEnricher extends Construct {
  public readonly job: GoogleDataflowFlexTemplateJob;
  /** The identity of the workers (and of the template launcher). */
  public readonly serviceAccount: ServiceAccount;
  /** The bucket holding the UDF and Dataflow's temporary files (`existingBucket` or a new one). */
  public readonly bucket: BucketReference;
  /** The UDF file (`udf/<job name>/enrich-<hash>.js`): the job's `javascriptTextTransformGcsPath` names it. */
  public readonly udfObject: StorageBucketObject;
  /** The staged UDF bundle. */
  public readonly udf: StagedBundle;
  /** `gs://dataflow-templates-<region>/<version>/flex/PubSub_to_BigQuery_Flex`. */
  public readonly templatePath: string;
  /** The template parameters, as given to the job. */
  public readonly parameters: Readonly<Record<string, string>>;
  public readonly labels: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: StreamingEnricherProps) {
    super(scope, id);
    validate(props);
    this.labels = constructLabels(NAME, props.labels);
    const project = props.projectId;
    const prefix = props.namePrefix ?? 'waymark';
    const beta = props.betaProvider ?? findBetaProvider(this, NAME);
    const projectId = props.projectId ?? new DataGoogleClientConfig(this, 'client').project;

    const jobName = resourceName([prefix, 'enrich']);
    this.bucket = props.existingBucket ?? workBucket(this, project, `${projectId}-${prefix}-dataflow`, props.region, this.labels);
    this.udf = stageBundle(this, 'udf-bundle', udfForRegistry(NAME, props.registry.registry, props.enrichmentConfig));
    const udfPath = `udf/${jobName}/${this.udf.objectName}`;
    this.udfObject = uploadJobFile(this, 'udf', this.bucket, udfPath, this.udf, 'text/javascript');

    this.serviceAccount = new ServiceAccount(this, 'service-account', {
      project,
      accountId: resourceName([prefix, 'enricher'], 30),
      displayName: 'Waymark streaming enricher',
      description: 'Dataflow workers of the streaming enrichment: read the enrich subscription, write the events and dead-letter tables',
    });
    const member = this.serviceAccount.member;
    const grants = [
      new ProjectIamMember(this, 'dataflow-worker', { project: projectId, role: 'roles/dataflow.worker', member }),
      new PubsubSubscriptionIamMember(this, 'subscriber', { subscription: props.subscription.id, role: 'roles/pubsub.subscriber', member }),
      // Dataflow reads the subscription's configuration (ack deadline, backlog) for watermarks and autoscaling.
      new PubsubSubscriptionIamMember(this, 'subscription-viewer', { subscription: props.subscription.id, role: 'roles/pubsub.viewer', member }),
      new StorageBucketIamMember(this, 'bucket-access', { bucket: this.bucket.name, role: 'roles/storage.objectAdmin', member }),
      ...props.warehouse.grantWrite(member),
    ];

    const region = props.region;
    this.templatePath = flexTemplatePath(region, props.templateVersion, 'PubSub_to_BigQuery_Flex');
    const exactlyOnce = props.exactlyOnce ?? true;
    this.parameters = {
      inputSubscription: props.subscription.id,
      outputTableSpec: props.warehouse.eventsTableSpec,
      outputDeadletterTable: props.warehouse.deadLetterTableSpec,
      useStorageWriteApi: 'true',
      useStorageWriteApiAtLeastOnce: String(!exactlyOnce),
      ...(exactlyOnce
        ? {
          numStorageWriteApiStreams: String(props.storageWriteApiStreams ?? 3),
          storageWriteApiTriggeringFrequencySec: String(props.storageWriteApiTriggeringFrequencySeconds ?? 5),
        }
        : {}),
      // The exact, content-hashed object (not a folder pattern): a new UDF changes this parameter, so Terraform
      // updates the job, and a replacement job never loads two UDFs. No reload interval: the file at this path
      // never changes.
      javascriptTextTransformGcsPath: `gs://${this.bucket.name}/${udfPath}`,
      javascriptTextTransformFunctionName: UDF_FUNCTIONS.streaming,
    };

    const publicIps = props.publicIps ?? props.subnetwork === undefined;
    this.job = new GoogleDataflowFlexTemplateJob(this, 'job', {
      provider: beta,
      project,
      region,
      name: jobName,
      containerSpecGcsPath: this.templatePath,
      parameters: this.parameters,
      serviceAccountEmail: this.serviceAccount.email,
      machineType: props.machineType ?? 'n2-standard-2',
      numWorkers: props.numWorkers ?? 1,
      maxWorkers: props.maxWorkers ?? 3,
      enableStreamingEngine: props.streamingEngine ?? true,
      network: props.network,
      subnetwork: props.subnetwork,
      ipConfiguration: publicIps ? 'WORKER_IP_PUBLIC' : 'WORKER_IP_PRIVATE',
      tempLocation: `gs://${this.bucket.name}/temp`,
      stagingLocation: `gs://${this.bucket.name}/staging`,
      onDelete: props.onDelete ?? 'drain',
      // The job name is fixed, so a replacement job can start only once the old one has finished draining: wait for it.
      skipWaitOnJobTermination: false,
      labels: this.labels,
      // Nothing in the parameters refers to the grants or the UDF file, but the job needs both from its first second:
      // the launcher VM and the workers act as the worker account at once, so the job waits until the grants have
      // had time to propagate (lib/private/iam-propagation.ts), not only until they are made.
      dependsOn: [afterIamPropagation(this, 'iam-propagation', grants), this.udfObject],
    });
  }
}


function validate(props: StreamingEnricherProps): void {
  if (props.registry === undefined || props.subscription === undefined || props.warehouse === undefined) {
    throw new PropError(NAME, props.registry === undefined ? 'registry' : props.subscription === undefined ? 'subscription' : 'warehouse', 'is required');
  }
  checkRegion(NAME, 'region', props.region, props.newRegions);
  if (props.projectId !== undefined) {
    checkProjectId(NAME, 'projectId', props.projectId);
    if (props.existingBucket === undefined) {
      const name = `${props.projectId}-${props.namePrefix ?? 'waymark'}-dataflow`;
      if (name.length > 63) throw new PropError(NAME, 'namePrefix', `makes the bucket name '${name}' longer than 63 characters; choose a shorter prefix or pass 'existingBucket'`);
    }
  }
  if (props.namePrefix !== undefined) {
    checkName(NAME, 'namePrefix', props.namePrefix, RFC1035);
  }
  if (props.existingBucket !== undefined) checkName(NAME, 'existingBucket', props.existingBucket.name, BUCKET_NAME);
  if (props.machineType !== undefined && !/^[a-z][a-z0-9]*-[a-z0-9-]+$/.test(props.machineType)) {
    throw new PropError(NAME, 'machineType', `must be a Compute Engine machine type such as 'n2-standard-2', got '${props.machineType}'`);
  }
  checkInteger(NAME, 'numWorkers', props.numWorkers ?? 1, 1, 1000);
  checkInteger(NAME, 'maxWorkers', props.maxWorkers ?? 3, 1, 1000);
  if ((props.numWorkers ?? 1) > (props.maxWorkers ?? 3)) {
    throw new PropError(NAME, 'numWorkers', `(${props.numWorkers ?? 1}) must not exceed 'maxWorkers' (${props.maxWorkers ?? 3})`);
  }
  checkInteger(NAME, 'storageWriteApiStreams', props.storageWriteApiStreams ?? 3, 1, 1000);
  checkInteger(NAME, 'storageWriteApiTriggeringFrequencySeconds', props.storageWriteApiTriggeringFrequencySeconds ?? 5, 1, 3600);
  if (props.exactlyOnce === false && (props.storageWriteApiStreams !== undefined || props.storageWriteApiTriggeringFrequencySeconds !== undefined)) {
    throw new PropError(NAME, 'storageWriteApiStreams', "applies to exactly-once writes only; remove it or 'exactlyOnce: false'");
  }
  if (props.onDelete !== undefined && props.onDelete !== 'drain' && props.onDelete !== 'cancel') {
    throw new PropError(NAME, 'onDelete', `must be 'drain' or 'cancel', got '${props.onDelete}'`);
  }
  if (props.templateVersion !== undefined && !/^(latest|\d{4}-\d{2}-\d{2}-\d{2}_RC\d{2})$/.test(props.templateVersion)) {
    throw new PropError(NAME, 'templateVersion', `must be 'latest' or a release such as '2025-01-14-00_RC00', got '${props.templateVersion}'`);
  }
  if (props.subnetwork !== undefined && !Token.isUnresolved(props.subnetwork)) {
    const m = /^(?:https:\/\/www\.googleapis\.com\/compute\/v1\/projects\/[^/]+\/)?regions\/([a-z0-9-]+)\/subnetworks\/[a-z0-9-]+$/.exec(props.subnetwork);
    if (!m) throw new PropError(NAME, 'subnetwork', `must look like 'regions/<region>/subnetworks/<name>' (or the subnetwork URL), got '${props.subnetwork}'`);
    if (m[1] !== props.region) throw new PropError(NAME, 'subnetwork', `is in region '${m[1]}', but 'region' is '${props.region}'`);
  }
}
