/**
 * Builds the serverless enricher's bundle for a deployment: exactly the inputs of the Dataflow UDF (the registry's
 * compiled validators and the enrichment configuration completed with the registry's column shapes, checked the
 * same way), in the Node service entry instead of the ES5 UDF entry.
 */
import type { Registry } from '../../pipeline/registry/registry';
import { Bundle } from './bundler';
import { EnrichmentSettings, enrichmentInputs } from './enrichment';
import { enricherServiceBundle } from './runtime-bundles';

/** The enricher service bundle for a registry and a configuration; errors name `construct`'s `enrichmentConfig`. */
export function enricherServiceForRegistry(construct: string, registry: Registry, config: EnrichmentSettings | undefined): Bundle {
  return enricherServiceBundle(enrichmentInputs(construct, registry, config));
}
