/**
 * How self-describing data lands in the warehouse: a JSON Schema (draft-04, as Iglu uses it) becomes a BigQuery
 * field list ("shape"), and data is shaped to match it. One column per schema and MODEL:
 * `unstruct_event_<vendor>_<name>_<major>` and `contexts_<vendor>_<name>_<major>` (see columns.ts for the names).
 *
 * Both sides use this module: the WarehouseSink construct builds the table schema from {@link buildColumnShapes} /
 * {@link toBigQueryFields} at synth time, and the UDF shapes each event's data with {@link shapeData}, so the row
 * always fits the table. Rules (those of Snowplow's BigQuery Loader v2, so existing queries carry over):
 * - object with `properties` → RECORD of snake_cased fields (property order kept); other objects → JSON;
 * - array of such objects → REPEATED RECORD; array of one primitive type → REPEATED primitive; other arrays → JSON;
 * - string → STRING (format date-time → TIMESTAMP, date → DATE); integer → INTEGER; number → FLOAT;
 *   integer + number → FLOAT; boolean → BOOLEAN; `null` in a type list only makes the field nullable;
 *   several other types, `oneOf`/`anyOf`/`$ref`, or no type at all → JSON (the value serialised as JSON text).
 * - fields are NULLABLE (or REPEATED): a later ADDITION can never break older rows.
 * The column of a MODEL takes the shape of the newest schema of that MODEL in the registry.
 */
import { hasOwn, isArray, isObject, keys } from './es5';
import { parseSchemaKey, snakeCase } from './columns';
import { stringifyJson } from './json';

export type ShapeType = 'STRING' | 'INTEGER' | 'FLOAT' | 'BOOLEAN' | 'TIMESTAMP' | 'DATE' | 'JSON' | 'RECORD';

/** One field: its BigQuery name and type plus the JSON property it comes from. */
export interface ShapeField {
  /** BigQuery field name (snake_cased). */
  readonly name: string;
  /** The property name in the JSON data. */
  readonly source: string;
  readonly type: ShapeType;
  readonly mode: 'NULLABLE' | 'REPEATED';
  /** RECORD only. */
  readonly fields?: readonly ShapeField[];
  readonly description?: string;
}

/** The shape of one column's data: a RECORD's fields, or `'JSON'` when the schema has no usable properties. */
export type ColumnShape = readonly ShapeField[] | 'JSON';

/** Shapes keyed by `<vendor>/<name>/<MODEL>` (e.g. `com.acme/button_click/1`); what `config.shapes` holds. */
export interface ColumnShapes {
  readonly [vendorNameModel: string]: ColumnShape;
}

/** A BigQuery table field as the BigQuery API and the Terraform provider take it. */
export interface BigQueryField {
  readonly name: string;
  readonly type: string;
  readonly mode: 'NULLABLE' | 'REQUIRED' | 'REPEATED';
  readonly fields?: readonly BigQueryField[];
  readonly description?: string;
}

type Json = Record<string, unknown>;

function typesOf(schema: Json): string[] {
  const t = schema.type;
  const out: string[] = [];
  if (typeof t === 'string') out.push(t);
  else if (isArray(t)) for (let i = 0; i < t.length; i++) if (typeof t[i] === 'string') out.push(t[i] as string);
  if (out.length === 0 && isArray(schema.enum)) {
    const values = schema.enum as unknown[];
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const vt = v === null ? 'null' : typeof v === 'number' ? (Math.floor(v) === v ? 'integer' : 'number') : typeof v;
      let seen = false;
      for (let j = 0; j < out.length; j++) if (out[j] === vt) seen = true;
      if (!seen) out.push(vt);
    }
  }
  if (out.length === 0 && isObject(schema.properties)) out.push('object');
  const nonNull: string[] = [];
  for (let i = 0; i < out.length; i++) if (out[i] !== 'null') nonNull.push(out[i]);
  return nonNull;
}

