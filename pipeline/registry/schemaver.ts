/**
 * SchemaVer (`MODEL-REVISION-ADDITION`) and Iglu schema keys (`iglu:<vendor>/<name>/<format>/<M-R-A>`).
 *
 * Engine-neutral: this module is bundled into the Dataflow UDF (Nashorn), so it uses ES5 built-ins only
 * (no String#includes, Number.isInteger, Object.assign, ...) and regular expressions without the `u` flag.
 */

/** The `$schema` every self-describing JSON Schema declares. */
export const SELF_DESCRIBING_META_SCHEMA =
  'http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#';

/** A parsed SchemaVer. MODEL starts at 1; REVISION and ADDITION at 0. */
export interface SchemaVer {
  readonly model: number;
  readonly revision: number;
  readonly addition: number;
}

/** A parsed Iglu schema key. */
export interface SchemaKey {
  readonly vendor: string;
  readonly name: string;
  readonly format: string;
  readonly version: SchemaVer;
}

/** Vendors are reverse-DNS-like names: letters, digits, `-`, `_` and `.` (as Iglu allows). */
const VENDOR = /^[a-zA-Z0-9_.-]+$/;
/** Names and formats: letters, digits, `-` and `_`. */
const NAME = /^[a-zA-Z0-9_-]+$/;
const VERSION_SHAPE = /^([0-9]+)-([0-9]+)-([0-9]+)$/;
/** Each SchemaVer part has at most this many digits, so it stays an exact JavaScript number. */
const MAX_DIGITS = 9;

/** Quotes a value for an error message, cut short so hostile input can't blow up a message. */
export function quoteForMessage(value: string, max?: number): string {
  const limit = max === undefined ? 120 : max;
  const shown = value.length > limit ? value.substring(0, limit) + '...' : value;
  return JSON.stringify(shown);
}

/** Why `text` is not a SchemaVer, or null when it is one. */
export function schemaVerProblem(text: string): string | null {
  const m = VERSION_SHAPE.exec(text);
  if (m === null) {
    return 'expected MODEL-REVISION-ADDITION, three non-negative integers joined by "-" (e.g. 1-0-0)';
  }
  const parts = [m[1], m[2], m[3]];
  const labels = ['MODEL', 'REVISION', 'ADDITION'];
  for (let i = 0; i < 3; i++) {
    if (parts[i].length > 1 && parts[i].charAt(0) === '0') return labels[i] + ' ' + parts[i] + ' has a leading zero';
    if (parts[i].length > MAX_DIGITS) return labels[i] + ' ' + parts[i] + ' is too large';
  }
  if (parts[0] === '0') return 'MODEL starts at 1 (the first version of a schema is 1-0-0)';
  return null;
}

/** Is `text` a valid SchemaVer such as `1-0-0`? */
export function isSchemaVer(text: string): boolean {
  return schemaVerProblem(text) === null;
}

/** Parses `M-R-A`; throws an Error saying what is wrong otherwise. */
export function parseSchemaVer(text: string): SchemaVer {
  const problem = schemaVerProblem(text);
  if (problem !== null) throw new Error('Invalid SchemaVer ' + quoteForMessage(text) + ': ' + problem);
  const m = VERSION_SHAPE.exec(text) as RegExpExecArray;
  return { model: parseInt(m[1], 10), revision: parseInt(m[2], 10), addition: parseInt(m[3], 10) };
}

/** Formats a SchemaVer as `M-R-A`. */
export function formatSchemaVer(version: SchemaVer): string {
  return version.model + '-' + version.revision + '-' + version.addition;
}

/** Orders SchemaVers: negative when `a` is older than `b`, 0 when equal, positive when newer. */
export function compareSchemaVer(a: SchemaVer, b: SchemaVer): number {
  if (a.model !== b.model) return a.model < b.model ? -1 : 1;
  if (a.revision !== b.revision) return a.revision < b.revision ? -1 : 1;
  if (a.addition !== b.addition) return a.addition < b.addition ? -1 : 1;
  return 0;
}

/** Is `vendor` a valid Iglu vendor (`com.acme`, `io.waymark`)? */
export function isValidVendor(vendor: string): boolean {
  return VENDOR.test(vendor);
}

/** Is `name` a valid Iglu schema name or format (`link_click`, `jsonschema`)? */
export function isValidName(name: string): boolean {
  return NAME.test(name);
}

const KEY_HINT = 'expected iglu:<vendor>/<name>/jsonschema/<MODEL>-<REVISION>-<ADDITION>';

/** Why `key` is not an Iglu schema key, or null when it is one. */
export function schemaKeyProblem(key: string): string | null {
  if (typeof key !== 'string') return KEY_HINT + ', found a ' + (key === null ? 'null' : typeof key);
  if (key.substring(0, 5) !== 'iglu:') return KEY_HINT + ' (it must start with "iglu:")';
  const parts = key.substring(5).split('/');
  if (parts.length !== 4) return KEY_HINT + ' (found ' + parts.length + ' "/"-separated parts instead of 4)';
  if (!isValidVendor(parts[0])) return 'vendor ' + quoteForMessage(parts[0]) + ' may only contain letters, digits, "-", "_" and "."';
  if (!isValidName(parts[1])) return 'name ' + quoteForMessage(parts[1]) + ' may only contain letters, digits, "-" and "_"';
  if (!isValidName(parts[2])) return 'format ' + quoteForMessage(parts[2]) + ' may only contain letters, digits, "-" and "_"';
  const versionProblem = schemaVerProblem(parts[3]);
  if (versionProblem !== null) return 'version ' + quoteForMessage(parts[3]) + ' is not SchemaVer: ' + versionProblem;
  return null;
}

/** Parses a key, or returns null when it is invalid (no exception: for hot paths over untrusted data). */
export function tryParseSchemaKey(key: string): SchemaKey | null {
  if (schemaKeyProblem(key) !== null) return null;
  const parts = key.substring(5).split('/');
  return { vendor: parts[0], name: parts[1], format: parts[2], version: parseSchemaVer(parts[3]) };
}

/** Parses `iglu:vendor/name/format/M-R-A`; throws an Error saying what is wrong otherwise. */
export function parseSchemaKey(key: string): SchemaKey {
  const problem = schemaKeyProblem(key);
  if (problem !== null) {
    const shown = typeof key === 'string' ? quoteForMessage(key) : String(key);
    throw new Error('Invalid Iglu schema key ' + shown + ': ' + problem);
  }
  return tryParseSchemaKey(key) as SchemaKey;
}

/** Formats a key as `iglu:vendor/name/format/M-R-A`. */
export function formatSchemaKey(key: SchemaKey): string {
  return 'iglu:' + key.vendor + '/' + key.name + '/' + key.format + '/' + formatSchemaVer(key.version);
}

/** Orders keys by vendor, name, format (plain code-unit order, locale-independent), then SchemaVer. */
export function compareSchemaKeys(a: SchemaKey, b: SchemaKey): number {
  if (a.vendor !== b.vendor) return a.vendor < b.vendor ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.format !== b.format) return a.format < b.format ? -1 : 1;
  return compareSchemaVer(a.version, b.version);
}
