/**
 * The fixture corpus through the enricher (TypeScript sources): every event type, the three input formats, entities,
 * unicode and every failure type, each compared column by column (good rows) or in full (bad rows).
 * The same corpus runs through the shipped bundle in test/pipeline/bundle.test.ts.
 */
import { ATOMIC_COLUMN_NAMES } from '../../pipeline/columns';
import { CORPUS_NOW, loadCorpus } from './helpers/corpus';
import { builtInRegistry, expectOnlyColumns, expectRow, testEnricher } from './helpers/enricher';

const corpus = loadCorpus();
const enricher = testEnricher(CORPUS_NOW);

describe('fixture corpus', () => {
  it('covers every event type, input format and failure type', () => {
    const rows = corpus.filter((c) => c.expected.row).map((c) => c.expected.row as Record<string, unknown>);
    expect(new Set(rows.map((r) => r.event))).toEqual(new Set(['page_view', 'page_ping', 'struct', 'unstruct', 'transaction', 'transaction_item']));
    const formats = new Set(corpus.filter((c) => c.expected.row).map((c) => {
      const json = JSON.parse(c.message) as Record<string, unknown>;
      return json.httpRequest ? 'log_entry' : typeof json.schema === 'string' && (json.schema as string).includes('collector_payload') ? 'collector_payload' : 'tp2';
    }));
    expect(formats).toEqual(new Set(['collector_payload', 'log_entry', 'tp2']));
    const types = new Set(corpus.filter((c) => c.expected.badRow).map((c) => (c.expected.badRow as { data: { type: string } }).data.type));
    expect(types).toEqual(new Set(['collector_payload_format_violation', 'adapter_failures', 'tracker_protocol_violations', 'schema_violations', 'enrichment_failures', 'size_violation']));
    expect(rows.some((r) => Object.keys(r).some((k) => k.startsWith('contexts_')))).toBe(true);
    expect(rows.some((r) => /[\u{1F600}-\u{1F64F}]/u.test(String(r.page_title)))).toBe(true);
  });

  for (const c of corpus) {
    it(`${c.name}: ${c.description}`, () => {
      const result = enricher.enrich(c.message);
      if (c.expected.row) {
        expect(result.badRow).toBeUndefined();
        const row = result.row as Record<string, unknown>;
        expectOnlyColumns(row);
        expectRow(row, c.expected.row);
        // Columns come out in table order: atomic columns first, in the TSV's order.
        const atomic = Object.keys(row).filter((k) => ATOMIC_COLUMN_NAMES.includes(k));
        expect(atomic).toEqual(ATOMIC_COLUMN_NAMES.filter((k) => k in row));
      } else {
        expect(result.row).toBeUndefined();
        expect(result.badRow).toEqual(c.expected.badRow);
        // Every bad row is valid against the registry's bad_row schema (the dead-letter format).
        const badRow = result.badRow as { schema: string; data: unknown };
        expect(builtInRegistry().validators[badRow.schema](badRow.data)).toEqual([]);
      }
    });
  }
});
