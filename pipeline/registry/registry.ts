/**
 * The schema registry core: builds a registry from the files of one or more folders in Iglu static layout
 * (`<vendor>/<name>/jsonschema/<M-R-A>`, no extension), checking every file and every MODEL, and throws one Error
 * that lists every problem with the file it is in. Pure: file reading lives in `load.ts` (Node only).
 *
 * Engine-neutral (ES5 built-ins only): the pipeline, the construct library (warehouse columns) and the tracker
 * (types) share it.
 */
import { additionProblems } from './compat';
import { isJsonObject, jsonEqual, jsonSchemaProblems, type JsonSchema } from './jsonschema';
import {
  compareSchemaKeys,
  formatSchemaVer,
  isValidName,
  isValidVendor,
  quoteForMessage,
  schemaVerProblem,
  SELF_DESCRIBING_META_SCHEMA,
  parseSchemaVer,
  type SchemaVer,
} from './schemaver';

/** One file of a schema folder. */
export interface SchemaFile {
  /** Path relative to the folder, `/`-separated: `com.acme/button_click/jsonschema/1-0-0`. */
  readonly path: string;
  /** The file's content (UTF-8 text). */
  readonly text: string;
}

/** The files of one folder. Folders listed later merge into earlier ones (built-ins first, then the user's). */
export interface SchemaFolder {
  /** How the folder is named in error messages (its path on disk, usually). */
  readonly name: string;
  readonly files: readonly SchemaFile[];
}

/** One schema of the registry. */
export interface RegistrySchema {
  /** `iglu:<vendor>/<name>/jsonschema/<M-R-A>`. */
  readonly key: string;
  readonly vendor: string;
  readonly name: string;
  readonly format: string;
  readonly version: SchemaVer;
  /** The parsed schema document (with its `$schema` and `self`). */
  readonly schema: JsonSchema;
  /** The file it was read from, for messages: `<folder name>/<path>`. */
  readonly file: string;
}

/** All versions of one vendor/name/MODEL: the unit of a warehouse column. */
export interface SchemaModel {
  readonly vendor: string;
  readonly name: string;
  readonly model: number;
  /** The newest version of the MODEL: a superset of every older one (checked at load). */
  readonly latest: RegistrySchema;
  /** Oldest first. */
  readonly versions: readonly RegistrySchema[];
}

export interface Registry {
  /** Every schema, sorted by vendor, name, then SchemaVer (deterministic). */
  readonly schemas: readonly RegistrySchema[];
  /** The schema with this exact key, if any. */
  get(key: string): RegistrySchema | undefined;
  /** The newest schema of vendor/name whose MODEL is `model`, if any. */
  latestInModel(vendor: string, name: string, model: number): RegistrySchema | undefined;
  /** One entry per vendor/name/MODEL, sorted by vendor, name, MODEL. */
  models(): readonly SchemaModel[];
}

/** One problem found while building a registry. */
export interface RegistryProblem {
  /** The file at fault (`<folder name>/<path>`). */
  readonly file: string;
  readonly message: string;
}

/** The Error `buildRegistry` throws: its message lists every problem; `problems` has them as data. */
export interface RegistryError extends Error {
  readonly problems: readonly RegistryProblem[];
}

const LAYOUT = '<vendor>/<name>/jsonschema/<MODEL>-<REVISION>-<ADDITION>';

/** Makes the Error listing `problems` (one line each, `file: message`). */
export function registryError(problems: readonly RegistryProblem[]): RegistryError {
  const lines: string[] = [];
  for (let i = 0; i < problems.length; i++) lines.push(problems[i].file + ': ' + problems[i].message);
  const message = problems.length === 1
    ? 'Invalid schema: ' + lines[0]
    : 'Invalid schema registry (' + problems.length + ' problems):\n  ' + lines.join('\n  ');
  const error = new Error(message) as Error & { problems: readonly RegistryProblem[] };
  error.name = 'RegistryError';
  error.problems = problems;
  return error;
}

