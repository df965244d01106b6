import { buildColumnShapes, schemaToShape, shapeData, toBigQueryField } from '../../pipeline/warehouse';
import { builtInRegistry } from './helpers/enricher';

describe('schema → warehouse shape', () => {
  const schema = {
    type: 'object',
    properties: {
      buttonId: { type: 'string', description: 'Id of the button' },
      position: { type: ['integer', 'null'] },
      price: { type: 'number' },
      amount: { type: ['integer', 'number'] },
      enabled: { type: 'boolean' },
      at: { type: 'string', format: 'date-time' },
      day: { type: 'string', format: 'date' },
      tags: { type: 'array', items: { type: 'string' } },
      items: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer' } } } },
      matrix: { type: 'array', items: { type: 'array', items: { type: 'integer' } } },
      meta: { type: 'object' },
      either: { type: ['string', 'integer'] },
      choice: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
      level: { enum: ['low', 'high'] },
      address: { type: 'object', properties: { line1: { type: 'string' }, postCode: { type: 'string' } } },
    },
  };

  it('maps types as BigQuery Loader v2 does, snake_casing names and keeping property order', () => {
    expect(schemaToShape(schema)).toEqual([
      { name: 'button_id', source: 'buttonId', type: 'STRING', mode: 'NULLABLE', description: 'Id of the button' },
      { name: 'position', source: 'position', type: 'INTEGER', mode: 'NULLABLE' },
      { name: 'price', source: 'price', type: 'FLOAT', mode: 'NULLABLE' },
      { name: 'amount', source: 'amount', type: 'FLOAT', mode: 'NULLABLE' },
      { name: 'enabled', source: 'enabled', type: 'BOOLEAN', mode: 'NULLABLE' },
      { name: 'at', source: 'at', type: 'TIMESTAMP', mode: 'NULLABLE' },
      { name: 'day', source: 'day', type: 'DATE', mode: 'NULLABLE' },
      { name: 'tags', source: 'tags', type: 'STRING', mode: 'REPEATED' },
      { name: 'items', source: 'items', type: 'RECORD', mode: 'REPEATED', fields: [
        { name: 'sku', source: 'sku', type: 'STRING', mode: 'NULLABLE' },
        { name: 'qty', source: 'qty', type: 'INTEGER', mode: 'NULLABLE' },
      ] },
      { name: 'matrix', source: 'matrix', type: 'JSON', mode: 'NULLABLE' },
      { name: 'meta', source: 'meta', type: 'JSON', mode: 'NULLABLE' },
      { name: 'either', source: 'either', type: 'JSON', mode: 'NULLABLE' },
      { name: 'choice', source: 'choice', type: 'JSON', mode: 'NULLABLE' },
      { name: 'level', source: 'level', type: 'STRING', mode: 'NULLABLE' },
      { name: 'address', source: 'address', type: 'RECORD', mode: 'NULLABLE', fields: [
        { name: 'line1', source: 'line1', type: 'STRING', mode: 'NULLABLE' },
        { name: 'post_code', source: 'postCode', type: 'STRING', mode: 'NULLABLE' },
      ] },
    ]);
    expect(schemaToShape({ type: 'object' })).toBe('JSON');
    expect(schemaToShape({ type: 'object', properties: {} })).toBe('JSON');
  });

  it('shapes data to the table: renamed fields, JSON text, unknown properties dropped, nulls left out', () => {
    const shape = schemaToShape(schema);
    expect(shapeData({
      buttonId: 'buy', position: null, price: 1.5, tags: ['a', null, 'b'], items: [{ sku: 'X', qty: 2, extra: true }],
      matrix: [[1], [2]], meta: { any: { thing: 1 } }, either: 3, address: { postCode: '10115' }, notInSchema: 'dropped',
    }, shape)).toEqual({
      button_id: 'buy', price: 1.5, tags: ['a', 'b'], items: [{ sku: 'X', qty: 2 }],
      matrix: '[[1],[2]]', meta: '{"any":{"thing":1}}', either: '3', address: { post_code: '10115' },
    });
    expect(shapeData({ a: 1 }, 'JSON')).toBe('{"a":1}');
  });

  it('without a shape, snake_cases property names recursively and keeps values', () => {
    expect(shapeData({ someId: 1, nested: { innerValue: [{ deepKey: true }] }, __proto__x: 2 }, undefined)).toEqual({ some_id: 1, nested: { inner_value: [{ deep_key: true }] }, __proto__x: 2 });
  });

  it('builds one shape per schema MODEL from its newest version', () => {
    const shapes = buildColumnShapes([
      { key: 'iglu:com.acme/click/jsonschema/1-0-0', schema: { type: 'object', properties: { a: { type: 'string' } } } },
      { key: 'iglu:com.acme/click/jsonschema/1-0-1', schema: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'integer' } } } },
      { key: 'iglu:com.acme/click/jsonschema/2-0-0', schema: { type: 'object' } },
    ]);
    expect(Object.keys(shapes)).toEqual(['com.acme/click/1', 'com.acme/click/2']);
    expect((shapes['com.acme/click/1'] as unknown as Array<{ name: string }>).map((f) => f.name)).toEqual(['a', 'b']);
    expect(shapes['com.acme/click/2']).toBe('JSON');
    expect(() => buildColumnShapes([{ key: 'com.acme/x', schema: {} }])).toThrow(/not an Iglu schema key/);
  });

  it('gives BigQuery fields for the table: RECORD or JSON, REPEATED for entities', () => {
    const shapes = buildColumnShapes(builtInRegistry().schemas);
    expect(toBigQueryField('contexts_com_snowplowanalytics_snowplow_web_page_1', 'contexts', shapes['com.snowplowanalytics.snowplow/web_page/1'])).toEqual({
      name: 'contexts_com_snowplowanalytics_snowplow_web_page_1', type: 'RECORD', mode: 'REPEATED', fields: [{ name: 'id', type: 'STRING', mode: 'NULLABLE' }],
    });
    expect(toBigQueryField('unstruct_event_com_acme_x_1', 'unstruct_event', 'JSON', 'free-form')).toEqual({ name: 'unstruct_event_com_acme_x_1', type: 'JSON', mode: 'NULLABLE', description: 'free-form' });
  });
});
