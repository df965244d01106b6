/**
 * The BigQuery schemas of a WarehouseSink, built at synth time from the schema registry.
 *
 * The `events` table is the atomic columns (pipeline/columns.ts, in their order) plus, for every vendor/name/MODEL
 * of the registry, an `unstruct_event_<vendor>_<name>_<model>` RECORD and a `contexts_<vendor>_<name>_<model>`
 * REPEATED RECORD, built from the newest version of the MODEL. Names and the JSON Schema → BigQuery conversion are
 * the ones the enrichment uses to build rows (`selfDescribingColumnName`, `snakeCase` in pipeline/columns.ts,
 * `schemaToShape`/`toBigQueryField` in pipeline/warehouse.ts): one implementation on both sides, so the table and
 * the rows cannot drift apart.
 *
 * On top of the conversion this module refuses, at synth time and naming the schema file, what would break the
 * warehouse: versions of a MODEL whose columns are not in-place updates of each other (BigQuery can add NULLABLE
 * fields to a table but never change a type or drop a field), properties that snake_case to the same field,
 * nesting deeper than BigQuery allows, reserved field names, and two MODELs that would share a column.
 */
import { ATOMIC_COLUMNS, selfDescribingColumnName, snakeCase, SelfDescribingKind } from '../../pipeline/columns';
import { buildColumnShapes, schemaToShape, toBigQueryField, type ColumnShapes } from '../../pipeline/warehouse';
import type { Registry, RegistrySchema, SchemaModel } from '../../pipeline/registry/registry';
import { formatSchemaVer } from '../../pipeline/registry/schemaver';

export type BigQueryType = 'STRING' | 'INTEGER' | 'FLOAT' | 'NUMERIC' | 'BOOLEAN' | 'TIMESTAMP' | 'DATE' | 'BYTES' | 'JSON' | 'RECORD';
export type BigQueryMode = 'NULLABLE' | 'REQUIRED' | 'REPEATED';

/** One field of a BigQuery table schema, in the JSON form of the API (and of Terraform's `schema`). */
export interface BigQueryField {
  readonly name: string;
  readonly type: BigQueryType;
  readonly mode: BigQueryMode;
  readonly description?: string;
  /** The sub-fields of a RECORD. */
  readonly fields?: readonly BigQueryField[];
  /** A SQL expression BigQuery fills in when a row omits the field. */
  readonly defaultValueExpression?: string;
}

/** A problem with one schema file. */
export interface WarehouseSchemaProblem {
  /** The schema file at fault, as the registry names it. */
  readonly file: string;
  readonly message: string;
}

/**
 * Protocol envelopes of the registry: they wrap events and entities on the wire (or describe the collector's and
 * enricher's own records) and never become warehouse columns.
 */
export const PROTOCOL_SCHEMAS: readonly string[] = [
  'com.snowplowanalytics.snowplow/payload_data',
  'com.snowplowanalytics.snowplow/contexts',
  'com.snowplowanalytics.snowplow/unstruct_event',
  'io.waymark/collector_payload',
  'io.waymark/bad_row',
];

/** BigQuery limits that generated schemas must respect. */
export const BIGQUERY_LIMITS = {
  /** Nesting depth of RECORD fields (a top-level RECORD is depth 1). */
  maxDepth: 15,
  maxFieldNameLength: 300,
  maxDescriptionLength: 1024,
  maxColumns: 10000,
} as const;

const RESERVED_PREFIXES = ['_table_', '_file_', '_partition', '_row_timestamp', '__root__', '_colon_'];

/** The dead-letter table of the Dataflow templates (`outputDeadletterTable`), exactly as the templates write it. */
export const DEAD_LETTER_FIELDS: readonly BigQueryField[] = [
  { name: 'timestamp', type: 'TIMESTAMP', mode: 'REQUIRED' },
  { name: 'payloadString', type: 'STRING', mode: 'REQUIRED' },
  { name: 'payloadBytes', type: 'BYTES', mode: 'REQUIRED' },
  {
    name: 'attributes',
    type: 'RECORD',
    mode: 'REPEATED',
    fields: [
      { name: 'key', type: 'STRING', mode: 'NULLABLE' },
      { name: 'value', type: 'STRING', mode: 'NULLABLE' },
    ],
  },
  { name: 'errorMessage', type: 'STRING', mode: 'NULLABLE' },
  { name: 'stacktrace', type: 'STRING', mode: 'NULLABLE' },
];

type Json = { readonly [key: string]: unknown };

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const max = BIGQUERY_LIMITS.maxDescriptionLength;
  return trimmed.length > max ? trimmed.slice(0, max - 3) + '...' : trimmed;
}

