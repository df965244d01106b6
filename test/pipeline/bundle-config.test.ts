/**
 * The shipped UDF bundle with a non-default enrichment configuration (helpers/udf-bundle.ts NON_DEFAULT_CONFIG),
 * built by the constructs' code (udfForRegistry): the fixture corpus plus events aimed at each setting give exactly
 * the TypeScript sources' output (same configuration) in Node, in a vm context stripped of the built-ins Nashorn
 * lacks, and in Nashorn 15.4 called as the Dataflow template calls it; and the rows show the configured effects, which the default bundle does not have.
 */
import { createHash } from 'node:crypto';
import { encodeBase64UrlUtf8 } from '../../pipeline/text';
import { CORPUS_NOW, loadCorpus } from './helpers/corpus';
import { testEnricher } from './helpers/enricher';
import { call, loadInNode, loadInStrippedVm, Outcome } from './helpers/engines';
import { NashornUdf, runInNashorn } from './helpers/nashorn';
import { configuredUdfBundle, NON_DEFAULT_CONFIG, TEST_SALT, udfBundleSource } from './helpers/udf-bundle';

const EID = '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a';
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

function payload(params: Record<string, string>, data: Record<string, unknown> = {}): string {
  return JSON.stringify({
    schema: 'iglu:io.waymark/collector_payload/jsonschema/1-0-0',
    data: { timestamp: '2024-05-01T12:00:00.000Z', collector: 'waymark-collector-0.1.0', path: '/com.snowplowanalytics.snowplow/tp2', ipAddress: '203.0.113.9', userAgent: UA, parameters: params, ...data },
  });
}

const ue = encodeBase64UrlUtf8(JSON.stringify({
  schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0',
  data: { schema: 'iglu:io.waymark.example/button_click/jsonschema/1-0-1', data: { buttonId: 'buy', label: 'Jane Doe' } },
}));
const cx = encodeBase64UrlUtf8(JSON.stringify({
  schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0',
  data: [{ schema: 'iglu:io.waymark.example/product/jsonschema/1-0-0', data: { sku: 'ABC', name: 'Secret name', price: 1, currency: 'EUR' } }],
}));
const base = { eid: EID, tv: 'js-4.1.0', p: 'web', dtm: '1714564800000', stm: '1714564800100' };

/** Events aimed at the settings, by name. */
const targeted: Record<string, string> = {
  pii: payload({ ...base, e: 'ue', uid: 'jane@example.com', duid: 'd-123', ue_px: ue, cx, url: 'https://shop.example.com/p?utm_source=news&gclid=g1' }),
  ipv6: payload({ ...base, e: 'pv', url: 'https://shop.example.com/' }, { ipAddress: '2001:db8:85a3::8a2e:370:7334' }),
  customSearch: payload({ ...base, e: 'pv', url: 'https://shop.example.com/', refr: 'https://search.corp.example/find?query=vpn+setup' }),
  customSocial: payload({ ...base, e: 'pv', url: 'https://shop.example.com/', refr: 'https://chat.corp.example/room/7' }),
  internal: payload({ ...base, e: 'pv', url: 'https://shop.example.com/', refr: 'https://blog.example.com/post' }),
};

const corpus = loadCorpus();
const inputs: Array<{ name: string; message: string }> = [
  ...corpus.map((c) => ({ name: c.name, message: c.message })),
  ...Object.keys(targeted).map((name) => ({ name, message: targeted[name] })),
];

/** The TypeScript sources with the same configuration and registry. */
function expectedOutcomes(): Array<{ streaming: Outcome; batch: Outcome }> {
  const enricher = testEnricher(CORPUS_NOW, NON_DEFAULT_CONFIG);
  return inputs.map((c) => {
    const r = enricher.enrich(c.message);
    if (r.row) return { streaming: { returned: JSON.stringify(r.row) }, batch: { returned: JSON.stringify(r.row) } };
    return { streaming: { thrown: JSON.stringify(r.badRow) }, batch: { returned: null } };
  });
}

let code = '';
let expected: Array<{ streaming: Outcome; batch: Outcome }> = [];
beforeAll(async () => {
  code = (await configuredUdfBundle()).code;
  expected = expectedOutcomes();
});

const sha = (s: string): string => createHash('sha256').update(TEST_SALT + s, 'utf8').digest('hex');

function rowOf(outcome: { streaming: Outcome }): Record<string, unknown> {
  const o = outcome.streaming;
  if (!('returned' in o) || o.returned === null) throw new Error('expected a good row, got ' + JSON.stringify(o));
  return JSON.parse(o.returned) as Record<string, unknown>;
}

