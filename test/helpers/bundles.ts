/**
 * The shipped runtime bundles, built once per test worker by the same code the constructs use
 * (lib/private/runtime-bundles.ts), written to a temporary folder named after their content hash.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bundle, writeBundle } from '../../lib/private/bundler';
import * as runtime from '../../lib/private/runtime-bundles';

export type RuntimeBundleName = 'collector' | 'collector-zip' | 'collector-local' | 'tracker' | 'tracker-esm' | 'udf';

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
    case 'udf': {
      const { defaultEnrichmentBundle } = await import('../../lib/private/enrichment');
      return defaultEnrichmentBundle();
    }
  }
}
