import { Construct } from 'constructs';
import { ComputeBackendService, ComputeBackendServiceBackend } from '@cdktf/provider-google/lib/compute-backend-service';
import { ComputeHealthCheck } from '@cdktf/provider-google/lib/compute-health-check';
import { ComputeRegionAutoscaler } from '@cdktf/provider-google/lib/compute-region-autoscaler';
import { ComputeRegionInstanceGroupManager } from '@cdktf/provider-google/lib/compute-region-instance-group-manager';
import { ComputeRegionInstanceTemplate } from '@cdktf/provider-google/lib/compute-region-instance-template';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import type { BoundCollectorBackend, CollectorBackendContext } from './types';
import { BOOTSTRAP_ENV, BUNDLE_FILE, bootstrapEnvironment } from '../collector-bootstrap';
import { COLLECTOR_PORT, COLLECTOR_TAG } from '../collector-network';
import { resourceName } from '../naming';
import { checkBounds, checkInteger, checkNumber, checkRegions, PropError } from '../validate';
import type { NewRegionsOption } from '../regions';
import { NodeRuntime } from '../runtimes';
import { checkContainerRuntime, collectorBackendService, defaultNodeImage, healthCheck } from './common';

const NAME = 'CollectorBackend.instanceGroups';

export interface InstanceGroupsBackendProps extends NewRegionsOption {
  /** Regions with a managed instance group each. */
  readonly regions: readonly string[];
  /** Machine type of the VMs. @default 'e2-small' */
  readonly machineType?: string;
  /** Fewest VMs per region. @default 1 */
  readonly minReplicas?: number;
  /** Most VMs per region. @default 10 */
  readonly maxReplicas?: number;
  /** What the autoscaler follows: CPU utilisation or load-balancer serving capacity. @default 'cpu' */
  readonly autoscaleOn?: 'cpu' | 'load-balancer';
  /** Target utilisation (0-1) of the chosen signal. @default 0.6 */
  readonly targetUtilization?: number;
  /** Requests per second one VM serves, the load balancer's capacity figure. @default 2000 */
  readonly maxRatePerInstance?: number;
  /**
   * The Node.js runtime, from Waymark's runtime table (lib/private/runtimes.ts): picks the official
   * `node:<major>-bookworm-slim` image. A runtime past its Node.js end of life is refused.
   * @default 'nodejs24'
   */
  readonly runtime?: NodeRuntime;
  /** The Node container image the collector runs in, instead of the one `runtime` picks. @default the official image of `runtime` via Google's mirror (mirror.gcr.io) */
  readonly nodeImage?: string;
  /** Boot disk size in GB. @default 10 */
  readonly diskSizeGb?: number;
  /** Share of traffic when the collector has several backends. @default 100 */
  readonly weight?: number;
}

export function validateInstanceGroups(props: InstanceGroupsBackendProps): void {
  checkRegions(NAME, 'regions', props.regions, props.newRegions);
  checkContainerRuntime(NAME, props);
  checkBounds(NAME, 'minReplicas', props.minReplicas ?? 1, 'maxReplicas', props.maxReplicas ?? 10, 1);
  checkInteger(NAME, 'maxReplicas', props.maxReplicas ?? 10, 1, 1000);
  checkNumber(NAME, 'targetUtilization', props.targetUtilization ?? 0.6, 0.1, 0.95);
  checkInteger(NAME, 'maxRatePerInstance', props.maxRatePerInstance ?? 2000, 1);
  checkInteger(NAME, 'diskSizeGb', props.diskSizeGb ?? 10, 10, 1000);
  checkInteger(NAME, 'weight', props.weight ?? 100, 0, 1000);
  if (props.machineType !== undefined && !/^[a-z0-9]+-[a-z0-9-]+$/.test(props.machineType)) {
    throw new PropError(NAME, 'machineType', `must be a machine type such as 'e2-small', got '${props.machineType}'`);
  }
}

/**
 * The VM's startup script. Container-Optimized OS has Docker but no Node; the script runs the stock Node
 * image with the collector's environment, and the bootstrap fetches the bundle named in it. The script's text
 * (and so the instance template) changes with every new bundle, which rolls the groups forward.
 */
export function startupScript(image: string, environment: Readonly<Record<string, string>>): string {
  const lines = Object.keys(environment)
    .sort()
    .filter((key) => key !== BOOTSTRAP_ENV.script)
    .map((key) => {
      // Docker env files take values literally, one per line.
      if (/[\r\n]/.test(environment[key])) throw new Error(`${NAME}: the collector setting ${key} must not contain a line break`);
      return `${key}=${environment[key]}`;
    });
  // The env file keeps values on one line each; the bootstrap program is passed through a file of its own.
  const script = environment[BOOTSTRAP_ENV.script] ?? '';
  return [
    '#!/bin/bash',
    '# Waymark collector: runs the collector bundle in a stock Node container (managed by Terraform).',
    'set -euo pipefail',
    'mkdir -p /var/lib/waymark',
    "cat > /var/lib/waymark/collector.env <<'WAYMARK_ENV'",
    ...lines,
    'WAYMARK_ENV',
    "cat > /var/lib/waymark/bootstrap.js <<'WAYMARK_BOOTSTRAP'",
    script,
    'WAYMARK_BOOTSTRAP',
    'docker rm -f waymark-collector >/dev/null 2>&1 || true',
    'docker run -d --name waymark-collector --restart=always --network=host --log-driver=gcplogs \\',
    '  --env-file /var/lib/waymark/collector.env -v /var/lib/waymark/bootstrap.js:/bootstrap.js:ro \\',
    `  ${image} sh -c 'node /bootstrap.js && exec node ${BUNDLE_FILE}'`,
    '',
  ].join('\n');
}

