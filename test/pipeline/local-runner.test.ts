/**
 * The local runner: JSONL of payloads in, good and bad JSONL out, with the same enricher as the UDF: from the sources
 * (tsx pipeline/local/enrich-file.ts) and as shipped (build/enrich-file.js, run with plain node from an empty folder
 * next to the UDF bundle it runs).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enricherText, enrichLine, LineOutput, splitBatch } from '../../pipeline/local/runner';
import { parseArgs } from '../../pipeline/local/enrich-file';
import { udfText } from '../../pipeline/local/udf-runner';
import { CORPUS_NOW, loadCorpus } from './helpers/corpus';
import { testEnricher } from './helpers/enricher';
import { buildRuntimeBundle, EXAMPLE_SCHEMAS_DIR } from '../helpers/bundles';

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
    const enrich = enricherText(testEnricher(CORPUS_NOW));
    const out: LineOutput = { good: [], bad: [] };
    for (const line of ['', '   ', batch, ...corpus.map((c) => c.message)]) enrichLine(enrich, line, out);
    const goodCases = corpus.filter((c) => c.expected.row);
    expect(out.good).toHaveLength(2 + goodCases.length);
    expect(out.bad).toHaveLength(1 + corpus.length - goodCases.length);
    expect(out.good.slice(2)).toEqual(goodCases.map((c) => JSON.stringify(c.expected.row)));
    expect(JSON.parse(out.bad[0]).data.failure.messages[0].field).toBe('se_ac');
  });

  it('runs a UDF bundle: rows as it returns them, bad rows as it throws them, anything else a generic_error bad row', () => {
    const udf = udfText(`
      function process(m) {
        if (m === 'good') return '{"event":"page_view"}';
        if (m === 'bad') throw new Error(JSON.stringify({ schema: 'iglu:io.waymark/bad_row/jsonschema/1-0-0', data: { type: 'size_violation' } }));
        if (m === 'null') return null;
        throw new TypeError('boom');
      }`, 'fake.js');
    expect(udf('good')).toEqual({ good: '{"event":"page_view"}' });
    expect(udf('bad')).toEqual({ bad: '{"schema":"iglu:io.waymark/bad_row/jsonschema/1-0-0","data":{"type":"size_violation"}}' });
    for (const [input, message] of [['null', 'the UDF returned null instead of a JSON string'], ['other', 'the UDF failed: boom']]) {
      const bad = JSON.parse((udf(input) as { bad: string }).bad) as { data: { type: string; failure: { messages: unknown[] }; payload: unknown } };
      expect(bad.data).toMatchObject({ type: 'generic_error', failure: { messages: [{ message }] }, payload: input });
    }
    expect(() => udfText('var x = 1;', 'empty.js')).toThrow('the enrichment UDF bundle empty.js defines no global function process()');
    expect(() => udfText('throw new Error("broken")', 'broken.js')).toThrow('the enrichment UDF bundle broken.js does not run: broken');
  });
});

/** Rows without the columns that depend on the clock (the CLIs use the real one). */
const timeless = (r: Record<string, unknown>) => {
  const copy = { ...r };
  for (const k of ['etl_tstamp', 'load_tstamp', 'collector_tstamp', 'derived_tstamp']) delete copy[k];
  return copy;
};

