#!/usr/bin/env node
/**
 * `waymark recover`: select bad rows, re-validate them against the current schemas, and replay the ones that now pass.
 *
 *   npx waymark recover --input bad.json --schemas ./schemas                    # dry run: how many would now pass
 *   npx waymark recover --input bad.json --schemas ./schemas --replay --topic projects/acme/topics/waymark-raw
 *   npx waymark recover --bigquery acme.waymark.bad_rows_parsed --type schema_violations --from 2025-03-01 ...
 *
 * Locally (`npm start -- --pubsub`): `--input .waymark/local/bad.jsonl --topic waymark-raw --project waymark-local`
 * with PUBSUB_EMULATOR_HOST set, which the Pub/Sub client honours.
 */
import { readFileSync } from 'node:fs';
import { PubSub } from '@google-cloud/pubsub';
import { createNodeEnricher } from '../../pipeline/local/node-enricher';
import type { EnrichmentConfig } from '../../pipeline/config';
import { queryBadRows, Requester } from './bigquery';
import { recover, RecoverReport, Revalidator } from './recover';
import { BadRowRecord, parseTime, recordsFromText, selectRecords, Selection, uniqueRecords } from './rows';

export const USAGE = `usage: waymark recover (--input FILE... | --bigquery PROJECT.DATASET.VIEW) [selection] [--schemas DIR]... [--replay --topic TOPIC]

Reads bad rows, keeps those selected, re-validates their original messages against your schemas and, with --replay,
publishes the ones that now pass to the raw topic. Without --replay it is a dry run: nothing is published.

Where the bad rows come from:
  --input FILE          a \`bq query --format=json\` result (rows of the bad_rows_parsed view or of the dead-letter
                        table) or JSON lines of bad rows (local mode's bad.jsonl); repeatable; - reads stdin
  --bigquery VIEW       query the bad_rows_parsed view with the BigQuery API (Application Default Credentials:
                        gcloud auth application-default login, or a service account)
Selection:
  --type TYPE           a failure type to keep, e.g. schema_violations (repeatable)
  --schema PREFIX       keep rows whose failure names a schema key starting with PREFIX, e.g. iglu:com.acme/checkout/
  --from TIME, --to TIME  failure time range, ISO 8601 (--to is exclusive)
  --limit N             at most N rows (default 10000)
Re-validation:
  --schemas DIR         a folder of your Iglu schemas, as the pipeline has them (repeatable); built-ins always included
  --config FILE         the pipeline's enrichment configuration (JSON), if it has one
  --no-validate         skip re-validation: every recoverable row counts as passing
Replay:
  --replay              publish (the default is a dry run)
  --topic TOPIC         the raw topic: projects/P/topics/T, or a name with --project
  --project P           the topic's project (default: the topic path, GOOGLE_CLOUD_PROJECT, or the credentials')
  --state FILE          ids replayed so far (default waymark-replay-state.json): a second run skips them
  --include-failing     publish rows that still fail too (they come back as bad rows)
  --json                print the report as JSON`;

export class UsageError extends Error {}

export interface RecoverArgs {
  readonly inputs: string[];
  readonly bigquery: string | null;
  readonly selection: Selection;
  readonly limit: number;
  readonly schemas: string[];
  readonly config: string | null;
  readonly validate: boolean;
  readonly replay: boolean;
  readonly topic: string | null;
  readonly project: string | null;
  readonly stateFile: string;
  readonly includeFailing: boolean;
  readonly json: boolean;
}

