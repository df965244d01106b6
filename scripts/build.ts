/**
 * `npm run build`: builds every runtime bundle Waymark ships into build/ with the same code the constructs
 * use at synth time, and prints their sizes (the tracker's gzip size is the one with a budget).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Bundle, PACKAGE_ROOT, writeBundle } from '../lib/private/bundler';
import * as runtime from '../lib/private/runtime-bundles';

const OUT = join(PACKAGE_ROOT, 'build');

async function main(): Promise<void> {
  // Files are overwritten in place (not the folder removed first), so a running `npm start` keeps serving them.
  const builds: Array<[string, string, () => Bundle | Promise<Bundle>]> = [
    ['collector', 'collector/main.ts', runtime.collectorBundle],
    ['collector zip', 'collector/main.ts', runtime.collectorZip],
    ['local mode', 'collector/local/main.ts', runtime.localCollectorBundle],
    ['tracker', 'tracker/sp.ts', runtime.trackerBundle],
    ['tracker ESM', 'tracker/index.ts', runtime.trackerEsmBundle],
    ['enrichment UDF', 'pipeline/udf.ts', async () => (await import('../lib/private/enrichment')).defaultEnrichmentBundle()],
    ['local runner', 'pipeline/local/enrich-file-udf.ts', runtime.enrichFileBundle],
    ['enricher service', 'pipeline/service/main.ts', async () => (await import('../lib/private/enricher-service')).enricherServiceForRegistry('build', (await import('../pipeline/registry/load')).loadRegistry([]), undefined)],
  ];
  const rows: string[] = [];
  for (const [label, entry, make] of builds) {
    if (!existsSync(join(PACKAGE_ROOT, entry))) {
      rows.push(`${label.padEnd(15)} not built: ${entry} does not exist yet`);
      continue;
    }
    const b = await make();
    const file = writeBundle(b, OUT);
    const gzip = gzipSync(b.contents, { level: 9 }).length;
    rows.push(`${label.padEnd(15)} ${file.slice(PACKAGE_ROOT.length + 1).padEnd(24)} ${kb(b.contents.length).padStart(10)}  ${kb(gzip).padStart(9)} gzip  ${b.hash}`);
  }
  process.stdout.write(rows.join('\n') + '\n');
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

main().catch((error: Error) => {
  process.stderr.write(`build failed: ${error.message}\n`);
  process.exit(1);
});
