import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TerraformOutput } from 'cdktf';
import { BigqueryTable } from '@cdktf/provider-google/lib/bigquery-table';
import { SchemaRegistry } from '../../lib/schema-registry';
import { WarehouseSink, WarehouseSinkProps } from '../../lib/warehouse-sink';
import { BigQueryField, fieldEvolutionProblems } from '../../lib/private/bigquery-schema';
import { ATOMIC_COLUMNS } from '../../pipeline/columns';
import { BUILTIN_SCHEMAS_DIR } from '../../pipeline/registry/load';
import { buildRegistry, SchemaFolder } from '../../pipeline/registry/registry';
import { dataStack, grantedRoles, PRIMITIVE_ROLES, PROJECT, REGISTRIES, synth } from './fixtures/data-stack';

const ACME = join(REGISTRIES, 'acme');

function make(props: Partial<WarehouseSinkProps> = {}, folders: string[] = [ACME]) {
  const stack = dataStack();
  const registry = new SchemaRegistry(stack, 'schemas', { projectId: PROJECT, schemaFolders: folders });
  const warehouse = new WarehouseSink(stack, 'warehouse', { registry, projectId: PROJECT, ...props });
  return { stack, registry, warehouse };
}

/** A registry of the built-ins plus the files of `folder` whose paths pass `keep` (an earlier deployment's registry). */
function registryOf(folder: string, keep: (path: string) => boolean = () => true) {
  const read = (root: string): SchemaFolder => {
    const files: Array<{ path: string; text: string }> = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir).sort()) {
        const full = join(dir, entry);
        if (statSync(full).isDirectory()) walk(full);
        else files.push({ path: relative(root, full), text: readFileSync(full, 'utf8') });
      }
    };
    walk(root);
    return { name: root, files };
  };
  const user = read(folder);
  return buildRegistry([read(BUILTIN_SCHEMAS_DIR), { ...user, files: user.files.filter((f) => keep(f.path)) }]);
}

function eventsSchema(text: string): BigQueryField[] {
  const tables = JSON.parse(text).resource.google_bigquery_table;
  const events = Object.values<any>(tables).find((t) => t.table_id === 'events');
  return JSON.parse(events.schema);
}

const column = (fields: readonly BigQueryField[], name: string) => fields.find((f) => f.name === name)!;
const shape = (f: BigQueryField): unknown => ({ [f.name]: f.fields ? [f.type, f.mode, f.fields.map(shape)] : [f.type, f.mode] });

