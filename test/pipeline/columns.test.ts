import { ATOMIC_COLUMN_NAMES, ATOMIC_COLUMNS, atomicColumnType, columnForSchemaKey, parseSchemaKey, selfDescribingColumnName, snakeCase } from '../../pipeline/columns';

describe('atomic columns', () => {
  it('are the canonical enriched event, in its order, with BigQuery types', () => {
    expect(ATOMIC_COLUMNS).toHaveLength(129);
    expect(ATOMIC_COLUMN_NAMES.slice(0, 8)).toEqual(['app_id', 'platform', 'etl_tstamp', 'collector_tstamp', 'dvce_created_tstamp', 'event', 'event_id', 'txn_id']);
    expect(ATOMIC_COLUMN_NAMES.slice(-4)).toEqual(['event_version', 'event_fingerprint', 'true_tstamp', 'load_tstamp']);
    expect(new Set(ATOMIC_COLUMN_NAMES).size).toBe(129);
    expect(atomicColumnType('tr_total')).toBe('NUMERIC');
    expect(atomicColumnType('se_value')).toBe('FLOAT');
    expect(atomicColumnType('br_cookies')).toBe('BOOLEAN');
    expect(atomicColumnType('domain_sessionidx')).toBe('INTEGER');
    expect(atomicColumnType('derived_tstamp')).toBe('TIMESTAMP');
    expect(atomicColumnType('unstruct_event')).toBeNull();
    expect(ATOMIC_COLUMNS.filter((c) => c.mode === 'REQUIRED').map((c) => c.name)).toEqual(['collector_tstamp', 'event_id']);
    for (const c of ATOMIC_COLUMNS) {
      expect(c.name).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(['STRING', 'TIMESTAMP', 'INTEGER', 'FLOAT', 'NUMERIC', 'BOOLEAN']).toContain(c.type);
      expect(c.description.length).toBeGreaterThan(0);
    }
  });
});

describe('self-describing column names', () => {
  it('follow the BigQuery Loader v2 naming', () => {
    expect(selfDescribingColumnName('unstruct_event', 'com.acme', 'button_click', '1-0-2')).toBe('unstruct_event_com_acme_button_click_1');
    expect(selfDescribingColumnName('contexts', 'com.snowplowanalytics.snowplow', 'web_page', '1')).toBe('contexts_com_snowplowanalytics_snowplow_web_page_1');
    expect(selfDescribingColumnName('contexts', 'io.Way-Mark', 'Check-Out', '12-0-0')).toBe('contexts_io_way_mark_check_out_12');
    expect(columnForSchemaKey('unstruct_event', 'iglu:com.acme/link_click/jsonschema/2-1-0')).toBe('unstruct_event_com_acme_link_click_2');
    expect(columnForSchemaKey('contexts', 'not a key')).toBeNull();
  });

  it('parses Iglu schema keys', () => {
    expect(parseSchemaKey('iglu:com.acme/button_click/jsonschema/1-0-2')).toEqual({ vendor: 'com.acme', name: 'button_click', format: 'jsonschema', version: '1-0-2', model: 1, revision: 0, addition: 2 });
    for (const bad of ['iglu:com.acme/x/jsonschema/1-0', 'iglu:com.acme/x/jsonschema/01-0-0', 'com.acme/x/jsonschema/1-0-0', 'iglu:com acme/x/jsonschema/1-0-0']) {
      expect(parseSchemaKey(bad)).toBeNull();
    }
  });
});

describe('snakeCase (property names)', () => {
  it.each([
    ['buttonId', 'button_id'],
    ['userId', 'user_id'],
    ['HTTPStatus', 'http_status'],
    ['someHTTPValue', 'some_http_value'],
    ['already_snake', 'already_snake'],
    ['with-dash', 'with_dash'],
    ['with space', 'with_space'],
    ['2fa', '_2fa'],
    ['ünïcode', '_n_code'],
    ['', '_'],
    ['ID', 'id'],
    ['sessionIndex', 'session_index'],
  ])('%j → %j', (input, output) => {
    expect(snakeCase(input)).toBe(output);
  });
});
