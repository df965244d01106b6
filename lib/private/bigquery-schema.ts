/**
 * JSON Schema → BigQuery fields, for the `events` table of a WarehouseSink.
 *
 * The table is the atomic columns (pipeline/columns.ts, in their order) plus, for every vendor/name/MODEL of the
 * schema registry, an `unstruct_event_<vendor>_<name>_<model>` RECORD and a `contexts_<vendor>_<name>_<model>`
 * REPEATED RECORD built from the newest version of the MODEL. Column and field names come from THE naming functions
 * the enrichment uses (`selfDescribingColumnName`, `snakeCase`), so the table and the rows cannot drift apart.
 *
 * Types: string → STRING (format date-time → TIMESTAMP, date → DATE), integer → INTEGER, number (or integer|number)
 * → FLOAT, boolean → BOOLEAN, object with properties → RECORD, array → REPEATED of its items; everything BigQuery
 * cannot type (objects without properties, arrays of arrays, mixed types, untyped values) → JSON. Every nested
 * field is NULLABLE (or REPEATED): BigQuery can add NULLABLE fields in place, so ADDITION versions never force
 * the table to be re-created.
 *
 * Schema evolution: versions within a MODEL must map to BigQuery fields that only grow (same names, same types,
 * same modes, new fields). Anything else cannot be applied to an existing table in place and is reported as a
 * synth-time problem naming the schema file.
 */
import { ATOMIC_COLUMNS, selfDescribingColumnName, snakeCase, SelfDescribingKind } from '../../pipeline/columns';
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

/** The BigQuery shape of a JSON Schema: a field without its name. */
interface Shape {
  readonly type: BigQueryType;
  readonly repeated: boolean;
  readonly fields?: readonly BigQueryField[];
}

const JSON_SHAPE: Shape = { type: 'JSON', repeated: false };

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function unique(values: readonly string[]): string[] {
  return values.filter((v, i) => values.indexOf(v) === i);
}

function declaredTypes(schema: Json): string[] | null {
  const t = schema.type;
  if (typeof t === 'string') return [t];
  if (Array.isArray(t)) return t.filter((x): x is string => typeof x === 'string');
  return null;
}

function describe(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const max = BIGQUERY_LIMITS.maxDescriptionLength;
  return trimmed.length > max ? trimmed.slice(0, max - 3) + '...' : trimmed;
}

interface Context {
  /** The file named in problems. */
  readonly file: string;
  readonly problems: WarehouseSchemaProblem[];
}

function sameShape(a: Shape, b: Shape): boolean {
  return JSON.stringify(stripDescriptions(a)) === JSON.stringify(stripDescriptions(b));
}

function stripDescriptions(shape: Shape | BigQueryField): unknown {
  return {
    type: shape.type,
    mode: 'repeated' in shape ? (shape.repeated ? 'REPEATED' : 'NULLABLE') : shape.mode,
    fields: shape.fields?.map((f) => ({ name: f.name, ...(stripDescriptions(f) as object) })),
  };
}

/** The BigQuery shape of one JSON Schema. `path` is the field path for messages, `depth` the RECORD depth of the field. */
function shapeOf(schema: unknown, path: string, depth: number, ctx: Context): Shape {
  if (!isObject(schema)) return JSON_SHAPE;
  let types = declaredTypes(schema);
  if (types === null) {
    const branches = Array.isArray(schema.oneOf) ? schema.oneOf : Array.isArray(schema.anyOf) ? schema.anyOf : null;
    if (branches !== null) {
      // Every branch must give the same shape (ignoring pure-null branches), else the value can only be JSON.
      const shapes = branches
        .filter((b) => !(isObject(b) && (b.type === 'null' || (Array.isArray(b.enum) && b.enum.every((v) => v === null)))))
        .map((b) => shapeOf(b, path, depth, ctx));
      if (shapes.length > 0 && shapes.every((s) => sameShape(s, shapes[0]))) return shapes[0];
      return JSON_SHAPE;
    }
    if (Array.isArray(schema.enum)) types = unique(schema.enum.map(jsonTypeOf));
    else if (isObject(schema.properties)) types = ['object'];
    else if (isObject(schema.items) || Array.isArray(schema.items)) types = ['array'];
    else return JSON_SHAPE;
  }
  const nonNull = unique(types.filter((t) => t !== 'null'));
  if (nonNull.length === 0) return JSON_SHAPE;
  if (nonNull.length > 1) {
    if (nonNull.every((t) => t === 'integer' || t === 'number')) return { type: 'FLOAT', repeated: false };
    return JSON_SHAPE;
  }
  switch (nonNull[0]) {
    case 'string':
      if (schema.format === 'date-time') return { type: 'TIMESTAMP', repeated: false };
      if (schema.format === 'date') return { type: 'DATE', repeated: false };
      return { type: 'STRING', repeated: false };
    case 'integer':
      return { type: 'INTEGER', repeated: false };
    case 'number':
      return { type: 'FLOAT', repeated: false };
    case 'boolean':
      return { type: 'BOOLEAN', repeated: false };
    case 'object': {
      const props = schema.properties;
      if (!isObject(props) || Object.keys(props).length === 0) return JSON_SHAPE;
      if (depth > BIGQUERY_LIMITS.maxDepth) {
        ctx.problems.push({ file: ctx.file, message: `${path}: nested ${depth} RECORD levels deep; BigQuery allows at most ${BIGQUERY_LIMITS.maxDepth}` });
        return JSON_SHAPE;
      }
      return { type: 'RECORD', repeated: false, fields: recordFields(props, path, depth, ctx) };
    }
    case 'array': {
      const items = schema.items;
      if (!isObject(items)) return JSON_SHAPE; // no items, or a tuple: no single element type
      const element = shapeOf(items, path, depth, ctx);
      // BigQuery has no arrays of arrays, and an array of untyped values is stored whole as JSON.
      if (element.repeated || element.type === 'JSON') return JSON_SHAPE;
      return { ...element, repeated: true };
    }
    default:
      return JSON_SHAPE;
  }
}

