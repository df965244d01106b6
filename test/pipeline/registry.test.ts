import * as acorn from 'acorn';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vm from 'vm';
import { additionProblems } from '../../pipeline/registry/compat';
import { jsonSchemaProblems, regexProblem } from '../../pipeline/registry/jsonschema';
import { BUILTIN_SCHEMAS_DIR, loadRegistry, readSchemaFolder } from '../../pipeline/registry/load';
import { buildRegistry, type RegistryError, type SchemaFolder } from '../../pipeline/registry/registry';
import { EXAMPLE_SCHEMAS_DIR } from '../helpers/bundles';
import {
  compareSchemaKeys,
  compareSchemaVer,
  formatSchemaKey,
  formatSchemaVer,
  isSchemaVer,
  parseSchemaKey,
  parseSchemaVer,
  SELF_DESCRIBING_META_SCHEMA,
  tryParseSchemaKey,
} from '../../pipeline/registry/schemaver';
import { strippedContext } from './helpers/engines';
import { bundleAsEs5Script } from './validation-engines';

const META = SELF_DESCRIBING_META_SCHEMA;

/** A self-describing schema document for vendor/name/version with the given body keywords. */
function doc(vendor: string, name: string, version: string, body: Record<string, unknown>): Record<string, unknown> {
  return { $schema: META, self: { vendor, name, format: 'jsonschema', version }, ...body };
}

function file(vendor: string, name: string, version: string, body: Record<string, unknown>): { path: string; text: string } {
  return { path: `${vendor}/${name}/jsonschema/${version}`, text: JSON.stringify(doc(vendor, name, version, body), null, 2) };
}

function folder(name: string, files: { path: string; text: string }[]): SchemaFolder {
  return { name, files };
}

/** The message of the error `fn` throws (fails the test when it doesn't throw). */
function errorOf(fn: () => unknown): RegistryError {
  try {
    fn();
  } catch (e) {
    return e as RegistryError;
  }
  throw new Error('expected an error, none was thrown');
}

const BUTTON_1_0_0 = {
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 64 },
    label: { type: ['string', 'null'], maxLength: 255 },
    kind: { enum: ['primary', 'secondary'] },
    count: { type: 'integer', minimum: 0, maximum: 100 },
  },
  required: ['id'],
  additionalProperties: false,
};

function withChange(change: (s: Record<string, any>) => void): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(BUTTON_1_0_0));
  change(copy);
  return copy;
}

function buttonFolder(v101: Record<string, unknown>): SchemaFolder {
  return folder('/user/schemas', [file('com.acme', 'button', '1-0-0', BUTTON_1_0_0), file('com.acme', 'button', '1-0-1', v101)]);
}

describe('SchemaVer', () => {
  it('parses, formats and orders versions numerically', () => {
    expect(parseSchemaVer('1-0-0')).toEqual({ model: 1, revision: 0, addition: 0 });
    expect(parseSchemaVer('12-3-45')).toEqual({ model: 12, revision: 3, addition: 45 });
    expect(formatSchemaVer({ model: 2, revision: 10, addition: 3 })).toBe('2-10-3');
    const sorted = ['1-0-10', '1-0-2', '2-0-0', '1-1-0', '1-0-0', '10-0-0'].map(parseSchemaVer).sort(compareSchemaVer).map(formatSchemaVer);
    expect(sorted).toEqual(['1-0-0', '1-0-2', '1-0-10', '1-1-0', '2-0-0', '10-0-0']);
    expect(compareSchemaVer(parseSchemaVer('1-2-3'), parseSchemaVer('1-2-3'))).toBe(0);
  });

  it.each([
    ['1-0', 'expected MODEL-REVISION-ADDITION'],
    ['1.0.0', 'expected MODEL-REVISION-ADDITION'],
    ['1-0-0.json', 'expected MODEL-REVISION-ADDITION'],
    ['', 'expected MODEL-REVISION-ADDITION'],
    ['01-0-0', 'MODEL 01 has a leading zero'],
    ['1-00-0', 'REVISION 00 has a leading zero'],
    ['0-1-0', 'MODEL starts at 1'],
    ['1-0-1234567890', 'ADDITION 1234567890 is too large'],
    ['-1-0-0', 'expected MODEL-REVISION-ADDITION'],
  ])('rejects %j with a clear error', (text, reason) => {
    expect(isSchemaVer(text)).toBe(false);
    expect(() => parseSchemaVer(text)).toThrow(`Invalid SchemaVer ${JSON.stringify(text)}: `);
    expect(() => parseSchemaVer(text)).toThrow(reason);
  });
});

