/**
 * The runtime code Waymark ships, by name: every construct, the build script and the tests take their
 * bundles from here, so what the tests run is exactly what a deployment uploads.
 */
import { Bundle, bundle, nodeZip } from './bundler';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = require('../../package.json').version;

/** The collector server: `node collector.js` (listens on PORT); also exports the HTTP handler. */
export function collectorBundle(): Bundle {
  return bundle({
    entry: 'collector/main.ts',
    target: 'node',
    fileName: 'collector.js',
  });
}

/**
 * The collector in local mode (`npm start`): the same collector code plus the inspection API, the events page,
 * the demo site and in-process enrichment through the shipped UDF bundle.
 */
export function localCollectorBundle(): Bundle {
  return bundle({ entry: 'collector/local/main.ts', target: 'node', fileName: 'waymark-local.js' });
}

/** The collector as a Cloud Functions gen2 / App Engine source archive. */
export function collectorZip(): Bundle {
  return nodeZip(collectorBundle(), { name: 'waymark-collector', version: VERSION });
}

/** The web tracker as a minified IIFE (`sp.js`) that installs `window.waymark`. */
export function trackerBundle(): Bundle {
  return bundle({ entry: 'tracker/sp.ts', target: 'browser-iife', fileName: 'sp.js' });
}

/** The web tracker as an ES module for bundlers. */
export function trackerEsmBundle(): Bundle {
  return bundle({ entry: 'tracker/index.ts', target: 'browser-esm', fileName: 'sp.esm.js' });
}

/**
 * The local runner: `node enrich-file.js <in.jsonl>` enriches JSONL into good/bad JSONL with the UDF bundle next to it
 * (`enrich.js`) or `--udf FILE`; one file, no dependencies.
 */
export function enrichFileBundle(): Bundle {
  return bundle({ entry: 'pipeline/local/enrich-file-udf.ts', target: 'node', fileName: 'enrich-file.js' });
}

/** The global functions of the enrichment UDF: streaming (throws bad rows) and batch (returns null for them). */
export const UDF_FUNCTIONS = { streaming: 'process', batch: 'processBatch' } as const;

export interface EnrichmentBundleOptions {
  /** JavaScript source of the `waymark:validators` module (compiled from the schema registry at build time). */
  readonly validatorsModule: string;
  /** The enrichment configuration baked into the bundle. */
  readonly config: unknown;
}

/** The enrichment as a Dataflow UDF: `enrich.js`, ES5, registry validators and config inlined. */
export function enrichmentBundle(options: EnrichmentBundleOptions): Bundle {
  return bundle({
    entry: 'pipeline/udf.ts',
    target: 'udf',
    fileName: 'enrich.js',
    udfFunctions: [UDF_FUNCTIONS.streaming, UDF_FUNCTIONS.batch],
    virtualModules: {
      'waymark:validators': options.validatorsModule,
      'waymark:config': `export default ${JSON.stringify(options.config ?? {})};\n`,
    },
  });
}

/**
 * The serverless enricher (Cloud Run, Pub/Sub push): `node enricher.js`, the same enrichment modules, compiled
 * validators and configuration as {@link enrichmentBundle}, in a Node HTTP service (pipeline/service/main.ts).
 */
export function enricherServiceBundle(options: EnrichmentBundleOptions): Bundle {
  return bundle({
    entry: 'pipeline/service/main.ts',
    target: 'node',
    fileName: 'enricher.js',
    virtualModules: {
      'waymark:validators': options.validatorsModule,
      'waymark:config': `export default ${JSON.stringify(options.config ?? {})};\n`,
    },
  });
}
