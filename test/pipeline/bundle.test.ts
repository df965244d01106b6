/**
 * What ships: the enrichment UDF bundle (built by the constructs' bundler, with the registry compiled in: here the
 * built-ins plus examples/schemas, as a deployment with that schema folder gets it) parses as ECMAScript 5, defines
 * the two global entry functions, and gives exactly the same output as the TypeScript sources for the whole fixture
 * corpus in Node, in a Node vm context stripped of the built-ins Nashorn lacks, and in Nashorn 15.4 called as the
 * Dataflow template calls it (rows byte for byte; bad rows recovered from the dead-letter text, byte for byte too).
 * The default bundle (built-ins only) knows nothing of the example schemas.
 */
import * as acorn from 'acorn';
import { CORPUS_NOW, loadCorpus } from './helpers/corpus';
import { testEnricher } from './helpers/enricher';
import { call, loadInNode, loadInStrippedVm, Outcome } from './helpers/engines';
import { DEAD_LETTER_TEXT, NashornUdf, runInNashorn } from './helpers/nashorn';
import { udfBundleSource } from './helpers/udf-bundle';
import { missingSchemaMessage } from '../../pipeline/registry/messages';

const corpus = loadCorpus();

/** The expected outcomes, from the TypeScript sources. */
function expectedOutcomes(): Array<{ streaming: Outcome; batch: Outcome }> {
  const enricher = testEnricher(CORPUS_NOW);
  return corpus.map((c) => {
    const r = enricher.enrich(c.message);
    if (r.row) return { streaming: { returned: JSON.stringify(r.row) }, batch: { returned: JSON.stringify(r.row) } };
    return { streaming: { thrown: JSON.stringify(r.badRow) }, batch: { returned: null } };
  });
}

let code = '';
beforeAll(async () => {
  code = (await udfBundleSource()).code;
});

describe('the shipped enrichment UDF bundle', () => {
  it('parses as ECMAScript 5 and defines the global functions process and processBatch', () => {
    const ast = acorn.parse(code, { ecmaVersion: 5, sourceType: 'script' }) as unknown as { body: Array<{ type: string; id?: { name: string } }> };
    const functions = ast.body.filter((n) => n.type === 'FunctionDeclaration').map((n) => n.id?.name);
    expect(functions).toEqual(expect.arrayContaining(['process', 'processBatch']));
  });

  it('the corpus gives the TypeScript sources\' output in Node', () => {
    const udf = loadInNode(code, CORPUS_NOW);
    const expected = expectedOutcomes();
    corpus.forEach((c, i) => {
      expect({ name: c.name, streaming: call(udf.process, c.message), batch: call(udf.processBatch, c.message) }).toEqual({ name: c.name, ...expected[i] });
    });
  });

  it('the corpus gives the same output in a vm context without the ES2015+ built-ins Nashorn lacks', () => {
    const udf = loadInStrippedVm(code, CORPUS_NOW);
    const expected = expectedOutcomes();
    corpus.forEach((c, i) => {
      expect({ name: c.name, streaming: call(udf.process, c.message), batch: call(udf.processBatch, c.message) }).toEqual({ name: c.name, ...expected[i] });
    });
  });

  describe('in Nashorn 15.4, called as the Dataflow template calls it', () => {
    let nashorn: NashornUdf;
    beforeAll(() => {
      nashorn = new NashornUdf(code, { now: CORPUS_NOW });
    });
    afterAll(async () => {
      await nashorn.close();
    });

    it('the corpus gives the same output: rows byte for byte, bad rows recovered from the dead-letter text', async () => {
      const results = await runInNashorn(nashorn, corpus.map((c) => c.message));
      const expected = expectedOutcomes();
      corpus.forEach((c, i) => {
        expect({ name: c.name, ...results[i] }).toEqual({ name: c.name, ...expected[i] });
      });
    });

    it('a bad event\'s dead-letter text is "Error: <bad-row JSON> in <eval> at line number N at column number M"', async () => {
      // JavascriptTextTransformer.FailsafeJavascriptUdf: errorMessage = e.getMessage() of what invokeFunction threw.
      const out = await nashorn.call('process', 'not json');
      expect(out).toMatchObject({ exception: 'javax.script.ScriptException' });
      const text = (out as { thrown: string }).thrown;
      expect(text).toMatch(DEAD_LETTER_TEXT);
      expect(text.startsWith('Error: {"schema":"iglu:io.waymark/bad_row/jsonschema/1-0-0",')).toBe(true);
      // A lone surrogate in the payload is escaped in the thrown JSON as Node escapes it (stringifyJson).
      const lone = await nashorn.call('process', 'x\ud800');
      expect((lone as { thrown: string }).thrown).toContain('"payload":"x\\ud800"');
      // processBatch returns null, which the batch template drops.
      expect(await nashorn.call('processBatch', 'not json')).toEqual({ returned: null });
    });
  });

  it('a bad event throws an Error whose message is the bad-row JSON (streaming) and returns null (batch)', () => {
    const udf = loadInNode(code, CORPUS_NOW);
    const bad = call(udf.process, 'not json');
    expect('thrown' in bad).toBe(true);
    const row = JSON.parse((bad as { thrown: string }).thrown) as { schema: string; data: { type: string; payload: unknown } };
    expect(row.schema).toBe('iglu:io.waymark/bad_row/jsonschema/1-0-0');
    expect(row.data.type).toBe('collector_payload_format_violation');
    expect(row.data.payload).toBe('not json');
    expect(udf.processBatch('not json')).toBeNull();
  });
});