/** The element type and nested fields for a (sub)schema; `JSON` when it can't be typed. */
function typeFor(schema: unknown, depth: number): { type: ShapeType; fields?: ShapeField[]; repeated: boolean } {
  if (!isObject(schema) || depth > 30) return { type: 'JSON', repeated: false };
  if (schema.oneOf !== undefined || schema.anyOf !== undefined || schema.allOf !== undefined || schema.$ref !== undefined) {
    return { type: 'JSON', repeated: false };
  }
  const types = typesOf(schema);
  let t: string;
  if (types.length === 1) t = types[0];
  else if (types.length === 2 && ((types[0] === 'integer' && types[1] === 'number') || (types[0] === 'number' && types[1] === 'integer'))) t = 'number';
  else return { type: 'JSON', repeated: false };
  switch (t) {
    case 'string':
      return { type: schema.format === 'date-time' ? 'TIMESTAMP' : schema.format === 'date' ? 'DATE' : 'STRING', repeated: false };
    case 'integer':
      return { type: 'INTEGER', repeated: false };
    case 'number':
      return { type: 'FLOAT', repeated: false };
    case 'boolean':
      return { type: 'BOOLEAN', repeated: false };
    case 'object': {
      const fields = fieldsFor(schema, depth + 1);
      return fields === null ? { type: 'JSON', repeated: false } : { type: 'RECORD', fields: fields, repeated: false };
    }
    case 'array': {
      const item = typeFor(schema.items, depth + 1);
      if (item.repeated || item.type === 'JSON') return { type: 'JSON', repeated: false };
      return { type: item.type, fields: item.fields, repeated: true };
    }
    default:
      return { type: 'JSON', repeated: false };
  }
}

/** The fields of an object schema; null when it has no properties (such data becomes a JSON value). */
function fieldsFor(schema: Json, depth: number): ShapeField[] | null {
  const props = schema.properties;
  if (!isObject(props)) return null;
  const names = keys(props);
  if (names.length === 0) return null;
  const out: ShapeField[] = [];
  const used: { [name: string]: boolean } = {};
  for (let i = 0; i < names.length; i++) {
    const name = snakeCase(names[i]);
    if (hasOwn(used, name)) continue; // two properties that snake_case alike: the first one wins
    used[name] = true;
    const prop = props[names[i]];
    const t = typeFor(prop, depth);
    const field: { -readonly [K in keyof ShapeField]: ShapeField[K] } = {
      name: name,
      source: names[i],
      type: t.type,
      mode: t.repeated ? 'REPEATED' : 'NULLABLE',
    };
    if (t.fields) field.fields = t.fields;
    if (isObject(prop) && typeof prop.description === 'string') field.description = prop.description.substring(0, 1024);
    out.push(field);
  }
  return out;
}

/** The shape of a schema's data (its top level must be an object to become a RECORD column). */
export function schemaToShape(schema: unknown): ColumnShape {
  if (!isObject(schema)) return 'JSON';
  const t = typeFor(schema, 0);
  return t.type === 'RECORD' && !t.repeated && t.fields ? t.fields : 'JSON';
}

/** The key of a column shape: `<vendor>/<name>/<MODEL>`. */
export function shapeKey(vendor: string, name: string, model: number | string): string {
  return vendor + '/' + name + '/' + model;
}

/**
 * Shapes for every schema MODEL of a registry, each from the newest schema (highest REVISION, then ADDITION) of its
 * MODEL. `schemas` holds full Iglu keys and the parsed schema documents.
 */
export function buildColumnShapes(schemas: ReadonlyArray<{ readonly key: string; readonly schema: unknown }>): { [vendorNameModel: string]: ColumnShape } {
  const newest: { [k: string]: { revision: number; addition: number; schema: unknown } } = {};
  for (let i = 0; i < schemas.length; i++) {
    const k = parseSchemaKey(schemas[i].key);
    if (k === null) throw new Error('buildColumnShapes: "' + schemas[i].key + '" is not an Iglu schema key (iglu:<vendor>/<name>/jsonschema/<M-R-A>)');
    const id = shapeKey(k.vendor, k.name, k.model);
    const prev = hasOwn(newest, id) ? newest[id] : null;
    if (prev === null || k.revision > prev.revision || (k.revision === prev.revision && k.addition > prev.addition)) {
      newest[id] = { revision: k.revision, addition: k.addition, schema: schemas[i].schema };
    }
  }
  const out: { [k: string]: ColumnShape } = {};
  const ids = keys(newest).sort();
  for (let i = 0; i < ids.length; i++) out[ids[i]] = schemaToShape(newest[ids[i]].schema);
  return out;
}