function joinPath(folder: string, path: string): string {
  if (folder === '') return path;
  return folder.charAt(folder.length - 1) === '/' ? folder + path : folder + '/' + path;
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Object.prototype.toString.call(value) === '[object Array]') return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/**
 * Checks one file: its path (Iglu layout), JSON, `$schema`, `self` (must match the path) and JSON Schema structure.
 * Returns the schema when everything is fine, else the problems.
 */
export function parseSchemaFile(folderName: string, file: SchemaFile): { schema: RegistrySchema | null; problems: RegistryProblem[] } {
  const displayName = joinPath(folderName, file.path);
  const problems: RegistryProblem[] = [];
  const fail = (message: string): { schema: null; problems: RegistryProblem[] } => {
    problems.push({ file: displayName, message: message });
    return { schema: null, problems: problems };
  };

  const parts = file.path.split('/');
  if (parts.length !== 4) {
    const hint = parts.length === 5 && parts[0] === 'schemas'
      ? '; pass the folder that contains the vendor folders (the "schemas" folder itself), not its parent'
      : '';
    return fail('not in Iglu static layout: expected ' + LAYOUT + ' (no file extension) under the folder' + hint);
  }
  const vendor = parts[0];
  const name = parts[1];
  const format = parts[2];
  const versionText = parts[3];
  if (!isValidVendor(vendor)) return fail('vendor folder ' + quoteForMessage(vendor) + ' may only contain letters, digits, "-", "_" and "." (expected ' + LAYOUT + ')');
  if (!isValidName(name)) return fail('name folder ' + quoteForMessage(name) + ' may only contain letters, digits, "-" and "_" (expected ' + LAYOUT + ')');
  if (format !== 'jsonschema') return fail('format folder ' + quoteForMessage(format) + ' is not supported: only "jsonschema" (expected ' + LAYOUT + ')');
  const versionProblem = schemaVerProblem(versionText);
  if (versionProblem !== null) return fail('invalid SchemaVer ' + quoteForMessage(versionText) + ' in the file name: ' + versionProblem);
  const version = parseSchemaVer(versionText);

  let doc: unknown;
  try {
    const text = file.text.charCodeAt(0) === 0xfeff ? file.text.substring(1) : file.text;
    doc = JSON.parse(text);
  } catch (e) {
    return fail('is not valid JSON: ' + (e instanceof Error ? e.message : String(e)));
  }
  if (!isJsonObject(doc)) return fail('a schema must be a JSON object, found ' + describeJson(doc));

  if (doc.$schema === undefined) {
    problems.push({ file: displayName, message: 'missing "$schema": a self-describing schema declares "$schema": "' + SELF_DESCRIBING_META_SCHEMA + '"' });
  } else if (doc.$schema !== SELF_DESCRIBING_META_SCHEMA) {
    problems.push({ file: displayName, message: '"$schema" is ' + JSON.stringify(doc.$schema) + ', expected "' + SELF_DESCRIBING_META_SCHEMA + '"' });
  }
  const self = doc.self;
  if (!isJsonObject(self)) {
    problems.push({ file: displayName, message: 'missing "self" block: expected "self": {"vendor": "' + vendor + '", "name": "' + name + '", "format": "jsonschema", "version": "' + versionText + '"}' });
  } else {
    const expected: { [field: string]: string } = { vendor: vendor, name: name, format: format, version: versionText };
    const fields = ['vendor', 'name', 'format', 'version'];
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i];
      const actual = self[field];
      if (actual === undefined) {
        problems.push({ file: displayName, message: 'self.' + field + ' is missing; the path says ' + JSON.stringify(expected[field]) });
      } else if (actual !== expected[field]) {
        problems.push({ file: displayName, message: 'self.' + field + ' ' + JSON.stringify(actual) + ' does not match the path, which says ' + JSON.stringify(expected[field]) });
      }
    }
    const extra = Object.keys(self).sort();
    for (let i = 0; i < extra.length; i++) {
      if (fields.indexOf(extra[i]) < 0) problems.push({ file: displayName, message: 'self has an unknown field ' + JSON.stringify(extra[i]) + ' (expected vendor, name, format, version)' });
    }
  }
  const schemaProblems = jsonSchemaProblems(doc);
  for (let i = 0; i < schemaProblems.length; i++) {
    problems.push({ file: displayName, message: 'invalid JSON Schema: ' + schemaProblems[i] });
  }
  if (problems.length > 0) return { schema: null, problems: problems };
  return {
    schema: {
      key: 'iglu:' + vendor + '/' + name + '/' + format + '/' + versionText,
      vendor: vendor,
      name: name,
      format: format,
      version: version,
      schema: doc,
      file: displayName,
    },
    problems: problems,
  };
}

