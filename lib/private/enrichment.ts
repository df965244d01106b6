/**
 * Builds the enrichment UDF bundle for a deployment: the schema registry (built-ins merged with the user's
 * folders) compiled to validators, and the enrichment configuration completed with the registry's warehouse
 * column shapes, both baked into `enrich.js`. Constructs, `npm run build`, local mode, benchmarks and tests all
 * take the UDF from here, so they run what a deployment ships.
 */
import { resolveEnrichmentConfig, type EnrichmentConfig } from '../../pipeline/config';
import { loadRegistry } from '../../pipeline/registry/load';
import type { Registry } from '../../pipeline/registry/registry';
import { compileValidatorsModule } from '../../pipeline/validation/compile';
import { registryColumnShapes } from './bigquery-schema';
import { Bundle } from './bundler';
import { enrichmentBundle } from './runtime-bundles';
import { PropError } from './validate';

/**
 * The enrichment configuration (see pipeline/config.ts): internal domains, enrichments on/off, IP anonymisation, PII
 * pseudonymisation, campaign fields, limits. The warehouse column shapes are generated from the registry.
 */
export type EnrichmentSettings = Omit<EnrichmentConfig, 'shapes'>;

export interface EnrichmentBuildOptions {
  /** Extra schema folders in Iglu static layout, merged with the built-ins. @default none */
  readonly schemaFolders?: readonly string[];
  /** Enrichment configuration. @default the pipeline's defaults */
  readonly config?: EnrichmentSettings;
}

/** The UDF for schema folders and a configuration (the built-ins and defaults when none are given). */
export function defaultEnrichmentBundle(options: EnrichmentBuildOptions = {}): Bundle {
  return udfForRegistry('enrichment', loadRegistry(options.schemaFolders ?? []), options.config);
}

/**
 * The UDF for an already loaded registry. The configuration is checked now (errors name `construct`'s
 * `enrichmentConfig` prop) and completed with the registry's column shapes, so rows fit the table generated
 * from the same registry.
 */
export function udfForRegistry(construct: string, registry: Registry, config: EnrichmentSettings | undefined): Bundle {
  return enrichmentBundle(enrichmentInputs(construct, registry, config));
}

/**
 * What every enrichment bundle is built from (the UDF and the serverless enricher alike): the registry's compiled
 * validators and the configuration, checked (errors name `construct`'s `enrichmentConfig`) and completed with the
 * registry's column shapes.
 */
export function enrichmentInputs(construct: string, registry: Registry, config: EnrichmentSettings | undefined): { validatorsModule: string; config: EnrichmentSettings } {
  if (config !== undefined && 'shapes' in config) throw new PropError(construct, 'enrichmentConfig', "must not set 'shapes': they are generated from the schema registry");
  const full = { ...(config ?? {}), shapes: registryColumnShapes(registry) };
  try {
    resolveEnrichmentConfig(full);
  } catch (error) {
    throw new PropError(construct, 'enrichmentConfig', `is invalid: ${(error as Error).message}`);
  }
  return { validatorsModule: compileValidatorsModule(registry.schemas), config: full };
}
