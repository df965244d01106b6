/**
 * Build-time compiler: JSON Schemas (draft-04 semantics, as Iglu uses them) → the JavaScript source of validators.
 *
 * The output is ECMAScript 5 (it is inlined in the Dataflow UDF, which runs in Nashorn): one specialised function per
 * distinct sub-schema, plus the helpers of `runtime.ts`. Nothing is generated at run time. `compileValidators`
 * evaluates the very same source in Node (with `new Function`) so that source-level tests and the shipped bundle
 * share one code path.
 *
 * Validators never recurse deeper than the schema (bounded by MAX_SCHEMA_DEPTH), whatever the depth of the data, and
 * report at most `maxErrors` errors per call.
 */
import { isJsonArray, isJsonObject, jsonSchemaProblems, MAX_SCHEMA_DEPTH, type JsonSchema } from '../registry/jsonschema';
import { schemaKeyProblem } from '../registry/schemaver';
import { FORMAT_CHECKERS, propertyPathSuffix, VALIDATOR_RUNTIME } from './runtime';
import type { ValidatorSet } from './types';

/** What the compiler needs of a schema: a `RegistrySchema` (from `pipeline/registry/registry.ts`) is one. */
export interface CompilableSchema {
  /** Full Iglu key, `iglu:<vendor>/<name>/jsonschema/<M-R-A>`: the key of its validator. */
  readonly key: string;
  readonly schema: JsonSchema;
}

export interface CompileOptions {
  /**
   * The most errors one validator call reports (it stops looking after that).
   * @default 10
   */
  readonly maxErrors?: number;
}

/** Default of {@link CompileOptions.maxErrors}. */
export const DEFAULT_MAX_ERRORS = 10;

type Obj = { readonly [key: string]: unknown };

/** A JavaScript string literal holding `s`, ASCII only (safe in ES5 sources, whatever the file encoding). */
export function jsString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34) out += '\\"';
    else if (c === 92) out += '\\\\';
    else if (c < 32 || c > 126) out += '\\u' + ('0000' + c.toString(16)).slice(-4);
    else out += s.charAt(i);
  }
  return out + '"';
}

function jsNumber(n: number): string {
  return n < 0 || (n === 0 && 1 / n < 0) ? '(' + String(n) + ')' : String(n);
}

/** Compile-time quoting for messages (schema constants, so engine differences don't matter here). */
function shown(value: unknown, max: number): string {
  const text = JSON.stringify(value);
  return text.length > max ? text.substring(0, max) + '...' : text;
}

function typeList(schema: Obj): string[] | null {
  const t = schema.type;
  let list: string[];
  if (typeof t === 'string') list = [t];
  else if (isJsonArray(t)) list = t.filter((x): x is string => typeof x === 'string');
  else return null;
  if (list.indexOf('number') >= 0) list = list.filter((x) => x !== 'integer');
  const unique: string[] = [];
  for (let i = 0; i < list.length; i++) if (unique.indexOf(list[i]) < 0) unique.push(list[i]);
  return unique;
}

function describeTypes(types: string[]): string {
  if (types.length === 1) return types[0];
  return types.slice(0, -1).join(', ') + ' or ' + types[types.length - 1];
}

interface Emitter {
  /** Declarations in order of creation: regexes, constants, functions. */
  readonly decls: string[];
  readonly fnByBody: { [body: string]: string };
  readonly constByJson: { [json: string]: string };
  readonly reByPattern: { [pattern: string]: string };
  count: number;
}

function regexName(em: Emitter, pattern: string): string {
  const existing = em.reByPattern[pattern];
  if (existing !== undefined) return existing;
  const name = 'r' + em.count++;
  em.decls.push('var ' + name + ' = new RegExp(' + jsString(pattern) + '), m' + name + ' = [null, null];');
  em.reByPattern[pattern] = name;
  return name;
}

/** A constant JSON value, built with JSON.parse so that keys like `__proto__` stay plain data. */
function constName(em: Emitter, value: unknown): string {
  const json = JSON.stringify(value);
  const existing = em.constByJson[json];
  if (existing !== undefined) return existing;
  const name = 'c' + em.count++;
  em.decls.push('var ' + name + ' = JSON.parse(' + jsString(json) + ');');
  em.constByJson[json] = name;
  return name;
}

