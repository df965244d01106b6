/**
 * The local runner: JSONL of payloads in, good and bad JSONL out, with the same enricher as the UDF.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enrichLine, LineOutput, splitBatch } from '../../pipeline/local/runner';
import { parseArgs } from '../../pipeline/local/enrich-file';
import { CORPUS_NOW, loadCorpus } from './helpers/corpus';
import { testEnricher } from './helpers/enricher';
import { EXAMPLE_SCHEMAS_DIR } from '../helpers/bundles';

// The runner splits batches, so the corpus case of an unsplit batch (an adapter failure in the UDF) is left out here.
const corpus = loadCorpus().filter((c) => c.name !== '24-payload-data-batch');
const batch = JSON.stringify({
  schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4',
  data: [
    { e: 'pv', eid: '11111111-1111-4111-8111-111111111111', tv: 'js-4.1.0', p: 'web', url: 'https://a.example/' },
    { e: 'se', eid: '22222222-2222-4222-8222-222222222222', tv: 'js-4.1.0', p: 'web', se_ca: 'c', se_ac: 'a' },
    { e: 'se', eid: '33333333-3333-4333-8333-333333333333', tv: 'js-4.1.0', p: 'web', se_ca: 'c' },
  ],
});

describe('local runner core', () => {
  it('splits payload_data batches into one input per event and leaves everything else alone', () => {
    const parts = splitBatch(batch);
    expect(parts).toHaveLength(3);
    expect(JSON.parse(parts[1])).toEqual({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [JSON.parse(batch).data[1]] });
    expect(splitBatch('{"payload_data": broken')).toEqual(['{"payload_data": broken']);
    expect(splitBatch(corpus[0].message)).toEqual([corpus[0].message]);
  });

  it('enriches lines into good and bad JSON, skipping blank lines', () => {
    const enricher = testEnricher(CORPUS_NOW);
    const out: LineOutput = { good: [], bad: [] };
    for (const line of ['', '   ', batch, ...corpus.map((c) => c.message)]) enrichLine(enricher, line, out);
    const goodCases = corpus.filter((c) => c.expected.row);
    expect(out.good).toHaveLength(2 + goodCases.length);
    expect(out.bad).toHaveLength(1 + corpus.length - goodCases.length);
    expect(out.good.slice(2)).toEqual(goodCases.map((c) => JSON.stringify(c.expected.row)));
    expect(JSON.parse(out.bad[0]).data.failure.messages[0].field).toBe('se_ac');
  });
});

describe('enrich-file CLI', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'waymark-enrich-file-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (args: string[], input?: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '..', '..', 'pipeline', 'local', 'enrich-file.ts'), ...args], { encoding: 'utf8', input, timeout: 120000 });

  it('parses its arguments and explains mistakes', () => {
    expect(parseArgs(['in.jsonl', '--good', 'g', '--bad', 'b', '--schemas', 's1', '--schemas', 's2'])).toEqual({ input: 'in.jsonl', good: 'g', bad: 'b', config: null, schemas: ['s1', 's2'] });
    expect(() => parseArgs([])).toThrow(/no input file\nusage: enrich-file/);
    expect(() => parseArgs(['a', '--good'])).toThrow(/--good needs a value/);
    expect(() => parseArgs(['a', '--fast'])).toThrow(/unknown option --fast/);
  });

  it('writes <input>.good.jsonl and <input>.bad.jsonl and a summary', () => {
    const input = join(dir, 'events.jsonl');
    writeFileSync(input, [batch, ...corpus.map((c) => c.message)].join('\n') + '\n');
    const run = cli([input, '--schemas', EXAMPLE_SCHEMAS_DIR]);
    expect(run.stderr).toContain(`enrich-file: ${2 + corpus.filter((c) => c.expected.row).length} good, ${1 + corpus.filter((c) => c.expected.badRow).length} bad`);
    expect(run.status).toBe(0);
    const good = readFileSync(join(dir, 'events.good.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const expected = corpus.filter((c) => c.expected.row).map((c) => c.expected.row as Record<string, unknown>);
    // Same rows as the corpus, except the enrichment time (the CLI uses the real clock).
    const timeless = (r: Record<string, unknown>) => {
      const copy = { ...r };
      for (const k of ['etl_tstamp', 'load_tstamp', 'collector_tstamp', 'derived_tstamp']) delete copy[k];
      return copy;
    };
    expect(good.slice(2).map(timeless)).toEqual(expected.map(timeless));
    const bad = readFileSync(join(dir, 'events.bad.jsonl'), 'utf8').trim().split('\n');
    expect(bad.map((l) => (JSON.parse(l) as { data: { type: string } }).data.type)).toContain('schema_violations');
  });

  it('validates against the built-in schemas only without --schemas: events of the example schemas are bad', () => {
    const input = join(dir, 'builtins.jsonl');
    const examples = corpus.filter((c) => c.expected.row && c.expected.row.event_vendor === 'io.waymark.example');
    expect(examples.length).toBeGreaterThan(0);
    writeFileSync(input, examples.map((c) => c.message).join('\n') + '\n');
    const run = cli([input]);
    expect(run.stderr).toContain(`enrich-file: 0 good, ${examples.length} bad`);
    const bad = readFileSync(join(dir, 'builtins.bad.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { data: { type: string; failure: { messages: Array<{ message: string }> } } });
    for (const b of bad) {
      expect(b.data.type).toBe('schema_violations');
      expect(b.data.failure.messages.map((m) => m.message).join('\n')).toMatch(/schema iglu:io\.waymark\.example\/button_click\/jsonschema\/1-0-\d is not in the registry/);
    }
  });

  it('reads stdin with -, writing good rows to stdout and bad rows to stderr; takes a config file', () => {
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ enrichments: { eventFingerprint: false } }));
    const run = cli(['-', '--config', config], corpus[0].message + '\nnot json\n');
    expect(run.status).toBe(0);
    const row = JSON.parse(run.stdout.trim()) as Record<string, unknown>;
    expect(row.event_id).toBe('6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a');
    expect(row.event_fingerprint).toBeUndefined();
    expect(run.stderr).toContain('collector_payload_format_violation');
    expect(run.stderr).toContain('enrich-file: 1 good, 1 bad');
  });

  it('fails with status 2 and a message for a missing file or a bad config', () => {
    const missing = cli([join(dir, 'nope.jsonl')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('does not exist');
    const config = join(dir, 'bad-config.json');
    writeFileSync(config, JSON.stringify({ loadTstamp: 'sometimes' }));
    const bad = cli(['-', '--config', config], '');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('enrichment config: loadTstamp must be "etl" or "omit"');
  });
});
