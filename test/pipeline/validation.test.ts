import * as acorn from 'acorn';
import type * as esbuild from 'esbuild';
import * as vm from 'vm';
import { loadRegistry } from '../../pipeline/registry/load';
import {
  compileValidators,
  compileValidatorsExpression,
  compileValidatorsModule,
  jsString,
  type CompilableSchema,
} from '../../pipeline/validation/compile';
import { validatorsModuleSource } from '../../pipeline/validation/module';
import type { ValidationError } from '../../pipeline/validation/types';
import { EXAMPLE_SCHEMAS_DIR } from '../helpers/bundles';
import { strippedContext } from './helpers/engines';
import { NashornUdf } from './helpers/nashorn';
import { bundleAsEs5Script } from './validation-engines';

/** One instance checked against one schema, with the errors expected as `path keyword` strings. */
interface Case {
  readonly name: string;
  readonly schema: Record<string, unknown>;
  readonly data: unknown;
  readonly errors: readonly string[];
  /** Expected message of the first error, when the case asserts it. */
  readonly message?: string;
}

const cases: Case[] = [];
function add(name: string, schema: Record<string, unknown>, valid: unknown[], invalid: [unknown, string[], string?][]): void {
  valid.forEach((data, i) => cases.push({ name: `${name}: valid #${i}`, schema, data, errors: [] }));
  invalid.forEach(([data, errors, message], i) => cases.push({ name: `${name}: invalid #${i}`, schema, data, errors, message }));
}

// type
add('type string', { type: 'string' }, ['', 'a'], [[1, ['$ type'], 'expected string, found number 1'], [null, ['$ type'], 'expected string, found null']]);
add('type list', { type: ['string', 'null'] }, ['a', null], [[true, ['$ type'], 'expected string or null, found boolean true'], [[], ['$ type'], 'expected string or null, found array']]);
add('type integer', { type: 'integer' }, [3, -7, 0, 1e21], [[3.5, ['$ type'], 'expected integer, found number 3.5'], ['3', ['$ type'], 'expected integer, found string "3"']]);
add('type number', { type: 'number' }, [3.5, 3, -0.1], [['1', ['$ type']]]);
add('type integer or number', { type: ['integer', 'number'] }, [1, 1.5], [[null, ['$ type'], 'expected number, found null']]);
add('type null', { type: 'null' }, [null], [[0, ['$ type']], ['', ['$ type']]]);
add('type boolean', { type: 'boolean' }, [true, false], [['false', ['$ type']], [0, ['$ type']]]);
add('type object', { type: 'object' }, [{}, { a: 1 }], [[[], ['$ type'], 'expected object, found array'], [null, ['$ type']]]);
add('type array', { type: 'array' }, [[], [1, 'a']], [[{}, ['$ type'], 'expected array, found object']]);
add('type ends the checks of a value', { type: 'string', enum: ['a'], minLength: 5 }, [], [[7, ['$ type']]]);

// properties and required
const nested = { type: 'object', properties: { a: { type: 'object', properties: { b: { type: 'array', items: { type: 'integer' } } } } } };
add('nested properties', nested, [{}, { a: {} }, { a: { b: [1, 2] } }, { z: 'anything' }], [
  [{ a: { b: [1, 'x', 2.5] } }, ['$.a.b[1] type', '$.a.b[2] type'], 'expected integer, found string "x"'],
  [{ a: [] }, ['$.a type']],
]);
add('required', { type: 'object', required: ['id', 'name'], properties: { id: { type: 'string' } } }, [{ id: 'x', name: null }], [
  [{}, ['$ required', '$ required'], 'missing required property "id"'],
  [{ id: 1, name: 'n' }, ['$.id type']],
  [[], ['$ type']],
]);
add('required ignores non-objects', { required: ['id'] }, ['text', 5, null, []], []);
add('required is never satisfied by inherited members', { required: ['constructor', 'toString'] }, [{ constructor: 1, toString: 2 }], [
  [{}, ['$ required', '$ required'], 'missing required property "constructor"'],
]);
add('property names that are not identifiers', { properties: { 'a b': { type: 'string' }, "it's": { type: 'string' }, 'back\\slash': { type: 'string' }, '': { type: 'string' } } }, [{ 'a b': 'x' }], [
  [{ 'a b': 1, "it's": 2, 'back\\slash': 3, '': 4 }, ["$[''] type", "$['a b'] type", "$['back\\\\slash'] type", "$['it\\'s'] type"]],
]);
add('__proto__ is plain data', JSON.parse('{"properties": {"__proto__": {"type": "string"}}, "required": ["__proto__"]}'), [JSON.parse('{"__proto__": "x"}')], [
  [JSON.parse('{"__proto__": 5}'), ['$.__proto__ type']],
  [{}, ['$ required'], 'missing required property "__proto__"'],
]);