describe('Iglu schema keys', () => {
  it('parses and formats keys', () => {
    const key = parseSchemaKey('iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1');
    expect(key).toEqual({ vendor: 'com.snowplowanalytics.snowplow', name: 'link_click', format: 'jsonschema', version: { model: 1, revision: 0, addition: 1 } });
    expect(formatSchemaKey(key)).toBe('iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1');
  });

  it('orders keys by vendor, name, then version', () => {
    const keys = ['iglu:b/x/jsonschema/1-0-0', 'iglu:a/y/jsonschema/1-0-10', 'iglu:a/y/jsonschema/1-0-9', 'iglu:a/x/jsonschema/2-0-0'];
    expect(keys.map(parseSchemaKey).sort(compareSchemaKeys).map(formatSchemaKey)).toEqual([
      'iglu:a/x/jsonschema/2-0-0', 'iglu:a/y/jsonschema/1-0-9', 'iglu:a/y/jsonschema/1-0-10', 'iglu:b/x/jsonschema/1-0-0',
    ]);
  });

  it.each([
    ['com.acme/x/jsonschema/1-0-0', 'it must start with "iglu:"'],
    ['iglu:com.acme/x/1-0-0', 'found 3 "/"-separated parts instead of 4'],
    ['iglu:com acme/x/jsonschema/1-0-0', 'vendor "com acme" may only contain'],
    ['iglu:com.acme/x.y/jsonschema/1-0-0', 'name "x.y" may only contain'],
    ['iglu:com.acme/x/jsonschema/1-0', 'version "1-0" is not SchemaVer: expected MODEL-REVISION-ADDITION'],
    ['iglu:com.acme/x/jsonschema/0-0-1', 'version "0-0-1" is not SchemaVer: MODEL starts at 1'],
  ])('rejects %j', (key, reason) => {
    expect(tryParseSchemaKey(key)).toBeNull();
    expect(() => parseSchemaKey(key)).toThrow(`Invalid Iglu schema key ${JSON.stringify(key)}: `);
    expect(() => parseSchemaKey(key)).toThrow(reason);
  });

  it('never throws from tryParseSchemaKey, even for non-strings and huge input', () => {
    expect(tryParseSchemaKey(undefined as unknown as string)).toBeNull();
    expect(tryParseSchemaKey(42 as unknown as string)).toBeNull();
    const huge = 'iglu:' + 'a'.repeat(1_000_000);
    expect(tryParseSchemaKey(huge)).toBeNull();
    expect(errorOf(() => parseSchemaKey(huge)).message.length).toBeLessThan(400);
  });
});

