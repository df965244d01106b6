/**
 * What ships: the enrichment UDF bundle (built by the constructs' bundler, with the built-in registry compiled in)
 * parses as ECMAScript 5, defines the two global entry functions, and gives exactly the same output as the
 * TypeScript sources for the whole fixture corpus in Node, in a Node vm context stripped of the built-ins Nashorn
 * lacks, and in Rhino.
 */
import * as acorn from 'acorn';
import { CORPUS_NOW, loadCorpus } from './helpers/corpus';
import { testEnricher } from './helpers/enricher';
import { call, loadInNode, loadInStrippedVm, Outcome, RHINO_MISSING, rhinoAvailable, runInRhino } from './helpers/engines';
import { udfBundleSource } from './helpers/udf-bundle';

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

  it('the corpus gives the same output in Rhino', () => {
    if (!rhinoAvailable()) throw new Error(RHINO_MISSING);
    const results = runInRhino(code, CORPUS_NOW, corpus.map((c) => c.message));
    const expected = expectedOutcomes();
    corpus.forEach((c, i) => {
      expect({ name: c.name, ...results[i] }).toEqual({ name: c.name, ...expected[i] });
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