// additionalProperties and patternProperties
add('additionalProperties false', { properties: { a: {} }, additionalProperties: false }, [{}, { a: [1, { deep: true }] }], [
  [{ z: 1, a: 1, b: 2 }, ['$.b additionalProperties', '$.z additionalProperties'], 'property "b" is not allowed'],
  [{ 'a-b': 1 }, ["$['a-b'] additionalProperties"], 'property "a-b" is not allowed'],
  [{ constructor: 1 }, ['$.constructor additionalProperties']],
]);
add('additionalProperties false without properties', { type: 'object', additionalProperties: false }, [{}], [[{ x: 1 }, ['$.x additionalProperties']]]);
add('additionalProperties schema', { properties: { a: { type: 'integer' } }, additionalProperties: { type: 'string' } }, [{ a: 1, x: 's' }], [
  [{ a: 'no', y: 2, x: 's' }, ['$.a type', '$.y type']],
]);
add('patternProperties', { properties: { id: {} }, patternProperties: { '^x_': { type: 'integer' }, '_n$': { type: 'number' } }, additionalProperties: false }, [{ id: 1, x_a: 1, b_n: 1.5 }], [
  [{ x_b: 'no', other: 1, x_n: 1.5 }, ['$.other additionalProperties', '$.x_b type', '$.x_n type']],
]);
add('patternProperties only', { patternProperties: { '^n': { type: 'number' } } }, [{ n1: 1, other: 'x' }], [[{ n1: 'x' }, ['$.n1 type']]]);

// enum
add('enum', { enum: ['a', 1, null, { x: [1] }, [2, 'b']] }, ['a', 1, 1.0, null, { x: [1] }, [2, 'b']], [
  ['b', ['$ enum'], 'expected one of ["a",1,null,{"x":[1]},[2,"b"]], found string "b"'],
  [{ x: [1, 2] }, ['$ enum']],
  [{ x: [1], y: 1 }, ['$ enum']],
  [[2], ['$ enum']],
  ['1', ['$ enum']],
  [true, ['$ enum']],
]);
add('enum with a __proto__ key', { enum: [JSON.parse('{"__proto__": 1}')] }, [JSON.parse('{"__proto__": 1}')], [[{}, ['$ enum']]]);

// pattern
add('pattern', { pattern: '^[a-z]+$' }, ['abc', 5, null], [['ab1', ['$ pattern'], 'expected a string matching "^[a-z]+$", found string "ab1"']]);
add('pattern is not anchored', { pattern: 'b' }, ['abc'], [['ac', ['$ pattern']]]);
add('pattern with escapes', { pattern: '^\\u00e9+\\d$' }, ['éé1'], [['ee1', ['$ pattern'], 'expected a string matching "^\\\\u00e9+\\\\d$", found string "ee1"']]);

