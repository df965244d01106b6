import { Construct } from 'constructs';
import { ComputeBackendService, ComputeBackendServiceBackend } from '@cdktf/provider-google/lib/compute-backend-service';
import { ComputeHealthCheck } from '@cdktf/provider-google/lib/compute-health-check';
import type { CollectorBackendContext } from './types';
import { checkRuntime, DEFAULT_NODE_RUNTIME, nodeImageOf, NodeRuntime, runtimeOfNodeImage } from '../runtimes';
import { PropError } from '../validate';

/**
 * The stock Node image VM and GKE backends run the bundle in, pulled through Google's Docker Hub mirror
 * (reachable with Private Google Access, no NAT needed). Pin a digest in production with `nodeImage`.
 */
export function defaultNodeImage(runtime: NodeRuntime): string {
  return nodeImageOf(runtime, 'mirror.gcr.io/library');
}

/**
 * The same image for Cloud Run, straight from Docker Hub: Cloud Run deploys images from Artifact Registry,
 * Docker Hub and GitHub's registry only (not from mirror.gcr.io), and copies the image when a revision is deployed.
 */
export function cloudRunNodeImage(runtime: NodeRuntime): string {
  return nodeImageOf(runtime, 'docker.io/library');
}

/**
 * The runtime of a container backend: `runtime` (checked against the runtime table), or the runtime of an
 * official node image given as `nodeImage` (checked too). Both at once is an error: they would disagree.
 */
export function checkContainerRuntime(construct: string, props: { readonly runtime?: string; readonly nodeImage?: string }): NodeRuntime {
  if (props.nodeImage !== undefined) {
    if (props.runtime !== undefined) throw new PropError(construct, 'runtime', "and 'nodeImage' are both given: 'runtime' picks the official image, 'nodeImage' replaces it; give one");
    const imageRuntime = runtimeOfNodeImage(props.nodeImage);
    if (imageRuntime !== undefined) return checkRuntime(construct, 'nodeImage', 'container', imageRuntime);
    return DEFAULT_NODE_RUNTIME;
  }
  return checkRuntime(construct, 'runtime', 'container', props.runtime);
}

/** Why Cloud Run would refuse to deploy `image`, or undefined when its registry is one Cloud Run deploys from. */
export function cloudRunImageProblem(image: string): string | undefined {
  const first = image.split('/')[0];
  // No registry host (e.g. 'node:20' or 'library/node:20'): Docker Hub.
  if (image.split('/').length === 1 || (!/[.:]/.test(first) && first !== 'localhost')) return undefined;
  const host = first.toLowerCase();
  if (host === 'mirror.gcr.io') return "mirror.gcr.io is a pull-through cache Cloud Run does not deploy from; use 'docker.io/library/...' or an Artifact Registry image";
  if (['docker.io', 'index.docker.io', 'registry-1.docker.io', 'ghcr.io', 'gcr.io'].includes(host) || /\.gcr\.io$/.test(host) || /(^|-)docker\.pkg\.dev$/.test(host)) return undefined;
  return `Cloud Run deploys images from Artifact Registry (*-docker.pkg.dev), gcr.io, Docker Hub or ghcr.io only, got registry '${host}'`;
}

export interface HealthCheckOptions {
  /** A fixed port, or the serving port of each endpoint (NEGs). */
  readonly port?: number;
}

/** The load balancer's health check: HTTP GET /health on the collector. */
export function healthCheck(scope: Construct, name: string, options: HealthCheckOptions): ComputeHealthCheck {
  return new ComputeHealthCheck(scope, 'health-check', {
    name,
    checkIntervalSec: 5,
    timeoutSec: 5,
    healthyThreshold: 2,
    unhealthyThreshold: 2,
    httpHealthCheck: options.port !== undefined
      ? { port: options.port, requestPath: '/health' }
      : { portSpecification: 'USE_SERVING_PORT', requestPath: '/health' },
    logConfig: { enable: false },
  });
}

export interface BackendServiceOptions {
  readonly name: string;
  readonly ctx: CollectorBackendContext;
  readonly backends: ComputeBackendServiceBackend[];
  /** Health checks; none for serverless NEGs. */
  readonly healthChecks?: string[];
  readonly portName?: string;
}

/**
 * The global backend service of one backend kind: EXTERNAL_MANAGED, Cloud Armor attached (when the collector has it), request logging
 * at the collector's sample rate, and connection draining long enough for the collector's SIGTERM drain.
 */
export function collectorBackendService(scope: Construct, options: BackendServiceOptions): ComputeBackendService {
  const serverless = options.healthChecks === undefined;
  return new ComputeBackendService(scope, 'backend-service', {
    name: options.name,
    loadBalancingScheme: 'EXTERNAL_MANAGED',
    protocol: serverless ? 'HTTPS' : 'HTTP',
    portName: options.portName,
    timeoutSec: serverless ? undefined : 30,
    healthChecks: options.healthChecks,
    backend: options.backends,
    securityPolicy: options.ctx.securityPolicy?.id,
    connectionDrainingTimeoutSec: serverless ? undefined : 10,
    logConfig: { enable: true, sampleRate: options.ctx.logSampleRate },
    description: 'Waymark collector',
  });
}