function isProtocolSchema(vendor: string, name: string): boolean {
  return PROTOCOL_SCHEMAS.indexOf(`${vendor}/${name}`) >= 0;
}

/** `iglu:com.acme/button_click/jsonschema/1-*-*` for a MODEL. */
export function modelKey(model: SchemaModel): string {
  return `iglu:${model.vendor}/${model.name}/jsonschema/${model.model}-*-*`;
}

/**
 * Property names that snake_case to the same field name, anywhere in a schema: the row builder keeps the first
 * and drops the other's data, so the warehouse refuses such a schema instead.
 */
function nameClashes(schema: unknown, path: string, out: string[], depth = 0): void {
  if (!isObject(schema) || depth > 64) return;
  const props = schema.properties;
  if (isObject(props)) {
    const seen = new Map<string, string>();
    for (const property of Object.keys(props)) {
      const name = snakeCase(property);
      const at = path === '' ? name : `${path}.${name}`;
      const first = seen.get(name);
      if (first !== undefined) out.push(`${at}: properties ${JSON.stringify(first)} and ${JSON.stringify(property)} both become the BigQuery field "${name}"; rename one of them`);
      else seen.set(name, property);
      nameClashes(props[property], at, out, depth + 1);
    }
  }
  if (isObject(schema.items)) nameClashes(schema.items, path, out, depth + 1);
}

/** BigQuery limits on generated fields: nesting depth, name length, reserved prefixes. */
function limitProblems(fields: readonly BigQueryField[] | undefined, path: string, depth: number, out: string[]): void {
  for (const f of fields ?? []) {
    const at = path === '' ? f.name : `${path}.${f.name}`;
    if (f.name.length > BIGQUERY_LIMITS.maxFieldNameLength) out.push(`${at}: the field name has ${f.name.length} characters; BigQuery allows at most ${BIGQUERY_LIMITS.maxFieldNameLength}`);
    const reserved = RESERVED_PREFIXES.find((p) => f.name.toLowerCase().startsWith(p));
    if (reserved !== undefined) out.push(`${at}: BigQuery reserves field names starting with "${reserved}"; rename the property`);
    if (f.type === 'RECORD') {
      if (depth + 1 > BIGQUERY_LIMITS.maxDepth) out.push(`${at}: RECORDs nested ${depth + 1} levels deep; BigQuery allows at most ${BIGQUERY_LIMITS.maxDepth}`);
      else limitProblems(f.fields, at, depth + 1, out);
    }
  }
}

/** The BigQuery field of one column for one schema document (the row builder's conversion, pipeline/warehouse.ts). */
function columnField(column: string, kind: SelfDescribingKind, schema: RegistrySchema, description?: string): BigQueryField {
  return toBigQueryField(column, kind, schemaToShape(schema.schema), description) as BigQueryField;
}

/**
 * The two columns of one vendor/name/MODEL, built from its newest version: the event (`unstruct_event_*`, a RECORD,
 * or JSON when the schema has no properties) and the entities (`contexts_*`, REPEATED).
 */
export function selfDescribingColumns(model: SchemaModel, problems: WarehouseSchemaProblem[]): [BigQueryField, BigQueryField] {
  const latest = model.latest;
  const about = `${modelKey(model)} (columns follow ${formatSchemaVer(latest.version)})`;
  const detail = describe(latest.schema.description);
  const description = describe(detail === undefined ? about : `${about}: ${detail}`);
  const clashes: string[] = [];
  nameClashes(latest.schema, '', clashes);
  for (const message of clashes) problems.push({ file: latest.file, message });
  const columns = (['unstruct_event', 'contexts'] as const).map((kind) =>
    columnField(selfDescribingColumnName(kind, model.vendor, model.name, String(model.model)), kind, latest, description));
  const limits: string[] = [];
  limitProblems(columns[0].fields, columns[0].name, 1, limits);
  for (const message of limits) problems.push({ file: latest.file, message });
  return [columns[0], columns[1]];
}

/**
 * Why `newer` cannot replace `older` in place (both the same column, `older` deployed first): removed fields,
 * changed types or modes. Each message starts with the field path.
 */