// numbers
add('minimum and maximum', { minimum: 1, maximum: 10 }, [1, 10, 5.5, 'x'], [
  [0, ['$ minimum'], 'expected a number >= 1, found number 0'],
  [10.5, ['$ maximum'], 'expected a number <= 10, found number 10.5'],
]);
add('exclusive bounds', { minimum: 1, exclusiveMinimum: true, maximum: 10, exclusiveMaximum: true }, [1.01, 9.99], [
  [1, ['$ minimum'], 'expected a number > 1, found number 1'],
  [10, ['$ maximum'], 'expected a number < 10, found number 10'],
]);
add('negative bounds', { minimum: -5, maximum: -1 }, [-5, -1], [[-6, ['$ minimum'], 'expected a number >= -5, found number -6'], [0, ['$ maximum']]]);
add('multipleOf integer', { multipleOf: 3 }, [0, 9, -3], [[10, ['$ multipleOf'], 'expected a multiple of 3, found number 10']]);
add('multipleOf decimal', { multipleOf: 0.1 }, [0.3, 1.7, 100.1], [[0.35, ['$ multipleOf'], 'expected a multiple of 0.1, found number 0.35']]);

// strings: lengths count code points
add('minLength and maxLength', { minLength: 2, maxLength: 3 }, ['ab', 'abc', '😀😀😀', 'é\u0301x', 5], [
  ['a', ['$ minLength'], 'expected at least 2 characters, found 1'],
  ['😀', ['$ minLength'], 'expected at least 2 characters, found 1'],
  ['abcd', ['$ maxLength'], 'expected at most 3 characters, found 4'],
  ['😀😀😀😀', ['$ maxLength'], 'expected at most 3 characters, found 4'],
]);
add('a lone surrogate counts once', { maxLength: 1 }, ['\ud800', '😀'], [['\ud800\ud800', ['$ maxLength']]]);

// arrays
add('minItems and maxItems', { minItems: 1, maxItems: 2 }, [[1], [1, 2], 'x'], [
  [[], ['$ minItems'], 'expected at least 1 items, found 0'],
  [[1, 2, 3], ['$ maxItems'], 'expected at most 2 items, found 3'],
]);
add('items schema', { items: { type: 'string' } }, [[], ['a', 'b']], [[['a', 1, 'c', null], ['$[1] type', '$[3] type']]]);
add('items tuple', { items: [{ type: 'string' }, { type: 'integer' }], additionalItems: false }, [[], ['a'], ['a', 1]], [
  [['a', 'b'], ['$[1] type']],
  [['a', 1, true], ['$[2] additionalItems'], 'expected at most 2 items, found 3'],
]);
add('additionalItems schema', { items: [{ type: 'string' }], additionalItems: { type: 'boolean' } }, [['a', true, false]], [[['a', true, 'x'], ['$[2] type']]]);
add('uniqueItems', { uniqueItems: true }, [[1, '1', [1], [1, 2], { a: 1 }, { a: '1' }, null, 'null']], [
  [[1, 2, 1], ['$[2] uniqueItems'], 'expected unique items, found a repeat of an earlier item'],
  [[{ a: 1, b: [2] }, { b: [2], a: 1 }], ['$[1] uniqueItems']],
  [[1, 1.0], ['$[1] uniqueItems']],
]);

// object size and dependencies
add('minProperties and maxProperties', { minProperties: 1, maxProperties: 2 }, [{ a: 1 }, { a: 1, b: 2 }, []], [
  [{}, ['$ minProperties'], 'expected at least 1 properties, found 0'],
  [{ a: 1, b: 2, c: 3 }, ['$ maxProperties'], 'expected at most 2 properties, found 3'],
]);
add('dependencies', { dependencies: { card: ['billing', 'cvc'], b: { required: ['c'] } } }, [{}, { card: 1, billing: 2, cvc: 3 }, { b: 1, c: 2 }], [
  [{ card: 1, cvc: 2 }, ['$ dependencies'], 'missing property "billing", required when "card" is present'],
  [{ b: 1 }, ['$ required']],
]);

