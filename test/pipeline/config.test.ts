import { parseCriterion, resolveEnrichmentConfig } from '../../pipeline/config';
import { buildUdfConfig, udfConfigModuleSource } from '../../pipeline/udf-config';
import { builtInRegistry, testRegistry } from './helpers/enricher';

describe('enrichment configuration', () => {
  it('has safe defaults: every enrichment on, IPs anonymised, nothing pseudonymised', () => {
    const c = resolveEnrichmentConfig(undefined);
    expect(c.enrichments).toEqual({ campaignAttribution: true, refererParser: true, userAgentParser: true, ipAnonymisation: true, piiPseudonymisation: true, eventFingerprint: true, crossDomainLinker: true });
    expect([c.ipv4Octets, c.ipv6Segments]).toEqual([1, 2]);
    expect(c.piiFields).toEqual([]);
    expect(c.maxJsonDepth).toBe(40);
    expect(c.maxPayloadChars).toBe(1000000);
    expect(c.loadTstamp).toBe('etl');
    expect(Object.keys(c.fingerprintExclude).sort()).toEqual(['cv', 'eid', 'nuid', 'stm']);
    expect(c.fingerprintAlgorithm).toBe('md5');
    expect(resolveEnrichmentConfig(null)).toEqual(c);
    expect(resolveEnrichmentConfig({})).toEqual(c);
  });

  it.each([
    [[], 'enrichment config must be an object, got []'],
    [{ internalDomain: [] }, 'enrichment config: internalDomain is not a known setting'],
    [{ internalDomains: ['https://example.com'] }, 'enrichment config: internalDomains[0] must be a domain name like "example.com", got "https://example.com"'],
    [{ enrichments: { userAgentParser: 'yes' } }, 'enrichment config: enrichments.userAgentParser must be true or false, got "yes"'],
    [{ enrichments: { geo: true } }, 'enrichment config: enrichments.geo is not a known setting'],
    [{ ipAnonymisation: { ipv4Octets: 5 } }, 'enrichment config: ipAnonymisation.ipv4Octets must be an integer from 0 to 4, got 5'],
    [{ pii: { fields: ['user_id'] } }, 'enrichment config: pii.salt must be a secret of at least 8 characters'],
    [{ pii: { fields: ['event_id2'], salt: 'long enough salt' } }, 'enrichment config: pii.fields[0] must name an atomic STRING column holding user data'],
    [{ pii: { fields: ['event_fingerprint'], salt: 'long enough salt' } }, 'enrichment config: pii.fields[0] must name an atomic STRING column'],
    [{ pii: { jsonFields: [{ schemaCriterion: 'com.acme/user', path: 'email' }], salt: 'long enough salt' } }, 'enrichment config: pii.jsonFields[0].schemaCriterion must look like "iglu:com.acme/user/jsonschema/1-*-*"'],
    [{ pii: { jsonFields: [{ schemaCriterion: 'iglu:com.acme/user/jsonschema/1-*-*', path: '$' }], salt: 'long enough salt' } }, 'enrichment config: pii.jsonFields[0].path must be a property path'],
    [{ refererSources: [{ medium: 'news', source: 'X', domains: ['x.com'] }] }, 'enrichment config: refererSources[0].medium must be "search", "social", "email" or "paid"'],
    [{ refererSources: [{ medium: 'search', source: 'X', domains: [] }] }, 'enrichment config: refererSources[0].domains must list at least one domain'],
    [{ limits: { maxJsonDepth: 2 } }, 'enrichment config: limits.maxJsonDepth must be an integer from 4 to 1000, got 2'],
    [{ loadTstamp: 'now' }, 'enrichment config: loadTstamp must be "etl" or "omit"'],
    [{ fingerprint: { algorithm: 'sha1' } }, 'enrichment config: fingerprint.algorithm must be "md5" or "sha256", got "sha1"'],
    [{ fingerprint: { algorithms: 'md5' } }, 'enrichment config: fingerprint.algorithms is not a known setting'],
    [{ campaign: { clickIds: { zclid: 1 } } }, 'enrichment config: campaign.clickIds.zclid must be the network name (a string)'],
  ])('rejects %j with a message naming the setting', (input, message) => {
    expect(() => resolveEnrichmentConfig(input)).toThrow(message);
  });

  it('accepts a full configuration', () => {
    const c = resolveEnrichmentConfig({
      internalDomains: ['Example.com'],
      enrichments: { userAgentParser: false },
      ipAnonymisation: { ipv4Octets: 2, ipv6Segments: 4 },
      pii: { fields: ['user_id', 'user_ipaddress'], jsonFields: [{ schemaCriterion: 'iglu:com.acme/user/jsonschema/1-*-*', path: '$.email', in: 'contexts' }], salt: 'pepper-pepper' },
      campaign: { fields: { source: ['src'] }, clickIds: { zclid: 'Zed' } },
      refererSources: [{ medium: 'search', source: 'Intranet', domains: ['search.corp.example'], params: ['q'] }],
      fingerprintExcludeParams: ['eid', 'stm', 'dtm'],
      fingerprint: { algorithm: 'sha256' },
      limits: { maxJsonDepth: 20, maxContexts: 10 },
      loadTstamp: 'omit',
    });
    expect(c.internalDomains).toEqual(['example.com']);
    expect(c.enrichments.userAgentParser).toBe(false);
    expect(c.piiJsonFields).toEqual([{ in: 'contexts', criterion: { vendor: 'com.acme', name: 'user', format: 'jsonschema', model: 1, revision: null, addition: null }, path: ['email'] }]);
    expect(c.campaignFields.source).toEqual(['src']);
    expect(c.campaignFields.medium).toEqual(['utm_medium']);
    expect(c.clickIds.zclid).toBe('Zed');
    expect(c.clickIds.gclid).toBe('Google');
    expect([c.maxJsonDepth, c.maxContexts, c.loadTstamp, c.fingerprintAlgorithm]).toEqual([20, 10, 'omit', 'sha256']);
  });

  it('parses schema criteria', () => {
    expect(parseCriterion('iglu:com.acme/user/jsonschema/1-0-*')).toEqual({ vendor: 'com.acme', name: 'user', format: 'jsonschema', model: 1, revision: 0, addition: null });
    expect(parseCriterion('iglu:com.acme/user/jsonschema/*-*-*')).toBeNull();
  });

  it('buildUdfConfig checks the config and adds the warehouse shapes of the registry', () => {
    const schemas = testRegistry().schemas;
    const built = buildUdfConfig({ internalDomains: ['example.com'] }, schemas);
    expect(built.internalDomains).toEqual(['example.com']);
    expect(Object.keys(built.shapes ?? {})).toContain('io.waymark.example/button_click/1');
    // The example schemas are a user's folder: the built-ins alone give no shape (no column) for them.
    const builtInShapes = Object.keys(buildUdfConfig(undefined, builtInRegistry().schemas).shapes ?? {});
    expect(builtInShapes).toContain('com.snowplowanalytics.snowplow/web_page/1');
    expect(builtInShapes.filter((k) => k.startsWith('io.waymark.example/'))).toEqual([]);
    expect(() => buildUdfConfig({ loadTstamp: 'x' } as never, schemas)).toThrow(/loadTstamp/);
    const source = udfConfigModuleSource(built);
    expect(source).toMatch(/^\/\/ Generated/);
    expect(JSON.parse(source.substring(source.indexOf('export default ') + 15).replace(/;\s*$/, ''))).toEqual(built);
  });
});
