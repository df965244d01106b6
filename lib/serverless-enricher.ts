/**
 * Real-time enrichment without Dataflow: the enricher service (pipeline/service/) on Cloud Run, fed by Pub/Sub push,
 * writing through BigQuery subscriptions. Nothing runs at idle (min instances 0 by default), and the enrichment is
 * the same code and data as the Dataflow UDF (the registry's compiled validators and the checked configuration).
 *
 * ```
 * raw topic ─ enrich subscription (push, OIDC) ─► Cloud Run enricher ─► enriched topic ─ BigQuery subscription ─► events
 *                                                       │                                   │ after maxDeliveryAttempts
 *                                                       └─► bad topic ─ BigQuery subscription ─► bad_rows
 *                                                 dead-letter topic ◄┘ ─ push ─► enricher /dead-letter ─► bad topic
 * ```
 *
 * - The enrich subscription (`topics.enrichSubscription`) becomes a push subscription to `/push`: its Terraform
 *   address and its backlog stay the same when a pipeline switches from Dataflow to this path.
 * - Push authentication: the subscription signs an OIDC token as the push service account, for the service's own
 *   audience (`customAudiences` on the service, so Cloud Run's invoker check and the service's check agree); only
 *   that account may invoke the service (`roles/run.invoker`); ingress is internal only: "only inbound requests from
 *   VPC networks in the same project or VPC Service Controls perimeter, as well as Pub/Sub subscriptions and Eventarc
 *   events in the same project or VPC Service Controls perimeter are allowed" (`gcloud run deploy --help`, --ingress
 *   internal, gcloud 528; https://cloud.google.com/sdk/gcloud/reference/run/deploy, and
 *   https://cloud.google.com/run/docs/securing/ingress). So the push subscriptions must be in the service's project
 *   (checked below) and push to its run.app URL (`service.uri`).
 *   The Pub/Sub service agent gets `roles/iam.serviceAccountTokenCreator` on the push account only: Google requires it
 *   for projects created before 2021-04-08 (https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions).
 * - BigQuery subscriptions with `use_table_schema` (rows in the form pipeline/sink-format.ts makes): the Pub/Sub
 *   service agent writes the tables, so it gets `roles/bigquery.dataEditor` on the events and bad-rows tables and
 *   `roles/bigquery.metadataViewer` on the dataset (https://cloud.google.com/pubsub/docs/create-bigquery-subscription#assign_bigquery_service_account,
 *   through WarehouseSink.grantWrite).
 * - A row BigQuery refuses is retried with backoff, then forwarded to the dead-letter topic after
 *   `maxDeliveryAttempts`; the service agent publishes there and acknowledges on the source subscription
 *   (`roles/pubsub.publisher` on the topic, `roles/pubsub.subscriber` on the subscription:
 *   https://cloud.google.com/pubsub/docs/handling-failures#grant_forwarding_permissions). The dead-letter topic is
 *   pushed to the enricher's `/dead-letter` route, which writes a bad row with BigQuery's reason (the
 *   `CloudPubSubDeadLetterSourceDeliveryErrorMessage` attribute, https://cloud.google.com/pubsub/docs/bigquery-troubleshooting)
 *   to the bad-rows table.
 * - The service account of the service may publish to the enriched and bad topics and read its code object; nothing else.
 */
import { Construct } from 'constructs';
import { TerraformProvider, Token } from 'cdktf';
import { CloudRunV2Service } from '@cdktf/provider-google/lib/cloud-run-v2-service';
import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member';
import { DataGoogleClientConfig } from '@cdktf/provider-google/lib/data-google-client-config';
import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import { PubsubSubscriptionIamMember } from '@cdktf/provider-google/lib/pubsub-subscription-iam-member';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { PubsubTopicIamMember } from '@cdktf/provider-google/lib/pubsub-topic-iam-member';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import { StorageBucketObject } from '@cdktf/provider-google/lib/storage-bucket-object';
import { stageBundle, StagedBundle } from './private/assets';
import { cloudRunImageProblem } from './private/backends/common';
import { bootstrapCommand, bootstrapEnvironment, BOOTSTRAP_ENV } from './private/collector-bootstrap';
import { enricherServiceForRegistry } from './private/enricher-service';
import { afterIamPropagation } from './private/iam-propagation';
import { pubsubServiceAgent } from './private/service-agents';
import type { EnrichmentSettings } from './private/enrichment';
import { constructLabels } from './private/labels';
import { resourceName } from './private/naming';
import { checkRuntime, DEFAULT_NODE_RUNTIME, NodeRuntime, nodeImageOf } from './private/runtimes';
import { checkBounds, checkInteger, checkProjectId, checkRegion, PropError } from './private/validate';
import type { EnrichmentRegistrySource } from './streaming-enricher';
import type { WarehouseSink } from './warehouse-sink';

