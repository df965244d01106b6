/**
 * The example Waymark deployment: one stack per environment (see environments.ts).
 *
 *   npm run synth                 # or: npx cdktf synth — writes cdktf.out/stacks/waymark-<env>/cdk.tf.json
 *   npx cdktf deploy waymark-dev  # deploys one environment
 *
 * State is local (`terraform.waymark-<env>.tfstate`) unless WAYMARK_STATE_BUCKET names a Cloud Storage
 * bucket, in which case each environment keeps its state there under `waymark/<env>`.
 */
import { App, GcsBackend, LocalBackend, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { GoogleBetaProvider } from '@cdktf/provider-google-beta/lib/provider';
import { MonitoringNotificationChannel } from '@cdktf/provider-google/lib/monitoring-notification-channel';
import { ClickstreamPipeline, CollectorBackend, Enrichment } from '../lib';
import { EnvironmentConfig, ENVIRONMENTS } from './environments';

/** The collector backend of an environment (the pixel topology has none). */
function backendFor(e: EnvironmentConfig): CollectorBackend | undefined {
  const { min, max } = e.collectorInstances;
  const regions = e.collectorRegions;
  switch (e.collector) {
    case 'cloud-run': return CollectorBackend.cloudRun({ regions, minInstances: min, maxInstances: max });
    case 'cloud-functions': return CollectorBackend.cloudFunctions({ regions, minInstances: min, maxInstances: max });
    case 'app-engine': return CollectorBackend.appEngine({ region: regions[0], createApplication: e.createAppEngineApplication ?? true, minInstances: min, maxInstances: max });
    case 'instance-groups': return CollectorBackend.instanceGroups({ regions, minReplicas: min, maxReplicas: max });
    case 'gke': return CollectorBackend.gke({ regions, minReplicas: min, maxReplicas: max });
    case 'cdn-pixel': return undefined;
  }
}

export class WaymarkEnvironmentStack extends TerraformStack {
  public readonly pipeline: ClickstreamPipeline;

  constructor(scope: Construct, readonly environment: EnvironmentConfig) {
    super(scope, `waymark-${environment.name}`);
    const { projectId, region, labels } = environment;
    new GoogleProvider(this, 'google', { project: projectId, region, defaultLabels: { ...labels } });
    new GoogleBetaProvider(this, 'google-beta', { project: projectId, region, defaultLabels: { ...labels } });

    const backend = backendFor(environment);
    // Alert notification channels are made here and passed in: e-mail, or any other type (Pub/Sub, PagerDuty) alike.
    const channels = (environment.alertEmails ?? []).map((address, i) => new MonitoringNotificationChannel(this, `alert-email-${i}`, {
      displayName: `Waymark ${environment.name} alerts: ${address}`,
      type: 'email',
      labels: { email_address: address },
    }));
    this.pipeline = new ClickstreamPipeline(this, 'clickstream', {
      projectId,
      region,
      labels: { ...labels },
      schemaFolders: environment.schemaFolders,
      collector: backend && {
        domains: environment.collectorDomains,
        backends: [backend],
        cookie: { domains: environment.cookieDomains },
        cloudArmor: environment.cloudArmor,
      },
      pixelCollector: backend ? undefined : { domains: environment.collectorDomains },
      warehouse: { location: environment.warehouseLocation, deletionProtection: environment.deletionProtection },
      enrichment: environment.enrichment === 'serverless'
        ? Enrichment.serverless({ maxInstances: 3 })
        : Enrichment.dataflow({ maxWorkers: environment.enricherWorkers.max, machineType: environment.enricherWorkers.machineType, templateVersion: environment.templateVersion }),
      archive: { deletionProtection: environment.deletionProtection },
      replay: environment.replayPeriod ? { period: environment.replayPeriod, templateVersion: environment.templateVersion } : undefined,
      enrichmentConfig: { internalDomains: environment.cookieDomains.length ? [...environment.cookieDomains] : undefined },
      monitoring: { notificationChannels: channels.map((c) => c.id) },
    });

    const stateBucket = process.env.WAYMARK_STATE_BUCKET;
    if (stateBucket) {
      new GcsBackend(this, { bucket: stateBucket, prefix: `waymark/${environment.name}` });
    } else {
      new LocalBackend(this, { path: `terraform.waymark-${environment.name}.tfstate` });
    }
  }
}

/** Builds the app with one stack per environment. */
export function buildApp(app: App = new App(), environments: readonly EnvironmentConfig[] = ENVIRONMENTS): App {
  for (const environment of environments) new WaymarkEnvironmentStack(app, environment);
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
