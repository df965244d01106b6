/**
 * The enrichment UDF bundle for tests and the benchmark, built by the constructs' own build function
 * (`enrichmentBundle` in lib/private/runtime-bundles.ts, the esbuild → ES5 `udf` target) with the built-in registry's
 * compiled validators and the default configuration as `buildUdfConfig` completes it (with the warehouse shapes).
 */
import { enrichmentBundle } from '../../../lib/private/runtime-bundles';
import { loadRegistry } from '../../../pipeline/registry/load';
import { buildUdfConfig } from '../../../pipeline/udf-config';
import { compileValidatorsModule } from '../../../pipeline/validation/compile';

export interface UdfBundle {
  readonly code: string;
  /** How it was built, for reports. */
  readonly artifact: string;
}

let cached: UdfBundle | null = null;

export async function udfBundleSource(): Promise<UdfBundle> {
  if (cached) return cached;
  const registry = loadRegistry([]);
  const b = enrichmentBundle({
    validatorsModule: compileValidatorsModule(registry.schemas),
    config: buildUdfConfig(undefined, registry.schemas),
  });
  cached = { code: b.contents.toString('utf8'), artifact: b.hashedName };
  return cached;
}
