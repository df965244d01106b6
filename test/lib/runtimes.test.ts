import { CollectorBackend } from '../../lib/collector-backend';
import { GlobalCollector } from '../../lib/global-collector';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { checkRuntime, DEFAULT_NODE_RUNTIME, RUNTIME_SUPPORT, runtimeOfNodeImage, runtimeSupport, today } from '../../lib/private/runtimes';
import { allResources, synth } from '../helpers/synth';

// Dates from Google's schedules (sources in lib/private/runtimes.ts):
// https://docs.cloud.google.com/run/docs/runtimes/function-runtimes#nodejs (Cloud Run functions: nodejs20
// decommissioned 2026-10-30, nodejs22 2027-10-31) and
// https://docs.cloud.google.com/appengine/docs/standard/lifecycle/support-schedule#nodejs (App Engine standard:
// nodejs20 end of support 2026-04-30, no redeploy after it).
describe('the runtime table', () => {
  test('Google\'s published dates for nodejs20 and nodejs22', () => {
    expect(runtimeSupport('cloud-functions', 'nodejs20')?.blocked).toBe('2026-10-30');
    expect(runtimeSupport('cloud-functions', 'nodejs22')?.blocked).toBe('2027-10-31');
    expect(runtimeSupport('app-engine', 'nodejs20')?.blocked).toBe('2026-04-30');
    for (const row of RUNTIME_SUPPORT) {
      expect(row.source).toMatch(/^https:\/\//);
      expect(row.blocked).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  test('the default is deployable today on every platform', () => {
    for (const platform of ['cloud-functions', 'app-engine', 'container'] as const) {
      expect(checkRuntime('X', 'runtime', platform, undefined)).toBe(DEFAULT_NODE_RUNTIME);
      expect(runtimeSupport(platform, DEFAULT_NODE_RUNTIME)!.blocked > today()).toBe(true);
    }
  });

  test('a decommissioned runtime is refused naming the prop, the date and the source; an unknown one lists the choices', () => {
    expect(() => checkRuntime('CollectorBackend.cloudFunctions', 'runtime', 'cloud-functions', 'nodejs20', '2026-10-30'))
      .toThrow("CollectorBackend.cloudFunctions: prop 'runtime' is 'nodejs20', which Google stopped deploying on 2026-10-30 (https://docs.cloud.google.com/run/docs/runtimes/function-runtimes#nodejs); use one of 'nodejs22', 'nodejs24'");
    // The day before decommission it is still accepted.
    expect(checkRuntime('X', 'runtime', 'cloud-functions', 'nodejs20', '2026-10-29')).toBe('nodejs20');
    expect(() => checkRuntime('X', 'runtime', 'app-engine', 'nodejs18')).toThrow("X: prop 'runtime' must be one of 'nodejs22', 'nodejs24', got 'nodejs18'");
  });

  test('official node image tags map to runtimes; custom images and digests do not', () => {
    expect(runtimeOfNodeImage('docker.io/library/node:24-bookworm-slim')).toBe('nodejs24');
    expect(runtimeOfNodeImage('node:22')).toBe('nodejs22');
    expect(runtimeOfNodeImage('mirror.gcr.io/library/node:20.11.1-bookworm-slim')).toBe('nodejs20');
    expect(runtimeOfNodeImage('europe-west1-docker.pkg.dev/p/r/collector@sha256:abc')).toBeUndefined();
    expect(runtimeOfNodeImage('node@sha256:abc')).toBeUndefined();
  });
});

describe('the runtime prop of every backend', () => {
  const backends = {
    cloudFunctions: (runtime?: any) => CollectorBackend.cloudFunctions({ regions: ['us-central1'], runtime }),
    appEngine: (runtime?: any) => CollectorBackend.appEngine({ region: 'us-central1', createApplication: true, runtime }),
    cloudRun: (runtime?: any) => CollectorBackend.cloudRun({ regions: ['us-central1'], runtime }),
    gke: (runtime?: any) => CollectorBackend.gke({ regions: ['us-central1'], runtime }),
    instanceGroups: (runtime?: any) => CollectorBackend.instanceGroups({ regions: ['us-central1'], runtime }),
  };

  test.each(Object.keys(backends))('%s refuses nodejs20 (past its end date) and an unknown runtime, naming the prop', (name) => {
    const make = backends[name as keyof typeof backends];
    expect(() => make('nodejs20')).toThrow(`CollectorBackend.${name}: prop 'runtime' is 'nodejs20'`);
    expect(() => make('nodejs99')).toThrow(`CollectorBackend.${name}: prop 'runtime' must be one of`);
  });

  function runtimesOf(backend: CollectorBackend): string[] {
    const s = synth((scope) => {
      new GlobalCollector(scope, 'collector', {
        domains: ['c.example.com'], backends: [backend], projectId: 'acme-analytics',
        rawTopic: new PubsubTopic(scope, 'raw', { name: 'raw' }), badTopic: new PubsubTopic(scope, 'bad', { name: 'bad' }),
      });
    });
    const found: string[] = [];
    for (const [type, , c] of allResources(s)) {
      if (type === 'google_cloudfunctions2_function') found.push(c.build_config.runtime);
      if (type === 'google_app_engine_standard_app_version') found.push(c.runtime);
      if (type === 'google_cloud_run_v2_service') found.push(c.template.containers[0].image);
      if (type === 'kubernetes_deployment_v1') found.push(c.spec.template.spec.container[0].image);
      if (type === 'google_compute_region_instance_template') found.push(/^ {2}(\S*node:\S+) sh -c/m.exec(c.metadata['startup-script'])?.[1] ?? 'none');
    }
    return found;
  }

  test('the default (nodejs24) and a picked runtime (nodejs22) reach the synthesized runtime or image', () => {
    expect(runtimesOf(backends.cloudFunctions())).toEqual(['nodejs24']);
    expect(runtimesOf(backends.cloudFunctions('nodejs22'))).toEqual(['nodejs22']);
    expect(runtimesOf(backends.appEngine())).toEqual(['nodejs24']);
    expect(runtimesOf(backends.appEngine('nodejs22'))).toEqual(['nodejs22']);
    expect(runtimesOf(backends.cloudRun('nodejs22'))).toEqual(['docker.io/library/node:22-bookworm-slim']);
    expect(runtimesOf(backends.gke('nodejs22'))).toEqual(['mirror.gcr.io/library/node:22-bookworm-slim']);
    expect(runtimesOf(backends.instanceGroups())).toEqual(['mirror.gcr.io/library/node:24-bookworm-slim']);
  });

  test('an official nodeImage past its end of life is refused; runtime and nodeImage together are an error naming both', () => {
    expect(() => CollectorBackend.gke({ regions: ['us-central1'], nodeImage: 'mirror.gcr.io/library/node:20-bookworm-slim' }))
      .toThrow("CollectorBackend.gke: prop 'nodeImage' is 'nodejs20', which reached its Node.js end of life on 2026-04-30");
    expect(() => CollectorBackend.cloudRun({ regions: ['us-central1'], runtime: 'nodejs22', nodeImage: 'node:22' }))
      .toThrow("CollectorBackend.cloudRun: prop 'runtime' and 'nodeImage' are both given");
    expect(() => CollectorBackend.instanceGroups({ regions: ['us-central1'], nodeImage: 'europe-west1-docker.pkg.dev/p/r/collector@sha256:abc' })).not.toThrow();
  });
});
