/**
 * Local runner: enriches a JSONL file of payloads (collector payloads, load-balancer LogEntries, tp2 parameter maps
 * or payload_data batches; one per line) into good rows and bad rows, with the same enricher as the UDF.
 *
 *   tsx pipeline/local/enrich-file.ts <input.jsonl | -> [--good FILE] [--bad FILE] [--config FILE] [--schemas DIR]...
 *
 * Defaults: `<input>.good.jsonl` and `<input>.bad.jsonl` next to the input; with `-` (stdin), good rows go to stdout
 * and bad rows to stderr. A summary line goes to stderr. Exit status 0 when the file was processed (bad rows are
 * data, not errors), 2 for usage errors, 1 for I/O errors. `--schemas DIR` (repeatable) adds a folder of schemas in
 * Iglu layout to the built-ins, e.g. `--schemas examples/schemas` for the demo site's events.
 */
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { EnrichmentConfig } from '../config';
import { createNodeEnricher } from './node-enricher';
import { enrichLine, LineOutput } from './runner';

export interface CliOptions {
  readonly input: string;
  readonly good: string | null;
  readonly bad: string | null;
  readonly config: string | null;
  readonly schemas: string[];
}

const USAGE = 'usage: enrich-file <input.jsonl | -> [--good FILE] [--bad FILE] [--config FILE] [--schemas DIR]...';

/** Parses the command line; throws an Error with the usage line when it is wrong. */
export function parseArgs(argv: readonly string[]): CliOptions {
  let input: string | null = null;
  let good: string | null = null;
  let bad: string | null = null;
  let config: string | null = null;
  const schemas: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const next = argv[i + 1];
      if (next === undefined) throw new Error(a + ' needs a value\n' + USAGE);
      i++;
      return next;
    };
    if (a === '--good') good = value();
    else if (a === '--bad') bad = value();
    else if (a === '--config') config = value();
    else if (a === '--schemas') schemas.push(value());
    else if (a === '--help' || a === '-h') throw new Error(USAGE);
    else if (a.charAt(0) === '-' && a !== '-') throw new Error('unknown option ' + a + '\n' + USAGE);
    else if (input === null) input = a;
    else throw new Error('only one input file is accepted\n' + USAGE);
  }
  if (input === null) throw new Error('no input file\n' + USAGE);
  return { input, good, bad, config, schemas };
}

function openOut(file: string | null, fallback: NodeJS.WritableStream): NodeJS.WritableStream {
  return file === null ? fallback : fs.createWriteStream(file);
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
  let config: EnrichmentConfig | undefined;
  try {
    if (opts.config !== null) config = JSON.parse(fs.readFileSync(opts.config, 'utf8')) as EnrichmentConfig;
  } catch (e) {
    process.stderr.write('cannot read config ' + opts.config + ': ' + (e as Error).message + '\n');
    return 2;
  }
  let enricher;
  try {
    enricher = createNodeEnricher({ schemaFolders: opts.schemas, config });
  } catch (e) {
    process.stderr.write((e as Error).message + '\n');
    return 2;
  }
  const fromStdin = opts.input === '-';
  if (!fromStdin && !fs.existsSync(opts.input)) {
    process.stderr.write('input file ' + opts.input + ' does not exist\n');
    return 2;
  }
  const base = fromStdin ? null : opts.input.replace(/\.jsonl?$/, '');
  const goodOut = openOut(opts.good !== null ? opts.good : base !== null ? base + '.good.jsonl' : null, process.stdout);
  const badOut = openOut(opts.bad !== null ? opts.bad : base !== null ? base + '.bad.jsonl' : null, process.stderr);
  const input = fromStdin ? process.stdin : fs.createReadStream(opts.input, { encoding: 'utf8' });
  let goodCount = 0;
  let badCount = 0;
  try {
    const lines = readline.createInterface({ input, crlfDelay: Infinity });
    for await (const line of lines) {
      const out: LineOutput = { good: [], bad: [] };
      enrichLine(enricher, line, out);
      for (const g of out.good) goodOut.write(g + '\n');
      for (const b of out.bad) badOut.write(b + '\n');
      goodCount += out.good.length;
      badCount += out.bad.length;
    }
  } catch (e) {
    process.stderr.write('error reading ' + opts.input + ': ' + (e as Error).message + '\n');
    return 1;
  }
  await Promise.all([goodOut, badOut].map((s) => (s === process.stdout || s === process.stderr ? Promise.resolve() : new Promise<void>((resolve) => (s as fs.WriteStream).end(resolve)))));
  process.stderr.write(`enrich-file: ${goodCount} good, ${badCount} bad\n`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(String(e) + '\n');
      process.exitCode = 1;
    },
  );
}
