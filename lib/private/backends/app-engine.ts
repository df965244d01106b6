import { Construct } from 'constructs';
import { AppEngineApplication } from '@cdktf/provider-google/lib/app-engine-application';
import { AppEngineServiceNetworkSettings } from '@cdktf/provider-google/lib/app-engine-service-network-settings';
import { AppEngineServiceSplitTraffic } from '@cdktf/provider-google/lib/app-engine-service-split-traffic';
import { AppEngineStandardAppVersion } from '@cdktf/provider-google/lib/app-engine-standard-app-version';
import { ComputeRegionNetworkEndpointGroup } from '@cdktf/provider-google/lib/compute-region-network-endpoint-group';
import type { BoundCollectorBackend, CollectorBackendContext } from './types';
import { resourceName } from '../naming';
import { checkBounds, checkInteger, checkNumber, checkRegion, PropError } from '../validate';
import type { NewRegionsOption } from '../regions';
import { checkRuntime, NodeRuntime } from '../runtimes';
import { collectorBackendService } from './common';

const NAME = 'CollectorBackend.appEngine';

export interface AppEngineBackendProps extends NewRegionsOption {
  /**
   * The region of the project's App Engine application. App Engine runs in one region per project, so this
   * backend serves one region; combine it with another backend kind for more.
   */
  readonly region: string;
  /**
   * Whether to create the project's App Engine application in {@link region}: `true` on a project without one (a
   * fresh project), `false` when it has one already (`gcloud app describe --project <id>` shows it). A project has
   * at most one application, and it can never be deleted or moved, so there is no default: a wrong guess fails the
   * first apply (no application to deploy to, or one that already exists).
   */
  readonly createApplication: boolean;
  /** The App Engine service. A project's first service must be `default`. @default 'default' */
  readonly service?: string;
  /** Instance class. @default 'F2' */
  readonly instanceClass?: string;
  /** Fewest instances. @default 0 */
  readonly minInstances?: number;
  /** Most instances. @default 20 */
  readonly maxInstances?: number;
  /** Target CPU utilisation (0.5-0.95). @default 0.65 */
  readonly targetCpuUtilization?: number;
  /** Share of traffic when the collector has several backends. @default 100 */
  readonly weight?: number;
  /**
   * The App Engine standard Node.js runtime, from Waymark's runtime table (lib/private/runtimes.ts). A runtime
   * past its end of support (no more deploys) is refused.
   * @default 'nodejs24'
   */
  readonly runtime?: NodeRuntime;
}

export function validateAppEngine(props: AppEngineBackendProps): void {
  checkRegion(NAME, 'region', props.region, props.newRegions);
  if (typeof props.createApplication !== 'boolean') {
    throw new PropError(NAME, 'createApplication', "is required: true creates the project's App Engine application in 'region' (a fresh project has none, and a version cannot be deployed without one), false uses the project's existing application (`gcloud app describe` shows it); an application can never be deleted or moved");
  }
  checkRuntime(NAME, 'runtime', 'app-engine', props.runtime);
  checkBounds(NAME, 'minInstances', props.minInstances ?? 0, 'maxInstances', props.maxInstances ?? 20);
  checkNumber(NAME, 'targetCpuUtilization', props.targetCpuUtilization ?? 0.65, 0.5, 0.95);
  checkInteger(NAME, 'weight', props.weight ?? 100, 0, 1000);
  if (props.service !== undefined && !/^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/.test(props.service)) {
    throw new PropError(NAME, 'service', `must be an App Engine service name (lower-case letters, digits, hyphens), got '${props.service}'`);
  }
  if (props.instanceClass !== undefined && !/^F(1|2|4|4_1G)$/.test(props.instanceClass)) {
    throw new PropError(NAME, 'instanceClass', `must be an automatic-scaling instance class (F1, F2, F4, F4_1G), got '${props.instanceClass}'`);
  }
}

/** App Engine location ids drop the trailing `1` of two regions (`us-central`, `europe-west`). */
export function appEngineLocation(region: string): string {
  return region === 'us-central1' || region === 'europe-west1' ? region.slice(0, -1) : region;
}

export function bindAppEngine(scope: Construct, id: string, ctx: CollectorBackendContext, props: AppEngineBackendProps): BoundCollectorBackend {
  const self = new Construct(scope, id);
  const prefix = resourceName([ctx.namePrefix, 'gae'], 40);
  const service = props.service ?? 'default';
  const application = props.createApplication
    ? new AppEngineApplication(self, 'application', { project: ctx.projectId, locationId: appEngineLocation(props.region) })
    : undefined;
  // The version follows the bundle: a new bundle deploys a new version, the split below moves all traffic to it,
  // and only then is the previous version deleted (create before destroy; App Engine refuses to delete a version
  // that still has traffic). Versions created through the API get no traffic by themselves.
  const versionId = `w-${ctx.zip.hash}`;
  const version = new AppEngineStandardAppVersion(self, 'version', {
    service,
    versionId,
    runtime: checkRuntime(NAME, 'runtime', 'app-engine', props.runtime),
    entrypoint: { shell: 'node index.js' },
    deployment: { zip: { sourceUrl: `https://storage.googleapis.com/${ctx.codeBucket.name}/${ctx.zip.objectName}` } },
    // Standard instances get CPU only while serving a request: answer once the sink has the events.
    envVariables: { WAYMARK_ACK_MODE: 'delivered', WAYMARK_WORKERS: '1', ...ctx.environment },
    serviceAccount: ctx.serviceAccount.email,
    instanceClass: props.instanceClass ?? 'F2',
    automaticScaling: {
      maxConcurrentRequests: 80,
      standardSchedulerSettings: {
        minInstances: props.minInstances ?? 0,
        maxInstances: props.maxInstances ?? 20,
        targetCpuUtilization: props.targetCpuUtilization ?? 0.65,
      },
    },
    noopOnDestroy: false,
    deleteServiceOnDestroy: false,
    // The version's service account (the collector's) is what reads the zip from the private code bucket.
    dependsOn: [...(application ? [application] : []), ctx.codeReadGrant],
    lifecycle: { createBeforeDestroy: true },
  });
  new AppEngineServiceSplitTraffic(self, 'traffic', {
    service: version.service,
    // migrate_traffic needs warmup requests; an immediate switch suits a stateless collector.
    migrateTraffic: false,
    // The key is the literal version id (known at synth time); depends_on orders the split after the version.
    split: { shardBy: 'IP', allocations: { [versionId]: '1' } },
    dependsOn: [version],
  });
  new AppEngineServiceNetworkSettings(self, 'ingress', {
    service: version.service,
    networkSettings: { ingressTrafficAllowed: 'INGRESS_TRAFFIC_ALLOWED_INTERNAL_AND_LB' },
  });
  const neg = new ComputeRegionNetworkEndpointGroup(self, 'neg', {
    name: resourceName([prefix, props.region, 'neg']),
    region: props.region,
    networkEndpointType: 'SERVERLESS',
    appEngine: { service: version.service },
  });
  const backendService = collectorBackendService(self, { name: resourceName([prefix, 'backend']), ctx, backends: [{ group: neg.id }] });
  return { kind: 'app-engine', backendService, weight: props.weight ?? 100, regions: [props.region] };
}
