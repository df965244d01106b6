/**
 * Compatibility: Snowplow's Node tracker (`@snowplow/node-tracker` 4.8.0), every `build*` function it exports, sent
 * over HTTP by the tracker's own emitter, POST (plain JSON) and GET (base64), to the shipped local bundle (the
 * collector bundle with the shipped enrichment UDF built for the built-in schemas only, as a deployment without
 * `schemaFolders` gets it). Every event must be a good row with its fields; none may be a bad row.
 */
import * as snowplow from '@snowplow/node-tracker';
import { getJson, LocalInstance, startLocalBundle, UUID, waitFor } from '../local/support';
import { buildRuntimeBundle } from '../helpers/bundles';
import { NODE_EVENTS } from './node-events';

const DTM = Date.UTC(2024, 4, 1, 12, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString();

let local: LocalInstance;
beforeAll(async () => {
  local = await startLocalBundle([], { WAYMARK_LOCAL_UDF: await buildRuntimeBundle('udf') });
});
afterAll(async () => {
  await local?.proc.killGroup();
});

it('covers every build* export of the Node tracker', () => {
  const builders = Object.keys(snowplow).filter((k) => k.startsWith('build')).sort();
  expect(builders.length).toBeGreaterThanOrEqual(19);
  const covered = new Set(NODE_EVENTS.map((e) => e.name.split(' ')[0]));
  expect(builders.filter((b) => !covered.has(b))).toEqual([]);
});

describe.each([
  ['POST', 'post', false],
  ['GET', 'get', true],
] as const)('Node tracker over %s', (_label, eventMethod, encodeBase64) => {
  let good: Array<{ event: Record<string, unknown> }>;
  let bad: unknown[];
  beforeAll(async () => {
    await getJson(`${local.base}/micro/reset`, { method: 'POST' });
    const t = snowplow.newTracker({ namespace: 'compat', appId: 'shop', encodeBase64 }, { endpoint: '127.0.0.1', port: local.port, protocol: 'http', eventMethod, bufferSize: 1 });
    t.setUserId('user-7');
    t.setPlatform('mob');
    NODE_EVENTS.forEach((e, i) => e.track(t, DTM + i * 1000));
    await t.flush();
    await waitFor(`${NODE_EVENTS.length} rows`, async () => (await getJson<{ total: number }>(`${local.base}/micro/all`)).total >= NODE_EVENTS.length, 60000);
    good = await getJson(`${local.base}/micro/good`);
    bad = await getJson(`${local.base}/micro/bad`);
  });

  it('makes no bad row', () => {
    expect(bad).toEqual([]);
    expect(good).toHaveLength(NODE_EVENTS.length);
  });

  it.each(NODE_EVENTS.map((e, i) => [e.name, i] as const))('%s is a good row with its fields', (_name, i) => {
    const e = NODE_EVENTS[i];
    const row = good.map((g) => g.event).find((r) => r.dvce_created_tstamp === iso(DTM + i * 1000));
    expect(row).toBeDefined();
    expect(row).toMatchObject({
      app_id: 'shop', platform: 'mob', name_tracker: 'compat', v_tracker: `node-${snowplow.version}`, user_id: 'user-7',
      event_id: expect.stringMatching(UUID), collector_tstamp: expect.any(String), derived_tstamp: expect.any(String),
      ...e.expected,
    });
  });
});