function has(o: Obj, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

/**
 * Emits the validator function of one (sub-)schema and returns its name, or null when the schema accepts
 * everything (no function needed). Identical functions are emitted once.
 */
function compileNode(em: Emitter, schema: unknown, depth: number): string | null {
  if (!isJsonObject(schema)) return null;
  if (depth > MAX_SCHEMA_DEPTH) throw new Error('schema nested deeper than ' + MAX_SCHEMA_DEPTH + ' levels');
  const s: Obj = schema;
  const body: string[] = [];
  let usesKind = false;

  // type: the other checks only apply to their own type, so a wrong type ends the checks of this value.
  const types = typeList(s);
  const kinds: string[] | null = types === null ? null : types.map((t) => (t === 'integer' ? 'number' : t)).filter((k, i, all) => all.indexOf(k) === i);
  if (types !== null) {
    usesKind = true;
    const conditions = types.map((t) => (t === 'integer' ? '(t === "number" && isInt(d))' : 't === ' + jsString(t)));
    body.push('if (!(' + conditions.join(' || ') + ')) { err(e, p, "type", ' + jsString('expected ' + describeTypes(types) + ', found ') + ' + show(d)); return; }');
  }
  if (has(s, 'enum')) {
    body.push('if (!inEnum(d, ' + constName(em, s.enum) + ')) err(e, p, "enum", ' + jsString('expected one of ' + shown(s.enum, 200) + ', found ') + ' + show(d));');
  }

  const group = (kind: string, lines: string[]): void => {
    if (lines.length === 0 || (kinds !== null && kinds.indexOf(kind) < 0)) return;
    if (kinds !== null && kinds.length === 1) {
      for (let i = 0; i < lines.length; i++) body.push(lines[i]);
    } else {
      usesKind = true;
      body.push('if (t === ' + jsString(kind) + ') {');
      for (let i = 0; i < lines.length; i++) body.push('  ' + lines[i]);
      body.push('}');
    }
  };

  group('string', stringChecks(em, s));
  group('number', numberChecks(s));
  group('object', objectChecks(em, s, depth));
  group('array', arrayChecks(em, s, depth));
  combinatorChecks(em, s, depth, body);

  if (body.length === 0) return null;
  const text = '(d, p, e) {\n' + (usesKind ? '  var t = kindOf(d);\n' : '') + body.map((l) => '  ' + l).join('\n') + '\n}';
  const existing = em.fnByBody[text];
  if (existing !== undefined) return existing;
  const name = 'v' + em.count++;
  em.decls.push('function ' + name + text);
  em.fnByBody[text] = name;
  return name;
}

function stringChecks(em: Emitter, s: Obj): string[] {
  const lines: string[] = [];
  if (typeof s.minLength === 'number' && s.minLength > 0) {
    const m = s.minLength;
    // cpLen(d) >= d.length / 2, so only strings shorter than 2m can be too short.
    lines.push('if (d.length < ' + 2 * m + ' && cpLen(d) < ' + m + ') err(e, p, "minLength", ' + jsString('expected at least ' + m + ' characters, found ') + ' + cpLen(d));');
  }
  if (typeof s.maxLength === 'number') {
    const m = s.maxLength;
    lines.push('if (d.length > ' + m + ' && cpLen(d) > ' + m + ') err(e, p, "maxLength", ' + jsString('expected at most ' + m + ' characters, found ') + ' + cpLen(d));');
  }
  if (typeof s.pattern === 'string') {
    // Through the last two strings that matched (schema URIs and enums of codes repeat from event to event; in
    // Nashorn each regex test interprets the pattern per character).
    const re = regexName(em, s.pattern);
    lines.push('if (!matches(' + re + ', m' + re + ', d)) err(e, p, "pattern", ' + jsString('expected a string matching ' + shown(s.pattern, 200) + ', found ') + ' + show(d));');
  }
  if (typeof s.format === 'string') {
    const checker = FORMAT_CHECKERS[s.format];
    if (checker === undefined) throw new Error('unsupported format ' + JSON.stringify(s.format));
    lines.push('if (!' + checker + '(d)) err(e, p, "format", ' + jsString('expected a valid ' + s.format + ', found ') + ' + show(d));');
  }
  return lines;
}

function numberChecks(s: Obj): string[] {
  const lines: string[] = [];
  if (typeof s.minimum === 'number') {
    const exclusive = s.exclusiveMinimum === true;
    lines.push('if (d ' + (exclusive ? '<=' : '<') + ' ' + jsNumber(s.minimum) + ') err(e, p, "minimum", ' +
      jsString('expected a number ' + (exclusive ? '> ' : '>= ') + String(s.minimum) + ', found ') + ' + show(d));');
  }
  if (typeof s.maximum === 'number') {
    const exclusive = s.exclusiveMaximum === true;
    lines.push('if (d ' + (exclusive ? '>=' : '>') + ' ' + jsNumber(s.maximum) + ') err(e, p, "maximum", ' +
      jsString('expected a number ' + (exclusive ? '< ' : '<= ') + String(s.maximum) + ', found ') + ' + show(d));');
  }
  if (typeof s.multipleOf === 'number') {
    lines.push('if (!isMultiple(d, ' + jsNumber(s.multipleOf) + ')) err(e, p, "multipleOf", ' + jsString('expected a multiple of ' + String(s.multipleOf) + ', found ') + ' + show(d));');
  }
  return lines;
}

function objectChecks(em: Emitter, s: Obj, depth: number): string[] {
  const lines: string[] = [];
  const required = isJsonArray(s.required) ? s.required : [];
  for (let i = 0; i < required.length; i++) {
    const name = String(required[i]);
    lines.push('if (!hasOwn.call(d, ' + jsString(name) + ')) err(e, p, "required", ' + jsString('missing required property ' + JSON.stringify(name)) + ');');
  }
  if (typeof s.minProperties === 'number' || typeof s.maxProperties === 'number') {
    lines.push('var np = Object.keys(d).length;');
    if (typeof s.minProperties === 'number' && s.minProperties > 0) {
      lines.push('if (np < ' + s.minProperties + ') err(e, p, "minProperties", ' + jsString('expected at least ' + s.minProperties + ' properties, found ') + ' + np);');
    }
    if (typeof s.maxProperties === 'number') {
      lines.push('if (np > ' + s.maxProperties + ') err(e, p, "maxProperties", ' + jsString('expected at most ' + s.maxProperties + ' properties, found ') + ' + np);');
    }
  }
  const properties: Obj = isJsonObject(s.properties) ? s.properties : {};
  const names = Object.keys(properties).sort();
  for (let i = 0; i < names.length; i++) {
    const fn = compileNode(em, properties[names[i]], depth + 1);
    if (fn !== null) {
      const key = jsString(names[i]);
      lines.push('if (hasOwn.call(d, ' + key + ')) ' + fn + '(d[' + key + '], p + ' + jsString(propertyPathSuffix(names[i])) + ', e);');
    }
  }
  if (isJsonObject(s.dependencies)) {
    const deps = s.dependencies;
    const depNames = Object.keys(deps).sort();
    for (let i = 0; i < depNames.length; i++) {
      const dep = deps[depNames[i]];
      const inner: string[] = [];
      if (isJsonArray(dep)) {
        for (let j = 0; j < dep.length; j++) {
          const needed = String(dep[j]);
          inner.push('if (!hasOwn.call(d, ' + jsString(needed) + ')) err(e, p, "dependencies", ' +
            jsString('missing property ' + JSON.stringify(needed) + ', required when ' + JSON.stringify(depNames[i]) + ' is present') + ');');
        }
      } else {
        const fn = compileNode(em, dep, depth + 1);
        if (fn !== null) inner.push(fn + '(d, p, e);');
      }
      if (inner.length > 0) lines.push('if (hasOwn.call(d, ' + jsString(depNames[i]) + ')) { ' + inner.join(' ') + ' }');
    }
  }

  // Properties not listed in `properties`: patternProperties and additionalProperties, in sorted key order so
  // that every engine reports the same errors in the same order.
  const patterns: Obj = isJsonObject(s.patternProperties) ? s.patternProperties : {};
  const patternKeys = Object.keys(patterns).sort();
  const additional = s.additionalProperties;
  const additionalFn = isJsonObject(additional) ? compileNode(em, additional, depth + 1) : null;
  const checksAdditional = additional === false || additionalFn !== null;
  if (patternKeys.length > 0 || checksAdditional) {
    const loop: string[] = [];
    if (patternKeys.length > 0) loop.push('var matched = false;');
    for (let i = 0; i < patternKeys.length; i++) {
      const fn = compileNode(em, patterns[patternKeys[i]], depth + 1);
      loop.push('if (' + regexName(em, patternKeys[i]) + '.test(k)) { matched = true;' + (fn !== null ? ' ' + fn + '(d[k], prop(p, k), e);' : '') + ' }');
    }
    if (checksAdditional) {
      const conditions: string[] = [];
      if (patternKeys.length > 0) conditions.push('!matched');
      if (names.length > 0) conditions.push('!hasOwn.call(' + constName(em, namesObject(names)) + ', k)');
      const action = additional === false
        ? 'err(e, prop(p, k), "additionalProperties", "property " + quote(k) + " is not allowed");'
        : additionalFn + '(d[k], prop(p, k), e);';
      loop.push(conditions.length > 0 ? 'if (' + conditions.join(' && ') + ') ' + action : action);
    }
    // Without patterns, valid objects (all keys known) skip the sorted walk.
    const fastPath = patternKeys.length === 0 && names.length > 0;
    const indent = fastPath ? '  ' : '';
    if (fastPath) lines.push('if (hasUnknown(d, ' + constName(em, namesObject(names)) + ')) {');
    lines.push(indent + 'var ks = sortedKeys(d);');
    lines.push(indent + 'for (var i = 0; i < ks.length && e.length < MAX_ERRORS; i++) {');
    lines.push(indent + '  var k = ks[i];');
    for (let i = 0; i < loop.length; i++) lines.push(indent + '  ' + loop[i]);
    lines.push(indent + '}');
    if (fastPath) lines.push('}');
  }
  return lines;
}

function namesObject(names: string[]): { [name: string]: number } {
  const o: { [name: string]: number } = {};
  for (let i = 0; i < names.length; i++) o[names[i]] = 1;
  return o;
}

function arrayChecks(em: Emitter, s: Obj, depth: number): string[] {
  const lines: string[] = [];
  if (typeof s.minItems === 'number' && s.minItems > 0) {
    lines.push('if (d.length < ' + s.minItems + ') err(e, p, "minItems", ' + jsString('expected at least ' + s.minItems + ' items, found ') + ' + d.length);');
  }
  if (typeof s.maxItems === 'number') {
    lines.push('if (d.length > ' + s.maxItems + ') err(e, p, "maxItems", ' + jsString('expected at most ' + s.maxItems + ' items, found ') + ' + d.length);');
  }
  if (s.uniqueItems === true) {
    lines.push('var dup = firstDuplicate(d);');
    lines.push('if (dup >= 0) err(e, p + "[" + dup + "]", "uniqueItems", "expected unique items, found a repeat of an earlier item");');
    lines.push('else if (dup === -2) err(e, p, "uniqueItems", "cannot compare items nested this deep");');
  }
  const items = s.items;
  if (isJsonObject(items)) {
    const fn = compileNode(em, items, depth + 1);
    if (fn !== null) lines.push('for (var i = 0; i < d.length && e.length < MAX_ERRORS; i++) ' + fn + '(d[i], p + "[" + i + "]", e);');
  } else if (isJsonArray(items)) {
    for (let i = 0; i < items.length; i++) {
      const fn = compileNode(em, items[i], depth + 1);
      if (fn !== null) lines.push('if (d.length > ' + i + ') ' + fn + '(d[' + i + '], p + "[' + i + ']", e);');
    }
    const n = items.length;
    if (s.additionalItems === false) {
      lines.push('if (d.length > ' + n + ') err(e, p + "[' + n + ']", "additionalItems", ' + jsString('expected at most ' + n + ' items, found ') + ' + d.length);');
    } else if (isJsonObject(s.additionalItems)) {
      const fn = compileNode(em, s.additionalItems, depth + 1);
      if (fn !== null) lines.push('for (var j = ' + n + '; j < d.length && e.length < MAX_ERRORS; j++) ' + fn + '(d[j], p + "[" + j + "]", e);');
    }
  }
  return lines;
}

function combinatorChecks(em: Emitter, s: Obj, depth: number, body: string[]): void {
  const list = (value: unknown): (string | null)[] => (isJsonArray(value) ? value.map((sub) => compileNode(em, sub, depth + 1)) : []);
  const allOf = list(s.allOf);
  for (let i = 0; i < allOf.length; i++) if (allOf[i] !== null) body.push(allOf[i] + '(d, p, e);');
  if (isJsonArray(s.anyOf)) {
    const anyOf = list(s.anyOf);
    // An alternative that accepts everything makes anyOf always true.
    if (anyOf.indexOf(null) < 0) {
      body.push('if (!(' + anyOf.map((fn) => 'passes(' + fn + ', d, p)').join(' || ') + ')) err(e, p, "anyOf", ' +
        jsString('expected a value valid against at least one of the ' + anyOf.length + ' schemas of anyOf') + ');');
    }
  }
  if (isJsonArray(s.oneOf)) {
    const oneOf = list(s.oneOf);
    const always = oneOf.filter((fn) => fn === null).length;
    const tests = oneOf.filter((fn) => fn !== null).map((fn) => '(passes(' + fn + ', d, p) ? 1 : 0)');
    const count = [String(always)].concat(tests).join(' + ');
    body.push('var n1 = ' + count + ';');
    body.push('if (n1 !== 1) err(e, p, "oneOf", ' + jsString('expected a value valid against exactly one of the ' + oneOf.length + ' schemas of oneOf, it is valid against ') + ' + n1);');
  }
  if (has(s, 'not')) {
    const fn = compileNode(em, s.not, depth + 1);
    const message = jsString('expected a value not valid against the schema of "not"');
    body.push(fn === null ? 'err(e, p, "not", ' + message + ');' : 'if (passes(' + fn + ', d, p)) err(e, p, "not", ' + message + ');');
  }
}

/**
 * The validators as one ECMAScript 5 expression (an immediately invoked function) that evaluates to a
 * {@link ValidatorSet}: an object with no prototype, so `validators["toString"]` is undefined. Schemas are compiled
 * in key order, so the same schemas always give the same bytes. Throws an Error naming the schema when a schema or
 * key can't be compiled (invalid JSON Schema, a regex that needs the `u` flag, ...).
 */
export function compileValidatorsExpression(schemas: readonly CompilableSchema[], options: CompileOptions = {}): string {
  const maxErrors = options.maxErrors === undefined ? DEFAULT_MAX_ERRORS : options.maxErrors;
  if (!(maxErrors >= 1 && Math.floor(maxErrors) === maxErrors)) throw new Error('maxErrors must be a positive integer, found ' + String(maxErrors));
  const sorted = schemas.slice().sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const em: Emitter = { decls: [], fnByBody: {}, constByJson: {}, reByPattern: {}, count: 0 };
  const entries: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const { key, schema } = sorted[i];
    const keyProblem = schemaKeyProblem(key);
    if (keyProblem !== null) throw new Error('Cannot compile a validator for ' + JSON.stringify(key) + ': ' + keyProblem);
    if (i > 0 && sorted[i - 1].key === key) throw new Error('Cannot compile validators: two schemas have the key ' + key);
    const problems = jsonSchemaProblems(schema);
    if (problems.length > 0) throw new Error('Cannot compile a validator for ' + key + ': invalid JSON Schema: ' + problems.join('; '));
    let fn: string | null;
    try {
      fn = compileNode(em, schema, 0);
    } catch (e) {
      throw new Error('Cannot compile a validator for ' + key + ': ' + (e instanceof Error ? e.message : String(e)));
    }
    entries.push('set[' + jsString(key) + '] = entry(' + (fn === null ? 'null' : fn) + ');');
  }
  return [
    '(function () {',
    '"use strict";',
    'var MAX_ERRORS = ' + maxErrors + ';',
    VALIDATOR_RUNTIME,
    'function entry(f) {',
    '  return function (data) { var e = []; if (f !== null) f(data, "$", e); return e; };',
    '}',
    em.decls.join('\n'),
    'var set = Object.create(null);',
    entries.join('\n'),
    'return set;',
    '})()',
  ].join('\n');
}

/**
 * The source of an ES module exporting `validators` (the bundler's `waymark:validators` virtual module). Everything
 * but its last line, `export { validators };`, is ECMAScript 5.
 */
export function compileValidatorsModule(schemas: readonly CompilableSchema[], options: CompileOptions = {}): string {
  return '// Generated by pipeline/validation/compile.ts from the schema registry. Do not edit.\n' +
    'var validators = ' + compileValidatorsExpression(schemas, options) + ';\n' +
    'export { validators };\n';
}

/**
 * Compiles validators and evaluates them in this process (Node only: uses `new Function`). Same source as
 * {@link compileValidatorsModule}, for tests and Node tools.
 */
export function compileValidators(schemas: readonly CompilableSchema[], options: CompileOptions = {}): ValidatorSet {
  const source = compileValidatorsExpression(schemas, options);
  return new Function('return ' + source + ';')() as ValidatorSet;
}
