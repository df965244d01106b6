/**
 * Builds the serverless enricher's bundle for a deployment: exactly the inputs of the Dataflow UDF (the registry's
 * compiled validators and the enrichment configuration completed with the registry's column shapes, checked the
 * same way), in the Node service entry instead of the ES5 UDF entry.
 */
import { resolveEnrichmentConfig } from '../../pipeline/config';
import type { Registry } from '../../pipeline/registry/registry';
import { compileValidatorsModule } from '../../pipeline/validation/compile';
import { registryColumnShapes } from './bigquery-schema';
import { Bundle } from './bundler';
import type { EnrichmentSettings } from './enrichment';
import { enricherServiceBundle } from './runtime-bundles';
import { PropError } from './validate';

/** The enricher service bundle for a registry and a configuration; errors name `construct`'s `enrichmentConfig`. */
export function enricherServiceForRegistry(construct: string, registry: Registry, config: EnrichmentSettings | undefined): Bundle {
  if (config !== undefined && 'shapes' in config) throw new PropError(construct, 'enrichmentConfig', "must not set 'shapes': they are generated from the schema registry");
  const full = { ...(config ?? {}), shapes: registryColumnShapes(registry) };
  try {
    resolveEnrichmentConfig(full);
  } catch (error) {
    throw new PropError(construct, 'enrichmentConfig', `is invalid: ${(error as Error).message}`);
  }
  return enricherServiceBundle({ validatorsModule: compileValidatorsModule(registry.schemas), config: full });
}