const NAME = 'ServerlessEnricher';

/** Where the rows go: a {@link WarehouseSink}, typically. */
export type ServerlessDestination = Pick<WarehouseSink, 'eventsTable' | 'deadLetterTable' | 'grantWrite'>;

export interface ServerlessEnricherProps {
  /** The schema registry compiled into the service (validators and warehouse column shapes). */
  readonly registry: EnrichmentRegistrySource;
  /** The raw topic's enrich subscription (`topics.enrichSubscription`); it is turned into a push subscription. */
  readonly subscription: PubsubSubscription;
  /** The warehouse: the events and bad-rows tables the BigQuery subscriptions write. */
  readonly warehouse: ServerlessDestination;
  /** The Cloud Run region (put it next to the data: the topics and the dataset). */
  readonly region: string;
  /** The project. @default the provider's project */
  readonly projectId?: string;
  /** Prefix of resource names (service `<prefix>-enricher`, topics `<prefix>-enriched`, …). @default 'waymark' */
  readonly namePrefix?: string;
  /** The enrichment configuration, checked at synth time (as StreamingEnricher's). @default the enrichment's defaults */
  readonly enrichmentConfig?: EnrichmentSettings;
  /** Instances kept warm (0: nothing runs, nothing is billed at idle; the first push after a pause waits a cold start). @default 0 */
  readonly minInstances?: number;
  /** Most instances. @default 10 */
  readonly maxInstances?: number;
  /** Push deliveries one instance works on at once (Cloud Run's request concurrency and the service's own bound). @default 80 */
  readonly concurrency?: number;
  /** CPUs per instance. @default '1' */
  readonly cpu?: string;
  /** Memory per instance. @default '512Mi' */
  readonly memory?: string;
  /** The Node.js runtime of the container (lib/private/runtimes.ts). @default the library's default runtime */
  readonly runtime?: NodeRuntime;
  /** A container image with Node.js instead of the official one of `runtime`. @default `docker.io/library/node:<major>-bookworm-slim` */
  readonly nodeImage?: string;
  /** Attempts to write a row to BigQuery before it goes to the dead-letter topic (5-100). @default 5 */
  readonly maxDeliveryAttempts?: number;
  /** The bucket for the service's code object. @default a new bucket `<projectId>-<prefix>-enricher-code` */
  readonly existingCodeBucket?: { readonly name: string };
  /** The google-beta provider (the Pub/Sub service agent is made with google_project_service_identity). @default the stack's unaliased google-beta provider */
  readonly betaProvider?: TerraformProvider;
  /** Labels on every resource that takes labels. @default none (plus managed-by: waymark) */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * The serverless real-time path: the enricher on Cloud Run (scales to zero), push from the enrich subscription,
 * enriched and bad topics with BigQuery subscriptions to the events and bad-rows tables, and a dead-letter route.
 */
export class ServerlessEnricher extends Construct {
  /** The Cloud Run service. */
  public readonly service: CloudRunV2Service;
  /** The service's name and region (for monitoring). */
  public readonly serviceName: string;
  public readonly region: string;
  /** The account the service runs as (publishes to the two topics). */
  public readonly serviceAccount: ServiceAccount;
  /** The account whose OIDC token authenticates the push deliveries. */
  public readonly pushServiceAccount: ServiceAccount;
  /** Good rows, in the BigQuery subscription form. */
  public readonly enrichedTopic: PubsubTopic;
  /** Bad rows, as dead-letter-table rows. */
  public readonly badTopic: PubsubTopic;
  /** Rows BigQuery refused after `maxDeliveryAttempts`. */
  public readonly deadLetterTopic: PubsubTopic;
  /** enriched → events table. */
  public readonly eventsSubscription: PubsubSubscription;
  /** bad → bad-rows table. */
  public readonly badRowsSubscription: PubsubSubscription;
  /** dead-letter → the service's /dead-letter route. */
  public readonly deadLetterSubscription: PubsubSubscription;
  /** The audience of the push tokens (also a custom audience of the service). */
  public readonly audience: string;
  /** The staged service bundle. */
  public readonly bundle: StagedBundle;
  public readonly codeObject: StorageBucketObject;
  public readonly labels: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: ServerlessEnricherProps) {
    super(scope, id);
    validate(props);
    this.labels = constructLabels(NAME, props.labels);
    const labels = this.labels;
    const prefix = props.namePrefix ?? 'waymark';
    const project = props.projectId;
    const projectId = props.projectId ?? new DataGoogleClientConfig(this, 'client').project;
    // Created if need be (a fresh project has no Pub/Sub agent until the API is first used): lib/private/service-agents.ts.
    const serviceAgent = pubsubServiceAgent(this, 'pubsub-service-agent', NAME, project, props.betaProvider).member;
    this.region = props.region;
    this.serviceName = resourceName([prefix, 'enricher']);
    this.audience = `waymark-enricher:${this.serviceName}`;

    const topic = (tid: string, name: string): PubsubTopic => new PubsubTopic(this, tid, { project, name: resourceName([prefix, name], 255), messageRetentionDuration: `${7 * 86400}s`, labels });
    this.enrichedTopic = topic('enriched', 'enriched');
    this.badTopic = topic('bad', 'enrich-bad');
    this.deadLetterTopic = topic('dead-letter', 'enriched-dead-letter');

    this.serviceAccount = new ServiceAccount(this, 'service-account', {
      project,
      accountId: resourceName([prefix, 'enricher'], 30),
      displayName: 'Waymark serverless enricher',
      description: 'Publishes enriched rows and bad rows',
    });
    this.pushServiceAccount = new ServiceAccount(this, 'push-account', {
      project,
      accountId: resourceName([prefix, 'enricher-push'], 30),
      displayName: 'Waymark enricher push',
      description: 'Identity of the Pub/Sub push deliveries to the enricher (OIDC)',
    });
    for (const [tid, t] of [['publish-enriched', this.enrichedTopic], ['publish-bad', this.badTopic]] as const) {
      new PubsubTopicIamMember(this, tid, { project, topic: t.name, role: 'roles/pubsub.publisher', member: this.serviceAccount.member });
    }

    const bucket = props.existingCodeBucket ?? new StorageBucket(this, 'code', {
      project,
      name: `${projectId}-${prefix}-enricher-code`,
      location: props.region.toUpperCase(),
      uniformBucketLevelAccess: true,
      publicAccessPrevention: 'enforced',
      forceDestroy: true,
      labels,
    });
    const readCode = new StorageBucketIamMember(this, 'read-code', { bucket: bucket.name, role: 'roles/storage.objectViewer', member: this.serviceAccount.member });
    this.bundle = stageBundle(this, 'bundle', enricherServiceForRegistry(NAME, props.registry.registry, props.enrichmentConfig));
    this.codeObject = new StorageBucketObject(this, 'code-object', {
      bucket: bucket.name,
      name: `enricher/${this.bundle.objectName}`,
      source: this.bundle.asset.path,
      contentType: 'text/javascript',
      cacheControl: 'no-store',
      deletionPolicy: 'ABANDON',
    });

    const concurrency = props.concurrency ?? 80;
    const environment: Record<string, string> = {
      ...bootstrapEnvironment(bucket.name, this.codeObject.name),
      [BOOTSTRAP_ENV.file]: '/tmp/waymark/enricher.js',
      WAYMARK_ENRICHED_TOPIC: this.enrichedTopic.id,
      WAYMARK_BAD_TOPIC: this.badTopic.id,
      WAYMARK_PUSH_AUDIENCE: this.audience,
      WAYMARK_PUSH_SERVICE_ACCOUNT: this.pushServiceAccount.email,
      WAYMARK_ROW_SINK: 'bigquery-subscription',
      WAYMARK_MAX_CONCURRENCY: String(concurrency),
    };
    const runtime = checkRuntime(NAME, 'runtime', 'container', props.runtime ?? DEFAULT_NODE_RUNTIME);
    this.service = new CloudRunV2Service(this, 'service', {
      project,
      name: this.serviceName,
      location: props.region,
      // Only Pub/Sub pushes reach it: internal-only admits them from the same project (module header).
      ingress: 'INGRESS_TRAFFIC_INTERNAL_ONLY',
      customAudiences: [this.audience],
      deletionProtection: false,
      labels: { ...labels },
      template: {
        serviceAccount: this.serviceAccount.email,
        scaling: { minInstanceCount: props.minInstances ?? 0, maxInstanceCount: props.maxInstances ?? 10 },
        maxInstanceRequestConcurrency: concurrency,
        timeout: '60s',
        labels: { ...labels },
        containers: [{
          image: props.nodeImage ?? nodeImageOf(runtime, 'docker.io/library'),
          command: bootstrapCommand(),
          ports: { containerPort: 8080, name: 'http1' },
          env: Object.keys(environment).sort().map((name) => ({ name, value: environment[name] })),
          // cpuIdle: CPU only while a push is in hand (request-based billing: nothing at idle).
          resources: { limits: { cpu: props.cpu ?? '1', memory: props.memory ?? '512Mi' }, cpuIdle: true, startupCpuBoost: true },
          startupProbe: { httpGet: { path: '/health' }, periodSeconds: 2, failureThreshold: 30, timeoutSeconds: 2 },
        }],
      },
      dependsOn: [readCode],
    });
    const invoker = new CloudRunV2ServiceIamMember(this, 'push-invoker', { project, name: this.service.name, location: props.region, role: 'roles/run.invoker', member: this.pushServiceAccount.member });
    const tokenCreator = new ServiceAccountIamMember(this, 'push-token-creator', { serviceAccountId: this.pushServiceAccount.name, role: 'roles/iam.serviceAccountTokenCreator', member: serviceAgent });

    const push = (path: string) => ({
      pushEndpoint: `${this.service.uri}${path}`,
      oidcToken: { serviceAccountEmail: this.pushServiceAccount.email, audience: this.audience },
    });
    props.subscription.putPushConfig(push('/push'));
    if (props.subscription.retryPolicyInput === undefined) props.subscription.putRetryPolicy({ minimumBackoff: '10s', maximumBackoff: '600s' });
    // Pub/Sub pushes at once: the invoker and token grants must have propagated first.
    const pushReady = afterIamPropagation(this, 'push-iam-propagation', [invoker, tokenCreator]);
    props.subscription.dependsOn = [...(props.subscription.dependsOn ?? []), `${pushReady.terraformResourceType}.${pushReady.friendlyUniqueId}`];

    // A BigQuery subscription checks its access to the table when it is created: after the grants have propagated.
    const tableGrants = afterIamPropagation(this, 'bigquery-iam-propagation', props.warehouse.grantWrite(serviceAgent));
    const tableId = (t: ServerlessDestination['eventsTable']): string => `${t.project}.${t.datasetId}.${t.tableId}`;
    this.eventsSubscription = new PubsubSubscription(this, 'events-subscription', {
      project,
      name: resourceName([prefix, 'enriched', 'bigquery'], 255),
      topic: this.enrichedTopic.id,
      bigqueryConfig: { table: tableId(props.warehouse.eventsTable), useTableSchema: true, writeMetadata: false, dropUnknownFields: false },
      ackDeadlineSeconds: 60,
      messageRetentionDuration: `${7 * 86400}s`,
      expirationPolicy: { ttl: '' },
      retryPolicy: { minimumBackoff: '10s', maximumBackoff: '600s' },
      deadLetterPolicy: { deadLetterTopic: this.deadLetterTopic.id, maxDeliveryAttempts: props.maxDeliveryAttempts ?? 5 },
      labels,
      dependsOn: [tableGrants],
    });
    this.badRowsSubscription = new PubsubSubscription(this, 'bad-rows-subscription', {
      project,
      name: resourceName([prefix, 'enrich-bad', 'bigquery'], 255),
      topic: this.badTopic.id,
      bigqueryConfig: { table: tableId(props.warehouse.deadLetterTable), useTableSchema: true, writeMetadata: false, dropUnknownFields: false },
      ackDeadlineSeconds: 60,
      messageRetentionDuration: `${7 * 86400}s`,
      expirationPolicy: { ttl: '' },
      retryPolicy: { minimumBackoff: '10s', maximumBackoff: '600s' },
      labels,
      dependsOn: [tableGrants],
    });
    this.deadLetterSubscription = new PubsubSubscription(this, 'dead-letter-subscription', {
      project,
      name: resourceName([prefix, 'enriched-dead-letter', 'push'], 255),
      topic: this.deadLetterTopic.id,
      pushConfig: push('/dead-letter'),
      ackDeadlineSeconds: 60,
      messageRetentionDuration: `${7 * 86400}s`,
      expirationPolicy: { ttl: '' },
      retryPolicy: { minimumBackoff: '10s', maximumBackoff: '600s' },
      labels,
      dependsOn: [pushReady],
    });
    new PubsubTopicIamMember(this, 'dead-letter-publisher', { project, topic: this.deadLetterTopic.name, role: 'roles/pubsub.publisher', member: serviceAgent });
    new PubsubSubscriptionIamMember(this, 'dead-letter-subscriber', { project, subscription: this.eventsSubscription.name, role: 'roles/pubsub.subscriber', member: serviceAgent });
  }
}

