/**
 * The shipped runtime bundles, built once per test worker by the same code the constructs use
 * (lib/private/runtime-bundles.ts), written to a temporary folder named after their content hash
 * (`<tmp>/waymark-test-bundles/<hash>`): a cache kept on purpose, shared by workers and later runs (same hash, same
 * bytes), so it is not removed.
 *
 * `udf` is the constructs' default UDF: the built-in schemas only, as a deployment without `schemaFolders` gets it.
 * `udf-examples` is the UDF of a deployment with `schemaFolders: [examples/schemas]` (the demo site's schemas,
 * io.waymark.example/*), built through the same code (udfForRegistry).
 */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Bundle, writeBundle } from '../../lib/private/bundler';
import * as runtime from '../../lib/private/runtime-bundles';

export type RuntimeBundleName = 'collector' | 'collector-zip' | 'collector-local' | 'tracker' | 'tracker-esm' | 'udf' | 'udf-examples' | 'enrich-file';

/** The example schemas (io.waymark.example/*) the demo site and many tests send: not built-ins, a user's folder. */
export const EXAMPLE_SCHEMAS_DIR = resolve(__dirname, '..', '..', 'examples', 'schemas');

const built = new Map<RuntimeBundleName, string>();

/** Builds (once per worker) and writes a shipped bundle; returns the path of the file. */
export async function buildRuntimeBundle(name: RuntimeBundleName): Promise<string> {
  const existing = built.get(name);
  if (existing) return existing;
  const b = await make(name);
  const file = writeBundle(b, join(tmpdir(), 'waymark-test-bundles', b.hash));
  built.set(name, file);
  return file;
}

async function make(name: RuntimeBundleName): Promise<Bundle> {
  switch (name) {
    case 'collector': return runtime.collectorBundle();
    case 'collector-zip': return runtime.collectorZip();
    case 'collector-local': return runtime.localCollectorBundle();
    case 'tracker': return runtime.trackerBundle();
    case 'tracker-esm': return runtime.trackerEsmBundle();
    case 'enrich-file': return runtime.enrichFileBundle();
    case 'udf': {
      const { defaultEnrichmentBundle } = await import('../../lib/private/enrichment');
      return defaultEnrichmentBundle();
    }
    case 'udf-examples': {
      const { udfForRegistry } = await import('../../lib/private/enrichment');
      const { loadRegistry } = await import('../../pipeline/registry/load');
      return udfForRegistry('enrichment', loadRegistry([EXAMPLE_SCHEMAS_DIR]), undefined);
    }
  }
}