export function parseRecoverArgs(argv: readonly string[]): RecoverArgs {
  const inputs: string[] = [];
  const types: string[] = [];
  const schemaPrefixes: string[] = [];
  const schemas: string[] = [];
  let bigquery: string | null = null;
  let from: string | undefined;
  let to: string | undefined;
  let limit = 10000;
  let config: string | null = null;
  let validate = true;
  let replay = false;
  let topic: string | null = null;
  let project: string | null = null;
  let stateFile = 'waymark-replay-state.json';
  let includeFailing = false;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || (v.startsWith('--') && v !== '-')) throw new UsageError(`${a} needs a value`);
      return v;
    };
    const time = (): string => {
      const v = value();
      const t = parseTime(v);
      if (t === null) throw new UsageError(`${a} wants an ISO 8601 time such as 2025-03-01 or 2025-03-01T12:00:00Z, got '${v}'`);
      return t;
    };
    switch (a) {
      case '--input': inputs.push(value()); break;
      case '--bigquery': bigquery = value(); break;
      case '--type': types.push(value()); break;
      case '--schema': schemaPrefixes.push(value()); break;
      case '--from': from = time(); break;
      case '--to': to = time(); break;
      case '--limit': {
        const v = value();
        limit = Number(v);
        if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit wants a positive integer, got '${v}'`);
        break;
      }
      case '--schemas': schemas.push(value()); break;
      case '--config': config = value(); break;
      case '--no-validate': validate = false; break;
      case '--replay': replay = true; break;
      case '--topic': topic = value(); break;
      case '--project': project = value(); break;
      case '--state': stateFile = value(); break;
      case '--include-failing': includeFailing = true; break;
      case '--json': json = true; break;
      default: throw new UsageError(`unknown option ${a}`);
    }
  }
  if (inputs.length === 0 && bigquery === null) throw new UsageError('say where the bad rows are: --input FILE or --bigquery PROJECT.DATASET.VIEW');
  if (inputs.length > 0 && bigquery !== null) throw new UsageError('--input and --bigquery exclude each other');
  if (replay && topic === null) throw new UsageError('--replay needs --topic (the raw topic)');
  if (from !== undefined && to !== undefined && Date.parse(from) >= Date.parse(to)) throw new UsageError('--from must be before --to');
  return { inputs, bigquery, selection: { types, schemas: schemaPrefixes, from, to }, limit, schemas, config, validate, replay, topic, project, stateFile, includeFailing, json };
}

/** `projects/P/topics/T` → { project: P, name: T }; a bare name keeps the given project. */
export function topicRef(topic: string, project: string | null): { project: string | undefined; name: string } {
  const m = /^projects\/([^/]+)\/topics\/([^/]+)$/.exec(topic);
  if (m) return { project: m[1], name: m[2] };
  if (topic.includes('/')) throw new UsageError(`--topic wants projects/P/topics/T or a topic name, got '${topic}'`);
  return { project: project ?? process.env.GOOGLE_CLOUD_PROJECT ?? undefined, name: topic };
}

function readInput(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
}

export function formatReport(r: RecoverReport, extra: { read: number; duplicates: number; problems: readonly string[]; topic?: string; stateFile?: string }): string {
  const lines = [
    `read ${extra.read} bad row${extra.read === 1 ? '' : 's'}, selected ${r.selected + extra.duplicates}${extra.duplicates ? ` (${extra.duplicates} repeated messages counted once)` : ''}`,
    `  would now pass: ${r.wouldPass}`,
    `  still failing:  ${r.stillFailing}`,
    ...Object.entries(r.stillFailingByType).map(([t, v]) => `    ${t}: ${v.count} (e.g. ${v.sample})`),
  ];
  if (r.unrecoverable) lines.push(`  not replayable: ${r.unrecoverable} (no complete original message)`);
  if (r.dryRun) lines.push('dry run: nothing published (add --replay --topic TOPIC to publish)');
  else lines.push(`published ${r.published} to ${extra.topic}; skipped ${r.alreadyReplayed} already replayed (state: ${extra.stateFile})`);
  for (const e of r.publishErrors) lines.push(`  publish failed: ${e}`);
  for (const p of extra.problems) lines.push(`  unreadable: ${p}`);
  return lines.join('\n');
}

export async function runRecover(argv: readonly string[], out: (text: string) => void = (t) => process.stdout.write(t), err: (text: string) => void = (t) => process.stderr.write(t)): Promise<number> {
  let args: RecoverArgs;
  try {
    args = parseRecoverArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`waymark recover: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
  const topic = args.topic !== null ? topicRef(args.topic, args.project) : undefined;
  // Made only when needed (a replay or a BigQuery query): a dry run over a file needs no client and no credentials.
  let client: PubSub | undefined;
  const pubsubClient = (): PubSub => (client ??= new PubSub(topic?.project ? { projectId: topic.project } : args.project ? { projectId: args.project } : {}));
  try {
    let records: BadRowRecord[] = [];
    const problems: string[] = [];
    if (args.bigquery !== null) {
      const auth = pubsubClient().auth;
      const request: Requester = async (req) => (await auth.request({ url: req.url, method: req.method, data: req.data })).data;
      const rows = await queryBadRows(request, args.bigquery, args.selection, args.limit, args.project ?? undefined);
      const read = recordsFromText(JSON.stringify(rows), args.bigquery);
      records = read.records;
      problems.push(...read.problems);
    } else {
      for (const file of args.inputs) {
        const read = recordsFromText(readInput(file), file);
        records.push(...read.records);
        problems.push(...read.problems);
      }
    }
    const read = records.length;
    const selected = selectRecords(records, args.selection).slice(0, args.limit);
    const unique = uniqueRecords(selected);

    let revalidator: Revalidator | undefined;
    if (args.validate) {
      const config = args.config !== null ? (JSON.parse(readInput(args.config)) as EnrichmentConfig) : undefined;
      revalidator = createNodeEnricher({ schemaFolders: args.schemas, config }) as unknown as Revalidator;
    }
    const publisher = topic && args.replay ? pubsubClient().topic(topic.name, { batching: { maxMessages: 100, maxMilliseconds: 50 } }) : undefined;
    const report = await recover(unique, {
      revalidator,
      replay: args.replay && publisher && topic
        ? { topic: `${topic.project ?? '(default project)'}/${topic.name}`, stateFile: args.stateFile, includeFailing: args.includeFailing || !args.validate, publish: (data, attributes) => publisher.publishMessage({ data, attributes }) }
        : undefined,
    });
    const extra = { read, duplicates: selected.length - unique.length, problems, topic: topic ? `${topic.project ?? ''}/${topic.name}` : undefined, stateFile: args.stateFile };
    out(args.json ? `${JSON.stringify({ ...report, read, duplicates: extra.duplicates, problems })}\n` : `${formatReport(report, extra)}\n`);
    return report.publishErrors.length > 0 ? 1 : 0;
  } finally {
    if (client) await client.close().catch(() => undefined);
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'recover') return runRecover(rest);
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`usage: waymark <command>\n\ncommands:\n  recover   re-validate and replay bad rows (waymark recover --help)\n`);
    return command === undefined ? 2 : 0;
  }
  process.stderr.write(`waymark: unknown command '${command}' (commands: recover)\n`);
  return 2;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const wantsHelp = argv[0] === 'recover' && (argv.includes('--help') || argv.includes('-h'));
  if (wantsHelp) {
    process.stdout.write(`${USAGE}\n`);
  } else {
    main(argv).then(
      (code) => {
        process.exitCode = code;
      },
      (e: unknown) => {
        process.stderr.write(`waymark: ${(e as Error).message ?? String(e)}\n`);
        process.exitCode = 1;
      },
    );
  }
}