function validate(props: ServerlessEnricherProps): void {
  checkRegion(NAME, 'region', props.region);
  if (props.projectId !== undefined) checkProjectId(NAME, 'projectId', props.projectId);
  // Internal ingress admits Pub/Sub push only from the service's own project (or VPC Service Controls perimeter).
  const subscriptionProject = props.subscription.projectInput;
  if (subscriptionProject !== undefined && !Token.isUnresolved(subscriptionProject) && (props.projectId === undefined || !Token.isUnresolved(props.projectId)) && subscriptionProject !== props.projectId) {
    throw new PropError(NAME, 'subscription', `is in project '${subscriptionProject}' but the service is in ${props.projectId === undefined ? "the provider's project" : `'${props.projectId}'`}: its ingress is internal, which admits Pub/Sub push only from the same project (or VPC Service Controls perimeter); give the same projectId`);
  }
  checkBounds(NAME, 'minInstances', props.minInstances ?? 0, 'maxInstances', props.maxInstances ?? 10);
  checkInteger(NAME, 'maxInstances', props.maxInstances ?? 10, 1, 1000);
  checkInteger(NAME, 'concurrency', props.concurrency ?? 80, 1, 1000);
  checkInteger(NAME, 'maxDeliveryAttempts', props.maxDeliveryAttempts ?? 5, 5, 100);
  if (props.memory !== undefined && !/^[0-9]+(Mi|Gi)$/.test(props.memory)) throw new PropError(NAME, 'memory', `must be a size such as '512Mi' or '1Gi', got '${props.memory}'`);
  if (props.cpu !== undefined && !/^([0-9]+(\.[0-9]+)?|[0-9]+m)$/.test(props.cpu)) throw new PropError(NAME, 'cpu', `must be a CPU count such as '1' or '2', got '${props.cpu}'`);
  if (props.nodeImage !== undefined) {
    const problem = cloudRunImageProblem(props.nodeImage);
    if (problem) throw new PropError(NAME, 'nodeImage', problem);
  }
  if (props.nodeImage !== undefined && props.runtime !== undefined) throw new PropError(NAME, 'nodeImage', "and 'runtime' both choose the image: give one");
}
