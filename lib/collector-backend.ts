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
import { AppEngineBackendProps, bindAppEngine, validateAppEngine } from './private/backends/app-engine';
import { bindCloudFunctions, bindCloudRun, CloudFunctionsBackendProps, CloudRunBackendProps, validateCloudFunctions, validateCloudRun } from './private/backends/serverless';
import { bindGke, GkeBackendProps, validateGke } from './private/backends/gke';
import { bindInstanceGroups, InstanceGroupsBackendProps, validateInstanceGroups } from './private/backends/instance-groups';

import type { BoundCollectorBackend, CollectorBackendContext } from './private/backends/types';

export type { AppEngineBackendProps, CloudFunctionsBackendProps, CloudRunBackendProps, GkeBackendProps, InstanceGroupsBackendProps };
// The binding types live with the backends (lib/private/backends/types.ts), so no private module imports this file.
export type { BoundCollectorBackend, CollectorBackendContext };

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
