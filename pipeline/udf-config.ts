/**
 * What the bundler puts in the `waymark:config` virtual module: the deployment's enrichment configuration, checked,
 * plus the warehouse shapes of the registry's schemas (so rows match the table the WarehouseSink creates).
 * Build-time only (called by lib/private at synth time and by the local tools); engine-neutral all the same.
 */
import { EnrichmentConfig, resolveEnrichmentConfig } from './config';
import { extend } from './es5';
import { buildColumnShapes } from './warehouse';

/**
 * Returns `config` with `shapes` generated from `schemas` (every schema of the registry: full Iglu key and parsed
 * document). Throws an Error naming the setting when `config` is invalid, so a bad deployment fails at synth time.
 */
export function buildUdfConfig(
  config: EnrichmentConfig | undefined,
  schemas: ReadonlyArray<{ readonly key: string; readonly schema: unknown }>,
): EnrichmentConfig {
  resolveEnrichmentConfig(config);
  return extend({}, config || {}, { shapes: buildColumnShapes(schemas) }) as EnrichmentConfig;
}

/** The source of the `waymark:config` module for {@link buildUdfConfig}'s result. */
export function udfConfigModuleSource(config: EnrichmentConfig): string {
  return '// Generated from the enrichment configuration. Do not edit.\nexport default ' + JSON.stringify(config) + ';\n';
}
