/**
 * Node-side construction of an enricher exactly as the UDF bundle gets it: validators compiled from the schema
 * registry (built-ins plus the given folders) and the configuration with its warehouse shapes. For the local runner,
 * local mode and benchmarks; never bundled into the UDF.
 */
import { EnrichmentConfig } from '../config';
import { createEnricher, Enricher } from '../enrich';
import { loadRegistry } from '../registry/load';
import { buildUdfConfig } from '../udf-config';
import { compileValidators } from '../validation/compile';

export interface NodeEnricherOptions {
  /** Extra schema folders in Iglu static layout, merged after the built-ins. @default none */
  readonly schemaFolders?: readonly string[];
  /** Include the built-in schemas. @default true */
  readonly builtins?: boolean;
  readonly config?: EnrichmentConfig;
  /** @default Date.now */
  readonly clock?: () => number;
}

export function createNodeEnricher(options: NodeEnricherOptions = {}): Enricher {
  const registry = loadRegistry(options.schemaFolders || [], { builtins: options.builtins !== false });
  const validators = compileValidators(registry.schemas);
  const config = buildUdfConfig(options.config, registry.schemas);
  return createEnricher({ validators: validators, config: config, clock: options.clock });
}
