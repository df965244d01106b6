import { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { ProjectService } from '@cdktf/provider-google/lib/project-service';
import { BatchEnricher, BatchEnricherProps } from './batch-enricher';
import { CdnPixelCollector, CdnPixelCollectorProps } from './cdn-pixel-collector';
import { GlobalCollector, GlobalCollectorProps } from './global-collector';
import { MonitoredEnricher, PipelineMonitoring, PipelineMonitoringProps } from './pipeline-monitoring';
import { DataflowEnrichment, Enrichment, ServerlessEnrichment } from './enrichment';
import { dependOnApis, enableApis } from './private/apis';
import { constructLabels } from './private/labels';
import { EnrichmentSettings } from './private/enrichment';
import { checkProjectId, checkRegion, PropError } from './private/validate';
import type { NewRegionsOption } from './private/regions';
import { RawArchive, RawArchiveProps } from './raw-archive';
import { SchemaRegistry, SchemaRegistryProps } from './schema-registry';
import { ServerlessEnricher } from './serverless-enricher';
import { StreamingEnricher, StreamingEnricherProps } from './streaming-enricher';
import { ClickstreamTopics, ClickstreamTopicsProps } from './topics';
import { TrackerHosting } from './tracker-hosting';
import { WarehouseSink, WarehouseSinkProps } from './warehouse-sink';

const NAME = 'ClickstreamPipeline';

type Shared = 'projectId' | 'labels';

export interface ClickstreamPipelineProps extends NewRegionsOption {
  /** Region of the data side: Pub/Sub, Dataflow and the buckets. */
  readonly region: string;
  /** The project. @default the provider's project */
  readonly projectId?: string;
  /**
   * The third-party-cookie collector: domains and backends (and any other GlobalCollector prop). Give this,
   * `pixelCollector`, or both.
   * @default none
   */
  readonly collector?: Omit<GlobalCollectorProps, 'rawTopic' | 'badTopic' | Shared>;
  /** The first-party-only Cloud CDN pixel collector. @default none */
  readonly pixelCollector?: Omit<CdnPixelCollectorProps, 'rawTopic' | Shared>;
  /**
   * Serve the web tracker on Cloud CDN: `true` puts it under `/t/` on the collector's domains (no second load
   * balancer), `{ domains }` on its own load balancer, `false` not at all.
   * @default true when there is a `collector`, else false
   */
  readonly trackerHosting?: boolean | { readonly domains: readonly string[] };
  /** User schema folders (Iglu static layout), merged with the built-ins. @default none */
  readonly schemaFolders?: readonly string[];
  /** The enrichment configuration, the same for streaming and replay. @default the pipeline's defaults */
  readonly enrichmentConfig?: EnrichmentSettings;
  /** Topic settings. @default 7 days of retention; no dead-letter policy on the enrich subscription (Dataflow does not support one; see `enrichDeadLetter`) */
  readonly topics?: Omit<ClickstreamTopicsProps, Shared>;
  /** Registry bucket settings. @default private, in `region` */
  readonly registry?: Omit<SchemaRegistryProps, 'schemaFolders' | Shared>;
  /** Warehouse settings. @default dataset `waymark` in `region`, deletion protection on */
  readonly warehouse?: Omit<WarehouseSinkProps, 'registry' | Shared>;
  /** Streaming enricher settings. @default n2-standard-2 workers, Streaming Engine, at most 3 workers */
  readonly enricher?: Omit<StreamingEnricherProps, 'registry' | 'subscription' | 'warehouse' | 'region' | 'enrichmentConfig' | Shared>;
  /**
   * The real-time enrichment path: `Enrichment.dataflow({...})` (the StreamingEnricher job) or
   * `Enrichment.serverless({...})` (the ServerlessEnricher: Cloud Run, push, BigQuery subscriptions; nothing at idle).
   * @default `Enrichment.dataflow(enricher)`
   */
  readonly enrichment?: Enrichment;
  /** Raw archive settings, or `false` for no archive (then no replay either). @default on, in `region` */
  readonly archive?: false | Omit<RawArchiveProps, 'topic' | 'badTopic' | Shared>;
  /**
   * Batch replay from the archive: a period to replay (e.g. `'2025-03-01'`) or a range (`{ from, to }`),
   * optionally on a schedule.
   * Without it, no replay pipeline is created (the archive can still be replayed later by adding one).
   * @default none
   */
  readonly replay?: Omit<BatchEnricherProps, 'registry' | 'archive' | 'warehouse' | 'region' | 'enrichmentConfig' | Shared>;
  /**
   * Enable the Google Cloud APIs the pipeline uses (and make every resource wait for them), so one deploy works
   * on a fresh project. Turn off when the project's APIs are managed elsewhere.
   * @default true
   */
  readonly enableApis?: boolean;
  /** Labels on every resource that takes labels. @default none (plus managed-by: waymark) */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * The dashboard, alert policies, uptime check and end-to-end latency view (`PipelineMonitoring`), with its
   * notification channels and alert settings; `false` for none.
   * @default on, every alert with its default, no notification channels
   */
  readonly monitoring?: false | Omit<PipelineMonitoringProps, 'collector' | 'rawTopicName' | 'enrichSubscriptionName' | 'otherSubscriptionNames' | 'bigQuerySubscriptionNames' | 'enricher' | 'eventsTable' | 'badRowsTables' | Shared>;
}

/**
 * A whole clickstream pipeline in one construct: collector (any topology) → Pub/Sub → Dataflow enrichment →
 * BigQuery, with the schema registry, a raw archive, optional batch replay and tracker hosting.
 *
 * ```ts
 * new ClickstreamPipeline(stack, 'clickstream', {
 *   region: 'europe-west1',
 *   collector: { domains: ['c.example.com'], backends: [CollectorBackend.cloudRun({ regions: ['europe-west1'] })] },
 * });
 * ```
 * Outputs: the collector URL and IP, the tracker URL, and the events table.
 */
export class ClickstreamPipeline extends Construct {
  public readonly topics: ClickstreamTopics;
  public readonly registry: SchemaRegistry;
  public readonly warehouse: WarehouseSink;
  /** The Dataflow streaming enricher (with `Enrichment.dataflow`, the default). */
  public readonly enricher?: StreamingEnricher;
  /** The serverless enricher (with `Enrichment.serverless`). */
  public readonly serverlessEnricher?: ServerlessEnricher;
  public readonly archive?: RawArchive;
  public readonly replay?: BatchEnricher;
  public readonly collector?: GlobalCollector;
  public readonly pixelCollector?: CdnPixelCollector;
  public readonly tracker?: TrackerHosting;
  /** Dashboard, alerts, uptime check and latency view (absent with `monitoring: false`). */
  public readonly monitoring?: PipelineMonitoring;
  /** The APIs the pipeline enabled (empty when `enableApis` is false). */
  public readonly apis: readonly ProjectService[];

  constructor(scope: Construct, id: string, props: ClickstreamPipelineProps) {
    super(scope, id);
    validate(props);
    const labels = constructLabels(NAME, props.labels);
    const shared = { projectId: props.projectId, labels };

    this.topics = new ClickstreamTopics(this, 'topics', { ...props.topics, ...shared });
    this.registry = new SchemaRegistry(this, 'registry', { location: props.region, newRegions: props.newRegions, ...props.registry, schemaFolders: props.schemaFolders, ...shared });
    this.warehouse = new WarehouseSink(this, 'warehouse', { location: props.region, newRegions: props.newRegions, ...props.warehouse, registry: this.registry, ...shared });
    const enrichment = props.enrichment ?? Enrichment.dataflow(props.enricher);
    // What either enricher is wired to; the path's own settings come first, these win.
    const wiring = {
      registry: this.registry,
      subscription: this.topics.enrichSubscription,
      warehouse: this.warehouse,
      region: props.region,
      enrichmentConfig: props.enrichmentConfig,
      ...shared,
    };
    if (enrichment instanceof ServerlessEnrichment) {
      this.serverlessEnricher = new ServerlessEnricher(this, 'serverless-enricher', { ...enrichment.props, ...wiring });
    } else {
      this.enricher = new StreamingEnricher(this, 'enricher', { newRegions: props.newRegions, ...(enrichment as DataflowEnrichment).props, ...wiring });
    }

    if (props.archive !== false) {
      this.archive = new RawArchive(this, 'archive', { location: props.region, newRegions: props.newRegions, ...props.archive, topic: this.topics.raw, badTopic: this.topics.bad, ...shared });
      if (props.replay) {
        this.replay = new BatchEnricher(this, 'replay', {
          newRegions: props.newRegions,
          ...props.replay,
          registry: this.registry,
          archive: this.archive,
          warehouse: this.warehouse,
          region: props.region,
          enrichmentConfig: props.enrichmentConfig,
          ...shared,
        });
      }
    }

    if (props.collector) {
      this.collector = new GlobalCollector(this, 'collector', { newRegions: props.newRegions, ...props.collector, rawTopic: this.topics.raw, badTopic: this.topics.bad, ...shared });
      new TerraformOutput(this, 'collector_url', { value: this.collector.url, description: 'The collector: point trackers here' });
      new TerraformOutput(this, 'collector_ip', { value: this.collector.ipAddress, description: "The collector's global IP: the A record of its domains" });
    }
    if (props.pixelCollector) {
      this.pixelCollector = new CdnPixelCollector(this, 'pixel', { ...props.pixelCollector, rawTopic: this.topics.raw, ...shared });
      new TerraformOutput(this, 'pixel_endpoint', { value: this.pixelCollector.endpoint, description: 'The pixel collector (GET only)' });
      new TerraformOutput(this, 'pixel_ip', { value: this.pixelCollector.ipAddress, description: "The pixel collector's global IP" });
    }

    const hosting = props.trackerHosting ?? props.collector !== undefined;
    if (hosting === true) {
      if (!this.collector) throw new PropError(NAME, 'trackerHosting', "is true but there is no 'collector' to serve it from: pass { domains } to give it its own load balancer");
      this.tracker = new TrackerHosting(this, 'tracker', { collector: this.collector, ...shared });
    } else if (hosting) {
      this.tracker = new TrackerHosting(this, 'tracker', { domains: hosting.domains, ...shared });
    }
    if (this.tracker) new TerraformOutput(this, 'tracker_url', { value: this.tracker.trackerUrl, description: 'The web tracker (content-hashed, cache forever)' });
    new TerraformOutput(this, 'events_table', { value: this.warehouse.eventsTableSpec, description: 'The enriched events table' });

    if (props.monitoring !== false) {
      this.monitoring = new PipelineMonitoring(this, 'monitoring', {
        ...props.monitoring,
        // The pixel collector has load balancer metrics too, but no Cloud Armor policy of its own and no /health.
        collector: this.collector
          ? { urlMapName: this.collector.urlMap.name, securityPolicyName: this.collector.securityPolicy?.name, healthCheckHost: this.collector.domains[0] }
          : this.pixelCollector ? { urlMapName: this.pixelCollector.urlMap.name } : undefined,
        rawTopicName: this.topics.raw.name,
        enrichSubscriptionName: this.topics.enrichSubscription.name,
        otherSubscriptionNames: this.archive ? [this.archive.subscription.name] : [],
        // The serverless path writes BigQuery through these: alerted on when their backlog ages (an error state does not dead-letter).
        bigQuerySubscriptionNames: this.serverlessEnricher ? [this.serverlessEnricher.eventsSubscription.name, this.serverlessEnricher.badRowsSubscription.name] : [],
        enricher: this.serverlessEnricher
          ? MonitoredEnricher.serverless(this.serverlessEnricher.serviceName, this.serverlessEnricher.region)
          : MonitoredEnricher.dataflow(this.enricher!.job.name, props.region),
        eventsTable: this.warehouse.eventsTable,
        badRowsTables: [this.warehouse.deadLetterTable],
        ...shared,
      });
    }

    this.apis = props.enableApis === false ? [] : enableApis(this, 'apis', props.projectId, requiredApis(props));
    dependOnApis(this, this.apis);
  }
}

/** The services a pipeline with these props calls. */
export function requiredApis(props: ClickstreamPipelineProps): string[] {
  const serverless = props.enrichment?.kind === 'serverless';
  const apis = [
    'bigquery.googleapis.com', 'compute.googleapis.com', ...(serverless ? [] : ['dataflow.googleapis.com']), 'iam.googleapis.com',
    'logging.googleapis.com', 'pubsub.googleapis.com', 'storage.googleapis.com', 'cloudresourcemanager.googleapis.com',
  ];
  const kinds = new Set((props.collector?.backends ?? []).map((b) => b.kind));
  if (kinds.has('cloud-run') || kinds.has('cloud-functions') || serverless) apis.push('run.googleapis.com');
  if (serverless && props.replay) apis.push('dataflow.googleapis.com');
  if (kinds.has('cloud-functions')) apis.push('cloudfunctions.googleapis.com', 'cloudbuild.googleapis.com', 'artifactregistry.googleapis.com');
  // App Engine standard builds every deployed version with Cloud Build and keeps the image in Artifact Registry.
  if (kinds.has('app-engine')) apis.push('appengine.googleapis.com', 'cloudbuild.googleapis.com', 'artifactregistry.googleapis.com');
  // Workload Identity: the GKE metadata server mints the pods' tokens through the IAM Service Account Credentials API.
  if (kinds.has('gke')) apis.push('container.googleapis.com', 'iamcredentials.googleapis.com');
  if (props.replay) apis.push('datapipelines.googleapis.com', 'cloudscheduler.googleapis.com');
  if (props.warehouse?.kmsKeyName) apis.push('cloudkms.googleapis.com');
  if (props.monitoring !== false) apis.push('monitoring.googleapis.com');
  return apis;
}

function validate(props: ClickstreamPipelineProps): void {
  checkRegion(NAME, 'region', props.region, props.newRegions);
  if (props.projectId !== undefined) checkProjectId(NAME, 'projectId', props.projectId);
  if (!props.collector && !props.pixelCollector) {
    throw new PropError(NAME, 'collector', "or 'pixelCollector' must be given: events need a way in");
  }
  if (props.enrichment !== undefined && props.enricher !== undefined) {
    throw new PropError(NAME, 'enricher', "and 'enrichment' both configure the real-time enricher: put the Dataflow settings in Enrichment.dataflow({...})");
  }
  if (props.replay && props.archive === false) {
    throw new PropError(NAME, 'replay', "needs the raw archive, but 'archive' is false");
  }
}
