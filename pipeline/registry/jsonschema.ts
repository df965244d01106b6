/**
 * A structural check of JSON Schema documents (draft-04 semantics, as Iglu uses them): every keyword this project
 * supports gets a value of the right shape, unknown keywords are rejected (a misspelt `maxLenght` would otherwise
 * silently validate nothing), and regular expressions must work in every engine the validators run in
 * (ECMAScript 5 regexes, no `u` flag: Nashorn and Rhino).
 *
 * Engine-neutral (ES5 built-ins only).
 */

/** A JSON Schema object (draft-04: schemas are objects; boolean schemas came with draft-06). */
export interface JsonSchema {
  readonly [keyword: string]: unknown;
}

/** JSON type names of draft-04. */
export const JSON_TYPES: readonly string[] = ['array', 'boolean', 'integer', 'null', 'number', 'object', 'string'];

/** The `format` values the compiled validators check. */
export const SUPPORTED_FORMATS: readonly string[] = ['date', 'date-time', 'email', 'hostname', 'ipv4', 'ipv6', 'uri', 'uuid'];

/** Keywords that only carry information for people and tools; any value is accepted for `default`. */
const ANNOTATIONS: readonly string[] = ['title', 'description', 'default', 'id', 'definitions'];

/** Validation keywords the compiler implements. */
export const VALIDATION_KEYWORDS: readonly string[] = [
  'type', 'enum', 'properties', 'patternProperties', 'additionalProperties', 'required', 'dependencies',
  'minProperties', 'maxProperties', 'items', 'additionalItems', 'minItems', 'maxItems', 'uniqueItems',
  'minLength', 'maxLength', 'pattern', 'format', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
  'multipleOf', 'allOf', 'anyOf', 'oneOf', 'not',
];

/** Schemas nested deeper than this are rejected: the compiled validators recurse once per level. */
export const MAX_SCHEMA_DEPTH = 48;

const hasOwn = Object.prototype.hasOwnProperty;

/** True for a plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is { [key: string]: unknown } {
  return typeof value === 'object' && value !== null && Object.prototype.toString.call(value) !== '[object Array]';
}

/** True for a JSON array. */
export function isJsonArray(value: unknown): value is unknown[] {
  return Object.prototype.toString.call(value) === '[object Array]';
}

function indexOf(list: readonly string[], value: string): number {
  for (let i = 0; i < list.length; i++) if (list[i] === value) return i;
  return -1;
}

/** Appends one JSON Pointer token (RFC 6901 escaping) to `pointer`. */
export function pointerTo(pointer: string, token: string | number): string {
  return pointer + '/' + String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Why `pattern` can't be used by the validators, or null when it can: it must compile as a JavaScript regular
 * expression without flags and must not rely on syntax newer than ECMAScript 5 (`\p{...}` and `\u{...}` need the
 * `u` flag, which Nashorn lacks; lookbehind and named groups are unknown to ES5 engines).
 */
export function regexProblem(pattern: string): string | null {
  try {
    new RegExp(pattern);
  } catch (e) {
    return 'is not a valid regular expression (' + (e instanceof Error ? e.message : String(e)) + ')';
  }
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === '\\') {
      const next = pattern.charAt(i + 1);
      const after = pattern.charAt(i + 2);
      if ((next === 'p' || next === 'P') && after === '{') {
        return 'uses the Unicode property escape \\' + next + '{...}, which needs the regex "u" flag (not available in the ES5 engines the validators run in); use explicit character ranges instead';
      }
      if (next === 'u' && after === '{') {
        return 'uses the code point escape \\u{...}, which needs the regex "u" flag (not available in the ES5 engines the validators run in); use \\uXXXX or a surrogate pair instead';
      }
      if (next === 'k' && after === '<') return 'uses a named back-reference \\k<...>, which ES5 regular expressions lack';
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
    } else if (c === '(' && pattern.charAt(i + 1) === '?' && pattern.charAt(i + 2) === '<') {
      const kind = pattern.charAt(i + 3) === '=' || pattern.charAt(i + 3) === '!' ? 'a lookbehind (?<...)' : 'a named group (?<name>...)';
      return 'uses ' + kind + ', which ES5 regular expressions lack';
    }
  }
  return null;
}

