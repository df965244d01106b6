/**
 * The `bad_rows_parsed` view: every failed event of the dead-letter table as columns (failure type, messages, the
 * original payload, the schema keys involved, the failure time), so bad rows can be counted, grouped and selected for
 * replay with plain SQL.
 *
 * The Dataflow templates write a failed element's error as `errorMessage`. Waymark's enrichment throws an Error whose
 * message is the bad-row JSON (pipeline/badrow.ts, `iglu:io.waymark/bad_row/jsonschema/1-0-0`), and Nashorn's
 * `ScriptException.getMessage()` wraps it: `Error: <bad-row JSON> in <eval> at line number N at column number M`.
 * The documented rule: the bad-row JSON is the text of errorMessage from its first `{` to its last `}`. Rows whose
 * error is not a bad row (the template's own failures, e.g. a row BigQuery refused) get failure_type
 * `template_error` and keep their errorMessage. The original message is `payloadString`, complete (the bad row's own
 * payload copy is cut at 100,000 characters), with its Pub/Sub attributes.
 */

/** A BigQuery table the view reads. */
export interface SqlTable {
  readonly project: string;
  readonly datasetId: string;
  readonly tableId: string;
}

/** Where the view reads bad rows from. */
export type BadRowSource =
  /** A dead-letter table as the Dataflow templates write it (timestamp, payloadString, attributes, errorMessage, ...). */
  | { readonly kind: 'dataflow-dead-letter'; readonly table: SqlTable }
  /**
   * A table with one bad-row JSON per row (the serverless path): the column holding the JSON text, the column with the
   * time it was written and, when the original message is kept apart, its column.
   */
  | { readonly kind: 'bad-row-json'; readonly table: SqlTable; readonly jsonColumn: string; readonly timeColumn: string; readonly payloadColumn?: string };

/** The failure type of dead-letter rows whose error is not a Waymark bad row. */
export const TEMPLATE_ERROR = 'template_error';

/** The view's columns, in order (the recovery tool reads these names). */
export const BAD_ROWS_VIEW_COLUMNS = [
  'failure_tstamp', 'dead_letter_tstamp', 'failure_type', 'messages', 'message_texts', 'schema_keys',
  'processor_artifact', 'processor_version', 'original_payload', 'original_attributes', 'error_message', 'bad_row', 'source_table',
] as const;

function ref(t: SqlTable): string {
  return `\`${t.project}.${t.datasetId}.${t.tableId}\``;
}

function ident(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`'${name}' is not a BigQuery column name`);
  return `\`${name}\``;
}

/** One source as rows of (tstamp, bad_row JSON, original payload, error text, source). */
function sourceSql(source: BadRowSource): string {
  const table = `${source.table.project}.${source.table.datasetId}.${source.table.tableId}`;
  if (source.kind === 'dataflow-dead-letter') {
    return [
      '  SELECT',
      '    `timestamp` AS dead_letter_tstamp,',
      // First `{` to last `}` (RE2: `(?s)` lets `.` match newlines; `.*` is greedy, so the match ends at the last `}`).
      "    SAFE.PARSE_JSON(REGEXP_EXTRACT(errorMessage, r'(?s)\\{.*\\}')) AS bad_row,",
      '    payloadString AS original_payload,',
      '    attributes AS original_attributes,',
      '    errorMessage AS error_message,',
      `    '${table}' AS source_table`,
      `  FROM ${ref(source.table)}`,
    ].join('\n');
  }
  return [
    '  SELECT',
    `    CAST(${ident(source.timeColumn)} AS TIMESTAMP) AS dead_letter_tstamp,`,
    `    SAFE.PARSE_JSON(${ident(source.jsonColumn)}) AS bad_row,`,
    source.payloadColumn
      ? `    ${ident(source.payloadColumn)} AS original_payload,`
      // The payload is the raw text (a JSON string) when the message did not parse, else the parsed message.
      : `    COALESCE(JSON_VALUE(SAFE.PARSE_JSON(${ident(source.jsonColumn)}), '$.data.payload'), TO_JSON_STRING(JSON_QUERY(SAFE.PARSE_JSON(${ident(source.jsonColumn)}), '$.data.payload'))) AS original_payload,`,
    '    CAST([] AS ARRAY<STRUCT<key STRING, value STRING>>) AS original_attributes,',
    `    ${ident(source.jsonColumn)} AS error_message,`,
    `    '${table}' AS source_table`,
    `  FROM ${ref(source.table)}`,
  ].join('\n');
}

/** The view's SQL over one or more sources. */
export function badRowsViewSql(sources: readonly BadRowSource[]): string {
  if (sources.length === 0) throw new Error('the bad_rows_parsed view needs at least one source');
  return [
    '-- Failed events, one row each: failure type, messages, schema keys, failure time and the original payload (replayable).',
    '-- Dataflow dead-letter rows: the bad-row JSON is the text of errorMessage from its first { to its last }.',
    'WITH sources AS (',
    sources.map(sourceSql).join('\n  UNION ALL\n'),
    ')',
    'SELECT',
    "  COALESCE(SAFE.TIMESTAMP(JSON_VALUE(bad_row, '$.data.failure.timestamp')), dead_letter_tstamp) AS failure_tstamp,",
    '  dead_letter_tstamp,',
    `  COALESCE(JSON_VALUE(bad_row, '$.data.type'), '${TEMPLATE_ERROR}') AS failure_type,`,
    "  JSON_QUERY_ARRAY(bad_row, '$.data.failure.messages') AS messages,",
    '  ARRAY(',
    "    SELECT COALESCE(JSON_VALUE(m, '$.message'), JSON_VALUE(m, '$.expectation'), TO_JSON_STRING(m))",
    "    FROM UNNEST(JSON_QUERY_ARRAY(bad_row, '$.data.failure.messages')) AS m WITH OFFSET AS i ORDER BY i",
    '  ) AS message_texts,',
    '  ARRAY(',
    "    SELECT DISTINCT JSON_VALUE(m, '$.schemaKey')",
    "    FROM UNNEST(JSON_QUERY_ARRAY(bad_row, '$.data.failure.messages')) AS m",
    "    WHERE JSON_VALUE(m, '$.schemaKey') IS NOT NULL",
    '  ) AS schema_keys,',
    "  JSON_VALUE(bad_row, '$.data.processor.artifact') AS processor_artifact,",
    "  JSON_VALUE(bad_row, '$.data.processor.version') AS processor_version,",
    '  original_payload,',
    '  original_attributes,',
    '  error_message,',
    '  bad_row,',
    '  source_table',
    'FROM sources',
    '',
  ].join('\n');
}
