/**
 * The shipped enrichment UDF bundle, built by the constructs' code with the default configuration completed with the
 * warehouse shapes, for the bundle tests and the benchmark: `udf-examples` (default here) has the built-in registry
 * plus examples/schemas, which the corpus needs; `udf` is a deployment's default, the built-ins only.
 * {@link configuredUdfBundle} is the same registry with a non-default configuration ({@link NON_DEFAULT_CONFIG}).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { EnrichmentSettings } from '../../../lib/private/enrichment';
import { buildRuntimeBundle, EXAMPLE_SCHEMAS_DIR } from '../../helpers/bundles';

export interface UdfBundle {
  readonly code: string;
  /** The file it was read from, for reports. */
  readonly artifact: string;
}

const cached = new Map<string, UdfBundle>();

export async function udfBundleSource(name: 'udf' | 'udf-examples' = 'udf-examples'): Promise<UdfBundle> {
  const hit = cached.get(name);
  if (hit) return hit;
  const file = await buildRuntimeBundle(name);
  const bundle = { code: readFileSync(file, 'utf8'), artifact: basename(file) };
  cached.set(name, bundle);
  return bundle;
}

/** The salt of {@link NON_DEFAULT_CONFIG}. */
export const TEST_SALT = 'bundle-test-pepper';

/**
 * A configuration that changes every enrichment setting that has an effect on rows: pseudonymised atomic fields and
 * JSON properties, the sha256 fingerprint, custom referer sources and internal domains, wider IP anonymisation, two
 * enrichments turned off and load_tstamp left to the warehouse.
 */
export const NON_DEFAULT_CONFIG: EnrichmentSettings = {
  internalDomains: ['example.com'],
  enrichments: { userAgentParser: false, campaignAttribution: false },
  ipAnonymisation: { ipv4Octets: 2, ipv6Segments: 5 },
  pii: {
    fields: ['user_id', 'domain_userid'],
    jsonFields: [
      { schemaCriterion: 'iglu:io.waymark.example/product/jsonschema/1-*-*', path: 'name' },
      { schemaCriterion: 'iglu:io.waymark.example/button_click/jsonschema/1-*-*', path: 'label', in: 'unstruct_event' },
    ],
    salt: TEST_SALT,
  },
  refererSources: [
    { medium: 'search', source: 'Intranet search', domains: ['search.corp.example'], params: ['query'] },
    { medium: 'social', source: 'Corp chat', domains: ['chat.corp.example'] },
  ],
  fingerprint: { algorithm: 'sha256' },
  loadTstamp: 'omit',
};

let configured: UdfBundle | null = null;

/**
 * The UDF of a deployment with `schemaFolders: [examples/schemas]` and `enrichmentConfig: NON_DEFAULT_CONFIG`, built
 * by the constructs' code (udfForRegistry: config checked, completed with the registry's shapes, baked in).
 */
export async function configuredUdfBundle(): Promise<UdfBundle> {
  if (configured) return configured;
  const { udfForRegistry } = await import('../../../lib/private/enrichment');
  const { loadRegistry } = await import('../../../pipeline/registry/load');
  const b = udfForRegistry('enrichment', loadRegistry([EXAMPLE_SCHEMAS_DIR]), NON_DEFAULT_CONFIG);
  configured = { code: b.contents.toString('utf8'), artifact: b.hashedName };
  return configured;
}