function bqFields(fields: readonly ShapeField[]): BigQueryField[] {
  const out: BigQueryField[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const b: { -readonly [K in keyof BigQueryField]: BigQueryField[K] } = { name: f.name, type: f.type, mode: f.mode };
    if (f.fields) b.fields = bqFields(f.fields);
    if (f.description !== undefined) b.description = f.description;
    out.push(b);
  }
  return out;
}

/**
 * The BigQuery field for one self-describing column: `unstruct_event_*` is a NULLABLE RECORD (or JSON),
 * `contexts_*` a REPEATED RECORD (or REPEATED JSON).
 */
export function toBigQueryField(column: string, kind: 'unstruct_event' | 'contexts', shape: ColumnShape, description?: string): BigQueryField {
  const mode = kind === 'contexts' ? 'REPEATED' : 'NULLABLE';
  const field: { -readonly [K in keyof BigQueryField]: BigQueryField[K] } =
    shape === 'JSON' ? { name: column, type: 'JSON', mode: mode } : { name: column, type: 'RECORD', mode: mode, fields: bqFields(shape) };
  if (description !== undefined) field.description = description;
  return field;
}

/** Memoised snakeCase for property names (names repeat across events). */
let snakeCache: { [k: string]: string } = {};
let snakeCacheSize = 0;
function snake(name: string): string {
  const key = '~' + name;
  const hit = snakeCache[key];
  if (hit !== undefined) return hit;
  if (snakeCacheSize > 5000) {
    snakeCache = {};
    snakeCacheSize = 0;
  }
  const s = snakeCase(name);
  snakeCache[key] = s;
  snakeCacheSize++;
  return s;
}

function shapeValue(value: unknown, type: ShapeType, fields: readonly ShapeField[] | undefined): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'STRING':
    case 'TIMESTAMP':
    case 'DATE':
      return typeof value === 'string' ? value : typeof value === 'object' ? stringifyJson(value) : String(value);
    case 'INTEGER':
      return typeof value === 'number' && Math.floor(value) === value ? value : null;
    case 'FLOAT':
      return typeof value === 'number' && isFinite(value) ? value : null;
    case 'BOOLEAN':
      return typeof value === 'boolean' ? value : null;
    case 'JSON':
      return stringifyJson(value);
    case 'RECORD':
      return isObject(value) && fields ? shapeRecord(value, fields) : null;
  }
  return null;
}

function shapeRecord(data: Json, fields: readonly ShapeField[]): Json {
  const out: Json = {};
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (!hasOwn(data, f.source)) continue;
    const v = data[f.source];
    if (f.mode === 'REPEATED') {
      if (!isArray(v)) continue;
      const list: unknown[] = [];
      for (let j = 0; j < v.length; j++) {
        const item = shapeValue(v[j], f.type, f.fields);
        if (item !== null) list.push(item); // BigQuery rejects nulls inside REPEATED fields
      }
      out[f.name] = list;
    } else {
      const shaped = shapeValue(v, f.type, f.fields);
      if (shaped !== null) out[f.name] = shaped;
    }
  }
  return out;
}

/** Without a shape: snake_case every property name, recursively, keep values as they are. */
function snakeDeep(value: unknown, depth: number): unknown {
  if (depth > 200) return null;
  if (isArray(value)) {
    const list: unknown[] = [];
    for (let i = 0; i < value.length; i++) list.push(snakeDeep(value[i], depth + 1));
    return list;
  }
  if (isObject(value)) {
    const out: Json = {};
    for (const k in value) {
      if (!hasOwn(value, k)) continue;
      const name = snake(k);
      if (name === '__proto__') continue;
      out[name] = snakeDeep(value[k], depth + 1);
    }
    return out;
  }
  return value;
}

/**
 * Shapes one self-describing datum for its column: RECORD fields by shape (unknown properties dropped, since the
 * table has no place for them), JSON text for JSON columns, generic snake_casing when no shape is known.
 */
export function shapeData(data: unknown, shape: ColumnShape | undefined): unknown {
  if (shape === undefined) return snakeDeep(data, 0);
  if (shape === 'JSON') return stringifyJson(data);
  return isObject(data) ? shapeRecord(data, shape) : null;
}