describe('the default enrichment UDF bundle (built-in schemas only, no schema folders)', () => {
  const exampleEvent = corpus.find((c) => c.name === '04-self-describing-two-contexts') as (typeof corpus)[number];
  const builtInEvent = corpus.find((c) => c.name === '01-page-view-collector-post') as (typeof corpus)[number];

  it('rejects an io.waymark.example event as a schema violation: the example schemas are not built-ins', async () => {
    expect(exampleEvent.expected.row).toMatchObject({ event_vendor: 'io.waymark.example', event_name: 'button_click', event_version: '1-0-1' });
    const udf = loadInNode((await udfBundleSource('udf')).code, CORPUS_NOW);
    const outcome = call(udf.process, exampleEvent.message);
    expect('thrown' in outcome).toBe(true);
    const badRow = JSON.parse((outcome as { thrown: string }).thrown) as { data: { type: string; failure: { messages: unknown[] } } };
    expect(badRow.data.type).toBe('schema_violations');
    expect(badRow.data.failure.messages).toEqual(expect.arrayContaining([
      expect.objectContaining({ field: 'ue_px', schemaKey: 'iglu:io.waymark.example/button_click/jsonschema/1-0-1', keyword: 'resolution', message: missingSchemaMessage('iglu:io.waymark.example/button_click/jsonschema/1-0-1') }),
      expect.objectContaining({ schemaKey: 'iglu:io.waymark.example/product/jsonschema/1-0-0', keyword: 'resolution' }),
    ]));
    expect(udf.processBatch(exampleEvent.message)).toBeNull();
    // The same event is good with examples/schemas in the registry.
    const withExamples = call(loadInNode(code, CORPUS_NOW).process, exampleEvent.message) as { returned: string };
    expect(JSON.parse(withExamples.returned)).toMatchObject({ event_vendor: 'io.waymark.example', event_name: 'button_click' });
  });

  it('gives the same rows as the examples bundle for events of built-in schemas', async () => {
    const udf = loadInNode((await udfBundleSource('udf')).code, CORPUS_NOW);
    expect(call(udf.process, builtInEvent.message)).toEqual(call(loadInNode(code, CORPUS_NOW).process, builtInEvent.message));
    expect('returned' in call(udf.process, builtInEvent.message)).toBe(true);
  });
});
