/**
 * The cost model (scripts/costs.ts) uses the CPU figures measured and recorded in docs/BENCHMARKS.md, and its lines
 * really depend on them (a figure that changed in the benchmarks but not in the model, or a model that ignores it,
 * fails here).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectorLines, dataLines, estimate, markdown, MEASURED, Measurements, RATES, table, TOPOLOGIES } from '../../scripts/costs';

const benchmarks = readFileSync(join(__dirname, '..', '..', 'docs', 'BENCHMARKS.md'), 'utf8');

/** The number in the bold cell of the BENCHMARKS.md table row whose first cell starts with `label`. */
function recorded(label: string, pick: (cell: string) => number): number {
  const row = benchmarks.split('\n').find((l) => l.startsWith(`| ${label}`));
  if (!row) throw new Error(`docs/BENCHMARKS.md has no row "${label}"`);
  const bold = /\*\*([^*]+)\*\*/.exec(row);
  if (!bold) throw new Error(`the row "${label}" has no bold (current) figure`);
  return pick(bold[1]);
}

describe('the cost model uses the measured CPU figures', () => {
  test('enricher service CPU per event = the recorded benchmark', () => {
    expect(MEASURED.enricherServiceCpuUsPerEvent).toBe(recorded('enricher service, CPU per event', (c) => Number(/([\d.]+) µs/.exec(c)![1])));
  });

  test('Nashorn events per CPU-second = the recorded UDF benchmark (Dataflow worker sizing)', () => {
    expect(MEASURED.nashornEventsPerSecondPerCore).toBe(recorded('UDF in Nashorn, events per CPU-second', (c) => Number(c.replace(/,/g, ''))));
  });

  test('collector CPU per GET = the recorded benchmark (collector / bare, the collector figure)', () => {
    expect(MEASURED.collectorCpuUsPerEvent).toBe(recorded('server CPU per GET, collector / bare (median)', (c) => Number(/([\d.]+) \//.exec(c)![1])));
  });

  test('event sizes = the recorded benchmark sizes', () => {
    expect(MEASURED.rawMessageBytes).toBe(recorded('enricher service, message and row bytes', (c) => Number(/([\d,]+) \//.exec(c)![1].replace(',', ''))));
    expect(MEASURED.enrichedRowBytes).toBe(recorded('enricher service, message and row bytes', (c) => Number(/\/ ([\d,]+)/.exec(c)![1].replace(',', ''))));
  });

  test('the enricher and collector lines move with the CPU figures (the figures are used, not just stored)', () => {
    const heavy: Measurements = { ...MEASURED, enricherServiceCpuUsPerEvent: MEASURED.enricherServiceCpuUsPerEvent * 10, collectorCpuUsPerEvent: MEASURED.collectorCpuUsPerEvent * 100 };
    const enricher = (m: Measurements) => dataLines('serverless', 1000, m).find((l) => l.item.startsWith('Cloud Run enricher'))!.usd;
    expect(enricher(heavy)).toBeGreaterThan(enricher(MEASURED) * 2);
    const collector = (m: Measurements) => collectorLines('cloud-run', 1000, m).find((l) => l.item.includes('collector'))!.usd;
    expect(collector(heavy)).toBeGreaterThan(collector(MEASURED) * 2);
  });
});

describe('the table', () => {
  test('every topology × both paths × 10/100/1000 events/s, totals the sum of their lines, more traffic costs more', () => {
    const rows = table();
    expect(rows).toHaveLength(TOPOLOGIES.length * 2 * RATES.length);
    for (const e of rows) expect(e.total).toBeCloseTo(e.lines.reduce((n, l) => n + l.usd, 0), 6);
    for (const t of TOPOLOGIES) for (const p of ['serverless', 'dataflow'] as const) {
      const totals = RATES.map((r) => estimate(t, p, r).total);
      expect(totals).toEqual([...totals].sort((a, b) => a - b));
    }
  });

  test('docs/costs.md shows the table the script prints', () => {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'costs.md'), 'utf8');
    expect(doc).toContain(markdown());
  });
});