function isNonNegativeInteger(value: unknown): boolean {
  return typeof value === 'number' && isFinite(value) && value >= 0 && Math.floor(value) === value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (isJsonArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'the string ' + JSON.stringify(value.length > 60 ? value.substring(0, 60) + '...' : value);
  return typeof value + ' ' + String(value);
}

/** Deep equality of JSON values (used for uniqueness of `enum`). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isJsonArray(a)) {
    if (!isJsonArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (isJsonObject(a)) {
    if (!isJsonObject(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (let i = 0; i < ka.length; i++) {
      if (!hasOwn.call(b, ka[i]) || !jsonEqual(a[ka[i]], b[ka[i]])) return false;
    }
    return true;
  }
  return false;
}

interface CheckContext {
  readonly problems: string[];
}

function checkStringArray(value: unknown, pointer: string, ctx: CheckContext, what: string): void {
  if (!isJsonArray(value)) {
    ctx.problems.push(pointer + ': must be an array of ' + what + ', found ' + describe(value));
    return;
  }
  for (let i = 0; i < value.length; i++) {
    const item = value[i];
    if (typeof item !== 'string') {
      ctx.problems.push(pointerTo(pointer, i) + ': must be a string, found ' + describe(item));
    } else {
      for (let j = 0; j < i; j++) {
        if (value[j] === item) ctx.problems.push(pointerTo(pointer, i) + ': ' + JSON.stringify(item) + ' is listed twice');
      }
    }
  }
}

function checkSchemaMap(value: unknown, pointer: string, ctx: CheckContext, depth: number, keysArePatterns: boolean): void {
  if (!isJsonObject(value)) {
    ctx.problems.push(pointer + ': must be an object whose values are schemas, found ' + describe(value));
    return;
  }
  const keys = Object.keys(value).sort();
  for (let i = 0; i < keys.length; i++) {
    if (keysArePatterns) {
      const problem = regexProblem(keys[i]);
      if (problem !== null) ctx.problems.push(pointerTo(pointer, keys[i]) + ': the pattern ' + problem);
    }
    checkSchemaAt(value[keys[i]], pointerTo(pointer, keys[i]), ctx, depth + 1);
  }
}

function checkSchemaList(value: unknown, pointer: string, ctx: CheckContext, depth: number): void {
  if (!isJsonArray(value) || value.length === 0) {
    ctx.problems.push(pointer + ': must be a non-empty array of schemas, found ' + describe(value));
    return;
  }
  for (let i = 0; i < value.length; i++) checkSchemaAt(value[i], pointerTo(pointer, i), ctx, depth + 1);
}

function checkKeyword(schema: { [key: string]: unknown }, key: string, pointer: string, ctx: CheckContext, depth: number): void {
  const value = schema[key];
  const at = pointerTo(pointer, key);
  const problems = ctx.problems;
  switch (key) {
    case 'type':
      if (typeof value === 'string') {
        if (indexOf(JSON_TYPES, value) < 0) problems.push(at + ': unknown type ' + JSON.stringify(value) + ' (known types: ' + JSON_TYPES.join(', ') + ')');
      } else if (isJsonArray(value) && value.length > 0) {
        checkStringArray(value, at, ctx, 'type names');
        for (let i = 0; i < value.length; i++) {
          const t = value[i];
          if (typeof t === 'string' && indexOf(JSON_TYPES, t) < 0) problems.push(pointerTo(at, i) + ': unknown type ' + JSON.stringify(t) + ' (known types: ' + JSON_TYPES.join(', ') + ')');
        }
      } else {
        problems.push(at + ': must be a type name or a non-empty array of type names, found ' + describe(value));
      }
      return;
    case 'enum':
      if (!isJsonArray(value) || value.length === 0) {
        problems.push(at + ': must be a non-empty array, found ' + describe(value));
        return;
      }
      for (let i = 1; i < value.length; i++) {
        for (let j = 0; j < i; j++) {
          if (jsonEqual(value[i], value[j])) {
            problems.push(pointerTo(at, i) + ': duplicate enum value ' + describe(value[i]));
            break;
          }
        }
      }
      return;
    case 'properties':
    case 'definitions':
      checkSchemaMap(value, at, ctx, depth, false);
      return;
    case 'patternProperties':
      checkSchemaMap(value, at, ctx, depth, true);
      return;
    case 'additionalProperties':
    case 'additionalItems':
      if (typeof value !== 'boolean') checkSchemaAt(value, at, ctx, depth + 1, 'must be a boolean or a schema (an object)');
      return;
    case 'required':
      checkStringArray(value, at, ctx, 'property names');
      return;
    case 'dependencies':
      if (!isJsonObject(value)) {
        problems.push(at + ': must be an object, found ' + describe(value));
        return;
      }
      {
        const names = Object.keys(value).sort();
        for (let i = 0; i < names.length; i++) {
          const dep = value[names[i]];
          if (isJsonArray(dep)) checkStringArray(dep, pointerTo(at, names[i]), ctx, 'property names');
          else checkSchemaAt(dep, pointerTo(at, names[i]), ctx, depth + 1, 'must be an array of property names or a schema');
        }
      }
      return;
    case 'minProperties':
    case 'maxProperties':
    case 'minItems':
    case 'maxItems':
    case 'minLength':
    case 'maxLength':
      if (!isNonNegativeInteger(value)) problems.push(at + ': must be a non-negative integer, found ' + describe(value));
      return;
    case 'items':
      if (isJsonArray(value)) checkSchemaList(value, at, ctx, depth);
      else checkSchemaAt(value, at, ctx, depth + 1, 'must be a schema or an array of schemas');
      return;
    case 'uniqueItems':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      if (typeof value !== 'boolean') {
        problems.push(at + ': must be a boolean, found ' + describe(value));
      } else if (key !== 'uniqueItems') {
        const bound = key === 'exclusiveMinimum' ? 'minimum' : 'maximum';
        if (!hasOwn.call(schema, bound)) problems.push(at + ': needs "' + bound + '" beside it (draft-04)');
      }
      return;
    case 'pattern':
      if (typeof value !== 'string') {
        problems.push(at + ': must be a string, found ' + describe(value));
      } else {
        const problem = regexProblem(value);
        if (problem !== null) problems.push(at + ': the pattern ' + JSON.stringify(value) + ' ' + problem);
      }
      return;
    case 'format':
      if (typeof value !== 'string') problems.push(at + ': must be a string, found ' + describe(value));
      else if (indexOf(SUPPORTED_FORMATS, value) < 0) problems.push(at + ': unsupported format ' + JSON.stringify(value) + ' (supported: ' + SUPPORTED_FORMATS.join(', ') + ')');
      return;
    case 'minimum':
    case 'maximum':
      if (typeof value !== 'number' || !isFinite(value)) problems.push(at + ': must be a number, found ' + describe(value));
      return;
    case 'multipleOf':
      if (typeof value !== 'number' || !isFinite(value) || value <= 0) problems.push(at + ': must be a number greater than 0, found ' + describe(value));
      return;
    case 'allOf':
    case 'anyOf':
    case 'oneOf':
      checkSchemaList(value, at, ctx, depth);
      return;
    case 'not':
      checkSchemaAt(value, at, ctx, depth + 1, 'must be a schema (an object)');
      return;
    case 'title':
    case 'description':
    case 'id':
      if (typeof value !== 'string') problems.push(at + ': must be a string, found ' + describe(value));
      return;
    default:
      return;
  }
}

function checkSchemaAt(schema: unknown, pointer: string, ctx: CheckContext, depth: number, shapeHint?: string): void {
  if (!isJsonObject(schema)) {
    ctx.problems.push(pointer + ': ' + (shapeHint || 'must be a schema (an object)') + ', found ' + describe(schema));
    return;
  }
  if (depth > MAX_SCHEMA_DEPTH) {
    ctx.problems.push(pointer + ': schemas nested deeper than ' + MAX_SCHEMA_DEPTH + ' levels are not supported');
    return;
  }
  const keys = Object.keys(schema).sort();
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (key === '$ref') {
      ctx.problems.push(pointerTo(pointer, key) + ': "$ref" is not supported; write the referenced schema inline');
    } else if (key === '$schema' || key === 'self') {
      if (depth > 0) ctx.problems.push(pointerTo(pointer, key) + ': "' + key + '" belongs at the top of the schema only');
    } else if (indexOf(VALIDATION_KEYWORDS, key) >= 0 || indexOf(ANNOTATIONS, key) >= 0) {
      checkKeyword(schema, key, pointer, ctx, depth);
    } else if (key.charAt(0) !== '$' && key.substring(0, 2) !== 'x-') {
      ctx.problems.push(pointerTo(pointer, key) + ': unknown keyword ' + JSON.stringify(key) +
        ' (misspelt? supported: ' + VALIDATION_KEYWORDS.join(', ') + '; prefix custom annotations with "x-")');
    }
  }
  // `required` names that `properties` forbids make the schema unsatisfiable: almost always a typo.
  const required = schema.required;
  if (schema.additionalProperties === false && isJsonArray(required) && schema.patternProperties === undefined) {
    const properties = isJsonObject(schema.properties) ? schema.properties : {};
    for (let i = 0; i < required.length; i++) {
      const name = required[i];
      if (typeof name === 'string' && !hasOwn.call(properties, name)) {
        ctx.problems.push(pointerTo(pointerTo(pointer, 'required'), i) + ': ' + JSON.stringify(name) +
          ' is required but not declared in "properties" while "additionalProperties" is false, so no instance can be valid');
      }
    }
  }
}

/**
 * Checks a whole schema document. Returns the problems found, each starting with the JSON Pointer of the offending
 * keyword (`#/properties/name/maxLength: ...`); empty when the schema is fine. `$schema` and `self` are accepted at
 * the top only (the registry checks their contents).
 */
export function jsonSchemaProblems(schema: unknown): string[] {
  const ctx: CheckContext = { problems: [] };
  checkSchemaAt(schema, '#', ctx, 0);
  return ctx.problems;
}
