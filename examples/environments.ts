/**
 * The per-environment settings of the example deployment. Each environment becomes one stack and one
 * Terraform state; `cdktf deploy waymark-dev` or `cdktf deploy waymark-prod` deploys it.
 */
export interface EnvironmentConfig {
  /** Short name, used in the stack name (`waymark-<name>`) and in resource names. */
  readonly name: string;
  /** The Google Cloud project to deploy into. */
  readonly projectId: string;
  /** The region of the data side: Pub/Sub, Dataflow, buckets, BigQuery location. */
  readonly region: string;
  /** BigQuery dataset location (a region or multi-region such as `EU`/`US`). */
  readonly warehouseLocation: string;
  /** Regions the collector runs in, each behind the one global IP. */
  readonly collectorRegions: readonly string[];
  /** Domains the collector answers on (managed certificates are issued for them). */
  readonly collectorDomains: readonly string[];
  /** Site domains whose pages send events: the collector's cookie domains and CORS origins. */
  readonly cookieDomains: readonly string[];
  /** Collector instances per region. */
  readonly collectorInstances: { readonly min: number; readonly max: number };
  /** Dataflow workers of the streaming enricher. */
  readonly enricherWorkers: { readonly max: number; readonly machineType: string };
  /** Labels put on every resource that takes labels. */
  readonly labels: Readonly<Record<string, string>>;
  /** Protect data (buckets, dataset) from `terraform destroy`. */
  readonly deletionProtection: boolean;
}

const env = (name: string, fallback: string): string => process.env[name] || fallback;

export const ENVIRONMENTS: readonly EnvironmentConfig[] = [
  {
    name: 'dev',
    projectId: env('WAYMARK_DEV_PROJECT', 'waymark-dev'),
    region: 'europe-west1',
    warehouseLocation: 'europe-west1',
    collectorRegions: ['europe-west1'],
    collectorDomains: ['c.dev.example.com'],
    cookieDomains: ['dev.example.com'],
    collectorInstances: { min: 1, max: 2 },
    enricherWorkers: { max: 1, machineType: 'n2-standard-2' },
    labels: { app: 'waymark', env: 'dev' },
    deletionProtection: false,
  },
  {
    name: 'prod',
    projectId: env('WAYMARK_PROD_PROJECT', 'waymark-prod'),
    region: 'us-central1',
    warehouseLocation: 'US',
    collectorRegions: ['us-central1', 'europe-west1', 'asia-southeast1'],
    collectorDomains: ['c.example.com'],
    cookieDomains: ['example.com', 'example.org'],
    collectorInstances: { min: 2, max: 20 },
    enricherWorkers: { max: 10, machineType: 'n2-standard-4' },
    labels: { app: 'waymark', env: 'prod' },
    deletionProtection: true,
  },
];