function byPath(a: SchemaFile, b: SchemaFile): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

function modelId(vendor: string, name: string, model: number): string {
  return vendor + '/' + name + '/' + model;
}

/**
 * Builds a registry from folders (earlier first: built-ins, then the user's). Throws a {@link RegistryError}
 * naming every file at fault when a file is invalid, two folders hold different schemas under one key, or a
 * version breaks compatibility with the previous version of its MODEL.
 */
export function buildRegistry(folders: readonly SchemaFolder[]): Registry {
  const problems: RegistryProblem[] = [];
  const byKey: { [key: string]: RegistrySchema } = Object.create(null);
  const keys: string[] = [];

  for (let f = 0; f < folders.length; f++) {
    const files = folders[f].files.slice().sort(byPath);
    for (let i = 0; i < files.length; i++) {
      const parsed = parseSchemaFile(folders[f].name, files[i]);
      for (let p = 0; p < parsed.problems.length; p++) problems.push(parsed.problems[p]);
      const schema = parsed.schema;
      if (schema === null) continue;
      const existing = byKey[schema.key];
      if (existing === undefined) {
        byKey[schema.key] = schema;
        keys.push(schema.key);
      } else if (!jsonEqual(existing.schema, schema.schema)) {
        problems.push({
          file: schema.file,
          message: 'defines ' + schema.key + ' differently from ' + existing.file +
            '; a schema key names one immutable schema: give the changed schema a new version',
        });
      }
    }
  }

  const all: RegistrySchema[] = [];
  for (let i = 0; i < keys.length; i++) all.push(byKey[keys[i]]);
  all.sort(compareSchemaKeys);

  const models: SchemaModel[] = [];
  const byModel: { [id: string]: SchemaModel } = Object.create(null);
  for (let i = 0; i < all.length; ) {
    const first = all[i];
    const versions: RegistrySchema[] = [];
    while (i < all.length && all[i].vendor === first.vendor && all[i].name === first.name && all[i].version.model === first.version.model) {
      versions.push(all[i]);
      i++;
    }
    for (let v = 1; v < versions.length; v++) {
      const older = versions[v - 1];
      const newer = versions[v];
      const found = additionProblems(older.schema, newer.schema);
      for (let p = 0; p < found.length; p++) {
        problems.push({
          file: newer.file,
          message: 'breaking change from ' + formatSchemaVer(older.version) + ' within MODEL ' + newer.version.model + ': ' + found[p] +
            '. Versions within a MODEL may only add optional properties or loosen constraints; publish this change as ' +
            (newer.version.model + 1) + '-0-0',
        });
      }
    }
    const model: SchemaModel = { vendor: first.vendor, name: first.name, model: first.version.model, latest: versions[versions.length - 1], versions: versions };
    models.push(model);
    byModel[modelId(first.vendor, first.name, first.version.model)] = model;
  }

  if (problems.length > 0) throw registryError(problems);

  return {
    schemas: all,
    get: function (key: string): RegistrySchema | undefined {
      return typeof key === 'string' ? byKey[key] : undefined;
    },
    latestInModel: function (vendor: string, name: string, model: number): RegistrySchema | undefined {
      const found = byModel[modelId(vendor, name, model)];
      return found === undefined ? undefined : found.latest;
    },
    models: function (): readonly SchemaModel[] {
      return models.slice();
    },
  };
}