describe('enrich-file CLI', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'waymark-enrich-file-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (args: string[], input?: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '..', '..', 'pipeline', 'local', 'enrich-file.ts'), ...args], { encoding: 'utf8', input, timeout: 120000 });

  it('parses its arguments and explains mistakes', () => {
    expect(parseArgs(['in.jsonl', '--good', 'g', '--bad', 'b', '--schemas', 's1', '--schemas', 's2'])).toEqual({ input: 'in.jsonl', good: 'g', bad: 'b', config: null, schemas: ['s1', 's2'], udf: null });
    expect(parseArgs(['-', '--udf', 'enrich.js'])).toMatchObject({ input: '-', udf: 'enrich.js' });
    expect(() => parseArgs(['-', '--udf', 'enrich.js', '--schemas', 's'])).toThrow(/--udf runs a UDF bundle.*does not combine with --schemas or --config/);
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

describe('the shipped runner, build/enrich-file.js', () => {
  // An empty folder holding only the two built files, as `npm run build` writes them: nothing of the repository
  // (no node_modules, no sources, no schemas) is reachable from there.
  let dir = '';
  let examplesUdf = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'waymark-enrich-file-built-'));
    copyFileSync(await buildRuntimeBundle('enrich-file'), join(dir, 'enrich-file.js'));
    copyFileSync(await buildRuntimeBundle('udf'), join(dir, 'enrich.js'));
    examplesUdf = await buildRuntimeBundle('udf-examples');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const node = (args: string[], input?: string) =>
    spawnSync(process.execPath, ['enrich-file.js', ...args], { cwd: dir, encoding: 'utf8', input, timeout: 120000, env: { PATH: process.env.PATH ?? '' } });

  it('is one CommonJS file for plain node that requires nothing but Node\'s own modules', () => {
    const code = readFileSync(join(dir, 'enrich-file.js'), 'utf8');
    const required = new Set(Array.from(code.matchAll(/\brequire\("([^"]+)"\)/g), (m) => m[1]));
    for (const r of required) expect(r).toMatch(/^(node:)?(fs|path|vm|readline)$/);
  });

  it('enriches a file with the enrich.js next to it (built-in schemas): the corpus rows, the example events bad', () => {
    const input = join(dir, 'events.jsonl');
    writeFileSync(input, [batch, ...corpus.map((c) => c.message)].join('\n') + '\n');
    const run = node(['events.jsonl']);
    const builtIn = corpus.filter((c) => c.expected.row && c.expected.row.event_vendor !== 'io.waymark.example');
    const examples = corpus.filter((c) => c.expected.row && c.expected.row.event_vendor === 'io.waymark.example');
    expect(examples.length).toBeGreaterThan(0);
    expect(run.stderr).toBe(`enrich-file: ${2 + builtIn.length} good, ${1 + corpus.filter((c) => c.expected.badRow).length + examples.length} bad\n`);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('');
    const good = readFileSync(join(dir, 'events.good.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(good.slice(2).map(timeless)).toEqual(builtIn.map((c) => timeless(c.expected.row as Record<string, unknown>)));
    const bad = readFileSync(join(dir, 'events.bad.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { data: { type: string } });
    expect(bad).toHaveLength(1 + corpus.filter((c) => c.expected.badRow).length + examples.length);
    expect(bad.filter((b) => b.data.type === 'schema_violations').length).toBeGreaterThanOrEqual(examples.length);
  });

  it('runs the UDF given with --udf (here with examples/schemas): the corpus gives its rows and bad rows', () => {
    const run = node(['-', '--udf', examplesUdf], corpus.map((c) => c.message).join('\n') + '\n');
    expect(run.status).toBe(0);
    const good = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(good.map(timeless)).toEqual(corpus.filter((c) => c.expected.row).map((c) => timeless(c.expected.row as Record<string, unknown>)));
    const bad = run.stderr.trim().split('\n');
    expect(bad.pop()).toBe(`enrich-file: ${good.length} good, ${corpus.filter((c) => c.expected.badRow).length} bad`);
    expect(bad.map((l) => (JSON.parse(l) as { data: { type: string } }).data.type)).toEqual(corpus.filter((c) => c.expected.badRow).map((c) => (c.expected.badRow as { data: { type: string } }).data.type));
  });

  it('explains a missing UDF, --schemas/--config and wrong arguments with status 2, writing nothing', () => {
    const missing = node(['-', '--udf', 'nope.js'], '');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('the enrichment UDF bundle nope.js does not exist: build it with `npm run build`');
    const schemas = node(['-', '--schemas', 'examples/schemas'], '');
    expect(schemas.status).toBe(2);
    expect(schemas.stderr).toContain('--schemas is not available here: a UDF bundle has its schemas and configuration baked in');
    const usage = node([]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('no input file\nusage: node enrich-file.js');
    const before = readdirSync(dir).sort();
    expect(node(['absent.jsonl']).status).toBe(2);
    expect(readdirSync(dir).sort()).toEqual(before);
  });
});