describe('the UDF bundle built with a non-default enrichment configuration', () => {
  it('bakes the configuration in: its output is not the default bundle\'s', async () => {
    const dflt = loadInNode((await udfBundleSource()).code, CORPUS_NOW);
    const udf = loadInNode(code, CORPUS_NOW);
    expect(call(udf.process, targeted.pii)).not.toEqual(call(dflt.process, targeted.pii));
    const defaultRow = JSON.parse((call(dflt.process, targeted.pii) as { returned: string }).returned) as Record<string, unknown>;
    // What the configuration changes is there by default: proof that the assertions below test the configuration.
    expect(defaultRow).toMatchObject({ user_id: 'jane@example.com', domain_userid: 'd-123', user_ipaddress: '203.0.113.x', br_family: 'Chrome', mkt_source: 'news', mkt_clickid: 'g1', load_tstamp: '2024-05-01T12:05:00.000Z' });
    expect(defaultRow.event_fingerprint).toMatch(/^[0-9a-f]{32}$/);
  });

  it('gives the sources\' output in Node', () => {
    const udf = loadInNode(code, CORPUS_NOW);
    inputs.forEach((c, i) => {
      expect({ name: c.name, streaming: call(udf.process, c.message), batch: call(udf.processBatch, c.message) }).toEqual({ name: c.name, ...expected[i] });
    });
  });

  it('gives the same output in a vm context without the built-ins Nashorn lacks', () => {
    const udf = loadInStrippedVm(code, CORPUS_NOW);
    inputs.forEach((c, i) => {
      expect({ name: c.name, streaming: call(udf.process, c.message), batch: call(udf.processBatch, c.message) }).toEqual({ name: c.name, ...expected[i] });
    });
  });

  it('gives the same output in Nashorn 15.4 (rows byte for byte, bad rows recovered from the dead-letter text)', async () => {
    const nashorn = new NashornUdf(code, { now: CORPUS_NOW });
    try {
      const results = await runInNashorn(nashorn, inputs.map((c) => c.message));
      inputs.forEach((c, i) => {
        expect({ name: c.name, ...results[i] }).toEqual({ name: c.name, ...expected[i] });
      });
    } finally {
      await nashorn.close();
    }
  });

  describe('the configured effects, in the bundle\'s rows', () => {
    const at = (name: string) => expected[inputs.findIndex((c) => c.name === name)];
    let udf: ReturnType<typeof loadInStrippedVm>;
    beforeAll(() => {
      udf = loadInStrippedVm(code, CORPUS_NOW);
    });
    const bundleRow = (name: string) => {
      const outcome = { streaming: call(udf.process, targeted[name]) };
      // The row asserted on is the one the engines agree on (checked above); this is the stripped vm's.
      expect(outcome).toEqual({ streaming: at(name).streaming });
      return rowOf(outcome);
    };

    it('pseudonymises the configured atomic fields and JSON properties with the salted SHA-256', () => {
      const row = bundleRow('pii');
      expect(row.user_id).toBe(sha('jane@example.com'));
      expect(row.domain_userid).toBe(sha('d-123'));
      expect(row.unstruct_event_io_waymark_example_button_click_1).toEqual({ button_id: 'buy', label: sha('Jane Doe') });
      expect(row.contexts_io_waymark_example_product_1).toEqual([{ sku: 'ABC', name: sha('Secret name'), price: 1, currency: 'EUR' }]);
    });

    it('fingerprints with SHA-256 (64 hex digits) of the sorted parameters', () => {
      const row = bundleRow('customSearch');
      const params: Record<string, string> = { ...base, e: 'pv', url: 'https://shop.example.com/', refr: 'https://search.corp.example/find?query=vpn+setup' };
      const names = Object.keys(params).filter((k) => !['eid', 'stm', 'nuid', 'cv'].includes(k)).sort();
      const text = names.map((k) => k + '\u001f' + params[k] + '\u001f').join('');
      expect(row.event_fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(row.event_fingerprint).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
    });

    it('anonymises two IPv4 octets and five IPv6 segments', () => {
      expect(bundleRow('pii').user_ipaddress).toBe('203.0.x.x');
      expect(bundleRow('ipv6').user_ipaddress).toBe('2001:db8:85a3:x:x:x:x:x');
    });

    it('classifies referers with the custom sources and internal domains', () => {
      expect(bundleRow('customSearch')).toMatchObject({ refr_medium: 'search', refr_source: 'Intranet search', refr_term: 'vpn setup', refr_urlhost: 'search.corp.example' });
      expect(bundleRow('customSocial')).toMatchObject({ refr_medium: 'social', refr_source: 'Corp chat' });
      expect(bundleRow('internal').refr_medium).toBe('internal');
    });

    it('leaves the columns of disabled enrichments (user agent, campaign) and load_tstamp empty', () => {
      const row = bundleRow('pii');
      const leftOut = Object.keys(row).filter((k) => /^(br_|os_|dvce_type|dvce_ismobile|mkt_)/.test(k) || k === 'load_tstamp');
      expect(leftOut).toEqual([]);
      // The inputs were there: the user agent is kept raw, the campaign parameters are in the page URL.
      expect(row.useragent).toBe(UA);
      expect(row.page_urlquery).toBe('utm_source=news&gclid=g1');
      // Enrichments still on still run.
      expect(row.page_urlhost).toBe('shop.example.com');
      expect(row.etl_tstamp).toBe('2024-05-01T12:05:00.000Z');
    });
  });
});
