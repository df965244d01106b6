/**
 * The per-environment settings of the example deployment. Each environment becomes one stack and one
 * Terraform state; `cdktf deploy waymark-dev` or `cdktf deploy waymark-prod` deploys it.
 */
import { join } from 'node:path';

/**
 * The demo site's schemas (io.waymark.example/*), in Iglu layout: how you add your own schemas to a deployment.
 * Resolved from this file's folder, so synth works from any working directory.
 */
export const EXAMPLE_SCHEMAS_DIR = join(__dirname, 'schemas');

/** Where the collector runs: a GlobalCollector backend kind, or the Cloud CDN pixel. */
export type CollectorKind = 'cloud-run' | 'cloud-functions' | 'app-engine' | 'instance-groups' | 'gke' | 'cdn-pixel';

export interface EnvironmentConfig {
  /** Short name, used in the stack name (`waymark-<name>`) and in resource names. */
  readonly name: string;
  /** The Google Cloud project to deploy into. */
  readonly projectId: string;
  /** The region of the data side: Pub/Sub, Dataflow, buckets, BigQuery location. */
  readonly region: string;
  /** BigQuery dataset location (a region or multi-region such as `EU`/`US`). */
  readonly warehouseLocation: string;
  /** The collector topology. */
  readonly collector: CollectorKind;
  /** Regions the collector runs in, each behind the one global IP (App Engine: the first only). */
  readonly collectorRegions: readonly string[];
  /** Domains the collector answers on (managed certificates are issued for them). */
  readonly collectorDomains: readonly string[];
  /** Site domains whose pages send events: the collector's cookie domains and CORS origins. */
  readonly cookieDomains: readonly string[];
  /** Collector instances per region. */
  readonly collectorInstances: { readonly min: number; readonly max: number };
  /** Dataflow workers of the streaming enricher. */
  readonly enricherWorkers: { readonly max: number; readonly machineType: string };
  /**
   * The real-time enrichment path: `dataflow` (the streaming job; `enricherWorkers` apply) or `serverless` (Cloud Run
   * scaled to zero, Pub/Sub push, BigQuery subscriptions; no Dataflow job). Default `dataflow`.
   */
  readonly enrichment?: 'dataflow' | 'serverless';
  /** A period of the raw archive to replay (e.g. '2025-03-01'); no replay pipeline when absent. */
  readonly replayPeriod?: string;
  /** Labels put on every resource that takes labels. */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * Folders of your own Iglu schemas, merged with the built-ins: each MODEL gets its columns in the events table and
   * its validator in the enrichment. None: the built-in schemas only.
   */
  readonly schemaFolders?: readonly string[];
  /**
   * Cloud Armor on the collector (per-IP throttling); `false` leaves it out and saves its per-request fee, without
   * any per-IP limit (GlobalCollector's `cloudArmor`, docs/costs.md). Default true. No pixel topology: it has none.
   */
  readonly cloudArmor?: boolean;
  /** Protect data (buckets, dataset) from `terraform destroy`. */
  readonly deletionProtection: boolean;
  /**
   * App Engine topology: create the project's App Engine application (true: a fresh project), or use the one it
   * has (false). `WAYMARK_APPENGINE_EXISTING_APPLICATION=1` sets false for the `appengine` environment.
   */
  readonly createAppEngineApplication?: boolean;
  /** Addresses the pipeline's alerts are e-mailed to (one notification channel each). None: alerts show in the console only. */
  readonly alertEmails?: readonly string[];
  /**
   * The Dataflow template release the enrichment jobs launch from: a dated release such as '2025-10-01-00_RC00'
   * (pinned: a template upgrade is then a reviewed change, see docs/deploy.md), or 'latest'.
   */
  readonly templateVersion?: string;
}

const env = (name: string, fallback: string): string => process.env[name] || fallback;