export function bindInstanceGroups(scope: Construct, id: string, ctx: CollectorBackendContext, props: InstanceGroupsBackendProps): BoundCollectorBackend {
  const self = new Construct(scope, id);
  const prefix = resourceName([ctx.namePrefix, 'ig'], 40);
  const network = ctx.network();
  const image = props.nodeImage ?? defaultNodeImage(checkContainerRuntime(NAME, props));
  const environment = {
    // One collector process per core of the VM (collector/README.md, multi-process mode).
    WAYMARK_WORKERS: 'auto',
    ...ctx.environment,
    PORT: String(COLLECTOR_PORT),
    ...bootstrapEnvironment(ctx.codeBucket.name, ctx.bundle.objectName),
  };
  const hc = healthCheck(self, `${prefix}-hc`, { port: COLLECTOR_PORT });
  const autohealCheck = new ComputeHealthCheck(self, 'autoheal-check', {
    name: resourceName([prefix, 'autoheal']),
    checkIntervalSec: 10,
    timeoutSec: 5,
    healthyThreshold: 2,
    unhealthyThreshold: 3,
    httpHealthCheck: { port: COLLECTOR_PORT, requestPath: '/health' },
  });

  // VMs write their container logs and metrics: the only project-level roles the collector account gets.
  for (const role of ['roles/logging.logWriter', 'roles/monitoring.metricWriter']) {
    new ProjectIamMember(self, `sa-${role.split('/')[1]}`, { project: ctx.projectId, role, member: ctx.serviceAccount.member });
  }

  const backends: ComputeBackendServiceBackend[] = [];
  for (const region of props.regions) {
    const template = new ComputeRegionInstanceTemplate(self, `template-${region}`, {
      namePrefix: `${resourceName([prefix, region], 37)}-`,
      region,
      machineType: props.machineType ?? 'e2-small',
      tags: [COLLECTOR_TAG],
      labels: { ...ctx.labels },
      disk: [{ sourceImage: 'cos-cloud/cos-stable', autoDelete: true, boot: true, diskSizeGb: props.diskSizeGb ?? 10, diskType: 'pd-balanced', labels: { ...ctx.labels } }],
      networkInterface: [{ network: network.network.id, subnetwork: network.subnet(region).id }],
      serviceAccount: { email: ctx.serviceAccount.email, scopes: ['cloud-platform'] },
      shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
      metadata: {
        'startup-script': startupScript(image, environment),
        'google-logging-enabled': 'true',
        'google-monitoring-enabled': 'true',
        'enable-oslogin': 'TRUE',
        'block-project-ssh-keys': 'TRUE',
      },
      scheduling: { automaticRestart: true, onHostMaintenance: 'MIGRATE' },
      lifecycle: { createBeforeDestroy: true },
    });
    const group = new ComputeRegionInstanceGroupManager(self, `group-${region}`, {
      name: resourceName([prefix, region]),
      region,
      baseInstanceName: resourceName([prefix], 40),
      version: [{ name: 'collector', instanceTemplate: template.selfLink }],
      namedPort: [{ name: 'http', port: COLLECTOR_PORT }],
      autoHealingPolicies: { healthCheck: autohealCheck.id, initialDelaySec: 180 },
      // A new bundle means a new template: replace VMs proactively, one surge per zone, never below capacity.
      updatePolicy: {
        type: 'PROACTIVE',
        minimalAction: 'REPLACE',
        instanceRedistributionType: 'PROACTIVE',
        maxSurgeFixed: 3,
        maxUnavailableFixed: 0,
        replacementMethod: 'SUBSTITUTE',
      },
      waitForInstances: false,
    });
    const autoscalingPolicy = props.autoscaleOn === 'load-balancer'
      ? { loadBalancingUtilization: { target: props.targetUtilization ?? 0.6 } }
      : { cpuUtilization: { target: props.targetUtilization ?? 0.6 } };
    new ComputeRegionAutoscaler(self, `autoscaler-${region}`, {
      name: resourceName([prefix, region, 'as']),
      region,
      target: group.id,
      autoscalingPolicy: {
        minReplicas: props.minReplicas ?? 1,
        maxReplicas: props.maxReplicas ?? 10,
        cooldownPeriod: 90,
        mode: 'ON',
        ...autoscalingPolicy,
      },
    });
    backends.push({
      group: group.instanceGroup,
      balancingMode: 'RATE',
      maxRatePerInstance: props.maxRatePerInstance ?? 2000,
      capacityScaler: 1,
    });
  }

  const backendService: ComputeBackendService = collectorBackendService(self, {
    name: resourceName([prefix, 'backend']),
    ctx,
    healthChecks: [hc.id],
    portName: 'http',
    backends,
  });
  return { kind: 'instance-groups', backendService, weight: props.weight ?? 100, regions: [...props.regions] };
}
