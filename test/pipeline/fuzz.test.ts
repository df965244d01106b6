/**
 * Fuzzing: whatever arrives — random bytes, mutated and truncated payloads, broken base64, deep nesting, huge fields —
 * the enricher gives exactly one good row or one valid bad row, never another kind of error and never a hang.
 * Deterministic (seeded) and bounded; the same inputs also go through the shipped bundle's `process`.
 */
import { ATOMIC_COLUMN_NAMES } from '../../pipeline/columns';
import { Enricher } from '../../pipeline/enrich';
import { encodeBase64UrlUtf8 } from '../../pipeline/text';
import { prng, sampleCollectorPayloads } from '../../pipeline/local/sample-events';
import { CORPUS_NOW, loadCorpus } from './helpers/corpus';
import { builtInRegistry, testEnricher } from './helpers/enricher';
import { call, loadInStrippedVm } from './helpers/engines';
import { udfBundleSource } from './helpers/udf-bundle';

const rand = prng(20240501);
const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
const int = (n: number): number => Math.floor(rand() * n);

function randomString(n: number, alphabet?: string): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet ? alphabet.charAt(int(alphabet.length)) : String.fromCharCode(int(0x10000));
  return s;
}

function mutate(s: string): string {
  switch (int(6)) {
    case 0: return s.substring(0, int(s.length + 1)); // truncate
    case 1: { const at = int(s.length); return s.substring(0, at) + randomString(1 + int(5)) + s.substring(at); } // insert
    case 2: { const at = int(s.length); return s.substring(0, at) + s.substring(at + 1 + int(20)); } // delete
    case 3: { const at = int(s.length); return s.substring(0, at) + pick(['"', '{', '[', '}', ']', ',', ':', '\\', '\u0000', '\ud800']) + s.substring(at + 1); }
    case 4: return s.replace(/"(e|eid|tv|dtm|cx|ue_px|url|timestamp)":"[^"]*"/, (_m, k: string) => `"${k}":${pick(['""', '"x"', 'null', '1', '[]', '{}', '"' + randomString(int(50)) + '"'])}`);
    default: return s.replace(/"(cx|ue_px)":"([^"]*)"/, (_m, k: string, v: string) => `"${k}":"${v.substring(0, int(v.length + 1)) + pick(['', '=', '==', '$', 'A', '_-'])}"`);
  }
}

function nested(depth: number): string {
  let s = '1';
  for (let i = 0; i < depth; i++) s = rand() < 0.5 ? `[${s}]` : `{"k":${s}}`;
  return s;
}

function cases(): string[] {
  const corpus = loadCorpus().map((c) => c.message);
  const sample = sampleCollectorPayloads(50, 9);
  const out: string[] = [];
  for (let i = 0; i < 300; i++) out.push(randomString(int(200))); // random UTF-16, lone surrogates included
  for (let i = 0; i < 100; i++) out.push(randomString(int(200), '{}[]":,0123456789truefalsnl \\')); // JSON-ish noise
  for (let i = 0; i < 1500; i++) {
    let s = pick(rand() < 0.5 ? corpus : sample);
    for (let k = 1 + int(3); k > 0; k--) s = mutate(s);
    out.push(s);
  }
  for (const depth of [10, 39, 40, 41, 100, 5000, 100000]) {
    out.push(nested(depth));
    const json = nested(depth);
    out.push(JSON.stringify({ e: 'ue', eid: '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a', tv: 't', ue_pr: json }));
    out.push(JSON.stringify({ e: 'pv', eid: '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a', tv: 't', cx: encodeBase64UrlUtf8(json) }));
  }
  for (const size of [40000, 500000, 1100000]) {
    out.push(JSON.stringify({ e: 'pv', eid: '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a', tv: 't', page: 'x'.repeat(size) }));
    out.push(JSON.stringify({ e: 'ue', eid: '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a', tv: 't', ue_px: 'A'.repeat(size) }));
    out.push(JSON.stringify({ e: 'pv', eid: '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a', tv: 't', url: 'https://x.example/?' + 'a=1&'.repeat(size / 4) }));
    out.push(JSON.stringify({ e: 'pv', eid: '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a', tv: 't', ua: 'Mozilla/5.0 ' + '('.repeat(size / 10) }));
  }
  out.push(JSON.stringify(Object.fromEntries(Array.from({ length: 5000 }, (_v, i) => ['p' + i, 'v']))));
  out.push(JSON.stringify({ __proto__: { e: 'pv' }, constructor: 'x', hasOwnProperty: 'y', e: 'pv', eid: '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a', tv: 't', toString: 'z' }));
  out.push('{"e":"ue","eid":"6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a","tv":"t","ue_pr":"{\\"schema\\":\\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0\\",\\"data\\":{\\"schema\\":\\"iglu:io.waymark.example/button_click/jsonschema/1-0-0\\",\\"data\\":{\\"__proto__\\":{\\"x\\":1},\\"buttonId\\":\\"b\\"}}}"}');
  return out;
}

const inputs = cases();
const columns = new Set(ATOMIC_COLUMN_NAMES);
const badRowValidator = builtInRegistry().validators['iglu:io.waymark/bad_row/jsonschema/1-0-0'];

function check(enricher: Enricher, input: string): 'good' | 'bad' {
  const result = enricher.enrich(input);
  expect(Object.keys(result).length).toBe(1);
  if (result.row) {
    for (const k of Object.keys(result.row)) expect(columns.has(k) || /^(unstruct_event|contexts)_[a-z0-9_]+_[0-9]+$/.test(k)).toBe(true);
    expect(enricher.enrichToJson(input).json).toBe(JSON.stringify(result.row));
    return 'good';
  }
  expect(result.badRow?.schema).toBe('iglu:io.waymark/bad_row/jsonschema/1-0-0');
  expect(badRowValidator(result.badRow?.data)).toEqual([]);
  expect(JSON.parse(JSON.stringify(result.badRow))).toEqual(result.badRow);
  return 'bad';
}

describe('fuzzing the enricher', () => {
  it(`${inputs.length} hostile inputs each give one good row or one valid bad row`, () => {
    const enricher = testEnricher(CORPUS_NOW);
    const seen = { good: 0, bad: 0 };
    for (const input of inputs) seen[check(enricher, input)]++;
    // Both outcomes occur: the mutations are not all fatal, and not all harmless.
    expect(seen.good).toBeGreaterThan(50);
    expect(seen.bad).toBeGreaterThan(500);
  });

  it('the shipped bundle either returns a row object or throws a bad row, for the same inputs', async () => {
    const udf = loadInStrippedVm((await udfBundleSource()).code, CORPUS_NOW);
    for (const input of inputs.filter((s) => s.length < 200000)) {
      const out = call(udf.process, input);
      if ('returned' in out) {
        expect(typeof out.returned).toBe('string');
        const parsed = JSON.parse(out.returned as string) as unknown;
        expect(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)).toBe(true);
      } else {
        const row = JSON.parse(out.thrown) as { schema: string; data: unknown };
        expect(row.schema).toBe('iglu:io.waymark/bad_row/jsonschema/1-0-0');
        expect(badRowValidator(row.data)).toEqual([]);
      }
      const batch = call(udf.processBatch, input);
      expect('returned' in batch).toBe(true);
    }
  });
});
