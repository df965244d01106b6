/**
 * Builds the enrichment UDF bundle for a deployment: the schema registry (built-ins merged with the user's
 * folders) compiled to validators, plus the enrichment configuration, both baked into `enrich.js`.
 */
import { validatorsModuleSource } from '../../pipeline/validation/module';
import { Bundle } from './bundler';
import { enrichmentBundle } from './runtime-bundles';

export interface EnrichmentBuildOptions {
  /** Extra schema folders in Iglu static layout, merged with the built-ins. @default none */
  readonly schemaFolders?: readonly string[];
  /** Enrichment configuration (see pipeline/config.ts for its shape). @default the pipeline's defaults */
  readonly config?: unknown;
}

/** The UDF for a registry and configuration (the built-ins and defaults when none are given). */
export function defaultEnrichmentBundle(options: EnrichmentBuildOptions = {}): Bundle {
  return enrichmentBundle({
    validatorsModule: validatorsModuleSource(options.schemaFolders ?? []),
    config: options.config ?? {},
  });
}