describe('WarehouseSink', () => {
  test('snapshot', () => {
    expect(synth(make({ labels: { env: 'test' } }).stack).text).toMatchSnapshot();
  });

  test('events table: partitioned by day on collector_tstamp, clustered, deletion-protected, labelled', () => {
    const s = synth(make({ labels: { env: 'prod' } }).stack);
    expect(s.text).toHaveResourceWithProperties(BigqueryTable, {
      table_id: 'events',
      project: PROJECT,
      time_partitioning: { type: 'DAY', field: 'collector_tstamp' },
      clustering: ['app_id', 'event_name', 'domain_sessionid'],
      require_partition_filter: false,
      deletion_protection: true,
      labels: { env: 'prod', 'managed-by': 'waymark' },
    });
    expect(s.one('google_bigquery_dataset')).toMatchObject({
      dataset_id: 'waymark',
      location: 'US',
      delete_contents_on_destroy: false,
      labels: { env: 'prod', 'managed-by': 'waymark' },
    });
    for (const t of s.list('google_bigquery_table')) expect(t.labels['managed-by']).toBe('waymark');
  });

  test('partition expiration, partition filter and clustering are configurable', () => {
    const s = synth(make({ partitionField: 'derived_tstamp', partitionExpirationDays: 400, requirePartitionFilter: true, viewLookbackDays: 90, clustering: ['event_name'] }).stack);
    const events = s.list('google_bigquery_table').find((t) => t.table_id === 'events');
    expect(events).toMatchObject({
      time_partitioning: { type: 'DAY', field: 'derived_tstamp', expiration_ms: 400 * 86_400_000 },
      require_partition_filter: true,
      clustering: ['event_name'],
    });
    expect(s.list('google_bigquery_table').find((t) => t.table_id === 'bad_rows').time_partitioning).toEqual({ type: 'DAY', field: 'timestamp', expiration_ms: 400 * 86_400_000 });
  });

  test('the atomic columns come first, in the canonical order, with their types and modes', () => {
    const fields = eventsSchema(synth(make().stack).text);
    expect(fields.slice(0, ATOMIC_COLUMNS.length).map((f) => [f.name, f.type, f.mode])).toEqual(ATOMIC_COLUMNS.map((c) => [c.name, c.type, c.mode]));
    expect(column(fields, 'collector_tstamp').mode).toBe('REQUIRED');
    expect(column(fields, 'event_id').mode).toBe('REQUIRED');
    expect(column(fields, 'load_tstamp').defaultValueExpression).toBe('CURRENT_TIMESTAMP()');
  });

  test('generated columns for a registry with nested objects and arrays', () => {
    const fields = eventsSchema(synth(make().stack).text);
    const checkout = column(fields, 'unstruct_event_com_acme_checkout_1');
    expect(checkout.mode).toBe('NULLABLE');
    expect(checkout.description).toMatch(/^iglu:com\.acme\/checkout\/jsonschema\/1-\*-\* \(columns follow 1-0-1\)/);
    expect(shape(checkout)).toEqual({
      unstruct_event_com_acme_checkout_1: ['RECORD', 'NULLABLE', [
        { order_id: ['STRING', 'NULLABLE'] },
        { placed_at: ['TIMESTAMP', 'NULLABLE'] },
        { delivery_date: ['DATE', 'NULLABLE'] },
        { total: ['FLOAT', 'NULLABLE'] },
        { item_count: ['INTEGER', 'NULLABLE'] },
        { weight: ['FLOAT', 'NULLABLE'] },
        { gift_wrapped: ['BOOLEAN', 'NULLABLE'] },
        { channel: ['STRING', 'NULLABLE'] },
        { address: ['RECORD', 'NULLABLE', [
          { street_line: ['STRING', 'NULLABLE'] },
          { post_code: ['STRING', 'NULLABLE'] },
          { geo: ['RECORD', 'NULLABLE', [{ lat: ['FLOAT', 'NULLABLE'] }, { lon: ['FLOAT', 'NULLABLE'] }]] },
          { country_code: ['STRING', 'NULLABLE'] },
        ]] },
        { items: ['RECORD', 'REPEATED', [
          { sku: ['STRING', 'NULLABLE'] },
          { quantity: ['INTEGER', 'NULLABLE'] },
          { options: ['RECORD', 'REPEATED', [{ name: ['STRING', 'NULLABLE'] }, { value: ['STRING', 'NULLABLE'] }]] },
        ]] },
        { tags: ['STRING', 'REPEATED'] },
        { metadata: ['JSON', 'NULLABLE'] },
        { matrix: ['JSON', 'NULLABLE'] },
        { reference: ['JSON', 'NULLABLE'] },
        { anything: ['JSON', 'NULLABLE'] },
        { coupon_code: ['STRING', 'NULLABLE'] },
      ]],
    });
    expect(checkout.fields!.find((f) => f.name === 'order_id')!.description).toBe('Id of the order');
    // Entities of the same schema: the same record, repeated.
    const entities = column(fields, 'contexts_com_acme_checkout_1');
    expect(entities.mode).toBe('REPEATED');
    expect(entities.fields).toEqual(checkout.fields);
    // camelCase and acronyms are snake_cased by the enrichment's naming function.
    expect(column(fields, 'contexts_com_acme_customer_1').fields!.map((f) => [f.name, f.type])).toEqual([
      ['customer_id', 'STRING'], ['loyalty_tier', 'STRING'], ['http_referrer_url', 'STRING'],
    ]);
    // Built-in entities and events get columns too; protocol envelopes do not.
    expect(column(fields, 'contexts_com_snowplowanalytics_snowplow_web_page_1').fields).toEqual([{ name: 'id', type: 'STRING', mode: 'NULLABLE' }]);
    expect(fields.map((f) => f.name).filter((n) => /payload_data|snowplow_contexts|unstruct_event_1|collector_payload|bad_row/.test(n))).toEqual([]);
  });

  test('schema evolution: a new ADDITION updates its column in place', () => {
    const before = new WarehouseSink(dataStack(), 'w', { registry: { registry: registryOf(ACME, (p) => p.endsWith('checkout/jsonschema/1-0-0')) } }).fields;
    const after = new WarehouseSink(dataStack(), 'w', { registry: { registry: registryOf(ACME) } }).fields;
    const old = column(before, 'unstruct_event_com_acme_checkout_1');
    const now = column(after, 'unstruct_event_com_acme_checkout_1');
    // Same column; every old field kept with its type; the new fields appended (BigQuery adds them in place).
    expect(fieldEvolutionProblems([old], [now])).toEqual([]);
    expect(now.fields!.map((f) => f.name)).toEqual([...old.fields!.map((f) => f.name), 'coupon_code']);
    expect(column(now.fields!, 'address').fields!.map((f) => f.name)).toEqual(['street_line', 'post_code', 'geo', 'country_code']);
    // And the whole table only grows: the Terraform provider updates it in place rather than replacing it.
    expect(fieldEvolutionProblems(before, after)).toEqual([]);
  });

  test('schema evolution: a new MODEL adds columns beside the old ones', () => {
    const before = new WarehouseSink(dataStack(), 'w', { registry: { registry: registryOf(ACME, (p) => !p.includes('2-0-0')) } }).fields;
    const after = new WarehouseSink(dataStack(), 'w', { registry: { registry: registryOf(ACME) } }).fields;
    expect(before.map((f) => f.name)).not.toContain('unstruct_event_com_acme_checkout_2');
    expect(after.map((f) => f.name).filter((n) => n.includes('acme_checkout'))).toEqual([
      'unstruct_event_com_acme_checkout_1', 'contexts_com_acme_checkout_1', 'unstruct_event_com_acme_checkout_2', 'contexts_com_acme_checkout_2',
    ]);
    expect(column(after, 'unstruct_event_com_acme_checkout_2').fields!.find((f) => f.name === 'order_id')!.type).toBe('INTEGER');
    expect(column(after, 'unstruct_event_com_acme_checkout_1').fields!.find((f) => f.name === 'order_id')!.type).toBe('STRING');
    expect(fieldEvolutionProblems(before, after)).toEqual([]);
  });

  test('schema evolution: a breaking change inside a MODEL is a synth-time error (JSON Schema level)', () => {
    expect(() => make({}, [join(REGISTRIES, 'breaking')])).toThrow(
      "SchemaRegistry: prop 'schemaFolders' holds invalid schemas. Invalid schema: " + join(REGISTRIES, 'breaking', 'com.acme/checkout/jsonschema/1-0-1') +
      ': breaking change from 1-0-0 within MODEL 1: #/properties/orderId/type: type changed from "string" to "integer". ' +
      'Versions within a MODEL may only add optional properties or loosen constraints; publish this change as 2-0-0',
    );
  });

  test('schema evolution: a change BigQuery cannot apply in place is a synth-time error (warehouse level)', () => {
    expect(() => make({}, [join(REGISTRIES, 'json-to-record')])).toThrow(
      "WarehouseSink: prop 'registry' cannot be stored in BigQuery (1 problem):\n  " + join(REGISTRIES, 'json-to-record', 'com.acme/loose/jsonschema/1-0-1') +
      ': breaking warehouse change from 1-0-0: unstruct_event_com_acme_loose_1.extra: type changes from JSON to RECORD ' +
      "(BigQuery cannot change a field's type in place). Versions within a MODEL share one column and may only add fields; publish this change as 2-0-0 (a new column)",
    );
  });

  test('properties that snake_case to the same field are refused instead of silently dropped', () => {
    expect(() => make({}, [join(REGISTRIES, 'clash')])).toThrow(
      "WarehouseSink: prop 'registry' cannot be stored in BigQuery (1 problem):\n  " + join(REGISTRIES, 'clash', 'com.acme/clash/jsonschema/1-0-0') +
      ': order_id: properties "orderId" and "order_id" both become the BigQuery field "order_id"; rename one of them',
    );
  });

  test('fieldEvolutionProblems names each kind of in-place impossibility', () => {
    const f = (name: string, type: any, mode: any = 'NULLABLE', fields?: BigQueryField[]): BigQueryField => ({ name, type, mode, ...(fields ? { fields } : {}) });
    expect(fieldEvolutionProblems([f('a', 'STRING'), f('b', 'INTEGER')], [f('b', 'INTEGER')])).toEqual(['a: field removed (BigQuery cannot drop a field in place)']);
    expect(fieldEvolutionProblems([f('r', 'RECORD', 'NULLABLE', [f('x', 'INTEGER')])], [f('r', 'RECORD', 'NULLABLE', [f('x', 'FLOAT')])])).toEqual([
      "r.x: type changes from INTEGER to FLOAT (BigQuery cannot change a field's type in place)",
    ]);
    expect(fieldEvolutionProblems([f('t', 'STRING')], [f('t', 'STRING', 'REPEATED')])).toEqual(['t: mode changes from NULLABLE to REPEATED (BigQuery can only relax REQUIRED to NULLABLE in place)']);
    expect(fieldEvolutionProblems([f('t', 'STRING', 'REQUIRED')], [f('t', 'STRING')])).toEqual([]);
    expect(fieldEvolutionProblems([], [f('n', 'STRING', 'REQUIRED')])).toEqual(['n: a new REQUIRED field cannot be added to an existing table']);
  });

  test('the dead-letter table says how to read errorMessage: Nashorn wraps the bad row, the JSON is from the first { to the last }', () => {
    // The templates write ScriptException.getMessage() of the UDF's throw; Nashorn formats it as
    // `Error: <message> in <eval> at line number N at column number M` (javax.script.ScriptException.getMessage appends
    // " in <file> at line number N at column number M" to Nashorn's "Error: <message>").
    const s = synth(make().stack);
    const table = s.list('google_bigquery_table').find((t) => t.table_id === 'bad_rows');
    expect(table.description).toContain('errorMessage reads `Error: <bad-row JSON> in <eval> at line number N at column number M`');
    expect(table.description).toContain('the bad-row JSON is the text of errorMessage from its first `{` to its last `}`');
    expect(table.description).not.toMatch(/bad-row JSON error \(errorMessage\)/);
    // The rule recovers the JSON from a message of that form, braces inside strings included.
    const badRow = { schema: 'iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-0', data: { failure: { messages: [{ error: 'a } in text' }] } } };
    const errorMessage = `Error: ${JSON.stringify(badRow)} in <eval> at line number 1 at column number 8123`;
    expect(JSON.parse(errorMessage.slice(errorMessage.indexOf('{'), errorMessage.lastIndexOf('}') + 1))).toEqual(badRow);
  });

  test('dead-letter table with the Dataflow templates\' schema', () => {
    const s = synth(make().stack);
    const table = s.list('google_bigquery_table').find((t) => t.table_id === 'bad_rows');
    expect(JSON.parse(table.schema)).toEqual([
      { name: 'timestamp', type: 'TIMESTAMP', mode: 'REQUIRED' },
      { name: 'payloadString', type: 'STRING', mode: 'REQUIRED' },
      { name: 'payloadBytes', type: 'BYTES', mode: 'REQUIRED' },
      { name: 'attributes', type: 'RECORD', mode: 'REPEATED', fields: [{ name: 'key', type: 'STRING', mode: 'NULLABLE' }, { name: 'value', type: 'STRING', mode: 'NULLABLE' }] },
      { name: 'errorMessage', type: 'STRING', mode: 'NULLABLE' },
      { name: 'stacktrace', type: 'STRING', mode: 'NULLABLE' },
    ]);
    expect(table).toMatchObject({ deletion_protection: true, time_partitioning: { type: 'DAY', field: 'timestamp' } });
  });

  test('page_views view: engaged time from page pings, joined on the web_page entity', () => {
    const s = synth(make({ pagePingHeartbeatSeconds: 15, pagePingMinimumVisitSeconds: 3 }).stack);
    const view = s.list('google_bigquery_table').find((t) => t.table_id === 'page_views');
    expect(view.view.use_legacy_sql).toBe(false);
    expect(view.deletion_protection).toBe(false);
    const sql: string = view.view.query;
    expect(sql).toMatch(/FROM `\$\{google_bigquery_table\.warehouse_events_[0-9A-F]+\.project\}\.\$\{google_bigquery_table\.warehouse_events_[0-9A-F]+\.dataset_id\}\.\$\{google_bigquery_table\.warehouse_events_[0-9A-F]+\.table_id\}`/);
    expect(sql).toContain('contexts_com_snowplowanalytics_snowplow_web_page_1[SAFE_OFFSET(0)].id AS web_page_id');
    expect(sql).toContain('COUNT(DISTINCT DIV(UNIX_SECONDS(derived_tstamp), 15)) AS heartbeat_windows');
    expect(sql).toContain('IF(p.heartbeat_windows IS NULL, 0, 3 + (p.heartbeat_windows - 1) * 15) AS engaged_time_in_s');
    expect(sql).toContain('ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY collector_tstamp) AS duplicate_index');
    expect(sql).toContain("WHERE pv.duplicate_index = 1 AND pv.event_name = 'page_view'");
    expect(sql.split('(').length).toBe(sql.split(')').length);
  });

  test('sessions view: start, end, page views, engaged time, landing page, referrer and campaign', () => {
    const s = synth(make().stack);
    const view = s.list('google_bigquery_table').find((t) => t.table_id === 'sessions');
    const sql: string = view.view.query;
    for (const output of ['start_tstamp', 'end_tstamp', 'duration_in_s', 'page_views', 'engaged_time_in_s', 'landing_page_url', 'page_referrer', 'refr_medium', 'refr_source', 'mkt_campaign', 'mkt_source', 'mkt_medium']) {
      expect(sql).toMatch(new RegExp(`\\b${output}\\b`));
    }
    expect(sql).toMatch(/FROM `\$\{google_bigquery_table\.warehouse_page-views_[0-9A-F]+\.project\}\.[^`]+table_id\}`/);
    expect(sql).toContain('GROUP BY domain_sessionid');
    expect(sql.split('(').length).toBe(sql.split(')').length);
  });

  /**
   * A small scope checker for the views' SQL (offline, no BigQuery): the WITH list, every FROM/JOIN source (a CTE or a
   * backticked table whose columns are given), and every column reference, bare or `alias.column`, resolved against
   * the sources of its own query block. Returns the output columns of the final SELECT.
   */
  function checkSqlScopes(sql: string, tables: Record<string, readonly string[]>): string[] {
    const KEYWORDS = new Set(['SELECT', 'AS', 'FROM', 'WHERE', 'AND', 'OR', 'IN', 'IS', 'NOT', 'NULL', 'OVER', 'PARTITION', 'BY', 'ORDER',
      'GROUP', 'LEFT', 'JOIN', 'ON', 'USING', 'WITH', 'DESC', 'ASC', 'LIMIT', 'IGNORE', 'NULLS', 'DISTINCT', 'INTERVAL', 'DAY', 'SECOND', 'INT64', 'TRUE', 'FALSE']);
    type Tok = { k: 'id' | 'table' | 'str' | 'num' | 'p'; v: string };
    const toks: Tok[] = [];
    const re = /\s+|--[^\n]*|'(?:[^'\\]|\\.)*'|`[^`]*`|\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|>=|<=|!=|<>|[(),.[\]=+\-*/<>]/gy;
    let m: RegExpExecArray | null;
    while (re.lastIndex < sql.length && (m = re.exec(sql)) !== null) {
      const v = m[0];
      if (/^\s|^--/.test(v)) continue;
      toks.push({ k: v[0] === "'" ? 'str' : v[0] === '`' ? 'table' : /^\d/.test(v) ? 'num' : /^[A-Za-z_]/.test(v) ? 'id' : 'p', v });
    }
    if (re.lastIndex < sql.length) throw new Error(`unexpected text at ${re.lastIndex}: ${sql.slice(re.lastIndex, re.lastIndex + 20)}`);
    let i = 0;
    const expect_ = (v: string) => { if (toks[i]?.v.toUpperCase() !== v) throw new Error(`expected ${v} at token ${i}, got ${toks[i]?.v}`); i++; };
    /** The tokens of a parenthesised group starting at i (which is '('); leaves i after the ')'. */
    const group = (): Tok[] => {
      expect_('(');
      const start = i;
      for (let depth = 1; depth > 0; i++) {
        if (i >= toks.length) throw new Error('unbalanced parentheses');
        if (toks[i].v === '(') depth++;
        if (toks[i].v === ')') depth--;
      }
      return toks.slice(start, i - 1);
    };
    const ctes = new Map<string, string[]>();
    const block = (body: Tok[]): string[] => {
      // Sources and aliases at depth 0.
      const aliases = new Map<string, readonly string[]>();
      const bare: string[] = [];
      const defined = new Set<string>();
      let depth = 0;
      for (let j = 0; j < body.length; j++) {
        const t = body[j];
        if (t.v === '(') depth++;
        if (t.v === ')') depth--;
        if (depth !== 0 || (t.v.toUpperCase() !== 'FROM' && t.v.toUpperCase() !== 'JOIN')) continue;
        const src = body[j + 1];
        const columns = src.k === 'table' ? tables[src.v] : ctes.get(src.v);
        if (columns === undefined) throw new Error(`unknown source ${src.v}`);
        defined.add(src.v);
        if (body[j + 2]?.v.toUpperCase() === 'AS') {
          aliases.set(body[j + 3].v, columns);
          defined.add(body[j + 3].v);
        } else bare.push(...columns);
      }
      if (aliases.size === 0 && bare.length === 0) throw new Error('a query block without FROM');
      const all = [...bare, ...[...aliases.values()].flat()];
      for (let j = 0; j < body.length; j++) {
        const t = body[j];
        if (t.k !== 'id' || KEYWORDS.has(t.v.toUpperCase()) || defined.has(t.v) && !aliases.has(t.v)) continue;
        if (body[j + 1]?.v === '(' || body[j - 1]?.v === '.' || body[j - 1]?.v.toUpperCase() === 'AS') continue;
        if (aliases.has(t.v) && body[j + 1]?.v === '.') {
          const column = body[j + 2].v;
          if (!aliases.get(t.v)!.includes(column)) throw new Error(`${t.v}.${column}: no such column in ${t.v}'s source`);
          j += 2;
          continue;
        }
        if (!(aliases.size > 0 ? all : bare).includes(t.v)) throw new Error(`${t.v}: no such column in the block's sources`);
      }
      // Output columns: the depth-0 items of the SELECT list.
      const select = body.findIndex((t) => t.v.toUpperCase() === 'SELECT');
      const from = body.findIndex((t, j) => j > select && t.v.toUpperCase() === 'FROM');
      const outputs: string[] = [];
      let item: Tok[] = [];
      depth = 0;
      for (const t of [...body.slice(select + 1, from), { k: 'p', v: ',' } as Tok]) {
        if (t.v === '(' || t.v === '[') depth++;
        if (t.v === ')' || t.v === ']') depth--;
        if (depth === 0 && t.v === ',') {
          const last = item[item.length - 1];
          outputs.push(last.v);
          if (last.k !== 'id') throw new Error('an unnamed output column');
          item = [];
        } else item.push(t);
      }
      return outputs;
    };
    expect_('WITH');
    for (;;) {
      const name = toks[i++].v;
      expect_('AS');
      ctes.set(name, block(group()));
      if (toks[i].v !== ',') break;
      i++;
    }
    return block(toks.slice(i));
  }

  test('the views\' SQL resolves: every source is a CTE or a known table, every column exists where it is read', () => {
    const { stack, warehouse } = make({ viewLookbackDays: 7 });
    const s = synth(stack);
    const tableRef = (id: string) => {
      const key = Object.keys(s.resources('google_bigquery_table')).find((k) => s.resources('google_bigquery_table')[k].table_id === id)!;
      return `\`\${google_bigquery_table.${key}.project}.\${google_bigquery_table.${key}.dataset_id}.\${google_bigquery_table.${key}.table_id}\``;
    };
    const view = (id: string): string => s.list('google_bigquery_table').find((t) => t.table_id === id).view.query;
    const eventColumns = warehouse.fields.map((f) => f.name);
    const pageViews = checkSqlScopes(view('page_views'), { [tableRef('events')]: eventColumns });
    expect(pageViews).toEqual(expect.arrayContaining(['page_view_id', 'domain_sessionid', 'start_tstamp', 'end_tstamp', 'engaged_time_in_s', 'page_pings']));
    const sessions = checkSqlScopes(view('sessions'), { [tableRef('events')]: eventColumns, [tableRef('page_views')]: pageViews });
    expect(sessions).toEqual(expect.arrayContaining(['domain_sessionid', 'duration_in_s', 'engaged_time_in_s', 'landing_page_url', 'mkt_campaign']));
    expect(new Set(sessions).size).toBe(sessions.length);
    expect(new Set(pageViews).size).toBe(pageViews.length);
    // The checker fails on a wrong column, an unknown source, a column of no source and a column of another block.
    const sql = view('page_views');
    expect(() => checkSqlScopes(sql.replace('pv.br_viewheight', 'pv.br_view_height'), { [tableRef('events')]: eventColumns })).toThrow('pv.br_view_height: no such column');
    expect(() => checkSqlScopes(sql.replace('FROM events AS pv', 'FROM evnts AS pv'), { [tableRef('events')]: eventColumns })).toThrow('unknown source evnts');
    expect(() => checkSqlScopes(sql.replace("pv.event_name = 'page_view'", "event_nam = 'page_view'"), { [tableRef('events')]: eventColumns })).toThrow('event_nam: no such column');
    // A CTE's column is visible only where the CTE is read: pings has no event_name.
    expect(() => checkSqlScopes(sql.replace('COALESCE(p.page_pings, 0)', 'COALESCE(p.event_name, 0)'), { [tableRef('events')]: eventColumns })).toThrow('p.event_name: no such column');
    expect(() => checkSqlScopes(sql, { [tableRef('events')]: eventColumns.filter((c) => c !== 'pp_yoffset_max') })).toThrow('pp_yoffset_max: no such column');
  });

  test('viewLookbackDays limits both views to recent partitions', () => {
    const s = synth(make({ viewLookbackDays: 30 }).stack);
    for (const id of ['page_views', 'sessions']) {
      const sql: string = s.list('google_bigquery_table').find((t) => t.table_id === id).view.query;
      expect(sql).toContain('AND collector_tstamp >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 30 DAY)');
    }
    expect(synth(make().stack).text).not.toContain('TIMESTAMP_SUB');
  });

  test('requirePartitionFilter: every read of the events table in the views filters the partition column', () => {
    const s = synth(make({ partitionField: 'derived_tstamp', requirePartitionFilter: true, viewLookbackDays: 14 }).stack);
    let reads = 0;
    for (const id of ['page_views', 'sessions']) {
      const lines: string[] = s.list('google_bigquery_table').find((t) => t.table_id === id).view.query.split('\n');
      lines.forEach((line, i) => {
        if (!/google_bigquery_table\.warehouse_events_[0-9A-F]+/.test(line)) return;
        reads++;
        // The events table is read in a FROM whose WHERE (the next line) bounds the partition column.
        expect(line.trim()).toMatch(/^FROM `/);
        expect(lines[i + 1]).toMatch(/^\s*WHERE .* AND derived_tstamp >= TIMESTAMP_SUB\(CURRENT_TIMESTAMP\(\), INTERVAL 14 DAY\)$/);
      });
    }
    expect(reads).toBe(2);
    // Without views nothing needs a lookback.
    expect(() => make({ requirePartitionFilter: true, views: false })).not.toThrow();
  });

  test('views can be left out', () => {
    const { stack, warehouse } = make({ views: false });
    expect(synth(stack).list('google_bigquery_table').map((t) => t.table_id).sort()).toEqual(['bad_rows', 'events']);
    expect(warehouse.pageViewsView).toBeUndefined();
  });

  test('CMEK: the dataset uses the key, and only BigQuery\'s encryption service account may use it', () => {
    const key = 'projects/acme-keys/locations/us/keyRings/data/cryptoKeys/warehouse';
    const s = synth(make({ kmsKeyName: key }).stack);
    const dataset = s.one('google_bigquery_dataset');
    expect(dataset.default_encryption_configuration).toEqual({ kms_key_name: key });
    const grant = s.one('google_kms_crypto_key_iam_member');
    expect(grant).toMatchObject({ crypto_key_id: key, role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter' });
    expect(grant.member).toMatch(/^\$\{data\.google_bigquery_default_service_account\.[^.]+\.member\}$/);
    expect(dataset.depends_on).toEqual([expect.stringMatching(/^google_kms_crypto_key_iam_member\./)]);
  });

  test('deletionProtection: false lets a throw-away environment be destroyed', () => {
    const s = synth(make({ deletionProtection: false }).stack);
    expect(s.one('google_bigquery_dataset').delete_contents_on_destroy).toBe(true);
    for (const t of s.list('google_bigquery_table')) expect(t.deletion_protection).toBe(false);
  });

  test('IAM: grantRead is dataViewer on the dataset, grantWrite dataEditor on the two tables and metadataViewer on the dataset (datasets.get for the BigQueryIO validation); nothing else, never primitive', () => {
    const { stack, warehouse } = make();
    warehouse.grantRead('group:analysts@example.com');
    warehouse.grantWrite('serviceAccount:enricher@acme-analytics.iam.gserviceaccount.com');
    const s = synth(stack);
    const roles = grantedRoles(s.json);
    expect(roles.map((r) => `${r.type} ${r.role} ${r.member}`).sort()).toEqual([
      'google_bigquery_dataset_iam_member roles/bigquery.dataViewer group:analysts@example.com',
      'google_bigquery_dataset_iam_member roles/bigquery.metadataViewer serviceAccount:enricher@acme-analytics.iam.gserviceaccount.com',
      'google_bigquery_table_iam_member roles/bigquery.dataEditor serviceAccount:enricher@acme-analytics.iam.gserviceaccount.com',
      'google_bigquery_table_iam_member roles/bigquery.dataEditor serviceAccount:enricher@acme-analytics.iam.gserviceaccount.com',
    ]);
    expect(s.list('google_bigquery_table_iam_member').map((m) => m.table_id.replace(/_[0-9A-F]+\.table_id\}$/, '')).sort()).toEqual([
      '${google_bigquery_table.warehouse_dead-letter', '${google_bigquery_table.warehouse_events',
    ]);
    expect(roles.some((r) => PRIMITIVE_ROLES.includes(r.role))).toBe(false);
    // A batch replay writes the events table only.
    const only = make();
    only.warehouse.grantWrite('serviceAccount:replay@acme-analytics.iam.gserviceaccount.com', { deadLetter: false });
    expect(synth(only.stack).list('google_bigquery_table_iam_member').map((m) => m.table_id)).toEqual([expect.stringMatching(/warehouse_events_[0-9A-F]+\.table_id\}$/)]);
  });

  test('table specs for the Dataflow templates: project:dataset.table', () => {
    const { warehouse, stack } = make();
    new TerraformOutput(stack, 'events', { value: warehouse.eventsTableSpec });
    new TerraformOutput(stack, 'dead', { value: warehouse.deadLetterTableSpec });
    const out = synth(stack).json.output;
    expect(out.events.value).toMatch(/^\$\{google_bigquery_table\.warehouse_events_[0-9A-F]+\.project\}:\$\{google_bigquery_table\.warehouse_events_[0-9A-F]+\.dataset_id\}\.\$\{google_bigquery_table\.warehouse_events_[0-9A-F]+\.table_id\}$/);
    expect(out.dead.value).toMatch(/^\$\{google_bigquery_table\.warehouse_dead-letter_[0-9A-F]+\.project\}:.+\.table_id\}$/);
  });

  test.each([
    [{ partitionField: 'page_url' }, "WarehouseSink: prop 'partitionField' must be a TIMESTAMP column of the events table (etl_tstamp, collector_tstamp,"],
    [{ clustering: ['geo_latitude'] }, "WarehouseSink: prop 'clustering' 'geo_latitude' is not a top-level STRING/INTEGER/NUMERIC/BOOLEAN/TIMESTAMP/DATE column"],
    [{ clustering: ['contexts_com_acme_customer_1'] }, "prop 'clustering' 'contexts_com_acme_customer_1' is not a top-level"],
    [{ clustering: ['a', 'b', 'c', 'd', 'e'] }, "prop 'clustering' must name 1 to 4 columns, got 5"],
    [{ clustering: ['app_id', 'app_id'] }, "prop 'clustering' names a column twice"],
    [{ datasetId: 'my-dataset' }, "WarehouseSink: prop 'datasetId' must be 1-1024 characters: letters, digits and underscores; got 'my-dataset'"],
    [{ deadLetterTableId: 'events' }, "WarehouseSink: prop 'deadLetterTableId' 'events' names two tables of the dataset"],
    [{ location: 'Mars' }, "WarehouseSink: prop 'location' must be a Google Cloud region"],
    [{ kmsKeyName: 'my-key' }, "WarehouseSink: prop 'kmsKeyName' must be a key name such as"],
    [{ partitionExpirationDays: 0 }, "WarehouseSink: prop 'partitionExpirationDays' must be an integer between 1 and 36500, got 0"],
    [{ viewLookbackDays: 0 }, "prop 'viewLookbackDays' must be an integer between 1 and 36500, got 0"],
    [{ requirePartitionFilter: true }, "WarehouseSink: prop 'requirePartitionFilter' needs 'viewLookbackDays' when 'views' is on: without it the page_views and sessions views read the events table with no partition filter"],
    [{ pagePingHeartbeatSeconds: 0 }, "prop 'pagePingHeartbeatSeconds' must be an integer between 1 and 3600, got 0"],
    [{ projectId: 'x' }, "WarehouseSink: prop 'projectId' must be a project id"],
  ] as Array<[Partial<WarehouseSinkProps>, string]>)('validation: %j', (props, message) => {
    expect(() => make(props)).toThrow(message);
  });

  test('a registry is required', () => {
    expect(() => new WarehouseSink(dataStack(), 'w', {} as WarehouseSinkProps)).toThrow("WarehouseSink: prop 'registry' is required");
  });
});
