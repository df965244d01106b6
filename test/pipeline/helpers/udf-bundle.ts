/**
 * The shipped enrichment UDF bundle (`buildRuntimeBundle('udf')`: the constructs' build with the built-in registry
 * and the default configuration completed with the warehouse shapes), for the bundle tests and the benchmark.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { buildRuntimeBundle } from '../../helpers/bundles';

export interface UdfBundle {
  readonly code: string;
  /** The file it was read from, for reports. */
  readonly artifact: string;
}

let cached: UdfBundle | null = null;

export async function udfBundleSource(): Promise<UdfBundle> {
  if (cached) return cached;
  const file = await buildRuntimeBundle('udf');
  cached = { code: readFileSync(file, 'utf8'), artifact: basename(file) };
  return cached;
}
