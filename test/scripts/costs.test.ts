/**
 * The cost model (scripts/costs.ts) uses the CPU figures measured and recorded in docs/BENCHMARKS.md, and its lines
 * really depend on them (a figure that changed in the benchmarks but not in the model, or a model that ignores it,
 * fails here).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { armorMarkdown, BUDGET_USD, collectorLines, dataLines, estimate, markdown, MEASURED, Measurements, MONTH_SECONDS, PRICES, RATES, table, TOPOLOGIES, withinBudget } from '../../scripts/costs';

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

describe('Cloud Armor, on and off (GlobalCollector cloudArmor)', () => {
  const armor = (lines: readonly { item: string }[]) => lines.filter((l) => l.item === 'Cloud Armor');
  const collectors = TOPOLOGIES.filter((t) => t !== 'cdn-pixel');

  test('every GlobalCollector topology has the Cloud Armor line by default and with cloudArmor: true, none with cloudArmor: false', () => {
    for (const t of collectors) for (const r of [0, ...RATES]) {
      expect(armor(collectorLines(t, r))).toHaveLength(1);
      expect(armor(collectorLines(t, r, MEASURED, { cloudArmor: true }))).toHaveLength(1);
      expect(armor(collectorLines(t, r, MEASURED, { cloudArmor: false }))).toEqual([]);
      expect(estimate(t, 'serverless', r).cloudArmor).toBe(true);
      expect(estimate(t, 'serverless', r, MEASURED, { cloudArmor: false }).cloudArmor).toBe(false);
    }
  });

  test('the pixel topology never has one (no security policy on its backend bucket)', () => {
    for (const r of RATES) for (const cloudArmor of [true, false]) expect(armor(collectorLines('cdn-pixel', r, MEASURED, { cloudArmor }))).toEqual([]);
  });

  test('without Cloud Armor the total is the default less exactly the Armor line; every other line is the same', () => {
    for (const t of collectors) for (const p of ['serverless', 'dataflow'] as const) for (const r of RATES) {
      const on = estimate(t, p, r);
      const off = estimate(t, p, r, MEASURED, { cloudArmor: false });
      expect(off.lines).toEqual(on.lines.filter((l) => l.item !== 'Cloud Armor'));
      expect(on.total - off.total).toBeCloseTo(on.lines.find((l) => l.item === 'Cloud Armor')!.usd, 6);
    }
  });

  test('the Armor line is its price per million requests (one request per event) plus the policy and its two rules', () => {
    const line = (r: number) => collectorLines('cloud-run', r).find((l) => l.item === 'Cloud Armor')!.usd;
    expect(line(100) - line(0)).toBeCloseTo(100 * MONTH_SECONDS / 1e6 * PRICES.armorPerMillionRequests, 6);
    expect(line(0)).toBe(PRICES.armorPolicyMonth + 2 * PRICES.armorRuleMonth);
  });

  test('within the budget: the rate returned fits, 0.1 events/s more does not, and no Armor allows more', () => {
    for (const cloudArmor of [true, false]) {
      const rate = withinBudget('cloud-run', 'serverless', BUDGET_USD, MEASURED, { cloudArmor });
      expect(estimate('cloud-run', 'serverless', rate, MEASURED, { cloudArmor }).total).toBeLessThanOrEqual(BUDGET_USD);
      expect(estimate('cloud-run', 'serverless', rate + 0.1, MEASURED, { cloudArmor }).total).toBeGreaterThan(BUDGET_USD);
    }
    expect(withinBudget('cloud-run', 'serverless', BUDGET_USD, MEASURED, { cloudArmor: false })).toBeGreaterThan(withinBudget('cloud-run', 'serverless'));
    // Dataflow's worker alone costs more than the budget: 0 events/s fit.
    expect(withinBudget('cloud-run', 'dataflow')).toBe(0);
  });

  test('docs/costs.md shows the with-and-without table the script prints, and its goal section gives those numbers', () => {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'costs.md'), 'utf8');
    expect(doc).toContain(armorMarkdown());
    const goal = doc.split('## The goal')[1].split('\n## ')[0];
    const money = (x: number) => `$${Math.round(x).toLocaleString('en-US')}`;
    for (const cloudArmor of [true, false]) {
      for (const r of RATES) expect(goal).toContain(money(estimate('cloud-run', 'serverless', r, MEASURED, { cloudArmor }).total));
      expect(goal).toContain(`${withinBudget('cloud-run', 'serverless', BUDGET_USD, MEASURED, { cloudArmor }).toFixed(1)} events/s`);
    }
  });
});
