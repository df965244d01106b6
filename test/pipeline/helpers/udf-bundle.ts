/**
 * The shipped enrichment UDF bundle, built by the constructs' code with the default configuration completed with the
 * warehouse shapes, for the bundle tests and the benchmark: `udf-examples` (default here) has the built-in registry
 * plus examples/schemas, which the corpus needs; `udf` is a deployment's default, the built-ins only.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { buildRuntimeBundle } from '../../helpers/bundles';

export interface UdfBundle {
  readonly code: string;
  /** The file it was read from, for reports. */
  readonly artifact: string;
}

const cached = new Map<string, UdfBundle>();

export async function udfBundleSource(name: 'udf' | 'udf-examples' = 'udf-examples'): Promise<UdfBundle> {
  const hit = cached.get(name);
  if (hit) return hit;
  const file = await buildRuntimeBundle(name);
  const bundle = { code: readFileSync(file, 'utf8'), artifact: basename(file) };
  cached.set(name, bundle);
  return bundle;
}