// combinators
add('allOf', { allOf: [{ type: 'string' }, { maxLength: 2 }] }, ['ab'], [['abc', ['$ maxLength']], [1, ['$ type']]]);
add('anyOf', { anyOf: [{ type: 'string' }, { type: 'integer' }] }, ['a', 1], [[true, ['$ anyOf'], 'expected a value valid against at least one of the 2 schemas of anyOf']]);
add('anyOf with an empty alternative', { anyOf: [{ type: 'string' }, {}] }, [true], []);
add('oneOf', { oneOf: [{ type: 'integer' }, { minimum: 0 }] }, [-1, 0.5], [
  [5, ['$ oneOf'], 'expected a value valid against exactly one of the 2 schemas of oneOf, it is valid against 2'],
  [-0.5, ['$ oneOf'], 'expected a value valid against exactly one of the 2 schemas of oneOf, it is valid against 0'],
]);
add('not', { not: { type: 'null' } }, [1, 'x'], [[null, ['$ not'], 'expected a value not valid against the schema of "not"']]);

// formats (non-strings are not checked)
const formats: Record<string, [string[], string[]]> = {
  'date-time': [
    ['2024-02-29T23:59:60Z', '2021-01-01T00:00:00.123+05:30', '2021-01-01t00:00:00z', '2021-12-31T23:59:59.999999-12:00'],
    ['2021-02-29T00:00:00Z', '2021-01-01 00:00:00Z', '2021-01-01T24:00:00Z', '2021-01-01T00:00:00', '2021-13-01T00:00:00Z', '2021-01-01T00:00:00+25:00', '2021-01-01T00:60:00Z', '2021-01-01'],
  ],
  date: [['2024-02-29', '2000-02-29', '1999-12-31'], ['1900-02-29', '2021-04-31', '2021-1-01', '2021-01-01T00:00:00Z', '2021-00-10']],
  email: [['a@b.co', 'first.last+tag@example.com', 'x@localhost', "o'brien@example.org"], ['a@', '@b.com', 'a b@c.com', 'a..b@c.com', 'a@-b.com', 'a@b..com', 'plain']],
  hostname: [['example.com', 'a', 'xn--bcher-kva.example', 'a-b.c-d.e'], ['-a.com', 'a_b.com', '', 'a.', 'a'.repeat(64) + '.com']],
  ipv4: [['0.0.0.0', '255.255.255.255', '192.168.1.1'], ['256.1.1.1', '1.2.3', '01.2.3.4', '1.2.3.4.5', '', '1.2.3.a']],
  ipv6: [
    ['::', '::1', '1::', '2001:db8::8a2e:370:7334', '2001:0db8:0000:0000:0000:ff00:0042:8329', '::ffff:192.0.2.128', 'fe80::1:2:3:4:5:6', '1:2:3:4:5:6:7::', 'ABCD::ef'],
    ['1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::1', '1.2.3.4', '::ffff:999.0.2.128', ':::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8::', ''],
  ],
  uri: [
    ['https://example.com/a?b=c#d', 'mailto:x@y.z', 'urn:isbn:0451450523', 'http://[::1]:8080/', 'https://e.com/%20x', 'a:'],
    ['/relative/path', 'http://exa mple.com', 'https://e.com/%zz', 'https://e.com/%2', 'https://e.com/é', '1http://x', '', 'example.com'],
  ],
  uuid: [['123e4567-e89b-12d3-a456-426614174000', '123E4567-E89B-12D3-A456-426614174000', '00000000-0000-0000-0000-000000000000'], ['123e4567e89b12d3a456426614174000', '123e4567-e89b-12d3-a456-42661417400g', '123e4567-e89b-12d3-a456-4266141740000',
    '123e4567-e89b-12d3-a4564-26614174000', '123e4567-e89b-12d3-a456-42661417400G', '123e4567-e89b-12d3-a456-42661417400@', '123e4567-e89b-12d3-a456-42661417400`', '123e4567-e89b-12d3-a456-42661417400\u00e4', '123e4567:e89b-12d3-a456-426614174000']],
};
for (const [format, [valid, invalid]] of Object.entries(formats)) {
  // Messages quote short ASCII strings as they are (longer or non-ASCII ones: see the quoting cases below).
  const message = (s: string): string | undefined => (/^[\x20-\x7e]{0,60}$/.test(s) ? `expected a valid ${format}, found string ${JSON.stringify(s)}` : undefined);
  add(`format ${format}`, { format }, [...valid, 42, null], invalid.map((s) => [s, ['$ format'], message(s)] as [unknown, string[], string?]));
}

