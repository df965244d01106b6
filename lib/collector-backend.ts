/**
 * Where the collector runs behind a GlobalCollector's one global IP. Choose with a static factory:
 *
 * | factory            | runs on                                   | idle cost | scaling               |
 * |--------------------|-------------------------------------------|-----------|-----------------------|
 * | `instanceGroups()` | regional managed instance groups (COS VMs) | min VMs   | autoscaler, ~1 min    |
 * | `gke()`            | GKE Autopilot, standalone zonal NEGs       | min pods  | HPA, ~seconds         |
 * | `cloudRun()`       | Cloud Run services, serverless NEGs        | zero      | per request, instant  |
 * | `cloudFunctions()` | Cloud Functions gen2, serverless NEGs      | zero      | per request, instant  |
 * | `appEngine()`      | App Engine standard (nodejs24)             | zero/min  | automatic             |
 *
 * Every kind runs the same collector bundle, as its own service account, publishing to the raw and bad topics.
 */
import { Construct } from 'constructs';
import { ComputeBackendService } from '@cdktf/provider-google/lib/compute-backend-service';
import { ComputeSecurityPolicy } from '@cdktf/provider-google/lib/compute-security-policy';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import { CollectorNetwork } from './private/collector-network';
import { StagedBundle } from './private/assets';
import { AppEngineBackendProps, bindAppEngine, validateAppEngine } from './private/backends/app-engine';
import { bindCloudFunctions, bindCloudRun, CloudFunctionsBackendProps, CloudRunBackendProps, validateCloudFunctions, validateCloudRun } from './private/backends/serverless';
import { bindGke, GkeBackendProps, validateGke } from './private/backends/gke';
import { bindInstanceGroups, InstanceGroupsBackendProps, validateInstanceGroups } from './private/backends/instance-groups';

export type { AppEngineBackendProps, CloudFunctionsBackendProps, CloudRunBackendProps, GkeBackendProps, InstanceGroupsBackendProps };

/** What a GlobalCollector hands each backend when it binds it. */
export interface CollectorBackendContext {
  /** Prefix of resource names, unique per GlobalCollector. */
  readonly namePrefix: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The collector's configuration as environment variables. */
  readonly environment: Readonly<Record<string, string>>;
  /** The collector's own service account. */
  readonly serviceAccount: ServiceAccount;
  /** The bucket holding the collector code. */
  readonly codeBucket: StorageBucket;
  /** The collector account's read grant on {@link codeBucket}: what reads the code at deploy time must wait for it. */
  readonly codeReadGrant: StorageBucketIamMember;
  /** The single-file bundle (`collector-<hash>.js`), uploaded to {@link codeBucket}. */
  readonly bundle: StagedBundle;
  /** The Cloud Functions / App Engine zip (`collector-<hash>.zip`), uploaded to {@link codeBucket}. */
  readonly zip: StagedBundle;
  readonly securityPolicy: ComputeSecurityPolicy;
  /** Fraction of requests the load balancer logs. */
  readonly logSampleRate: number;
  /** The project id (apply-time value when not given). */
  readonly projectId: string;
  /** The VPC for VM and GKE backends, created on first use. */
  network(): CollectorNetwork;
}

/** A bound backend: one global backend service fronting all its regions. */
export interface BoundCollectorBackend {
  readonly kind: string;
  readonly backendService: ComputeBackendService;
  /** Relative share of traffic when a collector has several backends. */
  readonly weight: number;
  /** The regions it serves. */
  readonly regions: readonly string[];
}

export abstract class CollectorBackend {
  /** Regional managed instance groups of Container-Optimized OS VMs running Node (the `runtime` prop) in a container. */
  public static instanceGroups(props: InstanceGroupsBackendProps): CollectorBackend {
    validateInstanceGroups(props);
    return new FactoryBackend('instance-groups', props.regions, props.weight, (scope, id, ctx) => bindInstanceGroups(scope, id, ctx, props));
  }

  /** GKE Autopilot clusters, one per region; pods behind standalone zonal NEGs. */
  public static gke(props: GkeBackendProps): CollectorBackend {
    validateGke(props);
    return new FactoryBackend('gke', props.regions, props.weight, (scope, id, ctx) => bindGke(scope, id, ctx, props));
  }

  /** Cloud Run services, one per region, ingress limited to the load balancer, behind serverless NEGs. */
  public static cloudRun(props: CloudRunBackendProps): CollectorBackend {
    validateCloudRun(props);
    return new FactoryBackend('cloud-run', props.regions, props.weight, (scope, id, ctx) => bindCloudRun(scope, id, ctx, props));
  }

  /** Cloud Functions gen2, one per region, from the collector zip, behind serverless NEGs. */
  public static cloudFunctions(props: CloudFunctionsBackendProps): CollectorBackend {
    validateCloudFunctions(props);
    return new FactoryBackend('cloud-functions', props.regions, props.weight, (scope, id, ctx) => bindCloudFunctions(scope, id, ctx, props));
  }

  /** An App Engine standard (`runtime`, default nodejs24) version from the collector zip, behind a serverless NEG. */
  public static appEngine(props: AppEngineBackendProps): CollectorBackend {
    validateAppEngine(props);
    return new FactoryBackend('app-engine', [props.region], props.weight, (scope, id, ctx) => bindAppEngine(scope, id, ctx, props));
  }

  /** The kind of backend, e.g. `instance-groups`. */
  public abstract readonly kind: string;

  /** The regions the backend serves. */
  public abstract readonly regions: readonly string[];

  /** Creates the backend's resources under `scope`. Called by GlobalCollector. */
  public abstract bind(scope: Construct, id: string, context: CollectorBackendContext): BoundCollectorBackend;
}

type Binder = (scope: Construct, id: string, context: CollectorBackendContext) => BoundCollectorBackend;

class FactoryBackend extends CollectorBackend {
  public readonly regions: readonly string[];

  constructor(public readonly kind: string, regions: readonly string[], private readonly weight: number | undefined, private readonly binder: Binder) {
    super();
    this.regions = [...regions];
  }

  public bind(scope: Construct, id: string, context: CollectorBackendContext): BoundCollectorBackend {
    const bound = this.binder(scope, id, context);
    return { ...bound, weight: this.weight ?? bound.weight };
  }
}