function recordFields(properties: Json, path: string, depth: number, ctx: Context): BigQueryField[] {
  const fields: BigQueryField[] = [];
  const sourceOf = new Map<string, string>();
  for (const property of Object.keys(properties)) {
    const name = snakeCase(property);
    const fieldPath = path === '' ? name : `${path}.${name}`;
    const clash = sourceOf.get(name);
    if (clash !== undefined) {
      ctx.problems.push({
        file: ctx.file,
        message: `${fieldPath}: properties ${JSON.stringify(clash)} and ${JSON.stringify(property)} both become the BigQuery field "${name}"; rename one of them`,
      });
      continue;
    }
    sourceOf.set(name, property);
    if (name.length > BIGQUERY_LIMITS.maxFieldNameLength) {
      ctx.problems.push({ file: ctx.file, message: `${fieldPath}: the field name has ${name.length} characters; BigQuery allows at most ${BIGQUERY_LIMITS.maxFieldNameLength}` });
      continue;
    }
    const reserved = RESERVED_PREFIXES.find((p) => name.startsWith(p));
    if (reserved !== undefined) {
      ctx.problems.push({ file: ctx.file, message: `${fieldPath}: BigQuery reserves field names starting with "${reserved}"; rename the property ${JSON.stringify(property)}` });
      continue;
    }
    const sub = properties[property];
    const shape = shapeOf(sub, fieldPath, depth + 1, ctx);
    const description = isObject(sub) ? describe(sub.description) : undefined;
    fields.push(toField(name, shape, description));
  }
  return fields;
}

function toField(name: string, shape: Shape, description: string | undefined): BigQueryField {
  return {
    name,
    type: shape.type,
    mode: shape.repeated ? 'REPEATED' : 'NULLABLE',
    ...(description !== undefined ? { description } : {}),
    ...(shape.fields !== undefined ? { fields: shape.fields } : {}),
  };
}

/** The BigQuery shape of a whole self-describing schema (the value of its column for one event or entity). */
function schemaShape(schema: RegistrySchema, problems: WarehouseSchemaProblem[]): Shape {
  return shapeOf(schema.schema, '', 1, { file: schema.file, problems });
}

function isProtocolSchema(vendor: string, name: string): boolean {
  return PROTOCOL_SCHEMAS.indexOf(`${vendor}/${name}`) >= 0;
}

/** `iglu:com.acme/button_click/jsonschema/1-*-*` for a MODEL. */
export function modelKey(model: SchemaModel): string {
  return `iglu:${model.vendor}/${model.name}/jsonschema/${model.model}-*-*`;
}

/** The two columns of one vendor/name/MODEL: the event (RECORD) and the entities (REPEATED). */
export function selfDescribingColumns(model: SchemaModel, problems: WarehouseSchemaProblem[]): [BigQueryField, BigQueryField] {
  const latest = model.latest;
  const shape = schemaShape(latest, problems);
  const about = `${modelKey(model)} (columns follow ${formatSchemaVer(latest.version)})`;
  const detail = describe(latest.schema.description);
  const description = describe(detail === undefined ? about : `${about}: ${detail}`);
  const column = (kind: SelfDescribingKind): BigQueryField => {
    const name = selfDescribingColumnName(kind, model.vendor, model.name, String(model.model));
    if (kind === 'unstruct_event') return toField(name, shape, description);
    // Entities are a list of values of the schema; a schema that is itself an array can only be stored as JSON.
    return toField(name, shape.repeated ? { type: 'JSON', repeated: true } : { ...shape, repeated: true }, description);
  };
  return [column('unstruct_event'), column('contexts')];
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

/** Problems of a MODEL's versions: each one's column must be an in-place update of the previous one's. */
function evolutionProblems(model: SchemaModel, problems: WarehouseSchemaProblem[]): void {
  for (let i = 1; i < model.versions.length; i++) {
    const older = model.versions[i - 1];
    const newer = model.versions[i];
    const scratch: WarehouseSchemaProblem[] = [];
    const a = schemaShape(older, scratch);
    const b = schemaShape(newer, scratch);
    const column = selfDescribingColumnName('unstruct_event', model.vendor, model.name, String(model.model));
    const wrap = (s: Shape): BigQueryField[] => [toField(column, s, undefined)];
    for (const message of fieldEvolutionProblems(wrap(a), wrap(b))) {
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
  const fields: BigQueryField[] = ATOMIC_COLUMNS.map((c) => ({ name: c.name, type: c.type, mode: c.mode, description: c.description }));
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
