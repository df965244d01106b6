/**
 * The enrichment UDF bundle for tests and the benchmark: the shipped one (`buildRuntimeBundle('udf')`, built by the
 * constructs' code) once the lead's enrichment bundle is wired; until then the same bundler target with the same
 * virtual modules (validators compiled from the built-in registry, the default configuration with its shapes).
 */
import { readFileSync } from 'node:fs';
import { bundle } from '../../../lib/private/bundler';
import { loadRegistry } from '../../../pipeline/registry/load';
import { buildUdfConfig, udfConfigModuleSource } from '../../../pipeline/udf-config';
import { compileValidatorsModule } from '../../../pipeline/validation/compile';
import { buildRuntimeBundle } from '../../helpers/bundles';

export const UDF_FUNCTIONS = ['process', 'processBatch'];

export interface UdfBundle {
  readonly code: string;
  /** `shipped` (the constructs' bundle) or `local` (this helper's build with the same bundler target). */
  readonly artifact: 'shipped' | 'local';
}

let cached: UdfBundle | null = null;

export async function udfBundleSource(): Promise<UdfBundle> {
  if (cached) return cached;
  try {
    const file = await buildRuntimeBundle('udf');
    cached = { code: readFileSync(file, 'utf8'), artifact: 'shipped' };
  } catch (e) {
    if (!/not wired/.test(String((e as Error).message))) throw e;
    const registry = loadRegistry([]);
    const b = bundle({
      entry: 'pipeline/udf.ts',
      target: 'udf',
      fileName: 'enrich.js',
      udfFunctions: UDF_FUNCTIONS,
      virtualModules: {
        'waymark:validators': compileValidatorsModule(registry.schemas),
        'waymark:config': udfConfigModuleSource(buildUdfConfig(undefined, registry.schemas)),
      },
    });
    cached = { code: b.contents.toString('utf8'), artifact: 'local' };
  }
  return cached;
}
