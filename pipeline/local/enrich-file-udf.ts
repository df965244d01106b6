/**
 * The shipped local runner, `build/enrich-file.js` (`npm run build`): one file, plain Node 20, no dependencies.
 * Enriches a JSONL file of payloads into good and bad JSONL with a shipped enrichment UDF bundle, the very code
 * Dataflow runs: by default `enrich.js` next to this file (the one `npm run build` writes: built-in schemas, default
 * configuration), or `--udf FILE`, e.g. the UDF a deployment built with its schema folders and enrichment config.
 *
 *   node enrich-file.js <input.jsonl | -> [--good FILE] [--bad FILE] [--udf enrich.js]
 *
 * Schemas and configuration are baked into a UDF, so `--schemas`/`--config` belong to the sources' runner
 * (`tsx pipeline/local/enrich-file.ts`). Files and exit status: see cli.ts.
 */
import { join } from 'node:path';
import { CliOptions, parseArgs, runFile, runMain } from './cli';
import { EnrichText } from './runner';
import { loadUdfFile } from './udf-runner';

export const USAGE = 'usage: node enrich-file.js <input.jsonl | -> [--good FILE] [--bad FILE] [--udf enrich.js]';

/** Runs the CLI; resolves to the exit status. */
export async function main(argv: readonly string[], scriptDir: string): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseArgs(argv, USAGE);
    if (opts.config !== null || opts.schemas.length > 0) {
      throw new Error(
        (opts.config !== null ? '--config' : '--schemas') + ' is not available here: a UDF bundle has its schemas and configuration baked in. ' +
          'Pass --udf with the enrich.js built for them (the one your deployment uploads), or run the sources: tsx pipeline/local/enrich-file.ts\n' + USAGE,
      );
    }
  } catch (e) {
    process.stderr.write((e as Error).message + '\n');
    return 2;
  }
  let enrich: EnrichText;
  try {
    enrich = loadUdfFile(opts.udf !== null ? opts.udf : join(scriptDir, 'enrich.js'));
  } catch (e) {
    process.stderr.write((e as Error).message + '\n');
    return 2;
  }
  return runFile(opts, enrich, 'enrich-file');
}

runMain((argv) => main(argv, __dirname));
