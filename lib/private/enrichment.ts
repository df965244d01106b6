/**
 * Builds the enrichment UDF bundle for a deployment: the schema registry (built-ins merged with the user's
 * folders) compiled to validators, plus the enrichment configuration, both baked into `enrich.js`.
 */
import { Bundle } from './bundler';

export interface EnrichmentBuildOptions {
  /** Extra schema folders in Iglu static layout, merged with the built-ins. @default none */
  readonly schemaFolders?: readonly string[];
  /** Enrichment configuration. @default the pipeline's defaults */
  readonly config?: unknown;
}

export function defaultEnrichmentBundle(_options: EnrichmentBuildOptions = {}): Bundle {
  throw new Error('the enrichment UDF bundle is not wired yet: pipeline/validation/compile.ts is in progress');
}