// hostile data
let deepData: unknown = 'bottom';
for (let i = 0; i < 100000; i++) deepData = { a: deepData };
let deepArray: unknown = [];
for (let i = 0; i < 100; i++) deepArray = [deepArray];
add('deep data under a shallow schema', { type: 'object', properties: { a: { type: 'object' } } }, [deepData], []);
add('uniqueItems on items nested too deep', { uniqueItems: true }, [], [[[deepArray, deepArray], ['$ uniqueItems'], 'cannot compare items nested this deep']]);
add('error messages quote long strings briefly', { type: 'integer' }, [], [['x'.repeat(10000), ['$ type'], `expected integer, found string "${'x'.repeat(60)}..."`]]);
add('error messages escape control and non-ASCII characters', { type: 'integer' }, [], [['a"\\\n\u00e9😀', ['$ type'], 'expected integer, found string "a\\"\\\\\\u000a\\u00e9\\ud83d\\ude00"']]);

const keyOf = (i: number): string => `iglu:com.test/case_${i}/jsonschema/1-0-0`;
const caseSchemas: CompilableSchema[] = cases.map((c, i) => ({ key: keyOf(i), schema: c.schema }));
const compiled = compileValidators(caseSchemas);
const summary = (errors: readonly ValidationError[]): string[] => errors.map((e) => `${e.path} ${e.keyword}`);

describe('compiled validators (Node, compileValidators)', () => {
  it.each(cases.map((c, i) => [c.name, i] as const))('%s', (_name, i) => {
    const c = cases[i];
    const errors = compiled[keyOf(i)](c.data);
    expect(summary(errors)).toEqual(c.errors);
    if (c.message !== undefined) expect(errors[0].message).toBe(c.message);
    for (const e of errors) expect(Object.keys(e)).toEqual(['path', 'keyword', 'message']);
  });

  it('reports at most maxErrors errors (10 by default)', () => {
    const schemas = [{ key: 'iglu:com.test/list/jsonschema/1-0-0', schema: { items: { type: 'string' } } }];
    const numbers = Array.from({ length: 1000 }, (_, i) => i);
    expect(compileValidators(schemas)['iglu:com.test/list/jsonschema/1-0-0'](numbers)).toHaveLength(10);
    const three = compileValidators(schemas, { maxErrors: 3 })['iglu:com.test/list/jsonschema/1-0-0'](numbers);
    expect(summary(three)).toEqual(['$[0] type', '$[1] type', '$[2] type']);
    expect(() => compileValidators(schemas, { maxErrors: 0 })).toThrow('maxErrors must be a positive integer, found 0');
  });

  it('answers a pattern the same for a string seen before, matching or not (the last matches are remembered)', () => {
    const v = compileValidators([{ key: 'iglu:com.test/code/jsonschema/1-0-0', schema: { type: 'string', pattern: '^[a-z]{3}$' } }])['iglu:com.test/code/jsonschema/1-0-0'];
    const seq = ['abc', 'abcd', 'xyz', 'abcd', 'abc', 'ABC', 'xyz', 'qqq', 'ABC', 'abc', 'abcd'];
    expect(seq.map((s) => v(s).length === 0)).toEqual(seq.map((s) => /^[a-z]{3}$/.test(s)));
  });

  it('returns an empty list for a schema that accepts everything', () => {
    const v = compileValidators([{ key: 'iglu:com.test/any/jsonschema/1-0-0', schema: { description: 'anything' } }]);
    expect(v['iglu:com.test/any/jsonschema/1-0-0']({ x: 1 })).toEqual([]);
  });

  it('is an object without prototype: unknown keys are undefined, never inherited functions', () => {
    expect(compiled['toString']).toBeUndefined();
    expect(compiled['__proto__']).toBeUndefined();
    expect(compiled['iglu:com.test/unknown/jsonschema/1-0-0']).toBeUndefined();
    expect(Object.keys(compiled)).toHaveLength(cases.length);
  });
});

