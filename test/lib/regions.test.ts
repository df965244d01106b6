import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { GoogleBetaProvider } from '@cdktf/provider-google-beta/lib/provider';
import { ClickstreamPipeline, ClickstreamPipelineProps } from '../../lib/clickstream-pipeline';
import { CollectorBackend } from '../../lib/collector-backend';
import { GlobalCollector } from '../../lib/global-collector';
import { REGION_ZONES } from '../../lib/private/regions';
import { synth } from '../helpers/synth';

// Regions and zones: https://cloud.google.com/compute/docs/regions-zones#available
describe('region table', () => {
  const run = (regions: string[], extra: object = {}) => () => CollectorBackend.cloudRun({ regions, ...extra });

  test.each([
    ['europe-west99', "did you mean 'europe-west9'?"],
    ['mars-north1', "names 'mars-north1', which is not a Google Cloud region; if it is a region newer than Waymark's table, list it in 'newRegions'"],
    ['us-centrall1', "did you mean 'us-central1'?"],
  ])('a typo (%s) is refused at synth, naming the prop', (region, message) => {
    expect(run([region])).toThrow(`CollectorBackend.cloudRun: prop 'regions' names '${region}'`);
    expect(run([region])).toThrow(message);
  });

  test('every backend kind and every construct with a region checks it against the table', () => {
    const bad = 'europe-west99';
    expect(() => CollectorBackend.cloudFunctions({ regions: [bad] })).toThrow("CollectorBackend.cloudFunctions: prop 'regions' names 'europe-west99'");
    expect(() => CollectorBackend.gke({ regions: [bad], zones: { [bad]: [`${bad}-a`] } })).toThrow("CollectorBackend.gke: prop 'regions' names 'europe-west99'");
    expect(() => CollectorBackend.instanceGroups({ regions: [bad] })).toThrow("CollectorBackend.instanceGroups: prop 'regions' names 'europe-west99'");
    expect(() => CollectorBackend.appEngine({ region: bad, createApplication: false })).toThrow("CollectorBackend.appEngine: prop 'region' names 'europe-west99'");
    const pipeline = (props: Partial<ClickstreamPipelineProps>) => () => synth((scope) => {
      new GoogleBetaProvider(scope, 'google-beta', {});
      new ClickstreamPipeline(scope, 'p', { region: 'europe-west1', projectId: 'acme-analytics', collector: { domains: ['c.example.com'], backends: [CollectorBackend.cloudRun({ regions: ['europe-west1'] })] }, ...props });
    });
    expect(pipeline({ region: 'mars-north1' })).toThrow("ClickstreamPipeline: prop 'region' names 'mars-north1'");
    expect(pipeline({ warehouse: { location: 'europe-west99' } })).toThrow("WarehouseSink: prop 'location' names 'europe-west99'");
  });

  test("the escape hatch: a region newer than the table passes when listed in 'newRegions'", () => {
    expect(run(['europe-west99'], { newRegions: ['europe-west99'] })).not.toThrow();
    expect(run(['europe-west98'], { newRegions: ['europe-west99'] })).toThrow("names 'europe-west98'");
  });

  test('GKE zones come from the table; a zone the region does not have is refused', () => {
    expect(REGION_ZONES['europe-west1']).toEqual(['b', 'c', 'd']);
    expect(REGION_ZONES['us-central1']).toEqual(['a', 'b', 'c', 'f']);
    expect(() => CollectorBackend.gke({ regions: ['europe-west1'], zones: { 'europe-west1': ['europe-west1-a'] }, minReplicas: 3 }))
      .toThrow("CollectorBackend.gke: prop 'zones' lists zone 'europe-west1-a', which region 'europe-west1' does not have (its zones: europe-west1-b, europe-west1-c, europe-west1-d)");
  });

  test("a single string where a list belongs is an error naming the prop, not \"got 'c'\"", () => {
    const make = (domains: any) => () => synth((scope) => {
      new GlobalCollector(scope, 'collector', {
        domains, backends: [CollectorBackend.cloudRun({ regions: ['us-central1'] })], projectId: 'acme-analytics',
        rawTopic: new PubsubTopic(scope, 'raw', { name: 'raw' }), badTopic: new PubsubTopic(scope, 'bad', { name: 'bad' }),
      });
    });
    expect(make('c.acme.com')).toThrow("GlobalCollector: prop 'domains' must be a list of domains such as ['c.example.com'], got \"c.acme.com\"");
    expect(() => CollectorBackend.cloudRun({ regions: 'us-central1' as any })).toThrow("CollectorBackend.cloudRun: prop 'regions' must be a list of regions such as ['us-central1'], got \"us-central1\"");
  });
});
