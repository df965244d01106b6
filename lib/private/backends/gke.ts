import { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { ComputeBackendServiceBackend } from '@cdktf/provider-google/lib/compute-backend-service';
import { ContainerCluster } from '@cdktf/provider-google/lib/container-cluster';
import { DataGoogleClientConfig } from '@cdktf/provider-google/lib/data-google-client-config';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member';
import { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { HorizontalPodAutoscalerV2 } from '@cdktf/provider-kubernetes/lib/horizontal-pod-autoscaler-v2';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { ServiceAccountV1 } from '@cdktf/provider-kubernetes/lib/service-account-v1';
import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import type { BoundCollectorBackend, CollectorBackendContext } from './types';
import { bootstrapCommand, bootstrapEnvironment } from '../collector-bootstrap';
import { COLLECTOR_PORT } from '../collector-network';
import { resourceName } from '../naming';
import { checkBounds, checkInteger, checkRegions, checkZone, PropError } from '../validate';
import { NewRegionsOption, REGION_ZONES } from '../regions';
import { NodeRuntime } from '../runtimes';
import { checkContainerRuntime, collectorBackendService, defaultNodeImage, healthCheck } from './common';

const NAME = 'CollectorBackend.gke';
const NAMESPACE = 'waymark';
const APP = 'waymark-collector';
const ZONE_LABEL = 'topology.kubernetes.io/zone';

export interface GkeBackendProps extends NewRegionsOption {
  /** Regions with an Autopilot cluster each. */
  readonly regions: readonly string[];
  /**
   * Zones per region the collector pods run in (pinned by node affinity, spread evenly by a topology spread
   * constraint); the standalone NEG of each of these zones joins the backend service. Required for a region
   * not in Waymark's zone table ({@link GKE_REGION_ZONES}).
   * @default the region's first `minReplicas` zones from {@link GKE_REGION_ZONES} (all of them when `minReplicas` is at least their number)
   */
  readonly zones?: Readonly<Record<string, readonly string[]>>;
  /** Fewest pods per region; at least one per zone, so every zone's NEG has endpoints. @default 3 */
  readonly minReplicas?: number;
  /** Most pods per region. @default 20 */
  readonly maxReplicas?: number;
  /** Target CPU utilisation (percent) of the HorizontalPodAutoscaler. @default 60 */
  readonly targetCpuPercent?: number;
  /** CPU request per pod. @default '500m' */
  readonly cpu?: string;
  /** Memory request per pod. @default '512Mi' */
  readonly memory?: string;
  /** Requests per second one pod serves, the load balancer's capacity figure. @default 1000 */
  readonly maxRatePerEndpoint?: number;
  /**
   * The Node.js runtime, from Waymark's runtime table (lib/private/runtimes.ts): picks the official
   * `node:<major>-bookworm-slim` image. A runtime past its Node.js end of life is refused.
   * @default 'nodejs24'
   */
  readonly runtime?: NodeRuntime;
  /** The Node container image the collector runs in, instead of the one `runtime` picks. @default the official image of `runtime` via Google's mirror (mirror.gcr.io) */
  readonly nodeImage?: string;
  /** Release channel of the clusters. @default 'REGULAR' */
  readonly releaseChannel?: 'RAPID' | 'REGULAR' | 'STABLE';
  /** Share of traffic when the collector has several backends. @default 100 */
  readonly weight?: number;
}

/**
 * The zones of the regions Waymark knows: the region table's (lib/private/regions.ts; not every region has zones a,
 * b and c: europe-west1 has b, c and d, us-central1 also has f). Other regions need the `zones` prop.
 */
export const GKE_REGION_ZONES: Readonly<Record<string, readonly string[]>> = REGION_ZONES;

const DEFAULT_MIN_REPLICAS = 3;

/**
 * The zones the collector runs in, in a region: the `zones` prop, else as many of the table's zones as there are
 * pods at the least (one pod per zone at least); undefined when the region is in neither.
 */
export function gkeZones(props: GkeBackendProps, region: string): readonly string[] | undefined {
  const min = props.minReplicas ?? DEFAULT_MIN_REPLICAS;
  return props.zones?.[region] ?? GKE_REGION_ZONES[region]?.slice(0, Math.max(1, min)).map((z) => `${region}-${z}`);
}

export function validateGke(props: GkeBackendProps): void {
  checkRegions(NAME, 'regions', props.regions, props.newRegions);
  checkContainerRuntime(NAME, props);
  checkBounds(NAME, 'minReplicas', props.minReplicas ?? DEFAULT_MIN_REPLICAS, 'maxReplicas', props.maxReplicas ?? 20, 1);
  checkInteger(NAME, 'targetCpuPercent', props.targetCpuPercent ?? 60, 10, 95);
  checkInteger(NAME, 'maxRatePerEndpoint', props.maxRatePerEndpoint ?? 1000, 1);
  checkInteger(NAME, 'weight', props.weight ?? 100, 0, 1000);
  for (const region of Object.keys(props.zones ?? {})) {
    if (!props.regions.includes(region)) throw new PropError(NAME, 'zones', `names region '${region}', which is not in 'regions'`);
    const zones = props.zones![region];
    if (zones.length === 0) throw new PropError(NAME, 'zones', `lists no zone for region '${region}'`);
    for (const zone of zones) {
      checkZone(NAME, 'zones', zone);
      if (!zone.startsWith(`${region}-`)) throw new PropError(NAME, 'zones', `lists zone '${zone}' under region '${region}'`);
      const known = REGION_ZONES[region];
      if (known !== undefined && !known.includes(zone.slice(region.length + 1))) {
        throw new PropError(NAME, 'zones', `lists zone '${zone}', which region '${region}' does not have (its zones: ${known.map((z) => `${region}-${z}`).join(', ')})`);
      }
    }
    if (new Set(zones).size !== zones.length) throw new PropError(NAME, 'zones', `lists a zone of region '${region}' twice`);
  }
  for (const region of props.regions) {
    const zones = gkeZones(props, region);
    if (!zones) {
      throw new PropError(NAME, 'zones', `must list the zones of region '${region}' (not in Waymark's zone table), as \`gcloud compute zones list --filter=region:${region}\` prints them: { '${region}': ['${region}-<zone>', ...] }`);
    }
    const min = props.minReplicas ?? DEFAULT_MIN_REPLICAS;
    if (min < zones.length) {
      throw new PropError(NAME, 'minReplicas', `(${min}) must be at least the number of zones of region '${region}' (${zones.length}): GKE creates a zone's NEG only where collector pods run`);
    }
  }
}

export function bindGke(scope: Construct, id: string, ctx: CollectorBackendContext, props: GkeBackendProps): BoundCollectorBackend {
  const self = new Construct(scope, id);
  const prefix = resourceName([ctx.namePrefix, 'gke'], 40);
  const network = ctx.network();
  const client = new DataGoogleClientConfig(self, 'client');
  const negName = resourceName([prefix, 'neg']);
  const environment: Record<string, string> = {
    // One collector process per usable core (the pod's CPU quota, if any: collector/README.md, multi-process mode).
    WAYMARK_WORKERS: 'auto',
    ...ctx.environment,
    PORT: String(COLLECTOR_PORT),
    ...bootstrapEnvironment(ctx.codeBucket.name, ctx.bundle.objectName),
  };
  const labels = { app: APP };

  const backends: ComputeBackendServiceBackend[] = [];
  const clusters: ContainerCluster[] = [];
  const workloads: Array<DeploymentV1 | ServiceV1> = [];
  for (const region of props.regions) {
    const zones = gkeZones(props, region)!;
    const cluster = new ContainerCluster(self, `cluster-${region}`, {
      name: resourceName([prefix, region], 40),
      location: region,
      enableAutopilot: true,
      network: network.network.id,
      subnetwork: network.subnet(region).id,
      ipAllocationPolicy: {},
      releaseChannel: { channel: props.releaseChannel ?? 'REGULAR' },
      resourceLabels: { ...ctx.labels },
      deletionProtection: false,
    });
    clusters.push(cluster);
    const k8s = new KubernetesProvider(self, `kubernetes-${region}`, {
      alias: `gke_${region.replace(/-/g, '_')}`,
      host: `https://${cluster.endpoint}`,
      token: client.accessToken,
      clusterCaCertificate: Fn.base64decode(cluster.masterAuth.clusterCaCertificate),
    });
    const namespace = new NamespaceV1(self, `namespace-${region}`, { provider: k8s, metadata: { name: NAMESPACE, labels: { ...ctx.labels } } });
    const account = new ServiceAccountV1(self, `ksa-${region}`, {
      provider: k8s,
      metadata: { name: APP, namespace: namespace.metadata.name, annotations: { 'iam.gke.io/gcp-service-account': ctx.serviceAccount.email } },
    });
    const deployment = new DeploymentV1(self, `deployment-${region}`, {
      provider: k8s,
      metadata: { name: APP, namespace: namespace.metadata.name, labels },
      spec: {
        selector: { matchLabels: labels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '0' } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: account.metadata.name,
            terminationGracePeriodSeconds: 30,
            // Pods run only in the zones whose NEGs the backend service uses, at least one in each (minDomains:
            // Autopilot adds nodes in a zone without any rather than stacking pods where nodes already are).
            // DoNotSchedule, not ScheduleAnyway: a zone without pods would have no NEG, and its backend would fail.
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerm: [{ matchExpressions: [{ key: ZONE_LABEL, operator: 'In', values: [...zones] }] }],
                },
              },
            },
            topologySpreadConstraint: [{
              maxSkew: 1,
              minDomains: zones.length,
              topologyKey: ZONE_LABEL,
              whenUnsatisfiable: 'DoNotSchedule',
              labelSelector: [{ matchLabels: labels }],
            }],
            container: [{
              name: 'collector',
              image: props.nodeImage ?? defaultNodeImage(checkContainerRuntime(NAME, props)),
              command: bootstrapCommand(),
              port: [{ containerPort: COLLECTOR_PORT, name: 'http' }],
              env: Object.keys(environment).sort().map((name) => ({ name, value: environment[name] })),
              resources: { requests: { cpu: props.cpu ?? '500m', memory: props.memory ?? '512Mi' } },
              readinessProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 5 },
              livenessProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 15, initialDelaySeconds: 20 },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: false, runAsNonRoot: true, runAsUser: '1000' },
            }],
          },
        },
      },
      // Apply waits until the pods are ready in their zones: by then the NEG controller has created the zones'
      // NEGs (it does so when the Service appears), which the backend service below refers to.
      waitForRollout: true,
    });
    const service = new ServiceV1(self, `service-${region}`, {
      provider: k8s,
      metadata: {
        name: APP,
        namespace: namespace.metadata.name,
        // A standalone NEG per zone, named so Terraform can find it and attach it to the global backend service.
        annotations: { 'cloud.google.com/neg': JSON.stringify({ exposed_ports: { [String(COLLECTOR_PORT)]: { name: negName } } }) },
      },
      spec: { type: 'ClusterIP', selector: labels, port: [{ name: 'http', port: COLLECTOR_PORT, targetPort: 'http' }] },
    });
    new HorizontalPodAutoscalerV2(self, `hpa-${region}`, {
      provider: k8s,
      metadata: { name: APP, namespace: namespace.metadata.name },
      spec: {
        minReplicas: props.minReplicas ?? DEFAULT_MIN_REPLICAS,
        maxReplicas: props.maxReplicas ?? 20,
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name },
        metric: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: props.targetCpuPercent ?? 60 } } }],
      },
    });
    // The NEGs are GKE's (named by the Service annotation), not Terraform's: referenced by their self link, so
    // nothing reads them at plan time (a data source would fail the first plan, before the clusters exist).
    for (const zone of zones) {
      backends.push({
        group: `https://www.googleapis.com/compute/v1/projects/${ctx.projectId}/zones/${zone}/networkEndpointGroups/${negName}`,
        balancingMode: 'RATE',
        maxRatePerEndpoint: props.maxRatePerEndpoint ?? 1000,
        capacityScaler: 1,
      });
    }
    workloads.push(deployment, service);
  }
  // Pods publish as the collector's own service account (Workload Identity). The project's workload identity
  // pool (<project>.svc.id.goog) exists only once the first cluster does: the grant waits for the clusters.
  new ServiceAccountIamMember(self, 'workload-identity', {
    serviceAccountId: ctx.serviceAccount.name,
    role: 'roles/iam.workloadIdentityUser',
    member: `serviceAccount:${ctx.projectId}.svc.id.goog[${NAMESPACE}/${APP}]`,
    dependsOn: clusters,
  });
  const hc = healthCheck(self, resourceName([prefix, 'hc']), {});
  const backendService = collectorBackendService(self, { name: resourceName([prefix, 'backend']), ctx, healthChecks: [hc.id], backends });
  // Created after the pods are ready (so the NEGs exist), destroyed before the Services (so GKE can delete them).
  backendService.dependsOn = [...(backendService.dependsOn ?? []), ...workloads.map((w) => `${w.terraformResourceType}.${w.friendlyUniqueId}`)];
  return { kind: 'gke', backendService, weight: props.weight ?? 100, regions: [...props.regions] };
}