describe('compiling', () => {
  const key = 'iglu:com.test/x/jsonschema/1-0-0';

  it('rejects patterns that need the u flag, naming the schema', () => {
    expect(() => compileValidators([{ key, schema: { properties: { name: { pattern: '^\\p{L}+$' } } } }])).toThrow(
      'Cannot compile a validator for iglu:com.test/x/jsonschema/1-0-0: invalid JSON Schema: #/properties/name/pattern: the pattern "^\\\\p{L}+$" uses the Unicode property escape \\p{...}, which needs the regex "u" flag',
    );
    expect(() => compileValidators([{ key, schema: { patternProperties: { '\\u{1F600}': {} } } }])).toThrow('Cannot compile a validator for iglu:com.test/x/jsonschema/1-0-0: invalid JSON Schema: #/patternProperties/\\u{1F600}: the pattern uses the code point escape');
  });

  it('rejects invalid schemas and keys, naming them', () => {
    expect(() => compileValidators([{ key, schema: { format: 'color' } }])).toThrow('Cannot compile a validator for iglu:com.test/x/jsonschema/1-0-0: invalid JSON Schema: #/format: unsupported format "color"');
    expect(() => compileValidators([{ key: 'iglu:com.test/x/jsonschema/1-0', schema: {} }])).toThrow('Cannot compile a validator for "iglu:com.test/x/jsonschema/1-0": version "1-0" is not SchemaVer');
    expect(() => compileValidators([{ key, schema: {} }, { key, schema: {} }])).toThrow('Cannot compile validators: two schemas have the key iglu:com.test/x/jsonschema/1-0-0');
  });

  it('is deterministic: same schemas in any order give the same bytes', () => {
    const registry = loadRegistry([]);
    const one = compileValidatorsModule(registry.schemas);
    expect(compileValidatorsModule(registry.schemas.slice().reverse())).toBe(one);
    expect(validatorsModuleSource([])).toBe(one);
  });

  it('emits one function per distinct sub-schema', () => {
    const schema = { properties: { a: { type: 'string', maxLength: 9 }, b: { type: 'string', maxLength: 9 }, c: { type: 'string', maxLength: 9, description: 'same checks' } } };
    const source = compileValidatorsExpression([{ key, schema }]);
    expect(source.match(/maxLength/g)).toHaveLength(1);
  });
});

