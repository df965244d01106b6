/**
 * The I/O shell shared by the local runner's two entries (enrich-file.ts from the sources, enrich-file-udf.ts as the
 * shipped build/enrich-file.js): arguments, reading JSONL from a file or stdin, writing good and bad JSONL, the
 * summary line and the exit status (0 when the file was processed: bad rows are data, not errors; 2 for usage
 * errors; 1 for I/O errors).
 */
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { EnrichText, enrichLine, LineOutput } from './runner';

export interface CliOptions {
  readonly input: string;
  readonly good: string | null;
  readonly bad: string | null;
  readonly config: string | null;
  readonly schemas: string[];
  readonly udf: string | null;
}

/** Parses the command line; throws an Error ending with `usage` when it is wrong. */
export function parseArgs(argv: readonly string[], usage: string): CliOptions {
  let input: string | null = null;
  let good: string | null = null;
  let bad: string | null = null;
  let config: string | null = null;
  let udf: string | null = null;
  const schemas: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const next = argv[i + 1];
      if (next === undefined) throw new Error(a + ' needs a value\n' + usage);
      i++;
      return next;
    };
    if (a === '--good') good = value();
    else if (a === '--bad') bad = value();
    else if (a === '--config') config = value();
    else if (a === '--schemas') schemas.push(value());
    else if (a === '--udf') udf = value();
    else if (a === '--help' || a === '-h') throw new Error(usage);
    else if (a.charAt(0) === '-' && a !== '-') throw new Error('unknown option ' + a + '\n' + usage);
    else if (input === null) input = a;
    else throw new Error('only one input file is accepted\n' + usage);
  }
  if (input === null) throw new Error('no input file\n' + usage);
  return { input, good, bad, config, schemas, udf };
}

function openOut(file: string | null, fallback: NodeJS.WritableStream): NodeJS.WritableStream {
  return file === null ? fallback : fs.createWriteStream(file);
}

/**
 * Enriches the input JSONL (`-`: stdin) into `--good`/`--bad` files, by default `<input>.good.jsonl` and
 * `<input>.bad.jsonl` next to the input (from stdin: good rows to stdout, bad rows to stderr). Resolves to the exit status.
 */
export async function runFile(opts: CliOptions, enrich: EnrichText, name: string): Promise<number> {
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
      enrichLine(enrich, line, out);
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
  process.stderr.write(`${name}: ${goodCount} good, ${badCount} bad\n`);
  return 0;
}

/** Runs an entry's main and sets the exit status. */
export function runMain(main: (argv: readonly string[]) => Promise<number>): void {
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
