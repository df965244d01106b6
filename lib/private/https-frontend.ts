/**
 * The front of a global external Application Load Balancer (EXTERNAL_MANAGED), shared by every Waymark
 * construct that answers on the internet: one global IPv4 address, Google-managed certificates for the
 * domains, an SSL policy (TLS 1.2+, MODERN), HTTPS on 443 and a permanent HTTP→HTTPS redirect on 80.
 */
import { createHash } from 'node:crypto';
import { Construct } from 'constructs';
import { ComputeGlobalAddress } from '@cdktf/provider-google/lib/compute-global-address';
import { ComputeGlobalForwardingRule } from '@cdktf/provider-google/lib/compute-global-forwarding-rule';
import { ComputeManagedSslCertificate } from '@cdktf/provider-google/lib/compute-managed-ssl-certificate';
import { ComputeSslPolicy } from '@cdktf/provider-google/lib/compute-ssl-policy';
import { ComputeTargetHttpProxy } from '@cdktf/provider-google/lib/compute-target-http-proxy';
import { ComputeTargetHttpsProxy } from '@cdktf/provider-google/lib/compute-target-https-proxy';
import { ComputeUrlMap } from '@cdktf/provider-google/lib/compute-url-map';
import { resourceName } from './naming';

export interface HttpsFrontendProps {
  /** Prefix of every resource name. */
  readonly namePrefix: string;
  /** Domains served; a managed certificate covers them all. */
  readonly domains: readonly string[];
  /** The URL map HTTPS requests are routed by. */
  readonly urlMap: ComputeUrlMap;
  readonly labels: Readonly<Record<string, string>>;
}

export class HttpsFrontend extends Construct {
  public readonly address: ComputeGlobalAddress;
  public readonly certificate: ComputeManagedSslCertificate;
  public readonly sslPolicy: ComputeSslPolicy;
  public readonly httpsProxy: ComputeTargetHttpsProxy;
  public readonly httpsRule: ComputeGlobalForwardingRule;
  public readonly redirectUrlMap: ComputeUrlMap;
  public readonly httpProxy: ComputeTargetHttpProxy;
  public readonly httpRule: ComputeGlobalForwardingRule;

  constructor(scope: Construct, id: string, props: HttpsFrontendProps) {
    super(scope, id);
    const name = (suffix: string): string => resourceName([props.namePrefix, suffix]);
    const labels = { ...props.labels };

    this.address = new ComputeGlobalAddress(this, 'address', { name: name('ip'), ipVersion: 'IPV4', labels });

    // A certificate's domains cannot change in place: a new set gets a new name, created before the old goes.
    const domainsHash = createHash('sha256').update([...props.domains].sort().join(',')).digest('hex').slice(0, 8);
    this.certificate = new ComputeManagedSslCertificate(this, 'certificate', {
      name: name(`cert-${domainsHash}`),
      managed: { domains: [...props.domains] },
      lifecycle: { createBeforeDestroy: true },
    });

    this.sslPolicy = new ComputeSslPolicy(this, 'ssl-policy', { name: name('tls'), profile: 'MODERN', minTlsVersion: 'TLS_1_2' });

    this.httpsProxy = new ComputeTargetHttpsProxy(this, 'https-proxy', {
      name: name('https'),
      urlMap: props.urlMap.id,
      sslCertificates: [this.certificate.id],
      sslPolicy: this.sslPolicy.id,
    });
    this.httpsRule = new ComputeGlobalForwardingRule(this, 'https-rule', {
      name: name('https'),
      target: this.httpsProxy.id,
      ipAddress: this.address.id,
      ipProtocol: 'TCP',
      portRange: '443',
      loadBalancingScheme: 'EXTERNAL_MANAGED',
      labels,
    });

    this.redirectUrlMap = new ComputeUrlMap(this, 'redirect', {
      name: name('redirect'),
      description: 'Redirects HTTP to HTTPS',
      defaultUrlRedirect: { httpsRedirect: true, redirectResponseCode: 'MOVED_PERMANENTLY_DEFAULT', stripQuery: false },
    });
    this.httpProxy = new ComputeTargetHttpProxy(this, 'http-proxy', { name: name('http'), urlMap: this.redirectUrlMap.id });
    this.httpRule = new ComputeGlobalForwardingRule(this, 'http-rule', {
      name: name('http'),
      target: this.httpProxy.id,
      ipAddress: this.address.id,
      ipProtocol: 'TCP',
      portRange: '80',
      loadBalancingScheme: 'EXTERNAL_MANAGED',
      labels,
    });
  }

  /** The global IP address (apply-time value). */
  public get ipAddress(): string {
    return this.address.address;
  }
}