describe('the built-in schemas', () => {
  const validators = compileValidators(loadRegistry([]).schemas);
  const uuid = '6d7e8f90-1a2b-4c3d-8e9f-0a1b2c3d4e5f';

  it('accept what trackers and the collector send', () => {
    const check = (key: string, data: unknown): string[] => summary(validators[`iglu:${key}`](data));
    expect(check('com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2', {
      userId: uuid, sessionId: uuid, sessionIndex: 3, eventIndex: 7, previousSessionId: null, storageMechanism: 'COOKIE_1',
      firstEventId: uuid, firstEventTimestamp: '2024-05-01T10:00:00.000Z',
    })).toEqual([]);
    expect(check('com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', { id: uuid })).toEqual([]);
    expect(check('com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1', { targetUrl: 'https://example.com', elementClasses: ['a', 'b'] })).toEqual([]);
    expect(check('com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', [{ e: 'pv', eid: uuid, tv: 'js-3.0.0', p: 'web', newer_param: 'x' }])).toEqual([]);
    expect(check('com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', [{ schema: 'iglu:com.acme/x/jsonschema/1-0-0', data: { any: 1 } }])).toEqual([]);
    expect(check('com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', { schema: 'iglu:com.acme/x/jsonschema/1-0-0', data: {} })).toEqual([]);
    expect(check('io.waymark/collector_payload/jsonschema/1-0-0', {
      timestamp: '2024-05-01T10:00:00.123Z', collector: 'waymark-collector/0.1.0', ipAddress: '203.0.113.7', userAgent: 'Mozilla/5.0',
      refererUri: null, headers: { 'accept-language': 'en' }, networkUserId: uuid, contentType: 'application/json; charset=utf-8', method: 'POST',
      path: '/com.snowplowanalytics.snowplow/tp2', hostname: 'c.example.com', querystring: null, parameters: { e: 'pv', eid: uuid, tv: 'js-3.0.0' },
    })).toEqual([]);
    expect(check('io.waymark/bad_row/jsonschema/1-0-0', {
      type: 'schema_violations', processor: { artifact: 'waymark-enrich', version: '0.1.0' },
      failure: { timestamp: '2024-05-01T10:00:01Z', messages: [{ schemaKey: 'iglu:com.acme/x/jsonschema/1-0-0', path: '$.a', keyword: 'type', message: 'expected string, found number 1' }] },
      payload: { e: 'ue' },
    })).toEqual([]);
  });

  it('reject what breaks the protocol, with path and keyword', () => {
    const check = (key: string, data: unknown): string[] => summary(validators[`iglu:${key}`](data));
    expect(check('com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1', { targetUrl: '', elementClasses: 'a' })).toEqual(['$.elementClasses type', '$.targetUrl minLength']);
    expect(check('com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', [{ e: 'pv', tv: 'x' }, { e: 'pv', eid: uuid, tv: 'x', dtm: 1 }])).toEqual(['$[0] required', '$[1].dtm type']);
    expect(check('com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', [])).toEqual(['$ minItems']);
    expect(check('com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', [{ schema: 'iglu:com.acme/x/1-0-0', data: {}, extra: 1 }])).toEqual(['$[0].schema pattern', '$[0].extra additionalProperties']);
    expect(check('io.waymark/collector_payload/jsonschema/1-0-0', { timestamp: 'yesterday', collector: 'c', path: '/i', parameters: { e: 1 } })).toEqual(['$.parameters.e type', '$.timestamp format']);
  });
});

describe('the generated module runs in ES5 engines', () => {
  const moduleSource = compileValidatorsModule(caseSchemas);
  const exportLine = 'export { validators };\n';
  const script = moduleSource.slice(0, -exportLine.length);
  /** Runs every case inside an engine (data through JSON.parse, so `__proto__` keys stay data); `print` of that engine receives one JSON line with all results. */
  const harness = (data: unknown[]): string => `${script}
var data = JSON.parse(${jsString(JSON.stringify(data))});
var results = [];
for (var i = 0; i < data.length; i++) results.push(validators["iglu:com.test/case_" + i + "/jsonschema/1-0-0"](data[i]));
print(JSON.stringify(results));
`;
  // Deep values can't go through JSON in every engine: those cases are rebuilt in place below.
  const portable = cases.map((c) => (c.name.indexOf('deep') >= 0 ? null : c.data));
  const expected = JSON.stringify(cases.map((c, i) => (portable[i] === null && c.data !== null ? compiled[keyOf(i)](null) : compiled[keyOf(i)](c.data))));

  it('ends with a single export; everything before it is ECMAScript 5', () => {
    expect(moduleSource.endsWith(exportLine)).toBe(true);
    expect(moduleSource.match(/\bexport\b/g)).toHaveLength(1);
    expect(() => acorn.parse(script, { ecmaVersion: 5, sourceType: 'script' })).not.toThrow();
    expect(() => acorn.parse(moduleSource, { ecmaVersion: 2015, sourceType: 'module' })).not.toThrow();
    // No non-ASCII bytes: the source means the same whatever encoding an engine reads it with.
    expect(/^[\x20-\x7e\n]*$/.test(moduleSource)).toBe(true);
  });

  it('gives identical results in a Node vm context without the ES2015+ built-ins Nashorn lacks', () => {
    const context = strippedContext();
    expect(vm.runInContext('typeof Object.assign + typeof [].includes + typeof Map + typeof Symbol + typeof "".padStart', context)).toBe('undefinedundefinedundefinedundefinedundefined');
    let printed = '';
    context.print = (line: string): void => {
      printed = line;
    };
    vm.runInContext(harness(portable), context);
    expect(JSON.parse(printed)).toEqual(JSON.parse(expected));
    // The deep cases, built inside the context.
    const deep = vm.runInContext(`
      var d = "bottom"; for (var i = 0; i < 100000; i++) d = { a: d };
      var a = []; for (var j = 0; j < 100; j++) a = [a];
      JSON.stringify([validators["${keyOf(cases.findIndex((c) => c.name.startsWith('deep data')))}"](d),
        validators["${keyOf(cases.findIndex((c) => c.name.startsWith('uniqueItems on items nested')))}"]([a, a])]);`, context);
    expect(JSON.parse(deep)).toEqual([[], [{ path: '$', keyword: 'uniqueItems', message: 'cannot compare items nested this deep' }]]);
  });

  it('gives identical results in Nashorn 15.4, the deep cases included', async () => {
    // The script's print() is caught (Nashorn's own would write to the harness's stdout); process() returns it.
    const deepKey = keyOf(cases.findIndex((c) => c.name.startsWith('deep data')));
    const nestedKey = keyOf(cases.findIndex((c) => c.name.startsWith('uniqueItems on items nested')));
    const code = `var __printed = null; function print(s) { __printed = s; }\n${harness(portable)}
function process(what) {
  if (what !== 'deep') return __printed;
  var d = "bottom"; for (var i = 0; i < 100000; i++) d = { a: d };
  var a = []; for (var j = 0; j < 100; j++) a = [a];
  return JSON.stringify([validators["${deepKey}"](d), validators["${nestedKey}"]([a, a])]);
}`;
    const nashorn = new NashornUdf(code);
    try {
      const out = await nashorn.call('process', 'cases');
      expect(out).toEqual({ returned: expected });
      const deep = await nashorn.call('process', 'deep');
      expect(JSON.parse((deep as { returned: string }).returned)).toEqual([[], [{ path: '$', keyword: 'uniqueItems', message: 'cannot compare items nested this deep' }]]);
    } finally {
      await nashorn.close();
    }
  });
});

