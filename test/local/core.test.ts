/**
 * Local mode's cores: options, row summaries and filters, the bounded store, safe static paths, JSONL files read
 * back by the inspection API, and the UDF loader running the shipped enrich.js.
 */
import { readFileSync, writeFileSync, appendFileSync, truncateSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { buildRuntimeBundle } from '../helpers/bundles';
import { resolveOptions, UsageError, USAGE } from '../../collector/local/options';
import { contextColumn, FilterError, matchesGood, messageText, parseBadFilter, parseGoodFilter, summarizeBad, summarizeGood } from '../../collector/local/rows';
import { EventStore } from '../../collector/local/store';
import { sitePath } from '../../collector/local/static';
import { interpret, loadUdf, UdfLoadError } from '../../collector/local/udf';
import { dataFiles, FileQueue, fileSource, JsonlTail, JsonlWriter } from '../../collector/local/pubsub';
import { rowPrinter } from '../../collector/local/main';
import { missingSchemaMessage } from '../../pipeline/registry/messages';
import { tempDir } from '../helpers/temp-dirs';

const tmp = (): string => tempDir('local-core');

describe('options', () => {
  const base = { cwd: '/srv/app', scriptDir: '/srv/app/build', exists: (p: string) => p.startsWith('/srv/app/build/') };

  test('defaults: in-process on 127.0.0.1:8080, bundles next to the script, the demo site of the package', () => {
    const o = resolveOptions({ ...base, argv: [], env: {} });
    expect(o).toEqual({
      mode: 'in-process',
      push: false,
      enricherPath: '/srv/app/build/enricher.js',
      port: 8080,
      host: '127.0.0.1',
      udfPath: '/srv/app/build/enrich.js',
      trackerPath: '/srv/app/build/sp.js',
      siteDir: '/srv/app/examples/demo',
      dataDir: '/srv/app/.waymark/local',
      maxEvents: 10000,
      emulatorHost: null,
      projectId: 'waymark-local',
      schemaDirs: [],
    });
    expect(resolveOptions({ ...base, argv: [], env: { WAYMARK_LOCAL_SCHEMAS: `my-schemas${delimiter}/abs/schemas` } }).schemaDirs).toEqual(['/srv/app/my-schemas', '/abs/schemas']);
  });

  test('from sources (no bundles next to the script) the build folder of the working directory is used', () => {
    const o = resolveOptions({ cwd: '/w', scriptDir: '/w/collector/local', exists: () => false, argv: [], env: {} });
    expect(o.udfPath).toBe('/w/collector/local/enrich.js');
    const o2 = resolveOptions({ cwd: '/w', scriptDir: '/w/collector/local', exists: (p) => p === '/w/build/enrich.js', argv: [], env: {} });
    expect(o2.udfPath).toBe('/w/build/enrich.js');
  });

  test('flags win over the environment; relative paths resolve against the working directory', () => {
    const env = { PORT: '9000', WAYMARK_LOCAL_UDF: 'env/enrich.js', WAYMARK_LOCAL_PUBSUB: 'false', PUBSUB_EMULATOR_HOST: '127.0.0.1:8085' };
    const o = resolveOptions({ ...base, argv: ['--port', '0', '--udf=custom/enrich.js', '--pubsub', '--data-dir', '/data'], env });
    expect(o).toMatchObject({ port: 0, udfPath: '/srv/app/custom/enrich.js', mode: 'pubsub', dataDir: '/data', emulatorHost: '127.0.0.1:8085' });
    expect(resolveOptions({ ...base, argv: [], env }).port).toBe(9000);
    expect(resolveOptions({ ...base, argv: [], env: { WAYMARK_LOCAL_PUBSUB: 'yes' } }).mode).toBe('pubsub');
    expect(resolveOptions({ ...base, argv: ['--pubsub', '--push', '--enricher', 'my/enricher.js'], env: {} })).toMatchObject({ mode: 'pubsub', push: true, enricherPath: '/srv/app/my/enricher.js' });
    expect(resolveOptions({ ...base, argv: ['--pubsub'], env: { WAYMARK_LOCAL_PUSH: 'true' } }).push).toBe(true);
  });

  test('mistakes name the flag or variable', () => {
    const run = (argv: string[], env: Record<string, string> = {}) => () => resolveOptions({ ...base, argv, env });
    expect(run(['--port', 'http'])).toThrow(new UsageError('--port must be a port number from 0 to 65535, got "http"'));
    expect(run([], { PORT: '70000' })).toThrow('PORT must be a port number from 0 to 65535, got "70000"');
    expect(run(['--prot', '1'])).toThrow('unknown argument "--prot"');
    expect(run(['--udf'])).toThrow('--udf needs a value');
    expect(run([], { WAYMARK_LOCAL_PUBSUB: 'maybe' })).toThrow('WAYMARK_LOCAL_PUBSUB must be true or false, got "maybe"');
    expect(run([], { WAYMARK_LOCAL_MAX_EVENTS: '0' })).toThrow('WAYMARK_LOCAL_MAX_EVENTS must be an integer from 1 to 1000000');
    expect(run([], { WAYMARK_LOCAL_PROJECT: 'X' })).toThrow('WAYMARK_LOCAL_PROJECT must be a Google Cloud project id');
    expect(run(['--push'])).toThrow('--push runs the enricher service behind the Pub/Sub emulator: add --pubsub (npm start -- --pubsub --push)');
    expect(run(['--pubsub'], { WAYMARK_LOCAL_PUSH: 'sure' })).toThrow('WAYMARK_LOCAL_PUSH must be true or false, got "sure"');
    expect(run(['--help'])).toThrow(USAGE);
    expect(run(['--help'])).toThrow(expect.objectContaining({ help: true }));
    expect(run(['--nope'])).toThrow(expect.objectContaining({ help: false }));
  });
});

const pageView = {
  app_id: 'shop',
  event: 'page_view',
  event_id: 'b6b236e5-ceff-43a6-bc2e-ee2c8b732e6f',
  event_vendor: 'com.snowplowanalytics.snowplow',
  event_name: 'page_view',
  event_format: 'jsonschema',
  event_version: '1-0-0',
  contexts_com_snowplowanalytics_snowplow_web_page_1: [{ id: 'dbdc0fd0-6968-410a-b3e9-996b64423792' }],
  contexts_io_waymark_example_product_1: [],
};
const buttonClick = {
  event: 'unstruct',
  event_id: '670eb149-7c74-408d-bfdb-260d5fd10243',
  event_vendor: 'io.waymark.example',
  event_name: 'button_click',
  event_format: 'jsonschema',
  event_version: '1-0-1',
  unstruct_event_io_waymark_example_button_click_1: { button_id: 'buy' },
  contexts_io_waymark_example_product_1: [{ sku: 'WM-001' }],
};
const schemaBadRow = {
  schema: 'iglu:io.waymark/bad_row/jsonschema/1-0-0',
  data: {
    type: 'schema_violations',
    processor: { artifact: 'waymark-enrich', version: '0.1.0' },
    failure: {
      timestamp: '2026-01-01T00:00:00.000Z',
      messages: [{ field: 'ue_pr', schemaKey: 'iglu:io.waymark.example/button_click/jsonschema/1-0-1', path: '$', keyword: 'required', message: 'missing required property "buttonId"' }],
    },
    payload: { parameters: { e: 'ue' } },
  },
};

describe('rows', () => {
  test('a good row is summarised by event type, name, schema and the entity columns that hold data', () => {
    expect(summarizeGood(pageView)).toEqual({
      eventType: 'page_view',
      eventName: 'page_view',
      schema: 'iglu:com.snowplowanalytics.snowplow/page_view/jsonschema/1-0-0',
      contexts: ['contexts_com_snowplowanalytics_snowplow_web_page_1'],
      event: pageView,
    });
  });

  test('bad rows keep their messages as readable lines', () => {
    const s = summarizeBad(schemaBadRow);
    expect(s).toEqual({
      type: 'schema_violations',
      processor: 'waymark-enrich',
      errors: ['iglu:io.waymark.example/button_click/jsonschema/1-0-1 field ue_pr at $ (required): missing required property "buttonId"'],
      badRow: schemaBadRow,
    });
    expect(messageText({ field: 'e', value: 'zz', expectation: 'one of pv, pp, se, ue, tr, ti' })).toBe('field e: expected one of pv, pp, se, ue, tr, ti: got "zz"');
    expect(messageText({ field: 'body', value: null, expectation: 'at most 1048576 bytes' })).toBe('field body: expected at most 1048576 bytes');
    expect(messageText('plain')).toBe('plain');
    expect(summarizeBad({ schema: 'x', data: { type: 'size_violation' } }).errors).toEqual([]);
  });

  test('filters: event type or name, schema with or without version, entities by URI or column', () => {
    const pv = summarizeGood(pageView);
    const bc = summarizeGood(buttonClick);
    expect(matchesGood(pv, { eventType: 'page_view' })).toBe(true);
    expect(matchesGood(bc, { eventType: 'unstruct' })).toBe(true);
    expect(matchesGood(bc, { eventType: 'button_click' })).toBe(true);
    expect(matchesGood(pv, { eventType: 'button_click' })).toBe(false);
    expect(matchesGood(bc, { schema: 'iglu:io.waymark.example/button_click/jsonschema/1-0-1' })).toBe(true);
    expect(matchesGood(bc, { schema: 'iglu:io.waymark.example/button_click/jsonschema/1-0-0' })).toBe(false);
    expect(matchesGood(bc, { schema: 'iglu:io.waymark.example/button_click' })).toBe(true);
    expect(matchesGood(bc, { schema: 'iglu:io.waymark.example/button' })).toBe(false);
    expect(matchesGood(bc, { contexts: ['iglu:io.waymark.example/product/jsonschema/1-0-0'] })).toBe(true);
    // An empty entity list is no entity.
    expect(matchesGood(pv, { contexts: ['contexts_io_waymark_example_product_1'] })).toBe(false);
    expect(contextColumn('iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0')).toBe('contexts_com_snowplowanalytics_snowplow_web_page_1');
    expect(() => contextColumn('web_page')).toThrow(FilterError);
  });

  test('filters parse from a query string or a JSON body, and reject what they do not know', () => {
    expect(parseGoodFilter(new URLSearchParams('event_type=page_view&contexts=contexts_a_b_1,contexts_x_y_1&contexts=iglu:a.b/c/jsonschema/1-0-0&limit=5'))).toEqual({
      eventType: 'page_view',
      schema: undefined,
      limit: 5,
      contexts: ['contexts_a_b_1', 'contexts_x_y_1', 'iglu:a.b/c/jsonschema/1-0-0'],
    });
    expect(parseGoodFilter(new URLSearchParams('schema=iglu:a.b/c'))).toEqual({ eventType: undefined, schema: 'iglu:a.b/c', contexts: [], limit: undefined });
  });

  test('filter errors say what is allowed', () => {
    expect(() => parseGoodFilter(new URLSearchParams('contexts=iglu:a.b/c/jsonschema/1-0-0&limit=0'))).toThrow('limit must be a positive integer, got "0"');
    expect(() => parseGoodFilter(new URLSearchParams('type=x'))).toThrow('unknown filter "type"; known filters: event_type, schema, contexts, limit');
    expect(() => parseGoodFilter({ contexts: [1] })).toThrow('contexts must be a string or a list of strings');
    expect(() => parseGoodFilter({ contexts: 'web_page' })).toThrow('neither an Iglu URI');
    expect(parseGoodFilter({ event_type: 'struct', limit: 2 })).toEqual({ eventType: 'struct', schema: undefined, contexts: [], limit: 2 });
    expect(parseBadFilter(new URLSearchParams('type=schema_violations'))).toEqual({ type: 'schema_violations', limit: undefined });
    expect(() => parseBadFilter({ event_type: 'x' })).toThrow('unknown filter "event_type"; known filters: type, limit');
  });
});

describe('store', () => {
  test('keeps the latest rows (newest first), counts every one, and a reset moves the sequence on', () => {
    let t = Date.UTC(2026, 0, 1);
    const store = new EventStore(3, () => t++);
    for (let i = 0; i < 5; i++) store.addGood({ ...pageView, event_id: `id-${i}` });
    store.addBad(schemaBadRow);
    expect(store.counts()).toEqual({ total: 6, good: 5, bad: 1, seq: 6 });
    expect(store.queryGood().map((s) => s.item.event.event_id)).toEqual(['id-4', 'id-3', 'id-2']);
    expect(store.queryGood({ limit: 1 }).map((s) => [s.seq, s.received])).toEqual([[5, '2026-01-01T00:00:00.004Z']]);
    expect(store.queryBad({ type: 'size_violation' })).toEqual([]);
    expect(store.queryBad({ type: 'schema_violations' })[0].item.type).toBe('schema_violations');
    store.reset();
    expect(store.counts()).toEqual({ total: 0, good: 0, bad: 0, seq: 7 });
    expect(store.queryGood()).toEqual([]);
  });
});

describe('static files', () => {
  test('paths stay inside the site folder; dot files and encoded tricks are refused', () => {
    expect(sitePath('/site', '/')).toBe('/site/index.html');
    expect(sitePath('/site', '/about.html')).toBe('/site/about.html');
    expect(sitePath('/site', '/docs/')).toBe('/site/docs/index.html');
    expect(sitePath('/site', '/a%20b.html')).toBe('/site/a b.html');
    for (const bad of ['/../etc/passwd', '/%2e%2e/etc/passwd', '/a/..%2f..%2fetc', '/.env', '/x%00.html', '/%E0%A4%A', '/a\\..\\b']) {
      expect([bad, sitePath('/site', bad)]).toEqual([bad, null]);
    }
  });
});

describe('JSONL files of the Pub/Sub mode', () => {
  test('a tail returns complete lines only, once each, and starts over when the file is emptied', async () => {
    const file = join(tmp(), 'good.jsonl');
    const tail = new JsonlTail(file);
    expect(await tail.read()).toEqual({ lines: [], restarted: false });
    writeFileSync(file, '{"a":1}\n{"a":');
    expect(await tail.read()).toEqual({ lines: ['{"a":1}'], restarted: false });
    appendFileSync(file, '2}\n\n{"a":3}\n');
    expect(await tail.read()).toEqual({ lines: ['{"a":2}', '{"a":3}'], restarted: false });
    expect(await tail.read()).toEqual({ lines: [], restarted: false });
    truncateSync(file, 0);
    appendFileSync(file, '{"b":1}\n');
    expect(await tail.read()).toEqual({ lines: ['{"b":1}'], restarted: true });
  });

  test('rows written by the enricher are read back by the inspection source; reset empties the files', async () => {
    const dir = tmp();
    const files = dataFiles(dir);
    const queue = new FileQueue();
    const writer = new JsonlWriter(files, queue);
    const source = fileSource(files, new EventStore(100), queue);
    expect((await source.current()).counts()).toEqual({ total: 0, good: 0, bad: 0, seq: 0 });
    await Promise.all([writer.append('good', JSON.stringify(pageView)), writer.append('bad', JSON.stringify(schemaBadRow)), writer.append('good', JSON.stringify(buttonClick))]);
    expect(readFileSync(files.good, 'utf8').split('\n')).toHaveLength(3);
    const store = await source.current();
    expect(store.counts()).toMatchObject({ good: 2, bad: 1 });
    expect(store.queryGood().map((s) => s.item.eventName)).toEqual(['button_click', 'page_view']);
    // A line that is not JSON shows up as a bad row saying so, instead of breaking the page.
    appendFileSync(files.good, 'not json\n');
    const after = await source.current();
    expect(after.queryBad()[0].item.errors[0]).toMatch(/^unreadable line in .*good\.jsonl: /);
    await source.reset();
    expect(readFileSync(files.good, 'utf8')).toBe('');
    expect(readFileSync(files.bad, 'utf8')).toBe('');
    expect((await source.current()).counts()).toMatchObject({ total: 0 });
    await writer.append('good', JSON.stringify(pageView));
    expect((await source.current()).counts()).toMatchObject({ total: 1, good: 1 });
  });
});

describe('UDF loader', () => {
  test('interprets returned rows and thrown bad rows; anything else becomes a local generic_error bad row', () => {
    expect(interpret({ returned: '{"event":"page_view"}' }, 'm')).toEqual({ good: { event: 'page_view' } });
    expect(interpret({ thrown: { message: JSON.stringify(schemaBadRow), name: 'Error' } }, 'm')).toEqual({ bad: schemaBadRow });
    const other = interpret({ thrown: new Error('Script execution timed out after 5000ms') }, 'the message');
    expect(other).toMatchObject({ bad: { data: { type: 'generic_error', processor: { artifact: 'waymark-local' }, failure: { messages: [{ message: 'the UDF failed: Error: Script execution timed out after 5000ms' }] }, payload: 'the message' } } });
    expect(interpret({ returned: null }, 'm')).toMatchObject({ bad: { data: { failure: { messages: [{ message: 'the UDF returned null instead of a JSON string' }] } } } });
    expect(interpret({ returned: '[1]' }, 'm')).toMatchObject({ bad: { data: { type: 'generic_error' } } });
  });

  test('runs the shipped enrich.js in a vm context: a good row, a schema violation, garbage', async () => {
    const udf = loadUdf(await buildRuntimeBundle('udf-examples'));
    const payload = (parameters: Record<string, string>) =>
      JSON.stringify({
        schema: 'iglu:io.waymark/collector_payload/jsonschema/1-0-0',
        data: { timestamp: '2026-01-01T10:00:00.000Z', collector: 'waymark-collector/0.1.0', ipAddress: '10.1.2.3', userAgent: 'curl/8', refererUri: null, headers: {}, networkUserId: null, contentType: null, method: 'GET', path: '/i', hostname: 'localhost', parameters },
      });
    const good = udf.enrich(payload({ e: 'pv', eid: '3e7e3c6a-5b57-4c1e-9a7e-0f2c5a4d1b11', tv: 'test', p: 'web', url: 'https://shop.example.com/p/mug?utm_source=news#top' }));
    expect(good).toMatchObject({ good: { event: 'page_view', page_urlhost: 'shop.example.com', page_urlpath: '/p/mug', page_urlquery: 'utm_source=news', page_urlfragment: 'top', mkt_source: 'news', user_ipaddress: '10.1.2.x', collector_tstamp: '2026-01-01T10:00:00.000Z' } });
    const ue = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema: 'iglu:io.waymark.example/button_click/jsonschema/1-0-1', data: { position: -1 } } });
    const bad = udf.enrich(payload({ e: 'ue', eid: '3e7e3c6a-5b57-4c1e-9a7e-0f2c5a4d1b12', tv: 'test', p: 'web', ue_pr: ue }));
    expect('bad' in bad && summarizeBad(bad.bad)).toMatchObject({ type: 'schema_violations', processor: 'waymark-enrich', errors: [expect.stringContaining('missing required property "buttonId"'), expect.stringContaining('$.position (minimum)')] });
    const garbage = udf.enrich('not json at all');
    expect('bad' in garbage && garbage.bad.data.type).toMatch(/violation|failure|error/);
  });

  test('the default enrich.js (built-in schemas only, as `npm run build` makes it) rejects the demo\'s example events as unknown schemas', async () => {
    const udf = loadUdf(await buildRuntimeBundle('udf'));
    const ue = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema: 'iglu:io.waymark.example/button_click/jsonschema/1-0-1', data: { buttonId: 'add-to-basket' } } });
    const message = JSON.stringify({
      schema: 'iglu:io.waymark/collector_payload/jsonschema/1-0-0',
      data: { timestamp: '2026-01-01T10:00:00.000Z', collector: 'waymark-collector/0.1.0', ipAddress: '10.1.2.3', userAgent: 'curl/8', refererUri: null, headers: {}, networkUserId: null, contentType: null, method: 'GET', path: '/i', hostname: 'localhost', parameters: { e: 'ue', eid: '3e7e3c6a-5b57-4c1e-9a7e-0f2c5a4d1b13', tv: 'test', p: 'web', ue_pr: ue } },
    });
    const outcome = udf.enrich(message);
    expect('bad' in outcome && summarizeBad(outcome.bad)).toMatchObject({
      type: 'schema_violations',
      errors: ['iglu:io.waymark.example/button_click/jsonschema/1-0-1 field ue_pr at $ (resolution): ' + missingSchemaMessage('iglu:io.waymark.example/button_click/jsonschema/1-0-1')],
    });
    expect(loadUdf(await buildRuntimeBundle('udf-examples')).enrich(message)).toMatchObject({ good: { event_name: 'button_click', unstruct_event_io_waymark_example_button_click_1: { button_id: 'add-to-basket' } } });
  });

  test('a missing or foreign bundle fails with what to do', () => {
    const dir = tmp();
    expect(() => loadUdf(join(dir, 'enrich.js'))).toThrow(new UdfLoadError(`the enrichment UDF bundle ${join(dir, 'enrich.js')} does not exist: run \`npm run build\` (or \`npm start\`, which builds it), or point --udf / WAYMARK_LOCAL_UDF at it`));
    writeFileSync(join(dir, 'other.js'), 'var x = 1;');
    expect(() => loadUdf(join(dir, 'other.js'))).toThrow('defines no global function process()');
    writeFileSync(join(dir, 'broken.js'), 'function process( {');
    expect(() => loadUdf(join(dir, 'broken.js'))).toThrow('does not run');
  });
});

describe('terminal lines', () => {
  test('one line per row, at most N a second; the rest are summed up', () => {
    const lines: string[] = [];
    let t = 10_000;
    const print = rowPrinter((l) => lines.push(l), 2, () => t);
    for (let i = 0; i < 5; i++) print({ good: { ...pageView, page_urlpath: `/p/${i}` } });
    expect(lines).toEqual(['  good  page_view        /p/0', '  good  page_view        /p/1']);
    t += 1000;
    print({ bad: schemaBadRow });
    expect(lines.slice(2)).toEqual([
      '  … and 3 more not printed (the events page keeps the latest 10,000 good and 10,000 bad rows)',
      '  bad   schema_violations iglu:io.waymark.example/button_click/jsonschema/1-0-1 field ue_pr at $ (required): missing required property "buttonId"',
    ]);
  });
});
