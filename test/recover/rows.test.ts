/**
 * The recovery tool without Pub/Sub: reading bad rows in their three shapes, the documented dead-letter rule (the
 * bad-row JSON is errorMessage from its first `{` to its last `}`), the selection, the dry run against the real
 * enricher, the BigQuery REST rows, and the bad_rows_parsed view's SQL applying the same rule.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { badRowsViewSql, BAD_ROWS_VIEW_COLUMNS } from '../../lib/private/bad-rows-view';
import { queryBadRows, Requester, rowObject, selectionQuery } from '../../lib/recover/bigquery';
import { parseRecoverArgs, runRecover } from '../../lib/recover/cli';
import { loadState, Publisher, recover, REPLAY_ID_ATTRIBUTE, Revalidator } from '../../lib/recover/recover';
import { createNodeEnricher } from '../../pipeline/local/node-enricher';
import { badRowFromErrorMessage, parseTime, payloadId, recordFromRow, recordsFromText, selectRecords } from '../../lib/recover/rows';
import { badRowOf, BUTTON_CLICK, buttonClickPayload, deadLetterRow, EXAMPLE_SCHEMAS } from './support';

const tmp = mkdtempSync(join(tmpdir(), 'waymark-recover-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const P1 = buttonClickPayload('6f0e8f0e-1c1b-4a8e-9d5e-0a0b0c0d0e01');
const P2 = buttonClickPayload('6f0e8f0e-1c1b-4a8e-9d5e-0a0b0c0d0e02');

describe('reading bad rows', () => {
  test('a dead-letter row: the bad row is errorMessage from its first { to its last }, the message is payloadString', () => {
    const row = deadLetterRow(P1);
    const r = recordFromRow(row);
    expect(r).toMatchObject({ failureType: 'schema_violations', schemaKeys: [BUTTON_CLICK], payload: P1, attributes: { e: 'ue', aid: 'shop' }, id: payloadId(P1) });
    expect(r.failureTime).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    // Braces inside the bad row's strings (the payload's JSON) do not end it early: the last } does.
    const bad = badRowOf(P1);
    expect(badRowFromErrorMessage(`Error: ${JSON.stringify(bad)} in <eval> at line number 1 at column number 48213`)).toEqual(bad);
    // Planted defect: the first `}` instead of the last gives no bad row.
    const text = row.errorMessage as string;
    expect(() => JSON.parse(text.slice(text.indexOf('{'), text.indexOf('}') + 1))).toThrow();
  });

  test('a template error (not a bad row) keeps its payload and is typed template_error', () => {
    const r = recordFromRow({ timestamp: '2024-05-01 12:00:00 UTC', payloadString: '{"x":1}', errorMessage: 'java.lang.RuntimeException: BigQuery refused the row', attributes: [] });
    expect(r).toMatchObject({ failureType: 'template_error', payload: '{"x":1}', schemaKeys: [] });
  });

  test('a row of the bad_rows_parsed view as `bq --format=json` prints it', () => {
    const r = recordFromRow({ failure_tstamp: '2024-05-01 12:00:01.123 UTC', failure_type: 'schema_violations', schema_keys: [BUTTON_CLICK], original_payload: P2, original_attributes: [{ key: 'e', value: 'ue' }] });
    expect(r).toMatchObject({ failureType: 'schema_violations', schemaKeys: [BUTTON_CLICK], payload: P2, failureTime: '2024-05-01T12:00:01.123Z', attributes: { e: 'ue' } });
  });

  test('a bad row itself (local bad.jsonl): its parsed payload is the message; a cut payload is reported, not replayed', () => {
    const bad = badRowOf(P1);
    const r = recordFromRow(bad);
    expect(JSON.parse(r.payload!)).toEqual(JSON.parse(P1));
    const cut = recordFromRow({ ...bad, data: { ...bad.data, payload: { raw: 'xxx', rawChars: 200000, truncated: true } } });
    expect(cut.payload).toBeNull();
    expect(cut.unrecoverable).toMatch(/200000-character message/);
  });

  test('a file: JSON array or JSON lines; unknown rows are reported, the others kept', () => {
    const lines = [JSON.stringify(badRowOf(P1)), 'not json', JSON.stringify({ hello: 1 }), JSON.stringify(badRowOf(P2))].join('\n');
    const read = recordsFromText(lines, 'bad.jsonl');
    expect(read.records).toHaveLength(2);
    expect(read.problems).toEqual(['bad.jsonl line 2: not JSON', 'bad.jsonl line 3: is neither a bad_rows_parsed row, a dead-letter row nor a bad row']);
    expect(recordsFromText(JSON.stringify([deadLetterRow(P1), deadLetterRow(P2)]), 'q.json').records.map((r) => r.payload)).toEqual([P1, P2]);
  });

  test('times: bq CLI, ISO and the REST API\'s epoch seconds', () => {
    expect(parseTime('2024-05-01 12:00:00 UTC')).toBe('2024-05-01T12:00:00.000Z');
    expect(parseTime('2024-05-01 12:00:00.5')).toBe('2024-05-01T12:00:00.500Z');
    expect(parseTime('1.7145648E9')).toBe('2024-05-01T12:00:00.000Z');
    expect(parseTime('2024-05-01')).toBe('2024-05-01T00:00:00.000Z');
    expect(parseTime('yesterday')).toBeNull();
  });
});

describe('selection', () => {
  const rows = [
    recordFromRow({ failure_tstamp: '2024-05-01 10:00:00 UTC', failure_type: 'schema_violations', schema_keys: ['iglu:com.acme/checkout/jsonschema/1-0-0'], original_payload: 'a' }),
    recordFromRow({ failure_tstamp: '2024-05-01 11:00:00 UTC', failure_type: 'schema_violations', schema_keys: ['iglu:com.acme/cart/jsonschema/2-0-0'], original_payload: 'b' }),
    recordFromRow({ failure_tstamp: '2024-05-01 12:00:00 UTC', failure_type: 'tracker_protocol_violations', schema_keys: [], original_payload: 'c' }),
  ];
  const pick = (s: Parameters<typeof selectRecords>[1]) => selectRecords(rows, s).map((r) => r.payload);
  test('by failure type, schema prefix and time range (from inclusive, to exclusive)', () => {
    expect(pick({})).toEqual(['a', 'b', 'c']);
    expect(pick({ types: ['tracker_protocol_violations'] })).toEqual(['c']);
    expect(pick({ schemas: ['iglu:com.acme/checkout/'] })).toEqual(['a']);
    expect(pick({ schemas: ['iglu:com.acme/'] })).toEqual(['a', 'b']);
    expect(pick({ from: '2024-05-01T11:00:00Z' })).toEqual(['b', 'c']);
    expect(pick({ from: '2024-05-01T10:00:00Z', to: '2024-05-01T11:00:00Z' })).toEqual(['a']);
  });
  test('arguments: clear usage errors', () => {
    expect(() => parseRecoverArgs([])).toThrow(/--input FILE or --bigquery/);
    expect(() => parseRecoverArgs(['--input', 'x', '--replay'])).toThrow(/--replay needs --topic/);
    expect(() => parseRecoverArgs(['--input', 'x', '--from', 'tomorrow'])).toThrow(/--from wants an ISO 8601 time/);
    expect(() => parseRecoverArgs(['--input', 'x', '--from', '2024-05-02', '--to', '2024-05-01'])).toThrow(/--from must be before --to/);
    expect(() => parseRecoverArgs(['--input', 'x', '--frm', '2024'])).toThrow(/unknown option --frm/);
  });
});

describe('dry run with the real enricher', () => {
  test('two schema violations: both still fail with the built-ins, both would pass once the schema is added; nothing published', async () => {
    const file = join(tmp, 'dead-letter.json');
    // Two dead-letter rows of P1 (the same message failing twice) and one of P2.
    writeFileSync(file, JSON.stringify([deadLetterRow(P1), deadLetterRow(P1), deadLetterRow(P2)]));
    const run = async (args: string[]) => {
      let out = '';
      const code = await runRecover(['--input', file, '--json', ...args], (t) => (out += t), (t) => (out += t));
      return { code, report: JSON.parse(out) };
    };
    const before = await run([]);
    expect(before.code).toBe(0);
    expect(before.report).toMatchObject({ read: 3, duplicates: 1, selected: 2, wouldPass: 0, stillFailing: 2, dryRun: true, published: 0 });
    expect(before.report.stillFailingByType.schema_violations.sample).toContain(`${BUTTON_CLICK}: schema ${BUTTON_CLICK} is not in the registry`);
    const after = await run(['--schemas', EXAMPLE_SCHEMAS]);
    expect(after.report).toMatchObject({ selected: 2, wouldPass: 2, stillFailing: 0, dryRun: true });
    const other = await run(['--schemas', EXAMPLE_SCHEMAS, '--schema', 'iglu:com.acme/']);
    expect(other.report).toMatchObject({ selected: 0 });
  });

  test('usage errors exit 2 with the usage text', async () => {
    let err = '';
    expect(await runRecover(['--bogus'], () => undefined, (t) => (err += t))).toBe(2);
    expect(err).toMatch(/unknown option --bogus[\s\S]*usage: waymark recover/);
  });
});

describe('BigQuery REST', () => {
  test('the selection becomes named query parameters over the view', () => {
    const q = selectionQuery('acme-prod.waymark.bad_rows_parsed', { types: ['schema_violations'], schemas: ['iglu:com.acme/'], from: '2024-05-01T00:00:00.000Z' }, 50);
    expect(q.query).toBe([
      'SELECT failure_tstamp, dead_letter_tstamp, failure_type, schema_keys, original_payload, original_attributes',
      'FROM `acme-prod.waymark.bad_rows_parsed`',
      'WHERE failure_type IN UNNEST(@types)\n  AND EXISTS (SELECT 1 FROM UNNEST(schema_keys) AS k, UNNEST(@schemas) AS p WHERE STARTS_WITH(k, p))\n  AND failure_tstamp >= @from',
      'ORDER BY failure_tstamp',
      'LIMIT @limit',
    ].join('\n'));
    expect(q.queryParameters).toContainEqual({ name: 'limit', parameterType: { type: 'INT64' }, parameterValue: { value: '50' } });
    expect(() => selectionQuery('bad_rows_parsed', {}, 1)).toThrow(/PROJECT.DATASET.VIEW/);
  });

  test('jobs.query then getQueryResults pages; REST cells become bq-json rows (repeated, records, epoch times)', async () => {
    // Response shapes: https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/query (QueryResponse, TableRow).
    const fields = [
      { name: 'failure_tstamp', type: 'TIMESTAMP', mode: 'NULLABLE' },
      { name: 'failure_type', type: 'STRING', mode: 'NULLABLE' },
      { name: 'schema_keys', type: 'STRING', mode: 'REPEATED' },
      { name: 'original_payload', type: 'STRING', mode: 'NULLABLE' },
      { name: 'original_attributes', type: 'RECORD', mode: 'REPEATED', fields: [{ name: 'key', type: 'STRING' }, { name: 'value', type: 'STRING' }] },
    ];
    const row = (payload: string) => ({ f: [{ v: '1.7145648E9' }, { v: 'schema_violations' }, { v: [{ v: BUTTON_CLICK }] }, { v: payload }, { v: [{ v: { f: [{ v: 'e' }, { v: 'ue' }] } }] }] });
    const calls: string[] = [];
    const request: Requester = async (req) => {
      calls.push(`${req.method} ${req.url.replace(/\?.*$/, '')}${req.url.includes('pageToken=') ? ' +page' : ''}`);
      if (req.method === 'POST') return { jobComplete: false, jobReference: { projectId: 'acme-prod', jobId: 'j1', location: 'US' } };
      if (!req.url.includes('pageToken')) return { jobComplete: true, jobReference: { projectId: 'acme-prod', jobId: 'j1', location: 'US' }, schema: { fields }, rows: [row(P1)], pageToken: 't2' };
      return { jobComplete: true, jobReference: { projectId: 'acme-prod', jobId: 'j1', location: 'US' }, schema: { fields }, rows: [row(P2)] };
    };
    const rows = await queryBadRows(request, 'acme-prod.waymark.bad_rows_parsed', {}, 10);
    expect(calls).toEqual([
      'POST https://bigquery.googleapis.com/bigquery/v2/projects/acme-prod/queries',
      'GET https://bigquery.googleapis.com/bigquery/v2/projects/acme-prod/queries/j1',
      'GET https://bigquery.googleapis.com/bigquery/v2/projects/acme-prod/queries/j1 +page',
    ]);
    const records = recordsFromText(JSON.stringify(rows), 'bq').records;
    expect(records.map((r) => [r.payload, r.failureTime, r.schemaKeys, r.attributes])).toEqual([
      [P1, '2024-05-01T12:00:00.000Z', [BUTTON_CLICK], { e: 'ue' }],
      [P2, '2024-05-01T12:00:00.000Z', [BUTTON_CLICK], { e: 'ue' }],
    ]);
    expect(rowObject([{ name: 'x', type: 'STRING' }], [{ v: null }])).toEqual({ x: null });
  });
});

describe('the bad_rows_parsed view', () => {
  const sql = badRowsViewSql([{ kind: 'dataflow-dead-letter', table: { project: 'acme', datasetId: 'waymark', tableId: 'bad_rows' } }]);

  test('extracts the bad row with the documented rule, the same the tool applies', () => {
    // The view's RE2 pattern, run as a JavaScript regular expression (`(?s)` is JavaScript's `s` flag).
    const pattern = /REGEXP_EXTRACT\(errorMessage, r'\(\?s\)(.*?)'\)/.exec(sql)![1];
    const re = new RegExp(pattern, 's');
    const message = deadLetterRow(P1).errorMessage as string;
    expect(JSON.parse(re.exec(message)![0])).toEqual(badRowFromErrorMessage(message));
    // A message with no bad row: no match, so failure_type falls back to template_error.
    expect(re.exec('java.lang.IllegalArgumentException: bad table')).toBeNull();
    expect(sql).toContain("COALESCE(JSON_VALUE(bad_row, '$.data.type'), 'template_error') AS failure_type");
  });

  test('has every column the tool reads, in order, from the dead-letter table', () => {
    for (const c of BAD_ROWS_VIEW_COLUMNS) expect(sql).toMatch(new RegExp(`\\b${c}\\b`));
    expect(sql).toContain('FROM `acme.waymark.bad_rows`');
    expect(sql).toContain('payloadString AS original_payload');
    expect(sql).toContain("JSON_VALUE(m, '$.schemaKey')");
    // The serverless path's table of bad-row JSON is read by the same view.
    const both = badRowsViewSql([
      { kind: 'dataflow-dead-letter', table: { project: 'acme', datasetId: 'waymark', tableId: 'bad_rows' } },
      { kind: 'bad-row-json', table: { project: 'acme', datasetId: 'waymark', tableId: 'serverless_bad_rows' }, jsonColumn: 'data', timeColumn: 'publish_time' },
    ]);
    expect(both).toContain('UNION ALL');
    expect(both).toContain('SAFE.PARSE_JSON(`data`) AS bad_row');
    expect(() => badRowsViewSql([{ kind: 'bad-row-json', table: { project: 'a', datasetId: 'b', tableId: 'c' }, jsonColumn: 'x; DROP', timeColumn: 't' }])).toThrow(/not a BigQuery column name/);
  });
});

describe('replay bookkeeping (a stand-in publisher)', () => {
  const records = recordsFromText([deadLetterRow(P1), deadLetterRow(P2), { timestamp: '2024-05-01 12:00:00 UTC', payloadString: 'not a payload', errorMessage: 'x' }].map((r) => JSON.stringify(r)).join('\n'), 'rows').records;
  const enricher = createNodeEnricher({ schemaFolders: [EXAMPLE_SCHEMAS] }) as unknown as Revalidator;
  const publisher = () => {
    const sent: Array<{ data: string; attributes: Record<string, string> }> = [];
    const publish: Publisher = async (data, attributes) => {
      sent.push({ data: data.toString('utf8'), attributes });
      return String(sent.length);
    };
    return { sent, publish };
  };

  test('publishes only the rows that now pass, with the original attributes and the replay id; a second run publishes nothing', async () => {
    const stateFile = join(tmp, 'state-a.json');
    const p = publisher();
    const first = await recover(records, { revalidator: enricher, replay: { publish: p.publish, topic: 't', stateFile } });
    expect(first).toMatchObject({ selected: 3, wouldPass: 2, stillFailing: 1, published: 2, alreadyReplayed: 0 });
    expect(p.sent.map((m) => m.data)).toEqual([P1, P2]);
    expect(p.sent[0].attributes).toMatchObject({ e: 'ue', aid: 'shop', [REPLAY_ID_ATTRIBUTE]: payloadId(P1) });
    expect(Object.keys(loadState(stateFile).replayed).sort()).toEqual([payloadId(P1), payloadId(P2)].sort());
    const again = await recover(records, { revalidator: enricher, replay: { publish: p.publish, topic: 't', stateFile } });
    expect(again).toMatchObject({ published: 0, alreadyReplayed: 2 });
    expect(p.sent).toHaveLength(2);
  });

  test('--include-failing publishes the failing row too; a failed publish is reported and not recorded', async () => {
    const stateFile = join(tmp, 'state-b.json');
    const failing: Publisher = async (data) => {
      if (data.toString() === P2) throw new Error('DEADLINE_EXCEEDED');
      return 'm';
    };
    const r = await recover(records, { revalidator: enricher, replay: { publish: failing, topic: 't', stateFile, includeFailing: true } });
    expect(r).toMatchObject({ published: 2, publishErrors: [`${payloadId(P2)}: DEADLINE_EXCEEDED`] });
    expect(Object.keys(loadState(stateFile).replayed)).not.toContain(payloadId(P2));
  });

  test('an unreadable state file is an error and is left as it is', async () => {
    const stateFile = join(tmp, 'state-c.json');
    writeFileSync(stateFile, '{ half');
    await expect(recover(records, { revalidator: enricher, replay: { publish: publisher().publish, topic: 't', stateFile } })).rejects.toThrow(/is not JSON .* not overwritten/);
    expect(readFileSync(stateFile, 'utf8')).toBe('{ half');
  });
});
