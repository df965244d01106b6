import { Construct } from 'constructs';
import { CloudRunV2Service } from '@cdktf/provider-google/lib/cloud-run-v2-service';
import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member';
import { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function';
import { ComputeBackendServiceBackend } from '@cdktf/provider-google/lib/compute-backend-service';
import { ComputeRegionNetworkEndpointGroup } from '@cdktf/provider-google/lib/compute-region-network-endpoint-group';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import type { BoundCollectorBackend, CollectorBackendContext } from './types';
import { bootstrapCommand, bootstrapEnvironment } from '../collector-bootstrap';
import { resourceName } from '../naming';
import { checkBounds, checkInteger, checkRegions, PropError } from '../validate';
import type { NewRegionsOption } from '../regions';
import { checkRuntime, NodeRuntime } from '../runtimes';
import { checkContainerRuntime, cloudRunImageProblem, cloudRunNodeImage, collectorBackendService } from './common';

/** The handler the collector bundle exports for Cloud Functions gen2 (and the Functions Framework). */
export const FUNCTION_ENTRY_POINT = 'collect';

interface ServerlessProps extends NewRegionsOption {
  /** Regions with a service each. */
  readonly regions: readonly string[];
  /** Instances kept warm per region (0 scales to zero). @default 0 */
  readonly minInstances?: number;
  /** Most instances per region. @default 100 */
  readonly maxInstances?: number;
  /** Requests one instance serves at once. @default 250 */
  readonly concurrency?: number;
  /** Memory per instance, e.g. '512Mi'. @default '512Mi' */
  readonly memory?: string;
  /** CPUs per instance. @default '1' */
  readonly cpu?: string;
  /** Share of traffic when the collector has several backends. @default 100 */
  readonly weight?: number;
  /**
   * The Node.js runtime, from Waymark's runtime table (lib/private/runtimes.ts): a Cloud Run functions runtime id,
   * or for Cloud Run the official `node:<major>-bookworm-slim` image. A runtime past its decommission date is refused.
   * @default 'nodejs24'
   */
  readonly runtime?: NodeRuntime;
}

export interface CloudRunBackendProps extends ServerlessProps {
  /**
   * The Node container image the collector runs in, instead of the one `runtime` picks: from Artifact Registry,
   * gcr.io, Docker Hub or ghcr.io (the registries Cloud Run deploys from).
   * @default 'docker.io/library/node:24-bookworm-slim' (the official image of `runtime`, from Docker Hub)
   */
  readonly nodeImage?: string;
}

export type CloudFunctionsBackendProps = ServerlessProps;

function validateServerless(name: string, props: ServerlessProps): void {
  checkRegions(name, 'regions', props.regions, props.newRegions);
  checkBounds(name, 'minInstances', props.minInstances ?? 0, 'maxInstances', props.maxInstances ?? 100);
  checkInteger(name, 'maxInstances', props.maxInstances ?? 100, 1, 1000);
  checkInteger(name, 'concurrency', props.concurrency ?? 250, 1, 1000);
  checkInteger(name, 'weight', props.weight ?? 100, 0, 1000);
  if (props.memory !== undefined && !/^[0-9]+(Mi|Gi)$/.test(props.memory)) {
    throw new PropError(name, 'memory', `must be a size such as '512Mi' or '1Gi', got '${props.memory}'`);
  }
  if (props.cpu !== undefined && !/^([0-9]+(\.[0-9]+)?|[0-9]+m)$/.test(props.cpu)) {
    throw new PropError(name, 'cpu', `must be a CPU count such as '1', '0.5' or '500m', got '${props.cpu}'`);
  }
}

export function validateCloudRun(props: CloudRunBackendProps): void {
  validateServerless('CollectorBackend.cloudRun', props);
  checkContainerRuntime('CollectorBackend.cloudRun', props);
  const problem = props.nodeImage === undefined ? undefined : cloudRunImageProblem(props.nodeImage);
  if (problem) throw new PropError('CollectorBackend.cloudRun', 'nodeImage', problem);
}

export function validateCloudFunctions(props: CloudFunctionsBackendProps): void {
  validateServerless('CollectorBackend.cloudFunctions', props);
  checkRuntime('CollectorBackend.cloudFunctions', 'runtime', 'cloud-functions', props.runtime);
}

/** Serverless NEGs are reached by the load balancer without credentials: the one public invoker grant. */
function invoker(scope: Construct, id: string, service: string, region: string): CloudRunV2ServiceIamMember {
  return new CloudRunV2ServiceIamMember(scope, id, { name: service, location: region, role: 'roles/run.invoker', member: 'allUsers' });
}

function serverlessNeg(scope: Construct, region: string, name: string, target: { cloudRun?: { service: string } }): ComputeRegionNetworkEndpointGroup {
  return new ComputeRegionNetworkEndpointGroup(scope, `neg-${region}`, {
    name,
    region,
    networkEndpointType: 'SERVERLESS',
    ...target,
  });
}

export function bindCloudRun(scope: Construct, id: string, ctx: CollectorBackendContext, props: CloudRunBackendProps): BoundCollectorBackend {
  const self = new Construct(scope, id);
  const prefix = resourceName([ctx.namePrefix, 'run'], 40);
  const environment: Record<string, string> = {
    // CPU is allocated only while a request is served (cpuIdle), so answer once the sink has the events.
    WAYMARK_ACK_MODE: 'delivered',
    // One collector process: Cloud Run scales by instances (collector/README.md, multi-process mode).
    WAYMARK_WORKERS: '1',
    ...ctx.environment,
    ...bootstrapEnvironment(ctx.codeBucket.name, ctx.bundle.objectName),
  };
  const backends: ComputeBackendServiceBackend[] = [];
  for (const region of props.regions) {
    const service = new CloudRunV2Service(self, `service-${region}`, {
      name: resourceName([prefix, region]),
      location: region,
      ingress: 'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER',
      deletionProtection: false,
      labels: { ...ctx.labels },
      template: {
        serviceAccount: ctx.serviceAccount.email,
        scaling: { minInstanceCount: props.minInstances ?? 0, maxInstanceCount: props.maxInstances ?? 100 },
        maxInstanceRequestConcurrency: props.concurrency ?? 250,
        timeout: '30s',
        labels: { ...ctx.labels },
        containers: [{
          image: props.nodeImage ?? cloudRunNodeImage(checkContainerRuntime('CollectorBackend.cloudRun', props)),
          command: bootstrapCommand(),
          ports: { containerPort: 8080, name: 'http1' },
          env: Object.keys(environment).sort().map((name) => ({ name, value: environment[name] })),
          resources: { limits: { cpu: props.cpu ?? '1', memory: props.memory ?? '512Mi' }, cpuIdle: true, startupCpuBoost: true },
          startupProbe: { httpGet: { path: '/health' }, periodSeconds: 2, failureThreshold: 30, timeoutSeconds: 2 },
          livenessProbe: { httpGet: { path: '/health' }, periodSeconds: 30 },
        }],
      },
    });
    invoker(self, `invoker-${region}`, service.name, region);
    const neg = serverlessNeg(self, region, resourceName([prefix, region, 'neg']), { cloudRun: { service: service.name } });
    backends.push({ group: neg.id });
  }
  const backendService = collectorBackendService(self, { name: resourceName([prefix, 'backend']), ctx, backends });
  return { kind: 'cloud-run', backendService, weight: props.weight ?? 100, regions: [...props.regions] };
}

/**
 * Google's documented role for the account Cloud Build builds functions as: writes build logs and the image
 * (Artifact Registry), reads the function source.
 */
export const FUNCTION_BUILD_ROLES = ['roles/run.builder'];

export function bindCloudFunctions(scope: Construct, id: string, ctx: CollectorBackendContext, props: CloudFunctionsBackendProps): BoundCollectorBackend {
  const self = new Construct(scope, id);
  const prefix = resourceName([ctx.namePrefix, 'fn'], 40);
  // Builds run as an account of their own: the default (Compute Engine) account may lack the roles, or be
  // disabled by policy, and cannot read the private code bucket anyway.
  const buildAccount = new ServiceAccount(self, 'build-account', {
    // A second Cloud Functions backend of the same collector is bound as 'cloud-functions-2': 'build-2'.
    accountId: resourceName([ctx.namePrefix, 'build', ...(/-(\d+)$/.exec(id)?.slice(1) ?? [])], 30),
    displayName: 'Waymark collector function builds',
    description: 'Cloud Build builds the collector function as this account',
  });
  const buildGrants = [
    ...FUNCTION_BUILD_ROLES.map((role) => new ProjectIamMember(self, `build-${role.split('/')[1]}`, { project: ctx.projectId, role, member: buildAccount.member })),
    new StorageBucketIamMember(self, 'build-read-code', { bucket: ctx.codeBucket.name, role: 'roles/storage.objectViewer', member: buildAccount.member }),
  ];
  const backends: ComputeBackendServiceBackend[] = [];
  for (const region of props.regions) {
    const fn = new Cloudfunctions2Function(self, `function-${region}`, {
      name: resourceName([prefix, region]),
      location: region,
      labels: { ...ctx.labels },
      buildConfig: {
        runtime: checkRuntime('CollectorBackend.cloudFunctions', 'runtime', 'cloud-functions', props.runtime),
        entryPoint: FUNCTION_ENTRY_POINT,
        source: { storageSource: { bucket: ctx.codeBucket.name, object: ctx.zip.objectName } },
        serviceAccount: buildAccount.id,
      },
      serviceConfig: {
        serviceAccountEmail: ctx.serviceAccount.email,
        ingressSettings: 'ALLOW_INTERNAL_AND_GCLB',
        minInstanceCount: props.minInstances ?? 0,
        maxInstanceCount: props.maxInstances ?? 100,
        maxInstanceRequestConcurrency: props.concurrency ?? 250,
        availableMemory: props.memory ?? '512Mi',
        availableCpu: props.cpu ?? '1',
        timeoutSeconds: 30,
        environmentVariables: { ...ctx.environment },
        allTrafficOnLatestRevision: true,
      },
      dependsOn: buildGrants,
    });
    // A gen2 function is a Cloud Run service of the same name: the NEG and the invoker grant address it so.
    invoker(self, `invoker-${region}`, fn.name, region);
    const neg = serverlessNeg(self, region, resourceName([prefix, region, 'neg']), { cloudRun: { service: fn.name } });
    backends.push({ group: neg.id });
  }
  const backendService = collectorBackendService(self, { name: resourceName([prefix, 'backend']), ctx, backends });
  return { kind: 'cloud-functions', backendService, weight: props.weight ?? 100, regions: [...props.regions] };
}