describe('the waymark:validators virtual module', () => {
  it('bundles with esbuild and runs as ES5 without the ES2015+ built-ins Nashorn lacks', async () => {
    // The built-ins plus a user folder (the example schemas), as a deployment with schemaFolders compiles them.
    const source = validatorsModuleSource([EXAMPLE_SCHEMAS_DIR]);
    const plugin = {
      name: 'waymark-validators',
      setup(build: esbuild.PluginBuild): void {
        build.onResolve({ filter: /^waymark:validators$/ }, (args: { path: string }) => ({ path: args.path, namespace: 'waymark' }));
        build.onLoad({ filter: /.*/, namespace: 'waymark' }, () => ({ contents: source, loader: 'js' }));
      },
    };
    const script = await bundleAsEs5Script(
      "import { validators } from 'waymark:validators';\n" +
        'export function check(key: string, json: string): string { const v = validators[key]; return v ? JSON.stringify(v(JSON.parse(json))) : "unknown"; }',
      'Udf',
      [plugin],
    );
    expect(() => acorn.parse(script, { ecmaVersion: 5, sourceType: 'script' })).not.toThrow();
    const context = strippedContext();
    vm.runInContext(script, context);
    const check = (key: string, data: unknown): unknown => JSON.parse(vm.runInContext(`Udf.check(${JSON.stringify(key)}, ${JSON.stringify(JSON.stringify(data))})`, context));
    expect(check('iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', { id: 'not-a-uuid', x: 1 })).toEqual([
      { path: '$.id', keyword: 'format', message: 'expected a valid uuid, found string "not-a-uuid"' },
      { path: '$.x', keyword: 'additionalProperties', message: 'property "x" is not allowed' },
    ]);
    expect(check('iglu:io.waymark.example/button_click/jsonschema/1-0-1', { buttonId: 'b', position: 3 })).toEqual([]);
    expect(vm.runInContext('Udf.check("toString", "{}")', context)).toBe('unknown');
  });
});
