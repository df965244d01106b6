/**
 * Local runner from the sources: enriches a JSONL file of payloads (collector payloads, load-balancer LogEntries, tp2
 * parameter maps or payload_data batches; one per line) into good rows and bad rows.
 *
 *   tsx pipeline/local/enrich-file.ts <input.jsonl | -> [--good FILE] [--bad FILE] [--config FILE] [--schemas DIR]...
 *   tsx pipeline/local/enrich-file.ts <input.jsonl | -> [--good FILE] [--bad FILE] --udf enrich.js
 *
 * Without `--udf`, the enricher is built from the sources exactly as the UDF bundle gets it: validators compiled from
 * the built-in schemas plus each `--schemas DIR` (Iglu layout, e.g. `--schemas examples/schemas`), the `--config`
 * file's enrichment configuration with the warehouse shapes. With `--udf`, a shipped UDF bundle runs instead (its
 * schemas and configuration are baked in). The shipped, dependency-free runner is build/enrich-file.js
 * (enrich-file-udf.ts). Files and exit status: see cli.ts.
 */
import * as fs from 'node:fs';
import { EnrichmentConfig } from '../config';
import { CliOptions, parseArgs as parseCli, runFile, runMain } from './cli';
import { createNodeEnricher } from './node-enricher';
import { EnrichText, enricherText } from './runner';
import { loadUdfFile } from './udf-runner';

export type { CliOptions };

const USAGE = 'usage: enrich-file <input.jsonl | -> [--good FILE] [--bad FILE] [--config FILE] [--schemas DIR]... | [--udf enrich.js]';

/** Parses the command line; throws an Error with the usage line when it is wrong. */
export function parseArgs(argv: readonly string[]): CliOptions {
  const opts = parseCli(argv, USAGE);
  if (opts.udf !== null && (opts.config !== null || opts.schemas.length > 0)) {
    throw new Error('--udf runs a UDF bundle, whose schemas and configuration are baked in: it does not combine with --schemas or --config\n' + USAGE);
  }
  return opts;
}

/** Runs the CLI; resolves to the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    process.stderr.write((e as Error).message + '\n');
    return 2;
  }
  let enrich: EnrichText;
  if (opts.udf !== null) {
    try {
      enrich = loadUdfFile(opts.udf);
    } catch (e) {
      process.stderr.write((e as Error).message + '\n');
      return 2;
    }
  } else {
    let config: EnrichmentConfig | undefined;
    try {
      if (opts.config !== null) config = JSON.parse(fs.readFileSync(opts.config, 'utf8')) as EnrichmentConfig;
    } catch (e) {
      process.stderr.write('cannot read config ' + opts.config + ': ' + (e as Error).message + '\n');
      return 2;
    }
    try {
      enrich = enricherText(createNodeEnricher({ schemaFolders: opts.schemas, config }));
    } catch (e) {
      process.stderr.write((e as Error).message + '\n');
      return 2;
    }
  }
  return runFile(opts, enrich, 'enrich-file');
}

if (require.main === module) runMain(main);