export const ENVIRONMENTS: readonly EnvironmentConfig[] = [
  {
    name: 'dev',
    projectId: env('WAYMARK_DEV_PROJECT', 'waymark-dev'),
    region: 'europe-west1',
    collector: 'cloud-run',
    warehouseLocation: 'europe-west1',
    collectorRegions: ['europe-west1'],
    collectorDomains: ['c.dev.example.com'],
    cookieDomains: ['dev.example.com'],
    collectorInstances: { min: 1, max: 2 },
    enricherWorkers: { max: 1, machineType: 'n2-standard-2' },
    // No Dataflow job in dev: the serverless enricher costs nothing while nobody sends events.
    enrichment: 'serverless',
    labels: { app: 'waymark', env: 'dev' },
    deletionProtection: false,
    // The demo site's events (examples/demo, `npm start`) validate here too.
    schemaFolders: [EXAMPLE_SCHEMAS_DIR],
  },
  {
    name: 'prod',
    projectId: env('WAYMARK_PROD_PROJECT', 'waymark-prod'),
    region: 'us-central1',
    collector: 'instance-groups',
    warehouseLocation: 'US',
    collectorRegions: ['us-central1', 'europe-west1', 'asia-southeast1'],
    collectorDomains: ['c.example.com'],
    cookieDomains: ['example.com', 'example.org'],
    collectorInstances: { min: 2, max: 20 },
    enricherWorkers: { max: 10, machineType: 'n2-standard-4' },
    labels: { app: 'waymark', env: 'prod' },
    deletionProtection: true,
    alertEmails: [env('WAYMARK_PROD_ALERT_EMAIL', 'oncall@example.com')],
    // A dated release of Google's templates, not 'latest': every job update (a new UDF) would otherwise launch the
    // replacement job from whatever 'latest' is that day (docs/deploy.md, "Template releases").
    templateVersion: '2025-10-01-00_RC00',
  },
  // The other topologies, each a stack of its own so every one of them synthesizes and can be tried out.
  {
    name: 'gke',
    projectId: env('WAYMARK_GKE_PROJECT', 'waymark-gke'),
    region: 'us-central1',
    collector: 'gke',
    warehouseLocation: 'US',
    collectorRegions: ['us-central1', 'europe-west1'],
    collectorDomains: ['c.gke.example.com'],
    cookieDomains: ['example.com'],
    collectorInstances: { min: 3, max: 30 },
    enricherWorkers: { max: 3, machineType: 'n2-standard-2' },
    replayPeriod: '2025-03-01',
    labels: { app: 'waymark', env: 'gke' },
    deletionProtection: true,
  },
  {
    name: 'functions',
    projectId: env('WAYMARK_FUNCTIONS_PROJECT', 'waymark-functions'),
    region: 'europe-west1',
    collector: 'cloud-functions',
    warehouseLocation: 'EU',
    collectorRegions: ['europe-west1', 'europe-north1'],
    collectorDomains: ['c.functions.example.com'],
    cookieDomains: ['example.com'],
    collectorInstances: { min: 0, max: 50 },
    enricherWorkers: { max: 2, machineType: 'n2-standard-2' },
    labels: { app: 'waymark', env: 'functions' },
    deletionProtection: false,
  },
  {
    name: 'appengine',
    projectId: env('WAYMARK_APPENGINE_PROJECT', 'waymark-appengine'),
    region: 'us-central1',
    collector: 'app-engine',
    warehouseLocation: 'US',
    collectorRegions: ['us-central1'],
    collectorDomains: ['c.appengine.example.com'],
    cookieDomains: ['example.com'],
    collectorInstances: { min: 0, max: 20 },
    enricherWorkers: { max: 2, machineType: 'n2-standard-2' },
    labels: { app: 'waymark', env: 'appengine' },
    deletionProtection: false,
    // A fresh project has no App Engine application: the stack creates it (in us-central1, for good).
    createAppEngineApplication: process.env.WAYMARK_APPENGINE_EXISTING_APPLICATION !== '1',
  },
  {
    name: 'pixel',
    projectId: env('WAYMARK_PIXEL_PROJECT', 'waymark-pixel'),
    region: 'us-central1',
    collector: 'cdn-pixel',
    warehouseLocation: 'US',
    collectorRegions: [],
    collectorDomains: ['p.example.com'],
    cookieDomains: [],
    collectorInstances: { min: 0, max: 0 },
    enricherWorkers: { max: 2, machineType: 'n2-standard-2' },
    labels: { app: 'waymark', env: 'pixel' },
    deletionProtection: false,
  },
];
