/**
 * Reads bad rows straight from BigQuery with the REST API (jobs.query, then jobs.getQueryResults for further pages),
 * https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/query. Authentication is the Application Default
 * Credentials of google-auth-library, which the Pub/Sub client already carries (`PubSub#auth`), so no BigQuery client
 * library is needed. The query runs over the `bad_rows_parsed` view with the selection as query parameters.
 */
import type { Selection } from './rows';

/** One HTTP call (google-auth-library's `GoogleAuth#request`, or a stand-in in tests). */
export type Requester = (request: { url: string; method: 'GET' | 'POST'; data?: unknown }) => Promise<unknown>;

const API = 'https://bigquery.googleapis.com/bigquery/v2';
const TABLE = /^([a-z][a-z0-9-]{4,28}[a-z0-9])[.:]([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)$/;

export interface TableField {
  readonly name: string;
  readonly type: string;
  readonly mode?: string;
  readonly fields?: readonly TableField[];
}

interface QueryResponse {
  jobComplete?: boolean;
  jobReference?: { projectId: string; jobId: string; location?: string };
  schema?: { fields: TableField[] };
  rows?: Array<{ f: Array<{ v: unknown }> }>;
  pageToken?: string;
  errors?: Array<{ message: string }>;
}

/** A REST cell (`{v}`) as `bq --format=json` would print it: scalars as strings, repeated as arrays, records as objects. */
function cell(field: TableField, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (field.mode === 'REPEATED') return (v as Array<{ v: unknown }>).map((item) => cell({ ...field, mode: 'NULLABLE' }, item.v));
  if (field.type === 'RECORD' || field.type === 'STRUCT') return rowObject(field.fields ?? [], (v as { f: Array<{ v: unknown }> }).f);
  return v;
}

export function rowObject(fields: readonly TableField[], f: Array<{ v: unknown }>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  fields.forEach((field, i) => {
    out[field.name] = cell(field, f[i]?.v);
  });
  return out;
}

/** The query over the view: only the columns the tool needs, the selection as named parameters. */
export function selectionQuery(view: string, s: Selection, limit: number): { query: string; queryParameters: unknown[] } {
  const m = TABLE.exec(view);
  if (!m) throw new Error(`--bigquery wants PROJECT.DATASET.VIEW (e.g. acme-prod.waymark.bad_rows_parsed), got '${view}'`);
  const where: string[] = [];
  const params: unknown[] = [];
  if (s.types && s.types.length > 0) {
    where.push('failure_type IN UNNEST(@types)');
    params.push({ name: 'types', parameterType: { type: 'ARRAY', arrayType: { type: 'STRING' } }, parameterValue: { arrayValues: s.types.map((value) => ({ value })) } });
  }
  if (s.schemas && s.schemas.length > 0) {
    where.push('EXISTS (SELECT 1 FROM UNNEST(schema_keys) AS k, UNNEST(@schemas) AS p WHERE STARTS_WITH(k, p))');
    params.push({ name: 'schemas', parameterType: { type: 'ARRAY', arrayType: { type: 'STRING' } }, parameterValue: { arrayValues: s.schemas.map((value) => ({ value })) } });
  }
  if (s.from) {
    where.push('failure_tstamp >= @from');
    params.push({ name: 'from', parameterType: { type: 'TIMESTAMP' }, parameterValue: { value: s.from } });
  }
  if (s.to) {
    where.push('failure_tstamp < @to');
    params.push({ name: 'to', parameterType: { type: 'TIMESTAMP' }, parameterValue: { value: s.to } });
  }
  params.push({ name: 'limit', parameterType: { type: 'INT64' }, parameterValue: { value: String(limit) } });
  const query = [
    'SELECT failure_tstamp, dead_letter_tstamp, failure_type, schema_keys, original_payload, original_attributes',
    `FROM \`${m[1]}.${m[2]}.${m[3]}\``,
    where.length ? `WHERE ${where.join('\n  AND ')}` : '',
    'ORDER BY failure_tstamp',
    'LIMIT @limit',
  ].filter((l) => l !== '').join('\n');
  return { query, queryParameters: params };
}

/** Runs the selection over the view and returns its rows as `bq --format=json` objects. */
export async function queryBadRows(request: Requester, view: string, s: Selection, limit: number, billingProject?: string): Promise<Array<Record<string, unknown>>> {
  const project = billingProject ?? TABLE.exec(view)?.[1];
  const { query, queryParameters } = selectionQuery(view, s, limit);
  let page = (await request({
    url: `${API}/projects/${project}/queries`,
    method: 'POST',
    data: { query, useLegacySql: false, parameterMode: 'NAMED', queryParameters, maxResults: 1000, timeoutMs: 60000 },
  })) as QueryResponse;
  const rows: Array<Record<string, unknown>> = [];
  for (let pages = 0; pages < 10000; pages++) {
    if (page.errors && page.errors.length > 0) throw new Error(`BigQuery: ${page.errors.map((e) => e.message).join('; ')}`);
    const ref = page.jobReference;
    if (page.jobComplete !== false) {
      const fields = page.schema?.fields ?? [];
      for (const r of page.rows ?? []) rows.push(rowObject(fields, r.f));
      if (!page.pageToken) return rows;
    }
    if (!ref) throw new Error('BigQuery answered without a jobReference');
    const qs = new URLSearchParams({ maxResults: '1000', timeoutMs: '60000' });
    if (ref.location) qs.set('location', ref.location);
    if (page.jobComplete !== false && page.pageToken) qs.set('pageToken', page.pageToken);
    page = (await request({ url: `${API}/projects/${ref.projectId}/queries/${ref.jobId}?${qs.toString()}`, method: 'GET' })) as QueryResponse;
  }
  throw new Error('BigQuery returned more than 10,000 pages: narrow the selection (--type, --schema, --from/--to, --limit)');
}