describe('built-in schemas', () => {
  const registry = loadRegistry([]);

  it('lives in the repository schemas/ folder', () => {
    expect(BUILTIN_SCHEMAS_DIR).toBe(path.resolve(__dirname, '..', '..', 'schemas'));
  });

  it('loads every built-in schema, sorted', () => {
    expect(registry.schemas.map((s) => s.key)).toEqual([
      'iglu:com.google.analytics/cookies/jsonschema/1-0-0',
      'iglu:com.google.ga4/cookies/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.mobile/application/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.mobile/application_install/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.mobile/application_lifecycle/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.mobile/deep_link/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.mobile/deep_link_received/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.mobile/list_item_view/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.mobile/message_notification/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.mobile/screen/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.mobile/screen_end/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.mobile/screen_view/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.mobile/scroll_changed/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/ad_click/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/ad_conversion/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/ad_impression/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/add_to_cart/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/application/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/application_background/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/application_error/jsonschema/1-0-2',
      'iglu:com.snowplowanalytics.snowplow/application_foreground/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/browser_context/jsonschema/2-0-0',
      'iglu:com.snowplowanalytics.snowplow/button_click/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/change_form/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2',
      'iglu:com.snowplowanalytics.snowplow/cmp_visible/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/consent_document/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/consent_granted/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/consent_preferences/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/consent_withdrawn/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/focus_form/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/gdpr/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-1-0',
      'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1',
      'iglu:com.snowplowanalytics.snowplow/mobile_context/jsonschema/1-0-3',
      'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4',
      'iglu:com.snowplowanalytics.snowplow/remove_from_cart/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/screen_view/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/site_search/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/social_interaction/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/submit_form/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/timing/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/web_vitals/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow.ecommerce/cart/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow.ecommerce/checkout_step/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow.ecommerce/page/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow.ecommerce/product/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow.ecommerce/promotion/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow.ecommerce/refund/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow.ecommerce/snowplow_ecommerce_action/jsonschema/1-0-2',
      'iglu:com.snowplowanalytics.snowplow.ecommerce/transaction/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow.ecommerce/transaction_error/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow.ecommerce/user/jsonschema/1-0-0',
      'iglu:io.waymark/bad_row/jsonschema/1-0-0',
      'iglu:io.waymark/collector_payload/jsonschema/1-0-0',
      'iglu:io.waymark/collector_payload/jsonschema/1-0-1',
      'iglu:org.ietf/http_client_hints/jsonschema/1-0-0',
      'iglu:org.w3/PerformanceNavigationTiming/jsonschema/1-0-0',
      'iglu:org.w3/PerformanceTiming/jsonschema/1-0-0',
    ]);
  });

  it('gives schemas by key, the latest of a MODEL, and one entry per MODEL', () => {
    const linkClick = registry.get('iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1');
    expect(linkClick?.schema.required).toEqual(['targetUrl']);
    expect(linkClick?.file).toBe(path.join(BUILTIN_SCHEMAS_DIR, 'com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1'));
    expect(registry.get('iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-0')).toBeUndefined();
    expect(registry.get('__proto__')).toBeUndefined();
    expect(registry.get('toString')).toBeUndefined();
    expect(registry.latestInModel('com.snowplowanalytics.snowplow', 'link_click', 1)?.key).toBe('iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1');
    expect(registry.latestInModel('com.snowplowanalytics.snowplow', 'link_click', 2)).toBeUndefined();
    // One MODEL per vendor/name except collector_payload's two versions in MODEL 1.
    expect(registry.models()).toHaveLength(registry.schemas.length - 1);
  });

  it('has none of the demo site\'s example schemas (io.waymark.example lives in examples/schemas)', () => {
    expect(registry.schemas.filter((s) => s.vendor === 'io.waymark.example')).toEqual([]);
    expect(fs.existsSync(path.join(BUILTIN_SCHEMAS_DIR, 'io.waymark.example'))).toBe(false);
  });

  it('describes the collector payload and bad rows the pipeline exchanges', () => {
    expect(registry.get('iglu:io.waymark/collector_payload/jsonschema/1-0-0')?.schema.required).toEqual(['timestamp', 'collector', 'path', 'parameters']);
    // 1-0-1 (ADDITION): a GET's parameters may stay in the query string.
    const payload = registry.get('iglu:io.waymark/collector_payload/jsonschema/1-0-1')?.schema;
    expect(payload?.required).toEqual(['timestamp', 'collector', 'path']);
    expect(Object.keys(payload?.properties as object)).toEqual(expect.arrayContaining([
      'timestamp', 'collector', 'ipAddress', 'userAgent', 'refererUri', 'headers', 'networkUserId', 'contentType', 'path', 'parameters', 'querystring', 'hostname',
    ]));
    const badRow = registry.get('iglu:io.waymark/bad_row/jsonschema/1-0-0')?.schema as any;
    expect(badRow.properties.type.enum).toEqual([
      'collector_payload_format_violation', 'adapter_failures', 'tracker_protocol_violations', 'schema_violations',
      'enrichment_failures', 'size_violation', 'generic_error',
    ]);
  });
});

describe('the example schemas (examples/schemas, a user folder as the demo site uses it)', () => {
  const registry = loadRegistry([EXAMPLE_SCHEMAS_DIR]);

  it('merge with the built-ins, and give the latest of a MODEL and one entry per MODEL', () => {
    expect(registry.schemas.map((s) => s.key).filter((k) => k.startsWith('iglu:io.waymark.example/'))).toEqual([
      'iglu:io.waymark.example/button_click/jsonschema/1-0-0',
      'iglu:io.waymark.example/button_click/jsonschema/1-0-1',
      'iglu:io.waymark.example/product/jsonschema/1-0-0',
    ]);
    expect(registry.schemas).toHaveLength(loadRegistry([]).schemas.length + 3);
    expect(registry.get('iglu:io.waymark.example/product/jsonschema/1-0-0')?.file).toBe(path.join(EXAMPLE_SCHEMAS_DIR, 'io.waymark.example/product/jsonschema/1-0-0'));
    expect(registry.latestInModel('io.waymark.example', 'button_click', 1)?.key).toBe('iglu:io.waymark.example/button_click/jsonschema/1-0-1');
    expect(registry.latestInModel('io.waymark.example', 'button_click', 2)).toBeUndefined();
    const models = registry.models();
    expect(models).toHaveLength(loadRegistry([]).models().length + 2);
    const button = models.find((m) => m.vendor === 'io.waymark.example' && m.name === 'button_click');
    expect(button?.versions.map((v) => v.key)).toEqual([
      'iglu:io.waymark.example/button_click/jsonschema/1-0-0',
      'iglu:io.waymark.example/button_click/jsonschema/1-0-1',
    ]);
    expect(button?.latest.schema.properties).toHaveProperty('position');
  });
});

