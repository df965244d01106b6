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
import { EnvironmentConfig, ENVIRONMENTS } from './environments';

export class WaymarkEnvironmentStack extends TerraformStack {
  constructor(scope: Construct, readonly environment: EnvironmentConfig) {
    super(scope, `waymark-${environment.name}`);
    const { projectId, region, labels } = environment;
    new GoogleProvider(this, 'google', { project: projectId, region, defaultLabels: { ...labels } });
    new GoogleBetaProvider(this, 'google-beta', { project: projectId, region, defaultLabels: { ...labels } });

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