export function fieldEvolutionProblems(older: readonly BigQueryField[], newer: readonly BigQueryField[], path = ''): string[] {
  const out: string[] = [];
  const byName = new Map(newer.map((f) => [f.name, f]));
  for (const old of older) {
    const at = path === '' ? old.name : `${path}.${old.name}`;
    const now = byName.get(old.name);
    if (now === undefined) {
      out.push(`${at}: field removed (BigQuery cannot drop a field in place)`);
      continue;
    }
    if (now.type !== old.type) {
      out.push(`${at}: type changes from ${old.type} to ${now.type} (BigQuery cannot change a field's type in place)`);
      continue;
    }
    if (now.mode !== old.mode && !(old.mode === 'REQUIRED' && now.mode === 'NULLABLE')) {
      out.push(`${at}: mode changes from ${old.mode} to ${now.mode} (BigQuery can only relax REQUIRED to NULLABLE in place)`);
      continue;
    }
    if (old.type === 'RECORD') out.push(...fieldEvolutionProblems(old.fields ?? [], now.fields ?? [], at));
  }
  for (const added of newer) {
    if (added.mode === 'REQUIRED' && !older.some((f) => f.name === added.name)) {
      out.push(`${path === '' ? added.name : `${path}.${added.name}`}: a new REQUIRED field cannot be added to an existing table`);
    }
  }
  return out;
}

/** Each version's column must be an in-place update of the previous version's. */
function evolutionProblems(model: SchemaModel, problems: WarehouseSchemaProblem[]): void {
  const column = selfDescribingColumnName('unstruct_event', model.vendor, model.name, String(model.model));
  for (let i = 1; i < model.versions.length; i++) {
    const older = model.versions[i - 1];
    const newer = model.versions[i];
    const found = fieldEvolutionProblems([columnField(column, 'unstruct_event', older)], [columnField(column, 'unstruct_event', newer)]);
    for (const message of found) {
      problems.push({
        file: newer.file,
        message: `breaking warehouse change from ${formatSchemaVer(older.version)}: ${message}. ` +
          `Versions within a MODEL share one column and may only add fields; publish this change as ${model.model + 1}-0-0 (a new column)`,
      });
    }
  }
}

/** The schema of the `events` table for a registry, with every problem found (empty when the registry is usable). */
export function eventsTableFields(registry: Registry): { fields: BigQueryField[]; problems: WarehouseSchemaProblem[] } {
  const problems: WarehouseSchemaProblem[] = [];
  const fields: BigQueryField[] = ATOMIC_COLUMNS.map((c) => ({
    name: c.name,
    type: c.type,
    mode: c.mode,
    description: c.description,
    // With the enrichment's `loadTstamp: 'omit'`, BigQuery records the real load time.
    ...(c.name === 'load_tstamp' ? { defaultValueExpression: 'CURRENT_TIMESTAMP()' } : {}),
  }));
  const owner = new Map<string, string>();
  for (const model of registry.models()) {
    if (isProtocolSchema(model.vendor, model.name)) continue;
    evolutionProblems(model, problems);
    for (const column of selfDescribingColumns(model, problems)) {
      const other = owner.get(column.name);
      if (other !== undefined) {
        problems.push({ file: model.latest.file, message: `its column ${column.name} is also the column of ${other}; vendor and name must differ in more than punctuation and case` });
        continue;
      }
      owner.set(column.name, modelKey(model));
      fields.push(column);
    }
  }
  if (fields.length > BIGQUERY_LIMITS.maxColumns) {
    problems.push({ file: '(registry)', message: `the events table would have ${fields.length} columns; BigQuery allows at most ${BIGQUERY_LIMITS.maxColumns}` });
  }
  return { fields, problems };
}

/**
 * The column shapes of a registry, as the enrichment's `config.shapes` takes them: the UDF built with these writes
 * rows that fit {@link eventsTableFields} of the same registry.
 */
export function registryColumnShapes(registry: Registry): ColumnShapes {
  return buildColumnShapes(registry.schemas.map((s) => ({ key: s.key, schema: s.schema })));
}

/** The Terraform / API `schema` JSON of a field list. */
export function schemaJson(fields: readonly BigQueryField[]): string {
  return JSON.stringify(fields);
}

/**
 * The `JSONPath` file of the `GCS_Text_to_BigQuery_Flex` template: `{"BigQuery Schema": [...]}` with name, type,
 * mode and (for RECORDs) fields, which is all the template reads.
 */
export function textToBigQuerySchemaFile(fields: readonly BigQueryField[]): { 'BigQuery Schema': unknown[] } {
  const strip = (f: BigQueryField): unknown => ({
    name: f.name,
    type: f.type,
    mode: f.mode,
    ...(f.fields !== undefined ? { fields: f.fields.map(strip) } : {}),
  });
  return { 'BigQuery Schema': fields.map(strip) };
}

/** Finds a top-level field by name. */
export function findField(fields: readonly BigQueryField[], name: string): BigQueryField | undefined {
  return fields.find((f) => f.name === name);
}