describe('buildRegistry: good folders', () => {
  it('merges a user folder with the built-ins, an identical copy of a built-in is fine', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-registry-'));
    try {
      const builtin = path.join(BUILTIN_SCHEMAS_DIR, 'com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0');
      const copy = path.join(dir, 'com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0');
      fs.mkdirSync(path.dirname(copy), { recursive: true });
      // Same JSON, different formatting: same schema.
      fs.writeFileSync(copy, JSON.stringify(JSON.parse(fs.readFileSync(builtin, 'utf8'))));
      const own = file('com.acme', 'checkout', '1-0-0', { type: 'object', properties: { step: { type: 'integer' } } });
      fs.mkdirSync(path.join(dir, 'com.acme/checkout/jsonschema'), { recursive: true });
      fs.writeFileSync(path.join(dir, own.path), own.text);
      fs.writeFileSync(path.join(dir, '.DS_Store'), 'ignored');
      const registry = loadRegistry([dir]);
      expect(registry.get('iglu:com.acme/checkout/jsonschema/1-0-0')?.file).toBe(path.join(dir, own.path));
      expect(registry.get('iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0')?.file).toBe(builtin);
      expect(registry.schemas).toHaveLength(loadRegistry([]).schemas.length + 1);
      expect(loadRegistry([dir], { builtins: false }).schemas.map((s) => s.key)).toEqual([
        'iglu:com.acme/checkout/jsonschema/1-0-0', 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads folders with relative /-separated paths, skipping hidden entries', () => {
    const read = readSchemaFolder(BUILTIN_SCHEMAS_DIR);
    expect(read.name).toBe(BUILTIN_SCHEMAS_DIR);
    expect(read.files.map((f) => f.path)).toContain('io.waymark/collector_payload/jsonschema/1-0-0');
  });

  it('accepts additions within a MODEL: optional properties, loosened constraints, null added to a type', () => {
    const v101 = withChange((s) => {
      s.properties.color = { type: 'string' };
      s.properties.id.maxLength = 128;
      s.properties.count.type = ['integer', 'null'];
      s.properties.count.maximum = 1000;
      s.properties.kind.enum.push('tertiary');
      s.required = [];
    });
    const registry = buildRegistry([buttonFolder(v101)]);
    expect(registry.latestInModel('com.acme', 'button', 1)?.version).toEqual({ model: 1, revision: 0, addition: 1 });
  });

  it('allows any change across MODELs', () => {
    const v200 = withChange((s) => {
      delete s.properties.label;
      s.required = ['id', 'kind'];
    });
    const registry = buildRegistry([folder('/u', [file('com.acme', 'button', '1-0-0', BUTTON_1_0_0), file('com.acme', 'button', '2-0-0', v200)])]);
    expect(registry.models().map((m) => m.model)).toEqual([1, 2]);
  });

  it('is deterministic whatever order the files come in', () => {
    const files = [file('b.v', 'n', '1-0-1', {}), file('a.v', 'n', '1-0-0', {}), file('b.v', 'n', '1-0-0', {}), file('b.v', 'm', '1-0-0', {})];
    const one = buildRegistry([folder('/x', files)]).schemas.map((s) => s.key);
    const two = buildRegistry([folder('/x', files.slice().reverse())]).schemas.map((s) => s.key);
    expect(one).toEqual(two);
    expect(one).toEqual(['iglu:a.v/n/jsonschema/1-0-0', 'iglu:b.v/m/jsonschema/1-0-0', 'iglu:b.v/n/jsonschema/1-0-0', 'iglu:b.v/n/jsonschema/1-0-1']);
  });
});

describe('buildRegistry: bad folders', () => {
  const one = (f: { path: string; text: string }): string => errorOf(() => buildRegistry([folder('/user/schemas', [f])])).message;

  it('names the file whose self block does not match its path', () => {
    const f = { path: 'com.acme/button/jsonschema/1-0-1', text: JSON.stringify(doc('com.acme', 'button', '1-0-0', { type: 'object' })) };
    expect(one(f)).toBe('Invalid schema: /user/schemas/com.acme/button/jsonschema/1-0-1: self.version "1-0-0" does not match the path, which says "1-0-1"');
    const g = { path: 'com.acme/button/jsonschema/1-0-0', text: JSON.stringify(doc('com.other', 'click', '1-0-0', {})) };
    expect(one(g)).toContain('self.vendor "com.other" does not match the path, which says "com.acme"');
    expect(one(g)).toContain('self.name "click" does not match the path, which says "button"');
    const h = { path: 'com.acme/button/jsonschema/1-0-0', text: JSON.stringify({ $schema: META, type: 'object' }) };
    expect(one(h)).toContain('com.acme/button/jsonschema/1-0-0: missing "self" block: expected "self": {"vendor": "com.acme", "name": "button", "format": "jsonschema", "version": "1-0-0"}');
  });

  it('requires the self-describing $schema', () => {
    const f = { path: 'com.acme/b/jsonschema/1-0-0', text: JSON.stringify({ self: { vendor: 'com.acme', name: 'b', format: 'jsonschema', version: '1-0-0' } }) };
    expect(one(f)).toBe(`Invalid schema: /user/schemas/com.acme/b/jsonschema/1-0-0: missing "$schema": a self-describing schema declares "$schema": "${META}"`);
    const g = { path: 'com.acme/b/jsonschema/1-0-0', text: JSON.stringify({ ...doc('com.acme', 'b', '1-0-0', {}), $schema: 'http://json-schema.org/draft-04/schema#' }) };
    expect(one(g)).toContain('"$schema" is "http://json-schema.org/draft-04/schema#", expected "' + META + '"');
  });

  it('names the file that is not valid JSON', () => {
    const message = one({ path: 'com.acme/b/jsonschema/1-0-0', text: '{"type": "object",}' });
    expect(message).toMatch(/^Invalid schema: \/user\/schemas\/com\.acme\/b\/jsonschema\/1-0-0: is not valid JSON: /);
    expect(one({ path: 'com.acme/b/jsonschema/1-0-0', text: '[]' })).toContain('a schema must be a JSON object, found an array');
  });

  it('names the file whose name is not SchemaVer', () => {
    expect(one(file('com.acme', 'b', '1-0', {}))).toBe(
      'Invalid schema: /user/schemas/com.acme/b/jsonschema/1-0: invalid SchemaVer "1-0" in the file name: expected MODEL-REVISION-ADDITION, three non-negative integers joined by "-" (e.g. 1-0-0)',
    );
    expect(one({ path: 'com.acme/b/jsonschema/1-0-0.json', text: '{}' })).toContain('com.acme/b/jsonschema/1-0-0.json: invalid SchemaVer "1-0-0.json"');
    expect(one(file('com.acme', 'b', '0-1-0', {}))).toContain('invalid SchemaVer "0-1-0" in the file name: MODEL starts at 1');
  });

  it('names files outside the Iglu layout', () => {
    expect(one({ path: 'schemas/com.acme/b/jsonschema/1-0-0', text: '{}' })).toBe(
      'Invalid schema: /user/schemas/schemas/com.acme/b/jsonschema/1-0-0: not in Iglu static layout: expected <vendor>/<name>/jsonschema/<MODEL>-<REVISION>-<ADDITION> (no file extension) under the folder; pass the folder that contains the vendor folders (the "schemas" folder itself), not its parent',
    );
    expect(one({ path: 'README.md', text: '# hi' })).toContain('README.md: not in Iglu static layout');
    expect(one({ path: 'com.acme/b/avro/1-0-0', text: '{}' })).toContain('format folder "avro" is not supported: only "jsonschema"');
    expect(one({ path: 'com acme/b/jsonschema/1-0-0', text: '{}' })).toContain('vendor folder "com acme" may only contain letters');
  });

  it.each([
    [{ type: 'strin' }, '#/type: unknown type "strin" (known types: array, boolean, integer, null, number, object, string)'],
    [{ type: ['string', 7] }, '#/type/1: must be a string, found number 7'],
    [{ type: [] }, '#/type: must be a type name or a non-empty array of type names, found an array'],
    [{ required: 'id' }, '#/required: must be an array of property names, found the string "id"'],
    [{ required: ['id', 3] }, '#/required/1: must be a string, found number 3'],
    [{ required: ['id', 'id'] }, '#/required/1: "id" is listed twice'],
    [{ properties: { a: { maxLength: -1 } } }, '#/properties/a/maxLength: must be a non-negative integer, found number -1'],
    [{ properties: { a: { minItems: 1.5 } } }, '#/properties/a/minItems: must be a non-negative integer, found number 1.5'],
    [{ properties: { a: 'string' } }, '#/properties/a: must be a schema (an object), found the string "string"'],
    [{ properties: [] }, '#/properties: must be an object whose values are schemas, found an array'],
    [{ additionalProperties: 'no' }, '#/additionalProperties: must be a boolean or a schema (an object), found the string "no"'],
    [{ enum: [] }, '#/enum: must be a non-empty array, found an array'],
    [{ enum: ['a', 'b', 'a'] }, '#/enum/2: duplicate enum value the string "a"'],
    [{ minimum: '3' }, '#/minimum: must be a number, found the string "3"'],
    [{ exclusiveMinimum: true }, '#/exclusiveMinimum: needs "minimum" beside it (draft-04)'],
    [{ exclusiveMaximum: 1, maximum: 2 }, '#/exclusiveMaximum: must be a boolean, found number 1'],
    [{ multipleOf: 0 }, '#/multipleOf: must be a number greater than 0, found number 0'],
    [{ items: [] }, '#/items: must be a non-empty array of schemas, found an array'],
    [{ items: true }, '#/items: must be a schema or an array of schemas, found boolean true'],
    [{ anyOf: {} }, '#/anyOf: must be a non-empty array of schemas, found an object'],
    [{ format: 'color' }, '#/format: unsupported format "color" (supported: date, date-time, email, hostname, ipv4, ipv6, uri, uuid)'],
    [{ pattern: '[a-' }, '#/pattern: the pattern "[a-" is not a valid regular expression'],
    [{ pattern: '^\\p{L}+$' }, '#/pattern: the pattern "^\\\\p{L}+$" uses the Unicode property escape \\p{...}, which needs the regex "u" flag'],
    [{ pattern: '^\\u{1F600}$' }, 'uses the code point escape \\u{...}, which needs the regex "u" flag'],
    [{ pattern: '(?<=a)b' }, 'uses a lookbehind (?<...), which ES5 regular expressions lack'],
    [{ pattern: '(?<year>\\d{4})' }, 'uses a named group (?<name>...), which ES5 regular expressions lack'],
    [{ patternProperties: { '\\p{Lu}': {} } }, '#/patternProperties/\\p{Lu}: the pattern uses the Unicode property escape'],
    [{ properties: { a: { maxLenght: 3 } } }, '#/properties/a/maxLenght: unknown keyword "maxLenght" (misspelt? supported: type, enum,'],
    [{ properties: { a: { $ref: '#/definitions/x' } } }, '#/properties/a/$ref: "$ref" is not supported; write the referenced schema inline'],
    [{ properties: { a: { self: {} } } }, '#/properties/a/self: "self" belongs at the top of the schema only'],
    [{ properties: { a: {} }, required: ['b'], additionalProperties: false }, '#/required/0: "b" is required but not declared in "properties" while "additionalProperties" is false'],
    [{ dependencies: { a: 'b' } }, '#/dependencies/a: must be an array of property names or a schema, found the string "b"'],
  ])('names the file and keyword of an invalid JSON Schema: %j', (body, expected) => {
    const message = one(file('com.acme', 'b', '1-0-0', body));
    expect(message).toContain('/user/schemas/com.acme/b/jsonschema/1-0-0: invalid JSON Schema: ');
    expect(message).toContain(expected);
  });

  it('accepts annotations, x- extensions and every supported keyword', () => {
    const everything = {
      title: 't', description: 'd', 'x-owner': 'team', $comment: 'c', default: {},
      type: ['object', 'null'], properties: { a: { type: 'string', minLength: 1, maxLength: 2, pattern: '^a', format: 'uri' } },
      patternProperties: { '^x_': { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 9, exclusiveMaximum: false, multipleOf: 0.5 } },
      additionalProperties: { type: 'boolean' }, required: ['a'], dependencies: { a: ['b'], b: { required: ['a'] } },
      minProperties: 0, maxProperties: 9,
      definitions: { list: { type: 'array', items: [{ type: 'integer' }], additionalItems: false, minItems: 0, maxItems: 3, uniqueItems: true } },
      allOf: [{}], anyOf: [{ enum: [1, '1', null] }, {}], oneOf: [{}], not: { type: 'null' },
    };
    expect(jsonSchemaProblems(doc('com.acme', 'b', '1-0-0', everything))).toEqual([]);
  });

  it('rejects schemas nested too deep for the compiled validators', () => {
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 60; i++) deep = { type: 'object', properties: { a: deep } };
    expect(one(file('com.acme', 'b', '1-0-0', deep))).toContain('schemas nested deeper than 48 levels are not supported');
  });

  it('lists every problem of every file in one error, with the problems as data', () => {
    const error = errorOf(() => buildRegistry([folder('/u', [
      { path: 'com.acme/a/jsonschema/1-0-0', text: 'nope' },
      file('com.acme', 'b', '1-0-0', { type: 'strng', required: 'x' }),
    ])]));
    expect(error.message).toMatch(/^Invalid schema registry \(3 problems\):\n {2}\/u\/com\.acme\/a\/jsonschema\/1-0-0: is not valid JSON: .*\n {2}\/u\/com\.acme\/b\/jsonschema\/1-0-0: invalid JSON Schema: #\/required: .*\n {2}\/u\/com\.acme\/b\/jsonschema\/1-0-0: invalid JSON Schema: #\/type: unknown type "strng"/);
    expect(error.problems.map((p) => p.file)).toEqual(['/u/com.acme/a/jsonschema/1-0-0', '/u/com.acme/b/jsonschema/1-0-0', '/u/com.acme/b/jsonschema/1-0-0']);
  });

  it('names both files when a user schema redefines a key with different content', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-registry-'));
    try {
      const changed = file('com.snowplowanalytics.snowplow', 'web_page', '1-0-0', { type: 'object', properties: { id: { type: 'string' } } });
      fs.mkdirSync(path.join(dir, 'com.snowplowanalytics.snowplow/web_page/jsonschema'), { recursive: true });
      fs.writeFileSync(path.join(dir, changed.path), changed.text);
      const message = errorOf(() => loadRegistry([dir])).message;
      expect(message).toBe(
        `Invalid schema: ${path.join(dir, changed.path)}: defines iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0 differently from ` +
        `${path.join(BUILTIN_SCHEMAS_DIR, changed.path)}; a schema key names one immutable schema: give the changed schema a new version`,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says when a folder does not exist', () => {
    expect(() => loadRegistry(['/nonexistent/waymark-schemas'])).toThrow(
      'Schema folder /nonexistent/waymark-schemas does not exist (expected a folder in Iglu static layout: <vendor>/<name>/jsonschema/<M-R-A>)',
    );
  });
});

describe('buildRegistry: breaking changes inside one MODEL', () => {
  const breaking = (v101: Record<string, unknown>): string => errorOf(() => buildRegistry([buttonFolder(v101)])).message;
  const prefix = 'Invalid schema: /user/schemas/com.acme/button/jsonschema/1-0-1: breaking change from 1-0-0 within MODEL 1: ';
  const suffix = '. Versions within a MODEL may only add optional properties or loosen constraints; publish this change as 2-0-0';

  it('rejects a removed property', () => {
    expect(breaking(withChange((s) => delete s.properties.label))).toBe(prefix + '#/properties/label: property "label" was removed' + suffix);
  });

  it('rejects a new required property', () => {
    const v101 = withChange((s) => {
      s.properties.color = { type: 'string' };
      s.required = ['id', 'color'];
    });
    expect(breaking(v101)).toBe(prefix + '#/required/1: new property "color" became required (added properties must be optional)' + suffix);
    expect(breaking(withChange((s) => s.required.push('label')))).toContain('#/required/1: property "label" became required');
  });

  it('rejects a type change', () => {
    expect(breaking(withChange((s) => (s.properties.id.type = 'integer')))).toBe(prefix + '#/properties/id/type: type changed from "string" to "integer"' + suffix);
    expect(breaking(withChange((s) => (s.properties.label.type = 'string')))).toContain('#/properties/label/type: type changed from ["null","string"] to "string"');
    expect(breaking(withChange((s) => (s.properties.count.type = 'number')))).toContain('#/properties/count/type: type changed from "integer" to "number"');
    expect(breaking(withChange((s) => (s.properties.kind.type = 'string')))).toContain('#/properties/kind/type: type restricted from any type to "string"');
  });

  it.each([
    [(s: any) => (s.properties.id.maxLength = 32), '#/properties/id/maxLength: maxLength tightened from 64 to 32'],
    [(s: any) => (s.properties.id.minLength = 1), '#/properties/id/minLength: minLength tightened from none to 1'],
    [(s: any) => (s.properties.count.minimum = 1), '#/properties/count/minimum: minimum tightened from 0 to 1'],
    [(s: any) => (s.properties.count.exclusiveMaximum = true), '#/properties/count/maximum: maximum tightened from 100 to exclusive 100'],
    [(s: any) => (s.properties.count.multipleOf = 2), '#/properties/count/multipleOf: multipleOf tightened from none to 2'],
    [(s: any) => s.properties.kind.enum.pop(), '#/properties/kind/enum: enum value "secondary" was removed'],
    [(s: any) => (s.properties.id.pattern = '^[a-z]+$'), '#/properties/id/pattern: pattern added (pattern "^[a-z]+$")'],
    [(s: any) => (s.properties.id.format = 'uuid'), '#/properties/id/format: format added (format "uuid")'],
    [(s: any) => (s.properties.kind.additionalProperties = false), '#/properties/kind/additionalProperties: additionalProperties tightened to false'],
    [(s: any) => (s.properties.kind.additionalProperties = { type: 'string' }), '#/properties/kind/additionalProperties: additionalProperties tightened from any value to a schema'],
    [(s: any) => (s.properties.tags = { type: 'array' }), null],
  ])('rejects a tightened constraint (%#)', (change, expected) => {
    const v101 = withChange(change);
    if (expected === null) {
      expect(() => buildRegistry([buttonFolder(v101)])).not.toThrow();
    } else {
      expect(breaking(v101)).toContain(prefix + expected);
    }
  });

  it('checks nested objects and array items', () => {
    const older = { type: 'object', properties: { items: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' } } } } } };
    const newer = { type: 'object', properties: { items: { type: 'array', items: { type: 'object', properties: {} } } } };
    expect(additionProblems(older, newer)).toEqual(['#/properties/items/items/properties/sku: property "sku" was removed']);
    expect(additionProblems(older, older)).toEqual([]);
  });

  it('compares each version with the one before it', () => {
    const v102 = withChange((s) => {
      s.properties.color = { type: 'string' };
      delete s.properties.label;
    });
    const folderWithThree = folder('/u', [
      file('com.acme', 'button', '1-0-0', BUTTON_1_0_0),
      file('com.acme', 'button', '1-0-1', withChange((s) => (s.properties.color = { type: 'string' }))),
      file('com.acme', 'button', '1-0-2', v102),
    ]);
    expect(errorOf(() => buildRegistry([folderWithThree])).message).toBe(
      'Invalid schema: /u/com.acme/button/jsonschema/1-0-2: breaking change from 1-0-1 within MODEL 1: #/properties/label: property "label" was removed' + suffix,
    );
  });
});

describe('regexProblem', () => {
  it('accepts ES5 regular expressions, escaped look-alikes and classes', () => {
    expect(regexProblem('^[a-z0-9._%+-]+@[a-z]+\\.[a-z]{2,}$')).toBeNull();
    expect(regexProblem('\\\\p{L}')).toBeNull(); // an escaped backslash followed by p{L}
    expect(regexProblem('[(?<]x')).toBeNull(); // "(?<" inside a class is literal
    expect(regexProblem('(?:a|b)(?=c)(?!d)')).toBeNull();
  });
});

describe('the registry core is engine-neutral', () => {
  it('builds the same registry, with the same errors, as ES5 without the ES2015+ built-ins Nashorn lacks', async () => {
    const script = await bundleAsEs5Script(
      "export * from './pipeline/registry/registry'; export * from './pipeline/registry/schemaver'; export * from './pipeline/registry/compat';",
      'WaymarkRegistry',
    );
    expect(() => acorn.parse(script, { ecmaVersion: 5, sourceType: 'script' })).not.toThrow();
    const good = [readSchemaFolder(BUILTIN_SCHEMAS_DIR), buttonFolder(withChange((s) => (s.properties.color = { type: 'string' })))];
    const bad = [buttonFolder(withChange((s) => {
      delete s.properties.label;
      s.properties.id.type = 'integer';
      s.required.push('kind');
    })), folder('/x', [{ path: 'com.acme/y/jsonschema/1-0', text: '{}' }, file('com.acme', 'z', '1-0-0', { type: 'strin', pattern: '\\p{L}' })])];
    const probe = (api: any, goodFolders: SchemaFolder[], badFolders: SchemaFolder[]): string => {
      const registry = api.buildRegistry(goodFolders);
      const out: Record<string, unknown> = {
        keys: registry.schemas.map((s: any) => s.key),
        models: registry.models().map((m: any) => m.vendor + '/' + m.name + '/' + m.model + ' ' + m.latest.key + ' ' + m.versions.length),
        latest: registry.latestInModel('com.acme', 'button', 1).key,
        key: api.parseSchemaKey('iglu:com.acme/b/jsonschema/10-2-3'),
      };
      try {
        api.buildRegistry(badFolders);
      } catch (e) {
        out.error = (e as Error).message;
        out.problems = (e as RegistryError).problems;
      }
      try {
        api.parseSchemaKey('iglu:com.acme/b/jsonschema/01-0-0');
      } catch (e) {
        out.keyError = (e as Error).message;
      }
      return JSON.stringify(out);
    };
    const context = strippedContext();
    vm.runInContext(script, context);
    context.input = JSON.stringify({ good, bad });
    // The same probe, run inside the context on data parsed there.
    const inside = vm.runInContext(`(${probe.toString()})(WaymarkRegistry, JSON.parse(input).good, JSON.parse(input).bad)`, context) as string;
    const outside = probe({ buildRegistry, parseSchemaKey }, good, bad);
    expect(JSON.parse(inside)).toEqual(JSON.parse(outside));
    expect(JSON.parse(outside).error).toContain('#/properties/label: property "label" was removed');
    expect(JSON.parse(outside).keyError).toContain('MODEL 01 has a leading zero');
  });
});
