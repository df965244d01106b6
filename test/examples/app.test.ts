import { tmpdir } from 'node:os';
import { App, Testing } from 'cdktf';
import { buildApp, WaymarkEnvironmentStack } from '../../examples/app';
import { ENVIRONMENTS } from '../../examples/environments';
import { STABLE_ASSET_HASHES_CONTEXT } from '../../lib/private/assets';

function synthEnvironment(name: string): Record<string, any> {
  const app = Testing.app({ context: { [STABLE_ASSET_HASHES_CONTEXT]: true } });
  buildApp(app, ENVIRONMENTS.filter((e) => e.name === name));
  const stack = app.node.findChild(`waymark-${name}`) as WaymarkEnvironmentStack;
  return JSON.parse(Testing.synth(stack));
}

describe('example app', () => {
  const saved = process.env.WAYMARK_STATE_BUCKET;
  afterEach(() => {
    if (saved === undefined) delete process.env.WAYMARK_STATE_BUCKET;
    else process.env.WAYMARK_STATE_BUCKET = saved;
  });

  test('one stack per environment, dev and prod at least', () => {
    const app = buildApp(new App({ outdir: tmpdir() }));
    const names = app.node.children.map((c) => c.node.id).sort();
    expect(names).toEqual(expect.arrayContaining(['waymark-dev', 'waymark-prod']));
    expect(names).toHaveLength(ENVIRONMENTS.length);
  });

  test('environments differ in region, sizes and domains', () => {
    const dev = ENVIRONMENTS.find((e) => e.name === 'dev')!;
    const prod = ENVIRONMENTS.find((e) => e.name === 'prod')!;
    expect(dev.region).not.toBe(prod.region);
    expect(dev.collectorInstances.max).toBeLessThan(prod.collectorInstances.max);
    expect(dev.collectorDomains).not.toEqual(prod.collectorDomains);
    expect(prod.deletionProtection).toBe(true);
  });

  test.each(ENVIRONMENTS.map((e) => [e.name, e]))('%s: google and google-beta providers for its project and region', (name, env) => {
    const tf = synthEnvironment(name as string);
    const e = env as (typeof ENVIRONMENTS)[number];
    expect(tf.provider.google[0]).toMatchObject({ project: e.projectId, region: e.region, default_labels: e.labels });
    expect(tf.provider['google-beta'][0]).toMatchObject({ project: e.projectId, region: e.region });
  });

  test('local state by default, one file per environment', () => {
    delete process.env.WAYMARK_STATE_BUCKET;
    expect(synthEnvironment('dev').terraform.backend).toEqual({ local: { path: 'terraform.waymark-dev.tfstate' } });
  });

  test('a Cloud Storage backend when WAYMARK_STATE_BUCKET is set', () => {
    process.env.WAYMARK_STATE_BUCKET = 'acme-terraform-state';
    expect(synthEnvironment('prod').terraform.backend).toEqual({ gcs: { bucket: 'acme-terraform-state', prefix: 'waymark/prod' } });
  });
});
