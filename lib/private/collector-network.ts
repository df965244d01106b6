/**
 * The VPC that VM and GKE collector backends run in: one custom subnet per region (Private Google Access on,
 * so instances without external IPs reach Cloud Storage, Pub/Sub and the image mirror), and a firewall that
 * admits only Google's health-check and load-balancer proxy ranges on the collector port.
 */
import { Construct } from 'constructs';
import { ComputeFirewall } from '@cdktf/provider-google/lib/compute-firewall';
import { ComputeNetwork } from '@cdktf/provider-google/lib/compute-network';
import { ComputeSubnetwork } from '@cdktf/provider-google/lib/compute-subnetwork';
import { resourceName } from './naming';

/** Source ranges of Google's health checkers and of the global external Application Load Balancer's proxies. */
export const GOOGLE_LB_RANGES = ['35.191.0.0/16', '130.211.0.0/22'];
/** The port the collector listens on in VMs and pods. */
export const COLLECTOR_PORT = 8080;
/** Network tag of collector VMs. */
export const COLLECTOR_TAG = 'waymark-collector';

export class CollectorNetwork extends Construct {
  public readonly network: ComputeNetwork;
  public readonly firewall: ComputeFirewall;
  private readonly subnets = new Map<string, ComputeSubnetwork>();

  constructor(scope: Construct, id: string, private readonly namePrefix: string) {
    super(scope, id);
    this.network = new ComputeNetwork(this, 'network', {
      name: resourceName([namePrefix, 'vpc']),
      autoCreateSubnetworks: false,
      routingMode: 'GLOBAL',
    });
    this.firewall = new ComputeFirewall(this, 'allow-lb', {
      name: resourceName([namePrefix, 'allow-lb']),
      network: this.network.id,
      direction: 'INGRESS',
      sourceRanges: GOOGLE_LB_RANGES,
      allow: [{ protocol: 'tcp', ports: [String(COLLECTOR_PORT)] }],
      description: 'Only Google health checks and load-balancer proxies reach the collector',
    });
  }

  /** The subnet of a region, created on first use (10.<16+n>.0.0/20 in order of first use). */
  public subnet(region: string): ComputeSubnetwork {
    let subnet = this.subnets.get(region);
    if (!subnet) {
      const index = this.subnets.size;
      subnet = new ComputeSubnetwork(this, `subnet-${region}`, {
        name: resourceName([this.namePrefix, region]),
        region,
        network: this.network.id,
        ipCidrRange: `10.${16 + index}.0.0/20`,
        privateIpGoogleAccess: true,
        logConfig: { aggregationInterval: 'INTERVAL_10_MIN', flowSampling: 0.1, metadata: 'INCLUDE_ALL_METADATA' },
      });
      this.subnets.set(region, subnet);
    }
    return subnet;
  }
}
